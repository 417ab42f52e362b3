/**
 * Experiment specs: a JSON file validated on load with zod (strict: unknown keys are errors). Every error
 * names the path of the field (`agents[2].params.lr`), what was given and what is allowed; env and agent
 * params are validated by their registries under their paths. `resolveSpec` fills every default so a run
 * writes its fully resolved spec and can be repeated from its own output.
 *
 * Shape (defaults in brackets):
 *   name: string (letters, digits, - and _)
 *   description?: string
 *   env: { id, params? {} }
 *   agents: [{ id, params? {}, label? [id] }]  (labels unique)
 *   baseline?: a label [the first agent]
 *   floor?: a label [the agent with id random, if any]: 0 of the normalized score
 *   ceiling?: a label [the agent with id ceiling-oracle, if any]: 1 of the normalized score
 *   (env.params.worldSeed: envs with a world seed get 0 unless the spec sets it, so training, logging and
 *    held-out users are different users of one world)
 *   seeds: a count n (seeds 0..n-1) or a list
 *   version?: 2 (the current version; written into every run's spec.json)
 *   train: { userSteps [training user-steps, 0 for none; a multiple of numEnvs], numEnvs [32] }
 *   eval: { every? [training user-steps between learning-curve points; 0: no learning curve], users [100], seed [1000] }
 *   final: { users [1000], seed [2000] }
 *   reward?: { engagement [1], retention [0], diversity [0], novelty [0] }  (multi-objective training reward;
 *     retention pays +1 at each step whose next observation is on a later day, so it also pays for ending a
 *     session sooner)
 *   sweep?: { grid?: { "<path>": [values] }, random?: { samples, space: { "<path>": { min, max, log? } | [values] } }, seed? }
 *     paths: env.params.X, agents[i].params.X, agents[label].params.X
 *   warmStart?: { checkpointDir: a run folder whose final checkpoints initialize the agents (same labels) }
 *   published?: { source, metric ['return'], tolerance, values: { "<label>": number } }: numbers a paper reports
 *     for this setting; the summary puts each labelled agent's result next to its published number, with the
 *     difference and whether it lies within the tolerance (absolute, in the metric's units). Not with a sweep;
 *     dropped by --quick (a smaller budget is not the published setting). Not part of the run id: annotating a
 *     spec does not change its run.
 *
 * Every budget counts user-steps (one user, one step): train.userSteps, eval.every, PPO's totalSteps, the
 * `--user-steps` and `--eval-every` flags and the x axes of the plots. Version 1 counted train.steps in vector
 * steps (numEnvs user-steps each); such a spec gets one SpecError saying what to rename.
 */
import { z } from 'zod';
import { envSpec, resolveEnvParams } from '../envs/registry.js';
import { agentSpec, isOracle, resolveAgentParams } from '../agents/registry.js';
import type { ResolvedParams } from '../envs/params.js';
import { describeValue } from '../envs/spaces.js';
import { EgymError } from '../envs/errors.js';
import type { LoadedModule } from './plugins.js';
import { listMetrics } from './metrics.js';

export class SpecError extends EgymError {
  declare readonly path: string;
  constructor(message: string, path: string) {
    super('SPEC_INVALID', message, path);
    this.name = 'SpecError';
  }
}

/**
 * The most users one evaluation may hold (final and learning-curve evaluations): every user's metrics are kept
 * in memory and written to the cell file (about 11 numbers, 0.3 kB of JSON, per user), so 1,000,000 users is
 * about 300 MB per cell. Checked when the spec is resolved, before anything runs.
 */
export const MAX_USERS = 1_000_000;

/** The spec format's version: 2 counts every budget in user-steps (version 1 counted train.steps in vector steps). */
export const SPEC_VERSION = 2;

const name = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'letters, digits, - and _ (1 to 80 characters)');
const params = z.record(z.string(), z.unknown());

