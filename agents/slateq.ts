/**
 * SlateQ (Ie et al., IJCAI 2019, "SlateQ: A Tractable Decomposition for Reinforcement Learning with
 * Recommendation Sets"): item-wise long-term values Q(s, i) combined under a conditional choice model,
 *   Q(s, A) = sum_{i in A} P(i | s, A) Q(s, i),
 * with P(i | s, A) = v_i / (v_0 + sum_{j in A} v_j).
 *
 * - Choice model (`choiceModel`): `env` uses the env's true choice model (hidden choiceScore / noClickScore,
 *   as the paper assumes a known model; the agent is then an oracle); `learned` fits a conditional logit on the
 *   agent's own click data (policies/choice-model.ts); `position0` for envs whose user consumes slate position 0
 *   (choc/kale). `auto`: position0 where the env declares it, else learned.
 * - Serving (`serving`): top-K by v_i Q_i (TS), greedy (GS), or the exact optimum (OS; by Dinkelbach's method,
 *   equal to enumerating all slates); or `value`, top-K by the item values alone (the shifted values with a learned
 *   no-click value), the choice model unused in serving (targets still weigh the slate's items by it): not in the
 *   paper; a ranker by long-term value, for when the learned choice model's trade of click probability against
 *   value costs more than it gains. `evalServing` swaps the rule in evaluation only: training (its exploration
 *   and SARSA's next slates) keeps `serving`, so an agent can learn its values on the slates of one rule and be
 *   deployed with another.
 * - Targets (`target`): SARSA on the next slate actually served, or Q-learning with the top-K, greedy or
 *   optimal next slate under the target network:
 *   y = r + gamma (1 - terminated) sum_{j in A'} P(j | s', A') Q_target(s', j), computed on the NEXT state
 *   (RecSim's implementation used the current state: google-research/recsim issue #26).
 * - The no-click outcome (`noClickValue`): `zero` is the paper's decomposition, which gives not clicking a
 *   long-term value of 0 and trains on click transitions only. That holds when a no-click ends the episode
 *   (or nothing after it depends on it); in multi-session envs (retention-v0, v1) the session goes on and the
 *   user returns after steps without a click, so a zero value makes the agent maximize the click probability
 *   of a chain of clicks: clickbait. `learned` adds a state value of the no-click outcome Q0(s) (a ValueNet
 *   over the user features and the mean candidate, with its own target copy) trained on the no-click
 *   transitions, and trains on every transition: the slate value becomes
 *     Q(s, A) = (sum_{i in A} v_i Q(s, i) + v_0 Q0(s)) / (v_0 + sum_{j in A} v_j)
 *             = Q0(s) + sum_{i in A} v_i (Q(s, i) - Q0(s)) / (v_0 + sum_{j in A} v_j),
 *   so serving and targets use the item values shifted by Q0 with the same slate optimizers (an item is
 *   worth showing when it beats not clicking, not when it beats nothing). `auto`: learned on multi-session
 *   envs, zero elsewhere (RecSim's setting and the paper's, for the reproduction).
 * - `dueling` (with a learned no-click value): the item network outputs the advantage of a click on i over not
 *   clicking, A(s, i) = Q(s, i) - Q0(s), and Q(s, i) = Q0(s) + A(s, i) (the dueling split of Wang et al. 2016,
 *   with the no-click value as the state value). A click transition trains Q0(s) + A(s, i), a no-click one
 *   Q0(s), so the state value is learned from every transition and A from what a click adds to it. Serving and
 *   targets use A as the shifted values directly: without the split, the shifted values are the difference of
 *   two separately fitted networks, each carrying the state value (the discounted reward still to come, which
 *   varies across users far more than across the candidates of one slate) with its own error.
 * - `nSteps` n > 1: n-step targets (n-step SARSA, Sutton & Barto 2018, 7.2; uncorrected n-step Q-learning with the
 *   other targets, as in Rainbow, Hessel et al. 2018). Each stored transition links to the same user's next one;
 *   a sampled transition t sums the rewards along that chain, r_t + g_t r_{t+1} + ... + (g_t ... g_{t+m-2})
 *   r_{t+m-1} with g each transition's discount, for m = n steps or fewer where the chain stops (the episode
 *   ended, or the next transition is not stored yet), then bootstraps as above at the state after the last
 *   one (SARSA: on the slate served there), discounted by g_t ... g_{t+m-1}. The returns carry what a clicked
 *   item did to state the user features do not show (retention's satisfaction) further than one bootstrap
 *   can. It needs every transition stored, so a learned no-click value or a position-0 choice.
 * - Huber loss, replay buffer, target networks copied every `targetUpdate` user-steps, epsilon-greedy
 *   exploration with uniform random slates.
 * - `dayDiscount` < 1: a transition from day d to day d' is discounted by gamma x dayDiscount^(d' - d) instead of
 *   gamma (a semi-Markov discount by the calendar time elapsed; agents/gae.ts stepDiscount).
 * - `consumedHistory`: the user rows also carry the mean and a moving average of the features of the items the
 *   user clicked so far in the episode (policies/history.ts ConsumedHistory), kept from the agent's feedback.
 * - `itemFeedback` (catalogue envs): every candidate row also carries the item's smoothed click rate, reward per
 *   click, log(1 + shows) and, where candidates have a length, reward per click per unit of length, counted
 *   from the agent's own training steps and frozen in evaluation (policies/item-feedback.ts). Q, Q0 and the
 *   learned choice model all see them; a replayed transition keeps the rows it was chosen on.
 * - `consumedItemStats` (with both): the consumed-item mean and moving average also cover the item columns, each
 *   clicked item's row as it was served, so the user rows carry what the agent's own statistics say about what the
 *   user consumed (in retention the hidden satisfaction moves toward the quality of consumed items).
 * Truncated transitions bootstrap; where the env's choice scores of a final observation are unavailable
 * (a user replaced at the horizon) the learned model's weights are used for it.
 */
