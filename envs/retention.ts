/**
 * retention-v0 and retention-v1: engagement-gym's multi-session engagement and churn simulators (v1, the
 * flagship since its introduction, is described after v0).
 * Source: engagement-gym's own model. Its mechanisms follow the literature: multinomial-logit choice with a
 * no-click option (RecSim's MNL choice model, Ie et al. 2019), RecSim-style interest drift toward or away
 * from consumed topics, satiation that decays with rest (rebounding bandits, Leqi et al. 2021), a hidden
 * satisfaction state driven by consumed quality (RecSim's choc/kale), a per-step session-leave hazard and
 * return-time / churn processes driven by satisfaction (Kapoor et al. 2015; DRN, Zheng et al. 2018;
 * RLUR, Cai et al. 2023). Every mechanism can be switched off for ablations.
 *
 * ## World (one per population seed, stream `egym|<seed>|world|catalogue`)
 * Catalogue of M [1000] items over T [10] topics. Item i: topic c_i ~ UniformInt{0..T-1};
 * z1, z2 ~ Normal(0, 1); appeal a_i = Phi(z1); quality q_i = Phi(rho z1 + sqrt(1 - rho^2) z2) with
 * rho = appealQualityCorr [-0.6] (clickbait exists: appealing items tend to be worse);
 * observable quality estimate qhat_i = clip(q_i + qualityNoise [0.1] Normal(0, 1), 0, 1);
 * length l_i = clip(exp(ln 4 + 0.5 Normal(0, 1)), 1, 30) minutes.
 * Trend direction d_t ~ Uniform(-1, 1) per topic (stream `world|trend`).
 *
 * ## Users (stream `init`)
 * Type: casual with probability casualShare [0.6], else core. Per-type constants:
 *
 * | constant | casual | core | role |
 * |---|---|---|---|
 * | beta_a (appeal sensitivity) | 2.0 | 1.0 | weight of appeal in the click utility |
 * | beta_b (boredom sensitivity) | 1.5 | 1.0 | weight of boredom in the click utility |
 * | h0 (leave logit) | -2.6 | -3.3 | base per-step session-leave hazard |
 * | mu0 (mean return gap, days) | 2.6 | 1.1 | mean gap at satisfaction 0.5 |
 * | c0 (churn logit) | -3.4 | -4.6 | base per-session churn probability |
 *
 * Interests theta_t ~ Uniform(-1, 1); satisfaction S_0 ~ Uniform(0.4, 0.6); boredom b_t = 0; day 0.
 *
 * ## Within a session (one step = one slate)
 * N [20] candidates are drawn without replacement from the catalogue (stream `candidates`, Floyd's
 * algorithm). The slate holds K [5] distinct candidates. Click utility of item i (topic c):
 *     v_i = 2 theta_c + beta_a (2 a_i - 1) - beta_b b_c,     no-click utility v_0 = noClickUtility [1.5];
 * choice by multinomial logit: P(i) = exp(v_i) / (exp(v_0) + sum_{j in slate} exp(v_j)).
 * Watch fraction of a clicked item: f = sigmoid(1.5 theta_c + 3 (q_i - 0.5) - b_c + 0.5 eps),
 * eps ~ Normal(0, 1): it depends on interest match, quality and boredom, never on appeal.
 * Watch minutes = f l_i. Engagement reward = watch minutes (0 without a click).
 * Then (stream `transition`):
 * - drift [on]: with probability f, theta_c <- theta_c + kappa (1 - theta_c), else theta_c <- theta_c - kappa (1 + theta_c),
 *   kappa = driftRate [0.05] (only on a click);
 * - boredom [on]: b_t <- 0.9 b_t for every topic, then b_c <- b_c + boredomGain [0.4] on a click;
 * - satisfaction [on]: on a click S <- S + satisfactionRate [0.15] (q_i - S): clickbait lowers it.
 * Session engagement e <- 0.7 e + 0.3 (f on a click, else 0), e = 0.5 at the session start.
 * Session end (stream `session`, one draw per step): the user leaves after this step with probability
 *     h = sigmoid(h0 + 0.5 sum_t b_t - 2 (S - 0.5) - 2 (e - 0.5)),
 * or when the session reaches maxSessionSteps [50] steps.
 *
 * ## Between sessions (stream `return`, 2 + 2T draws at every session end)
 * - churn [on]: the user leaves the platform for good with probability sigmoid(c0 - 6 (S - 0.5)): terminated.
 * - else the gap to the next session is Exponential with mean mu0 exp(-2 (S - 0.5)) days.
 *   If the next session would start at or after horizonDays [30]: truncated (the observation window ends).
 * - boredom decays by 0.5 per day away (b_t <- b_t 0.5^gap); interests take a daily random walk
 *   [dailyDrift on]: theta_t <- clip(theta_t + 0.05 sqrt(gap) Normal(0, 1), -1, 1).
 * - trend shift [off]: the first session that starts on or after trendShiftDay moves every interest by
 *   trendShiftMagnitude [0.8] d_t (clipped): a population-level, non-stationary change of taste.
 * A calendar day with at least one session is an active day.
 *
 * ## Reward (param `reward`)
 * `engagement` [default]: watch minutes. `retention`: +1 at the step whose session end leads to a session
 * on a new calendar day within the horizon. `mix`: minutes + retentionWeight [10] x retention.
 *
 * ## Observation
 * user (U = 4 + 3L + 3T, history length L [5]): [day, session index, step in session, days since the last
 * session (0 in the first)], then the last L interactions, newest first, each [topic, clicked (0/1), watch
 * fraction]; an interaction is one step: the clicked item's topic, or slate position 0's topic without a
 * click; padding is [-1, 0, 0]. Then the platform's lifetime profile of the user: impressions per topic
 * (T: every shown item counts), clicks per topic (T) and watched fractions summed per topic (T).
 * candidates (F = T + 3): [one-hot(topic), appeal, quality estimate, length in minutes]; itemIds: catalogue ids.
 * Hidden (info.hidden / vector hidden()): type (0 casual, 1 core), interests, boredom, satisfaction,
 * true candidate qualities, and the choice model: choiceScore exp(v_i), noClickScore exp(v_0), and
 * expectedReward E[watch minutes | click] per candidate.
 *
 * ## Random streams per user, fixed draw counts
 * init: 2 + T at reset. candidates: N per step (and N at reset). choice: 3 per step (choice 1, watch noise 2).
 * transition: 1 per step. session: 1 per step. return: 2 + 2T per session end (the k-th session end of a
 * user always uses the same draws, whatever the policy did before).
 *
 * Calibration of the defaults (random policy, measured; see README): mean session length, return gap and
 * 30-day churn, and the myopic-versus-balanced trade-off. test/retention.test.ts keeps them in range.
 *
 * ## World seed
 * Param `worldSeed` [-1 in v0]: the world (catalogue, trend) is drawn from `worldSeed` when it is >= 0, else
 * (v0 as first released) from the population seed, so that every population had its own catalogue. The
 * experiment runner sets worldSeed 0 unless the spec sets it: training, logging and held-out users are
 * different users of one world.
 *
 * # retention-v1: the long-term lever must be learned
 * Same users, sessions, choice, watch, drift, boredom, satisfaction, leave, return, churn and reward
 * equations as above (the same code), except for the catalogue and what a candidate shows. In v0 the
 * observable quality estimate is a noisy copy of the lever (quality), so top-K by one column is near the
 * ceiling. In v1 appeal and quality are hidden functions of observable content features.
 *
 * ## World (one per `worldSeed` [0], stream `egym|<worldSeed>|world|catalogue-v1`, then `world|trend`)
 * - Quality direction w_q = s / sqrt(D), s_k random signs (D draws): every embedding coordinate carries the
 *   same share of it, so no single column is the lever. A second sign vector, made orthogonal to w_q
 *   (Gram-Schmidt) and normalized, is w_perp; appeal direction w_a = rho w_q + sqrt(1 - rho^2) w_perp with
 *   rho = appealQualityCorr [-0.8] (cos(w_a, w_q) = rho: appealing content tends to be worse).
 * - Per-topic quality offsets mu_t ~ Normal(0, topicQualityStd [0.5]^2), t = 1..T.
 * - Item i (M [1000] items): topic c_i ~ UniformInt{0..T-1}; embedding e_i ~ Normal(0, I_D), D = embeddingDim [8];
 *   appeal a_i = Phi((w_a . e_i + sigma eps_a) / sqrt(1 + sigma^2)),
 *   quality q_i = Phi((mu_{c_i} + w_q . e_i + sigma eps_q) / sqrt(topicQualityStd^2 + 1 + sigma^2)),
 *   eps ~ Normal(0, 1), sigma = itemNoise [0.5] (the item-specific part that only per-item feedback reveals);
 *   length l_i = clip(exp(ln 4 + 0.5 Normal(0, 1)), 1, 30) minutes. Trend d_t ~ Uniform(-1, 1) as in v0.
 *   With the defaults corr(logit appeal, logit quality) = -0.58 (v0: -0.6) and each embedding column
 *   correlates with quality's latent by about 0.29.
 *
 * ## Observation
 * user: as v0 (U = 4 + 3L + 3T). candidates (F = T + D + 1): [one-hot(topic), embedding (D), length in
 * minutes]; no appeal, no quality estimate. itemIds: catalogue ids (per-item statistics are fair to learn).
 * The lever (quality, and what it does to the hidden satisfaction) is learnable from feedback: watch
 * fractions and minutes depend on quality, satisfaction shows in session lengths, return gaps and churn.
 * Hidden: as v0 (type, interests, boredom, satisfaction, quality, choiceScore, noClickScore, expectedReward), and
 * contentQuality = Phi((mu_{c_i} + w_q . e_i) / sqrt(topicQualityStd^2 + 1 + sigma^2)): the part of quality that
 * observable content predicts (item noise at its mean), the reference of the `content-oracle` agent.
 *
 * Calibration (`egym calibrate`, 1,500 users; README): random, the myopic click maximizer (below random),
 * myopic-oracle (normalized score at most 0.5), every observable non-learning heuristic (at most 0.4), the
 * ceiling oracle (at least 1.5 x random); test/retention-v1.test.ts holds every target.
 */
