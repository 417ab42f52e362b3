/**
 * The env registry: versioned ids (`name-vN`), `make`, `makeVec`, `register`, `listEnvs`.
 *
 * An env's version is bumped whenever its dynamics, reward, observation layout or defaults change, so a
 * result produced with `retention-v0` stays comparable. Registering an id twice is an error.
 */
import { type AutoresetMode, type BatchSim, type Env, type EnvDefinition, MAX_NUM_ENVS, MAX_VEC_OBSERVATION_BYTES, observationSpaceOf, SimEnv, VectorEnv } from './core.js';
import { describeValue } from './spaces.js';
import type { Dict } from './spaces.js';
import { InvalidArgument, RegistryConflict, UnknownEnv } from './errors.js';
import { type ParamSpec, paramConstraint, type ResolvedParams, resolveParams } from './params.js';
import { TimeLimit } from './wrappers.js';
import { IEV_TOPICS, InterestEvolutionSim, interestEvolutionParams } from './interest-evolution.js';
import { LongTermSatisfactionSim, longTermSatisfactionParams } from './long-term-satisfaction.js';
import { BoredomMdpSim, boredomMdpModel, boredomMdpParams, type FiniteModel } from './boredom-mdp.js';
import { RetentionSim, retentionParams, retentionV1Params } from './retention.js';
import { BernoulliBanditSim, bernoulliBanditParams, LinearBanditSim, linearBanditParams } from './bandits.js';

/** What the README's env table shows, one field per column. */
export interface EnvCard {
  models: string;
  observation: string;
  action: string;
  reward: string;
  episodeEnd: string;
}

export interface EnvSpec {
  /** Versioned id, e.g. `retention-v0`. */
  id: string;
  /** One line. */
  description: string;
  /** Paper / code the env reproduces or follows. */
  source: string;
  params: readonly ParamSpec[];
  multiSession: boolean;
  card: EnvCard;
  /** Cross-param checks, run after each param is validated on its own (throw InvalidParam). */
  check?(p: ResolvedParams): void;
  createSim(B: number, p: ResolvedParams): BatchSim;
  observationSpace(p: ResolvedParams, layout: BatchSim['layout']): Dict;
  model?(p: ResolvedParams): FiniteModel;
}

const ID_RE = /^(?<name>[a-z][a-z0-9-]*?)-v(?<version>\d+)$/;
const registry = new Map<string, EnvSpec>();

export function register(spec: EnvSpec): void {
  if (!ID_RE.test(spec.id)) throw new InvalidArgument(`register: env id "${spec.id}" must look like name-vN (lower case, e.g. retention-v0)`);
  if (registry.has(spec.id)) throw new RegistryConflict(`register: env id "${spec.id}" is already registered; bump the version for a changed env`);
  registry.set(spec.id, spec);
}

/** The registered specs, in registration order. */
export function listEnvs(): { id: string; description: string; source: string }[] {
  return [...registry.values()].map((s) => ({ id: s.id, description: s.description, source: s.source }));
}

export function envSpec(id: string): EnvSpec {
  const spec = registry.get(id);
  if (spec) return spec;
  const known = [...registry.keys()];
  const m = ID_RE.exec(String(id));
  if (m?.groups) {
    const versions = known.filter((k) => ID_RE.exec(k)?.groups?.name === m.groups!.name);
    if (versions.length > 0) throw new UnknownEnv(`unknown env version "${id}"; available versions: ${versions.join(', ')}`);
  }
  throw new UnknownEnv(`unknown env id ${JSON.stringify(id)}; known envs: ${known.join(', ')}`);
}

/** Validate params against an env's spec (defaults filled in). */
export function resolveEnvParams(id: string, params?: Record<string, unknown>): ResolvedParams {
  const spec = envSpec(id);
  const p = resolveParams(id, spec.params, params);
  spec.check?.(p);
  return p;
}

function definition(spec: EnvSpec, p: ResolvedParams): EnvDefinition {
  const def: EnvDefinition = { id: spec.id, params: p, multiSession: spec.multiSession, createSim: (B) => spec.createSim(B, p) };
  if (spec.model) def.model = () => spec.model!(p);
  return def;
}

export interface MakeOptions {
  /** Wrap in TimeLimit with this many steps. */
  maxEpisodeSteps?: number;
}

/** A single-user env. */
export function make(id: string, params?: Record<string, unknown>, opts: MakeOptions = {}): Env {
  const spec = envSpec(id);
  const p = resolveEnvParams(id, params);
  const def = definition(spec, p);
  const probe = spec.createSim(1, p);
  const env: Env = new SimEnv(def, spec.observationSpace(p, probe.layout));
  return opts.maxEpisodeSteps !== undefined ? new TimeLimit(env, opts.maxEpisodeSteps) : env;
}

export interface MakeVecOptions {
  numEnvs: number;
  autoresetMode?: AutoresetMode;
}

