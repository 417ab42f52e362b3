/**
 * lts-oracle: the ceiling of long-term-satisfaction-v0 (RecSim's choc/kale), from its hidden state and exact model
 * (envs/long-term-satisfaction.ts): finite-horizon dynamic programming over (steps left L, net positive exposure
 * NPE). With m(c) = c chocMean + (1 - c) kaleMean, s(c) = c chocStd + (1 - c) kaleStd and SAT = sigmoid(tau NPE):
 *
 *   Q_L(npe, c) = exp(SAT(npe) m(c) + s(c)^2 / 2) + E_eps V_{L-1}(beta npe - 2 (c - 0.5) + eta eps),
 *   V_L(npe)    = E[max_{i = 1..N} Q_L(npe, c_i)],  c_i ~ Uniform(0, 1) independent,  V_0 = 0,
 *
 * the expected engagement of the consumed item now plus the value of the NPE it leads to, eps ~ Normal(0, 1) the
 * innovation. Acting, the user's hidden NPE and steps left give each candidate's Q_L at its own clickbait score;
 * slate position 0 (the only one consumed) is the best, the others follow by Q. So it is the optimal policy of the
 * env up to the numerics:
 * - V on `grid` equally spaced NPE points over [-R, R], R = (1 + 4 eta) / (1 - beta) (the NPE of a user served
 *   only chocolate or only kale stays within 1 / (1 - beta); the innovation adds little), linearly interpolated,
 *   flat beyond the ends;
 * - the innovation's expectation by 3-point Gauss-Hermite quadrature (nodes 0 and +-sqrt(3), weights 2/3, 1/6, 1/6:
 *   exact for polynomials of degree 5);
 * - the expectation of the maximum of N uniform draws exact for `cValues` equally likely clickbait scores at the
 *   midpoints of [0, 1]'s equal bins: with Q sorted, sum_k Q_(k) [(k / M)^N - ((k - 1) / M)^N].
 * Deterministic (no random draws). `value(L, npe)` is the table's V_L, the expected return from a state:
 * test/agents/lts-oracle.test.ts checks that the mean of V_T over users' first states matches the return the
 * policy earns on them, within sampling error, and that with tau = 0 it is the myopic oracle.
 * Source: engagement-gym's own; Bellman 1957 (finite-horizon dynamic programming).
 */
import type { AgentEnvInfo, AgentObservation } from './api.js';
import { BaseAgent, IncompatibleEnv } from './api.js';
import { defineAgent, envParamsFor } from './registry.js';
import { defineParams, param, type ParamsOf } from '../envs/params.js';
import { InvalidArgument } from '../envs/errors.js';
import { longTermSatisfactionEnv } from '../envs/long-term-satisfaction.js';
import { sigmoid } from '../envs/math.js';
import { topK } from '../policies/slates.js';
import { hiddenOf } from './baselines.js';

export const ltsOracleParams = defineParams({
  grid: param.int({ default: 801, min: 11, max: 100001, description: 'NPE grid points of the value table' }),
  cValues: param.int({ default: 200, min: 2, max: 100000, description: 'clickbait scores (bin midpoints) in the expectation over candidates' }),
});

/** The most steps the oracle plans over (its table holds timeBudget x grid values). */
export const LTS_ORACLE_MAX_STEPS = 1000;
/** The most Q evaluations its table may take to build, timeBudget x grid x cValues (the default is 9.6 million, under a second). */
export const LTS_ORACLE_MAX_WORK = 1e9;
/** The most numbers its value table may hold, (timeBudget + 1) x grid (8 bytes each). */
export const LTS_ORACLE_MAX_TABLE = 2e7;

const SQRT3 = Math.sqrt(3);

export class LtsOracleAgent extends BaseAgent<ParamsOf<typeof ltsOracleParams>> {
  readonly id = 'lts-oracle';
  override readonly oracle = true;
  private readonly m: { beta: number; tau: number; eta: number; chocMean: number; chocStd: number; kaleMean: number; kaleStd: number; T: number; N: number };
  private readonly R: number;
  private readonly G: number;
  /** V_L at the grid points, row L (0..T). */
  private readonly table: Float64Array;
  private q = new Float64Array(0);

