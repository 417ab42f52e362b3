/** `egym demo`. */
import type { Argv } from 'yargs';
import { formatDemo, runDemo } from '../demo.js';
import { writeJsonAtomic } from '../bench-envs.js';
import { checkOutFile, checkSeed, out, UsageError } from './common.js';

export const demoCommand = (cli: Argv): Argv =>
  cli.command(
    'demo',
    'Random, myopic and balanced policies on retention-v0 over paired users (what npm start runs)',
    (y) =>
      y
        .option('users', { type: 'number', default: 500 })
        .option('seed', { type: 'number', default: 2026, describe: 'population seed of the users' })
        .option('out', { type: 'string', describe: 'also write the rows as JSON to this file (e.g. results/bench/demo-retention-v0.json)' })
        .option('json', { type: 'boolean', default: false })
        .example('$0 demo --users 2000 --out results/bench/demo-retention-v0.json', "retention-v0's calibration table in the README"),
    async (a) => {
      if (!Number.isInteger(a.users) || a.users < 2) throw new UsageError(`demo: --users must be an integer >= 2 (got ${a.users})`);
      checkSeed('demo', a.seed);
      checkOutFile('demo', a.out);
      const rows = await runDemo(a.users, a.seed);
      if (a.out) writeJsonAtomic(a.out, { env: 'retention-v0', users: a.users, seed: a.seed, command: `npx egym demo --users ${a.users} --seed ${a.seed} --out ${a.out}`, rows });
      out(a.json ? JSON.stringify(rows, null, 2) : formatDemo(rows, a.users));
    },
  );
