/**
 * State abstraction for tabular agents: a discretizer over named user-feature columns.
 *
 * A spec is a list of dimensions, each `{ feature, index?, edges? | levels? }`:
 * - `feature`: a user feature block of the env (e.g. `stepInSession`, `history`, `boredom`), `index` the column
 *   inside the block (default 0);
 * - `edges` e_1 < ... < e_m: the value falls in bin (number of edges <= value), m + 1 bins;
 * - `levels` L: integer levels 0..L-1 (rounded and clamped).
 * The state index is mixed-radix over the dimensions (first dimension fastest). An empty spec is one state.
 *
 * Default abstractions (`defaultStateSpec`), documented per env:
 * - boredom-mdp-v0: the satisfaction level and every boredom level, exactly (the true state, indexed as the
 *   env's model indexes it).
 * - retention-v0: step in session (edges 1, 3, 6, 10), days since the last session (0.5, 1.5, 3),
 *   last interaction clicked (2 levels), last watch fraction (0.3, 0.6): 5 x 4 x 2 x 3 = 120 states.
 * - interest-evolution-v0: slate position 0 clicked last step (2 levels), its quality (-1, 0, 1): 8 states.
 * - long-term-satisfaction-v0: last engagement (edges 5, 10, 20, 40): 5 states.
 * - bandits: one state.
 */
import type { FeatureSpec, Layout } from '../envs/core.js';
import type { AgentEnvInfo } from '../agents/api.js';
import { envParamsFor } from '../agents/registry.js';
import { boredomMdpEnv } from '../envs/boredom-mdp.js';
import { retentionV0Env } from '../envs/retention.js';
import { EgymError, InvalidParam } from '../envs/errors.js';

export interface StateDim {
  feature: string;
  index?: number;
  edges?: number[];
  levels?: number;
}

export function validateStateSpec(v: unknown): string | null {
  if (v === 'auto') return null;
  if (!Array.isArray(v)) return 'must be "auto" or a list of {feature, index?, edges? | levels?}';
  for (const [i, d] of v.entries()) {
    if (typeof d !== 'object' || d === null) return `entry ${i} is not an object`;
    const x = d as Record<string, unknown>;
    for (const k of Object.keys(x)) if (!['feature', 'index', 'edges', 'levels'].includes(k)) return `entry ${i} has an unknown key "${k}"`;
    if (typeof x.feature !== 'string') return `entry ${i} needs a feature name`;
    if (x.index !== undefined && (!Number.isInteger(x.index) || (x.index as number) < 0)) return `entry ${i}: index must be a non-negative integer`;
    const hasEdges = x.edges !== undefined;
    const hasLevels = x.levels !== undefined;
    if (hasEdges === hasLevels) return `entry ${i}: give exactly one of edges or levels`;
    if (hasEdges) {
      const e = x.edges;
      if (!Array.isArray(e) || e.length === 0 || !e.every((n) => typeof n === 'number' && Number.isFinite(n))) return `entry ${i}: edges must be a non-empty list of numbers`;
      for (let j = 1; j < e.length; j++) if (!(e[j] > e[j - 1])) return `entry ${i}: edges must increase`;
    }
    if (hasLevels && (!Number.isInteger(x.levels) || (x.levels as number) < 1 || (x.levels as number) > 1000)) return `entry ${i}: levels must be an integer in [1, 1000]`;
  }
  return null;
}

export function defaultStateSpec(env: AgentEnvInfo): StateDim[] {
  const bm = envParamsFor(env, boredomMdpEnv);
  if (bm) {
    // Satisfaction first, then boredom by topic: the same index as the env's model (g + Ls (b_0 + Lb (b_1 + ...))).
    const dims: StateDim[] = [{ feature: 'satisfaction', levels: bm.satisfactionLevels }];
    for (let t = 0; t < bm.numTopics; t++) dims.push({ feature: 'boredom', index: t, levels: bm.boredomLevels });
    return dims;
  }
  const r0 = envParamsFor(env, retentionV0Env);
  if (r0) {
    return r0.historyLength > 0
      ? [
          { feature: 'stepInSession', edges: [1, 3, 6, 10] },
          { feature: 'daysSinceLastSession', edges: [0.5, 1.5, 3] },
          { feature: 'history', index: 1, levels: 2 },
          { feature: 'history', index: 2, edges: [0.3, 0.6] },
        ]
      : [
          { feature: 'stepInSession', edges: [1, 3, 6, 10] },
          { feature: 'daysSinceLastSession', edges: [0.5, 1.5, 3] },
        ];
  }
  switch (env.envId) {
    case 'interest-evolution-v0':
      return [
        { feature: 'response', index: 0, levels: 2 },
        { feature: 'response', index: 2, edges: [-1, 0, 1] },
      ];
    case 'long-term-satisfaction-v0':
      return [{ feature: 'response', index: 1, edges: [5, 10, 20, 40] }];
    default:
      return [];
  }
}

/** Maps a user block to a state index. */
export class Discretizer {
  readonly numStates: number;
  private readonly cols: Int32Array;
  private readonly radix: Int32Array;
  private readonly dims: StateDim[];

  constructor(
    readonly spec: StateDim[],
    layout: Layout,
    owner: string,
  ) {
    this.dims = spec;
    this.cols = new Int32Array(spec.length);
    this.radix = new Int32Array(spec.length);
    let n = 1;
    spec.forEach((d, i) => {
      const f: FeatureSpec | undefined = layout.userFeatures.find((x) => x.name === d.feature);
      if (!f) throw new EgymError('AGENT_INCOMPATIBLE_ENV', `${owner}: state feature "${d.feature}" is not a user feature of this env (has: ${layout.userFeatures.map((x) => x.name).join(', ') || 'none'})`);
      const idx = d.index ?? 0;
      if (idx >= f.size) throw new EgymError('AGENT_INCOMPATIBLE_ENV', `${owner}: state feature "${d.feature}" has ${f.size} columns, index ${idx} is out of range`);
      this.cols[i] = f.offset + idx;
      this.radix[i] = d.levels ?? d.edges!.length + 1;
      n *= this.radix[i]!;
    });
    if (n > 10_000_000) throw new InvalidParam(`${owner}: the state abstraction has ${n} states (limit 10,000,000)`);
    this.numStates = n;
  }

  /** State of the user block at user[offset ..]. */
  state(user: ArrayLike<number>, offset: number): number {
    let idx = 0;
    for (let i = this.dims.length - 1; i >= 0; i--) {
      const d = this.dims[i]!;
      const x = user[offset + this.cols[i]!]!;
      let b: number;
      if (d.levels !== undefined) b = Math.min(d.levels - 1, Math.max(0, Math.round(x)));
      else {
        b = 0;
        const e = d.edges!;
        while (b < e.length && x >= e[b]!) b++;
      }
      idx = idx * this.radix[i]! + b;
    }
    return idx;
  }
}