import type { BatchSim, HiddenBlock, Layout, SlotStatus } from './core.js';
import { lazyHidden, RUNNING, TERMINATED, TRUNCATED } from './core.js';
import { expectedSigmoid, normalCdf, sigmoid } from './math.js';
import { defineParams, param, type ParamsOf } from './params.js';
import { atMost, defineEnv } from './definition.js';
import type { Dict } from './spaces.js';
import { observationSpaceOf } from './core.js';
import { normal, type Rng, sampleDistinct, userStream, worldStream } from './rng.js';

const retentionShape = {
  numItems: param.int({ default: 1000, min: 10, max: 1000000, description: 'catalogue size M' }),
  numTopics: param.int({ default: 10, min: 2, max: 100, description: 'topics T' }),
  numCandidates: param.int({ default: 20, min: 1, max: 10000, description: 'candidates N per step (at most numItems)' }),
  slateSize: param.int({ default: 5, min: 1, max: 10000, description: 'slate size K (at most numCandidates)' }),
  historyLength: param.int({ default: 5, min: 0, max: 100, description: 'interactions L in the observation' }),
  horizonDays: param.number({ default: 30, min: 0, max: 3650, minExclusive: true, description: 'observation window H in days (truncation)' }),
  maxSessionSteps: param.int({ default: 50, min: 1, max: 10000, description: 'cap on steps per session' }),
  casualShare: param.number({ default: 0.6, min: 0, max: 1, description: 'share of casual users (the rest are core)' }),
  appealQualityCorr: param.number({ default: -0.6, min: -0.99, max: 0.99, description: 'latent correlation of appeal and quality' }),
  qualityNoise: param.number({ default: 0.1, min: 0, max: 1, description: 'std of the observable quality estimate' }),
  noClickUtility: param.number({ default: 1.5, min: -20, max: 20, description: 'utility v_0 of not clicking' }),
  driftRate: param.number({ default: 0.05, min: 0, max: 1, description: 'kappa: interest drift per click' }),
  boredomGain: param.number({ default: 0.4, min: 0, max: 10, description: 'boredom added to a topic per click' }),
  satisfactionRate: param.number({ default: 0.15, min: 0, max: 1, description: 'step of satisfaction toward the consumed quality' }),
  drift: param.boolean({ default: true, description: 'mechanism switch: interest drift on consumption' }),
  dailyDrift: param.boolean({ default: true, description: 'mechanism switch: daily random walk of interests' }),
  boredom: param.boolean({ default: true, description: 'mechanism switch: boredom / satiation' }),
  satisfaction: param.boolean({ default: true, description: 'mechanism switch: hidden satisfaction (off: S stays at S_0)' }),
  churn: param.boolean({ default: true, description: 'mechanism switch: permanent churn' }),
  trendShiftDay: param.number({ default: -1, min: -1, max: 3650, description: 'day of the population taste shift (-1: off)' }),
  trendShiftMagnitude: param.number({ default: 0.8, min: 0, max: 2, description: 'size of the taste shift' }),
  reward: param.enum({ default: 'engagement', values: ['engagement', 'retention', 'mix'], description: 'reward signal' }),
  retentionWeight: param.number({ default: 10, min: 0, max: 1e4, description: 'minutes per new active day in the mix reward' }),
  worldSeed: param.int({ default: -1, min: -1, max: 2 ** 52, description: 'seed of the world (catalogue, trend); -1: each population seed draws its own world (v0 as first released)' }),
};
export const retentionParams = defineParams(retentionShape);
export type RetentionParams = ParamsOf<typeof retentionParams>;

