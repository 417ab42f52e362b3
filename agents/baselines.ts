/**
 * Baseline agents: random, the myopic oracle, and heuristics (popularity, quality estimate, and the two
 * reference policies that pose retention-v0's trade-off: myopic click maximizer and balanced).
 */
import type { FeatureSpec, HiddenBlock } from '../envs/core.js';
import { sampleDistinct } from '../envs/rng.js';
import { optimalMnlSlate, topK } from '../policies/slates.js';
import { SlotBlocks, type SlotState } from '../policies/history.js';
import {
  type AgentContext,
  type AgentObservation,
  BaseAgent,
  IncompatibleEnv,
  PerUserStreams,
  requireFeature,
  topicOf,
  type Transitions,
  type AgentEnvInfo,
} from './api.js';
import { defineParams, NO_PARAMS, param, type ParamsOf, type ResolvedParams } from '../envs/params.js';
import { type AgentSpec, defineAgent, envParamsFor } from './registry.js';
import { interestEvolutionEnv } from '../envs/interest-evolution.js';
import { InvalidArgument } from '../envs/errors.js';

/** Uniform slates without repetition (per-user streams: batch-size independent). */
export class RandomAgent extends BaseAgent {
  readonly id = 'random';
  private readonly streams: PerUserStreams;
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.streams = new PerUserStreams(seed, 'random');
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    for (let s = 0; s < obs.B; s++) if (obs.active[s]) sampleDistinct(this.streams.get(s, obs.userIndex[s]!, obs.firstStep[s] === 1), N, K, out, s * K);
    return out;
  }
  protected override getState(): unknown {
    return this.streams.state();
  }
  protected override setState(s: unknown): void {
    this.streams.load(s as ReturnType<PerUserStreams['state']>);
  }
}

/** The hidden blocks an oracle reads; an error naming the agent where the runner passed no hidden state. */
export function hiddenOf(agent: string, obs: AgentObservation, names: readonly string[]): Record<string, HiddenBlock> {
  if (!obs.hidden) throw new InvalidArgument(`${agent} is an oracle agent: the runner must pass the env's hidden state (observation.hidden)`);
  return obs.hidden(names);
}

/**
 * myopic-oracle: the slate with the highest true expected immediate reward, computed from the hidden state.
 * Under a conditional choice model (hidden `choiceScore`, `noClickScore`, `expectedReward`) the slate is the
 * exact maximizer of sum s_i r_i / (s_0 + sum s_j) (Dinkelbach); otherwise (position-0 consumption, bandits,
 * finite MDPs) the top-K candidates by expected reward. The upper bound of any myopic policy.
 */
export class MyopicOracleAgent extends BaseAgent {
  readonly id = 'myopic-oracle';
  override readonly oracle = true;
  private readonly mnl: boolean;
  private work = new Float64Array(0);
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    if (!env.hiddenNames.includes('expectedReward')) throw new IncompatibleEnv(this.id, env.envId, 'the env exposes no hidden expectedReward');
    this.mnl = env.hiddenNames.includes('choiceScore') && env.hiddenNames.includes('noClickScore');
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    const h = hiddenOf(this.id, obs, this.mnl ? ['choiceScore', 'noClickScore', 'expectedReward'] : ['expectedReward']);
    const er = h.expectedReward!.data;
    if (this.work.length !== N) this.work = new Float64Array(N);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      if (this.mnl) optimalMnlSlate(h.choiceScore!.data, er, s * N, N, K, h.noClickScore!.data[s]!, out, s * K, this.work);
      else topK(er, s * N, N, K, out, s * K);
    }
    return out;
  }
}

/** myopic-click: the K candidates with the highest true click propensity (hidden choiceScore). */
export class MyopicClickAgent extends BaseAgent {
  readonly id = 'myopic-click';
  override readonly oracle = true;
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    if (!env.hiddenNames.includes('choiceScore')) throw new IncompatibleEnv(this.id, env.envId, 'the env has no click model (hidden choiceScore)');
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    const sc = hiddenOf(this.id, obs, ['choiceScore']).choiceScore!.data;
    for (let s = 0; s < obs.B; s++) if (obs.active[s]) topK(sc, s * N, N, K, out, s * K);
    return out;
  }
}

/**
 * balanced: log click propensity + qualityWeight x quality estimate - repeatPenalty per recent interaction with
 * the candidate's topic, at most one item per topic in the slate (greedy). The reference long-term-aware
 * heuristic of retention-v0 (needs topic, qualityEstimate and a history with topics).
 */
export const balancedParams = defineParams({
  qualityWeight: param.number({ default: 6, min: 0, max: 100, description: 'weight of the quality estimate (utility units)' }),
  repeatPenalty: param.number({ default: 0.5, min: 0, max: 100, description: 'penalty per recent interaction with the same topic' }),
});

