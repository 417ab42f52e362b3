/**
 * Baseline agents: random, the myopic oracle, and heuristics (popularity, quality estimate, and the two
 * reference policies that pose retention-v0's trade-off: myopic click maximizer and balanced).
 */
import type { FeatureSpec, HiddenBlock } from '../envs/core.js';
import { sampleDistinct } from '../envs/rng.js';
import { optimalMnlSlate, topK } from '../policies/slates.js';
import {
  type AgentObservation,
  BaseAgent,
  IncompatibleEnv,
  PerUserStreams,
  requireFeature,
  topicOf,
  type Transitions,
  type AgentEnvInfo,
} from './api.js';
import type { ResolvedParams } from '../envs/params.js';
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

function hiddenOf(agent: string, obs: AgentObservation, names: readonly string[]): Record<string, HiddenBlock> {
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
export class BalancedAgent extends BaseAgent {
  readonly id = 'balanced';
  override readonly oracle = true;
  private readonly topic: FeatureSpec;
  private readonly quality: FeatureSpec;
  private readonly history: FeatureSpec;
  private score = new Float64Array(0);
  private topics = new Int32Array(0);
  private used = new Uint8Array(0);
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    if (!env.hiddenNames.includes('choiceScore')) throw new IncompatibleEnv(this.id, env.envId, 'the env has no click model (hidden choiceScore)');
    this.topic = requireFeature(this.id, env, 'candidates', ['topic']);
    this.quality = requireFeature(this.id, env, 'candidates', ['qualityEstimate']);
    this.history = requireFeature(this.id, env, 'user', ['history']);
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K, F, U } = this.env.layout;
    const wq = this.params.qualityWeight as number;
    const wr = this.params.repeatPenalty as number;
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
export class PopularityAgent extends BaseAgent {
  readonly id = 'popularity';
  private readonly byItem: boolean;
  private readonly topic: FeatureSpec | null;
  private clicks: Float64Array;
  private shows: Float64Array;
  private score = new Float64Array(0);
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    const want = p.unit as string;
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
 * ceiling-oracle: the best hidden-state policy we could build for multi-session envs with a satisfaction
 * state (retention-v0, retention-v1). It serves the exact MNL slate (Dinkelbach, as myopic-oracle) for a
 * shaped one-step value that adds to the expected watch minutes the long-term worth of what a click does to
 * the hidden satisfaction:
 *     value_i = E[minutes | click i] + satisfactionWeight x (q_i - S),
 * where q_i is the true quality, S the user's satisfaction (a click moves S toward q_i). satisfactionWeight
 * converts a unit of satisfaction into lifetime minutes; its default was tuned on users disjoint from every
 * evaluation population (README: "Tuning the ceiling"). An oracle: it reads hidden state, and marks itself so.
 */
export class CeilingOracleAgent extends BaseAgent {
  readonly id = 'ceiling-oracle';
  override readonly oracle = true;
  private work = new Float64Array(0);
  private value = new Float64Array(0);
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    for (const h of ['choiceScore', 'noClickScore', 'expectedReward', 'quality', 'satisfaction']) {
      if (!env.hiddenNames.includes(h)) throw new IncompatibleEnv(this.id, env.envId, `the env exposes no hidden ${h} (the ceiling oracle needs an MNL choice model and a satisfaction state)`);
    }
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    const w = this.params.satisfactionWeight as number;
    const h = hiddenOf(this.id, obs, ['choiceScore', 'noClickScore', 'expectedReward', 'quality', 'satisfaction']);
    const er = h.expectedReward!.data;
    const q = h.quality!.data;
    const sat = h.satisfaction!.data;
    if (this.work.length !== N) {
      this.work = new Float64Array(N);
      this.value = new Float64Array(obs.B * N);
    }
    if (this.value.length < obs.B * N) this.value = new Float64Array(obs.B * N);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      for (let i = 0; i < N; i++) this.value[s * N + i] = er[s * N + i]! + w * (q[s * N + i]! - sat[s]!);
      optimalMnlSlate(h.choiceScore!.data, this.value, s * N, N, K, h.noClickScore!.data[s]!, out, s * K, this.work);
    }
    return out;
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
export class TopicAffinityAgent extends BaseAgent {
  readonly id = 'topic-affinity';
  private readonly topic: FeatureSpec;
  private readonly prof: ReturnType<typeof profileOf>;
  private readonly history: FeatureSpec | undefined;
  private score = new Float64Array(0);
  private topics = new Int32Array(0);
  private used = new Uint8Array(0);
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.topic = requireFeature(this.id, env, 'candidates', ['topic']);
    this.prof = profileOf(this.id, env);
    this.history = env.layout.userFeatures.find((f) => f.name === 'history');
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K, F, U } = this.env.layout;
    const prior = this.params.prior as number;
    const pen = this.params.repeatPenalty as number;
    const div = this.params.diversify as boolean;
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
export class FeatureRankAgent extends BaseAgent {
  readonly id = 'feature-rank';
  private readonly offset: number;
  private score = new Float64Array(0);
  constructor(p: ResolvedParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    const name = p.feature as string;
    const f = requireFeature(this.id, env, 'candidates', [name]);
    const col = p.column as number;
    if (col >= f.size) throw new IncompatibleEnv(this.id, env.envId, `param "column" = ${col} is outside the ${f.size} column(s) of candidate feature "${name}" (allowed 0..${f.size - 1})`);
    this.offset = f.offset + col;
  }
  act(obs: AgentObservation): Int32Array {
    if (this.score.length !== this.env.layout.N) this.score = new Float64Array(this.env.layout.N);
    return topKByColumn(obs, this.env.layout, this.offset, (this.params.descending as boolean) ? 1 : -1, this.score, this.out(obs.B));
  }
}
