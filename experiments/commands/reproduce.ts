/** `egym reproduce`. */
import type { Argv } from 'yargs';
import { join } from 'node:path';
import { readSpecFile, REPRODUCTIONS, runSpec, runOptions, SPECS_DIR, UsageError } from './common.js';

export const reproduceCommand = (cli: Argv): Argv =>
  cli.command(
    'reproduce <name>',
    `Run a shipped spec: ${Object.keys(REPRODUCTIONS).join(', ')}`,
    (y) => runOptions(y).positional('name', { type: 'string', demandOption: true }).example('$0 reproduce slateq', "the SlateQ paper's comparison on interest-evolution-v0"),
    async (a) => {
      const file = REPRODUCTIONS[a.name as string];
      if (!file) throw new UsageError(`reproduce: unknown name ${JSON.stringify(a.name)}; available: ${Object.keys(REPRODUCTIONS).join(', ')}`);
      await runSpec(readSpecFile(join(SPECS_DIR, file)), a);
    },
  );
