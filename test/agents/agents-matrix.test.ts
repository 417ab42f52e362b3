import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, IncompatibleEnv, listAgents, makeAgent, sameState } from '../../agents/index.js';
import { type Agent, type AgentContext, type AgentObservation, BaseAgent, type Transitions } from '../../agents/api.js';
import { trainAgent } from '../../agents/loop.js';
import { listEnvs, makeVec } from '../../envs/registry.js';
import { evaluateAgent } from '../../experiments/evaluate.js';

/** Short episodes so that 60 vector steps hold at least two episodes per slot. */
const SHORT: Record<string, Record<string, unknown>> = {
  'interest-evolution-v0': { timeBudget: 12 },
  'long-term-satisfaction-v0': { timeBudget: 20 },
  'retention-v0': { horizonDays: 2, maxSessionSteps: 8 },
  'retention-v1': { horizonDays: 2, maxSessionSteps: 8 },
  'boredom-mdp-v0': {},
  'bernoulli-bandit-v0': { horizon: 20 },
  'linear-bandit-v0': { horizon: 20 },
};

/** Small settings for the agents whose setup trains models. */
const FAST: Record<string, Record<string, unknown>> = {
  // Deep agents on the cpu backend: save -> load -> continue must be bit-identical there.
  ppo: { numSteps: 8, numMinibatches: 2, updateEpochs: 2, hidden: 8, backend: 'cpu' },
  slateq: { learningStarts: 10, batchSize: 8, replaySize: 200, targetUpdate: 20, hidden: 8, backend: 'cpu' },
  'reinforce-topk': { behaviour: 'random', logUsers: 3, epochs: 1, batchSize: 16, hidden: 8, backend: 'cpu' },
  supervised: { logUsers: 10, epochs: 1, batchSize: 256, hidden: 8 },
  'adaptive-supervised': { logUsers: 10, epochs: 1, batchSize: 256, hidden: 8, retrainEvery: 40, window: 400, retrainEpochs: 1 },
};

function run(agent: Agent, envId: string, steps: number, seed: number, env = makeVec(envId, SHORT[envId], { numEnvs: 2 }), resume = false) {
  const actions: number[] = [];
  const res = trainAgent(agent, env, { steps, seed, resume, onAct: (_o, a) => actions.push(...a) });
  return { actions, returns: res.episodes.map((e) => e.return), env };
}

