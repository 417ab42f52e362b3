import { describe, expect, it } from 'vitest';
import { makeAgent } from '../../agents/index.js';
import { sampleBeta } from '../../agents/bandits.js';
import { streamFromString } from '../../envs/rng.js';
import { meanOf } from '../helpers.js';

describe('bandit building blocks', () => {
  it('Beta sampling has the right mean and variance', () => {
    const rng = streamFromString('beta');
    const x = Array.from({ length: 20000 }, () => sampleBeta(rng, 2, 5));
    const m = meanOf(x);
    expect(m).toBeCloseTo(2 / 7, 2);
    const v = meanOf(x.map((y) => (y - m) ** 2));
    expect(v).toBeCloseTo((2 * 5) / (49 * 8), 3);
    const small = Array.from({ length: 20000 }, () => sampleBeta(rng, 0.5, 0.5));
    expect(meanOf(small)).toBeCloseTo(0.5, 1);
  });

  it('topic arms need a topic feature; item arms need item ids', async () => {
    await expect(makeAgent('ucb1', {}, { envId: 'long-term-satisfaction-v0', seed: 0 })).rejects.toThrow(
      /agent ucb1 cannot run on long-term-satisfaction-v0: it needs the candidates feature "topic"; the env's candidates features are clickbait/,
    );
    await expect(makeAgent('thompson-beta', { arms: 'item' }, { envId: 'interest-evolution-v0', seed: 0 })).rejects.toThrow(/arms "item" need catalogue item ids/);
    await expect(makeAgent('ucb1', { exploration: -1 }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(
      'agent ucb1: param "exploration" = -1 is out of range: allowed a number in [0, 100] (default 1)',
    );
  });
});

describe('item-stat-rank', () => {
  it('serves top-K by the chosen per-item statistic of its own training steps, greedily in evaluation', async () => {
    const { trainAgent } = await import('../../agents/loop.js');
    const { makeVec } = await import('../../envs/registry.js');
    const env = makeVec('retention-v1', { worldSeed: 0, horizonDays: 3 }, { numEnvs: 4 });
    const { N, K, F } = env.layout;
    const len = env.layout.candidateFeatures.find((c) => c.name === 'length')!.offset;
    for (const stat of ['ctr', 'rewardPerClick', 'rewardPerLength'] as const) {
      const agent = await makeAgent('item-stat-rank', { stat, epsilonStart: 1 }, { envId: 'retention-v1', envParams: { worldSeed: 0, horizonDays: 3 }, seed: 2 });
      // Count the feedback by hand while it trains (epsilon 1: uniform random slates).
      const n = new Map<number, number>();
      const k = new Map<number, number>();
      const w = new Map<number, number>();
      const r = new Map<number, number>();
      let tn = 0, tk = 0, tw = 0, tr = 0;
      trainAgent(agent, env, {
        steps: 200,
        seed: 1,
        onStep: (t) => {
          for (let s = 0; s < 4; s++) {
            if (!t.stepped[s]) continue;
            for (let j = 0; j < K; j++) {
              const c = s * N + t.actions[s * K + j]!;
              const it = t.obs.itemIds![c]!;
              n.set(it, (n.get(it) ?? 0) + 1);
              tn++;
              if (t.clicked[s] !== j) continue;
              k.set(it, (k.get(it) ?? 0) + 1);
              w.set(it, (w.get(it) ?? 0) + t.rewards[s]!);
              r.set(it, (r.get(it) ?? 0) + t.rewards[s]! / t.obs.candidates[c * F + len]!);
              tk++, (tw += t.rewards[s]!), (tr += t.rewards[s]! / t.obs.candidates[c * F + len]!);
            }
          }
        },
      });
      const score = (it: number) => {
        const ni = n.get(it) ?? 0, ki = k.get(it) ?? 0;
        if (stat === 'ctr') return (ki + 20 * (tk / tn)) / (ni + 20);
        if (stat === 'rewardPerClick') return ((w.get(it) ?? 0) + 5 * (tw / tk)) / (ki + 5);
        return ((r.get(it) ?? 0) + 5 * (tr / tk)) / (ki + 5);
      };
      const ev = makeVec('retention-v1', { worldSeed: 0, horizonDays: 3 }, { numEnvs: 2 });
      const obs = ev.reset({ seed: 7 }).observation;
      const slate = agent.act({ ...obs, B: 2, active: Uint8Array.of(1, 1), userIndex: Float64Array.of(0, 1), firstStep: Uint8Array.of(1, 1) }, { rng: streamFromString('x') as never, training: false, explore: false });
      for (let s = 0; s < 2; s++) {
        const scores = Array.from({ length: N }, (_, i) => Math.fround(score(obs.itemIds![s * N + i]!)));
        const want = scores.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]).slice(0, K).map((x) => x[0]);
        expect(Array.from(slate.subarray(s * K, (s + 1) * K)).map((i) => scores[i]!)).toEqual(want);
      }
    }
  });

  it('needs item ids, and a length for rewardPerLength', async () => {
    await expect(makeAgent('item-stat-rank', {}, { envId: 'interest-evolution-v0', seed: 0 })).rejects.toThrow(/^agent item-stat-rank cannot run on interest-evolution-v0: it ranks catalogue items by their feedback and needs item ids \(the env has none\)/);
    await expect(makeAgent('item-stat-rank', { stat: 'median' }, { envId: 'retention-v1', seed: 0 })).rejects.toThrow(/param "stat"/);
  });
});
