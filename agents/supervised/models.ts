/**
 * Step 4 of the supervised pipeline: prediction models on TensorFlow.js, trained with Adam on minibatches
 * with early stopping on the validation loss (patience; the best weights are restored).
 *
 * - logistic: sigmoid(x w + b) (logistic regression; for watch time a linear or softplus head instead).
 * - mlp: Dense(hidden [128], ReLU) -> Dense(1) -> sigmoid (clicks) or softplus (watch time).
 * - gru: a GRU (Cho et al. 2014) over the last-k interactions, its final state concatenated with the
 *   impression features, then Dense(hidden, ReLU) -> Dense(1) -> head. The recurrent family used by
 *   session-based recommenders (GRU4Rec, Hidasi et al. 2016).
 * Dense layers use the custom-gradient `dense` and `denseData` of policies/backend.ts (fast on wasm). Weights are initialized
 * from the agent's seeded stream (Glorot uniform, zero biases), never from tfjs's unseeded random ops.
 */
import { dense, denseData, relu, tf } from '../../policies/backend.js';
import type { Rng } from '../../envs/rng.js';
import { EgymError, NonFiniteValue } from '../../envs/errors.js';

export type ModelKind = 'logistic' | 'mlp' | 'gru';
export type Head = 'sigmoid' | 'softplus' | 'linear';

export interface ModelConfig {
  kind: ModelKind;
  inputDim: number;
  hidden: number;
  head: Head;
  seqLen: number;
  seqDim: number;
  gruUnits: number;
}

function glorot(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const lim = Math.sqrt(6 / (fanIn + fanOut));
  const out = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng() - 1) * lim;
  return out;
}

let variableCounter = 0;

export class PredictionModel {
  readonly vars: tf.Variable[] = [];
  private readonly named = new Map<string, tf.Variable>();
  readonly cfg: ModelConfig;

