/**
 * What PPO's update on retention-v0 spends its time on, and what policies/kernels.wat and the Plackett-Luce
 * log-softmax's gradient change (issue 9, item 4).
 *
 * `npx tsx experiments/probe-ppo-kernels.ts [--reps 20] [--out results/bench/ppo-kernels-probe.json]` (wasm; about a
 * minute) measures, on the shapes of one minibatch (2,048 user-steps x 20 candidates = 40,960 candidate rows,
 * 13 candidate features, hidden 64):
 *  - the two weight-gradient products, (x^T) dy [40960, 13] x [40960, 64] and dy^T h [40960, 1] x [40960, 64], by
 *    the library's `weightGrad` (the kernel) and by the backend's MatMul as the library called it before (a
 *    transpose and matMul, or a reshape and matMul), each on fresh operands (copies made outside the clock, as
 *    every minibatch's are) and on reused ones (XNNPACK keeps the packed operand of a tensor it has seen);
 *  - the max's mask in the log-softmax's gradient on [2048, 5, 20]: the broadcast Equal of z against its max (what
 *    the Max kernel's gradient runs) and the Equal of z - max against 0 (what `logSoftmaxLast` runs);
 *  - how many of the 64 outputs of dy^T h a JS recount matches, adding the products in order with each product
 *    rounded to float32 (unfused) and without (fused): which order and rounding the backend uses;
 *  - a `tf.profile` of one PPO update (numSteps 128, 4 epochs x 4 minibatches, 64 users, seed 1): kernel
 *    milliseconds by kernel (the profiler reads every output back, so big outputs count a copy too), and how many
 *    tensors (and megabytes) the engine cloned in it, which the wasm backend's own Identity kernel copied.
 * Medians over --reps, in milliseconds.
 */
import { median } from 'simple-statistics';
import { makeAgent } from '../agents/index.js';
import { initBackend, tf, transpose2d, weightGrad } from '../policies/backend.js';
import { runAgent } from './bench-agents.js';
import { machineInfo, writeJsonAtomic } from './bench-envs.js';
import { scriptArg, scriptCount } from './script-args.js';

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6; // clock-ok

/** Median ms of f over reps, after 2 warm-ups; prepare() makes the operands outside the clock. */
function timeIt(reps: number, prepare: () => tf.Tensor[], f: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor): number {
  const times: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    tf.tidy(() => {
      const xs = prepare();
      const t0 = process.hrtime.bigint(); // clock-ok
      f(xs[0] as tf.Tensor2D, xs[1] as tf.Tensor2D);
      if (r >= 2) times.push(ms(t0));
    });
  }
  return median(times);
}