export class BalancedAgent extends BaseAgent<ParamsOf<typeof balancedParams>> {
  readonly id = 'balanced';
  override readonly oracle = true;
  private readonly topic: FeatureSpec;
  private readonly quality: FeatureSpec;
  private readonly history: FeatureSpec;
  private score = new Float64Array(0);
  private topics = new Int32Array(0);
  private used = new Uint8Array(0);
  constructor(p: ParamsOf<typeof balancedParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    if (!env.hiddenNames.includes('choiceScore')) throw new IncompatibleEnv(this.id, env.envId, 'the env has no click model (hidden choiceScore)');
    this.topic = requireFeature(this.id, env, 'candidates', ['topic']);
    this.quality = requireFeature(this.id, env, 'candidates', ['qualityEstimate']);
    this.history = requireFeature(this.id, env, 'user', ['history']);
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K, F, U } = this.env.layout;
    const wq = this.params.qualityWeight;
    const wr = this.params.repeatPenalty;
    const sc = hiddenOf(this.id, obs, ['choiceScore']).choiceScore!.data;
    const T = this.topic.size;
    if (this.score.length !== N) {
      this.score = new Float64Array(N);
      this.topics = new Int32Array(N);
    }
    if (this.used.length !== T) this.used = new Uint8Array(T);
    const L = this.history.size / 3;
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      for (let i = 0; i < N; i++) {
        const tp = topicOf(obs.candidates, s, i, N, F, this.topic);
        this.topics[i] = tp;
        let repeats = 0;
        for (let j = 0; j < L; j++) if (obs.user[s * U + this.history.offset + 3 * j] === tp) repeats++;
        this.score[i] = Math.log(sc[s * N + i]!) + wq * obs.candidates[(s * N + i) * F + this.quality.offset]! - wr * repeats;
      }
      greedySlate(this.score, this.topics, N, K, true, this.used, out, s * K);
    }
    return out;
  }
}

/** Top-K of every active slot by sign x one candidate column (at `offset` within a candidate's F values). */
function topKByColumn(obs: AgentObservation, layout: { N: number; K: number; F: number }, offset: number, sign: number, score: Float64Array, out: Int32Array): Int32Array {
  const { N, K, F } = layout;
  for (let s = 0; s < obs.B; s++) {
    if (!obs.active[s]) continue;
    for (let i = 0; i < N; i++) score[i] = sign * obs.candidates[(s * N + i) * F + offset]!;
    topK(score, 0, N, K, out, s * K);
  }
  return out;
}

/** quality-estimate: the K candidates with the highest observable quality (estimate). */
export class QualityEstimateAgent extends BaseAgent {
  readonly id = 'quality-estimate';
  private readonly q: FeatureSpec;
  private score = new Float64Array(0);
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.q = requireFeature(this.id, env, 'candidates', ['qualityEstimate', 'quality']);
  }
  act(obs: AgentObservation): Int32Array {
    if (this.score.length !== this.env.layout.N) this.score = new Float64Array(this.env.layout.N);
    return topKByColumn(obs, this.env.layout, this.q.offset, 1, this.score, this.out(obs.B));
  }
}

/**
 * popularity: ranks candidates by their smoothed click-through rate so far, (clicks + 1) / (impressions + 2),
 * counted per catalogue item (envs with itemIds) or per topic; learns from every observed step.
 */
export const popularityParams = defineParams({ unit: param.enum({ default: 'auto', values: ['auto', 'item', 'topic'], description: 'count per catalogue item or per topic (auto: item when the env has item ids)' }) });

