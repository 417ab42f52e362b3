/**
 * Bandit agents. The arms are topics or catalogue items (`arms`: auto = items when the env has item ids,
 * else topics); statistics are shared by the whole population. Every candidate is scored by its arm's index
 * and the slate is the top-K. Feedback: every shown item is a pull; its reward is the step's reward (or 1
 * with `feedback: click`) when the user clicked it, else 0.
 *
 * - epsilon-greedy: with probability epsilon a uniform random slate, else top-K by mean reward
 *   (Sutton and Barto 2018, 2.2-2.4; schedule in policies/schedules.ts).
 * - ucb1: mean + c sqrt(2 ln t / n), unpulled arms first (Auer, Cesa-Bianchi and Fischer 2002).
 * - thompson-beta: Beta(1 + successes, 1 + failures) samples; rewards in [0, 1], fractional rewards binarized
 *   by a Bernoulli draw (Thompson 1933; Chapelle and Li 2011; Agrawal and Goyal 2012).
 * - thompson-gaussian: Normal posterior with known noise std and a Normal(0, priorStd^2) prior
 *   (Agrawal and Goyal 2013).
 * - linucb: disjoint LinUCB (Li, Chu, Langford and Schapire, WWW 2010, Algorithm 1) over the candidate's
 *   real-valued features (and optionally the user's), one ridge model per topic or one shared model:
 *   score = theta_a . x + alpha sqrt(x^T A_a^-1 x), A_a = lambda I + sum x x^T, b_a = sum r x.
 * - item-stat-rank: an epsilon-greedy bandit over catalogue items whose index is one per-item statistic of
 *   policies/item-feedback.ts (smoothed click rate, reward per click, or reward per click per unit of length:
 *   with watch-time rewards the mean watched fraction), shrunk toward the population mean (empirical Bayes):
 *   the simplest learner of what the deep agents' `itemFeedback` columns show them, and the check that a deep
 *   agent using them is better than ranking by one of them.
 * In evaluation the index is the posterior mean (no exploration bonus, no sampling) unless exploring.
 */
import type { FeatureSpec } from '../envs/core.js';
import { defineParams, param, type ParamsOf, withDefault } from '../envs/params.js';
import { defineAgent } from './registry.js';
import { normal, type Rng, sampleDistinct } from '../envs/rng.js';
import { topK } from '../policies/slates.js';
import { epsilonAt, type EpsilonParams, epsilonShape } from '../policies/schedules.js';
import { type AgentContext, type AgentEnvInfo, type AgentObservation, BaseAgent, IncompatibleEnv, PerUserStreams, requireFeature, topicOf, type Transitions } from './api.js';
import { ItemFeedback, type ItemFeedbackState } from '../policies/item-feedback.js';

export type BanditRule = 'epsilon-greedy' | 'ucb1' | 'thompson-beta' | 'thompson-gaussian';

