/** `egym bench`. */
import type { Argv } from 'yargs';
import { envSpec, listEnvs } from '../../envs/registry.js';
import { benchEnvs, formatBenchTable, machineInfo, writeJsonAtomic } from '../bench-envs.js';
import type { BackendName } from '../../policies/backend-choices.js';
import { BACKEND_CHOICES } from '../../policies/backend-choices.js';
import { checkOutFile, duration, out, readSpecFile, tfjsParts, UsageError } from './common.js';

/**
 * The backends a benchmark runs on: each named one must start (its error is the command's); without names, every
 * default that starts, and why the others did not.
 */
async function startBackends(what: string, named: string[] | undefined, defaults: BackendName[]): Promise<{ available: BackendName[]; skipped: string[] }> {
  const { initBackend } = await import('../../policies/backend.js');
  const available: BackendName[] = [];
  const skipped: string[] = [];
  for (const b of (named ?? defaults) as BackendName[]) {
    if (!BACKEND_CHOICES.includes(b) || (b as string) === 'auto') throw new UsageError(`bench ${what}: unknown backend ${JSON.stringify(b)}; allowed: tensorflow-gpu, webgpu, tensorflow, wasm, cpu`);
    try {
      await initBackend(b);
      available.push(b);
    } catch (e) {
      if (named) throw e;
      skipped.push(`${b}: ${(e as Error).message}`);
    }
  }
  return { available, skipped };
}