export class PopularityAgent extends BaseAgent<ParamsOf<typeof popularityParams>> {
  readonly id = 'popularity';
  private readonly byItem: boolean;
  private readonly topic: FeatureSpec | null;
  private clicks: Float64Array;
  private shows: Float64Array;
  private score = new Float64Array(0);
  constructor(p: ParamsOf<typeof popularityParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    const want = p.unit;
    this.byItem = want === 'item' || (want === 'auto' && env.layout.itemCount !== null);
    if (this.byItem && env.layout.itemCount === null) throw new IncompatibleEnv(this.id, env.envId, 'unit "item" needs catalogue item ids (the env has none); use unit "topic"');
    this.topic = this.byItem ? null : requireFeature(this.id, env, 'candidates', ['topic']);
    const n = this.byItem ? env.layout.itemCount! : this.topic!.size;
    this.clicks = new Float64Array(n);
    this.shows = new Float64Array(n);
  }
  private unitOf(o: AgentObservation, s: number, i: number): number {
    const { N, F } = this.env.layout;
    return this.byItem ? o.itemIds![s * N + i]! : topicOf(o.candidates, s, i, N, F, this.topic!);
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    if (this.score.length !== N) this.score = new Float64Array(N);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      for (let i = 0; i < N; i++) {
        const u = this.unitOf(obs, s, i);
        this.score[i] = (this.clicks[u]! + 1) / (this.shows[u]! + 2);
      }
      topK(this.score, 0, N, K, out, s * K);
    }
    return out;
  }
  observe(t: Transitions): void {
    const K = this.env.layout.K;
    for (let s = 0; s < t.obs.B; s++) {
      if (!t.stepped[s]) continue;
      for (let j = 0; j < K; j++) {
        const u = this.unitOf(t.obs, s, t.actions[s * K + j]!);
        this.shows[u]! += 1;
        if (t.clicked[s] === j) this.clicks[u]! += 1;
      }
    }
  }
  protected override getState(): unknown {
    return { clicks: Array.from(this.clicks), shows: Array.from(this.shows) };
  }
  protected override setState(s: unknown): void {
    const st = s as { clicks: number[]; shows: number[] };
    this.clicks = Float64Array.from(st.clicks);
    this.shows = Float64Array.from(st.shows);
  }
}

/**
 * The exact MNL slate of every active slot for per-candidate values the caller writes into `values(B, N)`, under
 * the hidden choice scores (the oracles that shape a value: ceiling-oracle, budget-oracle).
 */
class MnlSlates {
  private work = new Float64Array(0);
  private value = new Float64Array(0);
  /** The B x N value buffer to fill (slot s, candidate i at s N + i). */
  values(B: number, N: number): Float64Array {
    if (this.work.length !== N) this.work = new Float64Array(N);
    if (this.value.length < B * N) this.value = new Float64Array(B * N);
    return this.value;
  }
  serve(obs: AgentObservation, N: number, K: number, h: Record<string, HiddenBlock>, out: Int32Array): Int32Array {
    for (let s = 0; s < obs.B; s++) if (obs.active[s]) optimalMnlSlate(h.choiceScore!.data, this.value, s * N, N, K, h.noClickScore!.data[s]!, out, s * K, this.work);
    return out;
  }
}

/**
 * ceiling-oracle: the best hidden-state policy we could build for multi-session envs with a satisfaction
 * state (retention-v0, retention-v1). It serves the exact MNL slate (Dinkelbach, as myopic-oracle) for a
 * shaped one-step value that adds to the expected watch minutes the long-term worth of what a click does to
 * the hidden satisfaction:
 *     value_i = E[minutes | click i] + satisfactionWeight x (q_i - S),
 * where q_i is the true quality, S the user's satisfaction (a click moves S toward q_i). satisfactionWeight
 * converts a unit of satisfaction into lifetime minutes; its default was tuned on users disjoint from every
 * evaluation population (README: "Tuning the ceiling"). An oracle: it reads hidden state, and marks itself so.
 */
export const ceilingOracleParams = defineParams({
  satisfactionWeight: param.number({ default: 20, min: 0, max: 1e6, description: 'lifetime minutes per unit of satisfaction gained (tuned on users disjoint from evaluation)' }),
});

export class CeilingOracleAgent extends BaseAgent<ParamsOf<typeof ceilingOracleParams>> {
  readonly id = 'ceiling-oracle';
  override readonly oracle = true;
  private readonly mnl = new MnlSlates();
  constructor(p: ParamsOf<typeof ceilingOracleParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    for (const h of ['choiceScore', 'noClickScore', 'expectedReward', 'quality', 'satisfaction']) {
      if (!env.hiddenNames.includes(h)) throw new IncompatibleEnv(this.id, env.envId, `the env exposes no hidden ${h} (the ceiling oracle needs an MNL choice model and a satisfaction state)`);
    }
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    const w = this.params.satisfactionWeight;
    const h = hiddenOf(this.id, obs, ['choiceScore', 'noClickScore', 'expectedReward', 'quality', 'satisfaction']);
    const er = h.expectedReward!.data;
    const q = h.quality!.data;
    const sat = h.satisfaction!.data;
    const value = this.mnl.values(obs.B, N);
    for (let s = 0; s < obs.B; s++) if (obs.active[s]) for (let i = 0; i < N; i++) value[s * N + i] = er[s * N + i]! + w * (q[s * N + i]! - sat[s]!);
    return this.mnl.serve(obs, N, K, h, out);
  }
}

export const budgetOracleParams = defineParams({
  budgetPrice: param.number({ default: 1.3, min: 0, max: 1e4, description: 'lambda: watch minutes one minute of time budget is worth (tuned on users disjoint from evaluation)' }),
});