const AgentEntry = z.strictObject({ id: z.string(), params: params.optional(), label: name.optional() });
const SweepValue = z.union([z.strictObject({ min: z.number(), max: z.number(), log: z.boolean().optional(), int: z.boolean().optional() }), z.array(z.unknown()).min(1)]);

const Train = z.strictObject({ userSteps: z.number().int().min(0), numEnvs: z.number().int().min(1).max(100000).optional() });

export const SpecSchema = z.strictObject({
  version: z.literal(SPEC_VERSION).optional(),
  name,
  description: z.string().optional(),
  env: z.strictObject({ id: z.string(), params: params.optional() }),
  agents: z.array(AgentEntry).min(1),
  baseline: z.string().optional(),
  floor: z.string().optional(),
  ceiling: z.string().optional(),
  seeds: z.union([z.number().int().min(1).max(1000), z.array(z.number().int().min(0)).min(1)]),
  train: Train,
  eval: z.strictObject({ every: z.number().int().min(0).optional(), users: z.number().int().min(1).max(MAX_USERS).optional(), seed: z.number().int().min(0).optional() }).optional(),
  final: z.strictObject({ users: z.number().int().min(2).max(MAX_USERS), seed: z.number().int().min(0).optional() }),
  reward: z
    .strictObject({ engagement: z.number().optional(), retention: z.number().optional(), diversity: z.number().optional(), novelty: z.number().optional() })
    .optional(),
  sweep: z
    .strictObject({
      grid: z.record(z.string(), z.array(z.unknown()).min(1)).optional(),
      random: z.strictObject({ samples: z.number().int().min(1).max(10000), space: z.record(z.string(), SweepValue) }).optional(),
      seed: z.number().int().min(0).optional(),
    })
    .optional(),
  warmStart: z.strictObject({ checkpointDir: z.string() }).optional(),
  /** Published numbers for this setting (a paper's table), compared with the run's in the summary. */
  published: z
    .strictObject({
      source: z.string().min(1, 'name the source (paper, table)'),
      metric: z.string().optional(),
      tolerance: z.number().positive().finite(),
      values: z.record(z.string(), z.number().finite()),
    })
    .optional(),
  /** User modules (agents, envs) loaded before the spec resolves, in every worker too (experiments/plugins.ts). */
  modules: z.array(z.string().min(1)).max(100).optional(),
  /** Overrides applied by --quick (a smaller budget for a fast look). */
  quick: z
    .strictObject({
      seeds: z.union([z.number().int().min(1).max(1000), z.array(z.number().int().min(0)).min(1)]).optional(),
      train: Train.partial().optional(),
      eval: z.strictObject({ every: z.number().int().min(0).optional(), users: z.number().int().min(1).max(MAX_USERS).optional() }).optional(),
      final: z.strictObject({ users: z.number().int().min(2).max(MAX_USERS) }).optional(),
    })
    .optional(),
});

export type RawSpec = z.infer<typeof SpecSchema>;

export interface ResolvedAgent {
  id: string;
  label: string;
  params: Record<string, unknown>;
  oracle: boolean;
}

export interface ResolvedSpec {
  name: string;
  description: string;
  env: { id: string; params: Record<string, unknown> };
  agents: ResolvedAgent[];
  baseline: string;
  /** Labels of the normalized score's 0 (floor) and 1 (ceiling); null where the spec has none. */
  floor: string | null;
  ceiling: string | null;
  seeds: number[];
  /** Training user-steps (a multiple of numEnvs) and the users stepped together. */
  train: { userSteps: number; numEnvs: number };
  eval: { every: number; users: number; seed: number };
  final: { users: number; seed: number };
  reward: { engagement: number; retention: number; diversity: number; novelty: number };
  sweep: { grid: Record<string, unknown[]>; random: { samples: number; space: Record<string, unknown> } | null; seed: number } | null;
  warmStart: { checkpointDir: string } | null;
  /** Published numbers to compare with (labels in the spec's agent order); null where the spec has none. */
  published: Published | null;
  /** User modules, loaded (absolute paths and content hashes; see experiments/plugins.ts). */
  modules: LoadedModule[];
}