/**
 * retention-v1's params: retention-v0's without the observable quality estimate, plus the content model of
 * the catalogue (embedding dimension, how much of quality and appeal the features carry) and a world seed
 * that defaults to 0, so every population (training, logging, held-out) lives in the same world.
 */
const { qualityNoise: _qn, worldSeed: _ws, appealQualityCorr: _aq, ...retentionV1Common } = retentionShape;
export const retentionV1Params = defineParams({
  ...retentionV1Common,
  embeddingDim: param.int({ default: 8, min: 2, max: 64, description: 'dimension D of the observable item embedding' }),
  appealQualityCorr: param.number({ default: -0.8, min: -0.99, max: 0.99, description: 'cosine of the appeal and quality directions in embedding space (clickbait: negative)' }),
  topicQualityStd: param.number({ default: 0.5, min: 0, max: 5, description: 'std of the per-topic quality offset mu_t' }),
  itemNoise: param.number({ default: 0.5, min: 0, max: 5, description: 'std of the item-specific (idiosyncratic) part of appeal and quality' }),
  worldSeed: param.int({ default: 0, min: 0, max: 2 ** 52, description: 'seed of the world: catalogue, directions, topic offsets, trend' }),
});
export type RetentionV1Params = ParamsOf<typeof retentionV1Params>;

/** Per-type constants (casual, core); see the table in the header. */
export const RETENTION_USER_TYPES = {
  names: ['casual', 'core'],
  appealSensitivity: [2.0, 1.0],
  boredomSensitivity: [1.5, 1.0],
  leaveLogit: [-2.6, -3.3],
  meanGapDays: [2.6, 1.1],
  churnLogit: [-3.4, -4.6],
} as const;

const W_INTEREST = 2;
const WATCH_INTEREST = 1.5;
const WATCH_QUALITY = 3;
const WATCH_BOREDOM = 1;
const WATCH_NOISE = 0.5;
const BOREDOM_STEP_DECAY = 0.9;
const BOREDOM_DAY_DECAY = 0.5;
const LEAVE_BOREDOM = 0.5;
const LEAVE_SAT = 2;
const LEAVE_ENGAGEMENT = 2;
const CHURN_SAT = 6;
const GAP_SAT = 2;
const DAILY_DRIFT_STD = 0.05;

/** The catalogue of a population. */
export interface Catalogue {
  topic: Int32Array;
  /** retention-v1: observable content embedding, M x D (empty in v0). */
  embedding: Float64Array;
  embeddingDim: number;
  appeal: Float64Array;
  quality: Float64Array;
  qualityEstimate: Float64Array;
  /** retention-v1: the part of quality that observable content predicts, Phi((mu_c + w_q . e) / s_q) (empty in v0). */
  contentQuality: Float64Array;
  length: Float64Array;
  trend: Float64Array;
}

export function makeCatalogue(seed: number, M: number, T: number, rho: number, qualityNoise: number): Catalogue {
  const rng = worldStream(seed, 'catalogue');
  const c: Catalogue = {
    topic: new Int32Array(M),
    embedding: new Float64Array(0),
    embeddingDim: 0,
    appeal: new Float64Array(M),
    quality: new Float64Array(M),
    qualityEstimate: new Float64Array(M),
    contentQuality: new Float64Array(0),
    length: new Float64Array(M),
    trend: new Float64Array(T),
  };
  const r2 = Math.sqrt(1 - rho * rho);
  for (let i = 0; i < M; i++) {
    c.topic[i] = Math.floor(rng() * T);
    const z1 = normal(rng);
    const z2 = normal(rng);
    c.appeal[i] = normalCdf(z1);
    const q = normalCdf(rho * z1 + r2 * z2);
    c.quality[i] = q;
    c.qualityEstimate[i] = Math.min(1, Math.max(0, q + qualityNoise * normal(rng)));
    c.length[i] = Math.min(30, Math.max(1, Math.exp(Math.log(4) + 0.5 * normal(rng))));
  }
  const tr = worldStream(seed, 'trend');
  for (let t = 0; t < T; t++) c.trend[t] = 2 * tr() - 1;
  return c;
}

/** The world's hidden directions of retention-v1 (appeal and quality act through the embedding). */
export interface ContentModel {
  /** Unit quality direction w_q (D). */
  qualityDirection: Float64Array;
  /** Unit appeal direction w_a (D), cos(w_a, w_q) = appealQualityCorr. */
  appealDirection: Float64Array;
  /** Per-topic quality offsets mu_t (T). */
  topicQuality: Float64Array;
}

/** A unit vector of D random signs / sqrt(D): every coordinate carries the same share of the direction. */
function signVector(rng: Rng, D: number): Float64Array {
  const v = new Float64Array(D);
  for (let k = 0; k < D; k++) v[k] = (rng() < 0.5 ? -1 : 1) / Math.sqrt(D);
  return v;
}

/**
 * retention-v1's world (stream `egym|<worldSeed>|world|catalogue-v1`, then `world|trend`): see the header.
 * Returns the catalogue and the hidden content model behind it.
 */
