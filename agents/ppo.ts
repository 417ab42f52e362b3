/**
 * PPO (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"), following CleanRL's ppo.py
 * implementation details (Huang et al. 2022, "The 37 Implementation Details of PPO"): fixed-length rollouts
 * of B envs x numSteps carried across iterations (not episodes); GAE(gamma, lambda) with returns = advantages
 * + values; updateEpochs epochs of shuffled minibatches; advantage normalization per minibatch; the clipped
 * surrogate; a clipped value loss (switchable); loss = pg - entCoef entropy + vfCoef vLoss; Adam with epsilon
 * 1e-5; linear learning-rate annealing; global-norm gradient clipping (0.5); separate actor and critic;
 * orthogonal initialization; observation normalization and reward scaling by the running std of discounted
 * returns (CleanRL's continuous-control wrappers).
 * Deviation from CleanRL: truncated episodes bootstrap from the value of their final observation (agents/gae.ts).
 *
 * The policy is a slate policy: a SlateScorer scores every candidate, stochastic slates are Gumbel top-K
 * samples from the agent's seeded stream and their log-probability is the Plackett-Luce probability of the
 * ordered slate (policies/plackett-luce.ts). Evaluation is deterministic (top-K scores) unless exploring.
 * With `episodeHistory` both networks also see each user's running mean of its rows over the episode so far
 * and log(1 + steps) (policies/history.ts): on interest-evolution-v0 the hidden time budget, which the value of
 * a state mostly depends on, is a function of that history (README: the recsim-ppo study).
 * With `consumedHistory` they also see the mean and a moving average of the candidate features of the items each
 * user clicked so far in the episode, and log(1 + clicks) (policies/history.ts ConsumedHistory; the agent keeps
 * them from its own feedback, in training and evaluation): on retention-v0 and v1 the hidden satisfaction is a
 * moving average of the quality of what the user consumed, which no single observation holds.
 * With `dayDiscount` < 1 the discount between two steps is gamma x dayDiscount^(calendar days elapsed), read from
 * the env's `day` user feature (a semi-Markov discount by elapsed time, Bradtke & Duff 1995; agents/gae.ts; the
 * reward scaling's running return uses the same discounts). On retention-v0 at gamma 0.99 per step, the
 * objective scores the myopic oracle above top-K by the quality estimate; discounted per day it ranks the
 * policies as the lifetime return does (README).
 * With `itemFeedback` (catalogue envs) every candidate row also gets the item's smoothed click rate, reward per
 * click, log(1 + shows) and, where candidates have a length, reward per click per unit of length, counted from
 * the agent's own training steps and frozen in evaluation (policies/item-feedback.ts): per-item learning, for
 * the part of an item's worth its content does not predict.
 * With `consumedItemStats` (consumedHistory and itemFeedback) the consumed-item mean and moving average also cover
 * the item columns, each clicked item's row as it was served: the user rows then carry what the agent's own
 * statistics say about the items the user consumed.
 * With `greedyServe` > 0 a training step is served the policy's greedy top-K with that probability (drawn per user
 * and step) and a sampled slate otherwise; the clipped surrogate, its advantage normalization and the KL and clip
 * diagnostics cover the sampled steps only (each weighted 1 / their number in the minibatch), so their advantages
 * are those of a one-step deviation from the mostly greedy policy; the critic learns from every step. It tests
 * whether a learner's gradients, taken from users served its broad samples, undervalue quality (README: it does
 * not help on retention-v1).
 * With `wide` the actor's scores add a linear term in the candidate features (policies/scorer.ts); `wideLrScale`
 * gives those few weights their own Adam rate, lr x wideLrScale (Wide & Deep trains its wide part with an optimizer
 * of its own, Cheng et al. 2016): Adam moves each weight at most about its rate per step, so with one rate a wide
 * weight moves about as far as any deep one, however consistent its gradient. `wideSgdLr` instead steps the wide
 * weights by plain gradient descent (policies/nn.ts sgdStep), outside Adam, so that they move with the mean of
 * their gradients. Over every column neither helps on retention-v1 (README).
 * `wideColumns: itemFeedback` restricts the wide part to the item-statistic columns that itemFeedback appends (the
 * memorization features a Wide & Deep model's wide part is for), so that a larger wideLrScale moves those four
 * weights and not the content columns' weights too, which otherwise drift with their noise: with wideLrScale 30
 * it lifts PPO on retention-v1 (the flagship's ppo-items-wide; README). wideSgdLr stays 0 in every shipped spec.
 * With `temperatureEnd` < 1 training samples its slates from the Plackett-Luce policy over logits / T, T annealed
 * linearly from 1 to temperatureEnd over totalSteps (the update scores the rollout at the temperature it was
 * sampled at), so that the policy PPO improves, and the users whose returns drive it, grow sharper on a schedule,
 * as an epsilon-greedy learner's epsilon falls; greedy slates are unchanged by T (README: it does not help on
 * retention-v1; it stays 1 in every shipped spec).
 */