/** A paper's numbers for a spec's setting: one metric, an absolute tolerance, a value per agent label. */
export interface Published {
  source: string;
  metric: string;
  tolerance: number;
  values: Record<string, number>;
}

function pathOf(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s || '(root)';
}

function valueAt(obj: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = obj;
  for (const k of p) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** A version-1 spec: one SpecError that says what to rename (budgets in user-steps since version 2). */
function checkVersion(raw: unknown): void {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
  const r = raw as { version?: unknown; train?: { steps?: unknown; numEnvs?: unknown }; quick?: { train?: { steps?: unknown; numEnvs?: unknown } } };
  const old = (t: { steps?: unknown; numEnvs?: unknown } | undefined, where: string, fallbackEnvs: unknown) => {
    if (!t || typeof t !== 'object' || t.steps === undefined) return null;
    const n = typeof t.numEnvs === 'number' ? t.numEnvs : typeof fallbackEnvs === 'number' ? fallbackEnvs : 32;
    const v = typeof t.steps === 'number' ? ` (here ${t.steps} x ${n} = ${t.steps * n})` : '';
    return `rename ${where}.steps (vector steps) to ${where}.userSteps = steps x numEnvs${v}`;
  };
  const renames = [old(r.train, 'train', undefined), old(r.quick?.train, 'quick.train', r.train?.numEnvs)].filter((x): x is string => x !== null);
  if (r.version === 1 || renames.length > 0) {
    const what = renames.length > 0 ? renames.join('; ') : 'rename train.steps (vector steps) to train.userSteps = steps x numEnvs';
    throw new SpecError(`spec: version 1 spec: since version ${SPEC_VERSION} every budget counts user-steps: ${what}, and set "version": ${SPEC_VERSION}`, renames.length > 0 && r.train?.steps === undefined ? 'quick.train.steps' : r.version === 1 && renames.length === 0 ? 'version' : 'train.steps');
  }
}

/** Validate a raw JSON value; throws SpecError naming the field. */
export function parseSpec(raw: unknown): RawSpec {
  checkVersion(raw);
  const r = SpecSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  let path = issue.path;
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    path = [...issue.path, keys[0]!];
    msg = `unknown key "${keys[0]}" is not allowed here`;
  }
  const given = issue.code === 'unrecognized_keys' ? undefined : valueAt(raw, issue.path);
  throw new SpecError(`spec: ${pathOf(path)}: ${msg}${given !== undefined ? ` (given ${describeValue(given)})` : ''}`, pathOf(path));
}

/** Wrap a registry error with the spec path it belongs to. */
function at(path: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    throw new SpecError(`spec: ${path}: ${(e as Error).message}`, path);
  }
}

/** Validate against the registries and fill every default; `quick` applies the spec's quick overrides. */
/**
 * Validate and complete a spec. Its `modules` must already be loaded (`loadModules`), so that the agents and envs
 * they register exist: pass what loadModules returned as `modules`.
 */
