/**
 * What the JS Adam (policies/nn.ts) and the JS Exp (policies/expf.ts) save in PPO's learning step on retention-v0,
 * against what they replaced (issue 9, item 4), in one process, the two alternated in every repetition:
 *  - Adam: 64 minibatch steps (4 PPO updates of 16) on PPO's own parameter shapes (actor and critic, 12,354
 *    values), clipped to a global norm of 0.5: `Adam.applyClipped` against the same update as TensorFlow.js
 *    operations (experiments/tensor-adam.ts, what Adam.apply ran before; test/policies/slates-and-networks.test.ts holds
 *    the two equal to the bit), on the same gradients;
 *  - Exp on a [2048, 5, 20] float32 tensor (a minibatch's Plackett-Luce arrays, two such Exps per minibatch): the
 *    registered kernel (expf.ts) against the backend's own (`runOwnWasmKernel`), on fresh inputs.
 *
 * `npx tsx experiments/probe-adam-exp.ts [--reps 15] [--out results/bench/adam-exp-probe.json]` (wasm; about 30 s).
 * Medians over --reps, in milliseconds.
 */
import { median } from 'simple-statistics';
import { makeAgent } from '../agents/index.js';
import { initBackend, runOwnWasmKernel, tf } from '../policies/backend.js';
import { Adam } from '../policies/nn.js';
import { machineInfo, writeJsonAtomic } from './bench-envs.js';
import { scriptArg, scriptCount } from './script-args.js';
import { TensorAdam } from './tensor-adam.js';

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6; // clock-ok

const reps = scriptCount('reps', 15);
const out = scriptArg('out', 'results/bench/adam-exp-probe.json');
await initBackend('wasm');
const agent = (await makeAgent('ppo', { numSteps: 128, numMinibatches: 4, updateEpochs: 4, backend: 'wasm' }, { envId: 'retention-v0', seed: 1 })) as unknown as { opt: { vars: tf.Variable[] }; dispose(): void };
const shapes = agent.opt.vars.map((v) => v.shape);
const vars = (k: number) => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 0.1, 'float32', 1000 * k + i)));
const ours = new Adam(vars(1), 2.5e-4, 1e-5);
const reference = new TensorAdam(vars(2), 2.5e-4, 1e-5);
const grads = (r: number) => shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 100 * r + i));
const adam: { js: number[]; tensorOps: number[] } = { js: [], tensorOps: [] };
const exp: { js: number[]; backend: number[] } = { js: [], backend: [] };
for (let rep = 0; rep < reps + 2; rep++) {
  for (const which of ['js', 'tensorOps'] as const) {
    const gs = Array.from({ length: 64 }, (_, r) => grads(r));
    const t0 = process.hrtime.bigint(); // clock-ok
    for (const g of gs) (which === 'js' ? ours : reference).applyClipped(g, 0.5);
    if (rep >= 2) adam[which].push(ms(t0));
  }
  for (const which of ['js', 'backend'] as const) {
    const z = tf.randomNormal([2048, 5, 20], -3, 3, 'float32', rep);
    const t0 = process.hrtime.bigint(); // clock-ok
    const y = which === 'js' ? tf.exp(z) : runOwnWasmKernel('Exp', z);
    if (rep >= 2) exp[which].push(ms(t0));
    tf.dispose([z, y]);
  }
}
const r1 = (x: number) => Math.round(x * 100) / 100;
const result = {
  command: `npx tsx experiments/probe-adam-exp.ts --reps ${reps}`,
  machine: machineInfo(),
  parameters: shapes.reduce((a, s) => a + s.reduce((p, q) => p * q, 1), 0),
  adam64Steps: { js: r1(median(adam.js)), tensorOps: r1(median(adam.tensorOps)) },
  exp2048x5x20: { js: r1(median(exp.js)), backend: r1(median(exp.backend)) },
};
console.log(JSON.stringify(result, null, 1));
writeJsonAtomic(out, result);
agent.dispose();
