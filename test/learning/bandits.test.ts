import { describe, expect, it } from 'vitest';
import { makeAgent } from '../../agents/index.js';
import { trainAgent } from '../../agents/loop.js';
import { makeVec } from '../../envs/registry.js';
import { meanOf } from '../helpers.js';

/** Cumulative regret (expected reward of the best candidate minus the chosen one) at each step. */
async function regretCurve(agentId: string, envId: string, steps: number, seed: number, params: Record<string, unknown> = {}): Promise<Float64Array> {
  const agent = await makeAgent(agentId, params, { envId, envParams: { horizon: 1e6 }, seed });
  const env = makeVec(envId, { horizon: 1e6 }, { numEnvs: 1 });
  const curve = new Float64Array(steps);
  let regret = 0;
  let t = 0;
  trainAgent(agent, env, {
    steps,
    seed,
    onAct: (obs, actions) => {
      const er = obs.hidden!(['expectedReward']).expectedReward!.data;
      let best = -Infinity;
      for (let i = 0; i < env.layout.N; i++) best = Math.max(best, er[i]!);
      regret += best - er[actions[0]!]!;
      curve[t++] = regret;
    },
  });
  return curve;
}

describe('bandits on a stationary Bernoulli bandit (means 0.05 .. 0.8)', () => {
  const steps = 20_000;
  const agents: [string, Record<string, unknown>][] = [
    ['ucb1', {}],
    ['thompson-beta', {}],
    ['thompson-gaussian', { noiseStd: 0.5 }],
    ['epsilon-greedy', { epsilonSchedule: 'exponential', epsilonStart: 1, epsilonEnd: 0, epsilonSteps: 500 }],
  ];

  it('random has linear regret (the yardstick)', async () => {
    const r = await regretCurve('random', 'bernoulli-bandit-v0', steps, 1);
    const perStep = 0.8 - meanOf([0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(r[steps - 1]! / steps).toBeCloseTo(perStep, 1);
  });

  for (const [id, params] of agents) {
    it(`${id}: regret at 20k steps is below 10% of random's and grows sublinearly (5 seeds)`, async () => {
      for (let seed = 0; seed < 5; seed++) {
        const random = await regretCurve('random', 'bernoulli-bandit-v0', steps, seed);
        const r = await regretCurve(id, 'bernoulli-bandit-v0', steps, seed, params);
        expect(r[steps - 1]!).toBeLessThan(0.1 * random[steps - 1]!);
        // Sublinear: the second half adds less regret than the first half.
        const half = r[steps / 2 - 1]!;
        expect(r[steps - 1]! - half).toBeLessThan(half);
      }
    });
  }
});

describe('LinUCB on a linear contextual bandit', () => {
  it('beats epsilon-greedy over items with a clear margin on each of 5 seeds', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const lin = await regretCurve('linucb', 'linear-bandit-v0', 5000, seed);
      const eps = await regretCurve('epsilon-greedy', 'linear-bandit-v0', 5000, seed);
      expect(lin[4999]!).toBeLessThan(0.25 * eps[4999]!);
    }
  });
});
