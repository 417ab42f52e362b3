/** `egym run`. */
import type { Argv } from 'yargs';
import { dirname, join } from 'node:path';
import { out, readSpecFile, runSpec, runOptions, UsageError } from './common.js';

export const runCommand = (cli: Argv): Argv =>
  cli.command(
    'run [spec]',
    'Run an experiment from a spec file (or from --env/--agent flags); resumes where a run stopped',
    (y) =>
      runOptions(y)
        .positional('spec', { type: 'string', describe: 'spec file (JSON)' })
        .option('env', { type: 'string', describe: 'without a spec: the env id' })
        .option('agent', { type: 'string', array: true, describe: 'without a spec: agent ids (the first is the baseline)' })
        .option('seeds', { type: 'number', default: 3, describe: 'without a spec: number of seeds' })
        .option('user-steps', { type: 'number', default: 32000, describe: 'without a spec: training user-steps (a multiple of the 32 users stepped together)' })
        .option('steps', { type: 'number', hidden: true, describe: 'renamed --user-steps (version 2 counts user-steps)' })
        .option('users', { type: 'number', default: 200, describe: 'without a spec: final evaluation users' })
        .option('eval-every', { type: 'number', describe: 'without a spec: a learning-curve point every this many training user-steps (default: none)' })
        .option('eval-users', { type: 'number', default: 100, describe: 'without a spec: users per learning-curve point' })
        .example('$0 run experiments/specs/flagship.json', 'the flagship experiment')
        .example('$0 run experiments/specs/flagship.json --quick --workers 2', 'its quick variant on 2 workers')
        .example('$0 run --env retention-v0 --agent random ucb1 q-learning --seeds 3 --user-steps 16000', 'a spec from flags')
        .example('$0 run spec.json --shard 0/4 --out shard0', 'shard 0 of 4 (a Slurm array task)')
        .example('$0 run --import ./my-agent.js --env retention-v1 --agent my-agent random', 'a user agent, like a built-in one'),
    async (a) => {
      let raw: unknown;
      if (a.spec) raw = readSpecFile(a.spec);
      else {
        if (!a.env || !a.agent?.length) throw new UsageError('run: give a spec file, or --env and --agent');
        if (a.steps !== undefined) throw new UsageError(`run: --steps (vector steps) was renamed --user-steps: every budget counts user-steps; here --user-steps ${Number(a.steps) * 32} (${a.steps} x the 32 users stepped together)`);
        raw = { version: 2, name: `${a.env}-${a.agent.join('-')}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80), env: { id: a.env }, agents: a.agent.map((id) => ({ id })), seeds: a.seeds, train: { userSteps: a['user-steps'], numEnvs: 32 }, final: { users: a.users }, ...(a['eval-every'] !== undefined ? { eval: { every: a['eval-every'], users: a['eval-users'] } } : {}) };
      }
      await runSpec(raw, a, a.spec ? dirname(a.spec) : undefined);
    },
  );
