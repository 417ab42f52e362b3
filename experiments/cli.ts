/**
 * The egym command line (yargs). Errors print one line and exit non-zero (stack traces with --verbose).
 */
import yargs, { type Argv } from 'yargs';
import { checkEnv } from '../envs/check-env.js';
import { envSpec, listEnvs, make } from '../envs/registry.js';
import { describeAllowed } from '../envs/params.js';
import { EgymError, exitCodeOf } from '../envs/errors.js';
import { benchEnvs, formatBenchTable, machineInfo, writeJsonAtomic } from './bench-envs.js';
import type { BackendName } from '../policies/backend-choices.js';
import { formatDemo, runDemo } from './demo.js';
import { formatCalibration, runCalibration } from './calibrate.js';
import { agentSpec, type AgentCheckpoint, listAgents, makeAgent } from '../agents/index.js';
import { BACKEND_CHOICES, type BackendChoice } from '../policies/backend-choices.js';
// TensorFlow.js (and what needs it: the backend, the pipeline, the agent benchmark) loads in the commands that use it.
const tfjsParts = async () => ({ ...(await import('../policies/backend.js')), ...(await import('../agents/supervised/pipeline.js')), ...(await import('./bench-agents.js')) });
import type { ModelKind } from '../agents/supervised/models.js';

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { mergeRuns, reportRun, runExperiment } from './experiment.js';
import { parseShard } from './cells.js';
import { summaryTable } from './summary.js';

class UsageError extends EgymError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

// The shipped specs: experiments/specs beside the sources; the build copies them to dist/experiments/specs.
const SPECS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'specs');
/** `egym reproduce <name>` names. */
export const REPRODUCTIONS: Record<string, string> = {
  flagship: 'flagship.json',
  slateq: 'recsim-slateq.json',
  'choc-kale': 'choc-kale.json',
  'adaptive-drift': 'adaptive-drift.json',
  'slateq-noclick': 'slateq-noclick.json',
  'ppo-study': 'ppo-study.json',
};

/**
 * Read a spec file strictly: a regular file of UTF-8 JSON (no byte-order mark, no invalid byte sequences, which a
 * lenient decoder would silently replace) holding one object. Every failure is a usage error (exit 2) naming it.
 */
export function readSpecFile(path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`spec file ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new UsageError(`spec file ${path} is a directory; give the path of a .json spec file`);
  const bytes = readFileSync(path);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw new UsageError(`spec file ${path} starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`spec file ${path} is not valid UTF-8 (a lenient reader would replace the bad bytes and change the spec); save it as UTF-8`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`spec file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`spec file ${path} must hold one JSON object (the spec), got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  return v;
}

interface RunArgs {
  backend?: string;
  workers?: number;
  shard?: string;
  out?: string;
  quick?: boolean;
  quiet?: boolean;
  json?: boolean;
  'save-checkpoints'?: boolean;
  import?: string[];
  'memory-budget'?: number;
}

/** Set the TensorFlow.js backend of every agent that has one (it becomes part of the resolved spec). */
function withBackend(raw: unknown, backend: string | undefined): unknown {
  if (!backend || !raw || typeof raw !== 'object' || !Array.isArray((raw as { agents?: unknown }).agents)) return raw;
  const spec = raw as { agents: { id: string; params?: Record<string, unknown> }[] };
  return {
    ...spec,
    agents: spec.agents.map((a) => {
      const known = listAgents().some((x) => x.id === a.id) && agentSpec(a.id).params.has('backend');
      return known ? { ...a, params: { ...(a.params ?? {}), backend } } : a;
    }),
  };
}