import type { SlateQParams } from './slateq-definition.js';
import { tf, type BackendInfo, agentBackend, type BackendChoice } from '../policies/backend.js';
import { Adam, RunningNorm } from '../policies/nn.js';
import { SlateScorer, ValueNet } from '../policies/scorer.js';
import { LearnedChoiceModel } from '../policies/choice-model.js';
import { greedyMnlSlate, mnlSlateValue, optimalMnlSlate, topK } from '../policies/slates.js';
import { epsilonAt } from '../policies/schedules.js';
import { sampleDistinct } from '../envs/rng.js';
import { type AgentContext, type AgentEnvInfo, type AgentObservation, assertFiniteObservation, assertFiniteTransitions, BadCheckpoint, BaseAgent, IncompatibleEnv, itemFeedbackFor, PerUserStreams, type Transitions } from './api.js';
import { InvalidArgument } from '../envs/errors.js';
import { ConsumedHistory, type HistoryState } from '../policies/history.js';
import { candidateRows, type ItemFeedback, type ItemFeedbackState } from '../policies/item-feedback.js';
import { dayFeatureOffset, stepDiscount } from './gae.js';

type ChoiceKind = 'env' | 'learned' | 'position0';
type ReplayArray = Float32Array | Int32Array | Uint8Array | Float64Array;
type Rule = 'topk' | 'greedy' | 'optimal' | 'value';

export class SlateQAgent extends BaseAgent<SlateQParams> {
  readonly id = 'slateq';
  readonly backend: BackendInfo;
  readonly choice: ChoiceKind;
  readonly q: SlateScorer;
  readonly qTarget: SlateScorer;
  /** The no-click value Q0(s) and its target copy (noClickValue learned), else null. */
  readonly q0: ValueNet | null;
  readonly q0Target: ValueNet | null;
  private readonly opt: Adam;
  readonly userNorm: RunningNorm;
  readonly candNorm: RunningNorm;
  readonly learned: LearnedChoiceModel;
  private readonly evalStreams: PerUserStreams;
  /** Consumed-item features (consumedHistory): the training slots' and the evaluation slots' own. */
  private readonly consumed: { train: ConsumedHistory; eval: ConsumedHistory } | null;
  /** Width of the user rows the networks see (U, plus the consumed-item columns). */
  private readonly Ua: number;
  /** Per-item feedback statistics (itemFeedback), learned in training. */
  private readonly items: ItemFeedback | null;
  /** Width of the candidate rows the networks see (F, plus the item columns). */
  private readonly Fa: number;
  /** The training slots' user rows of the last act (width Ua), stored with their transitions. */
  private actRows = new Float32Array(0);
  /** User-steps seen while training. */
  steps = 0;
  gradientSteps = 0;
  private sinceTarget = 0;
  // replay (ring buffer of click transitions)
  private readonly cap: number;
  private size = 0;
  private head = 0;
  private rb: {
    user: Float32Array;
    cand: Float32Array;
    slate: Int32Array;
    clicked: Int32Array;
    reward: Float32Array;
    nextUser: Float32Array;
    nextCand: Float32Array;
    nextSlate: Int32Array;
    hasNextSlate: Uint8Array;
    terminal: Uint8Array;
    nextW: Float32Array;
    nextW0: Float32Array;
    /** With dayDiscount < 1: each transition's discount, gamma x dayDiscount^(days elapsed). */
    discount?: Float32Array;
    /** With nSteps > 1: the buffer index of the same user's next transition (-1: none stored yet, or ended). */
    succ?: Int32Array;
    /** With nSteps > 1: each entry's insertion count, so that a link to an overwritten entry is never made. */
    seq?: Float64Array;
  };
  /** With nSteps > 1: each training slot's last stored transition (-1: none, or its user ended) and its seq. */
  private lastEntry = new Int32Array(0);
  private lastSeq = new Float64Array(0);
  private inserted = 0;
  /** Offset of the raw `day` user feature (dayDiscount < 1), else -1. */
  private readonly dayOffset: number;
  private pending = new Int32Array(0);
  private lastSlate = new Int32Array(0);
  private wWork = new Float64Array(0);
  private w0Work = new Float64Array(0);
  private scratch = new Float64Array(0);
  flops = { inference: 0, update: 0 };

  static async create(p: SlateQParams, env: AgentEnvInfo, seed: number): Promise<SlateQAgent> {
    return new SlateQAgent(p, env, seed, await agentBackend(p.backend as BackendChoice));
  }