  constructor(cfg: ModelConfig, rng: Rng) {
    // Only the sequence model reads sequences.
    this.cfg = cfg.kind === 'gru' ? { ...cfg } : { ...cfg, seqLen: 0, seqDim: 0 };
    const add = (name: string, shape: number[], init: Float32Array | null) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const v = tf.variable(tf.tensor(init ?? new Float32Array(size), shape), true, `egym_${name}_${variableCounter++}`);
      this.vars.push(v);
      this.named.set(name, v);
    };
    const { inputDim: D, hidden: H } = cfg;
    let headIn = D;
    if (cfg.kind === 'gru') {
      if (cfg.seqLen < 1) throw new EgymError('AGENT_INCOMPATIBLE_ENV', 'the gru model needs an interaction history (the env has none)');
      const G = cfg.gruUnits;
      add('gru_Wx', [cfg.seqDim, 3 * G], glorot(rng, cfg.seqDim, 3 * G));
      add('gru_Uh', [G, 3 * G], glorot(rng, G, 3 * G));
      add('gru_b', [3 * G], null);
      headIn = D + G;
    }
    if (cfg.kind === 'logistic') {
      add('out_W', [D, 1], glorot(rng, D, 1));
      add('out_b', [1], null);
    } else {
      add('h_W', [headIn, H], glorot(rng, headIn, H));
      add('h_b', [H], null);
      add('out_W', [H, 1], glorot(rng, H, 1));
      add('out_b', [1], null);
    }
  }

  private v(name: string): tf.Variable {
    return this.named.get(name)!;
  }

  /** Pre-activation outputs [n]. */
  logits(x: tf.Tensor2D, seq?: tf.Tensor3D): tf.Tensor1D {
    return tf.tidy(() => {
      let input: tf.Tensor2D = x;
      if (this.cfg.kind === 'gru') {
        const G = this.cfg.gruUnits;
        const n = x.shape[0];
        let h = tf.zeros([n, G]) as tf.Tensor2D;
        const zeroB = tf.zeros([3 * G]);
        for (let t = 0; t < this.cfg.seqLen; t++) {
          const xt = tf.reshape(tf.slice(seq!, [0, t, 0], [n, 1, this.cfg.seqDim]), [n, this.cfg.seqDim]) as tf.Tensor2D;
          const gx = dense(xt, this.v('gru_Wx'), this.v('gru_b'));
          const gh = dense(h, this.v('gru_Uh'), zeroB);
          const [xz, xr, xn] = tf.split(gx, 3, 1) as tf.Tensor2D[];
          const [hz, hr, hn] = tf.split(gh, 3, 1) as tf.Tensor2D[];
          const z = tf.sigmoid(tf.add(xz!, hz!));
          const r = tf.sigmoid(tf.add(xr!, hr!));
          const cand = tf.tanh(tf.add(xn!, tf.mul(r, hn!)));
          h = tf.add(tf.mul(tf.sub(1, z), cand), tf.mul(z, h)) as tf.Tensor2D;
        }
        input = tf.concat([x, h], 1) as tf.Tensor2D;
      }
      // Without a GRU the first layer's input is data: denseData skips its gradient (a product as large as the
      // layer's, thrown away). The weights' gradients are the same, bit for bit.
      const first = this.cfg.kind === 'gru' ? dense : denseData;
      let out: tf.Tensor2D;
      if (this.cfg.kind === 'logistic') out = first(input, this.v('out_W'), this.v('out_b'));
      else out = dense(relu(first(input, this.v('h_W'), this.v('h_b'))), this.v('out_W'), this.v('out_b'));
      return tf.reshape(out, [-1]) as tf.Tensor1D;
    });
  }

  /** Apply the head to logits. */
  activate(z: tf.Tensor): tf.Tensor {
    return this.cfg.head === 'sigmoid' ? tf.sigmoid(z) : this.cfg.head === 'softplus' ? tf.softplus(z) : z;
  }

  /** Predictions for n rows (chunked). */
  predict(x: Float32Array, n: number, seq?: Float32Array): Float32Array {
    const out = new Float32Array(n);
    const D = this.cfg.inputDim;
    const w = this.cfg.seqLen * this.cfg.seqDim;
    const chunk = 8192;
    for (let a = 0; a < n; a += chunk) {
      const m = Math.min(chunk, n - a);
      const res = tf.tidy(() => {
        const xt = tf.tensor2d(x.subarray(a * D, (a + m) * D), [m, D]);
        const st = this.cfg.kind === 'gru' ? tf.tensor3d(seq!.subarray(a * w, (a + m) * w), [m, this.cfg.seqLen, this.cfg.seqDim]) : undefined;
        return this.activate(this.logits(xt, st));
      });
      out.set(res.dataSync() as Float32Array, a);
      res.dispose();
    }
    return out;
  }

  getWeights(): Float32Array[] {
    return this.vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  }

  setWeights(ws: ArrayLike<number>[]): void {
    if (ws.length !== this.vars.length) throw new EgymError('AGENT_BAD_CHECKPOINT', `setWeights: expected ${this.vars.length} arrays, got ${ws.length}`);
    this.vars.forEach((v, i) => {
      if (ws[i]!.length !== v.size) throw new EgymError('AGENT_BAD_CHECKPOINT', `setWeights: array ${i} has ${ws[i]!.length} values, the variable has ${v.size}`);
      tf.tidy(() => v.assign(tf.tensor(Float32Array.from(ws[i]!), v.shape)));
    });
  }

  dispose(): void {
    for (const v of this.vars) v.dispose();
  }
}

export interface TrainData {
  x: Float32Array;
  seq?: Float32Array;
  y: Float32Array;
  n: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  patience: number;
  loss: 'bce' | 'mse';
  rng: Rng;
  /** After each epoch (progress reporting). */
  onEpoch?: (epoch: number) => void;
}

export interface TrainReport {
  epochs: number;
  bestEpoch: number;
  bestValLoss: number;
  history: { epoch: number; trainLoss: number; valLoss: number }[];
}

function lossOf(model: PredictionModel, loss: 'bce' | 'mse', x: tf.Tensor2D, y: tf.Tensor1D, seq?: tf.Tensor3D): tf.Scalar {
  const z = model.logits(x, seq);
  if (loss === 'bce') return tf.losses.sigmoidCrossEntropy(y, z) as tf.Scalar;
  return tf.mean(tf.square(tf.sub(model.activate(z), y))) as tf.Scalar;
}