/** Gamma(shape, 1) by Marsaglia and Tsang (2000); shape < 1 by the boost u^(1/shape). */
function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * Math.pow(rng(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(rng);
    const v0 = 1 + c * x;
    if (v0 <= 0) continue;
    const v = v0 * v0 * v0;
    const u = rng();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  return x / (x + gamma(rng, b));
}

/** Per-candidate arm ids for topic or item arms. */
class ArmMap {
  readonly byItem: boolean;
  readonly numArms: number;
  private readonly topic: FeatureSpec | null;
  constructor(agent: string, env: AgentEnvInfo, want: string) {
    this.byItem = want === 'item' || (want === 'auto' && env.layout.itemCount !== null);
    if (this.byItem && env.layout.itemCount === null) throw new IncompatibleEnv(agent, env.envId, 'arms "item" need catalogue item ids (the env has none); use arms "topic"');
    this.topic = this.byItem ? null : requireFeature(agent, env, 'candidates', ['topic']);
    this.numArms = this.byItem ? env.layout.itemCount! : this.topic!.size;
  }
  arm(obs: { candidates: Float32Array; itemIds: Int32Array | null }, s: number, i: number, N: number, F: number): number {
    return this.byItem ? obs.itemIds![s * N + i]! : topicOf(obs.candidates, s, i, N, F, this.topic!);
  }
}

const armShape = {
  arms: param.enum({ default: 'auto', values: ['auto', 'topic', 'item'], description: 'arms are topics or catalogue items (auto: items when the env has item ids)' }),
  feedback: param.enum({ default: 'reward', values: ['reward', 'click'], description: "a shown item's reward: the step's reward if clicked, or 1 per click" }),
};
export const banditParams = {
  'epsilon-greedy': defineParams({
    ...armShape,
    ...epsilonShape,
    epsilonSchedule: withDefault(epsilonShape.epsilonSchedule, 'constant'),
    epsilonStart: withDefault(epsilonShape.epsilonStart, 0.1),
  }),
  ucb1: defineParams({ ...armShape, exploration: param.number({ default: 1, min: 0, max: 100, description: 'scale c of the confidence bonus' }) }),
  'thompson-beta': defineParams({ ...armShape, feedback: withDefault(armShape.feedback, 'click') }),
  'thompson-gaussian': defineParams({
    ...armShape,
    noiseStd: param.number({ default: 1, min: 0, max: 1e6, minExclusive: true, description: 'assumed reward noise std' }),
    priorStd: param.number({ default: 10, min: 0, max: 1e6, minExclusive: true, description: 'std of the Normal(0, .) prior on arm means' }),
  }),
};
export type BanditParams = ParamsOf<(typeof banditParams)[BanditRule]>;

export class BanditAgent extends BaseAgent<BanditParams> {
  readonly id: BanditRule;
  private readonly arms: ArmMap;
  pulls: Float64Array;
  sums: Float64Array;
  successes: Float64Array;
  total = 0;
  private score = new Float64Array(0);
  private readonly evalStreams: PerUserStreams;

  /** The rule's own params (the others' defaults are never read). */
  private readonly exploration: number;
  private readonly noiseStd: number;
  private readonly priorStd: number;
  private readonly epsilon: EpsilonParams | null;

  constructor(rule: BanditRule, p: BanditParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.id = rule;
    this.exploration = 'exploration' in p ? p.exploration : 0;
    this.noiseStd = 'noiseStd' in p ? p.noiseStd : 1;
    this.priorStd = 'priorStd' in p ? p.priorStd : 1;
    this.epsilon = 'epsilonSchedule' in p ? p : null;
    this.arms = new ArmMap(rule, env, p.arms);
    const n = this.arms.numArms;
    this.pulls = new Float64Array(n);
    this.sums = new Float64Array(n);
    this.successes = new Float64Array(n);
    this.evalStreams = new PerUserStreams(seed, 'bandit-eval');
    const [lo, hi] = env.layout.rewardRange;
    if (rule === 'thompson-beta' && p.feedback === 'reward' && (lo < 0 || hi > 1)) {
      throw new IncompatibleEnv(rule, env.envId, `Beta-Bernoulli sampling needs rewards in [0, 1] and this env's rewards lie in [${lo}, ${hi}]; use feedback "click" or thompson-gaussian`);
    }
  }

  /** Index of an arm. `explore` false: the posterior / empirical mean. */
  private index(a: number, explore: boolean, rng: Rng): number {
    const n = this.pulls[a]!;
    const mean = n > 0 ? this.sums[a]! / n : 0;
    if (!explore) {
      if (this.id === 'thompson-beta') return (1 + this.successes[a]!) / (2 + n);
      if (this.id === 'thompson-gaussian') return this.gaussPost(a)[0];
      return mean;
    }
    switch (this.id) {
      case 'ucb1':
        return n === 0 ? Infinity : mean + this.exploration * Math.sqrt((2 * Math.log(Math.max(1, this.total))) / n);
      case 'thompson-beta':
        return sampleBeta(rng, 1 + this.successes[a]!, 1 + n - this.successes[a]!);
      case 'thompson-gaussian': {
        const [m, sd] = this.gaussPost(a);
        return m + sd * normal(rng);
      }
      default:
        return mean;
    }
  }

  private gaussPost(a: number): [number, number] {
    const s2 = this.noiseStd ** 2;
    const prec = 1 / this.priorStd ** 2 + this.pulls[a]! / s2;
    return [this.sums[a]! / s2 / prec, Math.sqrt(1 / prec)];
  }

  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    const out = this.out(obs.B);
    const { N, F, K } = this.env.layout;
    if (this.score.length !== N) this.score = new Float64Array(N);
    const explore = ctx.training || ctx.explore;
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      const rng = ctx.training ? ctx.rng : this.evalStreams.get(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      if (this.epsilon && explore) {
        const eps = ctx.training ? epsilonAt(this.epsilon, this.total) : this.epsilon.epsilonEnd;
        if (rng() < eps) {
          sampleDistinct(rng, N, K, out, s * K);
          continue;
        }
      }
      // Thompson: one sample per arm per decision (an arm appearing twice among the candidates scores the same).
      const seen = new Map<number, number>();
      for (let i = 0; i < N; i++) {
        const a = this.arms.arm(obs, s, i, N, F);
        let v = seen.get(a);
        if (v === undefined) {
          v = this.index(a, explore, rng);
          seen.set(a, v);
        }
        this.score[i] = v;
      }
      topK(this.score, 0, N, K, out, s * K);
    }
    return out;
  }

  observe(t: Transitions): void {
    const { N, F, K } = this.env.layout;
    const binarize = this.id === 'thompson-beta';
    for (let s = 0; s < t.obs.B; s++) {
      if (!t.stepped[s]) continue;
      for (let j = 0; j < K; j++) {
        const a = this.arms.arm(t.obs, s, t.actions[s * K + j]!, N, F);
        const r = t.clicked[s] === j ? (this.params.feedback === 'click' ? 1 : t.rewards[s]!) : 0;
        this.pulls[a]! += 1;
        this.sums[a]! += r;
        if (binarize) {
          this.successes[a]! += r === 1 || (r > 0 && this.rng() < r) ? 1 : 0;
        }
        this.total += 1;
      }
    }
  }

  protected override getState(): unknown {
    return { pulls: Array.from(this.pulls), sums: Array.from(this.sums), successes: Array.from(this.successes), total: this.total, evalStreams: this.evalStreams.state() };
  }
  protected override setState(x: unknown): void {
    const st = x as { pulls: number[]; sums: number[]; successes: number[]; total: number; evalStreams: ReturnType<PerUserStreams['state']> };
    this.pulls = Float64Array.from(st.pulls);
    this.sums = Float64Array.from(st.sums);
    this.successes = Float64Array.from(st.successes);
    this.total = st.total;
    this.evalStreams.load(st.evalStreams);
  }
}

