/**
 * long-term-satisfaction-v0: RecSim's long-term satisfaction ("choc/kale") environment.
 * Source: google-research/recsim `recsim/environments/long_term_satisfaction.py` (LTSUserModel,
 * LTSStaticUserSampler, LTSDocumentSampler, clicked_engagement_reward); Ie et al. 2019 (arXiv 1909.04847).
 *
 * ## Generative model (defaults in brackets)
 * - Documents: N [10] candidates per step, clickbait score c ~ Uniform(0, 1) (observable; 1 = chocolate,
 *   0 = kale).
 * - User (hidden): net positive exposure NPE_0 = (Uniform(0, 1) - 0.5) / (1 - beta); SAT = sigmoid(tau NPE),
 *   memory discount beta [0.7], sensitivity tau [0.01].
 * - Choice: none; the user always consumes slate position 0 (the other K-1 positions are ignored).
 * - Engagement of the consumed item (using SAT before the update):
 *     log e ~ Normal(SAT (c chocMean + (1 - c) kaleMean), c chocStd + (1 - c) kaleStd),  e = exp(log e);
 *   chocMean [5], kaleMean [4], chocStd [1], kaleStd [1]. Reward = e (unclipped, as in RecSim).
 * - Transition: NPE <- beta NPE - 2 (c - 0.5) + Normal(0, innovationStd [0.05]); SAT = sigmoid(tau NPE).
 * - terminated after exactly timeBudget [60] steps (the budget is part of the MDP, as in RecSim).
 *
 * At the defaults satisfaction barely moves: |NPE| <= 1/(1 - beta) = 3.33 keeps SAT in [0.4917, 0.5083],
 * so myopia (always the most clickbaity document) is optimal. The long-term effect dominates once
 * tau > (1 - beta) ln(chocMean / kaleMean) = 0.067 at beta 0.7 (kale forever beats choc forever); use
 * tau = 0.3 for a problem where long-term optimization matters.
 *
 * ## Observation (U = 2K, F = 1)
 * - user[2j], user[2j + 1]: response to slate position j of the previous step: [consumed (0/1), engagement
 *   clipped to [0, 100]] (RecSim clips the observed engagement, not the reward). Zeros after reset.
 * - candidates[i] = [clickbait score].
 * Hidden: npe, sat, `stepsLeft` (timeBudget minus the steps taken: the finite horizon, which the observation does
 * not show), and `expectedReward` = E[e] = exp(SAT m(c) + s(c)^2 / 2) per candidate.
 *
 * ## Random streams per user (fixed draw counts)
 * init: 1 at reset. candidates: N per step (and N at reset). choice: 2 per step (the engagement normal).
 * transition: 2 per step (the innovation normal).
 *
 * Deviations from RecSim: the seed is honoured (RecSim's samplers always use seed 0), duplicates in a slate
 * are rejected.
 */
import type { BatchSim, HiddenBlock, Layout, SlotStatus } from './core.js';
import { lazyHidden, RUNNING, TERMINATED } from './core.js';
import { sigmoid } from './math.js';
import { defineParams, param, type ParamsOf } from './params.js';
import { atMost, defineEnv } from './definition.js';
import { observationSpaceOf } from './core.js';
import { normal, type Rng, userStream } from './rng.js';

export const longTermSatisfactionParams = defineParams({
  numCandidates: param.int({ default: 10, min: 1, max: 10000, description: 'candidates N drawn afresh each step' }),
  slateSize: param.int({ default: 2, min: 1, max: 10000, description: 'slate size K (only position 0 is consumed)' }),
  memoryDiscount: param.number({ default: 0.7, min: 0, max: 1, maxExclusive: true, description: 'beta: NPE memory discount' }),
  sensitivity: param.number({ default: 0.01, min: 0, max: 10, description: 'tau: satisfaction sensitivity to NPE' }),
  innovationStd: param.number({ default: 0.05, min: 0, max: 10, description: 'std of the NPE innovation noise' }),
  chocMean: param.number({ default: 5, min: -20, max: 20, description: 'log-engagement mean of pure clickbait (c = 1) at SAT = 1' }),
  chocStd: param.number({ default: 1, min: 0, max: 10, description: 'log-engagement std of pure clickbait' }),
  kaleMean: param.number({ default: 4, min: -20, max: 20, description: 'log-engagement mean of pure kale (c = 0) at SAT = 1' }),
  kaleStd: param.number({ default: 1, min: 0, max: 10, description: 'log-engagement std of pure kale' }),
  timeBudget: param.int({ default: 60, min: 1, max: 1e6, description: 'steps per episode' }),
});
export type LongTermSatisfactionParams = ParamsOf<typeof longTermSatisfactionParams>;