export function makeCatalogueV1(
  worldSeed: number,
  M: number,
  T: number,
  D: number,
  rho: number,
  topicStd: number,
  itemNoise: number,
): Catalogue & { model: ContentModel } {
  const rng = worldStream(worldSeed, 'catalogue-v1');
  const wq = signVector(rng, D);
  // w_perp: another sign vector made orthogonal to w_q (Gram-Schmidt); redrawn while (almost) parallel.
  let wp = signVector(rng, D);
  for (let tries = 0; ; tries++) {
    let dot = 0;
    for (let k = 0; k < D; k++) dot += wp[k]! * wq[k]!;
    let n2 = 0;
    for (let k = 0; k < D; k++) {
      wp[k] = wp[k]! - dot * wq[k]!;
      n2 += wp[k]! * wp[k]!;
    }
    if (n2 > 1e-6 || tries > 100) {
      const n = Math.sqrt(n2) || 1;
      for (let k = 0; k < D; k++) wp[k] = wp[k]! / n;
      break;
    }
    wp = signVector(rng, D);
  }
  const wa = new Float64Array(D);
  const r2 = Math.sqrt(1 - rho * rho);
  for (let k = 0; k < D; k++) wa[k] = rho * wq[k]! + r2 * wp[k]!;
  const mu = new Float64Array(T);
  for (let t = 0; t < T; t++) mu[t] = topicStd * normal(rng);
  const c: Catalogue & { model: ContentModel } = {
    topic: new Int32Array(M),
    embedding: new Float64Array(M * D),
    embeddingDim: D,
    appeal: new Float64Array(M),
    quality: new Float64Array(M),
    qualityEstimate: new Float64Array(0),
    contentQuality: new Float64Array(M),
    length: new Float64Array(M),
    trend: new Float64Array(T),
    model: { qualityDirection: wq, appealDirection: wa, topicQuality: mu },
  };
  const sa = Math.sqrt(1 + itemNoise * itemNoise);
  const sq = Math.sqrt(topicStd * topicStd + 1 + itemNoise * itemNoise);
  for (let i = 0; i < M; i++) {
    const t = Math.floor(rng() * T);
    c.topic[i] = t;
    let za = 0;
    let zq = 0;
    for (let k = 0; k < D; k++) {
      const e = normal(rng);
      c.embedding[i * D + k] = e;
      za += wa[k]! * e;
      zq += wq[k]! * e;
    }
    za += itemNoise * normal(rng);
    zq += mu[t]!;
    c.contentQuality[i] = normalCdf(zq / sq);
    zq += itemNoise * normal(rng);
    c.appeal[i] = normalCdf(za / sa);
    c.quality[i] = normalCdf(zq / sq);
    c.length[i] = Math.min(30, Math.max(1, Math.exp(Math.log(4) + 0.5 * normal(rng))));
  }
  const tr = worldStream(worldSeed, 'trend');
  for (let t = 0; t < T; t++) c.trend[t] = 2 * tr() - 1;
  return c;
}

export class RetentionSim implements BatchSim {
  readonly layout: Layout;
  readonly user: Float32Array;
  readonly candidates: Float32Array;
  readonly itemIds: Int32Array;
  readonly rewards: Float64Array;
  readonly clicked: Int32Array;
  readonly episodeStatNames: readonly string[] = ['activeDays', 'sessions', 'churned', 'clicks'];
  private cat!: Catalogue;
  private catSeed = -1;
  /** retention-v1: embedding features, no quality estimate, world from `worldSeed`. */
  private readonly v1: boolean;
  private readonly D: number;
  private populationSeed = 0;
  // parameters
  private readonly M: number;
  private readonly T: number;
  private readonly N: number;
  private readonly K: number;
  private readonly L: number;
  private readonly H: number;
  private readonly maxSteps: number;
  private readonly p: RetentionParams | RetentionV1Params;
  private readonly v0: number;
  private readonly rewardMode: number; // 0 engagement, 1 retention, 2 mix
  private readonly retentionWeight: number;
  private readonly shiftDay: number;
  // state
  private readonly type: Uint8Array;
  private readonly theta: Float64Array;
  private readonly bored: Float64Array;
  private readonly sat: Float64Array;
  private readonly day: Float64Array;
  private readonly gapBefore: Float64Array;
  private readonly session: Int32Array;
  private readonly stepInSession: Int32Array;
  private readonly sessEng: Float64Array;
  private readonly activeDays: Int32Array;
  private readonly lastActiveDay: Int32Array;
  private readonly churned: Uint8Array;
  private readonly clicks: Int32Array;
  private readonly shifted: Uint8Array;
  private readonly history: Float32Array;
  private readonly topicShows: Float64Array;
  private readonly topicClicks: Float64Array;
  private readonly topicWatch: Float64Array;
  // last-step facts for info
  private readonly lastItem: Int32Array;
  private readonly lastMinutes: Float64Array;
  private readonly lastFraction: Float64Array;
  private readonly lastSessionEnded: Uint8Array;
  private readonly lastGap: Float64Array;
  private readonly lastNewDay: Uint8Array;
  private readonly rCand: Rng[];
  private readonly rChoice: Rng[];
  private readonly rTrans: Rng[];
  private readonly rSess: Rng[];
  private readonly rRet: Rng[];
  private readonly expU: Float64Array;
  private readonly hiddenBuf: { choiceScore: Float64Array; expectedReward: Float64Array; quality: Float64Array; contentQuality: Float64Array; noClick: Float64Array; type: Float64Array };

