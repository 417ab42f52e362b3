import { describe, expect, it } from 'vitest';
import { initBackend } from '../../policies/backend.js';
import { runPipeline } from '../../agents/supervised/pipeline.js';
import { makeAgent } from '../../agents/index.js';
import { SupervisedAgent } from '../../agents/supervised/agent.js';
import { trainAgent } from '../../agents/loop.js';
import { makeVec } from '../../envs/registry.js';
import { evaluateAgent } from '../../experiments/evaluate.js';
import { meanCi } from '../helpers.js';

await initBackend('auto');

describe('the supervised baseline on retention-v0', () => {
  it('MLP: test AUC at least 0.5 + 0.8 x (Bayes AUC - 0.5) on logged data (600 users)', () => {
    const p = runPipeline({
      envId: 'retention-v0',
      users: 600,
      seed: 5,
      behaviour: null,
      epsilon: 1,
      model: 'mlp',
      watchModel: true,
      hidden: 128,
      gruUnits: 32,
      epochs: 20,
      batchSize: 256,
      lr: 1e-3,
      patience: 3,
      fractions: { train: 0.7, val: 0.15 },
      trainSeed: 1,
    });
    const r = p.report;
    expect(r.bayesAuc).toBeGreaterThan(0.7);
    expect(r.testAuc).toBeGreaterThanOrEqual(0.5 + 0.8 * (r.bayesAuc! - 0.5));
    expect(r.testLogLoss).toBeLessThan(0.35);
    expect(r.watchRmse).toBeLessThan(1.5);
    p.click.dispose();
    p.watch?.dispose();
  });

  it('the GRU model trains and predicts clicks better than chance', () => {
    const p = runPipeline({
      envId: 'retention-v0',
      users: 120,
      seed: 6,
      behaviour: null,
      epsilon: 1,
      model: 'gru',
      watchModel: false,
      hidden: 32,
      gruUnits: 16,
      epochs: 3,
      batchSize: 256,
      lr: 3e-3,
      patience: 2,
      fractions: { train: 0.7, val: 0.15 },
      trainSeed: 1,
    });
    expect(p.report.testAuc).toBeGreaterThan(0.65);
    p.click.dispose();
  });

  it('the supervised agent ranks by predicted engagement, beats random on paired users, and checkpoints', async () => {
    const agent = (await makeAgent('supervised', { logUsers: 200, epochs: 5, batchSize: 256 }, { envId: 'retention-v0', seed: 1 })) as SupervisedAgent;
    expect(agent.backend.name).toBe('wasm');
    expect(agent.reports[0]!.testAuc).toBeGreaterThan(0.65);
    const rnd = await makeAgent('random', {}, { envId: 'retention-v0', seed: 1 });
    const a = evaluateAgent('retention-v0', {}, agent, { users: 300, seed: 42 });
    const b = evaluateAgent('retention-v0', {}, rnd, { users: 300, seed: 42 });
    expect(meanCi(Array.from(a.return, (v, i) => v - b.return[i]!)).lo).toBeGreaterThan(0);
    const copy = (await makeAgent('supervised', { logUsers: 10, epochs: 1, batchSize: 256 }, { envId: 'retention-v0', seed: 2 })) as SupervisedAgent;
    copy.load(JSON.parse(JSON.stringify({ ...agent.save(), agent: 'supervised' })));
    const c = evaluateAgent('retention-v0', {}, copy, { users: 40, seed: 43 });
    const d = evaluateAgent('retention-v0', {}, agent, { users: 40, seed: 43 });
    expect(Array.from(c.return)).toEqual(Array.from(d.return));
    agent.dispose();
    copy.dispose();
  });

  it('the adaptive variant retrains on the most recent window', async () => {
    const agent = (await makeAgent(
      'adaptive-supervised',
      { logUsers: 60, epochs: 2, batchSize: 256, retrainEvery: 2000, window: 5000, retrainEpochs: 2 },
      { envId: 'retention-v0', seed: 4 },
    )) as SupervisedAgent;
    const res = trainAgent(agent, makeVec('retention-v0', {}, { numEnvs: 64 }), { steps: 80, seed: 3 });
    expect(agent.reports.length).toBeGreaterThanOrEqual(3);
    expect(res.metrics.windowImpressions).toBeLessThanOrEqual(5000);
    // Every served impression of the window reaches the retraining (none lost to deduplication).
    const last = agent.reports[agent.reports.length - 1]!;
    expect(last.impressions).toBe(res.metrics.windowImpressions);
    agent.dispose();
  });

  it('on retention-v1, the slate-aware pipeline with item statistics reaches at least 80% of myopic-oracle on the same users', async () => {
    const env = 'retention-v1';
    const sup = (await makeAgent('supervised', { logUsers: 1500, epochs: 10, batchSize: 1024, lr: 0.003, serving: 'mnl', itemStats: true }, { envId: env, seed: 3 })) as SupervisedAgent;
    const orc = await makeAgent('myopic-oracle', {}, { envId: env, seed: 3 });
    const a = evaluateAgent(env, {}, sup, { users: 600, seed: 4242 });
    const b = evaluateAgent(env, {}, orc, { users: 600, seed: 4242 });
    const m = (x: Float64Array) => x.reduce((s, v) => s + v, 0) / x.length;
    expect(m(a.return)).toBeGreaterThanOrEqual(0.8 * m(b.return));
    sup.dispose();
  }, 300_000);

  it('incompatible settings fail at construction', async () => {
    await expect(makeAgent('supervised', { model: 'gru' }, { envId: 'long-term-satisfaction-v0', seed: 0 })).rejects.toThrow(
      /agent supervised cannot run on long-term-satisfaction-v0: the gru model needs an interaction history/,
    );
    await expect(makeAgent('supervised', { itemStats: true }, { envId: 'interest-evolution-v0', seed: 0 })).rejects.toThrow(/cannot run on interest-evolution-v0: itemStats needs catalogue item ids/);
    await expect(makeAgent('supervised', { backend: 'tensorflow' }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(/backend "tensorflow" is not available .* install @tensorflow\/tfjs-node/);
  });
});