  constructor(p: SlateQParams, env: AgentEnvInfo, seed: number, backend: BackendInfo) {
    super(p, env, seed);
    this.backend = backend;
    const { U, N, F, K } = env.layout;
    const want = p.choiceModel;
    if (want === 'env' && !(env.hiddenNames.includes('choiceScore') && env.hiddenNames.includes('noClickScore'))) {
      throw new IncompatibleEnv('slateq', env.envId, 'choiceModel "env" needs the env\'s hidden choiceScore and noClickScore; use "learned"');
    }
    if (want === 'position0' && env.layout.choice !== 'position0') throw new IncompatibleEnv('slateq', env.envId, 'choiceModel "position0" needs an env whose user consumes slate position 0');
    this.choice = want === 'auto' ? (env.layout.choice === 'position0' ? 'position0' : 'learned') : (want as ChoiceKind);
    this.oracle = this.choice === 'env';
    const H = p.hidden;
    this.items = itemFeedbackFor(this.id, env, p.itemFeedback);
    const Fa = F + (this.items ? this.items.extra : 0);
    this.Fa = Fa;
    // consumedItemStats: the consumed-item averages cover the candidate rows with their item columns.
    const Fc = p.consumedItemStats ? Fa : F;
    this.consumed = p.consumedHistory ? { train: new ConsumedHistory(Fc, K, p.consumedRate), eval: new ConsumedHistory(Fc, K, p.consumedRate) } : null;
    const Ua = U + (this.consumed ? this.consumed.train.extra : 0);
    this.Ua = Ua;
    this.q = new SlateScorer(Ua, Fa, H, p.hidden2, 1, this.rng, 'q', p.wide);
    this.qTarget = new SlateScorer(Ua, Fa, H, p.hidden2, 1, this.rng, 'qt', p.wide);
    this.qTarget.params.copyFrom(this.q.params);
    const nc = p.noClickValue;
    if (nc === 'learned' && this.choice === 'position0') throw new IncompatibleEnv('slateq', env.envId, 'noClickValue "learned" needs a choice model with a no-click option (the env consumes position 0)');
    const learnedNoClick = nc === 'learned' || (nc === 'auto' && env.multiSession && this.choice !== 'position0');
    if (p.nSteps > 1 && !learnedNoClick && this.choice !== 'position0') {
      throw new IncompatibleEnv('slateq', env.envId, `nSteps ${p.nSteps} needs every transition stored: set noClickValue "learned" (with noClickValue "zero" the no-click steps are not stored), or nSteps 1`);
    }
    if (p.dueling && !learnedNoClick) throw new IncompatibleEnv('slateq', env.envId, `dueling splits Q(s, i) into the no-click value Q0(s) and the item's advantage over it: it needs a learned no-click value (noClickValue "learned"; got "${nc}"${this.choice === 'position0' ? ', and this env consumes slate position 0' : ''})`);
    this.q0 = learnedNoClick ? new ValueNet(Ua, Fa, H, this.rng, 'q0') : null;
    this.q0Target = learnedNoClick ? new ValueNet(Ua, Fa, H, this.rng, 'q0t') : null;
    if (this.q0) this.q0Target!.params.copyFrom(this.q0.params);
    this.opt = new Adam(this.q0 ? [...this.q.params.vars, ...this.q0.params.vars] : this.q.params.vars, p.lr, 1e-5);
    this.userNorm = new RunningNorm(Ua);
    this.candNorm = new RunningNorm(Fa);
    this.learned = new LearnedChoiceModel(Fa, Ua, K, 0.01);
    this.evalStreams = new PerUserStreams(seed, 'slateq-eval');
    this.dayOffset = dayFeatureOffset(this.id, env, p.dayDiscount);
    this.cap = p.replaySize;
    const C = this.cap;
    this.rb = {
      user: new Float32Array(C * Ua),
      cand: new Float32Array(C * N * Fa),
      slate: new Int32Array(C * K),
      clicked: new Int32Array(C),
      reward: new Float32Array(C),
      nextUser: new Float32Array(C * Ua),
      nextCand: new Float32Array(C * N * Fa),
      nextSlate: new Int32Array(C * K),
      hasNextSlate: new Uint8Array(C),
      terminal: new Uint8Array(C),
      nextW: new Float32Array(C * N),
      nextW0: new Float32Array(C),
      ...(this.dayOffset >= 0 ? { discount: new Float32Array(C) } : {}),
      ...(p.nSteps > 1 ? { succ: new Int32Array(C).fill(-1), seq: new Float64Array(C) } : {}),
    };
  }

  private norm(user: ArrayLike<number>, cand: ArrayLike<number>, n: number): { u: Float32Array; c: Float32Array } {
    const { N } = this.env.layout;
    const F = this.Fa;
    const U = this.Ua;
    const u = new Float32Array(n * U);
    const c = new Float32Array(n * N * F);
    this.userNorm.apply(user, n, u);
    this.candNorm.apply(cand, n * N, c);
    return { u, c };
  }

  private qValues(net: SlateScorer, u: Float32Array, c: Float32Array, n: number): Float32Array {
    const { N } = this.env.layout;
    const F = this.Fa;
    const U = this.Ua;
    const t = tf.tidy(() => net.scores(tf.tensor2d(u, [n, U]), tf.tensor2d(c, [n * N, F]), N));
    const out = t.dataSync() as Float32Array;
    t.dispose();
    this.flops.inference += net.flops(n, N);
    return out;
  }

  /** No-click values Q0 (n) of a value net, or zeros without one. */
  private noClickValues(net: ValueNet | null, u: Float32Array, c: Float32Array, n: number): Float32Array {
    if (!net) return new Float32Array(n);
    const { N } = this.env.layout;
    const F = this.Fa;
    const U = this.Ua;
    const t = tf.tidy(() => net.values(tf.tensor2d(u, [n, U]), tf.tensor2d(c, [n * N, F]), N));
    const out = t.dataSync() as Float32Array;
    t.dispose();
    this.flops.inference += net.flops(n);
    return out;
  }

