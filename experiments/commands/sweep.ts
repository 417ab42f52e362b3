/** `egym sweep`. */
import type { Argv } from 'yargs';
import { dirname } from 'node:path';
import { readSpecFile, runSpec, runOptions, UsageError } from './common.js';

export const sweepCommand = (cli: Argv): Argv =>
  cli.command(
    'sweep <spec>',
    'Run a spec with a sweep (grid or random search over env and agent params)',
    (y) => runOptions(y).positional('spec', { type: 'string', demandOption: true }).example('$0 sweep experiments/specs/choc-kale.json', 'myopic vs long-term agents across tau'),
    async (a) => {
      const raw = readSpecFile(a.spec as string) as { sweep?: unknown };
      if (!raw || typeof raw !== 'object' || !raw.sweep) throw new UsageError(`sweep: ${a.spec} has no "sweep" section; use egym run for a spec without one`);
      await runSpec(raw, a, dirname(a.spec as string));
    },
  );