  constructor(
    readonly B: number,
    p: RetentionParams | RetentionV1Params,
    variant: 'v0' | 'v1' = 'v0',
  ) {
    this.p = p;
    this.v1 = variant === 'v1';
    this.D = 'embeddingDim' in p ? p.embeddingDim : 0;
    this.M = p.numItems;
    this.T = p.numTopics;
    this.N = p.numCandidates;
    this.K = p.slateSize;
    this.L = p.historyLength;
    this.H = p.horizonDays;
    this.maxSteps = p.maxSessionSteps;
    this.v0 = p.noClickUtility;
    this.rewardMode = ['engagement', 'retention', 'mix'].indexOf(p.reward);
    this.retentionWeight = p.retentionWeight;
    this.shiftDay = p.trendShiftDay;
    const { T, N, K, L } = this;
    const U = 4 + 3 * L + 3 * T;
    const F = this.v1 ? T + this.D + 1 : T + 3;
    this.layout = {
      U,
      N,
      F,
      K,
      itemCount: this.M,
      userFeatures: [
        { name: 'day', offset: 0, size: 1, kind: 'real' },
        { name: 'session', offset: 1, size: 1, kind: 'int' },
        { name: 'stepInSession', offset: 2, size: 1, kind: 'int' },
        { name: 'daysSinceLastSession', offset: 3, size: 1, kind: 'real' },
        { name: 'history', offset: 4, size: 3 * L, kind: 'history', stride: 3, fields: ['topic', 'clicked', 'watchFraction'] },
        { name: 'topicShows', offset: 4 + 3 * L, size: T, kind: 'real' },
        { name: 'topicClicks', offset: 4 + 3 * L + T, size: T, kind: 'real' },
        { name: 'topicWatch', offset: 4 + 3 * L + 2 * T, size: T, kind: 'real' },
      ],
      candidateFeatures: this.v1
        ? [
            { name: 'topic', offset: 0, size: T, kind: 'onehot' },
            { name: 'embedding', offset: T, size: this.D, kind: 'real' },
            { name: 'length', offset: T + this.D, size: 1, kind: 'real' },
          ]
        : [
            { name: 'topic', offset: 0, size: T, kind: 'onehot' },
            { name: 'appeal', offset: T, size: 1, kind: 'real' },
            { name: 'qualityEstimate', offset: T + 1, size: 1, kind: 'real' },
            { name: 'length', offset: T + 2, size: 1, kind: 'real' },
          ],
      rewardRange: [0, this.rewardMode === 1 ? 1 : this.rewardMode === 0 ? 30 : 30 + this.retentionWeight],
      choice: 'mnl',
    };
    this.clicked = new Int32Array(B).fill(-1);
    this.user = new Float32Array(B * U);
    this.candidates = new Float32Array(B * N * F);
    this.itemIds = new Int32Array(B * N).fill(-1);
    this.rewards = new Float64Array(B);
    this.type = new Uint8Array(B);
    this.theta = new Float64Array(B * T);
    this.bored = new Float64Array(B * T);
    this.sat = new Float64Array(B);
    this.day = new Float64Array(B);
    this.gapBefore = new Float64Array(B);
    this.session = new Int32Array(B);
    this.stepInSession = new Int32Array(B);
    this.sessEng = new Float64Array(B);
    this.activeDays = new Int32Array(B);
    this.lastActiveDay = new Int32Array(B);
    this.churned = new Uint8Array(B);
    this.clicks = new Int32Array(B);
    this.shifted = new Uint8Array(B);
    this.history = new Float32Array(B * L * 3);
    this.topicShows = new Float64Array(B * T);
    this.topicClicks = new Float64Array(B * T);
    this.topicWatch = new Float64Array(B * T);
    this.lastItem = new Int32Array(B);
    this.lastMinutes = new Float64Array(B);
    this.lastFraction = new Float64Array(B);
    this.lastSessionEnded = new Uint8Array(B);
    this.lastGap = new Float64Array(B);
    this.lastNewDay = new Uint8Array(B);
    this.rCand = new Array<Rng>(B);
    this.rChoice = new Array<Rng>(B);
    this.rTrans = new Array<Rng>(B);
    this.rSess = new Array<Rng>(B);
    this.rRet = new Array<Rng>(B);
    this.expU = new Float64Array(K);
    this.hiddenBuf = {
      choiceScore: new Float64Array(B * N),
      expectedReward: new Float64Array(B * N),
      quality: new Float64Array(B * N),
      contentQuality: new Float64Array(this.v1 ? B * N : 0),
      noClick: new Float64Array(B).fill(Math.exp(this.v0)),
      type: new Float64Array(B),
    };
  }

  /** The catalogue of the current population. */
  get catalogue(): Catalogue {
    return this.cat;
  }

  setPopulation(seed: number): void {
    this.populationSeed = seed;
    // The world: from worldSeed when set (>= 0), else (v0's original behaviour) from the population seed.
    const ws = this.p.worldSeed;
    const world = ws >= 0 ? ws : seed;
    if (world !== this.catSeed) {
      // The one-hots of the candidates on display belong to the old catalogue's topics: clear them all, so
      // sampleCandidates never unsets the wrong column (retention-v0 switches catalogues with the population).
      this.candidates.fill(0);
      this.itemIds.fill(-1);
      const p = this.p;
      this.cat =
        'embeddingDim' in p
        ? makeCatalogueV1(world, this.M, this.T, this.D, p.appealQualityCorr, p.topicQualityStd, p.itemNoise)
        : makeCatalogue(world, this.M, this.T, p.appealQualityCorr, p.qualityNoise);
      this.catSeed = world;
    }
  }

  resetSlot(s: number, userIndex: number): void {
    const { T, L } = this;
    const pop = this.populationSeed;
    const init = userStream(pop, userIndex, 'init');
    this.type[s] = init() < this.p.casualShare ? 0 : 1;
    for (let t = 0; t < T; t++) {
      this.theta[s * T + t] = 2 * init() - 1;
      this.bored[s * T + t] = 0;
      this.topicShows[s * T + t] = 0;
      this.topicClicks[s * T + t] = 0;
      this.topicWatch[s * T + t] = 0;
    }
    this.sat[s] = 0.4 + 0.2 * init();
    this.rCand[s] = userStream(pop, userIndex, 'candidates');
    this.rChoice[s] = userStream(pop, userIndex, 'choice');
    this.rTrans[s] = userStream(pop, userIndex, 'transition');
    this.rSess[s] = userStream(pop, userIndex, 'session');
    this.rRet[s] = userStream(pop, userIndex, 'return');
    this.day[s] = 0;
    this.gapBefore[s] = 0;
    this.session[s] = 0;
    this.stepInSession[s] = 0;
    this.sessEng[s] = 0.5;
    this.activeDays[s] = 1;
    this.lastActiveDay[s] = 0;
    this.churned[s] = 0;
    this.clicks[s] = 0;
    this.shifted[s] = 0;
    this.rewards[s] = 0;
    this.lastItem[s] = -1;
    this.lastMinutes[s] = 0;
    this.lastFraction[s] = 0;
    this.lastSessionEnded[s] = 0;
    this.lastGap[s] = 0;
    this.lastNewDay[s] = 0;
    const hb = s * L * 3;
    for (let j = 0; j < L; j++) {
      this.history[hb + 3 * j] = -1;
      this.history[hb + 3 * j + 1] = 0;
      this.history[hb + 3 * j + 2] = 0;
    }
    this.sampleCandidates(s);
    this.writeUser(s);
  }

