/**
 * The publishing rules of the project, held for every shipped spec (experiments/specs/*.json, the ones `egym
 * reproduce` runs and the README's reference results come from): next to the agents, every results table shows
 * random (the floor), the best non-learning heuristic on observable features, the myopic oracle and a ceiling
 * oracle, with the normalized score, and each learning agent's untrained evaluation (the learning curve's first
 * point, so eval.every > 0).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
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
