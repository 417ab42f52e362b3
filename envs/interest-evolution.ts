/**
 * interest-evolution-v0: RecSim's interest evolution environment, reproduced exactly.
 * Source: Ie et al. 2019, "RecSim: A Configurable Simulation Platform for Recommender Systems"
 * (arXiv 1909.04847) and google-research/recsim `recsim/environments/interest_evolution.py`
 * (UtilityModelVideoSampler + UtilityModelUserSampler + MultinomialProportionalChoiceModel, as built by
 * `create_environment`); the SlateQ paper (Ie et al., IJCAI 2019) uses the same model.
 *
 * ## Generative model (defaults in brackets)
 * Topics T = 20. Topic quality means m = concat(linspace(-3, 0, 14), linspace(0, 3, 6)).
 * - Documents: each step N [10] candidates are drawn afresh: topic c ~ UniformInt{0..19};
 *   features = one-hot(c); quality q ~ Normal(m_c, qualityStd [0.1]); length L = videoLength [4] minutes.
 * - User: interests u ~ Uniform(-1, 1)^20; time budget b_0 = timeBudget [200] minutes.
 * - Slate: K [2] distinct candidates. Choice (multinomial proportional, slate order irrelevant):
 *     s_i = u_{c_i} + 1,   s_0 = noClickMass [1] + 1,
 *     P(click i) = s_i / (sum_{j in slate} s_j + s_0),   P(no click) = s_0 / (same).
 * - Click on (c, q): watch time w = min(b, L); reward r = w.
 *     Interest drift: delta = driftRate [0.3] (1 - |u_c|)(1 - u_c); with probability (u_c + 1)/2
 *     u_c <- u_c + delta, else u_c <- u_c - delta; clip u to [-1, 1].
 *     Budget: b <- b - w + qualityFactor [0.264706 = 0.9/3.4] * w * q.
 * - No click: r = 0, b <- b - stepPenalty [0.5].
 * - terminated when b <= 0 (the session budget is part of the MDP). No truncation (wrap with TimeLimit).
 *
 * ## Observation (U = 20 + 4K, or 4K with hideInterests; F = 20)
 * - user[0..20): the interests u (observable, as in RecSim; `hideInterests` drops this block).
 * - user[20 + 4j .. 20 + 4j + 4): the response to slate position j of the previous step:
 *   [clicked (0/1), watch time, quality, topic]; RecSim reveals the quality and topic of every slate
 *   document in its responses. After reset the block is [0, 0, 0, -1] (no previous step).
 * - candidates[i] = one-hot(topic of candidate i) (quality is hidden until shown).
 * Hidden (info.hidden / vector `hidden()`): interests, budget, candidate qualities, and the choice model's
 * per-candidate scores s_i (`choiceScore`), s_0 (`noClickScore`), expected reward if clicked (`expectedReward`).
 *
 * ## Random streams per user (see envs/rng.ts), fixed draw counts whatever the action
 * init: 20 (interests) at reset. candidates: 4 per pair of candidates per step (two topics, then one Box-Muller
 * pair whose cosine and sine give the two qualities; an odd N draws one full pair for the last candidate), at
 * reset and after every step. choice: 1 per step. transition: 1 per step (the drift coin, drawn even without a click).
 *
 * Deviations from RecSim, all deliberate: duplicates in a slate are rejected (RecSim accepts them), the
 * seed is honoured per user (RecSim mixes a global numpy RNG across users and agents), and `liked`
 * (never set by RecSim) is not reported.
 */
import type { BatchSim, FeatureSpec, HiddenBlock, Layout, SlotStatus } from './core.js';
import { lazyHidden, RUNNING, TERMINATED } from './core.js';
import { defineParams, param, type ParamsOf } from './params.js';
import { atMost, defineEnv } from './definition.js';
import { observationSpaceOf } from './core.js';
import { type Rng, userStream } from './rng.js';

export const IEV_TOPICS = 20;

/** concat(linspace(-3, 0, 14), linspace(0, 3, 6)) */
export const IEV_TOPIC_QUALITY_MEANS: readonly number[] = [
  ...Array.from({ length: 14 }, (_, i) => -3 + (3 * i) / 13),
  ...Array.from({ length: 6 }, (_, i) => (3 * i) / 5),
];

