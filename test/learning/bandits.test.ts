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

describe('item-stat-rank on retention-v1: per-item feedback reveals the hidden quality', () => {
  it('its reward-per-length statistic tracks true quality (the length confound gone), and ranking by it beats random and content', async () => {
    const { evaluateAgent } = await import('../../experiments/evaluate.js');
    const envParams = { worldSeed: 0 };
    const agent = await makeAgent('item-stat-rank', { stat: 'rewardPerLength' }, { envId: 'retention-v1', envParams, seed: 3 });
    const env = makeVec('retention-v1', envParams, { numEnvs: 32 });
    const { N, itemCount } = env.layout;
    const quality = new Float64Array(itemCount!).fill(NaN);
    trainAgent(agent, env, {
      steps: 1500,
      seed: 100003,
      onAct: (obs) => {
        const q = obs.hidden!(['quality']).quality!.data;
        for (let r = 0; r < obs.B * N; r++) quality[obs.itemIds![r]!] = q[r]!;
      },
    });
    const st = (agent.save().state as { items: { clicks: number[]; reward: number[]; rate: number[] } }).items;
    const corr = (x: number[], y: number[]) => {
      const mx = meanOf(x);
      const my = meanOf(y);
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < x.length; i++) (sxy += (x[i]! - mx) * (y[i]! - my)), (sxx += (x[i]! - mx) ** 2), (syy += (y[i]! - my) ** 2);
      return sxy / Math.sqrt(sxx * syy);
    };
    const seen = [...quality.keys()].filter((i) => st.clicks[i]! >= 10 && !Number.isNaN(quality[i]!));
    expect(seen.length).toBeGreaterThan(300);
    const q = seen.map((i) => quality[i]!);
    const perLength = corr(seen.map((i) => st.rate[i]! / st.clicks[i]!), q);
    const perClick = corr(seen.map((i) => st.reward[i]! / st.clicks[i]!), q);
    console.log(`item-stat-rank: ${seen.length} items with >= 10 clicks; corr(quality, reward per length) ${perLength.toFixed(3)}, corr(quality, reward per click) ${perClick.toFixed(3)}`);
    // Measured: 0.977 and 0.453 (618 items, 48k training user-steps).
    expect(perLength).toBeGreaterThan(0.9);
    expect(perLength - perClick).toBeGreaterThan(0.3);
    // Held-out users of the same world, paired: ranking by it beats random and content-oracle's feature-only ranking.
    const opts = { users: 200, seed: 2024 };
    const mine = evaluateAgent('retention-v1', envParams, agent, opts).return;
    const rand = evaluateAgent('retention-v1', envParams, await makeAgent('random', {}, { envId: 'retention-v1', envParams, seed: 0 }), opts).return;
    const content = evaluateAgent('retention-v1', envParams, await makeAgent('content-oracle', {}, { envId: 'retention-v1', envParams, seed: 0 }), opts).return;
    const m = meanOf(Array.from(mine));
    console.log(`item-stat-rank ${m.toFixed(1)}, random ${meanOf(Array.from(rand)).toFixed(1)}, content-oracle ${meanOf(Array.from(content)).toFixed(1)} (200 users)`);
    // Measured: 715.4, random 105.6, content-oracle 579.4.
    expect(m - meanOf(Array.from(rand))).toBeGreaterThan(450);
    expect(m - meanOf(Array.from(content))).toBeGreaterThan(50);
  }, 120_000);
});