/**
 * budget-oracle: the ceiling of interest-evolution-v0, from its hidden state. The return is the minutes watched
 * before the time budget runs out, so a stationary policy earns about b_0 E[minutes per step] / E[budget spent
 * per step] (renewal-reward), and by Dinkelbach's argument the slate that maximizes
 * E[minutes - lambda budget spent] at lambda = the best ratio maximizes the ratio. Each step it serves the exact
 * MNL slate (policies/slates.ts) with the true choice scores for the outcome values
 *   click on i: w_i - lambda (w_i - qualityFactor w_i q_i),   no click: -lambda stepPenalty,
 * shifted so that the no-click value is 0 (w_i: the watch time min(budget, L); q_i: the true quality). lambda
 * (`budgetPrice`) is tuned on users disjoint from evaluation (experiments/tune-ceiling.ts).
 */
export class BudgetOracleAgent extends BaseAgent<ParamsOf<typeof budgetOracleParams>> {
  readonly id = 'budget-oracle';
  override readonly oracle = true;
  private readonly model: { qualityFactor: number; stepPenalty: number };
  private readonly mnl = new MnlSlates();
  constructor(p: ParamsOf<typeof budgetOracleParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    const ep = envParamsFor(env, interestEvolutionEnv);
    if (!ep) throw new IncompatibleEnv(this.id, env.envId, 'it is the ceiling of interest-evolution-v0 (its value is minutes per minute of the time budget)');
    this.model = { qualityFactor: ep.qualityFactor, stepPenalty: ep.stepPenalty };
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    const lambda = this.params.budgetPrice;
    const { qualityFactor, stepPenalty } = this.model;
    const h = hiddenOf(this.id, obs, ['choiceScore', 'noClickScore', 'expectedReward', 'quality']);
    const w = h.expectedReward!.data;
    const q = h.quality!.data;
    const value = this.mnl.values(obs.B, N);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      for (let i = 0; i < N; i++) {
        const k = s * N + i;
        value[k] = w[k]! - lambda * (w[k]! - qualityFactor * w[k]! * q[k]!) + lambda * stepPenalty;
      }
    }
    return this.mnl.serve(obs, N, K, h, out);
  }
}

/**
 * content-oracle: top-K by the hidden `contentQuality` of retention-v1, the part of true quality that the
 * observable content (topic, embedding) predicts. It is the reference for learners that score candidates by a
 * fixed function of their features (no item identity): such a ranking can at best recover this column, while
 * the item noise on top of it is only learnable per item.
 */
export class ContentOracleAgent extends BaseAgent {
  readonly id = 'content-oracle';
  override readonly oracle = true;
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    if (!env.hiddenNames.includes('contentQuality')) throw new IncompatibleEnv(this.id, env.envId, 'the env exposes no hidden contentQuality (retention-v1 does)');
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    const cq = hiddenOf(this.id, obs, ['contentQuality']).contentQuality!.data;
    for (let s = 0; s < obs.B; s++) if (obs.active[s]) topK(cq, s * N, N, K, out, s * K);
    return out;
  }
}

/** The lifetime profile blocks of multi-session envs (retention-v0, v1). */
function profileOf(agent: string, env: AgentEnvInfo): { shows: FeatureSpec; clicks: FeatureSpec; watch: FeatureSpec } {
  return {
    shows: requireFeature(agent, env, 'user', ['topicShows']),
    clicks: requireFeature(agent, env, 'user', ['topicClicks']),
    watch: requireFeature(agent, env, 'user', ['topicWatch']),
  };
}

/** Greedy slate from scores: best first; with onePerTopic, topics already in the slate come last. */
function greedySlate(score: Float64Array, topics: Int32Array, N: number, K: number, onePerTopic: boolean, used: Uint8Array, out: Int32Array, o: number): void {
  used.fill(0);
  for (let j = 0; j < K; j++) {
    let best = -1;
    let bestFree = false;
    for (let i = 0; i < N; i++) {
      let taken = false;
      for (let q = 0; q < j; q++) if (out[o + q] === i) taken = true;
      if (taken) continue;
      const free = !onePerTopic || topics[i]! < 0 || used[topics[i]!] === 0;
      if (best < 0 || (free && !bestFree) || (free === bestFree && score[i]! > score[best]!)) {
        best = i;
        bestFree = free;
      }
    }
    out[o + j] = best;
    if (topics[best]! >= 0) used[topics[best]!] = 1;
  }
}