  private sampleCandidates(s: number): void {
    const { N, T } = this;
    const F = this.layout.F;
    const ids = this.itemIds;
    const cat = this.cat;
    const cb = s * N * F;
    // Clear the one-hots of the previous candidates, then draw N distinct items.
    for (let i = 0; i < N; i++) {
      const old = ids[s * N + i]!;
      if (old >= 0) this.candidates[cb + i * F + cat.topic[old]!] = 0;
    }
    sampleDistinct(this.rCand[s]!, this.M, N, ids, s * N);
    for (let i = 0; i < N; i++) {
      const it = ids[s * N + i]!;
      const o = cb + i * F;
      this.candidates[o + cat.topic[it]!] = 1;
      if (this.v1) {
        const D = this.D;
        for (let k = 0; k < D; k++) this.candidates[o + T + k] = cat.embedding[it * D + k]!;
        this.candidates[o + T + D] = cat.length[it]!;
      } else {
        this.candidates[o + T] = cat.appeal[it]!;
        this.candidates[o + T + 1] = cat.qualityEstimate[it]!;
        this.candidates[o + T + 2] = cat.length[it]!;
      }
    }
  }

  private writeUser(s: number): void {
    const U = this.layout.U;
    const o = s * U;
    this.user[o] = this.day[s]!;
    this.user[o + 1] = this.session[s]!;
    this.user[o + 2] = this.stepInSession[s]!;
    this.user[o + 3] = this.gapBefore[s]!;
    const L3 = this.L * 3;
    for (let j = 0; j < L3; j++) this.user[o + 4 + j] = this.history[s * L3 + j]!;
    const T = this.T;
    for (let t = 0; t < T; t++) {
      this.user[o + 4 + L3 + t] = this.topicShows[s * T + t]!;
      this.user[o + 4 + L3 + T + t] = this.topicClicks[s * T + t]!;
      this.user[o + 4 + L3 + 2 * T + t] = this.topicWatch[s * T + t]!;
    }
  }

  /** Click utility of catalogue item `it` for a user with interests theta[o..] and boredom bored[o..]. */
  private utility(theta: Float64Array, bored: Float64Array, o: number, type: number, it: number): number {
    const cat = this.cat;
    const c = cat.topic[it]!;
    let v = W_INTEREST * theta[o + c]! + RETENTION_USER_TYPES.appealSensitivity[type]! * (2 * cat.appeal[it]! - 1);
    if (this.p.boredom) v -= RETENTION_USER_TYPES.boredomSensitivity[type]! * bored[o + c]!;
    return v;
  }

  /** Mean of the watch-fraction logit (before noise). */
  private watchLogit(theta: Float64Array, bored: Float64Array, o: number, it: number): number {
    const cat = this.cat;
    const c = cat.topic[it]!;
    return WATCH_INTEREST * theta[o + c]! + WATCH_QUALITY * (cat.quality[it]! - 0.5) - WATCH_BOREDOM * bored[o + c]!;
  }

  // The step's outcome so far, shared by the phases of stepSlot (scalars, so the hot path allocates nothing).
  private stepPos = -1;
  private stepItem = -1;
  private stepTopic = -1;
  private stepFraction = 0;
  private stepMinutes = 0;

  /** One step of user slot s, phase by phase (numbers as in the header; each phase draws from its own stream). */
  stepSlot(s: number, actions: Int32Array, o: number): SlotStatus {
    const ty = this.type[s]!;
    this.choose(s, actions, o, ty);
    this.transition(s, actions, o);
    this.recordHistory(s, actions, o);
    let status: SlotStatus = RUNNING;
    let retention = 0;
    this.lastGap[s] = 0;
    this.lastNewDay[s] = 0;
    const leaves = this.sessionEnds(s, ty);
    this.lastSessionEnded[s] = leaves ? 1 : 0;
    if (leaves) {
      status = this.betweenSessions(s, ty);
      retention = this.lastNewDay[s]!;
    }
    const minutes = this.stepMinutes;
    this.rewards[s] = this.rewardMode === 0 ? minutes : this.rewardMode === 1 ? retention : minutes + this.retentionWeight * retention;
    this.lastItem[s] = this.stepItem;
    this.clicked[s] = this.stepPos;
    this.lastMinutes[s] = minutes;
    this.lastFraction[s] = this.stepFraction;
    // 6. Next candidates (stream candidates: N draws) and observation.
    this.sampleCandidates(s);
    this.writeUser(s);
    return status;
  }

  /** 1. Choice (stream choice: 1 + 2 draws): the MNL click, and the watched fraction of the clicked item. */
  private choose(s: number, actions: Int32Array, o: number, ty: number): void {
    const { T, N, K } = this;
    let total = Math.exp(this.v0);
    const eu = this.expU;
    for (let j = 0; j < K; j++) {
      const e = Math.exp(this.utility(this.theta, this.bored, s * T, ty, this.itemIds[s * N + actions[o + j]!]!));
      eu[j] = e;
      total += e;
    }
    const rc = this.rChoice[s]!;
    const x = rc() * total;
    const noise = normal(rc);
    let clickedPos = -1;
    let acc = 0;
    for (let j = 0; j < K; j++) {
      acc += eu[j]!;
      if (x < acc) {
        clickedPos = j;
        break;
      }
    }
    this.stepPos = clickedPos;
    this.stepItem = -1;
    this.stepTopic = -1;
    this.stepFraction = 0;
    this.stepMinutes = 0;
    if (clickedPos >= 0) {
      const it = this.itemIds[s * N + actions[o + clickedPos]!]!;
      const f = sigmoid(this.watchLogit(this.theta, this.bored, s * T, it) + WATCH_NOISE * noise);
      this.stepItem = it;
      this.stepTopic = this.cat.topic[it]!;
      this.stepFraction = f;
      this.stepMinutes = f * this.cat.length[it]!;
      this.clicks[s]! += 1;
    }
  }

