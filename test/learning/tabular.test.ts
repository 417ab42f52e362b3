import { describe, expect, it } from 'vitest';
import { makeAgent } from '../../agents/index.js';
import { TabularAgent } from '../../agents/tabular.js';
import { trainAgent } from '../../agents/loop.js';
import { makeVec } from '../../envs/registry.js';
import { deterministicPolicy, policyEvaluation, startValue, valueIteration } from '../../agents/planning.js';
import { evaluateAgent } from '../../experiments/evaluate.js';
import { meanCi } from '../helpers.js';

const GAMMA = 0.9;

async function trained(rule: string, seed: number, steps: number, params: Record<string, unknown>): Promise<TabularAgent> {
  const agent = (await makeAgent(rule, { gamma: GAMMA, ...params }, { envId: 'boredom-mdp-v0', seed })) as TabularAgent;
  trainAgent(agent, makeVec('boredom-mdp-v0', {}, { numEnvs: 32 }), { steps, seed: 100 + seed });
  return agent;
}

function greedyValue(agent: TabularAgent): { value: number; optimum: number } {
  const m = agent.env.model!;
  const pol = Int32Array.from({ length: m.numStates }, (_, s) => agent.greedy(s));
  const v = policyEvaluation(m, deterministicPolicy(pol, m.numActions), GAMMA).V;
  return { value: startValue(m, v), optimum: startValue(m, valueIteration(m, GAMMA).V) };
}

describe('exact planning on boredom-mdp-v0', () => {
  it('value iteration satisfies the Bellman optimality equation and beats every fixed-topic policy', async () => {
    const agent = (await makeAgent('value-iteration', { gamma: GAMMA }, { envId: 'boredom-mdp-v0', seed: 0 })) as unknown as { env: TabularAgent['env'] };
    const m = agent.env.model!;
    const vi = valueIteration(m, GAMMA);
    const pe = policyEvaluation(m, deterministicPolicy(vi.policy, m.numActions), GAMMA);
    for (let s = 0; s < m.numStates; s++) expect(pe.V[s]).toBeCloseTo(vi.V[s]!, 8);
    for (let a = 0; a < m.numActions; a++) {
      const fixed = policyEvaluation(m, deterministicPolicy(new Int32Array(m.numStates).fill(a), m.numActions), GAMMA);
      expect(startValue(m, fixed.V)).toBeLessThan(startValue(m, vi.V));
    }
  });

  it('the value-iteration agent earns the optimal value in simulation (within sampling error)', async () => {
    const vi = await makeAgent('value-iteration', { gamma: 1 }, { envId: 'boredom-mdp-v0', seed: 0 });
    const m = vi.env.model!;
    const optimum = startValue(m, valueIteration(m, 1).V);
    const o = evaluateAgent('boredom-mdp-v0', {}, vi, { users: 4000, seed: 1 });
    const ci = meanCi(o.return);
    expect(optimum).toBeGreaterThan(ci.lo);
    expect(optimum).toBeLessThan(ci.hi);
  });
});

describe('tabular TD control on boredom-mdp-v0 (5 seeds)', () => {
  // A GLIE schedule (epsilon decays toward 0.001) with Robbins-Monro step sizes 1 / visits^0.6.
  const schedule = { epsilonSchedule: 'exponential', epsilonSteps: 200_000, epsilonEnd: 0.001, stepSizePower: 0.6 };

  it('Q-learning: the greedy policy is within 2% of the optimum after 800k user-steps', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const { value, optimum } = greedyValue(await trained('q-learning', seed, 25_000, schedule));
      expect(value / optimum).toBeGreaterThanOrEqual(0.98);
    }
  });

  it('SARSA: the greedy policy is within 2% of the optimum after 1.6M user-steps', async () => {
    for (let seed = 0; seed < 5; seed++) {
      const { value, optimum } = greedyValue(await trained('sarsa', seed, 50_000, schedule));
      expect(value / optimum).toBeGreaterThanOrEqual(0.98);
    }
  });

  it('Expected SARSA learns too', async () => {
    const { value, optimum } = greedyValue(await trained('expected-sarsa', 0, 25_000, schedule));
    expect(value / optimum).toBeGreaterThanOrEqual(0.98);
  });

  it("SARSA's values match policy evaluation of its own epsilon-greedy policy", async () => {
    const eps = 0.2;
    const agent = await trained('sarsa', 1, 60_000, { epsilonSchedule: 'constant', epsilonStart: eps, stepSizePower: 0.7 });
    const m = agent.env.model!;
    const A = m.numActions;
    const pi = new Float64Array(m.numStates * A);
    for (let s = 0; s < m.numStates; s++) {
      const g = agent.greedy(s);
      for (let a = 0; a < A; a++) pi[s * A + a] = eps / A + (a === g ? 1 - eps : 0);
    }
    const q = policyEvaluation(m, pi, GAMMA).Q;
    let wsum = 0;
    let werr = 0;
    let pairs = 0;
    for (let k = 0; k < m.numStates * A; k++) {
      const v = agent.visits[k]!;
      wsum += v;
      werr += (v * Math.abs(agent.Q[k]! - q[k]!)) / Math.abs(q[k]!);
      if (v >= 2000) {
        pairs++;
        expect(Math.abs(agent.Q[k]! - q[k]!) / Math.abs(q[k]!)).toBeLessThan(0.06);
      }
    }
    expect(pairs).toBeGreaterThan(50);
    expect(werr / wsum).toBeLessThan(0.015);
  });
});

describe('tabular agents on slate envs', () => {
  it('Q-learning learns on retention-v0 with the default abstractions and beats random', async () => {
    const q = await makeAgent('q-learning', { gamma: 0.9, epsilonSteps: 100_000 }, { envId: 'retention-v0', seed: 3 });
    trainAgent(q, makeVec('retention-v0', {}, { numEnvs: 64 }), { steps: 4000, seed: 9 });
    const rnd = await makeAgent('random', {}, { envId: 'retention-v0', seed: 3 });
    const a = evaluateAgent('retention-v0', {}, q, { users: 500, seed: 77 });
    const b = evaluateAgent('retention-v0', {}, rnd, { users: 500, seed: 77 });
    expect(meanCi(Array.from(a.return, (v, i) => v - b.return[i]!)).lo).toBeGreaterThan(0);
  });

  it('custom state and action abstractions are validated', async () => {
    await expect(makeAgent('q-learning', { stateFeatures: [{ feature: 'mood', levels: 2 }] }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(
      /agent q-learning cannot run on retention-v0: state feature "mood" is not a user feature of this env \(has: day, session, stepInSession, daysSinceLastSession, history, topicShows, topicClicks, topicWatch\)/,
    );
    await expect(makeAgent('q-learning', { stateFeatures: [{ feature: 'day', edges: [3, 1] }] }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(
      /param "stateFeatures" = .* edges must increase/,
    );
    await expect(makeAgent('sarsa', { actionAbstraction: 'topic' }, { envId: 'long-term-satisfaction-v0', seed: 0 })).rejects.toThrow(/needs a one-hot topic candidate feature/);
    const ok = (await makeAgent('q-learning', { stateFeatures: [{ feature: 'day', edges: [10, 20] }], actionAbstraction: 'band' }, { envId: 'retention-v0', seed: 0 })) as TabularAgent;
    expect(ok.S).toBe(3);
    expect(ok.A).toBe(5);
  });
});