/**
 * topic-affinity: a non-learning heuristic on observable features. Each candidate is scored by the user's
 * smoothed mean watched fraction on its topic from the platform's lifetime profile,
 * (topicWatch_c + 0.5 prior) / (topicClicks_c + prior), minus repeatPenalty per appearance of the topic among
 * the last L interactions; with `diversify`, at most one item per topic while other topics remain (MMR-like).
 */
export const topicAffinityParams = defineParams({
  prior: param.number({ default: 2, min: 0, max: 1e6, minExclusive: true, description: 'pseudo-clicks at watched fraction 0.5 in the smoothing' }),
  repeatPenalty: param.number({ default: 0, min: 0, max: 100, description: 'score penalty per appearance of the topic among the last L interactions' }),
  diversify: param.boolean({ default: false, description: 'at most one item per topic while other topics remain' }),
});

export class TopicAffinityAgent extends BaseAgent<ParamsOf<typeof topicAffinityParams>> {
  readonly id = 'topic-affinity';
  private readonly topic: FeatureSpec;
  private readonly prof: ReturnType<typeof profileOf>;
  private readonly history: FeatureSpec | undefined;
  private score = new Float64Array(0);
  private topics = new Int32Array(0);
  private used = new Uint8Array(0);
  constructor(p: ParamsOf<typeof topicAffinityParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.topic = requireFeature(this.id, env, 'candidates', ['topic']);
    this.prof = profileOf(this.id, env);
    this.history = env.layout.userFeatures.find((f) => f.name === 'history');
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K, F, U } = this.env.layout;
    const prior = this.params.prior;
    const pen = this.params.repeatPenalty;
    const div = this.params.diversify;
    if (this.score.length !== N) (this.score = new Float64Array(N)), (this.topics = new Int32Array(N));
    if (this.used.length !== this.topic.size) this.used = new Uint8Array(this.topic.size);
    const L = this.history ? this.history.size / 3 : 0;
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      const u = s * U;
      for (let i = 0; i < N; i++) {
        const c = topicOf(obs.candidates, s, i, N, F, this.topic);
        this.topics[i] = c;
        let v = c < 0 ? 0.5 : (obs.user[u + this.prof.watch.offset + c]! + 0.5 * prior) / (obs.user[u + this.prof.clicks.offset + c]! + prior);
        if (pen > 0 && c >= 0) for (let j = 0; j < L; j++) if (obs.user[u + this.history!.offset + 3 * j] === c) v -= pen;
        this.score[i] = v;
      }
      greedySlate(this.score, this.topics, N, K, div, this.used, out, s * K);
    }
    return out;
  }
}

/**
 * topic-rotation: a non-learning diversity rule. Candidates of the topics the user has been shown least over
 * the lifetime profile come first, one item per topic (ties: candidate order, which is random).
 */
export class TopicRotationAgent extends BaseAgent {
  readonly id = 'topic-rotation';
  private readonly topic: FeatureSpec;
  private readonly shows: FeatureSpec;
  private score = new Float64Array(0);
  private topics = new Int32Array(0);
  private used = new Uint8Array(0);
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.topic = requireFeature(this.id, env, 'candidates', ['topic']);
    this.shows = requireFeature(this.id, env, 'user', ['topicShows']);
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K, F, U } = this.env.layout;
    if (this.score.length !== N) (this.score = new Float64Array(N)), (this.topics = new Int32Array(N));
    if (this.used.length !== this.topic.size) this.used = new Uint8Array(this.topic.size);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      for (let i = 0; i < N; i++) {
        const c = topicOf(obs.candidates, s, i, N, F, this.topic);
        this.topics[i] = c;
        this.score[i] = c < 0 ? 0 : -obs.user[s * U + this.shows.offset + c]!;
      }
      greedySlate(this.score, this.topics, N, K, true, this.used, out, s * K);
    }
    return out;
  }
}

/**
 * feature-rank: top-K by one observable candidate column (`feature` names the block, `column` the column
 * inside it; `descending` or ascending). The one-column proxy a practitioner tries first; on retention-v1 it
 * shows that no single column is the long-term lever.
 */
export const featureRankParams = defineParams({
  feature: param.enum({ default: 'length', values: ['length', 'embedding', 'appeal', 'qualityEstimate', 'quality', 'clickbait', 'topic'], description: 'candidate feature block' }),
  column: param.int({ default: 0, min: 0, max: 10000, description: 'column inside the block' }),
  descending: param.boolean({ default: true, description: 'highest first (false: lowest first)' }),
});

/** The offset of column `col` of candidate feature f, or IncompatibleEnv saying `what` (the param or term) is out of range. */
function columnOffset(agent: string, env: AgentEnvInfo, f: FeatureSpec, col: number, what: string): number {
  if (col >= f.size) throw new IncompatibleEnv(agent, env.envId, `${what} is outside the ${f.size} column(s) of candidate feature "${f.name}" (allowed 0..${f.size - 1})`);
  return f.offset + col;
}