export function resolveSpec(raw: unknown, quick = false, modules: LoadedModule[] = []): ResolvedSpec {
  let s = parseSpec(raw);
  // The spec's own seeds must be valid whether or not --quick replaces them.
  if (Array.isArray(s.seeds) && new Set(s.seeds).size !== s.seeds.length) throw new SpecError('spec: seeds: seeds must be distinct', 'seeds');
  if (quick) {
    if (!s.quick) throw new SpecError(`spec: quick: --quick needs a "quick" section in the spec (seeds, train, eval, final overrides)`, 'quick');
    const q = s.quick;
    s = {
      ...s,
      name: `${s.name}-quick`,
      seeds: q.seeds ?? s.seeds,
      train: { ...s.train, ...(q.train ?? {}) },
      eval: { ...(s.eval ?? {}), ...(q.eval ?? {}) },
      final: { ...s.final, ...(q.final ?? {}) },
    };
  }
  let envParams: Record<string, unknown> = {};
  at('env.id', () => envSpec(s.env.id));
  at('env.params', () => {
    // One world by default: an env with a world seed (retention-v0, v1) gets worldSeed 0 unless the spec sets it.
    const raw = { ...(s.env.params ?? {}) };
    if (!('worldSeed' in raw) && envSpec(s.env.id).params.has('worldSeed')) raw.worldSeed = 0;
    envParams = resolveEnvParams(s.env.id, raw) as Record<string, unknown>;
  });
  const labels = new Set<string>();
  const agents: ResolvedAgent[] = s.agents.map((a, i) => {
    at(`agents[${i}].id`, () => agentSpec(a.id));
    let p: Record<string, unknown> = {};
    at(`agents[${i}].params`, () => {
      p = resolveAgentParams(a.id, a.params) as Record<string, unknown>;
    });
    const label = a.label ?? a.id;
    if (labels.has(label)) throw new SpecError(`spec: agents[${i}].label: label "${label}" is used twice; give each agent a unique label`, `agents[${i}].label`);
    labels.add(label);
    const oracle = isOracle(a.id, p as ResolvedParams);
    return { id: a.id, label, params: p, oracle };
  });
  const baseline = s.baseline ?? agents[0]!.label;
  if (!labels.has(baseline)) throw new SpecError(`spec: baseline: "${baseline}" is not an agent label; labels: ${[...labels].join(', ')}`, 'baseline');
  const floor = s.floor ?? agents.find((a) => a.id === 'random')?.label ?? null;
  const ceiling = s.ceiling ?? agents.find((a) => a.id === 'ceiling-oracle')?.label ?? null;
  for (const [k, v] of [['floor', floor], ['ceiling', ceiling]] as const) {
    if (v !== null && !labels.has(v)) throw new SpecError(`spec: ${k}: "${v}" is not an agent label; labels: ${[...labels].join(', ')}`, k);
  }
  if (floor !== null && floor === ceiling) throw new SpecError(`spec: ceiling: the ceiling must differ from the floor ("${floor}")`, 'ceiling');
  const seeds = typeof s.seeds === 'number' ? Array.from({ length: s.seeds }, (_, i) => i) : [...s.seeds];
  if (new Set(seeds).size !== seeds.length) throw new SpecError(`spec: ${quick ? 'quick.seeds' : 'seeds'}: seeds must be distinct`, quick ? 'quick.seeds' : 'seeds');
  const spec: ResolvedSpec = {
    name: s.name,
    description: s.description ?? '',
    env: { id: s.env.id, params: envParams },
    agents,
    baseline,
    floor,
    ceiling,
    seeds,
    train: { userSteps: s.train.userSteps, numEnvs: s.train.numEnvs ?? 32 },
    eval: { every: s.eval?.every ?? 0, users: s.eval?.users ?? 100, seed: s.eval?.seed ?? 1000 },
    final: { users: s.final.users, seed: s.final.seed ?? 2000 },
    reward: { engagement: s.reward?.engagement ?? 1, retention: s.reward?.retention ?? 0, diversity: s.reward?.diversity ?? 0, novelty: s.reward?.novelty ?? 0 },
    sweep: s.sweep ? { grid: s.sweep.grid ?? {}, random: s.sweep.random ?? null, seed: s.sweep.seed ?? 0 } : null,
    warmStart: s.warmStart ?? null,
    // Checked whatever the budget; kept only at the spec's own budget (--quick changes the setting they are for).
    published: s.published ? keepUnlessQuick(resolvePublished(s.published, agents, s.sweep !== undefined, s.env.id), quick) : null,
    modules,
  };
  if (spec.train.userSteps % spec.train.numEnvs !== 0) {
    const n = spec.train.numEnvs;
    const lo = Math.floor(spec.train.userSteps / n) * n;
    const where = quick && s.quick?.train?.userSteps !== undefined ? 'quick.train.userSteps' : 'train.userSteps';
    throw new SpecError(`spec: ${where}: ${spec.train.userSteps} user-steps is not a multiple of train.numEnvs = ${n} (users step together): use ${lo > 0 ? `${lo} or ` : ''}${lo + n}`, where);
  }
  if (spec.eval.seed === spec.final.seed) throw new SpecError('spec: final.seed: the final evaluation population must differ from the learning-curve population (eval.seed)', 'final.seed');
  if (spec.sweep) {
    for (const p of [...Object.keys(spec.sweep.grid), ...Object.keys(spec.sweep.random?.space ?? {})]) sweepTarget(spec, p);
  }
  return spec;
}

