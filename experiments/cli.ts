/**
 * The egym command line (yargs). Errors print one line and exit non-zero (stack traces with --verbose).
 */
import yargs, { type Argv } from 'yargs';
import { checkEnv } from '../envs/check-env.js';
import { envSpec, listEnvs, make } from '../envs/registry.js';
import { describeAllowed } from '../envs/params.js';
import { benchEnvs, formatBenchTable, machineInfo, writeJsonAtomic } from './bench-envs.js';
import { benchAgents, formatAgentBench } from './bench-agents.js';
import type { BackendName } from '../policies/backend.js';
import { formatDemo, runDemo } from './demo.js';
import { listAgents } from '../agents/index.js';
import { BACKEND_CHOICES, type BackendChoice, initBackend } from '../policies/backend.js';
import { runPipeline } from '../agents/supervised/pipeline.js';
import type { ModelKind } from '../agents/supervised/models.js';

class UsageError extends Error {}

function out(s: string): void {
  process.stdout.write(s + '\n');
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const verbose = argv.includes('--verbose');
  const cli: Argv = yargs(argv)
    .scriptName('egym')
    .usage('$0 <command> [options]\n\nengagement-gym: user simulators for long-horizon engagement in recommender systems.')
    .command(
      'list [what]',
      'List the registered envs or agents (id, description, source; oracles marked)',
      (y) =>
        y
          .positional('what', { choices: ['envs', 'agents'] as const, default: 'envs' as const, describe: 'what to list' })
          .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
          .example('$0 list envs', 'the env table')
          .example('$0 list agents', 'the agents and the papers they implement'),
      (a) => {
        if (a.what === 'agents') {
          const agents = listAgents();
          if (a.json) return out(JSON.stringify(agents, null, 2));
          for (const g of agents) out(`${(g.id + (g.oracle ? ' [oracle]' : '')).padEnd(28)}${g.description}\n${''.padEnd(28)}source: ${g.source}`);
          return;
        }
        const envs = listEnvs();
        if (a.json) return out(JSON.stringify(envs, null, 2));
        for (const e of envs) out(`${e.id.padEnd(28)}${e.description}\n${''.padEnd(28)}source: ${e.source}`);
      },
    )
    .command(
      'info <id>',
      'Describe an env: its parameters (range, default), observation and action spaces',
      (y) =>
        y
          .positional('id', { type: 'string', demandOption: true, describe: 'env id, e.g. retention-v0' })
          .option('json', { type: 'boolean', default: false })
          .example('$0 info retention-v0', 'parameters and spaces of the flagship env'),
      (a) => {
        const spec = envSpec(a.id as string);
        const env = make(spec.id);
        if (a.json) {
          return out(JSON.stringify({ id: spec.id, description: spec.description, source: spec.source, params: spec.params, card: spec.card, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON() }, null, 2));
        }
        out(`${spec.id}: ${spec.description}\nsource: ${spec.source}\n\nparameters:`);
        for (const p of spec.params) out(`  ${p.name.padEnd(22)}${describeAllowed(p)}, default ${JSON.stringify(p.default)}\n  ${''.padEnd(22)}${p.description}`);
        out(`\nobservation: ${env.observationSpace.describe()}\naction: ${env.actionSpace.describe()}`);
      },
    )
    .command(
      'check-env <id>',
      'Run the env checker on a registered env',
      (y) =>
        y
          .positional('id', { type: 'string', demandOption: true })
          .option('steps', { type: 'number', default: 1000, describe: 'rollout length of the determinism check' })
          .example('$0 check-env interest-evolution-v0', 'all checks on one env'),
      (a) => {
        envSpec(a.id as string);
        const report = checkEnv(() => make(a.id as string), { steps: a.steps });
        for (const p of report.passed) out(`ok  ${p}`);
        out(`${report.id}: all ${report.passed.length} checks passed`);
      },
    )
    .command(
      'bench <what>',
      'Benchmark env steps per second (envs) or agent training throughput per backend (agents)',
      (y) =>
        y
          .positional('what', { choices: ['envs', 'agents'] as const, demandOption: true })
          .option('seconds', { type: 'number', default: 1, describe: 'envs: seconds per measured run' })
          .option('runs', { type: 'number', default: 5, describe: 'envs: measured runs per row (median reported)' })
          .option('batch', { type: 'number', default: 1024, describe: 'envs: users per batch' })
          .option('env', { type: 'string', array: true, describe: 'envs: only these envs' })
          .option('backends', { type: 'string', array: true, describe: 'agents: backends to measure (default: every available one)' })
          .option('steps', { type: 'number', default: 512, describe: 'agents: measured vector steps per row' })
          .option('num-envs', { type: 'number', default: 64, describe: 'agents: users stepped together' })
          .option('out', { type: 'string', describe: 'where to write the JSON results (default results/bench/<what>.json)' })
          .option('json', { type: 'boolean', default: false })
          .example('$0 bench envs', 'the env table, written to results/bench/envs.json')
          .example('$0 bench agents --backends wasm cpu', 'PPO and SlateQ training throughput per backend'),
      async (a) => {
        const outPath = a.out ?? `results/bench/${a.what}.json`;
        if (a.what === 'agents') {
          const available: BackendName[] = [];
          for (const b of (a.backends ?? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']) as BackendName[]) {
            if (!BACKEND_CHOICES.includes(b) || (b as string) === 'auto') throw new UsageError(`bench agents: unknown backend ${JSON.stringify(b)}; allowed: tensorflow-gpu, tensorflow, wasm, cpu`);
            try {
              await initBackend(b);
              available.push(b);
            } catch (e) {
              if (a.backends) throw e;
            }
          }
          const rows = await benchAgents({ backends: available, steps: a.steps, numEnvs: a['num-envs'] });
          const result = { command: `egym bench agents --steps ${a.steps} --num-envs ${a['num-envs']}`, machine: machineInfo(), rows };
          writeJsonAtomic(outPath, result);
          out(a.json ? JSON.stringify(result, null, 2) : `${formatAgentBench(rows)}\n\nwritten to ${outPath}`);
          return;
        }
        if (!(a.seconds > 0) || !(a.runs >= 1) || !Number.isInteger(a.batch) || a.batch < 1) {
          throw new UsageError('bench: --seconds must be > 0, --runs >= 1 and --batch a positive integer');
        }
        for (const id of a.env ?? []) envSpec(id);
        const rows = benchEnvs({ seconds: a.seconds, runs: a.runs, batch: a.batch, ...(a.env ? { envs: a.env } : {}) });
        const result = { command: `egym bench envs --seconds ${a.seconds} --runs ${a.runs} --batch ${a.batch}`, machine: machineInfo(), rows };
        writeJsonAtomic(outPath, result);
        if (a.json) out(JSON.stringify(result, null, 2));
        else out(`${formatBenchTable(rows)}\n\nwritten to ${outPath}`);
      },
    )
    .command(
      'pipeline',
      'Run the supervised baseline pipeline (log, preprocess, train, test) and report AUC next to the Bayes-optimal AUC',
      (y) =>
        y
          .option('env', { type: 'string', default: 'retention-v0' })
          .option('model', { choices: ['logistic', 'mlp', 'gru'] as const, default: 'mlp' as const })
          .option('users', { type: 'number', default: 600, describe: 'users logged by a uniform random policy' })
          .option('seed', { type: 'number', default: 5, describe: 'population seed of the logged users' })
          .option('epochs', { type: 'number', default: 20 })
          .option('batch-size', { type: 'number', default: 128 })
          .option('backend', { choices: BACKEND_CHOICES, default: 'auto' as BackendChoice, describe: 'TensorFlow.js backend' })
          .option('json', { type: 'boolean', default: false })
          .example('$0 pipeline --model logistic --users 300', 'a quick logistic-regression baseline'),
      async (a) => {
        envSpec(a.env);
        if (!Number.isInteger(a.users) || a.users < 10) throw new UsageError('pipeline: --users must be an integer >= 10');
        const backend = await initBackend(a.backend);
        const p = runPipeline({
          envId: a.env,
          users: a.users,
          seed: a.seed,
          behaviour: null,
          epsilon: 1,
          model: a.model as ModelKind,
          watchModel: true,
          hidden: 128,
          gruUnits: 32,
          epochs: a.epochs,
          batchSize: a['batch-size'],
          lr: 1e-3,
          patience: 3,
          fractions: { train: 0.7, val: 0.15 },
          trainSeed: 1,
        });
        const { click, watch, ...r } = p.report;
        if (a.json) return out(JSON.stringify({ backend: backend.name, ...p.report }, null, 2));
        out(
          [
            `supervised pipeline on ${a.env}: ${a.model}, backend ${backend.name}`,
            `impressions ${r.impressions} (train ${r.trainImpressions}, validation ${r.valImpressions}, test ${r.testImpressions}); click rate ${r.clickRate.toFixed(3)}`,
            `click model: test AUC ${r.testAuc.toFixed(4)} (Bayes-optimal ${r.bayesAuc.toFixed(4)}), log-loss ${r.testLogLoss.toFixed(4)}; ${click.epochs} epochs, best ${click.bestEpoch}`,
            `watch-time model: test RMSE ${r.watchRmse?.toFixed(3)} minutes${watch ? `; ${watch.epochs} epochs, best ${watch.bestEpoch}` : ''}`,
          ].join('\n'),
        );
      },
    )
    .command(
      'demo',
      'Random, myopic and balanced policies on retention-v0 over paired users (what npm start runs)',
      (y) =>
        y
          .option('users', { type: 'number', default: 500 })
          .option('seed', { type: 'number', default: 2026 })
          .option('json', { type: 'boolean', default: false }),
      async (a) => {
        if (!Number.isInteger(a.users) || a.users < 2) throw new UsageError('demo: --users must be an integer >= 2');
        const rows = await runDemo(a.users, a.seed);
        out(a.json ? JSON.stringify(rows, null, 2) : formatDemo(rows, a.users));
      },
    )
    .option('verbose', { type: 'boolean', default: false, describe: 'print stack traces on errors' })
    .demandCommand(1, 'name a command (see egym --help)')
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    await cli.parseAsync();
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`egym: ${err.message}\n`);
    if (verbose && err.stack) process.stderr.write(err.stack + '\n');
    code = err instanceof UsageError ? 2 : 1;
  }
  return code;
}
