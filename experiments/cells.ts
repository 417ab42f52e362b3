/**
 * The cells of an experiment: (sweep point, agent, seed), in a fixed order, each with its fully resolved
 * configuration and a key = hash of that configuration (used to name result files, to resume, and to shard).
 */
import { createHash } from 'node:crypto';
import { resolveEnvParams } from '../envs/registry.js';
import { resolveAgentParams } from '../agents/registry.js';
import { streamFromString } from '../envs/rng.js';
import { type ResolvedSpec, SpecError, sweepTarget } from './spec.js';

export interface Cell {
  /** Position in the experiment's cell order. */
  index: number;
  key: string;
  experiment: string;
  point: Record<string, unknown>;
  pointIndex: number;
  agentIndex: number;
  label: string;
  agentId: string;
  oracle: boolean;
  agentParams: Record<string, unknown>;
  envId: string;
  envParams: Record<string, unknown>;
  seed: number;
  /**
   * Training: `steps` vector steps of `numEnvs` users (= the spec's train.userSteps / numEnvs). Cells keep this
   * form, which their keys were computed from before budgets counted user-steps, so earlier runs still resume.
   */
  train: { steps: number; numEnvs: number };
  eval: ResolvedSpec['eval'];
  final: ResolvedSpec['final'];
  reward: ResolvedSpec['reward'];
  warmStart: ResolvedSpec['warmStart'];
  /** Content hashes of the user modules (part of the key). */
  modules: string[];
  /** Where the user modules are (not part of the key: the same modules elsewhere are the same cell). */
  modulePaths: string[];
}

/** Stable JSON (sorted keys) for hashing. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function hash(v: unknown, n = 16): string {
  return createHash('sha256').update(stableJson(v)).digest('hex').slice(0, n);
}

/** The sweep points: grid x random samples (a spec without a sweep has one empty point). */
export function sweepPoints(spec: ResolvedSpec): Record<string, unknown>[] {
  if (!spec.sweep) return [{}];
  let points: Record<string, unknown>[] = [{}];
  for (const [path, values] of Object.entries(spec.sweep.grid)) {
    const next: Record<string, unknown>[] = [];
    for (const p of points) for (const v of values) next.push({ ...p, [path]: v });
    points = next;
  }
  const rnd = spec.sweep.random;
  if (rnd) {
    const rng = streamFromString(`egym|sweep|${spec.sweep.seed}`);
    const sampled: Record<string, unknown>[] = [];
    for (let i = 0; i < rnd.samples; i++) {
      const s: Record<string, unknown> = {};
      for (const [path, dom] of Object.entries(rnd.space)) {
        if (Array.isArray(dom)) s[path] = dom[Math.floor(rng() * dom.length)];
        else {
          const d = dom as { min: number; max: number; log?: boolean; int?: boolean };
          let v = d.log ? Math.exp(Math.log(d.min) + rng() * (Math.log(d.max) - Math.log(d.min))) : d.min + rng() * (d.max - d.min);
          if (d.int) v = Math.round(v);
          s[path] = v;
        }
      }
      sampled.push(s);
    }
    points = points.flatMap((p) => sampled.map((s) => ({ ...p, ...s })));
  }
  return points;
}

/** Every cell of the experiment, validated. */
export function expandCells(spec: ResolvedSpec): Cell[] {
  const cells: Cell[] = [];
  sweepPoints(spec).forEach((point, pointIndex) => {
    let envParams = { ...spec.env.params };
    const agentParams = spec.agents.map((a) => ({ ...a.params }));
    for (const [path, v] of Object.entries(point)) {
      const t = sweepTarget(spec, path);
      if (t.kind === 'env') envParams[t.param] = v;
      else agentParams[t.agent]![t.param] = v;
    }
    try {
      envParams = resolveEnvParams(spec.env.id, envParams) as Record<string, unknown>;
    } catch (e) {
      throw new SpecError(`spec: sweep point ${JSON.stringify(point)}: ${(e as Error).message}`, 'sweep');
    }
    spec.agents.forEach((a, agentIndex) => {
      let p: Record<string, unknown>;
      try {
        p = resolveAgentParams(a.id, agentParams[agentIndex]) as Record<string, unknown>;
      } catch (e) {
        throw new SpecError(`spec: sweep point ${JSON.stringify(point)}: ${(e as Error).message}`, 'sweep');
      }
      for (const seed of spec.seeds) {
        const body = {
          experiment: spec.name,
          point,
          pointIndex,
          agentIndex,
          label: a.label,
          agentId: a.id,
          oracle: a.oracle,
          agentParams: p,
          envId: spec.env.id,
          envParams,
          seed,
          train: { steps: spec.train.userSteps / spec.train.numEnvs, numEnvs: spec.train.numEnvs },
          eval: spec.eval,
          final: spec.final,
          reward: spec.reward,
          warmStart: spec.warmStart,
          modules: spec.modules.map((m) => m.sha256),
        };
        // Cells of specs without modules keep the keys they had before modules existed.
        const keyBody = body.modules.length > 0 ? body : (({ modules: _m, ...rest }) => rest)(body);
        cells.push({ index: cells.length, key: hash(keyBody), ...body, modulePaths: spec.modules.map((m) => m.path) });
      }
    });
  });
  return cells;
}

/** Parse "i/n" (0-based shard i of n). */
export function parseShard(s: string): { i: number; n: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m) throw new SpecError(`--shard must look like i/n (0 <= i < n), got ${JSON.stringify(s)}`, 'shard');
  const i = Number(m[1]);
  const n = Number(m[2]);
  if (!(n >= 1 && i < n)) throw new SpecError(`--shard ${s}: need 0 <= i < n`, 'shard');
  return { i, n };
}

/** The cells of shard i of n: a deterministic round-robin subset. */
export function shardCells(cells: Cell[], shard: { i: number; n: number } | null): Cell[] {
  return shard ? cells.filter((c) => c.index % shard.n === shard.i) : cells;
}