async function runCommand(raw0: unknown, a: RunArgs, base?: string): Promise<void> {
  const raw = withBackend(raw0, a.backend);
  const workers = a.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) throw new UsageError('--workers must be a non-negative integer (0: run in this thread)');
  const shard = a.shard ? parseShard(a.shard) : null;
  let stop = false;
  const onSig = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\negym: interrupted: no new cell starts; the cells in flight finish and are saved (Ctrl-C again stops at once and loses them); run again to resume\n');
  };
  process.on('SIGINT', onSig);
  const tty = process.stderr.isTTY && !a.quiet && !a.json;
  const bar = tty ? new cliProgress.SingleBar({ format: 'cells {bar} {value}/{total} | ETA {eta_formatted} | {last}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  let started = false;
  if (a.out !== undefined && existsSync(a.out) && !statSync(a.out).isDirectory()) throw new UsageError(`--out ${a.out} is an existing file, not a directory; give a results folder`);
  try {
    const mb = a['memory-budget'];
    if (mb !== undefined && !(Number.isFinite(mb) && mb > 0)) throw new UsageError(`--memory-budget must be a positive number of GiB, got ${mb}`);
    const r = await runExperiment(raw, {
      memoryBudget: mb !== undefined ? mb * 2 ** 30 : undefined,
      base,
      imports: a.import,
      workers,
      shard,
      out: a.out,
      quick: a.quick,
      saveCheckpoints: a['save-checkpoints'],
      stopped: () => stop,
      onCell: (res, done, total) => {
        const last = `${res.cell.label} seed ${res.cell.seed}: return ${(res.final.users.return.reduce((s: number, v) => s + (v ?? 0), 0) / res.final.users.return.length).toFixed(2)}`;
        if (bar) {
          if (!started) {
            bar.start(total, done - 1, { last: '' });
            started = true;
          }
          bar.update(done, { last });
        } else if (!a.quiet && !a.json) process.stderr.write(`[${done}/${total}] ${last}\n`);
      },
    });
    bar?.stop();
    if (a.json) {
      out(JSON.stringify({ runDir: r.runDir, ran: r.ran, skipped: r.skipped, complete: r.complete, summary: r.summary }, null, 2));
    } else if (a.quiet) {
      out(r.runDir); // --quiet: errors (stderr) and the output folder only
    } else {
      out(`${r.spec.name}: ${r.ran} cells run, ${r.skipped} already done (of ${shard ? 'this shard' : r.cells.length})${stop ? ' (interrupted)' : ''}`);
      if (r.summary) out(`\n${summaryTable(r.summary)}\n\nreport: ${join(r.runDir, 'report.html')}`);
      else out(`results so far: ${r.runDir} (${shard ? 'merge the shards with egym merge' : 'run again to resume'})`);
    }
    if (stop) process.exitCode = 130;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSig);
  }
}