import type { PpoParams } from './ppo-definition.js';
import { tf, type BackendInfo, agentBackend, type BackendChoice } from '../policies/backend.js';
import { Adam, clipScale, RunningNorm, sgdStep } from '../policies/nn.js';
import { gumbelTopK, plLogProb, plLogProbTf, topOrdered } from '../policies/plackett-luce.js';
import { SlateScorer, ValueNet } from '../policies/scorer.js';
import { type AgentContext, type AgentEnvInfo, type AgentObservation, assertFiniteObservation, assertFiniteTransitions, BaseAgent, itemFeedbackFor, PerUserStreams, type Transitions } from './api.js';
import { computeGae, dayFeatureOffset, stepDiscount } from './gae.js';
import { ConsumedHistory, EpisodeHistory, type HistoryState } from '../policies/history.js';
import { candidateRows, type ItemFeedback, type ItemFeedbackState } from '../policies/item-feedback.js';
import { InvalidArgument } from '../envs/errors.js';
import type { VecObservation } from '../envs/core.js';
import type { Rng } from '../envs/rng.js';

export interface PpoMetrics {
  [k: string]: number;
  policy_loss: number;
  value_loss: number;
  entropy: number;
  approx_kl: number;
  clipfrac: number;
  explained_variance: number;
  learning_rate: number;
  grad_norm: number;
  iteration: number;
}

export class PpoAgent extends BaseAgent<PpoParams> {
  readonly id = 'ppo';
  readonly backend: BackendInfo;

  static async create(p: PpoParams, env: AgentEnvInfo, seed: number): Promise<PpoAgent> {
    return new PpoAgent(p, env, seed, await agentBackend(p.backend as BackendChoice));
  }
  actor: SlateScorer;
  critic: ValueNet;
  private opt: Adam;
  /** With wideSgdLr: the index of the wide weights among the update's variables (stepped by sgdStep), else -1. */
  private readonly wideSgd: number;
  readonly userNorm: RunningNorm;
  readonly candNorm: RunningNorm;
  private retRms = new RunningNorm(1);
  private discReturn = new Float64Array(0);
  private B = 0;
  private t = 0;
  iteration = 0;
  private buf!: {
    user: Float32Array;
    cand: Float32Array;
    slates: Int32Array;
    logp: Float32Array;
    values: Float32Array;
    rewards: Float32Array;
    dones: Float32Array;
    trunc: Float32Array;
    lastValues: Float32Array;
    /** With dayDiscount < 1: the discount of each step (gamma x dayDiscount^(days elapsed)). */
    discounts?: Float32Array;
    /** With greedyServe > 0: 1 where the step's slate was sampled from the policy, 0 where it was its greedy top-K. */
    sampled?: Float32Array;
  };
  /** Offset of the raw `day` user feature (dayDiscount < 1), else -1. */
  private readonly dayOffset: number;
  private uWork = new Float32Array(0);
  private cWork = new Float32Array(0);
  private gWork = new Float64Array(0);
  private readonly evalStreams: PerUserStreams;
  /** Episode-history features (episodeHistory): the training slots' and the evaluation slots' own. */
  private readonly history: { train: EpisodeHistory; eval: EpisodeHistory } | null;
  /** Consumed-item features (consumedHistory): the training slots' and the evaluation slots' own. */
  private readonly consumed: { train: ConsumedHistory; eval: ConsumedHistory } | null;
  /** Width of the user rows the networks see (U, plus the history columns). */
  private readonly Ua: number;
  /** Per-item feedback statistics (itemFeedback), learned in training. */
  private readonly items: ItemFeedback | null;
  /** Width of the candidate rows the networks see (F, plus the item columns). */
  private readonly Fa: number;
  private iWork = new Float32Array(0);
  private hWork = new Float32Array(0);
  private hWork2 = new Float32Array(0);
  /** Forward / backward FLOPs performed (for throughput accounting). */
  flops = { inference: 0, update: 0 };