  /** 2. Transitions (stream transition: 1 draw): boredom, interest drift, satisfaction, session engagement, topic counts. */
  private transition(s: number, actions: Int32Array, o: number): void {
    const { T, N, K } = this;
    const cat = this.cat;
    const p = this.p;
    const c = this.stepTopic;
    const f = this.stepFraction;
    const clicked = this.stepPos >= 0;
    const coin = this.rTrans[s]!();
    const tb = s * T;
    if (p.boredom) {
      for (let t = 0; t < T; t++) this.bored[tb + t]! *= BOREDOM_STEP_DECAY;
    }
    if (clicked) {
      if (p.drift) {
        const th = this.theta[tb + c]!;
        const kappa = p.driftRate;
        this.theta[tb + c] = coin < f ? th + kappa * (1 - th) : th - kappa * (1 + th);
      }
      if (p.boredom) this.bored[tb + c]! += p.boredomGain;
      if (p.satisfaction) this.sat[s]! += p.satisfactionRate * (cat.quality[this.stepItem]! - this.sat[s]!);
    }
    this.sessEng[s] = 0.7 * this.sessEng[s]! + 0.3 * f;
    for (let j = 0; j < K; j++) this.topicShows[tb + cat.topic[this.itemIds[s * N + actions[o + j]!]!]!]! += 1;
    if (clicked) {
      this.topicClicks[tb + c]! += 1;
      this.topicWatch[tb + c]! += f;
    }
  }

  /** 3. History: newest first (the clicked item's topic, or the first slate item's when nothing was clicked). */
  private recordHistory(s: number, actions: Int32Array, o: number): void {
    const L = this.L;
    if (L === 0) return;
    const clicked = this.stepPos >= 0;
    const hb = s * L * 3;
    this.history.copyWithin(hb + 3, hb, hb + 3 * (L - 1));
    this.history[hb] = clicked ? this.stepTopic : this.cat.topic[this.itemIds[s * this.N + actions[o]!]!]!;
    this.history[hb + 1] = clicked ? 1 : 0;
    this.history[hb + 2] = this.stepFraction;
  }

  /** 4. Session end (stream session: 1 draw): the leave hazard, or the session's step cap. */
  private sessionEnds(s: number, ty: number): boolean {
    const T = this.T;
    const tb = s * T;
    this.stepInSession[s]! += 1;
    let boredSum = 0;
    for (let t = 0; t < T; t++) boredSum += this.bored[tb + t]!;
    const h = sigmoid(
      RETENTION_USER_TYPES.leaveLogit[ty]! + LEAVE_BOREDOM * boredSum - LEAVE_SAT * (this.sat[s]! - 0.5) - LEAVE_ENGAGEMENT * (this.sessEng[s]! - 0.5),
    );
    return this.rSess[s]!() < h || this.stepInSession[s]! >= this.maxSteps;
  }

  /**
   * 5. Between sessions (stream return: 2 + 2T draws): churn, the return gap, the daily drift of interests, boredom
   * decay, the trend shift, and a new session (lastNewDay = 1 when it opens a new active day).
   */
  private betweenSessions(s: number, ty: number): SlotStatus {
    const T = this.T;
    const tb = s * T;
    const p = this.p;
    const rr = this.rRet[s]!;
    const uChurn = rr();
    const uGap = rr();
    const S = this.sat[s]!;
    const churns = p.churn && uChurn < sigmoid(RETENTION_USER_TYPES.churnLogit[ty]! - CHURN_SAT * (S - 0.5));
    const gap = -RETENTION_USER_TYPES.meanGapDays[ty]! * Math.exp(-GAP_SAT * (S - 0.5)) * Math.log(1 - uGap);
    const sq = Math.sqrt(gap);
    for (let t = 0; t < T; t++) {
      const z = normal(rr);
      if (p.dailyDrift && !churns) {
        const v = this.theta[tb + t]! + DAILY_DRIFT_STD * sq * z;
        this.theta[tb + t] = v > 1 ? 1 : v < -1 ? -1 : v;
      }
    }
    if (churns) {
      this.churned[s] = 1;
      return TERMINATED;
    }
    const newDay = this.day[s]! + gap;
    this.lastGap[s] = gap;
    if (newDay >= this.H) return TRUNCATED;
    if (p.boredom) {
      const d = Math.pow(BOREDOM_DAY_DECAY, gap);
      for (let t = 0; t < T; t++) this.bored[tb + t]! *= d;
    }
    if (this.shiftDay >= 0 && !this.shifted[s] && newDay >= this.shiftDay) {
      this.shifted[s] = 1;
      const mag = p.trendShiftMagnitude;
      for (let t = 0; t < T; t++) {
        const v = this.theta[tb + t]! + mag * this.cat.trend[t]!;
        this.theta[tb + t] = v > 1 ? 1 : v < -1 ? -1 : v;
      }
    }
    this.day[s] = newDay;
    this.gapBefore[s] = gap;
    this.session[s]! += 1;
    this.stepInSession[s] = 0;
    this.sessEng[s] = 0.5;
    const cd = Math.floor(newDay);
    if (cd > this.lastActiveDay[s]!) {
      this.lastActiveDay[s] = cd;
      this.activeDays[s]! += 1;
      this.lastNewDay[s] = 1;
    }
    return RUNNING;
  }

  private fillHiddenSlot(s: number, withExpected: boolean): void {
    const { N, T } = this;
    const hb = this.hiddenBuf;
    hb.type[s] = this.type[s]!;
    for (let i = 0; i < N; i++) {
      const it = this.itemIds[s * N + i]!;
      hb.choiceScore[s * N + i] = Math.exp(this.utility(this.theta, this.bored, s * T, this.type[s]!, it));
      if (withExpected) hb.expectedReward[s * N + i] = this.cat.length[it]! * expectedSigmoid(this.watchLogit(this.theta, this.bored, s * T, it), WATCH_NOISE);
      hb.quality[s * N + i] = this.cat.quality[it]!;
      if (this.v1) hb.contentQuality[s * N + i] = this.cat.contentQuality[it]!;
    }
  }