/** Disjoint LinUCB (Li et al. 2010). */
export const linUcbParams = defineParams({
  arms: param.enum({ default: 'auto', values: ['auto', 'topic', 'shared'], description: 'one model per topic, or one shared model (auto: per topic when the env has topics)' }),
  context: param.enum({ default: 'candidate', values: ['candidate', 'candidate+user'], description: 'context features' }),
  alpha: param.number({ default: 1, min: 0, max: 100, description: 'exploration bonus scale' }),
  ridge: param.number({ default: 1, min: 0, max: 1e6, minExclusive: true, description: 'ridge lambda' }),
  feedback: param.enum({ default: 'reward', values: ['reward', 'click'], description: "a shown item's reward: the step's reward if clicked, or 1 per click" }),
});

export class LinUcbAgent extends BaseAgent<ParamsOf<typeof linUcbParams>> {
  readonly id = 'linucb';
  readonly d: number;
  private readonly cols: number[];
  private readonly userCols: number[];
  private readonly topic: FeatureSpec | null;
  private readonly numModels: number;
  Ainv: Float64Array;
  b: Float64Array;
  private x = new Float64Array(0);
  private tmp = new Float64Array(0);
  private score = new Float64Array(0);

  constructor(p: ParamsOf<typeof linUcbParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    const cf = env.layout.candidateFeatures;
    const perTopic = p.arms === 'topic' || (p.arms === 'auto' && cf.some((f) => f.name === 'topic' && f.kind === 'onehot'));
    this.topic = perTopic ? requireFeature(this.id, env, 'candidates', ['topic']) : null;
    this.cols = [];
    for (const f of cf) if (f.kind !== 'onehot' || !perTopic) for (let j = 0; j < f.size; j++) this.cols.push(f.offset + j);
    this.userCols = [];
    if (p.context === 'candidate+user') for (const f of env.layout.userFeatures) if (f.kind !== 'history') for (let j = 0; j < f.size; j++) this.userCols.push(f.offset + j);
    this.d = this.cols.length + this.userCols.length + 1;
    if (this.d > 200) throw new IncompatibleEnv(this.id, env.envId, `the context has ${this.d} dimensions (limit 200)`);
    this.numModels = perTopic ? this.topic!.size : 1;
    const d = this.d;
    this.Ainv = new Float64Array(this.numModels * d * d);
    const lam = p.ridge;
    for (let m = 0; m < this.numModels; m++) for (let i = 0; i < d; i++) this.Ainv[m * d * d + i * d + i] = 1 / lam;
    this.b = new Float64Array(this.numModels * d);
    this.x = new Float64Array(d);
    this.tmp = new Float64Array(d);
  }