const reps = scriptCount('reps', 20);
const out = scriptArg('out', 'results/bench/ppo-kernels-probe.json');
await initBackend('wasm');
const R = 40960;
const x = tf.randomNormal([R, 13], 0, 1, 'float32', 1) as tf.Tensor2D;
const h = tf.randomNormal([R, 64], 0, 1, 'float32', 2) as tf.Tensor2D;
const dy = tf.randomNormal([R, 64], 0, 1, 'float32', 3) as tf.Tensor2D;
const d1 = tf.randomNormal([R, 1], 0, 1, 'float32', 4) as tf.Tensor2D;
const fresh = (...ts: tf.Tensor2D[]) => () => ts.map((t) => tf.add(t, 0) as tf.Tensor2D);
const reused = (...ts: tf.Tensor2D[]) => () => ts;
const oldProduct = (a: tf.Tensor2D, b: tf.Tensor2D) => (b.shape[1] === 1 ? tf.matMul(tf.reshape(b, [1, R]), a) : tf.matMul(transpose2d(a), b));
const products = {
  'xT_dy [40960,13]x[40960,64]': {
    kernelFresh: timeIt(reps, fresh(x, dy), weightGrad),
    matMulFresh: timeIt(reps, fresh(x, dy), oldProduct),
    kernelReused: timeIt(reps, reused(x, dy), weightGrad),
    matMulReused: timeIt(reps, reused(x, dy), oldProduct),
  },
  'dyT_h [40960,1]x[40960,64]': {
    kernelFresh: timeIt(reps, fresh(h, d1), weightGrad),
    matMulFresh: timeIt(reps, fresh(h, d1), oldProduct),
    kernelReused: timeIt(reps, reused(h, d1), weightGrad),
    matMulReused: timeIt(reps, reused(h, d1), oldProduct),
  },
};
const z = tf.randomNormal([2048, 5, 20], 0, 1, 'float32', 5) as tf.Tensor3D;
const zMax = tf.max(z, 2, true);
const zA = tf.sub(z, zMax);
const mask = {
  broadcastEqual: timeIt(reps, () => [z, zMax], (a, b) => tf.equal(a, b)),
  equalToZero: timeIt(reps, () => [zA], (a) => tf.equal(a, 0)),
};
// Which order and rounding does the backend's product use? Recount dy^T h in JS.
const want = tf.matMul(tf.reshape(d1, [1, R]), h).dataSync();
const hv = h.dataSync();
const dv = d1.dataSync();
const unfused = new Float32Array(64);
const fused = new Float32Array(64);
for (let k = 0; k < R; k++) {
  for (let j = 0; j < 64; j++) {
    unfused[j] = unfused[j]! + Math.fround(dv[k]! * hv[k * 64 + j]!);
    fused[j] = fused[j]! + dv[k]! * hv[k * 64 + j]!;
  }
}
const mismatches = { unfusedInOrder: unfused.filter((v, j) => v !== want[j]).length, fusedInOrder: fused.filter((v, j) => v !== want[j]).length, of: 64 };
// One PPO update under the profiler.
const agent = await makeAgent('ppo', { numSteps: 128, numMinibatches: 4, updateEpochs: 4, backend: 'wasm' }, { envId: 'retention-v0', seed: 1 });
runAgent(agent, 'retention-v0', 64, 128);
// What the engine clones (Identity) in that update: every tensor it saves for the backward pass. The wasm
// backend's own Identity copied them; policies/backend.ts makes it share the data instead.
const identity = tf.getKernel('Identity', 'wasm')!;
const sharing = identity.kernelFunc;
let clonedBytes = 0;
let clones = 0;
(identity as { kernelFunc: typeof sharing }).kernelFunc = (a) => {
  const x = a.inputs.x as unknown as { shape: number[]; dtype: string };
  if (x.dtype !== 'string') clonedBytes += 4 * x.shape.reduce((p, q) => p * q, 1);
  clones++;
  return sharing(a);
};
const prof = await tf.profile(() => void runAgent(agent, 'retention-v0', 64, 128));
(identity as { kernelFunc: typeof sharing }).kernelFunc = sharing;
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of prof.kernels) {
  if (k.name === 'unnamed scope') continue; // custom gradients: their time is their kernels' time, counted there
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += k.kernelTimeMs as number;
  e.calls++;
  byKernel.set(k.name, e);
}
const kernels = [...byKernel].sort((a, b) => b[1].ms - a[1].ms).map(([name, v]) => ({ name, ms: Math.round(v.ms * 10) / 10, calls: v.calls }));
const result = {
  command: `npx tsx experiments/probe-ppo-kernels.ts --reps ${reps}`,
  machine: machineInfo(),
  products,
  mask,
  mismatches,
  clones: { calls: clones, megabytes: Math.round(clonedBytes / 1e6) },
  profile: { totalKernelMs: Math.round(kernels.reduce((s, k) => s + k.ms, 0)), kernels: kernels.slice(0, 15) },
};
console.log(JSON.stringify(result, null, 1));
writeJsonAtomic(out, result);
(agent as unknown as { dispose(): void }).dispose();
