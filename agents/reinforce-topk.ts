/**
 * REINFORCE with top-K off-policy correction (Chen, Beutel, Covington, Jain, Belletti and Chi, WSDM 2019,
 * "Top-K Off-Policy Correction for a REINFORCE Recommender System").
 *
 * Trained offline from trajectories logged by a behaviour policy (by default the supervised baseline mixed
 * with behaviourEpsilon uniform slates, so every candidate has support). A softmax policy pi(a | s) over the
 * candidates (a SlateScorer) is trained on the logged consumed items a with returns R_t (discounted sum of the
 * logged rewards from step t on, normalized):
 *   loss = - sum_t min(pi(a_t | s_t) / beta(a_t | s_t), c) lambda_K(s_t, a_t) R_t log pi(a_t | s_t),
 *   lambda_K(s, a) = K (1 - pi(a | s))^(K - 1),
 * where the importance weight and lambda_K are held constant in the gradient and c = capWeight [e^3]. The
 * behaviour policy beta is estimated by a separate head (a SlateScorer trained by softmax cross-entropy on the
 * logged slates, its gradient kept apart from pi's, as the paper's beta head is). Online the agent serves the
 * top-K of pi (deterministic) or samples K items without replacement from pi when exploring.
 */
import { reportSetupSteps } from './setup-progress.js';
import type { ReinforceTopKParams } from './reinforce-topk-definition.js';
import { makeVec } from '../envs/registry.js';
import { sampleDistinct, streamFromString } from '../envs/rng.js';
import { tf, type BackendInfo, agentBackend, type BackendChoice } from '../policies/backend.js';
import { Adam, RunningNorm } from '../policies/nn.js';
import { gumbelTopK, topOrdered } from '../policies/plackett-luce.js';
import { SlateScorer } from '../policies/scorer.js';
import { type Agent, type AgentContext, type AgentEnvInfo, type AgentObservation, assertFiniteObservation, BaseAgent, PerUserStreams } from './api.js';
import { observationOf } from './loop.js';

export interface Trajectories {
  n: number;
  user: Float32Array;
  cand: Float32Array;
  slate: Int32Array;
  clicked: Int32Array;
  reward: Float32Array;
  userIndex: Float64Array;
  /** Discounted return from this step to the end of the user's logged episode. */
  ret: Float32Array;
}

