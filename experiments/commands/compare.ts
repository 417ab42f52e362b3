/** `egym compare`: two agents of a run, paired over seeds, from its summary.json. */
import type { Argv } from 'yargs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { compareGroups, comparisonText } from '../compare.js';
import type { Summary } from '../summary.js';
import { out, UsageError } from './common.js';

/** A run folder's summary.json, or a summary.json path, read and checked for the fields a comparison needs. */
export function readSummary(path: string): Summary {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'summary.json') : path;
  if (!existsSync(file)) throw new UsageError(`${file} does not exist; give a run folder (with summary.json) or a summary.json`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const s = v as Partial<Summary> | null;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.groups) || !Array.isArray(s.metrics) || typeof s.experiment !== 'string') throw new UsageError(`${file} is not an egym summary (it needs experiment, metrics and groups)`);
  return s as Summary;
}

export const compareCommand = (cli: Argv): Argv =>
  cli.command(
    'compare <run> <a> <b>',
    'Two agents of a run paired over seeds (from summary.json): per-seed values, the mean difference with its 95% t-interval, the paired t-test p-value and P(a > b)',
    (y) =>
      y
        .positional('run', { type: 'string', demandOption: true, describe: 'a run folder or its summary.json' })
        .positional('a', { type: 'string', demandOption: true, describe: 'label of the first agent' })
        .positional('b', { type: 'string', demandOption: true, describe: 'label of the second agent' })
        .option('metric', { type: 'string', default: 'return', describe: "a metric of the summary, or 'normalized'" })
        .option('point', { type: 'number', default: 0, describe: 'sweep point index (sweeps)' })
        .option('json', { type: 'boolean', default: false })
        .example('$0 compare results/reference/flagship item-watch-rank ppo-items', 'the ranker against PPO, seed by seed'),
    async (a) => {
      if (!Number.isInteger(a.point) || (a.point as number) < 0) throw new UsageError(`--point must be a sweep point index (an integer >= 0); got ${a.point}`);
      const c = compareGroups(readSummary(a.run as string), a.a as string, a.b as string, { metric: a.metric as string, point: a.point as number });
      out(a.json ? JSON.stringify(c, null, 2) : comparisonText(c));
    },
  );