/** One term of linear-rank's score: weight x transform(candidate feature block column). */
export interface LinearTerm {
  feature: string;
  column?: number;
  weight: number;
  transform?: 'identity' | 'log';
}

function linearTermsProblem(v: unknown): string | null {
  if (!Array.isArray(v) || v.length < 1 || v.length > 32) return 'is not a list of 1 to 32 terms';
  for (let i = 0; i < v.length; i++) {
    const t = v[i] as Record<string, unknown>;
    const at = `term ${i}`;
    if (t === null || typeof t !== 'object' || Array.isArray(t)) return `${at} is not an object {feature, column?, weight, transform?}`;
    for (const k of Object.keys(t)) if (!['feature', 'column', 'weight', 'transform'].includes(k)) return `${at} has an unknown key "${k}" (allowed: feature, column, weight, transform)`;
    if (typeof t.feature !== 'string' || t.feature.length === 0) return `${at}: feature is not a non-empty string`;
    if (t.column !== undefined && !(Number.isSafeInteger(t.column) && (t.column as number) >= 0)) return `${at}: column is not a non-negative integer`;
    if (typeof t.weight !== 'number' || !Number.isFinite(t.weight)) return `${at}: weight is not a finite number`;
    if (t.transform !== undefined && t.transform !== 'identity' && t.transform !== 'log') return `${at}: transform is not "identity" or "log"`;
  }
  return null;
}

export const linearRankParams = defineParams({
  terms: param.custom<LinearTerm[]>({
    default: [{ feature: 'length', weight: 1 }],
    allowed: 'a list of 1 to 32 terms {feature: candidate feature name, column?: integer >= 0 (default 0), weight: finite number, transform?: "identity" | "log"}',
    validate: linearTermsProblem,
    description: 'score = sum of weight x transform(feature[column]) over the terms',
  }),
});

/**
 * linear-rank: an observable heuristic, top-K by a fixed linear score of candidate feature columns (optionally
 * log-transformed), e.g. qualityEstimate + 0.2 ln(length) - 0.2 appeal on retention-v0
 * (experiments/probe-retention-v0.ts picks such weights on a population no experiment evaluates on).
 */
export class LinearRankAgent extends BaseAgent<ParamsOf<typeof linearRankParams>> {
  readonly id = 'linear-rank';
  private readonly offsets: Int32Array;
  private readonly weights: Float64Array;
  private readonly logs: Uint8Array;
  private score = new Float64Array(0);
  constructor(p: ParamsOf<typeof linearRankParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    const n = p.terms.length;
    this.offsets = new Int32Array(n);
    this.weights = new Float64Array(n);
    this.logs = new Uint8Array(n);
    p.terms.forEach((t, i) => {
      const f = env.layout.candidateFeatures.find((c) => c.name === t.feature);
      if (!f) throw new IncompatibleEnv(this.id, env.envId, `term ${i}: the env has no candidate feature "${t.feature}" (it has ${env.layout.candidateFeatures.map((c) => c.name).join(', ')})`);
      const col = t.column ?? 0;
      this.offsets[i] = columnOffset(this.id, env, f, col, `term ${i}: column ${col}`);
      this.weights[i] = t.weight;
      this.logs[i] = t.transform === 'log' ? 1 : 0;
    });
  }
  /** The score of each of slot s's N candidates into score[0, N). */
  scoreSlot(candidates: Float32Array, s: number, score: Float64Array): void {
    const { N, F } = this.env.layout;
    for (let i = 0; i < N; i++) {
      const o = (s * N + i) * F;
      let v = 0;
      for (let j = 0; j < this.offsets.length; j++) {
        const x = candidates[o + this.offsets[j]!]!;
        if (this.logs[j] && !(x > 0)) throw new InvalidArgument(`${this.id}: term ${j} takes the log of "${this.params.terms[j]!.feature}", which is ${x} for candidate ${i} of slot ${s}; log needs values > 0`);
        v += this.weights[j]! * (this.logs[j] ? Math.log(x) : x);
      }
      score[i] = v;
    }
  }
  act(obs: AgentObservation): Int32Array {
    const { N, K } = this.env.layout;
    if (this.score.length !== N) this.score = new Float64Array(N);
    const out = this.out(obs.B);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      this.scoreSlot(obs.candidates, s, this.score);
      topK(this.score, 0, N, K, out, s * K);
    }
    return out;
  }
}