/** Log whole user trajectories (all candidates of every step) of a behaviour agent mixed with uniform slates. */
export function logTrajectories(envId: string, envParams: Record<string, unknown> | undefined, behaviour: Agent | null, opts: { users: number; seed: number; epsilon: number; behaviourSeed: number; gamma: number; batch?: number }): Trajectories {
  const batch = Math.min(opts.batch ?? 128, opts.users);
  const rows: { u: Float32Array; c: Float32Array; s: Int32Array; clk: number; r: number; user: number; step: number }[] = [];
  let done = 0;
  while (done < opts.users) {
    const b = Math.min(batch, opts.users - done);
    const env = makeVec(envId, envParams, { numEnvs: b, autoresetMode: 'off' });
    const { U, N, F, K } = env.layout;
    const r0 = env.reset({ seed: opts.seed, options: { firstUser: done } });
    const active = new Uint8Array(b).fill(1);
    const users = Float64Array.from(r0.userIndex);
    const firstStep = new Uint8Array(b).fill(1);
    const view = observationOf(env, active, users, firstStep, r0.observation);
    const rngs = Array.from({ length: b }, (_, s) => streamFromString(`egym|reinforce-log|${opts.behaviourSeed}|${users[s]}`));
    const slates = new Int32Array(b * K);
    const steps = new Int32Array(b);
    const ctx = behaviour?.context(false);
    for (let t = 0; t < 1e7; t++) {
      const greedy = behaviour ? Int32Array.from(behaviour.act(view, ctx!)) : null;
      if (t === 0) firstStep.fill(0);
      for (let s = 0; s < b; s++) {
        if (!active[s]) continue;
        if (!greedy || rngs[s]!() < opts.epsilon) sampleDistinct(rngs[s]!, N, K, slates, s * K);
        else slates.set(greedy.subarray(s * K, (s + 1) * K), s * K);
      }
      const u = Float32Array.from(r0.observation.user);
      const c = Float32Array.from(r0.observation.candidates);
      const was = Uint8Array.from(active);
      const r = env.step(slates);
      let stepped = 0;
      for (let s = 0; s < b; s++) stepped += was[s]!;
      reportSetupSteps(stepped);
      for (let s = 0; s < b; s++) {
        if (!was[s]) continue;
        rows.push({ u: u.slice(s * U, (s + 1) * U), c: c.slice(s * N * F, (s + 1) * N * F), s: slates.slice(s * K, (s + 1) * K), clk: r.clicked[s]!, r: r.rewards[s]!, user: users[s]!, step: steps[s]!++ });
        if (r.final.mask[s]) active[s] = 0;
      }
      if (r.allDone) break;
    }
    done += b;
  }
  const probe = makeVec(envId, envParams, { numEnvs: 1 });
  const { U, N, F, K } = probe.layout;
  rows.sort((a, b) => a.user - b.user || a.step - b.step);
  const n = rows.length;
  const out: Trajectories = {
    n,
    user: new Float32Array(n * U),
    cand: new Float32Array(n * N * F),
    slate: new Int32Array(n * K),
    clicked: new Int32Array(n),
    reward: new Float32Array(n),
    userIndex: new Float64Array(n),
    ret: new Float32Array(n),
  };
  rows.forEach((x, i) => {
    out.user.set(x.u, i * U);
    out.cand.set(x.c, i * N * F);
    out.slate.set(x.s, i * K);
    out.clicked[i] = x.clk;
    out.reward[i] = x.r;
    out.userIndex[i] = x.user;
  });
  for (let i = n - 1; i >= 0; i--) {
    const sameUserNext = i + 1 < n && out.userIndex[i + 1] === out.userIndex[i];
    out.ret[i] = out.reward[i]! + (sameUserNext ? opts.gamma * out.ret[i + 1]! : 0);
  }
  return out;
}

/** The top-K off-policy correction multiplier lambda_K(s, a) = K (1 - pi)^(K - 1). */
export function topKCorrection(pi: number, K: number): number {
  return K * Math.pow(1 - pi, K - 1);
}

export class ReinforceTopKAgent extends BaseAgent<ReinforceTopKParams> {
  readonly id = 'reinforce-topk';
  readonly backend: BackendInfo;
  readonly pi: SlateScorer;
  readonly beta: SlateScorer;
  private readonly optPi: Adam;
  private readonly optBeta: Adam;
  readonly userNorm: RunningNorm;
  readonly candNorm: RunningNorm;
  private readonly evalStreams: PerUserStreams;
  private gWork = new Float64Array(0);
  /** Training diagnostics (mean capped weight, share of capped weights, epochs). */
  report: Record<string, number> = {};

  static async create(p: ReinforceTopKParams, env: AgentEnvInfo, seed: number, makeBehaviour: (id: string, seed: number) => Promise<Agent>): Promise<ReinforceTopKAgent> {
    const backend = await agentBackend(p.backend as BackendChoice);
    const agent = new ReinforceTopKAgent(p, env, seed, backend);
    const b = p.behaviour;
    const behaviour = b === 'random' ? null : await makeBehaviour(b, seed);
    const data = logTrajectories(env.envId, env.params as Record<string, unknown>, behaviour, {
      users: p.logUsers,
      seed: 2_000_000 + seed,
      epsilon: b === 'random' ? 1 : p.behaviourEpsilon,
      behaviourSeed: seed,
      gamma: p.gamma,
    });
    (behaviour as { dispose?: () => void } | null)?.dispose?.();
    agent.fit(data);
    return agent;
  }

  constructor(p: ReinforceTopKParams, env: AgentEnvInfo, seed: number, backend: BackendInfo) {
    super(p, env, seed);
    this.backend = backend;
    const { U, F } = env.layout;
    const H = p.hidden;
    this.pi = new SlateScorer(U, F, H, 0, 0.01, this.rng, 'pi');
    this.beta = new SlateScorer(U, F, H, 0, 0.01, this.rng, 'beta');
    this.optPi = new Adam(this.pi.params.vars, p.lr, 1e-5);
    this.optBeta = new Adam(this.beta.params.vars, p.lr, 1e-5);
    this.userNorm = new RunningNorm(U);
    this.candNorm = new RunningNorm(F);
    this.evalStreams = new PerUserStreams(seed, 'reinforce-eval');
  }