/** Agents checked again with other params: the deep agents with their per-slot history features (episode and consumed items), their discount per day, their per-item statistics and the consumed items' statistics; REINFORCE top-K online; the wide scorers; PPO served greedily on part of its training steps. */
const VARIANTS: { id: string; label: string; params: Record<string, unknown> }[] = [
  { id: 'ppo', label: 'ppo with episodeHistory', params: { ...FAST.ppo, episodeHistory: true } },
  { id: 'ppo', label: 'ppo with episodeHistory and consumedHistory', params: { ...FAST.ppo, episodeHistory: true, consumedHistory: true } },
  { id: 'slateq', label: 'slateq with consumedHistory', params: { ...FAST.slateq, consumedHistory: true } },
  { id: 'ppo', label: 'ppo with dayDiscount', params: { ...FAST.ppo, consumedHistory: true, gamma: 1, dayDiscount: 0.8 } },
  { id: 'slateq', label: 'slateq with dayDiscount', params: { ...FAST.slateq, gamma: 1, dayDiscount: 0.8 } },
  { id: 'ppo', label: 'ppo with itemFeedback', params: { ...FAST.ppo, itemFeedback: true } },
  { id: 'slateq', label: 'slateq with itemFeedback', params: { ...FAST.slateq, itemFeedback: true, consumedHistory: true } },
  { id: 'ppo', label: 'ppo with consumedItemStats', params: { ...FAST.ppo, itemFeedback: true, consumedHistory: true, consumedItemStats: true } },
  { id: 'reinforce-topk', label: 'reinforce-topk online', params: { mode: 'online', updateSteps: 20, epochs: 1, batchSize: 16, hidden: 8, backend: 'cpu' } },
  { id: 'reinforce-topk', label: 'reinforce-topk online with itemFeedback, dayDiscount, a value baseline and an entropy bonus', params: { mode: 'online', updateSteps: 20, epochs: 1, batchSize: 16, hidden: 8, backend: 'cpu', itemFeedback: true, gamma: 1, dayDiscount: 0.8, baseline: 'value', entCoef: 0.01 } },
  { id: 'slateq', label: 'slateq with consumedItemStats', params: { ...FAST.slateq, itemFeedback: true, consumedHistory: true, consumedItemStats: true } },
  { id: 'ppo', label: 'ppo wide, with its own learning rate', params: { ...FAST.ppo, wide: true, wideLrScale: 10 } },
  { id: 'ppo', label: 'ppo wide, by gradient descent', params: { ...FAST.ppo, wide: true, wideSgdLr: 0.1 } },
  { id: 'ppo', label: 'ppo wide on the item-statistic columns, with their own learning rate', params: { ...FAST.ppo, itemFeedback: true, wide: true, wideColumns: 'itemFeedback', wideLrScale: 10 } },
  { id: 'ppo', label: 'ppo with greedyServe', params: { ...FAST.ppo, greedyServe: 0.5 } },
  { id: 'ppo', label: 'ppo with temperatureEnd', params: { ...FAST.ppo, totalSteps: 64, temperatureEnd: 0.5 } },
  { id: 'slateq', label: 'slateq wide', params: { ...FAST.slateq, wide: true } },
  { id: 'reinforce-topk', label: 'reinforce-topk online wide', params: { mode: 'online', updateSteps: 20, epochs: 1, batchSize: 16, hidden: 8, backend: 'cpu', wide: true } },
  { id: 'reinforce-topk', label: 'reinforce-topk online wide on the item-statistic columns, with their own learning rate', params: { mode: 'online', updateSteps: 20, epochs: 1, batchSize: 16, hidden: 8, backend: 'cpu', itemFeedback: true, wide: true, wideColumns: 'itemFeedback', wideLrScale: 10 } },
];

