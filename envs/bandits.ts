/**
 * Two bandit envs with known optima, the small problems on which bandit agents are scored as regret.
 *
 * ## bernoulli-bandit-v0 (Lattimore and Szepesvari 2020, "Bandit Algorithms", ch. 4)
 * A stationary Bernoulli bandit: arms a = 0..A-1 with success probabilities `means`
 * [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]. Every step the N = A candidates are the arms
 * (candidate features: one-hot arm, exposed as the `topic` block, so topic-level agents treat arms as topics);
 * the slate is one arm; reward ~ Bernoulli(mean of the arm) (1 = click). Truncated after `horizon` [1000]
 * steps. user = [steps so far]. Hidden: `expectedReward` per candidate (the means).
 * Streams: choice: 1 per step.
 *
 * ## linear-bandit-v0 (Li, Chu, Langford, Schapire, WWW 2010: the setting of LinUCB)
 * A catalogue of M [100] items with features x_i ~ Normal(0, I_d / d), d = dim [5] (world stream), and a
 * population parameter theta ~ Normal(0, I_d) (world stream). Each step N [10] distinct candidates are drawn
 * from the catalogue; the slate is one item; reward = theta . x_i + noiseStd [0.1] Normal(0, 1).
 * Candidate features: x (d values); itemIds: catalogue ids. Truncated after `horizon` [1000] steps.
 * user = [steps so far]. Hidden: `expectedReward` = theta . x per candidate.
 * Streams: candidates: N per step (and at reset); choice: 2 per step (the noise normal).
 */
import type { BatchSim, HiddenBlock, Layout, SlotStatus } from './core.js';
import { lazyHidden, RUNNING, TRUNCATED } from './core.js';
import { defineParams, param, paramConstraint, type ParamsOf } from './params.js';
import { atMost, defineEnv } from './definition.js';
import { observationSpaceOf } from './core.js';
import { normal, type Rng, sampleDistinct, userStream, worldStream } from './rng.js';

export const bernoulliBanditParams = defineParams({
  means: param.numbers({ default: [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], min: 0, max: 1, description: 'success probability of each arm' }),
  horizon: param.int({ default: 1000, min: 1, max: 1e8, description: 'steps per episode (truncation)' }),
});
export type BernoulliBanditParams = ParamsOf<typeof bernoulliBanditParams>;

export const linearBanditParams = defineParams({
  numItems: param.int({ default: 100, min: 2, max: 1e6, description: 'catalogue size M' }),
  dim: param.int({ default: 5, min: 1, max: 100, description: 'feature dimension d' }),
  numCandidates: param.int({ default: 10, min: 1, max: 10000, description: 'candidates N per step (at most numItems)' }),
  noiseStd: param.number({ default: 0.1, min: 0, max: 10, description: 'std of the reward noise' }),
  horizon: param.int({ default: 1000, min: 1, max: 1e8, description: 'steps per episode (truncation)' }),
});
export type LinearBanditParams = ParamsOf<typeof linearBanditParams>;

export class BernoulliBanditSim implements BatchSim {
  readonly layout: Layout;
  readonly user: Float32Array;
  readonly candidates: Float32Array;
  readonly itemIds = null;
  readonly rewards: Float64Array;
  readonly clicked: Int32Array;
  readonly episodeStatNames: readonly string[] = [];
  private readonly means: readonly number[];
  private readonly horizon: number;
  private readonly steps: Int32Array;
  private readonly rChoice: Rng[];
  private populationSeed = 0;

  constructor(
    readonly B: number,
    p: BernoulliBanditParams,
  ) {
    this.means = p.means;
    this.horizon = p.horizon;
    const A = this.means.length;
    this.layout = {
      U: 1,
      N: A,
      F: A,
      K: 1,
      itemCount: null,
      userFeatures: [{ name: 'step', offset: 0, size: 1, kind: 'int' }],
      candidateFeatures: [{ name: 'topic', offset: 0, size: A, kind: 'onehot' }],
      rewardRange: [0, 1],
      choice: 'single',
    };
    this.user = new Float32Array(B);
    this.candidates = new Float32Array(B * A * A);
    for (let s = 0; s < B; s++) for (let a = 0; a < A; a++) this.candidates[(s * A + a) * A + a] = 1;
    this.rewards = new Float64Array(B);
    this.clicked = new Int32Array(B).fill(-1);
    this.steps = new Int32Array(B);
    this.rChoice = new Array<Rng>(B);
  }