const runOptions = (y: Argv) =>
  y
    .option('workers', { type: 'number', describe: 'worker threads (default: the number of cores; 0 runs in this thread)' })
    .option('backend', { choices: BACKEND_CHOICES, describe: 'TensorFlow.js backend of every agent that uses one (default: each agent\'s own, auto)' })
    .option('shard', { type: 'string', describe: 'run shard i of n ("i/n", 0-based): a deterministic subset of the cells' })
    .option('out', { type: 'string', describe: 'run folder (default results/<experiment>/run-<spec hash>)' })
    .option('quick', { type: 'boolean', default: false, describe: "the spec's quick variant (smaller budget)" })
    .option('save-checkpoints', { type: 'boolean', default: false, describe: 'write final agent checkpoints (for warm starts)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'print only errors and the output folder' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
    .option('memory-budget', { type: 'number', describe: 'GiB the run may need at once (default: half of this machine\'s memory); checked before any cell runs' })
    .option('import', { type: 'string', array: true, describe: 'user module(s) that register agents or envs (.js, or .ts with tsx), loaded first, in every worker too' });

function out(s: string): void {
  process.stdout.write(s + '\n');
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const verbose = argv.includes('--verbose');
  const cli: Argv = yargs(argv)
    .scriptName('egym')
    .usage('$0 <command> [options]\n\nengagement-gym: user simulators, agents and experiments for long-horizon engagement in recommender systems.')
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
      'run [spec]',
      'Run an experiment from a spec file (or from --env/--agent flags); resumes where a run stopped',
      (y) =>
        runOptions(y)
          .positional('spec', { type: 'string', describe: 'spec file (JSON)' })
          .option('env', { type: 'string', describe: 'without a spec: the env id' })
          .option('agent', { type: 'string', array: true, describe: 'without a spec: agent ids (the first is the baseline)' })
          .option('seeds', { type: 'number', default: 3, describe: 'without a spec: number of seeds' })
          .option('steps', { type: 'number', default: 1000, describe: 'without a spec: training vector steps' })
          .option('users', { type: 'number', default: 200, describe: 'without a spec: final evaluation users' })
          .option('eval-every', { type: 'number', describe: 'without a spec: a learning-curve point every this many training user-steps (default: none)' })
          .option('eval-users', { type: 'number', default: 100, describe: 'without a spec: users per learning-curve point' })
          .example('$0 run experiments/specs/flagship.json', 'the flagship experiment')
          .example('$0 run experiments/specs/flagship.json --quick --workers 2', 'its quick variant on 2 workers')
          .example('$0 run --env retention-v0 --agent random ucb1 q-learning --seeds 3 --steps 500', 'a spec from flags')
          .example('$0 run spec.json --shard 0/4 --out shard0', 'shard 0 of 4 (a Slurm array task)')
          .example('$0 run --import ./my-agent.js --env retention-v1 --agent my-agent random', 'a user agent, like a built-in one'),
      async (a) => {
        let raw: unknown;
        if (a.spec) raw = readSpecFile(a.spec);
        else {
          if (!a.env || !a.agent?.length) throw new UsageError('run: give a spec file, or --env and --agent');
          raw = { name: `${a.env}-${a.agent.join('-')}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80), env: { id: a.env }, agents: a.agent.map((id) => ({ id })), seeds: a.seeds, train: { steps: a.steps, numEnvs: 32 }, final: { users: a.users }, ...(a['eval-every'] !== undefined ? { eval: { every: a['eval-every'], users: a['eval-users'] } } : {}) };
        }
        await runCommand(raw, a, a.spec ? dirname(a.spec) : undefined);
      },
    )
    .command(
      'sweep <spec>',
      'Run a spec with a sweep (grid or random search over env and agent params)',
      (y) => runOptions(y).positional('spec', { type: 'string', demandOption: true }).example('$0 sweep experiments/specs/choc-kale.json', 'myopic vs long-term agents across tau'),
      async (a) => {
        const raw = readSpecFile(a.spec as string) as { sweep?: unknown };
        if (!raw || typeof raw !== 'object' || !raw.sweep) throw new UsageError(`sweep: ${a.spec} has no "sweep" section; use egym run for a spec without one`);
        await runCommand(raw, a, dirname(a.spec as string));
      },
    )
    .command(
      'export-policy <checkpoint>',
      "Export a trained PPO policy network in TensorFlow.js's layers format (model.json + weights.bin), loadable with tf.loadLayersModel",
      (y) =>
        y
          .positional('checkpoint', { type: 'string', demandOption: true, describe: 'an agent checkpoint (egym run --save-checkpoints writes them under <run>/checkpoints/)' })
          .option('out', { type: 'string', demandOption: true, describe: 'folder for model.json and weights.bin' })
          .example('$0 export-policy results/flagship/run-x/checkpoints/ppo-seed0.json --out policy', 'the seed-0 PPO policy of a run'),
      async (a) => {
        const path = a.checkpoint as string;
        if (!existsSync(path) || statSync(path).isDirectory()) throw new UsageError(`export-policy: ${path} is not a checkpoint file`);
        let ck: AgentCheckpoint;
        try {
          ck = JSON.parse(readFileSync(path, 'utf8')) as AgentCheckpoint;
        } catch (e) {
          throw new UsageError(`export-policy: ${path} is not valid JSON: ${(e as Error).message}`);
        }
        if (ck?.format !== 'engagement-gym/agent') throw new UsageError(`export-policy: ${path} is not an engagement-gym agent checkpoint`);
        if (ck.agent !== 'ppo') throw new UsageError(`export-policy: ${path} is a checkpoint of agent ${ck.agent}; only ppo has one policy network to export`);
        const agent = (await makeAgent('ppo', ck.params, { envId: ck.envId, envParams: ck.envParams, seed: ck.seed })) as unknown as { load(c: AgentCheckpoint): void; exportPolicy(dir: string): Promise<{ modelJson: string; weights: string }> };
        agent.load(ck);
        const r = await agent.exportPolicy(a.out);
        out(`wrote ${r.modelJson} and ${r.weights}`);
      },
    )
    .command(
      'report <runDir>',
      'Rebuild summary.json, summary.csv, plots and report.html of a run folder',
      (y) =>
        y
          .positional('runDir', { type: 'string', demandOption: true })
          .option('json', { type: 'boolean', default: false })
          .example('$0 report results/flagship/run-d3754fe9b1', 'rebuild the summary and report of a run'),
      async (a) => {
        const s = await reportRun(a.runDir as string);
        out(a.json ? JSON.stringify(s, null, 2) : `${summaryTable(s)}\n\nreport: ${join(a.runDir as string, 'report.html')}`);
      },
    )
    .command(
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
      },
    )
    .command(
      'reproduce <name>',
      `Run a shipped spec: ${Object.keys(REPRODUCTIONS).join(', ')}`,
      (y) => runOptions(y).positional('name', { type: 'string', demandOption: true }).example('$0 reproduce slateq', "the SlateQ paper's comparison on interest-evolution-v0"),
      async (a) => {
        const file = REPRODUCTIONS[a.name as string];
        if (!file) throw new UsageError(`reproduce: unknown name ${JSON.stringify(a.name)}; available: ${Object.keys(REPRODUCTIONS).join(', ')}`);
        await runCommand(readSpecFile(join(SPECS_DIR, file)), a);
      },
    )
    .command(
      'info <id>',
      'Describe an env (parameters with ranges and defaults, spaces) or an agent (source, parameters)',
      (y) =>
        y
          .positional('id', { type: 'string', demandOption: true, describe: 'env id (retention-v0) or agent id (ppo)' })
          .option('json', { type: 'boolean', default: false })
          .example('$0 info retention-v0', 'parameters and spaces of the flagship env')
          .example('$0 info slateq', "SlateQ's parameters"),
      (a) => {
        if (listAgents().some((g) => g.id === a.id)) {
          const g = agentSpec(a.id as string);
          if (a.json) return out(JSON.stringify({ id: g.id, description: g.description, source: g.source, oracle: g.oracle, params: g.params.specs }, null, 2));
          out(`${g.id}${g.oracle ? ' [oracle]' : ''}: ${g.description}\nsource: ${g.source}\n\nparameters:`);
          for (const p of g.params.specs) out(`  ${p.name.padEnd(22)}${describeAllowed(p)}, default ${JSON.stringify(p.default)}\n  ${''.padEnd(22)}${p.description}`);
          return;
        }
        if (!listEnvs().some((e) => e.id === a.id) && !/-v\d+$/.test(String(a.id))) {
          throw new UsageError(`info: ${JSON.stringify(a.id)} is neither an env nor an agent; envs: ${listEnvs().map((e) => e.id).join(', ')}; agents: ${listAgents().map((g) => g.id).join(', ')}`);
        }
        const spec = envSpec(a.id as string);
        const env = make(spec.id);
        if (a.json) {
          return out(JSON.stringify({ id: spec.id, description: spec.description, source: spec.source, params: spec.params.specs, card: spec.card, observationSpace: env.observationSpace.toJSON(), actionSpace: env.actionSpace.toJSON() }, null, 2));
        }
        out(`${spec.id}: ${spec.description}\nsource: ${spec.source}\n\nparameters:`);
        for (const p of spec.params.specs) out(`  ${p.name.padEnd(22)}${describeAllowed(p)}, default ${JSON.stringify(p.default)}\n  ${''.padEnd(22)}${p.description}`);
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
        if (!Number.isSafeInteger(a.steps) || a.steps < 1) throw new UsageError(`check-env: --steps must be a positive integer, got ${String(a.steps)}`);
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
          .option('out', { type: 'string', describe: 'write the JSON results here (nothing is written without it; the committed tables are results/bench/<what>.json)' })
          .option('json', { type: 'boolean', default: false })
          .example('$0 bench envs', 'the env table, printed')
          .example('$0 bench envs --out results/bench/envs.json', "regenerate the README's committed env table")
          .example('$0 bench agents --backends wasm cpu', 'PPO and SlateQ training throughput per backend'),
      async (a) => {
        const outPath = a.out;
        const save = (result: unknown) => {
          if (outPath !== undefined) writeJsonAtomic(outPath, result);
          return outPath !== undefined ? `written to ${outPath}` : `not written (add --out FILE to keep it; the committed table is results/bench/${a.what}.json)`;
        };
        if (a.what === 'agents') {
          const { initBackend, benchAgents, formatAgentBench } = await tfjsParts();
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
          const where = save(result);
          out(a.json ? JSON.stringify(result, null, 2) : `${formatAgentBench(rows)}\n\n${where}`);
          return;
        }
        if (!(a.seconds > 0) || !(a.runs >= 1) || !Number.isInteger(a.batch) || a.batch < 1) {
          throw new UsageError('bench: --seconds must be > 0, --runs >= 1 and --batch a positive integer');
        }
        for (const id of a.env ?? []) envSpec(id);
        const rows = benchEnvs({ seconds: a.seconds, runs: a.runs, batch: a.batch, ...(a.env ? { envs: a.env } : {}) });
        const result = { command: `egym bench envs --seconds ${a.seconds} --runs ${a.runs} --batch ${a.batch}`, machine: machineInfo(), rows };
        const where = save(result);
        if (a.json) out(JSON.stringify(result, null, 2));
        else out(`${formatBenchTable(rows)}\n\n${where}`);
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
        const { initBackend, runPipeline } = await tfjsParts();
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
            `click model: test AUC ${r.testAuc.toFixed(4)} (Bayes-optimal ${r.bayesAuc === null ? 'n/a: no choice model' : r.bayesAuc.toFixed(4)}), log-loss ${r.testLogLoss.toFixed(4)}; ${click.epochs} epochs, best ${click.bestEpoch}`,
            `watch-time model: test RMSE ${r.watchRmse?.toFixed(3)} minutes${watch ? `; ${watch.epochs} epochs, best ${watch.bestEpoch}` : ''}`,
          ].join('\n'),
        );
      },
    )
    .command(
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
        if (!Number.isSafeInteger(a.seed) || a.seed < 0) throw new UsageError('calibrate: --seed must be a non-negative integer');
        const c = await runCalibration({ env: a.env, users: a.users, seed: a.seed, onRow: a.json ? undefined : (r) => process.stderr.write(`  ${r.label}: ${r.return.mean.toFixed(1)}\n`) });
        if (a.out) {
          mkdirSync(dirname(a.out), { recursive: true });
          writeFileSync(a.out, JSON.stringify(c, null, 2) + '\n');
        }
        out(a.json ? JSON.stringify(c, null, 2) : formatCalibration(c));
        if (c.targets.some((t) => !t.pass)) code = 1;
      },
    )
    .command(
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
    // Usage errors: bad flags, an invalid spec, or an env or agent id that does not exist (the same in every command).
    code = exitCodeOf(err);
  }
  // A handler that ended without an error may have set its own code (3: a merge with cells missing; 130: an
  // interrupted run): the caller assigns the returned code to process.exitCode, so carry it through.
  if (code === 0 && typeof process.exitCode === 'number') code = process.exitCode;
  return code;
}