export const interestEvolutionParams = defineParams({
  numCandidates: param.int({ default: 10, min: 1, max: 10000, description: 'candidates N drawn afresh each step' }),
  slateSize: param.int({ default: 2, min: 1, max: 10000, description: 'slate size K (at most numCandidates)' }),
  timeBudget: param.number({ default: 200, min: 0, max: 1e7, minExclusive: true, description: 'initial time budget in minutes' }),
  stepPenalty: param.number({ default: 0.5, min: 0, max: 1e4, description: 'budget spent on a step without a click' }),
  videoLength: param.number({ default: 4, min: 0, max: 100, minExclusive: true, description: 'length of every video in minutes' }),
  qualityFactor: param.number({ default: 0.9 / 3.4, min: 0, max: 10, description: 'budget bonus per watched minute per unit quality (RecSim user_update_alpha)' }),
  qualityStd: param.number({ default: 0.1, min: 0, max: 10, description: 'std of document quality around its topic mean' }),
  driftRate: param.number({ default: 0.3, min: 0, max: 1, description: 'interest drift step (RecSim alpha_y_intercept)' }),
  noClickMass: param.number({ default: 1, min: -1, max: 1e4, minExclusive: true, description: 'no-click score before the +1 shift (s_0 = noClickMass + 1)' }),
  hideInterests: param.boolean({ default: false, description: 'drop the interest vector from the observation (partially observable variant)' }),
});
export type InterestEvolutionParams = ParamsOf<typeof interestEvolutionParams>;

export class InterestEvolutionSim implements BatchSim {
  readonly layout: Layout;
  readonly user: Float32Array;
  readonly candidates: Float32Array;
  readonly itemIds = null;
  readonly rewards: Float64Array;
  readonly clicked: Int32Array;
  readonly episodeStatNames: readonly string[] = [];
  private readonly interests: Float64Array;
  private readonly budget: Float64Array;
  private readonly quality: Float64Array;
  private readonly topic: Int32Array;
  private readonly lastClick: Int32Array;
  private readonly lastWatch: Float64Array;
  private readonly rCand: Rng[];
  private readonly rChoice: Rng[];
  private readonly rTrans: Rng[];
  private readonly respOffset: number;
  private populationSeed = 0;
  private readonly N: number;
  private readonly K: number;
  private readonly timeBudget: number;
  private readonly stepPenalty: number;
  private readonly videoLength: number;
  private readonly qualityFactor: number;
  private readonly qualityStd: number;
  private readonly driftRate: number;
  private readonly s0: number;
  private readonly hideInterests: boolean;
  private scoreCache: Float64Array;

  constructor(
    readonly B: number,
    p: InterestEvolutionParams,
  ) {
    this.N = p.numCandidates;
    this.K = p.slateSize;
    this.timeBudget = p.timeBudget;
    this.stepPenalty = p.stepPenalty;
    this.videoLength = p.videoLength;
    this.qualityFactor = p.qualityFactor;
    this.qualityStd = p.qualityStd;
    this.driftRate = p.driftRate;
    this.s0 = p.noClickMass + 1;
    this.hideInterests = p.hideInterests;
    const T = IEV_TOPICS;
    this.respOffset = this.hideInterests ? 0 : T;
    const U = this.respOffset + 4 * this.K;
    const userFeatures: FeatureSpec[] = [];
    if (!this.hideInterests) userFeatures.push({ name: 'interests', offset: 0, size: T, kind: 'real' });
    userFeatures.push({ name: 'response', offset: this.respOffset, size: 4 * this.K, kind: 'history', stride: 4, fields: ['clicked', 'watchTime', 'quality', 'topic'] });
    this.layout = { U, N: this.N, F: T, K: this.K, itemCount: null, userFeatures, candidateFeatures: [{ name: 'topic', offset: 0, size: T, kind: 'onehot' }], rewardRange: [0, this.videoLength], choice: 'mnl' };
    this.clicked = new Int32Array(B).fill(-1);
    this.user = new Float32Array(B * U);
    this.candidates = new Float32Array(B * this.N * T);
    this.rewards = new Float64Array(B);
    this.interests = new Float64Array(B * T);
    this.budget = new Float64Array(B);
    this.quality = new Float64Array(B * this.N);
    this.topic = new Int32Array(B * this.N);
    this.lastClick = new Int32Array(B).fill(-1);
    this.lastWatch = new Float64Array(B);
    this.rCand = new Array<Rng>(B);
    this.rChoice = new Array<Rng>(B);
    this.rTrans = new Array<Rng>(B);
    this.scoreCache = new Float64Array(this.K);
  }