  setPopulation(seed: number): void {
    this.populationSeed = seed;
  }

  resetSlot(s: number, userIndex: number): void {
    this.rChoice[s] = userStream(this.populationSeed, userIndex, 'choice');
    this.steps[s] = 0;
    this.user[s] = 0;
    this.rewards[s] = 0;
  }

  stepSlot(s: number, actions: Int32Array, o: number): SlotStatus {
    const a = actions[o]!;
    const click = this.rChoice[s]!() < this.means[a]!;
    this.rewards[s] = click ? 1 : 0;
    this.clicked[s] = click ? 0 : -1;
    this.steps[s]! += 1;
    this.user[s] = this.steps[s]!;
    return this.steps[s]! >= this.horizon ? TRUNCATED : RUNNING;
  }

  info(): Record<string, unknown> {
    const means = [...this.means];
    return lazyHidden({}, () => ({ expectedReward: means }));
  }

  hidden(): Record<string, HiddenBlock> {
    const A = this.means.length;
    const er = new Float64Array(this.B * A);
    for (let s = 0; s < this.B; s++) for (let a = 0; a < A; a++) er[s * A + a] = this.means[a]!;
    return { expectedReward: { data: er, shape: [A], description: 'success probability of each arm' } };
  }

  episodeStats(): void {}
}

export class LinearBanditSim implements BatchSim {
  readonly layout: Layout;
  readonly user: Float32Array;
  readonly candidates: Float32Array;
  readonly itemIds: Int32Array;
  readonly rewards: Float64Array;
  readonly clicked: Int32Array;
  readonly episodeStatNames: readonly string[] = [];
  private readonly M: number;
  private readonly d: number;
  private readonly N: number;
  private readonly noise: number;
  private readonly horizon: number;
  private features = new Float64Array(0);
  private theta = new Float64Array(0);
  private worldSeed = -1;
  private populationSeed = 0;
  private readonly steps: Int32Array;
  private readonly rCand: Rng[];
  private readonly rChoice: Rng[];

  constructor(
    readonly B: number,
    p: LinearBanditParams,
  ) {
    this.M = p.numItems;
    this.d = p.dim;
    this.N = p.numCandidates;
    this.noise = p.noiseStd;
    this.horizon = p.horizon;
    this.layout = {
      U: 1,
      N: this.N,
      F: this.d,
      K: 1,
      itemCount: this.M,
      userFeatures: [{ name: 'step', offset: 0, size: 1, kind: 'int' }],
      candidateFeatures: [{ name: 'x', offset: 0, size: this.d, kind: 'real' }],
      rewardRange: [-Infinity, Infinity],
      choice: 'single',
    };
    this.user = new Float32Array(B);
    this.candidates = new Float32Array(B * this.N * this.d);
    this.itemIds = new Int32Array(B * this.N);
    this.rewards = new Float64Array(B);
    this.clicked = new Int32Array(B).fill(-1);
    this.steps = new Int32Array(B);
    this.rCand = new Array<Rng>(B);
    this.rChoice = new Array<Rng>(B);
  }

  setPopulation(seed: number): void {
    this.populationSeed = seed;
    if (seed === this.worldSeed) return;
    const { M, d } = this;
    const w = worldStream(seed, 'catalogue');
    this.features = new Float64Array(M * d);
    for (let i = 0; i < M * d; i++) this.features[i] = normal(w) / Math.sqrt(d);
    const t = worldStream(seed, 'theta');
    this.theta = new Float64Array(d);
    for (let j = 0; j < d; j++) this.theta[j] = normal(t);
    this.worldSeed = seed;
  }

  /** theta . x of catalogue item `it`. */
  private mean(it: number): number {
    let m = 0;
    for (let j = 0; j < this.d; j++) m += this.theta[j]! * this.features[it * this.d + j]!;
    return m;
  }

  private sampleCandidates(s: number): void {
    const { N, d } = this;
    sampleDistinct(this.rCand[s]!, this.M, N, this.itemIds, s * N);
    for (let i = 0; i < N; i++) {
      const it = this.itemIds[s * N + i]!;
      for (let j = 0; j < d; j++) this.candidates[(s * N + i) * d + j] = this.features[it * d + j]!;
    }
  }

