/** `egym demo`. */
import type { Argv } from 'yargs';
import { formatDemo, runDemo } from '../demo.js';
import { out, UsageError } from './common.js';

export const demoCommand = (cli: Argv): Argv =>
  cli.command(
    'demo',
    'Random, myopic and balanced policies on retention-v0 over paired users (what npm start runs)',
    (y) =>
      y
        .option('users', { type: 'number', default: 500 })
        .option('seed', { type: 'number', default: 2026 })
        .option('json', { type: 'boolean', default: false })
        .example('$0 demo --users 2000', 'the calibration table of the README'),
    async (a) => {
      if (!Number.isInteger(a.users) || a.users < 2) throw new UsageError('demo: --users must be an integer >= 2');
      const rows = await runDemo(a.users, a.seed);
      out(a.json ? JSON.stringify(rows, null, 2) : formatDemo(rows, a.users));
    },
  );
