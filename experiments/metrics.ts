/**
 * The metrics of a run: a registry of named definitions. The summary, its statistics, the curves and the
 * report iterate this registry; none of them knows an env's observation layout.
 *
 * A metric is per user (a seed's value is its mean over the evaluation users, and intervals are over seeds).
 * It comes from one of two places:
 * - `values`: a function of the per-user columns every evaluation stores (`USER_COLUMNS`: return, length,
 *   clicks, CTR, and for multi-session envs the session events the sim reports: active days, sessions, churn,
 *   last day, first-session CTR; plus every collected metric), e.g. D7 retention from the last day and churn;
 * - `collect`: a collector that sees every evaluation step of a user (the observation the agent saw, the slate,
 *   the click and the reward) and gives one value when the user's episode ends. It reads the env's features by
 *   name (`feature(layout.candidateFeatures, 'topic')`), so an env with another layout gets a correct value,
 *   or none (NaN) when it lacks the feature; its value is stored as a per-user column of its own.
 *
 * A plugin registers its own metric with `registerMetric` (in the main thread and every worker, like agents
 * and envs); it then appears in curves, summaries, tables and reports like a built-in one.
 */
import type { Layout, VecObservation } from '../envs/core.js';
import { InvalidArgument, RegistryConflict } from '../envs/errors.js';

/** What a collector sees of one user's step. */
export interface MetricStep {
  /** Slot of the user in the evaluation batch. */
  slot: number;
  /** The observation the agent acted on (the batch's buffers: read slot `slot`'s rows). */
  obs: VecObservation;
  /** The batch's slates (slot `slot`'s K candidate indices start at slot x K). */
  slate: Int32Array;
}

/** Collects one metric over the steps of the users of an evaluation batch. */
export interface MetricCollector {
  /** Before the step: what the user was shown. */
  shown(step: MetricStep): void;
  /** After the step: the clicked slate position (-1: none) and the reward. */
  outcome?(slot: number, clicked: number, reward: number): void;
  /** The user's value when their episode ends (NaN: undefined for this user); the slot is then reset. */
  end(slot: number): number;
}

export interface MetricContext {
  /** The env's horizon in days (multi-session envs with one), else null. */
  horizon: number | null;
}

export interface MetricDefinition {
  /** Key in summaries, tables and curves (and the per-user column of a collected metric). */
  key: string;
  /** Label in tables and plots. */
  label: string;
  description: string;
  /** 'binary': 0/1 per user (Wilson intervals); 'rate': a mean in [0, 1] (t-interval cut to [0, 1]); else real. */
  kind?: 'binary' | 'rate';
  /** Shown only for multi-session envs. */
  multiSession?: boolean;
  /** Plotted per agent in the report. */
  plot?: boolean;
  /** Per-user values from the stored columns (default: the column named `key`). */
  values?(users: Readonly<Record<string, readonly number[]>>, ctx: MetricContext): number[];
  /** A collector for an evaluation batch of B users on this layout, or null when the env lacks what it needs. */
  collect?(layout: Layout, B: number): MetricCollector | null;
}

/** The per-user columns every evaluation stores, in cell files and curves. */
export const USER_COLUMNS = ['return', 'length', 'activeDays', 'sessions', 'churned', 'clicks', 'ctr', 'firstSessionCtr', 'novelty', 'lastDay'] as const;

const registry = new Map<string, MetricDefinition>();

export function registerMetric(def: MetricDefinition): void {
  if (typeof def?.key !== 'string' || !/^[A-Za-z][A-Za-z0-9_]*$/.test(def.key)) throw new InvalidArgument(`registerMetric: key ${JSON.stringify(def?.key)} must be an identifier (letters, digits, _)`);
  if (registry.has(def.key)) throw new RegistryConflict(`registerMetric: metric "${def.key}" is already registered`);
  if (def.collect && (USER_COLUMNS as readonly string[]).includes(def.key)) throw new RegistryConflict(`registerMetric: "${def.key}" is a stored per-user column; a collected metric needs a key of its own`);
  registry.set(def.key, def);
}

/** The registered metrics, in registration order (built-ins first). */
export function listMetrics(): MetricDefinition[] {
  return [...registry.values()];
}

/** The metrics with a collector (their values are stored per user, under their key). */
export function collectedMetrics(): MetricDefinition[] {
  return listMetrics().filter((m) => m.collect);
}

/** Per-user values of metric `m` from a cell's stored columns (null: undefined). */
export function metricValues(m: MetricDefinition, users: Readonly<Record<string, readonly (number | null)[]>>, ctx: MetricContext): number[] {
  const num: Record<string, number[]> = {};
  for (const [k, a] of Object.entries(users)) num[k] = a.map((v) => (v === null ? NaN : v));
  if (m.values) return m.values(num, ctx);
  const col = num[m.key];
  if (!col) return [];
  return col;
}