  resetSlot(s: number, userIndex: number): void {
    this.rCand[s] = userStream(this.populationSeed, userIndex, 'candidates');
    this.rChoice[s] = userStream(this.populationSeed, userIndex, 'choice');
    this.steps[s] = 0;
    this.user[s] = 0;
    this.rewards[s] = 0;
    this.sampleCandidates(s);
  }

  stepSlot(s: number, actions: Int32Array, o: number): SlotStatus {
    const it = this.itemIds[s * this.N + actions[o]!]!;
    this.rewards[s] = this.mean(it) + this.noise * normal(this.rChoice[s]!);
    this.clicked[s] = 0;
    this.steps[s]! += 1;
    this.user[s] = this.steps[s]!;
    this.sampleCandidates(s);
    return this.steps[s]! >= this.horizon ? TRUNCATED : RUNNING;
  }

  info(s: number): Record<string, unknown> {
    const ids = this.itemIds.slice(s * this.N, (s + 1) * this.N);
    return lazyHidden({}, () => ({ expectedReward: Array.from(ids, (it) => this.mean(it)) }));
  }

  hidden(): Record<string, HiddenBlock> {
    const { B, N } = this;
    const er = new Float64Array(B * N);
    for (let k = 0; k < B * N; k++) er[k] = this.mean(this.itemIds[k]!);
    return { expectedReward: { data: er, shape: [N], description: 'theta . x of each candidate' } };
  }

  episodeStats(): void {}
}

export const bernoulliBanditEnv = defineEnv({
  id: 'bernoulli-bandit-v0',
  description: 'A stationary Bernoulli multi-armed bandit with known means (regret benchmark for bandit agents)',
  source: 'Lattimore and Szepesvari 2020, Bandit Algorithms, ch. 4',
  params: bernoulliBanditParams,
  multiSession: false,
  card: {
    models: 'A arms with fixed success probabilities; no state',
    observation: 'user: steps so far; candidates: the A arms as one-hot rows',
    action: 'Slate(A, 1): the arm to pull',
    reward: 'Bernoulli(mean of the arm)',
    episodeEnd: 'truncated after the horizon (1,000 steps)',
  },
  // Each arm is a candidate with a one-hot arm feature, so a user's candidates are A x A values: at most 1,000
  // arms (10^6 values, 4 MB a user) keeps observations and steps linear in practice.
  check: (p) => paramConstraint('bernoulli-bandit-v0', p.means.length <= 1000, `means has ${p.means.length} arms; at most 1,000 (each arm's one-hot candidate feature makes the observation arms x arms)`),
  createSim: (B, p) => new BernoulliBanditSim(B, p),
  observationSpace: (p, l) => observationSpaceOf(l, 0, p.horizon, 0, 1),
});

export const linearBanditEnv = defineEnv({
  id: 'linear-bandit-v0',
  description: 'A linear contextual bandit over a catalogue with feature vectors (the LinUCB setting)',
  source: 'Li, Chu, Langford and Schapire, WWW 2010 (LinUCB)',
  params: linearBanditParams,
  multiSession: false,
  card: {
    models: 'expected reward linear in the item features, theta fixed per population',
    observation: 'user: steps so far; candidates: N x d features; itemIds',
    action: 'Slate(N, 1), default N 10',
    reward: 'theta . x + Normal(0, 0.1)',
    episodeEnd: 'truncated after the horizon (1,000 steps)',
  },
  check: (p) => {
    atMost('linear-bandit-v0', ['numCandidates', 'numItems'])(p);
    // The catalogue's feature matrix is numItems x dim float64s drawn at every population: at most 10^7 values
    // (80 MB, about 0.5 s to draw), so that a reset stays interactive.
    const n = p.numItems * p.dim;
    paramConstraint('linear-bandit-v0', n <= 1e7, `numItems x dim = ${p.numItems} x ${p.dim} = ${n} catalogue features; at most 10,000,000 (80 MB drawn at every population): lower numItems or dim`);
  },
  createSim: (B, p) => new LinearBanditSim(B, p),
  observationSpace: (p, l) => observationSpaceOf(l, 0, p.horizon, -Infinity, Infinity),
});