export class FeatureRankAgent extends BaseAgent<ParamsOf<typeof featureRankParams>> {
  readonly id = 'feature-rank';
  private readonly offset: number;
  private score = new Float64Array(0);
  constructor(p: ParamsOf<typeof featureRankParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    const name = p.feature;
    const f = requireFeature(this.id, env, 'candidates', [name]);
    this.offset = columnOffset(this.id, env, f, p.column, `param "column" = ${p.column}`);
  }
  act(obs: AgentObservation): Int32Array {
    if (this.score.length !== this.env.layout.N) this.score = new Float64Array(this.env.layout.N);
    return topKByColumn(obs, this.env.layout, this.offset, this.params.descending ? 1 : -1, this.score, this.out(obs.B));
  }
}

export const revealedQualityParams = defineParams({
  prior: param.number({ default: 0, min: -1e6, max: 1e6, description: 'score of a topic whose quality this user has not been shown yet' }),
});

/**
 * revealed-quality: an observable heuristic for envs whose responses reveal the quality of the shown items
 * (interest-evolution-v0, as in RecSim): per user, the mean quality revealed so far for each topic, read from
 * the previous step's response block; candidates are ranked by their topic's mean, unseen topics by `prior`.
 * Nothing is learned across users; it is the within-episode memory that a feed ranker could keep.
 */
export class RevealedQualityAgent extends BaseAgent<ParamsOf<typeof revealedQualityParams>> {
  readonly id = 'revealed-quality';
  private readonly topic: FeatureSpec;
  private readonly resp: { offset: number; entries: number; stride: number; quality: number; topic: number };
  private readonly T: number;
  /**
   * Per slot, for its user's episode: the sum of the qualities revealed per topic (T), then their counts (T).
   * Training and evaluation slots hold different users: each has its own.
   */
  private readonly slots: { train: SlotBlocks; eval: SlotBlocks };
  private score = new Float64Array(0);
  constructor(p: ParamsOf<typeof revealedQualityParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.topic = requireFeature(this.id, env, 'candidates', ['topic']);
    if (this.topic.kind !== 'onehot') throw new IncompatibleEnv(this.id, env.envId, 'its candidate feature "topic" must be one-hot');
    const r = requireFeature(this.id, env, 'user', ['response']);
    const fields = r.fields ?? [];
    const qi = fields.indexOf('quality');
    const ti = fields.indexOf('topic');
    if (r.kind !== 'history' || !r.stride || qi < 0 || ti < 0) throw new IncompatibleEnv(this.id, env.envId, 'its user feature "response" must be a history block with the fields "quality" and "topic"');
    this.resp = { offset: r.offset, entries: r.size / r.stride, stride: r.stride, quality: qi, topic: ti };
    this.T = this.topic.size;
    this.slots = { train: new SlotBlocks(2 * this.T), eval: new SlotBlocks(2 * this.T) };
  }
  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    const out = this.out(obs.B);
    const { N, K, U, F } = this.env.layout;
    const T = this.T;
    const slots = ctx.training ? this.slots.train : this.slots.eval;
    slots.ensure(obs.B);
    const v = slots.values;
    if (this.score.length !== N) this.score = new Float64Array(N);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      slots.claim(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      const sums = s * 2 * T;
      const counts = sums + T;
      const { offset, entries, stride, quality, topic } = this.resp;
      for (let j = 0; j < entries; j++) {
        const o = s * U + offset + j * stride;
        const t = obs.user[o + topic]!;
        if (t >= 0 && t < T && Number.isInteger(t)) {
          v[sums + t]! += obs.user[o + quality]!;
          v[counts + t]! += 1;
        }
      }
      for (let i = 0; i < N; i++) {
        const t = topicOf(obs.candidates, s, i, N, F, this.topic);
        const n = t >= 0 ? v[counts + t]! : 0;
        this.score[i] = n > 0 ? v[sums + t]! / n : this.params.prior;
      }
      topK(this.score, 0, N, K, out, s * K);
    }
    return out;
  }
  protected override getState(): unknown {
    return { train: this.slots.train.state(), eval: this.slots.eval.state() };
  }
  protected override setState(x: unknown): void {
    const st = x as { train: SlotState; eval: SlotState };
    this.slots.train.load(st.train, this.id);
    this.slots.eval.load(st.eval, this.id);
  }
}

