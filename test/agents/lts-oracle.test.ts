import { describe, expect, it } from 'vitest';
import { makeAgent } from '../../agents/index.js';
import { type LtsOracleAgent } from '../../agents/lts-oracle.js';
import { evaluateAgent } from '../../experiments/evaluate.js';
import { userStream } from '../../envs/rng.js';
import { meanOf, sdOf } from '../helpers.js';

const ENV = 'long-term-satisfaction-v0';
const evalOn = async (id: string, envParams: Record<string, unknown>, params: Record<string, unknown> = {}, users = 300) => {
  const a = await makeAgent(id, params, { envId: ENV, envParams, seed: 0 });
  return { agent: a, ret: Array.from(evaluateAgent(ENV, envParams, a, { users, seed: 31 }).return) };
};
/** Paired mean difference minus 4 standard errors. */
const lowerBound = (a: number[], b: number[]) => {
  const d = a.map((x, i) => x - b[i]!);
  return meanOf(d) - 4 * (sdOf(d) / Math.sqrt(d.length));
};

describe('lts-oracle, the ceiling of long-term-satisfaction-v0', () => {
  it('with tau 0 (satisfaction fixed) it serves what the myopic oracle serves: the same return for every user', async () => {
    const envParams = { sensitivity: 0 };
    expect((await evalOn('lts-oracle', envParams, {}, 100)).ret).toEqual((await evalOn('myopic-oracle', envParams, {}, 100)).ret);
  });

  it('its value table predicts the return it earns: the mean of V_T over the users\' first states within sampling error', async () => {
    for (const tau of [0.1, 0.3]) {
      const envParams = { sensitivity: tau };
      const { agent, ret } = await evalOn('lts-oracle', envParams, {}, 400);
      // The users' first NPE, from the env's documented init stream: (u - 0.5) / (1 - beta), beta 0.7.
      const predicted = meanOf(ret.map((_, u) => (agent as LtsOracleAgent).value(60, (userStream(31, u, 'init')() - 0.5) / 0.3)));
      const se = sdOf(ret) / Math.sqrt(ret.length);
      expect(Math.abs(meanOf(ret) - predicted)).toBeLessThan(4 * se);
      expect(se).toBeLessThan(0.02 * predicted);
    }
  });

  it('beats the myopic oracle, both one-column rankings and random on the same users where the long term matters (tau 0.3)', async () => {
    const envParams = { sensitivity: 0.3 };
    const ceiling = (await evalOn('lts-oracle', envParams)).ret;
    for (const [id, p] of [
      ['myopic-oracle', {}],
      ['feature-rank', { feature: 'clickbait', descending: false }],
      ['feature-rank', { feature: 'clickbait' }],
      ['random', {}],
    ] as const) {
      expect(lowerBound(ceiling, (await evalOn(id, envParams, p)).ret), `${id} ${JSON.stringify(p)}`).toBeGreaterThan(0);
    }
  });

  it('runs only on long-term-satisfaction-v0, over at most 1,000 steps, and its value table refuses a step count outside it', async () => {
    await expect(makeAgent('lts-oracle', {}, { envId: 'retention-v1', seed: 0 })).rejects.toThrow(/agent lts-oracle cannot run on retention-v1: it plans with the exact model of long-term-satisfaction-v0/);
    await expect(makeAgent('lts-oracle', {}, { envId: ENV, envParams: { timeBudget: 1001 }, seed: 0 })).rejects.toThrow(/timeBudget = 1001: it plans over at most 1000 steps/);
    // Its table's cost is bounded before it is built.
    await expect(makeAgent('lts-oracle', { grid: 100001, cValues: 100000 }, { envId: ENV, seed: 0 })).rejects.toThrow(/timeBudget x grid x cValues = 60 x 100001 x 100000 = 6\.00e\+11 value evaluations, above the 1e\+9 allowed \(about a minute\): lower grid or cValues/);
    await expect(makeAgent('lts-oracle', { grid: 100001, cValues: 2 }, { envId: ENV, envParams: { timeBudget: 1000 }, seed: 0 })).rejects.toThrow(/\(timeBudget \+ 1\) x grid = 1001 x 100001 = 1\.00e\+8 numbers, above the 2e\+7 allowed \(160 MB\): lower grid/);
    const a = (await makeAgent('lts-oracle', { grid: 51, cValues: 20 }, { envId: ENV, envParams: { timeBudget: 5 }, seed: 0 })) as LtsOracleAgent;
    expect(a.value(0, 0.3)).toBe(0);
    expect(() => a.value(6, 0)).toThrow(/steps left must be an integer in \[0, 5\], got 6/);
  });
});
