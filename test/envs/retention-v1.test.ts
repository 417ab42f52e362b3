/**
 * retention-v1: calibration (1,500 users, population 2024, never used for tuning), the honesty conditions of
 * the flagship env (no observable column is the lever, no non-learning heuristic comes near the ceiling),
 * and the one-world rule (every population of a world shares its catalogue).
 */
import { describe, expect, it } from 'vitest';
import { make, makeVec } from '../../envs/registry.js';
import { makeCatalogueV1 } from '../../envs/retention.js';
import { runCalibration } from '../../experiments/calibrate.js';
import { normalCdf } from '../../envs/math.js';

const ENV = 'retention-v1';

// The calibration of `egym calibrate` (1,500 users of population 2024, never used for tuning), targets and all.
const cal = await runCalibration({ env: ENV, users: 1500, seed: 2024 });
const target = (re: RegExp) => {
  const t = cal.targets.find((x) => re.test(x.name));
  if (!t) throw new Error(`no target ${re}`);
  return t;
};
const row = (label: string) => cal.rows.find((r) => r.label === label)!;

describe('retention-v1 calibration (1,500 users)', () => {
  it('random: mean session length in [5, 30] steps, mean return gap in [1, 4] days, 30-day churn in [20%, 60%]', () => {
    expect(row('random').sessionLength).toBeGreaterThanOrEqual(5);
    expect(row('random').sessionLength).toBeLessThanOrEqual(30);
    expect(row('random').returnGap).toBeGreaterThanOrEqual(1);
    expect(row('random').returnGap).toBeLessThanOrEqual(4);
    expect(row('random').churn).toBeGreaterThanOrEqual(0.2);
    expect(row('random').churn).toBeLessThanOrEqual(0.6);
  });
  it('the ceiling oracle earns at least 1.5 x random (paired 95% CI over users)', () => {
    expect(target(/^ceiling - 1.5/).value).toBeGreaterThan(0);
  });
  it('the myopic click maximizer earns less than random (paired 95% CI over users)', () => {
    expect(row('myopic-click').vsRandom.hi).toBeLessThan(0);
  });
  it("myopic-oracle's normalized score is in (0, 0.5]", () => {
    expect(row('myopic-oracle').normalized).toBeGreaterThan(0);
    expect(row('myopic-oracle').normalized).toBeLessThanOrEqual(0.5);
  });
  it('no observable non-learning heuristic reaches 0.4 (every one-column proxy both ways, profile, diversity and popularity rules)', () => {
    const heur = cal.rows.filter((r) => r.role === 'heuristic');
    expect(heur.length).toBeGreaterThanOrEqual(6 + 2 * 8);
    for (const h of heur) expect(h.normalized).toBeLessThanOrEqual(0.4);
  });
  it('untrained Q-learning and SARSA are within noise of random (their action abstraction orders nothing)', () => {
    for (const l of ['q-learning (untrained)', 'sarsa (untrained)']) {
      expect(row(l).vsRandom.lo).toBeLessThan(0);
      expect(row(l).vsRandom.hi).toBeGreaterThan(0);
    }
  });
  it('content-oracle (top-K by the quality that content predicts) lies between the best heuristic and the ceiling', () => {
    const best = Math.max(...cal.rows.filter((r) => r.role === 'heuristic').map((r) => r.normalized));
    expect(row('content-oracle').normalized).toBeGreaterThan(best + 0.2);
    expect(row('content-oracle').normalized).toBeLessThan(0.85);
  });
  it('every target of the calibration passes', () => {
    expect(cal.targets.filter((t) => !t.pass)).toEqual([]);
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

  it('hidden contentQuality is the noiseless part of quality: Phi((mu_c + w_q . e) / s_q), correlated with quality but not equal', () => {
    const env = makeVec(ENV, {}, { numEnvs: 64, autoresetMode: 'off' });
    env.reset({ seed: 4 });
    const { N, F } = env.layout;
    const h = env.hidden(['quality', 'contentQuality']);
    const q = h.quality!.data;
    const cq = h.contentQuality!.data;
    const { model } = makeCatalogueV1(0, 1000, 10, 8, -0.8, 0.5, 0.5);
    const sq = Math.sqrt(0.25 + 1 + 0.25);
    const c = env.sim.candidates;
    let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    const n = 64 * N;
    for (let r = 0; r < n; r++) {
      let t = 0;
      for (let k = 0; k < 10; k++) if (c[r * F + k] === 1) t = k;
      let z = model.topicQuality[t]!;
      for (let k = 0; k < 8; k++) z += model.qualityDirection[k]! * c[r * F + 10 + k]!;
      expect(cq[r]!).toBeCloseTo(normalCdf(z / sq), 5);
      sx += q[r]!; sy += cq[r]!; sxx += q[r]! ** 2; syy += cq[r]! ** 2; sxy += q[r]! * cq[r]!;
    }
    const corr = (sxy / n - (sx / n) * (sy / n)) / Math.sqrt((sxx / n - (sx / n) ** 2) * (syy / n - (sy / n) ** 2));
    expect(corr).toBeGreaterThan(0.8);
    expect(corr).toBeLessThan(0.99);
    expect(make('retention-v0').reset({ seed: 0 }).info.hidden).not.toHaveProperty('contentQuality');
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
    const { resolveSpec } = await import('../../experiments/spec.js');
    const base = { name: 't', agents: [{ id: 'random' }], seeds: 1, train: { userSteps: 0 }, final: { users: 2 } };
    expect(resolveSpec({ ...base, env: { id: 'retention-v0' } }).env.params.worldSeed).toBe(0);
    expect(resolveSpec({ ...base, env: { id: 'retention-v1', params: { worldSeed: 9 } } }).env.params.worldSeed).toBe(9);
  });
});