export class LongTermSatisfactionSim implements BatchSim {
  readonly layout: Layout;
  readonly user: Float32Array;
  readonly candidates: Float32Array;
  readonly itemIds = null;
  readonly rewards: Float64Array;
  readonly clicked: Int32Array;
  readonly episodeStatNames: readonly string[] = [];
  private readonly npe: Float64Array;
  private readonly steps: Int32Array;
  private readonly clickbait: Float64Array;
  private readonly lastEngagement: Float64Array;
  private readonly rCand: Rng[];
  private readonly rChoice: Rng[];
  private readonly rTrans: Rng[];
  private populationSeed = 0;
  private readonly N: number;
  private readonly K: number;
  private readonly beta: number;
  private readonly tau: number;
  private readonly eta: number;
  private readonly chocMean: number;
  private readonly chocStd: number;
  private readonly kaleMean: number;
  private readonly kaleStd: number;
  private readonly budget: number;

  constructor(
    readonly B: number,
    p: LongTermSatisfactionParams,
  ) {
    this.N = p.numCandidates;
    this.K = p.slateSize;
    this.beta = p.memoryDiscount;
    this.tau = p.sensitivity;
    this.eta = p.innovationStd;
    this.chocMean = p.chocMean;
    this.chocStd = p.chocStd;
    this.kaleMean = p.kaleMean;
    this.kaleStd = p.kaleStd;
    this.budget = p.timeBudget;
    this.layout = {
      U: 2 * this.K,
      N: this.N,
      F: 1,
      K: this.K,
      itemCount: null,
      userFeatures: [{ name: 'response', offset: 0, size: 2 * this.K, kind: 'history', stride: 2, fields: ['consumed', 'engagement'] }],
      candidateFeatures: [{ name: 'clickbait', offset: 0, size: 1, kind: 'real' }],
      rewardRange: [0, Infinity],
      choice: 'position0',
    };
    this.clicked = new Int32Array(B).fill(-1);
    this.user = new Float32Array(B * 2 * this.K);
    this.candidates = new Float32Array(B * this.N);
    this.rewards = new Float64Array(B);
    this.npe = new Float64Array(B);
    this.steps = new Int32Array(B);
    this.clickbait = new Float64Array(B * this.N);
    this.lastEngagement = new Float64Array(B);
    this.rCand = new Array<Rng>(B);
    this.rChoice = new Array<Rng>(B);
    this.rTrans = new Array<Rng>(B);
  }

  setPopulation(seed: number): void {
    this.populationSeed = seed;
  }

  resetSlot(s: number, userIndex: number): void {
    const init = userStream(this.populationSeed, userIndex, 'init');
    this.npe[s] = (init() - 0.5) / (1 - this.beta);
    this.rCand[s] = userStream(this.populationSeed, userIndex, 'candidates');
    this.rChoice[s] = userStream(this.populationSeed, userIndex, 'choice');
    this.rTrans[s] = userStream(this.populationSeed, userIndex, 'transition');
    this.steps[s] = 0;
    this.rewards[s] = 0;
    this.lastEngagement[s] = 0;
    this.user.fill(0, s * 2 * this.K, (s + 1) * 2 * this.K);
    this.sampleCandidates(s);
  }

  private sampleCandidates(s: number): void {
    const rng = this.rCand[s]!;
    for (let i = 0; i < this.N; i++) {
      const c = rng();
      this.clickbait[s * this.N + i] = c;
      this.candidates[s * this.N + i] = c;
    }
  }

