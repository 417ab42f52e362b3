/**
 * `egym bench agents`: training throughput (env user-steps per second including learning) of PPO and SlateQ
 * on retention-v0 and interest-evolution-v0, per available backend, with the share of wall time spent in env
 * stepping, inference (act) and learning (observe + update), and the achieved FLOP rate of the learning step
 * next to the backend's measured dense-layer peak. Benchmarks read the clock (this file only).
 */
import { makeAgent } from '../agents/index.js';
import type { Agent, Transitions } from '../agents/api.js';
import { observationOf } from '../agents/loop.js';
import { makeVec } from '../envs/registry.js';
import type { VecObservation } from '../envs/core.js';
import { type BackendName, initBackend, tf } from '../policies/backend.js';

export interface AgentBenchRow {
  agent: string;
  env: string;
  backend: BackendName;
  numEnvs: number;
  userSteps: number;
  stepsPerSecond: number;
  share: { env: number; inference: number; learning: number };
  updateGflops: number;
  peakGflops: number;
}

/** Dense-layer peak of the current backend: [256 x 128] @ [128 x 128] matMuls, GFLOP/s. */
export function denseGflops(): number {
  const a = tf.randomNormal([256, 128], 0, 1, 'float32', 1);
  const b = tf.randomNormal([128, 128], 0, 1, 'float32', 2);
  const once = (reps: number) => {
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < reps; i++) outs.push(tf.matMul(a, b));
    outs[outs.length - 1]!.dataSync();
    for (const o of outs) o.dispose();
  };
  once(10);
  const reps = 100;
  const t0 = performance.now(); // clock-ok
  once(reps);
  const dt = (performance.now() - t0) / 1000; // clock-ok
  a.dispose();
  b.dispose();
  return (reps * 2 * 256 * 128 * 128) / dt / 1e9;
}

interface Flops {
  flops: { inference: number; update: number };
}

/** Steps `agent` with B users of envId for `steps` vector steps, as the benchmark does, timing each part. */
export function runAgent(agent: Agent, envId: string, B: number, steps: number): { dt: number; envT: number; actT: number; learnT: number; userSteps: number } {
  const env = makeVec(envId, {}, { numEnvs: B });
  const r0 = env.reset({ seed: 1 });
  const { U, N, F } = env.layout;
  const active = new Uint8Array(B).fill(1);
  const users = Float64Array.from(r0.userIndex);
  const first = new Uint8Array(B);
  const cur = r0.observation;
  const prev: VecObservation = { user: new Float32Array(B * U), candidates: new Float32Array(B * N * F), itemIds: cur.itemIds ? new Int32Array(B * N) : null };
  const stepped = new Uint8Array(B).fill(1);
  const ctx = agent.context(true);
  let envT = 0;
  let actT = 0;
  let learnT = 0;
  const t0 = performance.now(); // clock-ok
  for (let t = 0; t < steps; t++) {
    const a0 = performance.now(); // clock-ok
    const actions = agent.act(observationOf(env, active, users, first, cur), ctx);
    const a1 = performance.now(); // clock-ok
    prev.user.set(cur.user);
    prev.candidates.set(cur.candidates);
    if (prev.itemIds && cur.itemIds) prev.itemIds.set(cur.itemIds);
    const r = env.step(actions);
    const a2 = performance.now(); // clock-ok
    const tr: Transitions = {
      obs: observationOf(env, active, users, first, prev),
      actions,
      rewards: r.rewards,
      clicked: r.clicked,
      terminated: r.terminated,
      truncated: r.truncated,
      next: observationOf(env, active, r.userIndex, r.final.mask, cur),
      finalMask: r.final.mask,
      finalObservation: r.final.observation,
      stepped,
    };
    agent.feedback?.(r.clicked, stepped, ctx);
    agent.observe?.(tr);
    agent.update?.();
    users.set(r.userIndex);
    const a3 = performance.now(); // clock-ok
    actT += a1 - a0;
    envT += a2 - a1;
    learnT += a3 - a2;
  }
  return { dt: performance.now() - t0, envT, actT, learnT, userSteps: steps * B }; // clock-ok
}

export async function benchAgents(opts: { backends: BackendName[]; steps?: number; numEnvs?: number; onRow?: (r: AgentBenchRow) => void }): Promise<AgentBenchRow[]> {
  const rows: AgentBenchRow[] = [];
  const B = opts.numEnvs ?? 64;
  for (const backend of opts.backends) {
    await initBackend(backend);
    const peak = denseGflops();
    for (const [id, params] of [
      ['ppo', { numSteps: 128, numMinibatches: 4, updateEpochs: 4, backend }],
      ['slateq', { learningStarts: 0, batchSize: 64, gradientSteps: 1, backend }],
    ] as const) {
      for (const envId of ['retention-v0', 'interest-evolution-v0']) {
        const agent = await makeAgent(id, params, { envId, seed: 1 });
        const steps = opts.steps ?? (backend === 'cpu' ? 128 : 512);
        runAgent(agent, envId, B, Math.min(steps, 128)); // warm-up (and one PPO update)
        const f = (agent as unknown as Flops).flops;
        const u0 = f.update;
        const r = runAgent(agent, envId, B, steps);
        const total = r.envT + r.actT + r.learnT;
        rows.push({
          agent: id,
          env: envId,
          backend,
          numEnvs: B,
          userSteps: r.userSteps,
          stepsPerSecond: (r.userSteps / r.dt) * 1000,
          share: { env: r.envT / total, inference: r.actT / total, learning: r.learnT / total },
          updateGflops: (f.update - u0) / (r.learnT / 1000) / 1e9,
          peakGflops: peak,
        });
        opts.onRow?.(rows.at(-1)!);
        (agent as unknown as { dispose(): void }).dispose();
      }
    }
  }
  return rows;
}

export function formatAgentBench(rows: AgentBenchRow[]): string {
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  const lines = ['| agent | env | backend | env steps/s (incl. learning) | time in env / inference / learning | learning GFLOP/s | dense-layer peak GFLOP/s |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(
      `| ${r.agent} | ${r.env} | ${r.backend} | ${Math.round(r.stepsPerSecond).toLocaleString('en-US')} | ${pct(r.share.env)} / ${pct(r.share.inference)} / ${pct(r.share.learning)} | ${r.updateGflops.toFixed(2)} | ${r.peakGflops.toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}