  /** Construct after `initBackend` (see `PpoAgent.create`): the networks are made on the current backend. */
  constructor(p: PpoParams, env: AgentEnvInfo, seed: number, backend: BackendInfo) {
    super(p, env, seed);
    this.backend = backend;
    const { U, F, K } = env.layout;
    const H = p.hidden;
    this.history = p.episodeHistory ? { train: new EpisodeHistory(U), eval: new EpisodeHistory(U) } : null;
    this.items = itemFeedbackFor(this.id, env, p.itemFeedback);
    const Fa = F + (this.items ? this.items.extra : 0);
    this.Fa = Fa;
    // consumedItemStats: the consumed-item averages cover the candidate rows with their item columns.
    const Fc = p.consumedItemStats ? Fa : F;
    this.consumed = p.consumedHistory ? { train: new ConsumedHistory(Fc, K, p.consumedRate), eval: new ConsumedHistory(Fc, K, p.consumedRate) } : null;
    const Ua = U + (this.history ? this.history.train.extra : 0) + (this.consumed ? this.consumed.train.extra : 0);
    this.Ua = Ua;
    this.actor = new SlateScorer(Ua, Fa, H, p.hidden2, 0.01, this.rng, 'actor', p.wide, p.wideColumns === 'itemFeedback' ? F : 0);
    this.critic = new ValueNet(Ua, Fa, H, this.rng, 'critic');
    const vars = [...this.actor.params.vars, ...this.critic.params.vars];
    const wideVar = this.actor.wideWeights;
    // wideSgdLr: the wide weights step by gradient descent, outside Adam.
    this.wideSgd = p.wideSgdLr > 0 ? vars.indexOf(wideVar!) : -1;
    const adamVars = vars.filter((_, i) => i !== this.wideSgd);
    this.opt = new Adam(adamVars, p.lr, 1e-5, 0.9, 0.999, p.wideLrScale === 1 ? undefined : adamVars.map((v) => (v === wideVar ? p.wideLrScale : 1)));
    this.userNorm = new RunningNorm(Ua);
    this.candNorm = new RunningNorm(Fa);
    this.evalStreams = new PerUserStreams(seed, 'ppo-eval');
    this.dayOffset = dayFeatureOffset(this.id, env, p.dayDiscount);
  }


  private ensure(B: number): void {
    if (this.B === B) return;
    if (this.B !== 0 && this.t !== 0) throw new InvalidArgument(`ppo: the number of envs changed from ${this.B} to ${B} in the middle of a rollout`);
    this.B = B;
    const M = this.params.numSteps;
    const { N, K } = this.env.layout;
    this.buf = {
      user: new Float32Array(M * B * this.Ua),
      cand: new Float32Array(M * B * N * this.Fa),
      slates: new Int32Array(M * B * K),
      logp: new Float32Array(M * B),
      values: new Float32Array(M * B),
      rewards: new Float32Array(M * B),
      dones: new Float32Array(M * B),
      trunc: new Float32Array(M * B),
      lastValues: new Float32Array(B),
      ...(this.dayOffset >= 0 ? { discounts: new Float32Array(M * B) } : {}),
      ...(this.params.greedyServe > 0 ? { sampled: new Float32Array(M * B) } : {}),
    };
    this.discReturn = new Float64Array(B);
  }

  /**
   * The user rows the networks see: the observation's own, or with the episode-history columns (`commit`: the
   * rows join the history; `keepOwner`: a finished user's final observation). Without history, obs.user.
   */
  private userRows(obs: AgentObservation | (VecObservation & { userIndex: Float64Array; firstStep: Uint8Array }), B: number, training: boolean, opts: { commit: boolean; keepOwner?: boolean }): Float32Array {
    if (!this.history && !this.consumed) return obs.user;
    if (this.hWork.length < B * this.Ua) this.hWork = new Float32Array(B * this.Ua);
    let rows = obs.user;
    let W = this.env.layout.U;
    if (this.history) {
      const W1 = W + this.history.train.extra;
      const out = this.consumed ? (this.hWork2.length < B * W1 ? (this.hWork2 = new Float32Array(B * W1)) : this.hWork2) : this.hWork;
      rows = (training ? this.history.train : this.history.eval).augment(obs, B, out, opts);
      W = W1;
    }
    if (this.consumed) rows = (training ? this.consumed.train : this.consumed.eval).augment(rows, W, obs, B, this.hWork, { keepOwner: opts.keepOwner });
    return rows;
  }

  /** The candidate rows the networks see: the observation's own, or with the item columns (itemFeedback). */
  private candRows(obs: { candidates: Float32Array; itemIds: Int32Array | null }, B: number): Float32Array {
    if (!this.items) return obs.candidates;
    const n = B * this.env.layout.N * this.Fa;
    if (this.iWork.length < n) this.iWork = new Float32Array(n);
    return candidateRows(this.items, obs, B, this.env.layout.N, this.iWork);
  }

  /** What each slot's user clicked in the slate just served (consumed-item features; train and evaluation). */
  feedback(clicked: Int32Array, stepped: Uint8Array, ctx: AgentContext): void {
    if (!this.consumed) return;
    (ctx.training ? this.consumed.train : this.consumed.eval).consume(clicked, clicked.length, stepped);
  }

