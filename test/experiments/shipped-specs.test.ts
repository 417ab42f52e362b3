/**
 * The publishing rules of the project, held for every shipped spec (experiments/specs/*.json, the ones `egym
 * reproduce` runs and the README's reference results come from): next to the agents, every results table shows
 * random (the floor), the best non-learning heuristic on observable features, the myopic oracle and a ceiling
 * oracle, with the normalized score, and each learning agent's untrained evaluation (the learning curve's first
 * point, so eval.every > 0).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import '../../agents/index.js';
import { resolveSpec } from '../../experiments/spec.js';

/** Agents that rank by observable features and learn nothing. */
const HEURISTICS = ['feature-rank', 'linear-rank', 'topic-affinity', 'topic-rotation', 'quality-estimate', 'revealed-quality'];
const dir = new URL('../../experiments/specs/', import.meta.url);
const specs = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('every shipped spec shows the reference rows the publishing rules ask for', () => {
  it('ships the specs egym reproduce runs', () => {
    expect(specs.length).toBeGreaterThanOrEqual(9);
  });
  for (const f of specs) {
    it(f, () => {
      const s = resolveSpec(JSON.parse(readFileSync(new URL(f, dir), 'utf8')));
      const ids = s.agents.map((a) => a.id);
      const floor = s.agents.find((a) => a.label === s.floor);
      const ceiling = s.agents.find((a) => a.label === s.ceiling);
      expect(floor?.id, 'a random floor').toBe('random');
      expect(ceiling?.oracle, 'a ceiling oracle').toBe(true);
      expect(ids, 'the myopic oracle').toContain('myopic-oracle');
      expect(ids.some((id) => HEURISTICS.includes(id)), `an observable non-learning heuristic (${HEURISTICS.join(', ')})`).toBe(true);
      expect(s.eval.every, 'a learning curve, whose first point is the untrained evaluation').toBeGreaterThan(0);
    });
  }
});

/**
 * Each shipped spec's committed reference folder (results/reference/NAME, and NAME-quick for the flagship's --quick
 * run) was run from that spec: the same agents in the same order, seeds, budgets and users, and every agent and env
 * param the spec sets, or the folder records, the same (params that gained a default after a folder was made are
 * absent from its spec.json and must be at their defaults, which resolving the spec gives them).
 */
describe("every shipped spec's committed reference folder was run from it", () => {
  const ref = (name: string) => new URL(`../../results/reference/${name}/spec.json`, import.meta.url);
  for (const f of specs) {
    const raw = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as { name: string; quick?: unknown };
    for (const quick of [false, true]) {
      const name = quick ? `${raw.name}-quick` : raw.name;
      if (quick && !existsSync(ref(name))) continue;
      it(`${f}${quick ? ' --quick' : ''} -> results/reference/${name}`, () => {
        expect(existsSync(ref(name))).toBe(true);
        const s = resolveSpec(raw, quick);
        const r = JSON.parse(readFileSync(ref(name), 'utf8')) as { name: string; env: { id: string; params: Record<string, unknown> }; agents: { id: string; label: string; params: Record<string, unknown> }[]; seeds: number[]; train: unknown; eval: unknown; final: unknown };
        expect(r.name).toBe(s.name);
        expect(r.agents.map((a) => [a.id, a.label])).toEqual(s.agents.map((a) => [a.id, a.label]));
        expect([r.seeds, r.train, r.eval, r.final]).toEqual([s.seeds, s.train, s.eval, s.final]);
        expect(r.env.id).toBe(s.env.id);
        const differ: string[] = [];
        const same = (where: string, recorded: Record<string, unknown>, resolved: Record<string, unknown>) => {
          for (const [k, v] of Object.entries(recorded)) if (JSON.stringify(v) !== JSON.stringify(resolved[k])) differ.push(`${where}.${k}: folder ${JSON.stringify(v)}, spec ${JSON.stringify(resolved[k])}`);
        };
        same('env.params', r.env.params, s.env.params);
        r.agents.forEach((a, i) => same(`agents[${a.label}].params`, a.params, s.agents[i]!.params));
        // What the spec sets explicitly, the folder must have run with.
        const set = raw as unknown as { env: { params?: Record<string, unknown> }; agents: { params?: Record<string, unknown> }[] };
        for (const k of Object.keys(set.env.params ?? {})) if (!(k in r.env.params)) differ.push(`env.params.${k}: set by the spec, absent from the folder`);
        set.agents.forEach((a, i) => {
          for (const k of Object.keys(a.params ?? {})) if (!(k in r.agents[i]!.params)) differ.push(`agents[${r.agents[i]!.label}].params.${k}: set by the spec, absent from the folder`);
        });
        expect(differ).toEqual([]);
      });
    }
  }
});