export const benchCommand = (cli: Argv): Argv =>
  cli.command(
    'bench <what>',
    'Benchmark env steps per second (envs), agent training throughput per backend (agents), a dense network\'s training step per backend and batch size (dense: where webgpu overtakes wasm), or a sweep\'s wall time against workers, local and on the queue (scaling)',
    (y) =>
      y
        .positional('what', { choices: ['envs', 'agents', 'dense', 'scaling'] as const, demandOption: true })
        .option('seconds', { type: 'number', default: 1, describe: 'envs: seconds per measured run; dense: per batch size' })
        .option('runs', { type: 'number', default: 5, describe: 'envs: measured runs per row (median reported)' })
        .option('batch', { type: 'number', default: 1024, describe: 'envs: users per batch' })
        .option('env', { type: 'string', array: true, describe: 'envs: only these envs' })
        .option('backends', { type: 'string', array: true, describe: 'agents, dense: backends to measure (default: every available one)' })
        .option('user-steps', { type: 'number', default: 32768, describe: 'agents: measured user-steps per row (a multiple of --num-envs)' })
        .option('num-envs', { type: 'number', default: 64, describe: 'agents: users stepped together' })
        .option('batches', { type: 'number', array: true, describe: 'dense: rows per training step (default: 256 1024 4096 16384 65536)' })
        .option('spec', { type: 'string', default: 'experiments/specs/flagship.json', describe: 'scaling: the spec file to run' })
        .option('full', { type: 'boolean', default: false, describe: 'scaling: run the full spec (default: its --quick version)' })
        .option('workers', { type: 'number', array: true, describe: 'scaling: local worker counts (default: 1 2)' })
        .option('reps', { type: 'number', default: 3, describe: 'scaling: repetitions of each configuration, interleaved (median reported)' })
        .option('queue', { type: 'string', describe: 'scaling: also run through the Redis queue at this URL (redis://HOST:PORT/DB; its jobs are removed as collected)' })
        .option('queue-workers', { type: 'number', array: true, describe: 'scaling: egym worker process counts on the queue (default: 1 2)' })
        .option('out', { type: 'string', describe: 'write the JSON results here (nothing is written without it; the committed tables are results/bench/<what>.json)' })
        .option('json', { type: 'boolean', default: false })
        .example('$0 bench envs', 'the env table, printed')
        .example('$0 bench envs --out results/bench/envs.json', "regenerate the README's committed env table")
        .example('$0 bench agents --backends wasm cpu', 'PPO and SlateQ training throughput per backend')
        .example('$0 bench dense --backends wasm webgpu', 'a dense training step per batch size on wasm and on WebGPU (Dawn), and where WebGPU overtakes')
        .example('$0 bench scaling --queue redis://127.0.0.1:6379/0 --out results/bench/scaling.json', "the README's scaling table: the quick flagship with 1 and 2 workers, locally and on the queue"),
    async (a) => {
      checkOutFile('bench', a.out);
      const outPath = a.out;
      const save = (result: unknown) => {
        if (outPath !== undefined) writeJsonAtomic(outPath, result);
        return outPath !== undefined ? `written to ${outPath}` : `not written (add --out FILE to keep it; the committed table is results/bench/${a.what}.json)`;
      };
      if (a.what === 'scaling') {
        const counts = (xs: number[] | undefined, flag: string) => {
          const v = xs ?? [1, 2];
          if (v.length === 0 || v.some((x) => !Number.isInteger(x) || x < 1 || x > 256)) throw new UsageError(`bench scaling: ${flag} must list integers in [1, 256] (got ${JSON.stringify(xs)})`);
          return v;
        };
        const workers = counts(a.workers, '--workers');
        const queueWorkers = counts(a['queue-workers'], '--queue-workers');
        if (!Number.isInteger(a.reps) || a.reps < 1 || a.reps > 100) throw new UsageError(`bench scaling: --reps must be an integer in [1, 100] (got ${a.reps})`);
        readSpecFile(a.spec); // a missing or invalid spec is named before anything runs
        if (a.queue) (await import('../queue.js')).parseRedisUrl(a.queue);
        const { benchScaling, formatScaling } = await import('../bench-scaling.js');
        if (!a.json) process.stderr.write(`bench scaling: ${a.spec}${a.full ? '' : ' --quick'}, local workers ${workers.join(', ')}${a.queue ? `, queue workers ${queueWorkers.join(', ')}` : ''}, ${a.reps} runs each; a line per run\n`);
        const result = await benchScaling({ spec: a.spec, quick: !a.full, workers, reps: a.reps, queue: a.queue, queueWorkers, onLine: a.json ? undefined : (l) => process.stderr.write(l + '\n') });
        const where = save(result);
        out(a.json ? JSON.stringify(result, null, 2) : `${formatScaling(result)}\n\n${where}`);
        return;
      }
      if (a.what === 'dense') {
        const batches = a.batches ?? [256, 1024, 4096, 16384, 65536];
        if (batches.length === 0 || batches.some((b) => !Number.isInteger(b) || b < 1 || b > 1_048_576)) throw new UsageError(`bench dense: --batches must list integers in [1, 1048576] (got ${JSON.stringify(a.batches)})`);
        if (!(a.seconds > 0 && a.seconds <= 60)) throw new UsageError(`bench dense: --seconds must be in (0, 60] (got ${a.seconds})`);
        const { available, skipped } = await startBackends('dense', a.backends, ['wasm', 'webgpu', 'tensorflow-gpu', 'tensorflow']);
        const { benchDense, formatDenseBench } = await import('../bench-dense.js');
        if (!a.json) process.stderr.write(`bench dense: backends ${available.join(', ')}; batches ${batches.join(', ')}; a line per row\n${skipped.map((x) => `  skipped ${x}\n`).join('')}`);
        const res = await benchDense({ backends: available, batches, seconds: a.seconds, onRow: a.json ? undefined : (r) => process.stderr.write(`  ${r.backend} (${r.device}), batch ${r.batch}: ${r.msPerStep.toFixed(2)} ms per step\n`) });
        const result = { command: `egym bench dense --backends ${available.join(' ')} --batches ${batches.join(' ')} --seconds ${a.seconds}`, machine: machineInfo(), skipped, ...res };
        const where = save(result);
        out(a.json ? JSON.stringify(result, null, 2) : `${formatDenseBench(res)}\n\n${where}`);
        return;
      }
      if (a.what === 'agents') {
        const { benchAgents, formatAgentBench } = await tfjsParts();
        const { available } = await startBackends('agents', a.backends, ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
        const userSteps = a['user-steps'];
        const numEnvs = a['num-envs'];
        if (!Number.isSafeInteger(numEnvs) || numEnvs < 1 || !Number.isSafeInteger(userSteps) || userSteps < numEnvs || userSteps % numEnvs !== 0) {
          throw new UsageError(`bench agents: --user-steps (${userSteps}) must be a positive multiple of --num-envs (${numEnvs})`);
        }
        if (!a.json) process.stderr.write(`bench agents: PPO and SlateQ on retention-v0 and interest-evolution-v0, backends ${available.join(', ')}; a line per row\n`);
        const rows = await benchAgents({ backends: available, steps: userSteps / numEnvs, numEnvs, onRow: a.json ? undefined : (r) => process.stderr.write(`  ${r.agent} on ${r.env} (${r.backend}): ${Math.round(r.stepsPerSecond)} user-steps/s\n`) });
        const result = { command: `egym bench agents --user-steps ${userSteps} --num-envs ${numEnvs}`, machine: machineInfo(), rows };
        const where = save(result);
        out(a.json ? JSON.stringify(result, null, 2) : `${formatAgentBench(rows)}\n\n${where}`);
        return;
      }
      if (!(a.seconds > 0) || !(a.runs >= 1) || !Number.isInteger(a.batch) || a.batch < 1) {
        throw new UsageError('bench: --seconds must be > 0, --runs >= 1 and --batch a positive integer');
      }
      for (const id of a.env ?? []) envSpec(id);
      const envCount = a.env ? a.env.length : listEnvs().length;
      // Each env: a quarter-second warm-up and the measured runs, single user and batched.
      const planned = envCount * 2 * (a.runs + 0.25) * a.seconds;
      if (!a.json) process.stderr.write(`bench envs: ${envCount} envs x 2 modes (single user, batch of ${a.batch}) x ${a.runs} runs of ${a.seconds} s: about ${duration(planned)}; a line per row\n`);
      const rows = benchEnvs({ seconds: a.seconds, runs: a.runs, batch: a.batch, ...(a.env ? { envs: a.env } : {}), onRow: a.json ? undefined : (r) => process.stderr.write(`  ${r.env} ${r.mode}: ${Math.round(r.stepsPerSecond)} steps/s\n`) });
      const result = { command: `egym bench envs --seconds ${a.seconds} --runs ${a.runs} --batch ${a.batch}`, machine: machineInfo(), rows };
      const where = save(result);
      if (a.json) out(JSON.stringify(result, null, 2));
      else out(`${formatBenchTable(rows)}\n\n${where}`);
    },
  );
