/**
 * retention-v1: calibration (1,500 users, population 2024, never used for tuning), the honesty conditions of
 * the flagship env (no observable column is the lever, no non-learning heuristic comes near the ceiling),
 * and the one-world rule (every population of a world shares its catalogue).
 */
import { describe, expect, it } from 'vitest';
import { make, makeVec } from '../envs/registry.js';
import { makeCatalogueV1 } from '../envs/retention.js';
import { evaluateAgent, type UserOutcomes } from '../experiments/evaluate.js';
import { makeAgent } from '../agents/index.js';
import { meanCi, meanOf } from './helpers.js';

const ENV = 'retention-v1';
const USERS = 1500;
const SEED = 2024;
const run = async (id: string, params: Record<string, unknown> = {}): Promise<UserOutcomes> =>
  evaluateAgent(ENV, {}, await makeAgent(id, params, { envId: ENV, seed: 1 }), { users: USERS, seed: SEED });

const random = await run('random');
const ceiling = await run('ceiling-oracle');
const norm = (o: UserOutcomes) => (meanOf(o.return) - meanOf(random.return)) / (meanOf(ceiling.return) - meanOf(random.return));

describe('retention-v1 calibration (random policy, 1,500 users)', () => {
  it('mean session length is between 5 and 30 steps', () => {
    const m = meanOf(random.sessionLengths);
    expect(m).toBeGreaterThan(5);
    expect(m).toBeLessThan(30);
  });
  it('mean return gap is between 1 and 4 days', () => {
    const m = meanOf(random.returnGaps);
    expect(m).toBeGreaterThan(1);
    expect(m).toBeLessThan(4);
  });
  it('30-day churn is between 20% and 60%', () => {
    const m = meanOf(random.churned);
    expect(m).toBeGreaterThan(0.2);
    expect(m).toBeLessThan(0.6);
  });
  it('the ceiling oracle earns at least 1.5 x random (paired 95% CI over users)', () => {
    const d = meanCi(Array.from(ceiling.return, (v, i) => v - 1.5 * random.return[i]!));
    expect(d.lo).toBeGreaterThan(0);
  });
});

describe('retention-v1 poses a long-term problem that must be learned', () => {
  it('the myopic click maximizer earns less than random (paired 95% CI over users)', async () => {
    const myo = await run('myopic-click');
    expect(Array.from(myo.userIndex)).toEqual(Array.from(random.userIndex));
    const d = meanCi(Array.from(myo.return, (v, i) => v - random.return[i]!));
    expect(d.hi).toBeLessThan(0);
  });

  it("myopic-oracle's normalized score is at most 0.5", async () => {
    const n = norm(await run('myopic-oracle'));
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(0.5);
  });

  it('no observable non-learning heuristic reaches a normalized score of 0.4 (every one-column proxy, profile and diversity rules)', async () => {
    const D = make(ENV).layout.candidateFeatures.find((f) => f.name === 'embedding')!.size;
    const tried: [string, Record<string, unknown>][] = [
      ['topic-affinity', {}],
      ['topic-affinity', { diversify: true, repeatPenalty: 0.2 }],
      ['topic-rotation', {}],
      ['popularity', {}],
      ['feature-rank', { feature: 'length', descending: true }],
      ['feature-rank', { feature: 'length', descending: false }],
    ];
    for (let k = 0; k < D; k++) for (const descending of [true, false]) tried.push(['feature-rank', { feature: 'embedding', column: k, descending }]);
    let best = -Infinity;
    for (const [id, p] of tried) best = Math.max(best, norm(await run(id, p)));
    expect(best).toBeLessThanOrEqual(0.4);
  }, 120_000);

  it('untrained Q-learning and SARSA are within noise of random (their action abstraction orders nothing)', async () => {
    for (const id of ['q-learning', 'sarsa']) {
      const o = await run(id);
      const d = meanCi(Array.from(o.return, (v, i) => v - random.return[i]!));
      expect(d.lo).toBeLessThan(0);
      expect(d.hi).toBeGreaterThan(0);
    }
  });
});

describe('retention-v1 observation: no column is a copy of the lever', () => {
  it('every candidate column correlates with true quality by less than 0.5 in absolute value', () => {
    const env = makeVec(ENV, {}, { numEnvs: 256, autoresetMode: 'off' });
    env.reset({ seed: 3 });
    const { N, F } = env.layout;
    const q = env.hidden(['quality']).quality!.data;
    const c = env.sim.candidates;
    const n = 256 * N;
    for (let j = 0; j < F; j++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let r = 0; r < n; r++) {
        const x = c[r * F + j]!;
        const y = q[r]!;
        sx += x; sy += y; sxx += x * x; syy += y * y; sxy += x * y;
      }
      const vx = sxx / n - (sx / n) ** 2;
      if (vx < 1e-12) continue;
      const corr = (sxy / n - (sx / n) * (sy / n)) / Math.sqrt(vx * (syy / n - (sy / n) ** 2));
      expect(Math.abs(corr)).toBeLessThan(0.5);
    }
  });

  it('has no appeal or quality-estimate block; the content is topic, embedding and length', () => {
    expect(make(ENV).layout.candidateFeatures.map((f) => f.name)).toEqual(['topic', 'embedding', 'length']);
  });
});

describe('retention-v1: one world for every population', () => {
  it('two populations of the same world see the same catalogue; another world seed changes it', () => {
    const ids = (pop: number, world: number) => {
      const e = make(ENV, { worldSeed: world });
      const r = e.reset({ seed: pop });
      return { ids: Array.from(r.observation.itemIds!), cand: Array.from(r.observation.candidates) };
    };
    // Same world, different populations: the features of a catalogue item are the same wherever it appears.
    const a = make(ENV, { worldSeed: 5 });
    const b = make(ENV, { worldSeed: 5 });
    const ra = a.reset({ seed: 100 });
    const rb = b.reset({ seed: 2000 });
    const F = a.layout.F;
    const feat = (r: typeof ra) => new Map(Array.from(r.observation.itemIds!, (it, i) => [it, Array.from(r.observation.candidates.subarray(i * F, (i + 1) * F))]));
    const fa = feat(ra);
    const fb = feat(rb);
    const cat = makeCatalogueV1(5, 1000, 10, 8, -0.8, 0.5, 0.5);
    for (const [it, f] of [...fa, ...fb]) expect(f.slice(10, 18)).toEqual(Array.from(cat.embedding.subarray(it * 8, it * 8 + 8), Math.fround));
    expect(ids(7, 1).cand).not.toEqual(ids(7, 2).cand);
  });

  it('the runner gives an env with a world seed the same world by default (worldSeed 0 in the resolved spec)', async () => {
    const { resolveSpec } = await import('../experiments/spec.js');
    const base = { name: 't', agents: [{ id: 'random' }], seeds: 1, train: { steps: 0 }, final: { users: 2 } };
    expect(resolveSpec({ ...base, env: { id: 'retention-v0' } }).env.params.worldSeed).toBe(0);
    expect(resolveSpec({ ...base, env: { id: 'retention-v1', params: { worldSeed: 9 } } }).env.params.worldSeed).toBe(9);
  });
});