  /** Item values shifted by the no-click value of their row, q_i - Q0(s) (a copy; q itself without Q0). */
  private shifted(q: Float32Array, q0: Float32Array, n: number): Float32Array {
    if (!this.q0) return q;
    const N = this.env.layout.N;
    const out = new Float32Array(q.length);
    for (let s = 0; s < n; s++) for (let i = 0; i < N; i++) out[s * N + i] = q[s * N + i]! - q0[s]!;
    return out;
  }

  /** Choice weights v (n x N) and v0 (n) for raw observations (normalized features for the learned model). */
  private weights(n: number, hidden: Float64Array | Float32Array | null, hidden0: Float64Array | Float32Array | null, uNorm: Float32Array, cNorm: Float32Array, v: Float64Array, v0: Float64Array): void {
    const { N } = this.env.layout;
    const F = this.Fa;
    const U = this.Ua;
    for (let s = 0; s < n; s++) {
      if (this.choice === 'env' && hidden && hidden0 && !Number.isNaN(hidden0[s]!)) {
        for (let i = 0; i < N; i++) v[s * N + i] = hidden[s * N + i]!;
        v0[s] = hidden0[s]!;
      } else if (this.choice === 'position0') {
        for (let i = 0; i < N; i++) v[s * N + i] = 1;
        v0[s] = 0;
      } else {
        for (let i = 0; i < N; i++) v[s * N + i] = this.learned.weight(cNorm, (s * N + i) * F, uNorm, s * U);
        v0[s] = this.learned.noClickWeight();
      }
    }
  }

  /** The slate of a rule for one row, and its value under weights v and values q. */
  private serve(rule: Rule, v: ArrayLike<number>, q: ArrayLike<number>, base: number, v0: number, out: Int32Array, o: number): number {
    const { N, K } = this.env.layout;
    if (this.scratch.length < N) this.scratch = new Float64Array(N);
    if (this.choice === 'position0') {
      topK(q, base, N, K, out, o);
      return q[base + out[o]!]!;
    }
    if (rule === 'value') topK(q, base, N, K, out, o);
    else if (rule === 'topk') {
      for (let i = 0; i < N; i++) this.scratch[i] = v[base + i]! * q[base + i]!;
      topK(this.scratch, 0, N, K, out, o);
    } else if (rule === 'greedy') greedyMnlSlate(v, q, base, N, K, v0, out, o);
    else optimalMnlSlate(v, q, base, N, K, v0, out, o, this.scratch);
    return mnlSlateValue(v, q, base, out, o, K, v0);
  }

  private slateValue(v: ArrayLike<number>, q: ArrayLike<number>, base: number, slate: ArrayLike<number>, so: number, v0: number): number {
    if (this.choice === 'position0') return q[base + slate[so]!]!;
    return mnlSlateValue(v, q, base, slate, so, this.env.layout.K, v0);
  }

  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    assertFiniteObservation(this.id, obs, obs.B, obs.active);
    const B = obs.B;
    const out = this.out(B);
    const { N, K } = this.env.layout;
    const rows = this.userRows(obs.user, obs, B, ctx.training, false);
    const cands = this.candRows(obs, B);
    if (ctx.training) {
      if (this.consumed) {
        if (this.actRows.length !== B * this.Ua) this.actRows = new Float32Array(B * this.Ua);
        this.actRows.set(rows.subarray(0, B * this.Ua));
      }
      this.userNorm.update(rows, B);
      this.candNorm.update(cands, B * N);
      if (this.pending.length !== B) {
        this.pending = new Int32Array(B).fill(-1);
        this.lastSlate = new Int32Array(B * K);
      }
    }
    const { u, c } = this.norm(rows, cands, B);
    // Dueling: the network's outputs are already the shifted values A(s, i) = Q(s, i) - Q0(s).
    const qRaw = this.qValues(this.q, u, c, B);
    const qv = this.params.dueling ? qRaw : this.shifted(qRaw, this.noClickValues(this.q0, u, c, B), B);
    if (this.wWork.length !== B * N) {
      this.wWork = new Float64Array(B * N);
      this.w0Work = new Float64Array(B);
    }
    let hid: Float64Array | Float32Array | null = null;
    let hid0: Float64Array | Float32Array | null = null;
    if (this.choice === 'env') {
      if (!obs.hidden) throw new InvalidArgument('slateq with choiceModel "env" is an oracle: the runner must pass the env\'s hidden state');
      const h = obs.hidden(['choiceScore', 'noClickScore']);
      hid = h.choiceScore!.data as Float64Array;
      hid0 = h.noClickScore!.data as Float64Array;
    }
    this.weights(B, hid, hid0, u, c, this.wWork, this.w0Work);
    const eps = ctx.training ? epsilonAt(this.params, this.steps) : ctx.explore ? this.params.epsilonEnd : 0;
    const rule = (ctx.training || this.params.evalServing === 'same' ? this.params.serving : this.params.evalServing) as Rule;
    for (let s = 0; s < B; s++) {
      if (!obs.active[s]) continue;
      const rng = ctx.training ? ctx.rng : this.evalStreams.get(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      if (eps > 0 && rng() < eps) sampleDistinct(rng, N, K, out, s * K);
      else this.serve(rule, this.wWork, qv, s * N, this.w0Work[s]!, out, s * K);
      if (ctx.training) {
        const pend = this.pending[s]!;
        // The slate served next to the same user (a user's first step follows no transition of its own: a new
        // training run, after a checkpoint, starts new users in every slot).
        if (pend >= 0 && obs.firstStep[s] !== 1) {
          this.rb.nextSlate.set(out.subarray(s * K, (s + 1) * K), pend * K);
          this.rb.hasNextSlate[pend] = 1;
        }
        this.pending[s] = -1;
        this.lastSlate.set(out.subarray(s * K, (s + 1) * K), s * K);
      }
    }
    if (this.consumed) (ctx.training ? this.consumed.train : this.consumed.eval).serve(this.params.consumedItemStats ? cands : obs.candidates, N, out, B, obs.active);
    return out;
  }

