/** `egym calibrate`. */
import type { Argv } from 'yargs';
import { formatCalibration, runCalibration } from '../calibrate.js';
import { writeJsonAtomic } from '../bench-envs.js';
import { checkOutFile, checkSeed, out, UsageError } from './common.js';

export const calibrateCommand = (cli: Argv): Argv =>
  cli.command(
    'calibrate',
    'The calibration of a multi-session env: floor, oracles, ceiling, every observable heuristic and untrained tabular agents over paired users, with the flagship targets checked',
    (y) =>
      y
        .option('env', { type: 'string', default: 'retention-v1' })
        .option('users', { type: 'number', default: 1500 })
        .option('seed', { type: 'number', default: 2024, describe: 'population seed of the users' })
        .option('out', { type: 'string', describe: 'write the calibration as JSON to this file (e.g. results/bench/calibration-retention-v1.json)' })
        .option('json', { type: 'boolean', default: false })
        .example('$0 calibrate --out results/bench/calibration-retention-v1.json', "the README's calibration table of retention-v1"),
    async (a) => {
      if (!Number.isInteger(a.users) || a.users < 2) throw new UsageError('calibrate: --users must be an integer >= 2');
      checkSeed('calibrate', a.seed);
      checkOutFile('calibrate', a.out);
      const c = await runCalibration({ env: a.env, users: a.users, seed: a.seed, onRow: a.json ? undefined : (r) => process.stderr.write(`  ${r.label}: ${r.return.mean.toFixed(1)}\n`) });
      if (a.out) writeJsonAtomic(a.out, c);
      out(a.json ? JSON.stringify(c, null, 2) : formatCalibration(c));
      if (c.targets.some((t) => !t.pass)) process.exitCode = 1;
    },
  );
