/**
 * The supervised (myopic) baseline pipeline, end to end: log -> preprocess -> features -> models -> metrics.
 * Each step is its own function (logging.ts, preprocess.ts, models.ts, metrics.ts); `runPipeline` chains them
 * and reports test AUC and log-loss of the click model next to the Bayes-optimal AUC on the same test
 * impressions (the env's true click probabilities), and the RMSE of the watch-time model.
 */
import { reportSetupFit } from '../setup-progress.js';
import type { Agent } from '../api.js';
import type { Layout } from '../../envs/core.js';
import { agentEnvInfo } from '../registry.js';
import { statefulStream } from '../../envs/rng.js';
import { auc, logLoss, rmse } from './metrics.js';
import { type ImpressionLog, logImpressions } from './logging.js';
import { dedupe, FeatureBuilder, ItemStats, Normalizer, splitByUser, subset } from './preprocess.js';
import { type ModelKind, PredictionModel, type TrainData, trainModel, type TrainReport } from './models.js';
import { EgymError } from '../../envs/errors.js';

export interface PipelineOptions {
  envId: string;
  envParams?: Record<string, unknown>;
  /** Users to log and their population seed. */
  users: number;
  seed: number;
  /** Behaviour: a given agent mixed with epsilon uniform slates, or uniform random logging (null). */
  behaviour: Agent | null;
  epsilon: number;
  model: ModelKind;
  /** Train a watch-time model too (for pCTR x E[watch | click] ranking). */
  watchModel: boolean;
  hidden: number;
  gruUnits: number;
  epochs: number;
  batchSize: number;
  lr: number;
  patience: number;
  fractions: { train: number; val: number };
  /** Seed of splits, initialization and shuffling. */
  trainSeed: number;
  /** Add per-item statistics fitted on the training split (catalogue envs). */
  itemStats?: boolean;
}

export interface PipelineReport {
  impressions: number;
  trainImpressions: number;
  valImpressions: number;
  testImpressions: number;
  clickRate: number;
  testAuc: number;
  testLogLoss: number;
  /** AUC of the true click probabilities on the same test impressions (null without a choice model). */
  bayesAuc: number | null;
  watchRmse: number | null;
  /**
   * The no-click weight of slate-aware serving, in units of predicted click odds, estimated on the test split:
   * under a multinomial logit, P(no click) / P(click) = s_0 / sum_j s_j, and the predicted odds p_j / (1 - p_j)
   * of an impression in a logged slate approximate s_j / (s_0 + sum_{k != j} s_k), so
   * s_0' = (slates without a click / slates with one) x mean over slates of sum_j odds_j.
   */
  noClickOdds: number;
  click: TrainReport;
  watch: TrainReport | null;
}

export interface Pipeline {
  features: FeatureBuilder;
  normalizer: Normalizer;
  click: PredictionModel;
  watch: PredictionModel | null;
  report: PipelineReport;
}

/** Raised when a split has no impressions (too few users logged). */
export class EmptySplit extends EgymError {
  constructor(message: string) {
    super('EMPTY_SPLIT', message);
    this.name = 'EmptySplit';
  }
}

/** Features (normalized) and labels of a log. */
export function dataOf(log: ImpressionLog, fb: FeatureBuilder, norm: Normalizer, label: 'click' | 'watch', leaveOneOut = false): TrainData {
  const x = norm.apply(fb.matrix(log, leaveOneOut), fb.dim);
  const d: TrainData = { x, y: label === 'click' ? log.click : log.watch, n: log.n };
  if (fb.seqLen > 0) d.seq = fb.sequences(log);
  return d;
}

/** Rows with a click (the watch-time model is E[watch | click]). */
function clicked(log: ImpressionLog): ImpressionLog {
  const rows: number[] = [];
  for (let i = 0; i < log.n; i++) if (log.click[i]! > 0.5) rows.push(i);
  return subset(log, rows);
}