  /** Normalized copies of the user rows (width Ua) and the candidate rows for all B slots. */
  private normalize(obs: { user: Float32Array; candidates: Float32Array }, B: number, update: boolean): { u: Float32Array; c: Float32Array } {
    const { N } = this.env.layout;
    const U = this.Ua;
    const F = this.Fa;
    if (this.uWork.length !== B * U) this.uWork = new Float32Array(B * U);
    if (this.cWork.length !== B * N * F) this.cWork = new Float32Array(B * N * F);
    if (update && this.params.normalizeObs) {
      this.userNorm.update(obs.user, B);
      this.candNorm.update(obs.candidates, B * N);
    }
    if (this.params.normalizeObs) {
      this.userNorm.apply(obs.user, B, this.uWork);
      this.candNorm.apply(obs.candidates, B * N, this.cWork);
    } else {
      this.uWork.set(obs.user.subarray(0, B * U));
      this.cWork.set(obs.candidates.subarray(0, B * N * F));
    }
    return { u: this.uWork, c: this.cWork };
  }

  /**
   * The sampling temperature after `done` updates: 1 annealed linearly to temperatureEnd over totalSteps, counted
   * in rollouts of the training batch (as the learning rate is annealed), then kept; exactly 1 without the option
   * or before training (an exploring evaluation uses the training batch's schedule, whatever its own batch).
   */
  private temperature(done: number): number {
    const end = this.params.temperatureEnd;
    if (end === 1 || this.B === 0) return 1;
    return 1 + (end - 1) * Math.min(1, done / this.plannedUpdates());
  }

  /** The updates totalSteps plans for rollouts of the training batch (at least 1): the annealing schedules' length. */
  private plannedUpdates(): number {
    return Math.max(1, Math.floor(this.params.totalSteps / (this.params.numSteps * this.B)));
  }

  /** Logits [B*N] and values [B] for normalized inputs. */
  private forward(u: Float32Array, c: Float32Array, B: number, withValue: boolean): { logits: Float32Array; values: Float32Array | null } {
    const { N } = this.env.layout;
    const F = this.Fa;
    const U = this.Ua;
    const res = tf.tidy(() => {
      const ut = tf.tensor2d(u, [B, U]);
      const ct = tf.tensor2d(c, [B * N, F]);
      const r: tf.Tensor[] = [this.actor.scores(ut, ct, N)];
      if (withValue) r.push(this.critic.values(ut, ct, N));
      return r;
    });
    const lg = res[0]!;
    const vl = res[1];
    const logits = lg.dataSync() as Float32Array;
    lg.dispose();
    let values: Float32Array | null = null;
    if (vl) {
      values = vl.dataSync() as Float32Array;
      vl.dispose();
    }
    this.flops.inference += this.actor.flops(B, N) + (withValue ? this.critic.flops(B) : 0);
    return { logits, values };
  }

  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    assertFiniteObservation(this.id, obs, obs.B, obs.active);
    const B = obs.B;
    const out = this.out(B);
    const { N, K } = this.env.layout;
    const U = this.Ua;
    const F = this.Fa;
    if (this.gWork.length !== N) this.gWork = new Float64Array(N);
    const training = ctx.training;
    if (training) this.ensure(B);
    const cands = this.candRows(obs, B);
    const { u, c } = this.normalize({ user: this.userRows(obs, B, training, { commit: true }), candidates: cands }, B, training);
    const fwd = this.forward(u, c, B, training);
    const values = fwd.values;
    // temperatureEnd: training and exploring sample (and score their log-probabilities) over logits / T; greedy
    // slates are the same either way.
    const T = training || ctx.explore ? this.temperature(this.iteration) : 1;
    const logits = T === 1 ? fwd.logits : fwd.logits.map((x) => x / T);
    const greedyServe = this.params.greedyServe;
    for (let s = 0; s < B; s++) {
      if (!obs.active[s]) continue;
      // The stream a sampled slate draws from; null: the greedy top-K.
      let stream: Rng | null = null;
      if (training) {
        stream = ctx.rng;
        if (greedyServe > 0) {
          // Served greedily with probability greedyServe (the draw only exists with the option, so that PPO's own
          // stream is unchanged without it).
          const sampled = ctx.rng() >= greedyServe;
          this.buf.sampled![this.t * B + s] = sampled ? 1 : 0;
          if (!sampled) stream = null;
        }
      } else if (ctx.explore) stream = this.evalStreams.get(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      if (stream) gumbelTopK(logits, s * N, N, K, stream, out, s * K, this.gWork);
      else {
        for (let i = 0; i < N; i++) this.gWork[i] = logits[s * N + i]!;
        topOrdered(this.gWork, N, K, out, s * K);
      }
    }
    if (this.consumed) (training ? this.consumed.train : this.consumed.eval).serve(this.params.consumedItemStats ? cands : obs.candidates, N, out, B, obs.active);
    if (training) {
      const t = this.t;
      const b = this.buf;
      b.user.set(u, t * B * U);
      b.cand.set(c, t * B * N * F);
      b.slates.set(out, t * B * K);
      for (let s = 0; s < B; s++) {
        b.logp[t * B + s] = plLogProb(logits, s * N, N, out, s * K, K);
        b.values[t * B + s] = values![s]!;
      }
    }
    return out;
  }