  /**
   * The user rows the networks see (B x Ua): the observation's own, or with the consumed-item columns
   * (`keepOwner`: a finished user's final observation, with the history it had).
   */
  private userRows(user: Float32Array, obs: { userIndex: Float64Array; firstStep: Uint8Array }, B: number, training: boolean, keepOwner: boolean): Float32Array {
    if (!this.consumed) return user;
    const U = this.env.layout.U;
    return (training ? this.consumed.train : this.consumed.eval).augment(user, U, obs, B, new Float32Array(B * this.Ua), { keepOwner });
  }

  /** The candidate rows the networks see (B x N x Fa, a new array): the observation's own, or with the item columns. */
  private candRows(obs: { candidates: Float32Array; itemIds: Int32Array | null }, B: number): Float32Array {
    return candidateRows(this.items, obs, B, this.env.layout.N);
  }

  /** What each slot's user clicked in the slate just served (consumed-item features; train and evaluation). */
  feedback(clicked: Int32Array, stepped: Uint8Array, ctx: AgentContext): void {
    if (!this.consumed) return;
    (ctx.training ? this.consumed.train : this.consumed.eval).consume(clicked, clicked.length, stepped);
  }

  observe(t: Transitions): void {
    assertFiniteTransitions(this.id, t);
    const B = t.obs.B;
    const { N, K } = this.env.layout;
    const F = this.Fa;
    // The rows the slates were chosen on, then the step's outcome joins the item statistics, then the next rows.
    const obsCand = this.candRows(t.obs, B);
    if (this.items) this.items.record(t.obs, N, t.actions, K, t.clicked, t.rewards, t.stepped, B);
    const nextCand = this.candRows(t.next, B);
    const finalCand = this.items && t.finalMask.includes(1) ? this.candRows(t.finalObservation, B) : t.finalObservation.candidates;
    const needW = this.choice === 'env';
    let hid: Float64Array | Float32Array | null = null;
    let hid0: Float64Array | Float32Array | null = null;
    if (needW && t.next.hidden) {
      const h = t.next.hidden(['choiceScore', 'noClickScore']);
      hid = h.choiceScore!.data as Float64Array;
      hid0 = h.noClickScore!.data as Float64Array;
    }
    const learnChoice = this.choice === 'learned' || this.choice === 'env';
    const U = this.Ua;
    const rows = this.consumed ? this.actRows : t.obs.user;
    // The next rows include this step's click; a finished user's final rows keep the history it had.
    const finalRows = this.consumed && t.finalMask.includes(1) ? this.userRows(t.finalObservation.user, t.obs, B, true, true) : t.finalObservation.user;
    const nextRows = this.consumed ? this.userRows(t.next.user, t.next, B, true, false) : t.next.user;
    const { u: nu, c: nc } = learnChoice ? this.norm(rows, obsCand, B) : { u: new Float32Array(0), c: new Float32Array(0) };
    for (let s = 0; s < B; s++) {
      if (!t.stepped[s]) continue;
      const rb = this.rb;
      this.steps++;
      this.sinceTarget++;
      if (learnChoice) this.learned.fit(nc, s * N * F, t.actions, s * K, nu, s * U, t.clicked[s]!);
      const clicked = this.choice === 'position0' ? 0 : t.clicked[s]!;
      if (clicked < 0 && !this.q0) continue;
      const ended = t.finalMask[s] === 1;
      const i = this.head;
      if (rb.succ) this.link(s, i, t.obs.firstStep[s] === 1, ended, B);
      this.head = (this.head + 1) % this.cap;
      this.size = Math.min(this.size + 1, this.cap);
      rb.user.set(rows.subarray(s * U, (s + 1) * U), i * U);
      rb.cand.set(obsCand.subarray(s * N * F, (s + 1) * N * F), i * N * F);
      rb.slate.set(t.actions.subarray(s * K, (s + 1) * K), i * K);
      rb.clicked[i] = clicked;
      rb.reward[i] = t.rewards[s]! * this.params.rewardScale;
      const nobs = ended ? t.finalObservation : t.next;
      rb.nextUser.set((ended ? finalRows : nextRows).subarray(s * U, (s + 1) * U), i * U);
      rb.nextCand.set((ended ? finalCand : nextCand).subarray(s * N * F, (s + 1) * N * F), i * N * F);
      rb.terminal[i] = t.terminated[s] === 1 ? 1 : 0;
      if (rb.discount) rb.discount[i] = stepDiscount(this.params.gamma, this.params.dayDiscount, t.obs.user[s * this.env.layout.U + this.dayOffset]!, nobs.user[s * this.env.layout.U + this.dayOffset]!);
      rb.hasNextSlate[i] = 0;
      // The env's choice scores of the next state (unavailable for a user replaced at the horizon: NaN).
      if (hid && hid0 && !ended) {
        for (let j = 0; j < N; j++) rb.nextW[i * N + j] = hid[s * N + j]!;
        rb.nextW0[i] = hid0[s]!;
      } else rb.nextW0[i] = NaN;
      if (!ended) this.pending[s] = i;
      else this.pending[s] = -1;
    }
  }