  private contextOf(obs: { user: Float32Array; candidates: Float32Array }, s: number, i: number): void {
    const { N, F, U } = this.env.layout;
    const base = (s * N + i) * F;
    let k = 0;
    for (const c of this.cols) this.x[k++] = obs.candidates[base + c]!;
    for (const c of this.userCols) this.x[k++] = obs.user[s * U + c]!;
    this.x[k] = 1;
  }

  private model(obs: { candidates: Float32Array }, s: number, i: number): number {
    if (!this.topic) return 0;
    const { N, F } = this.env.layout;
    return Math.max(0, topicOf(obs.candidates, s, i, N, F, this.topic));
  }

  /** theta . x and x^T Ainv x for model m and the current context. */
  private predict(m: number): [number, number] {
    const d = this.d;
    const A = m * d * d;
    let quad = 0;
    let mean = 0;
    for (let i = 0; i < d; i++) {
      let row = 0;
      for (let j = 0; j < d; j++) row += this.Ainv[A + i * d + j]! * this.x[j]!;
      this.tmp[i] = row;
      quad += this.x[i]! * row;
    }
    // theta = Ainv b
    for (let i = 0; i < d; i++) {
      let th = 0;
      for (let j = 0; j < d; j++) th += this.Ainv[A + i * d + j]! * this.b[m * d + j]!;
      mean += th * this.x[i]!;
    }
    return [mean, quad];
  }

  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    if (this.score.length !== N) this.score = new Float64Array(N);
    const alpha = ctx.training || ctx.explore ? this.params.alpha : 0;
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      for (let i = 0; i < N; i++) {
        this.contextOf(obs, s, i);
        const [mean, quad] = this.predict(this.model(obs, s, i));
        this.score[i] = mean + alpha * Math.sqrt(Math.max(0, quad));
      }
      topK(this.score, 0, N, K, out, s * K);
    }
    return out;
  }

  observe(t: Transitions): void {
    const K = this.env.layout.K;
    const d = this.d;
    for (let s = 0; s < t.obs.B; s++) {
      if (!t.stepped[s]) continue;
      for (let j = 0; j < K; j++) {
        const i = t.actions[s * K + j]!;
        this.contextOf(t.obs, s, i);
        const m = this.model(t.obs, s, i);
        const r = t.clicked[s] === j ? (this.params.feedback === 'click' ? 1 : t.rewards[s]!) : 0;
        // Sherman-Morrison: Ainv <- Ainv - (Ainv x)(Ainv x)^T / (1 + x^T Ainv x)
        const A = m * d * d;
        let quad = 0;
        for (let a = 0; a < d; a++) {
          let row = 0;
          for (let c = 0; c < d; c++) row += this.Ainv[A + a * d + c]! * this.x[c]!;
          this.tmp[a] = row;
          quad += this.x[a]! * row;
        }
        const den = 1 + quad;
        for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) this.Ainv[A + a * d + c]! -= (this.tmp[a]! * this.tmp[c]!) / den;
        for (let a = 0; a < d; a++) this.b[m * d + a]! += r * this.x[a]!;
      }
    }
  }

  protected override getState(): unknown {
    return { Ainv: Array.from(this.Ainv), b: Array.from(this.b) };
  }
  protected override setState(x: unknown): void {
    const st = x as { Ainv: number[]; b: number[] };
    this.Ainv = Float64Array.from(st.Ainv);
    this.b = Float64Array.from(st.b);
  }
}

export const itemStatRankParams = defineParams({
  stat: param.enum({ default: 'rewardPerLength', values: ['ctr', 'rewardPerClick', 'rewardPerLength'], description: "the per-item statistic ranked by: smoothed click rate, reward per click, or reward per click per unit of length (candidates with a 'length' feature)" }),
  ...epsilonShape,
  epsilonSchedule: withDefault(epsilonShape.epsilonSchedule, 'constant'),
  epsilonStart: withDefault(epsilonShape.epsilonStart, 0.2),
});

/** Top-K by one per-item feedback statistic, counted from its own training steps; epsilon-greedy in training. */
export class ItemStatRankAgent extends BaseAgent<ParamsOf<typeof itemStatRankParams>> {
  readonly id = 'item-stat-rank';
  private readonly items: ItemFeedback;
  /** Column of the statistic among ItemFeedback's appended columns. */
  private readonly column: number;
  private steps = 0;
  private rows = new Float32Array(0);
  private score = new Float64Array(0);
  private readonly evalStreams: PerUserStreams;

