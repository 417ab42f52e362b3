import { describe, expect, it } from 'vitest';
import { makeAgent } from '../../agents/index.js';
import { trainAgent } from '../../agents/loop.js';
import { makeVec } from '../../envs/registry.js';
import { sampleBeta } from '../../agents/bandits.js';
import { streamFromString } from '../../envs/rng.js';
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