/** Mean loss over a dataset (no gradients). */
export function evalLoss(model: PredictionModel, data: TrainData, loss: 'bce' | 'mse'): number {
  const D = model.cfg.inputDim;
  const w = model.cfg.seqLen * model.cfg.seqDim;
  let total = 0;
  const chunk = 8192;
  for (let a = 0; a < data.n; a += chunk) {
    const m = Math.min(chunk, data.n - a);
    const l = tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(a * D, (a + m) * D), [m, D]);
      const y = tf.tensor1d(data.y.subarray(a, a + m));
      const s = model.cfg.kind === 'gru' ? tf.tensor3d(data.seq!.subarray(a * w, (a + m) * w), [m, model.cfg.seqLen, model.cfg.seqDim]) : undefined;
      return lossOf(model, loss, x, y, s);
    });
    total += (l.dataSync()[0] as number) * m;
    l.dispose();
  }
  return total / Math.max(1, data.n);
}

/** Minibatch Adam with early stopping on the validation loss; restores the best weights. */
export function trainModel(model: PredictionModel, train: TrainData, val: TrainData, opts: TrainOptions): TrainReport {
  if (train.n === 0) throw new EgymError('EMPTY_SPLIT', 'trainModel: the training split is empty');
  for (const [what, arr] of [['features', train.x], ['labels', train.y]] as const) {
    for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i]!)) throw new NonFiniteValue(`trainModel: training ${what}[${i}] is ${arr[i]}; the model trains on finite numbers only`);
  }
  const D = model.cfg.inputDim;
  const w = model.cfg.seqLen * model.cfg.seqDim;
  const optimizer = tf.train.adam(opts.lr);
  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  const bx = new Float32Array(opts.batchSize * D);
  const by = new Float32Array(opts.batchSize);
  const bs = new Float32Array(opts.batchSize * Math.max(1, w));
  let best = Infinity;
  let bestEpoch = -1;
  let bestWeights = model.getWeights();
  const history: TrainReport['history'] = [];
  let since = 0;
  let epoch = 0;
  for (; epoch < opts.epochs; epoch++) {
    for (let i = train.n - 1; i > 0; i--) {
      const j = Math.floor(opts.rng() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    let sum = 0;
    for (let a = 0; a < train.n; a += opts.batchSize) {
      const m = Math.min(opts.batchSize, train.n - a);
      for (let k = 0; k < m; k++) {
        const r = order[a + k]!;
        bx.set(train.x.subarray(r * D, (r + 1) * D), k * D);
        by[k] = train.y[r]!;
        if (w > 0) bs.set(train.seq!.subarray(r * w, (r + 1) * w), k * w);
      }
      const l = tf.tidy(() => {
        const x = tf.tensor2d(bx.subarray(0, m * D), [m, D]);
        const y = tf.tensor1d(by.subarray(0, m));
        const s = w > 0 ? tf.tensor3d(bs.subarray(0, m * w), [m, model.cfg.seqLen, model.cfg.seqDim]) : undefined;
        return optimizer.minimize(() => lossOf(model, opts.loss, x, y, s), true, model.vars)!;
      });
      sum += (l.dataSync()[0] as number) * m;
      l.dispose();
    }
    if (!Number.isFinite(sum)) {
      model.setWeights(bestWeights);
      throw new NonFiniteValue(`trainModel: epoch ${epoch} produced a non-finite training loss (${sum}); the weights are restored to the best epoch (${bestEpoch}) and training stops`);
    }
    const valLoss = val.n > 0 ? evalLoss(model, val, opts.loss) : sum / train.n;
    history.push({ epoch, trainLoss: sum / train.n, valLoss });
    opts.onEpoch?.(epoch);
    if (valLoss < best - 1e-6) {
      best = valLoss;
      bestEpoch = epoch;
      bestWeights = model.getWeights();
      since = 0;
    } else if (++since >= opts.patience) {
      epoch++;
      break;
    }
  }
  model.setWeights(bestWeights);
  optimizer.dispose();
  return { epochs: epoch, bestEpoch, bestValLoss: best, history };
}