  observe(tr: Transitions): void {
    assertFiniteTransitions(this.id, tr);
    const B = tr.obs.B;
    const t = this.t;
    const b = this.buf;
    const gamma = this.params.gamma;
    const discounts = b.discounts;
    const ended = (s: number) => tr.terminated[s] === 1 || tr.truncated[s] === 1;
    // The step's outcome joins the item statistics first: the next observations' values below see what the next
    // act will.
    if (this.items) this.items.record(tr.obs, this.env.layout.N, tr.actions, this.env.layout.K, tr.clicked, tr.rewards, tr.stepped, B);
    if (discounts) {
      // Semi-Markov discount: gamma per step times dayDiscount per calendar day elapsed until the next observation
      // (an ended episode's own final observation).
      const U = this.env.layout.U;
      const o = this.dayOffset;
      for (let s = 0; s < B; s++) {
        const next = ended(s) ? tr.finalObservation.user : tr.next.user;
        discounts[t * B + s] = stepDiscount(gamma, this.params.dayDiscount, tr.obs.user[s * U + o]!, next[s * U + o]!);
      }
    }
    // Reward scaling by the running std of the discounted return (gym's NormalizeReward).
    let scale = 1;
    if (this.params.normalizeReward) {
      const rets = new Float64Array(B);
      for (let s = 0; s < B; s++) {
        // discReturn holds the return discounted to this step; with per-step discounts, it is kept discounted to
        // the next step (the discount of this step is known only now).
        if (discounts) {
          rets[s] = this.discReturn[s]! + tr.rewards[s]!;
          this.discReturn[s] = rets[s]! * discounts[t * B + s]!;
          continue;
        }
        this.discReturn[s] = this.discReturn[s]! * gamma + tr.rewards[s]!;
        rets[s] = this.discReturn[s]!;
      }
      this.retRms.update(rets, B);
      scale = 1 / Math.sqrt(this.retRms.varr[0]! + 1e-8);
    }
    const truncSlots: number[] = [];
    for (let s = 0; s < B; s++) {
      const k = t * B + s;
      b.rewards[k] = tr.rewards[s]! * scale;
      b.dones[k] = ended(s) ? 1 : 0;
      b.trunc[k] = 0;
      if (tr.truncated[s] === 1 && tr.terminated[s] !== 1) truncSlots.push(s);
      if (ended(s)) this.discReturn[s] = 0;
    }
    if (truncSlots.length > 0) {
      // Bootstrap truncated episodes from the value of their final observation (normalized with the current stats).
      const { N } = this.env.layout;
      const U = this.Ua;
      const F = this.Fa;
      // The finished users' final rows, with the history they had (their episode's, not the next user's).
      const finalUser = this.userRows({ ...tr.finalObservation, userIndex: tr.obs.userIndex, firstStep: tr.obs.firstStep }, B, true, { commit: false, keepOwner: true });
      const finalCand = this.candRows(tr.finalObservation, B);
      const fu = new Float32Array(truncSlots.length * U);
      const fc = new Float32Array(truncSlots.length * N * F);
      truncSlots.forEach((s, i) => {
        fu.set(finalUser.subarray(s * U, (s + 1) * U), i * U);
        fc.set(finalCand.subarray(s * N * F, (s + 1) * N * F), i * N * F);
      });
      const nu = this.params.normalizeObs ? this.userNorm.apply(fu, truncSlots.length, new Float32Array(fu.length)) : fu;
      const nc = this.params.normalizeObs ? this.candNorm.apply(fc, truncSlots.length * N, new Float32Array(fc.length)) : fc;
      const v = tf.tidy(() => this.critic.values(tf.tensor2d(nu, [truncSlots.length, U]), tf.tensor2d(nc, [truncSlots.length * N, F]), N));
      const vals = v.dataSync();
      v.dispose();
      truncSlots.forEach((s, i) => (b.trunc[t * B + s] = vals[i]!));
    }
    this.t++;
    if (this.t === this.params.numSteps) {
      const { u, c } = this.normalize({ user: this.userRows(tr.next, B, true, { commit: false }), candidates: this.candRows(tr.next, B) }, B, false);
      const { values } = this.forward(u, c, B, true);
      b.lastValues.set(values!);
    }
  }