  /**
   * n-step chains: entry i (just taken) follows slot s's last stored transition, unless it is its user's first
   * step (a new user, also where a new training run starts); an ended user's transition links to none.
   */
  private link(s: number, i: number, first: boolean, ended: boolean, B: number): void {
    const rb = this.rb;
    if (this.lastEntry.length !== B) {
      this.lastEntry = new Int32Array(B).fill(-1);
      this.lastSeq = new Float64Array(B);
    }
    const prev = this.lastEntry[s]!;
    if (prev >= 0 && !first && rb.seq![prev] === this.lastSeq[s]) rb.succ![prev] = i;
    rb.succ![i] = -1;
    rb.seq![i] = ++this.inserted;
    this.lastEntry[s] = ended ? -1 : i;
    this.lastSeq[s] = this.inserted;
  }

  update(): Record<string, number> | void {
    const p = this.params;
    if (this.steps < p.learningStarts || this.size < p.batchSize) return;
    let loss = 0;
    let meanQ = 0;
    let meanY = 0;
    let noClick = 0;
    let meanQ0 = 0;
    for (let g = 0; g < p.gradientSteps; g++) {
      const r = this.trainStep();
      loss += r.loss;
      meanQ += r.meanQ;
      meanY += r.meanY;
      noClick += r.noClickShare;
      meanQ0 += r.meanQ0;
    }
    if (this.sinceTarget >= p.targetUpdate) {
      this.qTarget.params.copyFrom(this.q.params);
      if (this.q0) this.q0Target!.params.copyFrom(this.q0.params);
      this.sinceTarget = 0;
    }
    const n = p.gradientSteps;
    // td_loss: Huber loss of the minibatch; q_mean: the trained estimates (Q(s, clicked item) or Q0(s));
    // target_mean: the bootstrapped targets y; target_gap = target_mean - q_mean (how far the estimates trail
    // their targets: persistently positive while values are still rising); q0_mean: the learned no-click value
    // at the minibatch's current states (learned noClickValue only); no_click_share: no-click transitions trained.
    const m: Record<string, number> = {
      td_loss: loss / n,
      q_mean: meanQ / n,
      target_mean: meanY / n,
      target_gap: (meanY - meanQ) / n,
      no_click_share: noClick / n,
      epsilon: epsilonAt(p, this.steps),
      replay: this.size,
      gradient_steps: this.gradientSteps,
    };
    if (this.q0) m.q0_mean = meanQ0 / n;
    return m;
  }

  private trainStep(): { loss: number; meanQ: number; meanY: number; noClickShare: number; meanQ0: number } {
    const p = this.params;
    const { N, K } = this.env.layout;
    const F = this.Fa;
    const U = this.Ua;
    const mb = p.batchSize;
    const rb = this.rb;
    const idx = new Int32Array(mb);
    for (let k = 0; k < mb; k++) idx[k] = Math.floor(this.rng() * this.size);
    // n-step: each sampled transition's summed rewards, its discount to the bootstrap, and the entry whose next
    // state is bootstrapped (the last of its chain; the transition itself with nSteps 1).
    const { ret, disc, term, last } = this.chains(idx);
    const gat = (src: Float32Array, w: number, at: Int32Array) => {
      const o = new Float32Array(mb * w);
      for (let k = 0; k < mb; k++) o.set(src.subarray(at[k]! * w, (at[k]! + 1) * w), k * w);
      return o;
    };
    const { u, c } = this.norm(gat(rb.user, U, idx), gat(rb.cand, N * F, idx), mb);
    const { u: nu, c: nc } = this.norm(gat(rb.nextUser, U, last), gat(rb.nextCand, N * F, last), mb);
    // Targets on the NEXT state with the target network.
    const q0t = this.noClickValues(this.q0Target, nu, nc, mb);
    const qtRaw = this.qValues(this.qTarget, nu, nc, mb);
    const qt = this.params.dueling ? qtRaw : this.shifted(qtRaw, q0t, mb);
    const v = new Float64Array(mb * N);
    const v0 = new Float64Array(mb);
    const hid = gat(rb.nextW, N, last);
    const hid0 = gat(rb.nextW0, 1, last);
    this.weights(mb, this.choice === 'env' ? hid : null, this.choice === 'env' ? hid0 : null, nu, nc, v, v0);
    const y = new Float32Array(mb);
    const oh = new Float32Array(mb * N);
    const noClick = new Float32Array(mb);
    const tmp = new Int32Array(K);
    for (let k = 0; k < mb; k++) {
      const i = idx[k]!;
      const j = last[k]!;
      let next = 0;
      if (!term[k]) {
        if (p.target === 'sarsa' && rb.hasNextSlate[j]) next = this.slateValue(v, qt, k * N, rb.nextSlate, j * K, v0[k]!);
        else next = this.serve(p.target === 'sarsa' ? (p.serving as Rule) : (p.target as Rule), v, qt, k * N, v0[k]!, tmp, 0);
        next += q0t[k]!;
      }
      y[k] = ret[k]! + disc[k]! * next;
      if (rb.clicked[i]! >= 0) oh[k * N + rb.slate[i * K + rb.clicked[i]!]!] = 1;
      else noClick[k] = 1;
    }
    let meanQ = 0;
    let meanQ0 = 0;
    let meanY = 0;
    let nNo = 0;
    for (let k = 0; k < mb; k++) {
      meanY += y[k]! / mb;
      nNo += noClick[k]!;
    }
    const vars = this.q0 ? [...this.q.params.vars, ...this.q0.params.vars] : this.q.params.vars;
    const { value, grads } = tf.variableGrads(() => {
      const ut = tf.tensor2d(u, [mb, U]);
      const ct = tf.tensor2d(c, [mb * N, F]);
      const qs = this.q.scores(ut, ct, N);
      let picked = tf.sum(tf.mul(qs, tf.tensor2d(oh, [mb, N])), 1);
      // A no-click transition trains the no-click value Q0(s); a click trains the clicked item's Q(s, i).
      if (this.q0) {
        const q0 = this.q0.values(ut, ct, N);
        meanQ0 = tf.mean(q0).dataSync()[0] as number;
        // Dueling: a click's value is Q0(s) + A(s, i), a no-click's Q0(s), so Q0 is trained on every transition.
        picked = tf.add(picked, this.params.dueling ? q0 : tf.mul(q0, tf.tensor1d(noClick)));
      }
      meanQ = tf.mean(picked).dataSync()[0] as number;
      return tf.losses.huberLoss(tf.tensor1d(y), picked) as tf.Scalar;
    }, vars);
    const loss = value.dataSync()[0] as number;
    value.dispose();
    this.opt.applyClipped(vars.map((x) => grads[x.name]!), p.maxGradNorm);
    this.gradientSteps++;
    this.flops.update += 3 * this.q.flops(mb, N) + this.qTarget.flops(mb, N) + (this.q0 ? 4 * this.q0.flops(mb) : 0);
    return { loss, meanQ, meanY, noClickShare: nNo / mb, meanQ0 };
  }