  info(s: number): Record<string, unknown> {
    const { T, N } = this;
    const theta = this.theta.slice(s * T, (s + 1) * T);
    const bored = this.bored.slice(s * T, (s + 1) * T);
    const ids = this.itemIds.slice(s * N, (s + 1) * N);
    const type = this.type[s]!;
    const satisfaction = this.sat[s]!;
    const cat = this.cat;
    const info = {
      day: this.day[s],
      session: this.session[s],
      stepInSession: this.stepInSession[s],
      clickedItem: this.lastItem[s],
      watchMinutes: this.lastMinutes[s],
      watchFraction: this.lastFraction[s],
      sessionEnded: this.lastSessionEnded[s] === 1,
      returnGap: this.lastGap[s],
      newActiveDay: this.lastNewDay[s] === 1,
      activeDays: this.activeDays[s],
      sessions: this.session[s]! + 1,
      churned: this.churned[s] === 1,
      clicks: this.clicks[s],
    };
    return lazyHidden(info, () => ({
      type: RETENTION_USER_TYPES.names[type],
      interests: Array.from(theta),
      boredom: Array.from(bored),
      satisfaction,
      quality: Array.from(ids, (it) => cat.quality[it]!),
      ...(this.v1 ? { contentQuality: Array.from(ids, (it) => cat.contentQuality[it]!) } : {}),
      choiceScore: Array.from(ids, (it) => Math.exp(this.utility(theta, bored, 0, type, it))),
      noClickScore: Math.exp(this.v0),
      expectedReward: Array.from(ids, (it) => cat.length[it]! * expectedSigmoid(this.watchLogit(theta, bored, 0, it), WATCH_NOISE)),
    }));
  }

  hidden(names?: readonly string[], active?: Uint8Array): Record<string, HiddenBlock> {
    const withExpected = !names || names.includes('expectedReward');
    for (let s = 0; s < this.B; s++) if (!active || active[s]) this.fillHiddenSlot(s, withExpected);
    const { T, N } = this;
    const hb = this.hiddenBuf;
    const blocks: Record<string, HiddenBlock> = {
      type: { data: hb.type, shape: [], description: 'user type (0 casual, 1 core)' },
      interests: { data: this.theta, shape: [T], description: 'interests theta in [-1, 1]' },
      boredom: { data: this.bored, shape: [T], description: 'boredom per topic' },
      satisfaction: { data: this.sat, shape: [], description: 'hidden satisfaction S in [0, 1]' },
      quality: { data: hb.quality, shape: [N], description: 'true quality of each candidate' },
      choiceScore: { data: hb.choiceScore, shape: [N], description: 'exp(v_i): MNL weight of each candidate' },
      noClickScore: { data: hb.noClick, shape: [], description: 'exp(v_0): MNL weight of not clicking' },
    };
    if (withExpected) blocks.expectedReward = { data: hb.expectedReward, shape: [N], description: 'expected watch minutes if clicked' };
    if (this.v1) blocks.contentQuality = { data: hb.contentQuality, shape: [N], description: 'the part of quality that topic and embedding predict (no item noise)' };
    return blocks;
  }

  episodeStats(s: number, out: Float64Array, offset: number): void {
    out[offset] = this.activeDays[s]!;
    out[offset + 1] = this.session[s]! + 1;
    out[offset + 2] = this.churned[s]!;
    out[offset + 3] = this.clicks[s]!;
  }
}

/** Observation bounds of the retention envs (v0: appeal, quality estimate, length; v1: embedding, length). */
function retentionObservationSpace(p: RetentionParams | RetentionV1Params, l: BatchSim['layout'], v1: boolean): Dict {
  const T = p.numTopics;
  const L = p.historyLength;
  const uLow = [0, 0, 0, 0];
  const uHigh = [p.horizonDays, Infinity, p.maxSessionSteps, Infinity];
  for (let j = 0; j < L; j++) uLow.push(-1, 0, 0), uHigh.push(T - 1, 1, 1);
  for (let t = 0; t < 3 * T; t++) uLow.push(0), uHigh.push(Infinity);
  const cLow: number[] = [];
  const cHigh: number[] = [];
  const D = 'embeddingDim' in p ? p.embeddingDim : 0;
  for (let i = 0; i < l.N; i++) {
    for (let t = 0; t < T; t++) cLow.push(0), cHigh.push(1);
    if (v1) {
      for (let k = 0; k < D; k++) cLow.push(-Infinity), cHigh.push(Infinity);
      cLow.push(1);
      cHigh.push(30);
    } else {
      cLow.push(0, 0, 1);
      cHigh.push(1, 1, 30);
    }
  }
  return observationSpaceOf(l, uLow, uHigh, cLow, cHigh);
}

export const retentionV0Env = defineEnv({
  id: 'retention-v0',
  description: 'Multi-session engagement and churn: drift, boredom, hidden satisfaction, session ends, return gaps, churn over 30 days',
  source: "engagement-gym's own model (README: retention-v0); mechanisms after RecSim, rebounding bandits, DRN and RLUR",
  params: retentionParams,
  multiSession: true,
  card: {
    models: "a user's lifetime: MNL clicks, watch time by interest and quality, boredom, satisfaction, leave hazard, return gaps, churn",
    observation: 'user: day, session, step, days since last session, last L interactions (3 each), lifetime shows, clicks and watched fractions per topic; candidates: N x (T + 3); itemIds',
    action: 'Slate(N, K), default N 20, K 5',
    reward: 'watch minutes (default), +1 per new active day (retention) or a mix',
    episodeEnd: 'terminated on churn; truncated at the 30-day horizon',
  },
  check: atMost('retention-v0', ['slateSize', 'numCandidates'], ['numCandidates', 'numItems']),
  createSim: (B, p) => new RetentionSim(B, p),
  observationSpace: (p, l) => retentionObservationSpace(p, l, false),
});

export const retentionV1Env = defineEnv({
  id: 'retention-v1',
  description: 'retention-v0 whose long-term lever must be learned: appeal and quality act through observable item embeddings, no quality column, one world for every population',
  source: "engagement-gym's own model (README: retention-v1); mechanisms after RecSim, rebounding bandits, DRN and RLUR",
  params: retentionV1Params,
  multiSession: true,
  card: {
    models: "retention-v0's lifetime (MNL clicks, watch time by interest and quality, boredom, hidden satisfaction, leave hazard, return gaps, churn); appeal and quality are hidden functions of topic + embedding + item noise",
    observation: 'user: as retention-v0; candidates: N x (T + D + 1): one-hot topic, embedding (D 8), length; itemIds',
    action: 'Slate(N, K), default N 20, K 5',
    reward: 'watch minutes (default), +1 per new active day (retention) or a mix',
    episodeEnd: 'terminated on churn; truncated at the 30-day horizon',
  },
  check: atMost('retention-v1', ['slateSize', 'numCandidates'], ['numCandidates', 'numItems']),
  createSim: (B, p) => new RetentionSim(B, p, 'v1'),
  observationSpace: (p, l) => retentionObservationSpace(p, l, true),
});