  constructor(p: ParamsOf<typeof ltsOracleParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    const ep = envParamsFor(env, longTermSatisfactionEnv);
    if (!ep) throw new IncompatibleEnv(this.id, env.envId, 'it plans with the exact model of long-term-satisfaction-v0');
    if (ep.timeBudget > LTS_ORACLE_MAX_STEPS) {
      throw new IncompatibleEnv(this.id, env.envId, `timeBudget = ${ep.timeBudget}: it plans over at most ${LTS_ORACLE_MAX_STEPS} steps (its value table holds timeBudget x grid numbers)`);
    }
    const work = ep.timeBudget * p.grid * p.cValues;
    if (work > LTS_ORACLE_MAX_WORK) {
      throw new InvalidArgument(`lts-oracle: timeBudget x grid x cValues = ${ep.timeBudget} x ${p.grid} x ${p.cValues} = ${work.toExponential(2)} value evaluations, above the ${LTS_ORACLE_MAX_WORK.toExponential(0)} allowed (about a minute): lower grid or cValues`);
    }
    const cells = (ep.timeBudget + 1) * p.grid;
    if (cells > LTS_ORACLE_MAX_TABLE) {
      throw new InvalidArgument(`lts-oracle: its value table would hold (timeBudget + 1) x grid = ${ep.timeBudget + 1} x ${p.grid} = ${cells.toExponential(2)} numbers, above the ${LTS_ORACLE_MAX_TABLE.toExponential(0)} allowed (160 MB): lower grid`);
    }
    this.m = { beta: ep.memoryDiscount, tau: ep.sensitivity, eta: ep.innovationStd, chocMean: ep.chocMean, chocStd: ep.chocStd, kaleMean: ep.kaleMean, kaleStd: ep.kaleStd, T: ep.timeBudget, N: ep.numCandidates };
    this.R = (1 + 4 * this.m.eta) / (1 - this.m.beta);
    this.G = p.grid;
    this.table = new Float64Array((this.m.T + 1) * this.G);
    this.solve(p.cValues);
  }

  /** Expected engagement of consuming clickbait score c at NPE npe. */
  private reward(npe: number, c: number): number {
    const { tau, chocMean, kaleMean, chocStd, kaleStd } = this.m;
    const sd = c * chocStd + (1 - c) * kaleStd;
    return Math.exp(sigmoid(tau * npe) * (c * chocMean + (1 - c) * kaleMean) + 0.5 * sd * sd);
  }

  /** V_L(npe), interpolated in the table (flat beyond the grid). */
  value(L: number, npe: number): number {
    if (!(Number.isInteger(L) && L >= 0 && L <= this.m.T)) throw new InvalidArgument(`lts-oracle.value: steps left must be an integer in [0, ${this.m.T}], got ${L}`);
    const G = this.G;
    let t = ((npe + this.R) / (2 * this.R)) * (G - 1);
    if (!(t > 0)) t = 0;
    else if (t > G - 1) t = G - 1;
    const i = Math.min(G - 2, Math.floor(t));
    const f = t - i;
    const row = L * G;
    return (1 - f) * this.table[row + i]! + f * this.table[row + i + 1]!;
  }

  /** Q_L(npe, c): the engagement now and the expected value of the next NPE. */
  private qValue(L: number, npe: number, c: number): number {
    const { beta, eta } = this.m;
    const next = beta * npe - 2 * (c - 0.5);
    const ev = eta > 0 ? (2 / 3) * this.value(L - 1, next) + (1 / 6) * (this.value(L - 1, next + eta * SQRT3) + this.value(L - 1, next - eta * SQRT3)) : this.value(L - 1, next);
    return this.reward(npe, c) + ev;
  }

  private solve(M: number): void {
    const { T, N } = this.m;
    const G = this.G;
    // Weight of the k-th smallest of M equally likely values being the maximum of N draws.
    const w = new Float64Array(M);
    for (let k = 0; k < M; k++) w[k] = ((k + 1) / M) ** N - (k / M) ** N;
    const q = new Float64Array(M);
    for (let L = 1; L <= T; L++) {
      for (let j = 0; j < G; j++) {
        const npe = -this.R + (2 * this.R * j) / (G - 1);
        for (let k = 0; k < M; k++) q[k] = this.qValue(L, npe, (k + 0.5) / M);
        q.sort();
        let v = 0;
        for (let k = 0; k < M; k++) v += w[k]! * q[k]!;
        this.table[L * G + j] = v;
      }
    }
  }

  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { N, K } = this.env.layout;
    const h = hiddenOf(this.id, obs, ['npe', 'stepsLeft']);
    const npe = h.npe!.data;
    const left = h.stepsLeft!.data;
    if (this.q.length !== obs.B * N) this.q = new Float64Array(obs.B * N);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      const L = left[s]!;
      for (let i = 0; i < N; i++) this.q[s * N + i] = this.qValue(L, npe[s]!, obs.candidates[s * N + i]!);
      topK(this.q, s * N, N, K, out, s * K);
    }
    return out;
  }
}

export const ltsOracleAgent = defineAgent({
  id: 'lts-oracle',
  description: 'the optimal policy of long-term-satisfaction-v0 by finite-horizon dynamic programming over (steps left, hidden NPE) with its exact model: the ceiling of choc/kale',
  source: "engagement-gym's own; Bellman 1957 (finite-horizon dynamic programming)",
  oracle: true,
  params: ltsOracleParams,
  create: (p, env, seed) => new LtsOracleAgent(p, env, seed),
});