  /**
   * For sampled entries: the rewards summed along each one's chain of at most nSteps transitions of the same
   * user (ret), the discount from the first to the bootstrap (disc), whether the chain ends in a termination
   * (term), and its last entry (last), whose next state is bootstrapped. With nSteps 1: r_i, g_i, terminal_i, i.
   */
  chains(idx: Int32Array): { ret: Float64Array; disc: Float64Array; term: Uint8Array; last: Int32Array } {
    const rb = this.rb;
    const n = idx.length;
    const ret = new Float64Array(n);
    const disc = new Float64Array(n);
    const term = new Uint8Array(n);
    const last = new Int32Array(n);
    const g = (e: number) => (rb.discount ? rb.discount[e]! : this.params.gamma);
    for (let k = 0; k < n; k++) {
      let j = idx[k]!;
      let r = rb.reward[j]!;
      let d = g(j);
      for (let m = 1; m < this.params.nSteps && !rb.terminal[j]; m++) {
        const nx = rb.succ![j]!;
        if (nx < 0) break;
        r += d * rb.reward[nx]!;
        d *= g(nx);
        j = nx;
      }
      ret[k] = r;
      disc[k] = d;
      term[k] = rb.terminal[j]!;
      last[k] = j;
    }
    return { ret, disc, term, last };
  }

  /**
   * The replay buffer's filled rows, as typed arrays (a checkpoint file stores them as bytes:
   * agents/checkpoint-file.ts). nextW0 marks an unknown next no-click weight with NaN; it is saved as -1 (the
   * weights are exp(v) > 0), so that the saved state holds finite numbers only.
   */
  private replayState(): Record<string, ReplayArray> {
    const out: Record<string, ReplayArray> = {};
    for (const [k, v] of Object.entries(this.replayFields())) {
      const rows = v.slice(0, this.size * (v.length / this.cap));
      if (k === 'nextW0') for (let i = 0; i < rows.length; i++) if (Number.isNaN(rows[i])) rows[i] = -1;
      out[k] = rows;
    }
    return out;
  }

  /** The replay buffer's fields by name. */
  private replayFields(): Record<string, ReplayArray> {
    return this.rb as unknown as Record<string, ReplayArray>;
  }

  /** A checkpoint's replay size, if this buffer holds that many rows. */
  private checkedReplaySize(size: unknown): number {
    if (!Number.isSafeInteger(size) || (size as number) < 0 || (size as number) > this.cap) throw new BadCheckpoint(`slateq: the checkpoint's replay size ${String(size)} does not fit a buffer of ${this.cap}`);
    return size as number;
  }

  /** Checkpoints written before the replay buffer was saved as typed arrays held whole JSON arrays (NaN as null). */
  protected override upgradeState(s: unknown): unknown {
    const st = s as { rb?: Record<string, unknown>; size?: unknown } | null;
    if (!st || !st.rb || !Object.values(st.rb).some(Array.isArray)) return s;
    const size = this.checkedReplaySize(st.size);
    const rb: Record<string, unknown> = {};
    const live = this.replayFields();
    for (const [k, v] of Object.entries(st.rb)) {
      const dst = live[k];
      if (!dst || !Array.isArray(v) || v.length !== dst.length) throw new BadCheckpoint(`slateq: the checkpoint's replay buffer field ${k} does not fit this agent (its replaySize or its features differ)`);
      const w = dst.length / this.cap;
      const T = dst.constructor as new (n: number) => ReplayArray;
      const rows = new T(size * w);
      for (let i = 0; i < rows.length; i++) rows[i] = v[i] === null ? (k === 'nextW0' ? -1 : NaN) : (v[i] as number);
      rb[k] = rows;
    }
    return { ...st, rb };
  }

