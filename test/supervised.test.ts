import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../policies/backend.js';
import { auc, logLoss, rmse } from '../agents/supervised/metrics.js';
import { logImpressions } from '../agents/supervised/logging.js';
import { dedupe, FeatureBuilder, ItemStats, Normalizer, splitByUser, subset } from '../agents/supervised/preprocess.js';
import { PredictionModel, trainModel, evalLoss } from '../agents/supervised/models.js';
import { dataOf, runPipeline } from '../agents/supervised/pipeline.js';
import { agentEnvInfo, makeAgent } from '../agents/index.js';
import { SupervisedAgent } from '../agents/supervised/agent.js';
import { trainAgent } from '../agents/loop.js';
import { makeVec } from '../envs/registry.js';
import { statefulStream } from '../envs/rng.js';
import { evaluateAgent } from '../experiments/evaluate.js';
import { meanCi } from './helpers.js';

await initBackend('auto');
const layout = agentEnvInfo('retention-v0').layout;
const small = logImpressions('retention-v0', {}, null, { users: 60, seed: 3, epsilon: 1, behaviourSeed: 1 });

describe('metrics', () => {
  it('AUC counts ties as one half and matches a hand count', () => {
    expect(auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(auc([0.2, 0.2, 0.9], [0, 1, 1])).toBe(0.75);
    expect(auc([1, 2], [1, 1])).toBeNaN();
  });
  it('log-loss and RMSE', () => {
    expect(logLoss([0.5, 0.5], [0, 1])).toBeCloseTo(Math.log(2), 12);
    expect(rmse([1, 2, 3], [1, 2, 5])).toBeCloseTo(Math.sqrt(4 / 3), 12);
  });
});

describe('pipeline steps', () => {
  it('logging records every shown item with labels and random-policy propensities K / N', () => {
    expect(small.n % 5).toBe(0);
    for (let i = 0; i < small.n; i++) expect(small.propensity[i]).toBeCloseTo(5 / 20, 6);
    let clicks = 0;
    for (let i = 0; i < small.n; i++) {
      clicks += small.click[i]!;
      if (small.click[i] === 0) expect(small.watch[i]).toBe(0);
      expect(small.trueClick[i]).toBeGreaterThan(0);
      expect(small.trueClick[i]).toBeLessThan(1);
    }
    expect(clicks).toBeGreaterThan(0);
    // At most one click per step (user, step).
    const perStep = new Map<string, number>();
    for (let i = 0; i < small.n; i++) perStep.set(`${small.userIndex[i]}|${small.step[i]}`, (perStep.get(`${small.userIndex[i]}|${small.step[i]}`) ?? 0) + small.click[i]!);
    expect(Math.max(...perStep.values())).toBeLessThanOrEqual(1);
  });

  it('item statistics: smoothed click rate, watch per click and log impressions, leave-one-out on the fitted split', () => {
    // Items 0 and 1: item 0 shown 3 times (clicks 1, watch 4), item 1 once (no click).
    const log = subset(small, [0, 1, 2, 3]);
    log.itemId.set([0, 0, 0, 1]);
    log.click.set([1, 0, 0, 0]);
    log.watch.set([4, 0, 0, 0]);
    const st = ItemStats.fit(log, 3);
    expect(st.meanCtr).toBe(0.25);
    expect(st.meanWatch).toBe(4);
    const out = new Float32Array(3);
    st.write(0, out, 0);
    expect(out[0]).toBeCloseTo((1 + 20 * 0.25) / (3 + 20), 6);
    expect(out[1]).toBeCloseTo((4 + 5 * 4) / (1 + 5), 6);
    expect(out[2]).toBeCloseTo(Math.log1p(3), 6);
    // Leave-one-out: the clicked impression of item 0 removed.
    st.write(0, out, 0, { click: 1, watch: 4 });
    expect(out[0]).toBeCloseTo((0 + 5) / (2 + 20), 6);
    expect(out[1]).toBeCloseTo(20 / 5, 6);
    // An item never seen gets the priors.
    st.write(2, out, 0);
    expect(out[0]).toBeCloseTo(0.25, 6);
    expect(out[2]).toBe(0);
    const fb = new FeatureBuilder(agentEnvInfo('retention-v1').layout, st);
    expect(fb.dim).toBe(new FeatureBuilder(agentEnvInfo('retention-v1').layout).dim + 3);
  });

  it('dedupe drops repeated impressions', () => {
    const doubled = subset(small, [...Array.from({ length: small.n }, (_, i) => i), 0, 1, 2]);
    expect(doubled.n).toBe(small.n + 3);
    expect(dedupe(doubled).n).toBe(small.n);
  });

  it('the split is by user: no user in two splits, and about the asked fractions', () => {
    const s = splitByUser(small, { train: 0.6, val: 0.2 }, 9);
    const users = (l: typeof small) => new Set(Array.from(l.userIndex));
    const [a, b, c] = [users(s.train), users(s.val), users(s.test)];
    for (const u of a) expect(b.has(u) || c.has(u)).toBe(false);
    for (const u of b) expect(c.has(u)).toBe(false);
    expect(a.size + b.size + c.size).toBe(60);
    expect(s.train.n + s.val.n + s.test.n).toBe(small.n);
  });

  it('normalization statistics come from the training split only', () => {
    const fb = new FeatureBuilder(layout);
    const s = splitByUser(small, { train: 0.6, val: 0.2 }, 9);
    const trainX = fb.matrix(s.train);
    const norm = Normalizer.fit(trainX, fb.dim);
    const z = norm.apply(trainX, fb.dim);
    for (let j = 0; j < fb.dim; j++) {
      let m = 0;
      for (let i = 0; i < s.train.n; i++) m += z[i * fb.dim + j]!;
      expect(Math.abs(m / s.train.n)).toBeLessThan(1e-3);
    }
    const allNorm = Normalizer.fit(fb.matrix(small), fb.dim);
    expect(Array.from(allNorm.mean)).not.toEqual(Array.from(norm.mean));
  });

  it('features include the topic crosses from the history and the lifetime profile', () => {
    const fb = new FeatureBuilder(layout);
    expect(fb.dim).toBe(layout.F + 4 + 3 * 10 + 3 + 3 + 1);
    expect(fb.seqLen).toBe(5);
    expect(fb.seqDim).toBe(12);
  });
});

describe('models on TensorFlow.js', () => {
  const fb = new FeatureBuilder(layout);
  const s = splitByUser(small, { train: 0.7, val: 0.15 }, 2);
  const norm = Normalizer.fit(fb.matrix(s.train), fb.dim);
  const cfg = { inputDim: fb.dim, hidden: 64, seqLen: fb.seqLen, seqDim: fb.seqDim, gruUnits: 16, head: 'sigmoid' as const };

  it('a training step leaks no tensors (MLP and GRU), and prediction leaks none', () => {
    for (const kind of ['mlp', 'gru'] as const) {
      const m = new PredictionModel({ ...cfg, kind }, statefulStream('leak'));
      const before = tf.memory().numTensors;
      trainModel(m, { ...dataOf(s.train, fb, norm, 'click'), n: 256 }, dataOf(s.val, fb, norm, 'click'), { epochs: 1, batchSize: 128, lr: 1e-3, patience: 1, loss: 'bce', rng: statefulStream('x') });
      expect(tf.memory().numTensors).toBe(before);
      const d = dataOf(s.test, fb, norm, 'click');
      m.predict(d.x, d.n, d.seq);
      expect(tf.memory().numTensors).toBe(before);
      m.dispose();
    }
  });

  it('a non-finite training feature is refused before any update (NonFiniteValue naming it), the weights untouched', () => {
    const m = new PredictionModel({ ...cfg, kind: 'logistic' }, statefulStream('nf'));
    const tr = dataOf(s.train, fb, norm, 'click');
    const x = Float32Array.from(tr.x.subarray(0, 64 * fb.dim));
    x[5] = NaN;
    const before = JSON.stringify(m.getWeights());
    expect(() => trainModel(m, { x, y: tr.y.subarray(0, 64), n: 64 }, dataOf(s.val, fb, norm, 'click'), { epochs: 1, batchSize: 32, lr: 1e-3, patience: 1, loss: 'bce', rng: statefulStream('nf2') })).toThrow(
      /trainModel: training features\[5\] is NaN/,
    );
    expect(JSON.stringify(m.getWeights())).toBe(before);
    m.dispose();
  });

  it('early stopping restores the best weights', () => {
    const m = new PredictionModel({ ...cfg, kind: 'mlp', hidden: 256 }, statefulStream('es'));
    const tr = dataOf(s.train, fb, norm, 'click');
    const tiny = { x: tr.x.subarray(0, 300 * fb.dim), y: tr.y.subarray(0, 300), n: 300 };
    const val = dataOf(s.val, fb, norm, 'click');
    const rep = trainModel(m, tiny, val, { epochs: 60, batchSize: 32, lr: 1e-2, patience: 4, loss: 'bce', rng: statefulStream('es2') });
    // It overfits: the last epochs are worse than the best, and stopping came early.
    expect(rep.bestEpoch).toBeLessThan(rep.epochs - 1);
    expect(rep.history[rep.history.length - 1]!.valLoss).toBeGreaterThan(rep.bestValLoss);
    // The weights in the model are the best epoch's.
    expect(evalLoss(m, val, 'bce')).toBeCloseTo(rep.bestValLoss, 5);
    m.dispose();
  });

  it('training is deterministic for a seed', () => {
    const run = () => {
      const m = new PredictionModel({ ...cfg, kind: 'logistic' }, statefulStream('det'));
      trainModel(m, dataOf(s.train, fb, norm, 'click'), dataOf(s.val, fb, norm, 'click'), { epochs: 2, batchSize: 128, lr: 1e-3, patience: 2, loss: 'bce', rng: statefulStream('d2') });
      const w = m.getWeights();
      m.dispose();
      return w.map((a) => Array.from(a));
    };
    expect(run()).toEqual(run());
  });
});

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