  setPopulation(seed: number): void {
    this.populationSeed = seed;
  }

  resetSlot(s: number, userIndex: number): void {
    const T = IEV_TOPICS;
    const init = userStream(this.populationSeed, userIndex, 'init');
    for (let t = 0; t < T; t++) this.interests[s * T + t] = 2 * init() - 1;
    this.rCand[s] = userStream(this.populationSeed, userIndex, 'candidates');
    this.rChoice[s] = userStream(this.populationSeed, userIndex, 'choice');
    this.rTrans[s] = userStream(this.populationSeed, userIndex, 'transition');
    this.budget[s] = this.timeBudget;
    this.lastClick[s] = -1;
    this.lastWatch[s] = 0;
    this.rewards[s] = 0;
    // Candidate buffers may hold a previous user's one-hots: clear this slot's block once.
    this.candidates.fill(0, s * this.N * T, (s + 1) * this.N * T);
    for (let i = 0; i < this.N; i++) this.topic[s * this.N + i] = -1;
    this.sampleCandidates(s);
    const U = this.layout.U;
    const ub = s * U;
    if (!this.hideInterests) for (let t = 0; t < T; t++) this.user[ub + t] = this.interests[s * T + t]!;
    for (let j = 0; j < this.K; j++) {
      const o = ub + this.respOffset + 4 * j;
      this.user[o] = 0;
      this.user[o + 1] = 0;
      this.user[o + 2] = 0;
      this.user[o + 3] = -1;
    }
  }

  private sampleCandidates(s: number): void {
    const T = IEV_TOPICS;
    const N = this.N;
    const rng = this.rCand[s]!;
    const means = IEV_TOPIC_QUALITY_MEANS;
    const cb = s * N * T;
    const sd = this.qualityStd;
    // Candidates in pairs: topic, topic, then one Box-Muller pair gives both qualities (cos and sin).
    for (let i = 0; i < N; i += 2) {
      const two = i + 1 < N;
      const c1 = Math.floor(rng() * T);
      const c2 = Math.floor(rng() * T);
      const r = Math.sqrt(-2 * Math.log(1 - rng()));
      const a = 2 * Math.PI * rng();
      this.setCandidate(s, i, c1, means[c1]! + sd * r * Math.cos(a), cb);
      if (two) this.setCandidate(s, i + 1, c2, means[c2]! + sd * r * Math.sin(a), cb);
    }
  }

  private setCandidate(s: number, i: number, c: number, q: number, cb: number): void {
    const T = IEV_TOPICS;
    const k = s * this.N + i;
    const old = this.topic[k]!;
    if (old >= 0) this.candidates[cb + i * T + old] = 0;
    this.topic[k] = c;
    this.quality[k] = q;
    this.candidates[cb + i * T + c] = 1;
  }

  stepSlot(s: number, actions: Int32Array, o: number): SlotStatus {
    const T = IEV_TOPICS;
    const N = this.N;
    const K = this.K;
    const ib = s * T;
    // Choice: one draw on the choice stream.
    let total = this.s0;
    const scores = this.scoreCache;
    for (let j = 0; j < K; j++) {
      const sc = this.interests[ib + this.topic[s * N + actions[o + j]!]!]! + 1;
      scores[j] = sc;
      total += sc;
    }
    const x = this.rChoice[s]!() * total;
    let clicked = -1;
    let acc = 0;
    for (let j = 0; j < K; j++) {
      acc += scores[j]!;
      if (x < acc) {
        clicked = j;
        break;
      }
    }
    const flip = this.rTrans[s]!(); // drawn every step, used only on a click
    let reward = 0;
    let watch = 0;
    if (clicked >= 0) {
      const k = s * N + actions[o + clicked]!;
      const c = this.topic[k]!;
      const q = this.quality[k]!;
      watch = Math.min(this.budget[s]!, this.videoLength);
      reward = watch;
      const u = this.interests[ib + c]!;
      const delta = this.driftRate * (1 - Math.abs(u)) * (1 - u);
      let nu = flip < (u + 1) / 2 ? u + delta : u - delta;
      if (nu > 1) nu = 1;
      else if (nu < -1) nu = -1;
      this.interests[ib + c] = nu;
      this.budget[s] = this.budget[s]! - watch + this.qualityFactor * watch * q;
    } else {
      this.budget[s] = this.budget[s]! - this.stepPenalty;
    }
    this.rewards[s] = reward;
    this.lastClick[s] = clicked;
    this.clicked[s] = clicked;
    this.lastWatch[s] = watch;
    // Observation: interests after the update, then the responses to the slate just shown.
    const ub = s * this.layout.U;
    if (!this.hideInterests) for (let t = 0; t < T; t++) this.user[ub + t] = this.interests[ib + t]!;
    for (let j = 0; j < K; j++) {
      const k = s * N + actions[o + j]!;
      const ro = ub + this.respOffset + 4 * j;
      this.user[ro] = j === clicked ? 1 : 0;
      this.user[ro + 1] = j === clicked ? watch : 0;
      this.user[ro + 2] = this.quality[k]!;
      this.user[ro + 3] = this.topic[k]!;
    }
    this.sampleCandidates(s);
    return this.budget[s]! <= 0 ? TERMINATED : RUNNING;
  }