describe('every agent x every compatible env', () => {
  const cases = [...listAgents().map(({ id }) => ({ id, label: id, params: FAST[id] ?? {} })), ...VARIANTS];
  for (const { id, label, params } of cases) {
    const make = (aid: string, envId: string, seed = 5) => makeAgent(aid, params, { envId, envParams: SHORT[envId], seed });
    for (const { id: envId } of listEnvs()) {
      it(`${label} on ${envId}: deterministic, and save -> load -> continue equals uninterrupted`, async () => {
        let a1: Agent;
        try {
          a1 = await make(id, envId);
        } catch (e) {
          expect(e).toBeInstanceOf(IncompatibleEnv);
          expect((e as Error).message).toMatch(new RegExp(`^agent ${id} cannot run on ${envId}: `));
          return;
        }
        const r1 = run(a1, envId, 60, 3);
        const r2 = run(await make(id, envId), envId, 60, 3);
        expect(r1.returns.length).toBeGreaterThanOrEqual(4);
        expect(r2.actions).toEqual(r1.actions);
        expect(r2.returns).toEqual(r1.returns);

        // Interrupted: 30 steps, checkpoint through its file bytes (JSON, or the container for typed arrays), a
        // fresh agent loads it and continues on the same env.
        const first = await make(id, envId);
        const part = run(first, envId, 30, 3);
        const ckpt = decodeCheckpoint(encodeCheckpoint(first.save()), 'test');
        const resumed = await make(id, envId, 999);
        resumed.load(ckpt);
        const rest = run(resumed, envId, 30, 3, part.env, true);
        expect([...part.actions, ...rest.actions]).toEqual(r1.actions);
        // The uninterrupted agent and the resumed one end in the same state.
        const full = await make(id, envId);
        run(full, envId, 60, 3);
        expect(sameState(resumed.save().state, full.save().state)).toBe(true);

        // Evaluation runs (greedy, per-user) and is deterministic.
        const e1 = evaluateAgent(envId, SHORT[envId], full, { users: 6, seed: 11, batch: 4 });
        const e2 = evaluateAgent(envId, SHORT[envId], full, { users: 6, seed: 11, batch: 3 });
        expect(Array.from(e2.return)).toEqual(Array.from(e1.return));
      });
    }
  }

  it('checkpoints are checked', async () => {
    const a = await makeAgent('q-learning', {}, { envId: 'boredom-mdp-v0', seed: 1 });
    const b = await makeAgent('sarsa', {}, { envId: 'boredom-mdp-v0', seed: 1 });
    expect(() => b.load(a.save())).toThrow(/sarsa: the checkpoint belongs to agent q-learning/);
    const c = await makeAgent('q-learning', {}, { envId: 'retention-v0', seed: 1 });
    expect(() => c.load(a.save())).toThrow(/the checkpoint was made on boredom-mdp-v0, this agent runs on retention-v0/);
    expect(() => c.load({ format: 'other' } as never)).toThrow(/not an engagement-gym agent checkpoint/);
  });

  it('the registry lists every agent with a description, a source and the oracle flag', () => {
    const all = listAgents();
    for (const a of all) {
      expect(a.description.length).toBeGreaterThan(10);
      expect(a.source.length).toBeGreaterThan(5);
    }
    expect(all.filter((a) => a.oracle).map((a) => a.id)).toEqual(expect.arrayContaining(['myopic-oracle', 'value-iteration']));
    expect(all.find((a) => a.id === 'random')!.oracle).toBe(false);
  });

  it('unknown agents and params are clear errors', async () => {
    await expect(makeAgent('dqn', {}, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(/unknown agent "dqn"; known agents: random, /);
    await expect(makeAgent('q-learning', { gama: 0.9 }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(/agent q-learning: unknown param "gama"; known params: gamma/);
    await expect(makeAgent('q-learning', { gamma: 2 }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(/param "gamma" = 2 is out of range: allowed a number in \[0, 1\] \(default 0.9\)/);
    await expect(makeAgent('random', {}, { envId: 'retention-v0', seed: -2 })).rejects.toThrow(/seed must be a non-negative integer/);
    await expect(makeAgent('value-iteration', {}, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(/agent value-iteration cannot run on retention-v0: the env exposes no exact model/);
  });

  it('training and evaluation report every click to feedback (before observe in training)', async () => {
    const info = (await makeAgent('random', {}, { envId: 'retention-v0', envParams: SHORT['retention-v0'], seed: 0 })).env;
    class Recorder extends BaseAgent {
      readonly id = 'recorder';
      log: { training: boolean; clicks: number }[] = [];
      observed = 0;
      act(obs: AgentObservation): Int32Array {
        const out = this.out(obs.B);
        for (let s = 0; s < obs.B; s++) for (let k = 0; k < 5; k++) out[s * 5 + k] = k;
        return out;
      }
      feedback(clicked: Int32Array, stepped: Uint8Array, ctx: AgentContext): void {
        let c = 0;
        for (let s = 0; s < clicked.length; s++) if (stepped[s] && clicked[s]! >= 0) c++;
        this.log.push({ training: ctx.training, clicks: c });
      }
      observe(t: Transitions): void {
        this.observed++;
        let c = 0;
        for (let s = 0; s < t.clicked.length; s++) if (t.stepped[s] && t.clicked[s]! >= 0) c++;
        // feedback saw this step first, with the same clicks.
        expect(this.log.length).toBe(this.observed);
        expect(this.log[this.log.length - 1]).toEqual({ training: true, clicks: c });
      }
    }
    const agent = new Recorder({}, info, 1);
    const env = makeVec('retention-v0', SHORT['retention-v0'], { numEnvs: 3 });
    let clicks = 0;
    trainAgent(agent, env, { steps: 40, seed: 2, onStep: (t) => t.clicked.forEach((c) => (clicks += c >= 0 ? 1 : 0)) });
    expect(agent.observed).toBe(40);
    expect(agent.log.reduce((a, e) => a + e.clicks, 0)).toBe(clicks);
    agent.log = [];
    const ev = evaluateAgent('retention-v0', SHORT['retention-v0'], agent, { users: 5, seed: 3, batch: 2 });
    expect(agent.log.every((e) => !e.training)).toBe(true);
    const evClicks = Array.from(ev.clicks).reduce((a, b) => a + b, 0);
    expect(evClicks).toBeGreaterThan(0);
    expect(agent.log.reduce((a, e) => a + e.clicks, 0)).toBe(evClicks);
  });

  it('linear-rank: a fixed linear score of named candidate columns, checked before it runs', async () => {
    const envParams = SHORT['retention-v0'];
    const make = (terms: unknown, envId = 'retention-v0') => makeAgent('linear-rank', { terms }, { envId, envParams: SHORT[envId], seed: 0 });
    // One term with weight 1 is quality-estimate; a positive affine change of the score changes no slate.
    const ev = async (a: Promise<Agent>) => Array.from(evaluateAgent('retention-v0', envParams, await a, { users: 8, seed: 4 }).return);
    const qe = await ev(makeAgent('quality-estimate', {}, { envId: 'retention-v0', envParams, seed: 0 }));
    expect(await ev(make([{ feature: 'qualityEstimate', weight: 1 }]))).toEqual(qe);
    expect(await ev(make([{ feature: 'qualityEstimate', weight: 3 }, { feature: 'topic', column: 2, weight: 0 }]))).toEqual(qe);
    // The score itself: topic column 1 (one-hot) with weight 5 puts every topic-1 candidate first.
    const agent = await make([{ feature: 'topic', column: 1, weight: 5 }, { feature: 'length', weight: 0.1, transform: 'log' }]);
    const env = makeVec('retention-v0', envParams, { numEnvs: 3 });
    const r0 = env.reset({ seed: 9 });
    const { N, F, K } = env.layout;
    const slates = agent.act({ ...r0.observation, B: 3, active: Uint8Array.of(1, 1, 1), userIndex: Float64Array.from(r0.userIndex), firstStep: Uint8Array.of(1, 1, 1) }, agent.context(false));
    const c = r0.observation.candidates;
    for (let s = 0; s < 3; s++) {
      const score = (i: number) => 5 * c[(s * N + i) * F + 1]! + 0.1 * Math.log(c[(s * N + i) * F + 12]!);
      const want = Array.from({ length: N }, (_, i) => i).sort((a, b) => score(b) - score(a)).slice(0, K);
      expect(Array.from(slates.subarray(s * K, (s + 1) * K))).toEqual(want);
    }
    await expect(make([])).rejects.toThrow(/param "terms".*is not a list of 1 to 32 terms/);
    await expect(make([{ feature: 'length', weight: 1, scale: 2 }])).rejects.toThrow(/term 0 has an unknown key "scale" \(allowed: feature, column, weight, transform\)/);
    await expect(make([{ feature: 'length', weight: Number.NaN }])).rejects.toThrow(/term 0: weight is not a finite number/);
    await expect(make([{ feature: 'length', weight: 1 }, { feature: 'length', weight: 1, transform: 'sqrt' }])).rejects.toThrow(/term 1: transform is not "identity" or "log"/);
    await expect(make([{ feature: 'qualityEstimate', weight: 1 }], 'retention-v1')).rejects.toThrow(/agent linear-rank cannot run on retention-v1: term 0: the env has no candidate feature "qualityEstimate" \(it has topic, embedding, length\)/);
    await expect(make([{ feature: 'length', column: 1, weight: 1 }])).rejects.toThrow(/term 0: column 1 is outside the 1 column\(s\) of candidate feature "length" \(allowed 0..0\)/);
    const logTopic = await make([{ feature: 'topic', weight: 1, transform: 'log' }]);
    expect(() => evaluateAgent('retention-v0', envParams, logTopic, { users: 2, seed: 4 })).toThrow(/linear-rank: term 0 takes the log of "topic", which is 0 for candidate \d+ of slot \d+; log needs values > 0/);
  });

  it('a single user is a batch of one', async () => {
    const agent = await makeAgent('ucb1', {}, { envId: 'retention-v0', seed: 0 });
    const res = trainAgent(agent, makeVec('retention-v0', { horizonDays: 3 }, { numEnvs: 1 }), { steps: 200, seed: 1 });
    expect(res.episodes.length).toBeGreaterThan(0);
  });
});