  /** Train beta and pi on logged trajectories (only steps with a consumed item carry a policy gradient). */
  fit(d: Trajectories): void {
    const p = this.params;
    const { U, N, F, K } = this.env.layout;
    this.userNorm.update(d.user, d.n);
    this.candNorm.update(d.cand, d.n * N);
    const u = this.userNorm.apply(d.user, d.n, new Float32Array(d.n * U));
    const c = this.candNorm.apply(d.cand, d.n * N, new Float32Array(d.n * N * F));
    const rows: number[] = [];
    for (let i = 0; i < d.n; i++) if (d.clicked[i]! >= 0) rows.push(i);
    let mr = 0;
    for (const i of rows) mr += d.ret[i]!;
    mr /= Math.max(1, rows.length);
    let vr = 0;
    for (const i of rows) vr += (d.ret[i]! - mr) ** 2;
    const sr = Math.sqrt(vr / Math.max(1, rows.length - 1)) || 1;
    const mb = p.batchSize;
    const cap = p.capWeight;
    const Kc = p.topK;
    let capped = 0;
    let weightSum = 0;
    let count = 0;
    const all = Int32Array.from({ length: d.n }, (_, i) => i);
    const order = Int32Array.from(rows);
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      // Behaviour head: cross-entropy on every logged slate item (all steps).
      this.shuffle(all);
      for (let a = 0; a + mb <= all.length; a += mb) {
        const { ub, cb, target } = this.batch(all, a, mb, u, c, (i) => {
          const t = new Float32Array(N);
          for (let j = 0; j < K; j++) t[d.slate[i * K + j]!] = 1 / K;
          return t;
        });
        const { value, grads } = tf.variableGrads(() => {
          const logits = this.beta.scores(tf.tensor2d(ub, [mb, U]), tf.tensor2d(cb, [mb * N, F]), N);
          return tf.neg(tf.mean(tf.sum(tf.mul(tf.tensor2d(target, [mb, N]), tf.logSoftmax(logits)), 1))) as tf.Scalar;
        }, this.beta.params.vars);
        value.dispose();
        this.optBeta.apply(this.beta.params.vars.map((v) => grads[v.name]!));
        for (const g of Object.values(grads)) g.dispose();
      }
      // Policy: capped, top-K corrected REINFORCE on consumed items.
      this.shuffle(order);
      for (let a = 0; a + mb <= order.length; a += mb) {
        const { ub, cb, target } = this.batch(order, a, mb, u, c, (i) => {
          const t = new Float32Array(N);
          t[d.slate[i * K + d.clicked[i]!]!] = 1;
          return t;
        });
        const ret = new Float32Array(mb);
        for (let k = 0; k < mb; k++) ret[k] = (d.ret[order[a + k]!]! - mr) / sr;
        // Importance weights and lambda_K from the current pi and beta (constants in the gradient).
        const [pPi, pBeta] = tf.tidy(() => {
          const ut = tf.tensor2d(ub, [mb, U]);
          const ct = tf.tensor2d(cb, [mb * N, F]);
          const oh = tf.tensor2d(target, [mb, N]);
          return [tf.sum(tf.mul(oh, tf.softmax(this.pi.scores(ut, ct, N))), 1), tf.sum(tf.mul(oh, tf.softmax(this.beta.scores(ut, ct, N))), 1)];
        });
        const piA = pPi!.dataSync();
        const betaA = pBeta!.dataSync();
        pPi!.dispose();
        pBeta!.dispose();
        const w = new Float32Array(mb);
        for (let k = 0; k < mb; k++) {
          const iw = piA[k]! / Math.max(1e-8, betaA[k]!);
          const ciw = Math.min(iw, cap);
          if (iw > cap) capped++;
          weightSum += ciw;
          count++;
          w[k] = ciw * topKCorrection(piA[k]!, Kc) * ret[k]!;
        }
        const { value, grads } = tf.variableGrads(() => {
          const logits = this.pi.scores(tf.tensor2d(ub, [mb, U]), tf.tensor2d(cb, [mb * N, F]), N);
          const logp = tf.sum(tf.mul(tf.tensor2d(target, [mb, N]), tf.logSoftmax(logits)), 1);
          return tf.neg(tf.mean(tf.mul(tf.tensor1d(w), logp))) as tf.Scalar;
        }, this.pi.params.vars);
        value.dispose();
        this.optPi.apply(this.pi.params.vars.map((v) => grads[v.name]!));
        for (const g of Object.values(grads)) g.dispose();
      }
    }
    this.report = { trajectorySteps: d.n, consumedSteps: rows.length, meanCappedWeight: weightSum / Math.max(1, count), cappedShare: capped / Math.max(1, count), epochs: p.epochs };
  }

  private shuffle(a: Int32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.rng() * (i + 1));
      const x = a[i]!;
      a[i] = a[j]!;
      a[j] = x;
    }
  }

  private batch(rows: Int32Array, a: number, mb: number, u: Float32Array, c: Float32Array, target: (row: number) => Float32Array) {
    const { U, N, F } = this.env.layout;
    const ub = new Float32Array(mb * U);
    const cb = new Float32Array(mb * N * F);
    const t = new Float32Array(mb * N);
    for (let k = 0; k < mb; k++) {
      const i = rows[a + k]!;
      ub.set(u.subarray(i * U, (i + 1) * U), k * U);
      cb.set(c.subarray(i * N * F, (i + 1) * N * F), k * N * F);
      t.set(target(i), k * N);
    }
    return { ub, cb, target: t };
  }

  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    assertFiniteObservation(this.id, obs, obs.B, obs.active);
    const B = obs.B;
    const out = this.out(B);
    const { U, N, F, K } = this.env.layout;
    if (this.gWork.length !== N) this.gWork = new Float64Array(N);
    const u = this.userNorm.apply(obs.user, B, new Float32Array(B * U));
    const c = this.candNorm.apply(obs.candidates, B * N, new Float32Array(B * N * F));
    const lt = tf.tidy(() => this.pi.scores(tf.tensor2d(u, [B, U]), tf.tensor2d(c, [B * N, F]), N));
    const logits = lt.dataSync();
    lt.dispose();
    for (let s = 0; s < B; s++) {
      if (!obs.active[s]) continue;
      if (ctx.explore || ctx.training) {
        const rng = ctx.training ? ctx.rng : this.evalStreams.get(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
        gumbelTopK(logits, s * N, N, K, rng, out, s * K, this.gWork);
      } else {
        for (let i = 0; i < N; i++) this.gWork[i] = logits[s * N + i]!;
        topOrdered(this.gWork, N, K, out, s * K);
      }
    }
    return out;
  }

  protected override getState(): unknown {
    return {
      pi: this.pi.params.getWeights(),
      beta: this.beta.params.getWeights(),
      optPi: this.optPi.state(),
      optBeta: this.optBeta.state(),
      userNorm: this.userNorm.state(),
      candNorm: this.candNorm.state(),
      report: this.report,
      evalStreams: this.evalStreams.state(),
    };
  }

  protected override setState(x: unknown): void {
    const st = x as Record<string, unknown>;
    this.pi.params.setWeights(st.pi as number[][]);
    this.beta.params.setWeights(st.beta as number[][]);
    this.optPi.load(st.optPi as ReturnType<Adam['state']>);
    this.optBeta.load(st.optBeta as ReturnType<Adam['state']>);
    this.userNorm.load(st.userNorm as ReturnType<RunningNorm['state']>);
    this.candNorm.load(st.candNorm as ReturnType<RunningNorm['state']>);
    this.report = st.report as Record<string, number>;
    this.evalStreams.load(st.evalStreams as ReturnType<PerUserStreams['state']>);
  }

  dispose(): void {
    this.pi.params.dispose();
    this.beta.params.dispose();
    this.optPi.dispose();
    this.optBeta.dispose();
  }
}