  private logMean(c: number, sat: number): number {
    return sat * (c * this.chocMean + (1 - c) * this.kaleMean);
  }
  private logStd(c: number): number {
    return c * this.chocStd + (1 - c) * this.kaleStd;
  }

  stepSlot(s: number, actions: Int32Array, o: number): SlotStatus {
    const c = this.clickbait[s * this.N + actions[o]!]!;
    const sat = sigmoid(this.tau * this.npe[s]!);
    const e = Math.exp(this.logMean(c, sat) + this.logStd(c) * normal(this.rChoice[s]!));
    this.npe[s] = this.beta * this.npe[s]! - 2 * (c - 0.5) + this.eta * normal(this.rTrans[s]!);
    this.rewards[s] = e;
    this.clicked[s] = 0;
    this.lastEngagement[s] = e;
    this.steps[s]! += 1;
    const ub = s * 2 * this.K;
    this.user.fill(0, ub, ub + 2 * this.K);
    this.user[ub] = 1;
    this.user[ub + 1] = Math.min(100, e);
    this.sampleCandidates(s);
    return this.steps[s]! >= this.budget ? TERMINATED : RUNNING;
  }

  info(s: number): Record<string, unknown> {
    const npe = this.npe[s]!;
    const sat = sigmoid(this.tau * npe);
    const cands = this.clickbait.slice(s * this.N, (s + 1) * this.N);
    return lazyHidden({ engagement: this.lastEngagement[s] }, () => ({
      npe,
      sat,
      expectedReward: Array.from(cands, (c) => Math.exp(this.logMean(c, sat) + 0.5 * this.logStd(c) ** 2)),
    }));
  }

  hidden(): Record<string, HiddenBlock> {
    const { B, N } = this;
    const sat = new Float64Array(B);
    const stepsLeft = new Float64Array(B);
    const expectedReward = new Float64Array(B * N);
    for (let s = 0; s < B; s++) {
      sat[s] = sigmoid(this.tau * this.npe[s]!);
      stepsLeft[s] = this.budget - this.steps[s]!;
      for (let i = 0; i < N; i++) {
        const c = this.clickbait[s * N + i]!;
        expectedReward[s * N + i] = Math.exp(this.logMean(c, sat[s]!) + 0.5 * this.logStd(c) ** 2);
      }
    }
    return {
      npe: { data: this.npe, shape: [], description: 'net positive exposure' },
      sat: { data: sat, shape: [], description: 'satisfaction sigmoid(tau NPE)' },
      stepsLeft: { data: stepsLeft, shape: [], description: 'steps left in the episode (timeBudget minus the steps taken)' },
      expectedReward: { data: expectedReward, shape: [N], description: 'expected engagement if the candidate is in slate position 0' },
    };
  }

  episodeStats(): void {}
}

export const longTermSatisfactionEnv = defineEnv({
  id: 'long-term-satisfaction-v0',
  description: "RecSim's long-term satisfaction (choc/kale) env: clickbait raises engagement now and lowers satisfaction later",
  source: 'Ie et al. 2019, RecSim (arXiv 1909.04847), google-research/recsim long_term_satisfaction.py',
  params: longTermSatisfactionParams,
  multiSession: false,
  card: {
    models: 'hidden net positive exposure and satisfaction driven by clickbait vs kale content',
    observation: 'user: previous response (K x 2: consumed, engagement); candidates: N x 1 clickbait score',
    action: 'Slate(N, K), default N 10, K 2; position 0 is consumed',
    reward: 'engagement exp(Normal(SAT (5c + 4(1 - c)), 1))',
    episodeEnd: 'terminated after exactly 60 steps',
  },
  check: atMost('long-term-satisfaction-v0', ['slateSize', 'numCandidates']),
  createSim: (B, p) => new LongTermSatisfactionSim(B, p),
  observationSpace: (p, l) => {
    const K = p.slateSize;
    const uHigh: number[] = [];
    for (let j = 0; j < K; j++) uHigh.push(1, 100);
    return observationSpaceOf(l, 0, uHigh, 0, 1);
  },
});