  protected override getState(): unknown {
    return {
      q: this.q.params.getWeights(),
      qTarget: this.qTarget.params.getWeights(),
      q0: this.q0 ? this.q0.params.getWeights() : null,
      q0Target: this.q0Target ? this.q0Target.params.getWeights() : null,
      adam: this.opt.state(),
      userNorm: this.userNorm.state(),
      candNorm: this.candNorm.state(),
      learned: this.learned.state(),
      steps: this.steps,
      gradientSteps: this.gradientSteps,
      sinceTarget: this.sinceTarget,
      size: this.size,
      head: this.head,
      rb: this.replayState(),
      pending: Array.from(this.pending),
      lastSlate: Array.from(this.lastSlate),
      // Only with nSteps > 1, so that checkpoints saved before the option existed load as saved.
      ...(this.rb.succ ? { chains: { lastEntry: Array.from(this.lastEntry), lastSeq: Array.from(this.lastSeq), inserted: this.inserted } } : {}),
      evalStreams: this.evalStreams.state(),
      // Only with consumedHistory, so that checkpoints saved before the option existed load as saved.
      ...(this.consumed ? { consumed: { train: this.consumed.train.state(), eval: this.consumed.eval.state() } } : {}),
      ...(this.items ? { items: this.items.state() } : {}),
    };
  }

  protected override setState(x: unknown): void {
    const st = x as Record<string, unknown> & { rb: Record<string, unknown> };
    this.q.params.setWeights(st.q as number[][]);
    this.qTarget.params.setWeights(st.qTarget as number[][]);
    if (this.q0) {
      this.q0.params.setWeights(st.q0 as number[][]);
      this.q0Target!.params.setWeights(st.q0Target as number[][]);
    }
    this.opt.load(st.adam as ReturnType<Adam['state']>);
    this.userNorm.load(st.userNorm as ReturnType<RunningNorm['state']>);
    this.candNorm.load(st.candNorm as ReturnType<RunningNorm['state']>);
    this.learned.load(st.learned as ReturnType<LearnedChoiceModel['state']>);
    this.steps = st.steps as number;
    this.gradientSteps = st.gradientSteps as number;
    this.sinceTarget = st.sinceTarget as number;
    const rb = this.replayFields();
    const size = this.checkedReplaySize(st.size);
    // The ring's next slot: after the last row until the buffer is full, anywhere in it after.
    const head = st.head as number;
    if (!Number.isSafeInteger(head) || head < 0 || head >= this.cap || (size < this.cap && head !== size)) throw new BadCheckpoint(`slateq: the checkpoint's replay head ${String(head)} does not fit ${size} rows in a buffer of ${this.cap}`);
    this.size = size;
    this.head = head;
    for (const k of Object.keys(rb)) if (!(k in st.rb)) throw new BadCheckpoint(`slateq: the checkpoint's replay buffer has no field ${k} (the agent's options differ)`);
    for (const [k, v] of Object.entries(st.rb)) {
      const dst = rb[k];
      if (!dst) throw new BadCheckpoint(`slateq: the checkpoint's replay buffer has a field ${k} this agent does not keep (the agent's options differ)`);
      if (!ArrayBuffer.isView(v) || v.constructor !== dst.constructor || (v as unknown as ArrayLike<number>).length !== size * (dst.length / this.cap)) {
        throw new BadCheckpoint(`slateq: the checkpoint's replay buffer field ${k} does not fit this agent (a ${dst.constructor.name} of ${size} rows of ${dst.length / this.cap})`);
      }
      dst.fill(0);
      dst.set(v as unknown as ArrayLike<number>);
      if (k === 'nextW0') for (let i = 0; i < size; i++) if (dst[i] === -1) dst[i] = NaN;
    }
    this.pending = Int32Array.from(st.pending as number[]);
    this.lastSlate = Int32Array.from(st.lastSlate as number[]);
    if (this.rb.succ) {
      const ch = st.chains as { lastEntry: number[]; lastSeq: number[]; inserted: number } | undefined;
      if (!ch) throw new BadCheckpoint('slateq: the checkpoint has no n-step chains, but the agent was built with nSteps > 1');
      this.lastEntry = Int32Array.from(ch.lastEntry);
      this.lastSeq = Float64Array.from(ch.lastSeq);
      this.inserted = ch.inserted;
    }
    this.evalStreams.load(st.evalStreams as ReturnType<PerUserStreams['state']>);
    const cs = st.consumed as { train: HistoryState; eval: HistoryState } | null | undefined;
    if (this.consumed && cs) {
      this.consumed.train.load(cs.train);
      this.consumed.eval.load(cs.eval);
    }
    if (this.items) {
      if (!st.items) throw new InvalidArgument('slateq: the checkpoint has no item statistics, but the agent was built with itemFeedback');
      this.items.load(st.items as ItemFeedbackState);
    }
  }

  dispose(): void {
    this.q.params.dispose();
    this.qTarget.params.dispose();
    this.q0?.params.dispose();
    this.q0Target?.params.dispose();
    this.opt.dispose();
  }
}