/** A vector env of `numEnvs` users stepped in lock-step (autoreset 'same-step' by default). */
export function makeVec(id: string, params: Record<string, unknown> | undefined, opts: MakeVecOptions): VectorEnv {
  if (opts === null || typeof opts !== 'object') throw new InvalidArgument(`makeVec(${JSON.stringify(id)}): options must be an object { numEnvs, autoresetMode? }, got ${opts === null ? 'null' : typeof opts}`);
  const spec = envSpec(id);
  const p = resolveEnvParams(id, params);
  const def = definition(spec, p);
  const probe = spec.createSim(1, p);
  const B = opts.numEnvs;
  if (typeof B !== 'number' || !Number.isInteger(B) || B < 1 || B > MAX_NUM_ENVS) {
    throw new InvalidArgument(`makeVec(${JSON.stringify(id)}): numEnvs must be an integer in [1, ${MAX_NUM_ENVS}], got ${describeValue(B)}`);
  }
  const { U, N, F } = probe.layout;
  const bytes = B * (U + N * F) * 4 * 3;
  if (bytes > MAX_VEC_OBSERVATION_BYTES) {
    throw new InvalidArgument(
      `makeVec(${JSON.stringify(id)}): numEnvs = ${B} needs about ${(bytes / 2 ** 20).toFixed(0)} MiB of observation buffers (${B} x (U ${U} + N ${N} x F ${F}) float32s, 3 copies); the limit is ${MAX_VEC_OBSERVATION_BYTES / 2 ** 20} MiB: lower numEnvs to at most ${Math.floor(MAX_VEC_OBSERVATION_BYTES / ((U + N * F) * 12))}`,
    );
  }
  return new VectorEnv(def, spec.observationSpace(p, probe.layout), B, opts.autoresetMode === undefined ? 'same-step' : opts.autoresetMode);
}

// ---------------------------------------------------------------------------------------------------
// The built-in envs.

/** A check that each pair [small, large] of params has small <= large. */
const atMost =
  (id: string, ...pairs: [string, string][]) =>
  (p: ResolvedParams) => {
    for (const [a, b] of pairs) paramConstraint(id, (p[a] as number) <= (p[b] as number), `param "${a}" = ${p[a]} must not exceed ${b} = ${p[b]}`);
  };

register({
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
    const K = p.slateSize as number;
    const uLow: number[] = [];
    const uHigh: number[] = [];
    if (!p.hideInterests) for (let t = 0; t < IEV_TOPICS; t++) uLow.push(-1), uHigh.push(1);
    for (let j = 0; j < K; j++) uLow.push(0, 0, -Infinity, -1), uHigh.push(1, p.videoLength as number, Infinity, IEV_TOPICS - 1);
    return observationSpaceOf(l, uLow, uHigh, 0, 1);
  },
});

register({
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
    const K = p.slateSize as number;
    const uHigh: number[] = [];
    for (let j = 0; j < K; j++) uHigh.push(1, 100);
    return observationSpaceOf(l, 0, uHigh, 0, 1);
  },
});

register({
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

/** Observation bounds of the retention envs (v0: appeal, quality estimate, length; v1: embedding, length). */
function retentionObservationSpace(p: ResolvedParams, l: BatchSim['layout'], v1: boolean): Dict {
  const T = p.numTopics as number;
  const L = p.historyLength as number;
  const uLow = [0, 0, 0, 0];
  const uHigh = [p.horizonDays as number, Infinity, p.maxSessionSteps as number, Infinity];
  for (let j = 0; j < L; j++) uLow.push(-1, 0, 0), uHigh.push(T - 1, 1, 1);
  for (let t = 0; t < 3 * T; t++) uLow.push(0), uHigh.push(Infinity);
  const cLow: number[] = [];
  const cHigh: number[] = [];
  const D = v1 ? (p.embeddingDim as number) : 0;
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

register({
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

register({
  id: 'boredom-mdp-v0',
  description: 'A small finite MDP (topics x boredom levels x satisfaction) with an exact model() for value iteration',
  source: "engagement-gym's own; satiation after rebounding bandits (Leqi et al., NeurIPS 2021)",
  params: boredomMdpParams,
  multiSession: false,
  card: {
    models: 'per-topic boredom levels and a satisfaction level; appealing topics lower satisfaction, which raises the leave probability',
    observation: 'user: boredom levels (T) + satisfaction level; candidates: T x (T + 2) fixed topic features',
    action: 'Slate(T, 1): the topic to recommend',
    reward: 'click x (0.5 + satisfaction level / (Ls - 1))',
    episodeEnd: 'terminated when the user leaves (probability 0.3 down to 0.02 by satisfaction)',
  },
  check: atMost('boredom-mdp-v0', ['leaveMin', 'leaveMax']),
  createSim: (B, p) => new BoredomMdpSim(B, p),
  observationSpace: (p, l) => {
    const T = p.numTopics as number;
    const uHigh = [...new Array(T).fill((p.boredomLevels as number) - 1), (p.satisfactionLevels as number) - 1];
    const cLow: number[] = [];
    const cHigh: number[] = [];
    for (let i = 0; i < T; i++) {
      for (let t = 0; t < T; t++) cLow.push(0), cHigh.push(1);
      cLow.push(0, -1);
      cHigh.push(1, 1);
    }
    return observationSpaceOf(l, 0, uHigh, cLow, cHigh);
  },
  model: (p) => boredomMdpModel(p),
});


register({
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
  check: (p) => paramConstraint('bernoulli-bandit-v0', (p.means as number[]).length <= 1000, `means has ${(p.means as number[]).length} arms; at most 1,000 (each arm's one-hot candidate feature makes the observation arms x arms)`),
  createSim: (B, p) => new BernoulliBanditSim(B, p),
  observationSpace: (p, l) => observationSpaceOf(l, 0, p.horizon as number, 0, 1),
});

register({
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
    const n = (p.numItems as number) * (p.dim as number);
    paramConstraint('linear-bandit-v0', n <= 1e7, `numItems x dim = ${p.numItems} x ${p.dim} = ${n} catalogue features; at most 10,000,000 (80 MB drawn at every population): lower numItems or dim`);
  },
  createSim: (B, p) => new LinearBanditSim(B, p),
  observationSpace: (p, l) => observationSpaceOf(l, 0, p.horizon as number, -Infinity, Infinity),
});