  info(s: number): Record<string, unknown> {
    const T = IEV_TOPICS;
    const N = this.N;
    const interests = this.interests.slice(s * T, (s + 1) * T);
    const topics = this.topic.slice(s * N, (s + 1) * N);
    const quality = this.quality.slice(s * N, (s + 1) * N);
    const budget = this.budget[s]!;
    const watch = Math.min(budget, this.videoLength);
    const s0 = this.s0;
    return lazyHidden({ watchTime: this.lastWatch[s] }, () => ({
      interests: Array.from(interests),
      budget,
      quality: Array.from(quality),
      choiceScore: Array.from(topics, (c) => interests[c]! + 1),
      noClickScore: s0,
      expectedReward: Array.from(topics, () => watch),
    }));
  }

  hidden(): Record<string, HiddenBlock> {
    const T = IEV_TOPICS;
    const { B, N } = this;
    const choiceScore = new Float64Array(B * N);
    const expectedReward = new Float64Array(B * N);
    for (let s = 0; s < B; s++) {
      const w = Math.min(this.budget[s]!, this.videoLength);
      for (let i = 0; i < N; i++) {
        choiceScore[s * N + i] = this.interests[s * T + this.topic[s * N + i]!]! + 1;
        expectedReward[s * N + i] = w;
      }
    }
    return {
      interests: { data: this.interests, shape: [T], description: 'true interests u in [-1, 1]' },
      budget: { data: this.budget, shape: [], description: 'remaining time budget (minutes)' },
      quality: { data: this.quality, shape: [N], description: 'quality of each candidate' },
      choiceScore: { data: choiceScore, shape: [N], description: 'choice score s_i = u_c + 1 of each candidate' },
      noClickScore: { data: new Float64Array(B).fill(this.s0), shape: [], description: 'no-click score s_0' },
      expectedReward: { data: expectedReward, shape: [N], description: 'reward if the candidate is clicked (watch time)' },
    };
  }

  episodeStats(): void {}
}

export const interestEvolutionEnv = defineEnv({
  id: 'interest-evolution-v0',
  description: "RecSim's interest evolution env: users with drifting topic interests and a time budget extended by quality",
  source: 'Ie et al. 2019, RecSim (arXiv 1909.04847), google-research/recsim interest_evolution.py; SlateQ (Ie et al., IJCAI 2019)',
  params: interestEvolutionParams,
  multiSession: false,
  card: {
    models: 'topic interests that drift with consumption; a session time budget that high-quality videos extend',
    observation: 'user: interests (20) + previous responses (K x 4); candidates: N x 20 one-hot topics',
    action: 'Slate(N, K), default N 10, K 2',
    reward: 'watch minutes of the clicked video',
    episodeEnd: 'terminated when the time budget (200 min) is spent',
  },
  check: atMost('interest-evolution-v0', ['slateSize', 'numCandidates']),
  createSim: (B, p) => new InterestEvolutionSim(B, p),
  observationSpace: (p, l) => {
    const K = p.slateSize;
    const uLow: number[] = [];
    const uHigh: number[] = [];
    if (!p.hideInterests) for (let t = 0; t < IEV_TOPICS; t++) uLow.push(-1), uHigh.push(1);
    for (let j = 0; j < K; j++) uLow.push(0, 0, -Infinity, -1), uHigh.push(1, p.videoLength, Infinity, IEV_TOPICS - 1);
    return observationSpaceOf(l, uLow, uHigh, 0, 1);
  },
});
