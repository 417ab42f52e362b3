import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../policies/backend.js';
import { auc, logLoss, rmse } from '../../agents/supervised/metrics.js';
import { logImpressions } from '../../agents/supervised/logging.js';
import { dedupe, FeatureBuilder, ItemStats, Normalizer, splitByUser, subset } from '../../agents/supervised/preprocess.js';
import { PredictionModel, trainModel, evalLoss } from '../../agents/supervised/models.js';
import { dataOf } from '../../agents/supervised/pipeline.js';
import { agentEnvInfo } from '../../agents/index.js';
import { statefulStream } from '../../envs/rng.js';

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