/** The baseline and oracle agents' definitions (registered by agents/index.ts). */
export const baselineAgents: AgentSpec[] = [
  defineAgent({
    id: 'random',
    description: 'uniform slates without repetition',
    source: 'baseline',
    oracle: false,
    params: NO_PARAMS,
    create: (p, env, seed) => new RandomAgent(p, env, seed),
  }),
  defineAgent({
    id: 'myopic-oracle',
    description: 'the slate with the highest true expected immediate reward (hidden choice model); the upper bound of myopic policies',
    source: 'baseline; exact MNL slate by Dinkelbach (1967) fractional programming',
    oracle: true,
    params: NO_PARAMS,
    create: (p, env, seed) => new MyopicOracleAgent(p, env, seed),
  }),
  defineAgent({
    id: 'ceiling-oracle',
    description: 'exact MNL slate for expected minutes + satisfactionWeight x (true quality - satisfaction): the ceiling of multi-session envs',
    source: "engagement-gym's own; Dinkelbach (1967) slate as myopic-oracle, shaped by the hidden satisfaction dynamics",
    oracle: true,
    params: ceilingOracleParams,
    create: (p, env, seed) => new CeilingOracleAgent(p, env, seed),
  }),
  defineAgent({
    id: 'revealed-quality',
    description: "observable heuristic: candidates ranked by the mean quality this user's responses revealed so far for their topic (unseen topics: prior)",
    source: "baseline (a per-user memory of revealed quality; RecSim's responses reveal the quality of shown documents)",
    oracle: false,
    params: revealedQualityParams,
    create: (p, env, seed) => new RevealedQualityAgent(p, env, seed),
  }),
  defineAgent({
    id: 'budget-oracle',
    description: 'exact MNL slate for minutes watched - budgetPrice x time budget spent, from the true qualities and choice scores: the ceiling of interest-evolution-v0',
    source: "engagement-gym's own; Dinkelbach (1967) fractional programming over the renewal-reward ratio, exact MNL slates as myopic-oracle",
    oracle: true,
    params: budgetOracleParams,
    create: (p, env, seed) => new BudgetOracleAgent(p, env, seed),
  }),
  defineAgent({
    id: 'content-oracle',
    description: 'top-K by the part of true quality that observable content predicts (hidden contentQuality of retention-v1): the reference of feature-only rankers',
    source: "engagement-gym's own reference policy",
    oracle: true,
    params: NO_PARAMS,
    create: (p, env, seed) => new ContentOracleAgent(p, env, seed),
  }),
  defineAgent({
    id: 'topic-affinity',
    description: "observable heuristic: the user's smoothed mean watched fraction per topic (lifetime profile), minus a recent-repeat penalty; optionally one item per topic",
    source: 'baseline (content-based user profile, e.g. Lops et al. 2011; diversification after MMR, Carbonell and Goldstein 1998)',
    oracle: false,
    params: topicAffinityParams,
    create: (p, env, seed) => new TopicAffinityAgent(p, env, seed),
  }),
  defineAgent({
    id: 'topic-rotation',
    description: 'observable diversity rule: the topics shown least over the lifetime first, one item per topic',
    source: 'baseline (diversity / round-robin exposure)',
    oracle: false,
    params: NO_PARAMS,
    create: (p, env, seed) => new TopicRotationAgent(p, env, seed),
  }),
  defineAgent({
    id: 'feature-rank',
    description: 'observable one-column proxy: top-K by one candidate feature column',
    source: 'baseline',
    oracle: false,
    params: featureRankParams,
    create: (p, env, seed) => new FeatureRankAgent(p, env, seed),
  }),
  defineAgent({
    id: 'linear-rank',
    description: 'observable heuristic: top-K by a fixed linear score of candidate feature columns (each optionally log-transformed)',
    source: 'baseline (a hand-set linear scoring rule)',
    oracle: false,
    params: linearRankParams,
    create: (p, env, seed) => new LinearRankAgent(p, env, seed),
  }),
  defineAgent({
    id: 'myopic-click',
    description: 'the K candidates with the highest true click propensity (clickbait-prone reference policy)',
    source: 'baseline',
    oracle: true,
    params: NO_PARAMS,
    create: (p, env, seed) => new MyopicClickAgent(p, env, seed),
  }),
  defineAgent({
    id: 'balanced',
    description: 'click propensity + quality estimate + topic variety (the long-term-aware reference policy of retention-v0)',
    source: 'baseline',
    oracle: true,
    params: balancedParams,
    create: (p, env, seed) => new BalancedAgent(p, env, seed),
  }),
  defineAgent({
    id: 'quality-estimate',
    description: 'the K candidates with the highest observable quality estimate',
    source: 'baseline',
    oracle: false,
    params: NO_PARAMS,
    create: (p, env, seed) => new QualityEstimateAgent(p, env, seed),
  }),
  defineAgent({
    id: 'popularity',
    description: 'the K candidates with the highest smoothed click-through rate so far, per item or per topic',
    source: 'baseline (most-popular recommender)',
    oracle: false,
    params: popularityParams,
    create: (p, env, seed) => new PopularityAgent(p, env, seed),
  }),
];
