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
 *
 * `mode: "online"`: the logging policy is the agent itself, as in the paper's production setting, where the logs
 * come from earlier versions of the recommender. In training it samples its slates from pi (Gumbel top-K) and
 * keeps each user's trajectory; when the user's episode ends, the trajectory's returns are computed (discounted
 * by gamma per step and, with `dayDiscount` < 1, by dayDiscount per calendar day elapsed, as PPO's and SlateQ's)
 * and its steps with a consumed item join the next update. Every `updateSteps` user-steps of finished
 * trajectories, `epochs` passes of the same corrected loss train pi, with beta(a | s) the softmax probability pi
 * gave a when the slate was sampled: the logging policy is known exactly, so no beta head is trained, and the
 * capped weight corrects for pi having moved since (updates lag the sampling by up to a user's lifetime).
 * With `itemFeedback` (catalogue envs) every candidate row also carries the item's smoothed click rate, reward per
 * click, log(1 + shows) and, where candidates have a length, reward per click per unit of length, counted from the
 * agent's own training steps and frozen in evaluation (policies/item-feedback.ts), as for PPO and SlateQ.
 * With `wide` pi's scores add a linear term in the candidate features (policies/scorer.ts; Cheng et al. 2016), over
 * the item-statistic columns only with `wideColumns: itemFeedback`, trained by Adam at lr x `wideLrScale`, as PPO's.
 */
import { reportSetupSteps } from './setup-progress.js';
import type { ReinforceTopKParams } from './reinforce-topk-definition.js';
import { makeVec } from '../envs/registry.js';
import { sampleDistinct, streamFromString } from '../envs/rng.js';
import { tf, type BackendInfo, agentBackend, type BackendChoice } from '../policies/backend.js';
import { Adam, RunningNorm } from '../policies/nn.js';
import { gumbelTopK, topOrdered } from '../policies/plackett-luce.js';
import { SlateScorer, ValueNet } from '../policies/scorer.js';
import { type Agent, type AgentContext, type AgentEnvInfo, type AgentObservation, assertFiniteObservation, assertFiniteTransitions, BaseAgent, itemFeedbackFor, PerUserStreams, type Transitions } from './api.js';
import { observationOf } from './loop.js';
import { dayFeatureOffset, stepDiscount } from './gae.js';
import { candidateRows, type ItemFeedback, type ItemFeedbackState } from '../policies/item-feedback.js';
import { InvalidArgument } from '../envs/errors.js';

/** Online mode: one slot's user trajectory so far (every step's reward and day; the consumed steps' rows). */
interface SlotTrajectory {
  reward: number[];
  day: number[];
  /** Per step: the index of its consumed row in `user`/`cand`/`item`/`beta`, or -1 (no click). */
  row: number[];
  user: Float32Array[];
  cand: Float32Array[];
  item: number[];
  beta: number[];
}

/** Online mode: the consumed steps of finished trajectories, waiting for the next update. */
interface Finished {
  user: Float32Array[];
  cand: Float32Array[];
  item: number[];
  beta: number[];
  ret: number[];
  /** User-steps of the finished trajectories (the update trigger). */
  steps: number;
  trajectories: number;
}

type PackedTrajectory = { reward: Float64Array; day: Float64Array; row: Int32Array; user: Float32Array; cand: Float32Array; item: Int32Array; beta: Float64Array };
type PackedFinished = { user: Float32Array; cand: Float32Array; item: Int32Array; beta: Float64Array; ret: Float64Array; steps: number; trajectories: number };

/** Rows of one width as one array (checkpoints), and back. */
function packRows(rows: Float32Array[]): Float32Array {
  const out = new Float32Array(rows.reduce((a, r) => a + r.length, 0));
  let o = 0;
  for (const r of rows) {
    out.set(r, o);
    o += r.length;
  }
  return out;
}
function unpackRows(x: Float32Array, width: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let o = 0; o + width <= x.length; o += width) rows.push(x.slice(o, o + width));
  return rows;
}

const emptySlot = (): SlotTrajectory => ({ reward: [], day: [], row: [], user: [], cand: [], item: [], beta: [] });
const emptyFinished = (): Finished => ({ user: [], cand: [], item: [], beta: [], ret: [], steps: 0, trajectories: 0 });

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

/** Counts of the importance weights seen (for the diagnostics): capped ones, their capped sum, all. */
interface WeightTally {
  capped: number;
  sum: number;
  count: number;
}