  update(): PpoMetrics | void {
    const M = this.params.numSteps;
    if (this.t < M) return;
    this.t = 0;
    this.iteration++;
    const p = this.params;
    const B = this.B;
    const { N, K } = this.env.layout;
    const U = this.Ua;
    const F = this.Fa;
    const b = this.buf;
    if (p.annealLr) {
      const frac = Math.max(0, 1 - (this.iteration - 1) / this.plannedUpdates());
      this.opt.lr = frac * p.lr;
    }
    const T = this.temperature(this.iteration - 1);
    const { advantages, returns } = computeGae(M, B, b.rewards, b.values, b.dones, b.trunc, b.lastValues, b.discounts ?? p.gamma, p.gaeLambda);
    const S = M * B;
    const mb = Math.max(1, Math.floor(S / p.numMinibatches));
    const order = Int32Array.from({ length: S }, (_, i) => i);
    const mu = new Float32Array(mb * U);
    const mc = new Float32Array(mb * N * F);
    const ms = new Int32Array(mb * K);
    const mlogp = new Float32Array(mb);
    const madv = new Float32Array(mb);
    const mret = new Float32Array(mb);
    const mval = new Float32Array(mb);
    // greedyServe: the policy-gradient terms are the sampled steps' only, each weighted 1 / (their number).
    const msamp = b.sampled ? new Float32Array(mb) : null;
    const clip = p.clipCoef;
    const vars = [...this.actor.params.vars, ...this.critic.params.vars];
    let stats = { pg: 0, v: 0, ent: 0, kl: 0, clipfrac: 0, norm: 0, n: 0 };
    for (let epoch = 0; epoch < p.updateEpochs; epoch++) {
      const lastEpoch = epoch === p.updateEpochs - 1;
      for (let i = S - 1; i > 0; i--) {
        const j = Math.floor(this.rng() * (i + 1));
        const x = order[i]!;
        order[i] = order[j]!;
        order[j] = x;
      }
      for (let start = 0; start + mb <= S; start += mb) {
        for (let k = 0; k < mb; k++) {
          const r = order[start + k]!;
          mu.set(b.user.subarray(r * U, (r + 1) * U), k * U);
          mc.set(b.cand.subarray(r * N * F, (r + 1) * N * F), k * N * F);
          for (let q = 0; q < K; q++) ms[k * K + q] = b.slates[r * K + q]!; // K values: a loop beats a subarray's set
          mlogp[k] = b.logp[r]!;
          madv[k] = advantages[r]!;
          mret[k] = returns[r]!;
          mval[k] = b.values[r]!;
          if (msamp) msamp[k] = b.sampled![r]!;
        }
        // The policy-gradient samples: every step, or (greedyServe) the sampled ones.
        let ns = mb;
        if (msamp) {
          ns = 0;
          for (let k = 0; k < mb; k++) ns += msamp[k]!;
          for (let k = 0; k < mb; k++) msamp[k] = ns > 0 ? msamp[k]! / ns : 0;
        }
        if (p.normAdv && ns > 1) {
          // Mean and sd over the policy-gradient samples (ns is mb without greedyServe).
          let m = 0;
          let v = 0;
          for (let k = 0; k < mb; k++) if (!msamp || msamp[k]! > 0) m += madv[k]!;
          m /= ns;
          for (let k = 0; k < mb; k++) if (!msamp || msamp[k]! > 0) v += (madv[k]! - m) ** 2;
          const sd = Math.sqrt(v / (ns - 1));
          for (let k = 0; k < mb; k++) madv[k] = (madv[k]! - m) / (sd + 1e-8);
        }
        const info = { pg: 0, v: 0, ent: 0, kl: 0, clipfrac: 0 };
        const { value: lossT, grads } = tf.variableGrads(() => {
          const ut = tf.tensor2d(mu, [mb, U]);
          const ct = tf.tensor2d(mc, [mb * N, F]);
          const scores = this.actor.scores(ut, ct, N);
          // The rollout was sampled at the temperature of the updates done before it (temperatureEnd).
          const logits = T === 1 ? scores : (tf.div(scores, T) as tf.Tensor2D);
          const { logp, entropy } = plLogProbTf(logits, ms, K);
          const logratio = tf.sub(logp, tf.tensor1d(mlogp));
          const ratio = tf.exp(logratio);
          const adv = tf.tensor1d(madv);
          const pg1 = tf.mul(tf.neg(adv), ratio);
          const pg2 = tf.mul(tf.neg(adv), tf.clipByValue(ratio, 1 - clip, 1 + clip));
          const w = msamp ? tf.tensor1d(msamp) : null;
          const pgLoss = w ? tf.sum(tf.mul(tf.maximum(pg1, pg2), w)) : tf.mean(tf.maximum(pg1, pg2));
          const newV = this.critic.values(ut, ct, N);
          const ret = tf.tensor1d(mret);
          let vLoss: tf.Tensor;
          if (p.clipVloss) {
            const old = tf.tensor1d(mval);
            const unclipped = tf.square(tf.sub(newV, ret));
            const clipped = tf.square(tf.sub(tf.add(old, tf.clipByValue(tf.sub(newV, old), -clip, clip)), ret));
            vLoss = tf.mul(0.5, tf.mean(tf.maximum(unclipped, clipped)));
          } else vLoss = tf.mul(0.5, tf.mean(tf.square(tf.sub(newV, ret))));
          const ent = tf.mean(entropy);
          // Diagnostics over the last epoch's minibatches (CleanRL logs the last values; no gradient flows here).
          if (lastEpoch) {
            info.pg = pgLoss.dataSync()[0] as number;
            info.v = vLoss.dataSync()[0] as number;
            info.ent = ent.dataSync()[0] as number;
            const kl = tf.sub(tf.sub(ratio, 1), logratio);
            const clipped = tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clip), 'float32');
            info.kl = (w ? tf.sum(tf.mul(kl, w)) : tf.mean(kl)).dataSync()[0] as number;
            info.clipfrac = (w ? tf.sum(tf.mul(clipped, w)) : tf.mean(clipped)).dataSync()[0] as number;
          }
          return tf.add(tf.sub(pgLoss, tf.mul(p.entCoef, ent)), tf.mul(p.vfCoef, vLoss)) as tf.Scalar;
        }, vars);
        lossT.dispose();
        const norm = this.wideSgd < 0 ? this.opt.applyClipped(vars.map((v) => grads[v.name]!), p.maxGradNorm) : this.applyWideSgd(vars.map((v) => grads[v.name]!));
        this.flops.update += 3 * (this.actor.flops(mb, N) + this.critic.flops(mb));
        if (lastEpoch) stats = { pg: stats.pg + info.pg, v: stats.v + info.v, ent: stats.ent + info.ent, kl: stats.kl + info.kl, clipfrac: stats.clipfrac + info.clipfrac, norm: stats.norm + norm, n: stats.n + 1 };
      }
    }
    let vr = 0;
    let mr = 0;
    for (let i = 0; i < S; i++) mr += returns[i]!;
    mr /= S;
    let vd = 0;
    let md = 0;
    for (let i = 0; i < S; i++) md += returns[i]! - b.values[i]!;
    md /= S;
    for (let i = 0; i < S; i++) {
      vr += (returns[i]! - mr) ** 2;
      vd += (returns[i]! - b.values[i]! - md) ** 2;
    }
    const n = Math.max(1, stats.n);
    return {
      policy_loss: stats.pg / n,
      value_loss: stats.v / n,
      entropy: stats.ent / n,
      approx_kl: stats.kl / n,
      clipfrac: stats.clipfrac / n,
      explained_variance: vr === 0 ? NaN : 1 - vd / vr,
      learning_rate: this.opt.lr,
      grad_norm: stats.norm / n,
      iteration: this.iteration,
    };
  }

  /**
   * wideSgdLr: the global-norm clip over every gradient, Adam's step for all but the wide weights, and a gradient
   * descent step for those at wideSgdLr annealed as lr is; the gradients are disposed. Returns the norm before
   * clipping. A NaN or infinite norm throws before anything is applied, as Adam.applyClipped does.
   */
  private applyWideSgd(grads: tf.Tensor[]): number {
    try {
      const { scale, norm } = clipScale(grads, this.params.maxGradNorm);
      this.opt.apply(grads.filter((_, i) => i !== this.wideSgd), scale);
      const annealed = this.params.wideSgdLr * (this.opt.lr / this.params.lr);
      sgdStep(this.actor.wideWeights!, grads[this.wideSgd]!, annealed * scale);
      return norm;
    } finally {
      for (const g of grads) g.dispose();
    }
  }

  /** The critic's value of observations (raw features; normalized with the current statistics). */
  criticValue(obs: { user: Float32Array; candidates: Float32Array; itemIds?: Int32Array | null; userIndex?: Float64Array; firstStep?: Uint8Array }, B: number): Float32Array {
    let user = obs.user;
    if (this.items && !obs.itemIds) throw new InvalidArgument('ppo.criticValue: with itemFeedback the observation needs itemIds');
    if (this.history || this.consumed) {
      if (!obs.userIndex || !obs.firstStep) throw new InvalidArgument('ppo.criticValue: with episodeHistory or consumedHistory the observation needs userIndex and firstStep');
      user = this.userRows({ ...obs, itemIds: null, userIndex: obs.userIndex, firstStep: obs.firstStep }, B, false, { commit: false });
    }
    const { u, c } = this.normalize({ user, candidates: this.candRows({ candidates: obs.candidates, itemIds: obs.itemIds ?? null }, B) }, B, false);
    return this.forward(u, c, B, true).values!;
  }

  /**
   * Write the actor as a TensorFlow.js layers model (`model.json` + `weights.bin`) into `dir`: raw observation
   * in, one score per candidate out, normalization folded in (policies/export.ts). Greedy slate: top-K scores.
   */
  async exportPolicy(dir: string): Promise<{ modelJson: string; weights: string }> {
    if (this.history || this.consumed) throw new InvalidArgument('ppo.exportPolicy: a policy trained with episodeHistory or consumedHistory reads the episode history, which the exported model (user and candidate rows in) cannot; train with both false to export');
    if (this.items) throw new InvalidArgument('ppo.exportPolicy: a policy trained with itemFeedback reads per-item statistics, which the exported model (user and candidate rows in) does not hold; train with itemFeedback false to export');
    const { scorerModel, saveLayersModel } = await import('../policies/export.js');
    const norm = this.params.normalizeObs;
    const model = scorerModel(this.actor, norm ? this.userNorm : null, norm ? this.candNorm : null, this.env.layout.N);
    try {
      return await saveLayersModel(model, dir, { agent: this.id, envId: this.env.envId, envParams: this.env.params, K: this.env.layout.K, inputs: ['user', 'candidates'], output: 'one score per candidate; the greedy slate is the K highest' });
    } finally {
      model.dispose();
    }
  }

  protected override getState(): unknown {
    const b = this.buf;
    return {
      actor: this.actor.params.getWeights(),
      critic: this.critic.params.getWeights(),
      adam: this.opt.state(),
      userNorm: this.userNorm.state(),
      candNorm: this.candNorm.state(),
      retRms: this.retRms.state(),
      discReturn: Array.from(this.discReturn),
      B: this.B,
      t: this.t,
      iteration: this.iteration,
      buf: b ? Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Array.from(v as ArrayLike<number>)])) : null,
      evalStreams: this.evalStreams.state(),
      history: this.history ? { train: this.history.train.state(), eval: this.history.eval.state() } : null,
      // Only with consumedHistory, so that checkpoints saved before the option existed load as saved.
      ...(this.consumed ? { consumed: { train: this.consumed.train.state(), eval: this.consumed.eval.state() } } : {}),
      ...(this.items ? { items: this.items.state() } : {}),
    };
  }

  protected override setState(x: unknown): void {
    const st = x as {
      actor: number[][];
      critic: number[][];
      adam: ReturnType<Adam['state']>;
      userNorm: ReturnType<RunningNorm['state']>;
      candNorm: ReturnType<RunningNorm['state']>;
      retRms: ReturnType<RunningNorm['state']>;
      discReturn: number[];
      B: number;
      t: number;
      iteration: number;
      buf: Record<string, number[]> | null;
      evalStreams: ReturnType<PerUserStreams['state']>;
      history?: { train: HistoryState; eval: HistoryState } | null;
      consumed?: { train: HistoryState; eval: HistoryState } | null;
      items?: ItemFeedbackState;
    };
    this.actor.params.setWeights(st.actor);
    this.critic.params.setWeights(st.critic);
    this.opt.load(st.adam);
    this.userNorm.load(st.userNorm);
    this.candNorm.load(st.candNorm);
    this.retRms.load(st.retRms);
    this.B = 0;
    this.t = 0;
    if (st.B > 0) this.ensure(st.B);
    this.discReturn = Float64Array.from(st.discReturn);
    this.t = st.t;
    this.iteration = st.iteration;
    if (st.buf) {
      const b = this.buf as unknown as Record<string, Float32Array | Int32Array>;
      for (const [k, v] of Object.entries(st.buf)) b[k]!.set(v);
    }
    this.evalStreams.load(st.evalStreams);
    if (this.history && st.history) {
      this.history.train.load(st.history.train);
      this.history.eval.load(st.history.eval);
    }
    if (this.consumed && st.consumed) {
      this.consumed.train.load(st.consumed.train);
      this.consumed.eval.load(st.consumed.eval);
    }
    if (this.items) {
      if (!st.items) throw new InvalidArgument('ppo: the checkpoint has no item statistics, but the agent was built with itemFeedback');
      this.items.load(st.items);
    }
  }

  dispose(): void {
    this.actor.params.dispose();
    this.critic.params.dispose();
    this.opt.dispose();
  }
}
