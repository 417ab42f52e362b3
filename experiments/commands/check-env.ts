/** `egym check-env`. */
import type { Argv } from 'yargs';
import { checkEnv } from '../../envs/check-env.js';
import { envSpec, make } from '../../envs/registry.js';
import { out, UsageError } from './common.js';

export const checkEnvCommand = (cli: Argv): Argv =>
  cli.command(
    'check-env <id>',
    'Run the env checker on a registered env',
    (y) =>
      y
        .positional('id', { type: 'string', demandOption: true })
        .option('steps', { type: 'number', default: 1000, describe: 'rollout length of the determinism check' })
        .example('$0 check-env interest-evolution-v0', 'all checks on one env'),
    (a) => {
      envSpec(a.id as string);
      if (!Number.isSafeInteger(a.steps) || a.steps < 1) throw new UsageError(`check-env: --steps must be a positive integer, got ${String(a.steps)}`);
      const report = checkEnv(() => make(a.id as string), { steps: a.steps });
      for (const p of report.passed) out(`ok  ${p}`);
      out(`${report.id}: all ${report.passed.length} checks passed`);
    },
  );