/**
 * The per-row weights of the corrected loss into w: min(pi / beta, cap) x lambda_K(pi) x the row's normalized
 * return, with pi and beta the probabilities of each row's consumed item; the tally counts the weights.
 */
function correctedWeights(piA: ArrayLike<number>, betaA: ArrayLike<number>, ret: ArrayLike<number>, cap: number, K: number, w: Float32Array, tally: WeightTally): void {
  for (let k = 0; k < w.length; k++) {
    const iw = piA[k]! / Math.max(1e-8, betaA[k]!);
    const ciw = Math.min(iw, cap);
    if (iw > cap) tally.capped++;
    tally.sum += ciw;
    tally.count++;
    w[k] = ciw * topKCorrection(piA[k]!, K) * ret[k]!;
  }
}

/** Mean and sample standard deviation (1 where it is 0) of the returns the loss normalizes. */
function returnScale(ret: ArrayLike<number>, rows: ArrayLike<number>): { mean: number; std: number } {
  let m = 0;
  for (let j = 0; j < rows.length; j++) m += ret[rows[j]!]!;
  m /= Math.max(1, rows.length);
  let v = 0;
  for (let j = 0; j < rows.length; j++) v += (ret[rows[j]!]! - m) ** 2;
  return { mean: m, std: Math.sqrt(v / Math.max(1, rows.length - 1)) || 1 };
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
  /** Per-item feedback statistics (online with itemFeedback), learned in training. */
  private readonly items: ItemFeedback | null;
  /** Width of the candidate rows pi sees (F, plus the item columns). */
  private readonly Fa: number;
  /** Offset of the raw `day` user feature (dayDiscount < 1), else -1. */
  private readonly dayOffset: number;
  /** Online: each training slot's trajectory so far, and the finished ones waiting for the next update. */
  private slots: SlotTrajectory[] = [];
  private finished: Finished = emptyFinished();
  /** Online: the raw rows and the slate items' sampling probabilities of the last training act (observe reads them). */
  private actUser = new Float32Array(0);
  private actCand = new Float32Array(0);
  private actProb = new Float64Array(0);
  private updates = 0;
  /** Online with baseline "value": the state value of the normalized return, and its optimizer. */
  private readonly value: ValueNet | null;
  private readonly optValue: Adam | null;
  /** Online mode only: learn from the agent's own trajectories (absent offline, so the runner does not train it). */
  observe?: (t: Transitions) => void;
  update?: () => Record<string, number> | void;

  static async create(p: ReinforceTopKParams, env: AgentEnvInfo, seed: number, makeBehaviour: (id: string, seed: number) => Promise<Agent>): Promise<ReinforceTopKAgent> {
    const backend = await agentBackend(p.backend as BackendChoice);
    const agent = new ReinforceTopKAgent(p, env, seed, backend);
    if (p.mode === 'online') return agent;
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
    const online = p.mode === 'online';
    this.items = online ? itemFeedbackFor(this.id, env, p.itemFeedback) : null;
    this.Fa = F + (this.items ? this.items.extra : 0);
    this.dayOffset = dayFeatureOffset(this.id, env, p.dayDiscount);
    this.pi = new SlateScorer(U, this.Fa, H, 0, 0.01, this.rng, 'pi', p.wide, p.wideColumns === 'itemFeedback' ? F : 0);
    this.beta = new SlateScorer(U, F, H, 0, 0.01, this.rng, 'beta');
    const wideVar = this.pi.wideWeights;
    this.optPi = new Adam(this.pi.params.vars, p.lr, 1e-5, 0.9, 0.999, p.wideLrScale === 1 ? undefined : this.pi.params.vars.map((v) => (v === wideVar ? p.wideLrScale : 1)));
    this.optBeta = new Adam(this.beta.params.vars, p.lr, 1e-5);
    this.userNorm = new RunningNorm(U);
    this.candNorm = new RunningNorm(this.Fa);
    this.evalStreams = new PerUserStreams(seed, 'reinforce-eval');
    this.value = online && p.baseline === 'value' ? new ValueNet(U, this.Fa, H, this.rng, 'value') : null;
    this.optValue = this.value ? new Adam(this.value.params.vars, p.lr, 1e-5) : null;
    if (online) {
      this.observe = (t) => this.observeOnline(t);
      this.update = () => this.updateOnline();
    }
  }

  /** Online: each stepped slot's step joins its trajectory; a finished user's trajectory gets its returns. */
  private observeOnline(t: Transitions): void {
    assertFiniteTransitions(this.id, t);
    const B = t.obs.B;
    const { U, N, K } = this.env.layout;
    const F = this.Fa;
    if (this.actProb.length < B * K) throw new InvalidArgument('reinforce-topk: observe before any training act');
    if (this.items) this.items.record(t.obs, N, t.actions, K, t.clicked, t.rewards, t.stepped, B);
    const g = this.params.gamma;
    const dd = this.params.dayDiscount;
    for (let s = 0; s < B; s++) {
      if (!t.stepped[s]) continue;
      const tr = this.slots[s]!;
      const pos = t.clicked[s]!;
      tr.reward.push(t.rewards[s]!);
      tr.day.push(this.dayOffset >= 0 ? t.obs.user[s * U + this.dayOffset]! : 0);
      if (pos >= 0) {
        tr.row.push(tr.item.length);
        tr.user.push(this.actUser.slice(s * U, (s + 1) * U));
        tr.cand.push(this.actCand.slice(s * N * F, (s + 1) * N * F));
        tr.item.push(t.actions[s * K + pos]!);
        tr.beta.push(this.actProb[s * K + pos]!);
      } else tr.row.push(-1);
      if (!t.finalMask[s]) continue;
      // The user's episode ended: returns from the end back, each step discounted by the days to the next.
      const f = this.finished;
      let ret = 0;
      const rets = new Float64Array(tr.reward.length);
      for (let i = tr.reward.length - 1; i >= 0; i--) {
        ret = tr.reward[i]! + (i + 1 < tr.reward.length ? stepDiscount(g, dd, tr.day[i]!, tr.day[i + 1]!) * ret : 0);
        rets[i] = ret;
      }
      for (let i = 0; i < tr.row.length; i++) {
        const r = tr.row[i]!;
        if (r < 0) continue;
        f.user.push(tr.user[r]!);
        f.cand.push(tr.cand[r]!);
        f.item.push(tr.item[r]!);
        f.beta.push(tr.beta[r]!);
        f.ret.push(rets[i]!);
      }
      f.steps += tr.reward.length;
      f.trajectories++;
      this.slots[s] = emptySlot();
    }
  }

  /** Online: every updateSteps user-steps of finished trajectories, epochs passes of the corrected loss on them. */
  private updateOnline(): Record<string, number> | void {
    const f = this.finished;
    if (f.steps < this.params.updateSteps) return;
    this.finished = emptyFinished();
    this.updates++;
    const p = this.params;
    const { U, N } = this.env.layout;
    const F = this.Fa;
    const n = f.ret.length;
    const metrics: Record<string, number> = { iteration: this.updates, trajectories: f.trajectories, user_steps: f.steps, consumed_steps: n };
    if (n === 0) return metrics;
    const order = Int32Array.from({ length: n }, (_, i) => i);
    const { mean: mr, std: sr } = returnScale(f.ret, order);
    const mb = Math.min(p.batchSize, n);
    const tally: WeightTally = { capped: 0, sum: 0, count: 0 };
    let lossSum = 0;
    let entSum = 0;
    let vErr = 0;
    for (let epoch = 0; epoch < p.epochs; epoch++) {
      this.shuffle(order);
      for (let a = 0; a + mb <= n; a += mb) {
        const ub = new Float32Array(mb * U);
        const cb = new Float32Array(mb * N * F);
        const target = new Float32Array(mb * N);
        const beta = new Float64Array(mb);
        const ret = new Float32Array(mb);
        for (let k = 0; k < mb; k++) {
          const i = order[a + k]!;
          this.userNorm.apply(f.user[i]!, 1, ub.subarray(k * U, (k + 1) * U));
          this.candNorm.apply(f.cand[i]!, N, cb.subarray(k * N * F, (k + 1) * N * F));
          target[k * N + f.item[i]!] = 1;
          beta[k] = f.beta[i]!;
          ret[k] = (f.ret[i]! - mr) / sr;
        }
        // With a value baseline: the advantage is the normalized return minus the state's value, which then
        // takes a step toward the normalized returns (mean squared error).
        if (this.value) {
          const goal = Float32Array.from(ret);
          const { value, grads } = tf.variableGrads(() => {
            const vt = this.value!.values(tf.tensor2d(ub, [mb, U]), tf.tensor2d(cb, [mb * N, F]), N);
            // The values before the step (read from the same forward pass that the step differentiates).
            const v = vt.dataSync();
            for (let k = 0; k < mb; k++) {
              vErr += (ret[k]! - v[k]!) ** 2;
              ret[k] = ret[k]! - v[k]!;
            }
            return tf.mean(tf.square(tf.sub(vt, tf.tensor1d(goal)))) as tf.Scalar;
          }, this.value.params.vars);
          value.dispose();
          this.optValue!.apply(this.value.params.vars.map((x) => grads[x.name]!));
          for (const g of Object.values(grads)) g.dispose();
        }
        // pi's probability of each row's consumed item and its entropy, before the step (constants in the gradient).
        lossSum += this.piStep(ub, cb, target, mb, F, p.entCoef, (_scores, lp, oh) => {
          const piA = tf.sum(tf.mul(oh, tf.exp(lp)), 1).dataSync();
          entSum += tf.neg(tf.mean(tf.sum(tf.mul(tf.exp(lp), lp), 1))).dataSync()[0]!;
          const w = new Float32Array(mb);
          correctedWeights(piA, beta, ret, p.capWeight, p.topK, w, tally);
          return w;
        });
      }
    }
    const steps = p.epochs * Math.floor(n / mb);
    Object.assign(metrics, {
      policy_loss: lossSum / Math.max(1, steps),
      entropy: entSum / Math.max(1, steps),
      mean_capped_weight: tally.sum / Math.max(1, tally.count),
      capped_share: tally.capped / Math.max(1, tally.count),
      mean_return: mr,
      ...(this.value ? { value_loss: vErr / Math.max(1, steps * mb) } : {}),
    });
    this.report = { updates: this.updates, consumedSteps: (this.report.consumedSteps ?? 0) + n, meanCappedWeight: metrics.mean_capped_weight!, cappedShare: metrics.capped_share!, epochs: p.epochs };
    return metrics;
  }

  /**
   * One gradient step of pi on a minibatch: loss = -mean(w log pi(a | s)), minus entCoef x the mean entropy of pi
   * over the candidates when entCoef > 0. The per-row weights w come from `weights`, given pi's scores and
   * log-probabilities of this very forward pass (so pi runs once per minibatch; w is a constant of the gradient) and
   * the one-hot rows of the consumed items. Returns the loss.
   */
  private piStep(ub: Float32Array, cb: Float32Array, target: Float32Array, mb: number, F: number, entCoef: number, weights: (scores: tf.Tensor2D, lp: tf.Tensor2D, oh: tf.Tensor2D) => Float32Array): number {
    const { U, N } = this.env.layout;
    const { value, grads } = tf.variableGrads(() => {
      const scores = this.pi.scores(tf.tensor2d(ub, [mb, U]), tf.tensor2d(cb, [mb * N, F]), N);
      const lp = tf.logSoftmax(scores) as tf.Tensor2D;
      const oh = tf.tensor2d(target, [mb, N]);
      const w = weights(scores, lp, oh);
      const logp = tf.sum(tf.mul(oh, lp), 1);
      const pg = tf.neg(tf.mean(tf.mul(tf.tensor1d(w), logp)));
      return (entCoef > 0 ? tf.add(pg, tf.mul(entCoef, tf.mean(tf.sum(tf.mul(tf.exp(lp), lp), 1)))) : pg) as tf.Scalar;
    }, this.pi.params.vars);
    const loss = value.dataSync()[0]!;
    value.dispose();
    this.optPi.apply(this.pi.params.vars.map((v) => grads[v.name]!));
    for (const g of Object.values(grads)) g.dispose();
    return loss;
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
    const { mean: mr, std: sr } = returnScale(d.ret, rows);
    const mb = p.batchSize;
    const tally: WeightTally = { capped: 0, sum: 0, count: 0 };
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
        // Importance weights and lambda_K from the current pi and beta (constants in the gradient); entCoef is an
        // online option: the offline loss is the paper's.
        this.piStep(ub, cb, target, mb, F, 0, (scores, _lp, oh) => {
          const piA = tf.sum(tf.mul(oh, tf.softmax(scores)), 1).dataSync();
          const betaA = tf.sum(tf.mul(oh, tf.softmax(this.beta.scores(tf.tensor2d(ub, [mb, U]), tf.tensor2d(cb, [mb * N, F]), N))), 1).dataSync();
          const w = new Float32Array(mb);
          correctedWeights(piA, betaA, ret, p.capWeight, p.topK, w, tally);
          return w;
        });
      }
    }
    this.report = { trajectorySteps: d.n, consumedSteps: rows.length, meanCappedWeight: tally.sum / Math.max(1, tally.count), cappedShare: tally.capped / Math.max(1, tally.count), epochs: p.epochs };
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
    const { U, N, K } = this.env.layout;
    const F = this.Fa;
    if (this.gWork.length !== N) this.gWork = new Float64Array(N);
    const cand = candidateRows(this.items, obs, B, N);
    const online = ctx.training && this.params.mode === 'online';
    if (online) {
      this.userNorm.update(obs.user, B);
      this.candNorm.update(cand, B * N);
      this.actUser = Float32Array.from(obs.user.subarray(0, B * U));
      this.actCand = Float32Array.from(cand.subarray(0, B * N * F));
      if (this.actProb.length !== B * K) this.actProb = new Float64Array(B * K);
      while (this.slots.length < B) this.slots.push(emptySlot());
      // A slot whose user is new without its last one having ended (a new training run) drops that trajectory.
      for (let s = 0; s < B; s++) if (obs.firstStep[s] === 1 && this.slots[s]!.reward.length > 0) this.slots[s] = emptySlot();
    }
    const u = this.userNorm.apply(obs.user, B, new Float32Array(B * U));
    const c = this.candNorm.apply(cand, B * N, new Float32Array(B * N * F));
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
      if (online) {
        // pi's softmax probability of each slate item: beta of the item if it is consumed.
        let m = -Infinity;
        for (let i = 0; i < N; i++) m = Math.max(m, logits[s * N + i]!);
        let z = 0;
        for (let i = 0; i < N; i++) z += Math.exp(logits[s * N + i]! - m);
        for (let k = 0; k < K; k++) this.actProb[s * K + k] = Math.exp(logits[s * N + out[s * K + k]!]! - m) / z;
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
      // Online mode only, so that checkpoints saved before it existed load as saved.
      ...(this.params.mode === 'online'
        ? {
            online: {
              slots: this.slots.map((t) => ({ reward: Float64Array.from(t.reward), day: Float64Array.from(t.day), row: Int32Array.from(t.row), user: packRows(t.user), cand: packRows(t.cand), item: Int32Array.from(t.item), beta: Float64Array.from(t.beta) })),
              finished: { user: packRows(this.finished.user), cand: packRows(this.finished.cand), item: Int32Array.from(this.finished.item), beta: Float64Array.from(this.finished.beta), ret: Float64Array.from(this.finished.ret), steps: this.finished.steps, trajectories: this.finished.trajectories },
              updates: this.updates,
              ...(this.value ? { value: this.value.params.getWeights(), optValue: this.optValue!.state() } : {}),
            },
            ...(this.items ? { items: this.items.state() } : {}),
          }
        : {}),
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
    if (this.params.mode === 'online') {
      const on = st.online as { slots: PackedTrajectory[]; finished: PackedFinished; updates: number; value?: number[][]; optValue?: ReturnType<Adam['state']> } | undefined;
      if (!on) throw new InvalidArgument('reinforce-topk: the checkpoint has no online trajectories, but the agent was built with mode "online"');
      const { U, N } = this.env.layout;
      const W = N * this.Fa;
      this.slots = on.slots.map((t) => ({ reward: Array.from(t.reward), day: Array.from(t.day), row: Array.from(t.row), user: unpackRows(t.user, U), cand: unpackRows(t.cand, W), item: Array.from(t.item), beta: Array.from(t.beta) }));
      const f = on.finished;
      this.finished = { user: unpackRows(f.user, U), cand: unpackRows(f.cand, W), item: Array.from(f.item), beta: Array.from(f.beta), ret: Array.from(f.ret), steps: f.steps, trajectories: f.trajectories };
      this.updates = on.updates;
      if (this.value) {
        if (!on.value || !on.optValue) throw new InvalidArgument('reinforce-topk: the checkpoint has no value baseline, but the agent was built with baseline "value"');
        this.value.params.setWeights(on.value);
        this.optValue!.load(on.optValue);
      }
      if (this.items) {
        if (!st.items) throw new InvalidArgument('reinforce-topk: the checkpoint has no item statistics, but the agent was built with itemFeedback');
        this.items.load(st.items as ItemFeedbackState);
      }
    }
  }

  dispose(): void {
    this.pi.params.dispose();
    this.beta.params.dispose();
    this.optPi.dispose();
    this.optBeta.dispose();
    this.value?.params.dispose();
    this.optValue?.dispose();
  }
}