/** Fit models on an already logged dataset (preprocess, features, training, metrics). */
export function fitPipeline(raw: ImpressionLog, layout: Layout, opts: PipelineOptions, previous?: Pipeline): Pipeline {
  const log = dedupe(raw);
  const rng = statefulStream(`egym|pipeline|${opts.trainSeed}`);
  const { train, val, test } = splitByUser(log, opts.fractions, opts.trainSeed);
  if (train.n === 0) throw new EmptySplit(`the training split is empty (${log.n} impressions from ${new Set(log.userIndex).size} users); log more users`);
  if (opts.itemStats && layout.itemCount === null) throw new EgymError('AGENT_INCOMPATIBLE_ENV', 'itemStats needs an env with catalogue item ids');
  const fb = new FeatureBuilder(layout, opts.itemStats ? ItemStats.fit(train, layout.itemCount!) : null);
  const norm = Normalizer.fit(fb.matrix(train, true), fb.dim);
  const cfg = { kind: opts.model, inputDim: fb.dim, hidden: opts.hidden, seqLen: fb.seqLen, seqDim: fb.seqDim, gruUnits: opts.gruUnits };
  const click = previous?.click ?? new PredictionModel({ ...cfg, head: 'sigmoid' }, rng);
  const trainOpts = { epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, patience: opts.patience, rng };
  // Progress of the fitting (agents/setup-progress.ts): each model's share in proportion to its training rows, an
  // epoch at a time, the rest of it when early stopping ends it.
  const watchRows = opts.watchModel ? clicked(train).n : 0;
  const fitShare = (rows: number) => rows / (train.n + watchRows);
  const fitting = (rows: number) => {
    let reported = 0;
    const perEpoch = fitShare(rows) / opts.epochs;
    return {
      onEpoch: () => {
        reported += perEpoch;
        reportSetupFit(perEpoch);
      },
      done: () => reportSetupFit(fitShare(rows) - reported),
    };
  };
  const clickFit = fitting(train.n);
  const clickReport = trainModel(click, dataOf(train, fb, norm, 'click', true), dataOf(val, fb, norm, 'click'), { ...trainOpts, loss: 'bce', onEpoch: clickFit.onEpoch });
  clickFit.done();
  const testData = dataOf(test, fb, norm, 'click');
  const p = click.predict(testData.x, testData.n, testData.seq);
  let watch: PredictionModel | null = null;
  let watchReport: TrainReport | null = null;
  let watchRmse: number | null = null;
  if (opts.watchModel) {
    watch = previous?.watch ?? new PredictionModel({ ...cfg, head: 'softplus' }, rng);
    const trW = clicked(train);
    const vaW = clicked(val);
    const teW = clicked(test);
    if (trW.n === 0) throw new EmptySplit('the training split has no clicks to fit the watch-time model on; log more users');
    const watchFit = fitting(trW.n);
    watchReport = trainModel(watch, dataOf(trW, fb, norm, 'watch', true), dataOf(vaW, fb, norm, 'watch'), { ...trainOpts, loss: 'mse', onEpoch: watchFit.onEpoch });
    watchFit.done();
    const td = dataOf(teW, fb, norm, 'watch');
    watchRmse = td.n > 0 ? rmse(watch.predict(td.x, td.n, td.seq), td.y) : NaN;
  }
  let clicks = 0;
  for (let i = 0; i < log.n; i++) clicks += log.click[i]!;
  const slates = new Map<string, { odds: number; click: number }>();
  for (let i = 0; i < test.n; i++) {
    const k = `${test.userIndex[i]}|${test.step[i]}`;
    const e = slates.get(k) ?? slates.set(k, { odds: 0, click: 0 }).get(k)!;
    const q = Math.min(1 - 1e-6, Math.max(1e-6, p[i]!));
    e.odds += q / (1 - q);
    e.click = Math.max(e.click, test.click[i]!);
  }
  let clickedSlates = 0;
  let oddsSum = 0;
  for (const e of slates.values()) (clickedSlates += e.click), (oddsSum += e.odds);
  const noClickOdds = clickedSlates > 0 && slates.size > 0 ? ((slates.size - clickedSlates) / clickedSlates) * (oddsSum / slates.size) : 1;
  const report: PipelineReport = {
    impressions: log.n,
    trainImpressions: train.n,
    valImpressions: val.n,
    testImpressions: test.n,
    clickRate: clicks / Math.max(1, log.n),
    testAuc: auc(p, test.click),
    testLogLoss: logLoss(p, test.click),
    bayesAuc: Number.isNaN(test.trueClick[0]) ? null : auc(test.trueClick, test.click),
    watchRmse,
    noClickOdds,
    click: clickReport,
    watch: watchReport,
  };
  return { features: fb, normalizer: norm, click, watch, report };
}

/** Log with the behaviour policy, then fit (steps 1-4). */
export function runPipeline(opts: PipelineOptions): Pipeline {
  const log = logImpressions(opts.envId, opts.envParams, opts.behaviour, {
    users: opts.users,
    seed: opts.seed,
    epsilon: opts.behaviour ? opts.epsilon : 1,
    behaviourSeed: opts.trainSeed,
  });
  return fitPipeline(log, agentEnvInfo(opts.envId, opts.envParams).layout, opts);
}
