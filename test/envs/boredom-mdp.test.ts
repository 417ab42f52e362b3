import { describe, expect, it } from 'vitest';
import { make, resolveEnvParamsOf } from '../../envs/registry.js';
import { boredomMdpEnv, boredomMdpModel, boredomStateOfObservation } from '../../envs/boredom-mdp.js';
import { SimEnv } from '../../envs/core.js';
import { streamFromString } from '../../envs/rng.js';

describe('boredom-mdp-v0 exposes its exact model', () => {
  const params = resolveEnvParamsOf(boredomMdpEnv);
  const m = boredomMdpModel(params);

  it('has T x Lb^T x Ls states, rows summing to 1 - leave probability', () => {
    expect(m.numStates).toBe(27 * 3);
    expect(m.numActions).toBe(3);
    for (let s = 0; s < m.numStates; s++) {
      for (let a = 0; a < m.numActions; a++) {
        let row = 0;
        for (let s2 = 0; s2 < m.numStates; s2++) row += m.P[(s * 3 + a) * m.numStates + s2]!;
        expect(row).toBeGreaterThan(1 - 0.3 - 1e-12);
        expect(row).toBeLessThan(1 - 0.02 + 1e-12);
      }
    }
    expect(m.initial.reduce((x, y) => x + y, 0)).toBe(1);
  });

  it('a model above the size limit is refused before allocation, naming the params, the estimate and the limit; agents see the same error', async () => {
    const big = resolveEnvParamsOf(boredomMdpEnv, { numTopics: 5, boredomLevels: 4, satisfactionLevels: 7 });
    expect(() => boredomMdpModel(big)).toThrow(/numTopics = 5, boredomLevels = 4, satisfactionLevels = 7 give 7168 states; the dense model needs 1960 MiB .* above the limit of 512 MiB/);
    const { makeAgent } = await import('../../agents/index.js');
    await expect(makeAgent('random', {}, { envId: 'boredom-mdp-v0', envParams: { numTopics: 5, boredomLevels: 5, satisfactionLevels: 7 }, seed: 0 })).rejects.toThrow(/the dense model needs \d+ MiB/);
    // The largest default-adjacent settings still build.
    expect(boredomMdpModel(resolveEnvParamsOf(boredomMdpEnv, { numTopics: 4, boredomLevels: 4, satisfactionLevels: 7 })).numStates).toBe(256 * 7);
  });

  it('env.model() is available through the single env and refused by others', () => {
    const env = make('boredom-mdp-v0') as SimEnv;
    expect(env.hasModel).toBe(true);
    expect(env.model().numStates).toBe(81);
    expect(() => (make('retention-v0') as SimEnv).model()).toThrow(/no exact model/);
  });

  it('simulated transitions, rewards and leave frequencies match P and R within sampling error', () => {
    // Visit states with a uniform random policy; count (s, a) -> s' (or leave) and compare with P.
    const env = make('boredom-mdp-v0');
    const S = m.numStates;
    const A = m.numActions;
    const visits = new Float64Array(S * A);
    const next = new Float64Array(S * A * (S + 1));
    const rewardSum = new Float64Array(S * A);
    const rng = streamFromString('bmdp');
    let obs = env.reset({ seed: 1 }).observation;
    for (let t = 0; t < 200000; t++) {
      const s = boredomStateOfObservation(obs.user, params);
      const a = Math.floor(rng() * A);
      const r = env.step([a]);
      visits[s * A + a]!++;
      rewardSum[s * A + a]! += r.reward;
      const s2 = r.terminated ? S : boredomStateOfObservation(r.observation.user, params);
      next[(s * A + a) * (S + 1) + s2]!++;
      obs = r.terminated ? env.reset().observation : r.observation;
    }
    let tested = 0;
    for (let sa = 0; sa < S * A; sa++) {
      const n = visits[sa]!;
      if (n < 400) continue;
      tested++;
      let leave = 1;
      for (let s2 = 0; s2 <= S; s2++) {
        const p = s2 < S ? m.P[sa * S + s2]! : 0;
        if (s2 < S) leave -= p;
        const pp = s2 < S ? p : leave;
        const obsN = next[sa * (S + 1) + s2]!;
        if (pp === 0) {
          expect(obsN).toBe(0);
          continue;
        }
        const z = (obsN - n * pp) / Math.sqrt(n * pp * (1 - pp) + 1e-12);
        expect(Math.abs(z)).toBeLessThan(5);
      }
      // Reward: mean within 5 standard errors (reward is value x Bernoulli, variance <= value^2 / 4).
      const meanR = rewardSum[sa]! / n;
      expect(Math.abs(meanR - m.R[sa]!)).toBeLessThan(5 * Math.sqrt(2.25 / 4 / n));
    }
    expect(tested).toBeGreaterThan(30);
  });

  it('the observation is the full state and candidates are the fixed topic features', () => {
    const env = make('boredom-mdp-v0');
    const r = env.reset({ seed: 0 });
    expect(Array.from(r.observation.user)).toEqual([0, 0, 0, 1]);
    expect(Array.from(r.observation.candidates)).toEqual([1, 0, 0, 1, -1, 0, 1, 0, 0.75, 0, 0, 0, 1, 0.5, 1]);
    expect(boredomStateOfObservation(r.observation.user, params)).toBe(m.initial.indexOf(1));
  });
});