  constructor(p: ParamsOf<typeof itemStatRankParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    if (env.layout.itemCount === null) throw new IncompatibleEnv(this.id, env.envId, 'it ranks catalogue items by their feedback and needs item ids (the env has none)');
    const len = ItemFeedback.lengthOffset(env.layout);
    if (p.stat === 'rewardPerLength' && len < 0) throw new IncompatibleEnv(this.id, env.envId, 'stat "rewardPerLength" needs a one-column candidate feature named "length"; use "ctr" or "rewardPerClick"');
    this.items = new ItemFeedback(env.layout.itemCount, env.layout.F, len);
    this.column = env.layout.F + { ctr: 0, rewardPerClick: 1, rewardPerLength: 3 }[p.stat];
    this.evalStreams = new PerUserStreams(seed, 'item-stat-rank-eval');
  }

  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    const B = obs.B;
    const out = this.out(B);
    const { N, F, K } = this.env.layout;
    const W = F + this.items.extra;
    if (this.rows.length < B * N * W) this.rows = new Float32Array(B * N * W);
    if (this.score.length !== N) this.score = new Float64Array(N);
    const rows = this.items.augment(obs.candidates, obs.itemIds, B, N, this.rows);
    const eps = ctx.training ? epsilonAt(this.params, this.steps) : ctx.explore ? this.params.epsilonEnd : 0;
    for (let s = 0; s < B; s++) {
      if (!obs.active[s]) continue;
      const rng = ctx.training ? ctx.rng : this.evalStreams.get(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      if (eps > 0 && rng() < eps) {
        sampleDistinct(rng, N, K, out, s * K);
        continue;
      }
      for (let i = 0; i < N; i++) this.score[i] = rows[(s * N + i) * W + this.column]!;
      topK(this.score, 0, N, K, out, s * K);
    }
    return out;
  }

  observe(t: Transitions): void {
    const { N, K } = this.env.layout;
    this.items.record(t.obs, N, t.actions, K, t.clicked, t.rewards, t.stepped, t.obs.B);
    for (let s = 0; s < t.obs.B; s++) if (t.stepped[s]) this.steps++;
  }

  protected override getState(): unknown {
    return { items: this.items.state(), steps: this.steps, evalStreams: this.evalStreams.state() };
  }
  protected override setState(x: unknown): void {
    const st = x as { items: ItemFeedbackState; steps: number; evalStreams: ReturnType<PerUserStreams['state']> };
    this.items.load(st.items);
    this.steps = st.steps;
    this.evalStreams.load(st.evalStreams);
  }
}

const BANDITS: Record<BanditRule, { description: string; source: string }> = {
  'epsilon-greedy': { description: 'epsilon-greedy bandit over topics or items, top-K slates by mean reward', source: 'Sutton and Barto 2018, Reinforcement Learning, 2.2-2.4' },
  ucb1: { description: 'UCB1 bandit over topics or items', source: 'Auer, Cesa-Bianchi and Fischer 2002, Machine Learning 47' },
  'thompson-beta': { description: 'Beta-Bernoulli Thompson sampling over topics or items', source: 'Thompson 1933; Chapelle and Li, NeurIPS 2011; Agrawal and Goyal, COLT 2012' },
  'thompson-gaussian': { description: 'Gaussian Thompson sampling over topics or items', source: 'Agrawal and Goyal, AISTATS 2013' },
};

/** The bandit agents' definitions (registered by agents/index.ts). */
export const banditAgents = [
  ...(Object.keys(BANDITS) as BanditRule[]).map((rule) =>
    defineAgent({ id: rule, description: BANDITS[rule].description, source: BANDITS[rule].source, oracle: false, params: banditParams[rule] as (typeof banditParams)[BanditRule], create: (p, env, seed) => new BanditAgent(rule, p, env, seed) }),
  ),
  defineAgent({
    id: 'item-stat-rank',
    description: 'epsilon-greedy over catalogue items, top-K by one smoothed per-item feedback statistic (click rate, reward per click, reward per unit of length)',
    source: 'Sutton and Barto 2018, 2.2-2.4 (epsilon-greedy); empirical-Bayes shrinkage of per-item rates (as the supervised itemStats)',
    oracle: false,
    params: itemStatRankParams,
    create: (p, env, seed) => new ItemStatRankAgent(p, env, seed),
  }),
  defineAgent({
    id: 'linucb',
    description: 'disjoint LinUCB over candidate features (one ridge model per topic, or shared)',
    source: 'Li, Chu, Langford and Schapire, WWW 2010',
    oracle: false,
    params: linUcbParams,
    create: (p, env, seed) => new LinUcbAgent(p, env, seed),
  }),
];
