/**
 * Does the wasm backend's threaded SIMD build make PPO's learning step faster in Node? (issue 9, item 4)
 *
 * `npx tsx experiments/probe-wasm-threads.ts [--reps 5] [--out results/bench/wasm-threads.json]`
 *
 * tfjs-backend-wasm 4.22 never starts its threaded build in Node: its `WASM_HAS_MULTITHREAD_SUPPORT` flag is
 * hard-coded false there (tfjs issue 3830), and forcing the flag fails, because the bundled loader hands Emscripten
 * a Blob URL for the pthread worker script, which Node's `worker_threads` cannot start. The package also ships the
 * unbundled Emscripten output (`wasm-out/tfjs-backend-wasm-threaded-simd.js`, with the worker script as a string
 * export), and that one does start in Node when this probe (not the library) does three things:
 *  1. it starts the pthread workers from that string (`new Worker(source, { eval: true })`), by answering
 *     Emscripten's `new Worker(path)` with a `worker_threads.Worker` subclass;
 *  2. it makes `os.cpus()` report twice the cores while the module starts: the backend caps XNNPACK's thread
 *     pool at half the logical cores (it assumes two hardware threads per core), so on a 2-core machine it would
 *     make a pool of 1 thread whatever `setThreadsCount` asks;
 *  3. it waits a second after the backend starts before the first kernel: a kernel run at once never returned
 *     (the pool's thread had not started, and the main thread blocked waiting for it).
 * The backend object is the package's own `BackendWasm`, registered as `wasm`, so every wasm kernel is the
 * package's.
 *
 * Each configuration (the default SIMD build; the threaded build with 1 and with 2 threads) runs in a fresh child
 * process, alternated over `--reps` repetitions, and times the operations that make up most of PPO's update on
 * retention-v0 (a minibatch of 2,048 user-steps x 20 candidates = 40,960 candidate rows, hidden 64), with the
 * library's own layer code (`policies/backend.ts`): the forward product x W, the weight-gradient product (x^T) dy
 * (`weightGrad`), and a training step (forward and backward) of a 13 -> 64 -> 64 -> 1 network of `dense` layers on
 * those rows. It also hashes every output, to show whether the thread count changes any bit.
 * Since bf4d7d5, `weightGrad` runs policies/kernels.wat on the default build's memory and the backend's MatMul on
 * the threaded build's (a shared memory that module does not import), so the weight-gradient column of a new run
 * compares two different products; results/bench/wasm-threads.json was measured before, with MatMul on both.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker as NodeWorker } from 'node:worker_threads';
import { median } from 'simple-statistics';
import { BackendUnavailable } from '../envs/errors.js';
import { dense, weightGrad as denseWeightGrad } from '../policies/backend.js';
import { machineInfo, writeJsonAtomic } from './bench-envs.js';

const require = createRequire(import.meta.url);
const ROWS = 40960;
const HIDDEN = 64;
const FEATURES = 13;

type Config = { build: 'simd' | 'threaded-simd'; threads: number };
const CONFIGS: Config[] = [
  { build: 'simd', threads: 1 },
  { build: 'threaded-simd', threads: 1 },
  { build: 'threaded-simd', threads: 2 },
];

interface ChildResult {
  build: string;
  threadsAsked: number;
  threadsInUse: number;
  msPerOp: { forward: number; weightGrad: number; trainStep: number };
  hashes: { forward: string; weightGrad: string; trainStep: string };
}

async function startThreaded(threads: number): Promise<void> {
  const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as {
    BackendWasm: new (m: unknown) => tf.KernelBackend;
    setThreadsCount(n: number): void;
  };
  const dir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
  const factory = require(join(dir, 'tfjs-backend-wasm-threaded-simd.js')) as (cfg: object) => Promise<Record<string, any>>;
  const source = (require(join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string }).wasmWorkerContents
    // the package stores the script in a template literal, so its "\n" escapes became newlines (its own loader
    // puts them back the same way)
    .replace(/\n/g, '\\n');
  const WORKER = 'egym:wasm-pthread-worker';
  class PthreadWorker extends NodeWorker {
    constructor(file: string, options?: object) {
      super(file === WORKER ? source : file, file === WORKER ? { eval: true } : options);
    }
  }
  // Emscripten assigns global.Worker = worker_threads.Worker while it starts; keep ours.
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => PthreadWorker, set: () => undefined });
  const realCpus = os.cpus;
  os.cpus = () => {
    const c = realCpus();
    return [...c, ...c];
  };
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', async () => {
    const mod = await factory({
      locateFile: (p: string) => (p.endsWith('.worker.js') ? WORKER : join(dir, p)),
      mainScriptUrlOrBlob: join(dir, 'tfjs-backend-wasm-threaded-simd.js'),
    });
    mod.tfjs = {
      init: mod.cwrap('init', null, []),
      initWithThreadsCount: mod.cwrap('init_with_threads_count', null, ['number']),
      getThreadsCount: mod.cwrap('get_threads_count', 'number', []),
      registerTensor: mod.cwrap('register_tensor', null, ['number', 'number', 'number']),
      disposeData: mod.cwrap('dispose_data', null, ['number']),
      dispose: mod.cwrap('dispose', null, []),
    };
    wasmPkg.setThreadsCount(threads);
    return new wasmPkg.BackendWasm(mod);
  }, 2);
  if (!(await tf.setBackend('wasm'))) throw new BackendUnavailable('the threaded wasm backend did not start');
  os.cpus = realCpus;
  await new Promise((r) => setTimeout(r, 1000));
}

function hash(t: tf.Tensor): string {
  const v = t.dataSync() as Float32Array;
  return createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex').slice(0, 16);
}

function timeOp(iters: number, f: () => tf.Tensor): { ms: number; hash: string } {
  const warm = f();
  const h = hash(warm);
  warm.dispose();
  const t0 = performance.now(); // clock-ok
  for (let i = 0; i < iters; i++) {
    const y = f();
    y.dataSync();
    y.dispose();
  }
  return { ms: (performance.now() - t0) / iters, hash: h }; // clock-ok
}

async function child(cfg: Config): Promise<ChildResult> {
  if (cfg.build === 'simd') {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new BackendUnavailable('wasm did not start');
  } else {
    await startThreaded(cfg.threads);
  }
  const wasmPkg = require('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number };
  const x = tf.randomNormal([ROWS, HIDDEN], 0, 1, 'float32', 1) as tf.Tensor2D;
  const w = tf.randomNormal([HIDDEN, HIDDEN], 0, 0.1, 'float32', 2);
  const dy = tf.randomNormal([ROWS, HIDDEN], 0, 1, 'float32', 3) as tf.Tensor2D;
  const feats = tf.randomNormal([ROWS, FEATURES], 0, 1, 'float32', 4) as tf.Tensor2D;
  const layers = [
    [FEATURES, HIDDEN],
    [HIDDEN, HIDDEN],
    [HIDDEN, 1],
  ].map(([i, o], k) => [tf.variable(tf.randomNormal([i, o], 0, 0.3, 'float32', 5 + k)), tf.variable(tf.zeros([o]))]);
  const forward = timeOp(20, () => tf.matMul(x, w));
  const weightGrad = timeOp(20, () => denseWeightGrad(x, dy));
  const trainStep = timeOp(10, () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        let h: tf.Tensor2D = feats;
        layers.forEach(([W, b], k) => {
          h = dense(h, W, b);
          if (k < layers.length - 1) h = tf.relu(h) as tf.Tensor2D;
        });
        return tf.mean(tf.square(h)) as tf.Scalar;
      });
      return tf.concat(Object.values(grads).map((g) => g.flatten()));
    }),
  );
  return {
    build: cfg.build,
    threadsAsked: cfg.threads,
    threadsInUse: wasmPkg.getThreadsCount(),
    msPerOp: { forward: forward.ms, weightGrad: weightGrad.ms, trainStep: trainStep.ms },
    hashes: { forward: forward.hash, weightGrad: weightGrad.hash, trainStep: trainStep.hash },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--child');
  if (at >= 0) {
    const [build, threads] = args.slice(at + 1, at + 3);
    const r = await child({ build: build as Config['build'], threads: Number(threads) });
    process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
    process.exit(0); // the pthread workers would keep the process alive
  }
  const reps = Number(args[args.indexOf('--reps') + 1] ?? 5) || 5;
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : 'results/bench/wasm-threads.json';
  const self = fileURLToPath(import.meta.url);
  const runs: ChildResult[][] = CONFIGS.map(() => []);
  for (let r = 0; r < reps; r++) {
    CONFIGS.forEach((cfg, i) => {
      const p = spawnSync(process.execPath, [...process.execArgv, self, '--child', cfg.build, String(cfg.threads)], {
        encoding: 'utf8',
        timeout: 120_000,
      });
      const line = p.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) throw new BackendUnavailable(`probe-wasm-threads: the child for ${cfg.build} with ${cfg.threads} thread(s) failed (status ${p.status}): ${p.stderr.slice(-2000)}`);
      const res = JSON.parse(line.slice(7)) as ChildResult;
      runs[i].push(res);
      console.log(
        `rep ${r + 1} ${cfg.build} threads ${cfg.threads} (in use ${res.threadsInUse}): forward ${res.msPerOp.forward.toFixed(1)} ms, ` +
          `weight grad ${res.msPerOp.weightGrad.toFixed(1)} ms, train step ${res.msPerOp.trainStep.toFixed(1)} ms`,
      );
    });
  }
  const rows = CONFIGS.map((cfg, i) => {
    const rs = runs[i];
    const med = (k: keyof ChildResult['msPerOp']) => median(rs.map((x) => x.msPerOp[k]));
    return {
      build: cfg.build,
      threadsAsked: cfg.threads,
      threadsInUse: rs[0].threadsInUse,
      medianMs: { forward: med('forward'), weightGrad: med('weightGrad'), trainStep: med('trainStep') },
      runsMs: rs.map((x) => x.msPerOp),
      hashes: rs[0].hashes,
      hashesStable: rs.every((x) => JSON.stringify(x.hashes) === JSON.stringify(rs[0].hashes)),
    };
  });
  const sameBits = rows.every((r) => JSON.stringify(r.hashes) === JSON.stringify(rows[0].hashes));
  const result = {
    command: 'npx tsx experiments/probe-wasm-threads.ts' + (reps !== 5 ? ` --reps ${reps}` : ''),
    machine: machineInfo(),
    tfjs: tf.version.tfjs,
    shapes: { rows: ROWS, hidden: HIDDEN, features: FEATURES },
    reps,
    rows,
    sameBitsAcrossConfigs: sameBits,
  };
  writeJsonAtomic(out, result);
  for (const r of rows) {
    console.log(
      `${r.build} threads ${r.threadsAsked} (in use ${r.threadsInUse}): forward ${r.medianMs.forward.toFixed(1)} ms, ` +
        `weight grad ${r.medianMs.weightGrad.toFixed(1)} ms, train step ${r.medianMs.trainStep.toFixed(1)} ms`,
    );
  }
  console.log(`same bits across configurations: ${sameBits}; wrote ${out}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