/** Dk retention: a session on or after day k (at or past the horizon: not churned). */
function retention(k: number): MetricDefinition['values'] {
  return (u, { horizon }) => (u.lastDay ?? []).map((d, i) => (Number.isNaN(d) ? NaN : horizon !== null && k >= horizon ? 1 - u.churned![i]! : Math.floor(d) >= k ? 1 : 0));
}

/** Intra-list diversity: the share of slate item pairs with different topics, averaged over the user's steps. */
function diversityCollector(layout: Layout, B: number): MetricCollector | null {
  const topic = layout.candidateFeatures.find((f) => f.name === 'topic' && f.kind === 'onehot');
  const { K, N, F } = layout;
  if (!topic || K < 2) return null;
  const sum = new Float64Array(B);
  const steps = new Float64Array(B);
  const topics = new Int32Array(K);
  return {
    shown({ slot: s, obs, slate }) {
      for (let j = 0; j < K; j++) {
        const o = (s * N + slate[s * K + j]!) * F + topic.offset;
        let tp = -1;
        for (let q = 0; q < topic.size; q++) if (obs.candidates[o + q] === 1) tp = q;
        topics[j] = tp;
      }
      let diff = 0;
      for (let a = 0; a < K; a++) for (let b = a + 1; b < K; b++) if (topics[a] !== topics[b]) diff++;
      sum[s]! += diff / ((K * (K - 1)) / 2);
      steps[s]! += 1;
    },
    end(s) {
      const v = sum[s]! / Math.max(1, steps[s]!);
      sum[s] = 0;
      steps[s] = 0;
      return v;
    },
  };
}

// The built-in metrics, in the order of summaries and tables.
for (const m of [
  { key: 'return', label: 'lifetime engagement (return)', description: "the env's reward summed over the user's episode", plot: true },
  { key: 'perStep', label: 'engagement per step', description: 'return / steps', values: (u: Readonly<Record<string, readonly number[]>>) => u.return!.map((v, i) => v / u.length![i]!) },
  { key: 'length', label: 'steps per user', description: "steps in the user's episode" },
  { key: 'ctr', label: 'CTR', kind: 'rate', description: 'clicks / steps', plot: true },
  { key: 'activeDays', label: 'active days', multiSession: true, description: 'days with at least one session (reported by the sim)', plot: true },
  { key: 'sessions', label: 'sessions', multiSession: true, description: 'sessions started (reported by the sim)' },
  { key: 'churned', label: 'churn rate', multiSession: true, kind: 'binary', description: 'the user left the platform for good before the horizon (reported by the sim)', plot: true },
  { key: 'd1', label: 'D1 retention', multiSession: true, kind: 'binary', description: 'a session on day 1 or later', values: retention(1) },
  { key: 'd7', label: 'D7 retention', multiSession: true, kind: 'binary', description: 'a session on day 7 or later', values: retention(7) },
  { key: 'd30', label: 'D30 retention', multiSession: true, kind: 'binary', description: 'a session on day 30 or later (at or past the horizon: not churned)', values: retention(30), plot: true },
  { key: 'firstSessionCtr', label: 'first-session CTR', multiSession: true, kind: 'rate', description: "clicks / steps of the user's first session (session starts from the named user feature stepInSession)" },
  { key: 'diversity', label: 'intra-list diversity', kind: 'rate', description: 'share of slate item pairs with different topics (the candidate feature named "topic"), averaged over steps', plot: true, collect: diversityCollector },
  { key: 'novelty', label: 'novelty (bits)', description: 'mean self-information -log2(share of all clicks) of the items the user clicked (catalogue envs)' },
] satisfies MetricDefinition[]) {
  registerMetric(m);
}

/** Runs the collectors of the registered metrics over one evaluation batch. */
export class MetricCollectors {
  private readonly items: { key: string; c: MetricCollector }[] = [];
  constructor(layout: Layout, B: number) {
    for (const m of collectedMetrics()) {
      const c = m.collect!(layout, B);
      if (c) this.items.push({ key: m.key, c });
    }
  }
  get empty(): boolean {
    return this.items.length === 0;
  }
  shown(step: MetricStep): void {
    for (const { c } of this.items) c.shown(step);
  }
  outcome(slot: number, clicked: number, reward: number): void {
    for (const { c } of this.items) c.outcome?.(slot, clicked, reward);
  }
  /** Each collected metric's value for the user in `slot`, written to `out[key][at]`. */
  end(slot: number, out: Record<string, Float64Array>, at: number): void {
    for (const { key, c } of this.items) out[key]![at] = c.end(slot);
  }
}
