/** `egym merge`. */
import type { Argv } from 'yargs';
import { mergeRuns } from '../experiment.js';
import { summaryTable } from '../summary.js';
import { checkPublished, out } from './common.js';

export const mergeCommand = (cli: Argv): Argv =>
  cli.command(
    'merge <dirs..>',
    'Merge the shard folders of one experiment into one run folder (and report it when complete)',
    (y) =>
      y
        .positional('dirs', { type: 'string', array: true, demandOption: true })
        .option('out', { type: 'string', demandOption: true, describe: 'the merged run folder' })
        .example('$0 merge shard0 shard1 shard2 shard3 --out merged', 'after a 4-task job array'),
    async (a) => {
      const r = await mergeRuns(a.dirs as string[], a.out);
      out(r.complete ? `merged ${r.cells} cells into ${a.out}\n\n${summaryTable(r.summary!)}` : `merged ${r.cells} of ${r.total} cells into ${a.out}; the rest are missing`);
      if (!r.complete) process.exitCode = 3;
      else checkPublished(r.summary!);
    },
  );