const keepUnlessQuick = (p: Published, quick: boolean): Published | null => (quick ? null : p);

/** The published section checked against the agents and the metrics; values in the agents' order. */
function resolvePublished(p: NonNullable<RawSpec['published']>, agents: ResolvedAgent[], sweep: boolean, envId: string): Published {
  if (sweep) throw new SpecError('spec: published: published numbers are for one setting; a spec with a sweep has a result per sweep point (drop the sweep or the published section)', 'published');
  const metric = p.metric ?? 'return';
  const multi = envSpec(envId).multiSession;
  const keys = listMetrics().filter((m) => multi || !m.multiSession).map((m) => m.key);
  if (!keys.includes(metric)) throw new SpecError(`spec: published.metric: "${metric}" is not a metric of ${envId}; metrics: ${keys.join(', ')}`, 'published.metric');
  const labels = agents.map((a) => a.label);
  const given = Object.keys(p.values);
  if (given.length === 0) throw new SpecError('spec: published.values: give at least one agent label with its published number', 'published.values');
  for (const l of given) {
    if (!labels.includes(l)) throw new SpecError(`spec: published.values.${l}: "${l}" is not an agent label; labels: ${labels.join(', ')}`, `published.values.${l}`);
  }
  const values: Record<string, number> = {};
  for (const l of labels) if (l in p.values) values[l] = p.values[l]!;
  return { source: p.source, metric, tolerance: p.tolerance, values };
}

/** Where a sweep path points: env params or an agent's params. */
export function sweepTarget(spec: ResolvedSpec, path: string): { kind: 'env' | 'agent'; agent: number; param: string } {
  const envM = /^env\.params\.([A-Za-z0-9_]+)$/.exec(path);
  if (envM) {
    if (!envSpec(spec.env.id).params.has(envM[1])) throw new SpecError(`spec: sweep: "${path}": ${spec.env.id} has no param "${envM[1]}"`, `sweep.${path}`);
    return { kind: 'env', agent: -1, param: envM[1]! };
  }
  const agM = /^agents\[([^\]]+)\]\.params\.([A-Za-z0-9_]+)$/.exec(path);
  if (agM) {
    const key = agM[1]!;
    const idx = /^\d+$/.test(key) ? Number(key) : spec.agents.findIndex((a) => a.label === key);
    if (idx < 0 || idx >= spec.agents.length) throw new SpecError(`spec: sweep: "${path}": no agent ${key} (labels: ${spec.agents.map((a) => a.label).join(', ')})`, `sweep.${path}`);
    if (!agentSpec(spec.agents[idx]!.id).params.has(agM[2])) throw new SpecError(`spec: sweep: "${path}": agent ${spec.agents[idx]!.id} has no param "${agM[2]}"`, `sweep.${path}`);
    return { kind: 'agent', agent: idx, param: agM[2]! };
  }
  throw new SpecError(`spec: sweep: "${path}" is not a sweepable path; use env.params.NAME or agents[INDEX or LABEL].params.NAME`, `sweep.${path}`);
}
