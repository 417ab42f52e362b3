/**
 * Neural-network plumbing on TensorFlow.js for the deep agents: orthogonal initialization (Saxe et al. 2014;
 * CleanRL's layer_init: hidden gain sqrt(2), policy head 0.01, value head 1, zero biases), an Adam optimizer
 * with PyTorch's update rule and an explicit epsilon (tfjs's default epsilon is 1e-7; CleanRL's PPO passes
 * 1e-5) whose state can be saved synchronously, a settable learning rate (tfjs has no scheduler), and
 * global-norm gradient clipping (tfjs has none).
 */
import { EgymError, InvalidArgument, NonFiniteValue } from '../envs/errors.js';
import { dense, tf } from './backend.js';
import { normal, type Rng } from '../envs/rng.js';

/** A rows x cols matrix with orthonormal columns (or rows), scaled by gain; from the given stream. */
export function orthogonal(rng: Rng, rows: number, cols: number, gain: number): Float32Array {
  const n = Math.max(rows, cols);
  const m = Math.min(rows, cols);
  // m orthonormal vectors of length n by modified Gram-Schmidt on Gaussian vectors.
  const q: Float64Array[] = [];
  for (let k = 0; k < m; k++) {
    const v = new Float64Array(n);
    for (;;) {
      for (let i = 0; i < n; i++) v[i] = normal(rng);
      for (const u of q) {
        let d = 0;
        for (let i = 0; i < n; i++) d += u[i]! * v[i]!;
        for (let i = 0; i < n; i++) v[i]! -= d * u[i]!;
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += v[i]! * v[i]!;
      norm = Math.sqrt(norm);
      if (norm > 1e-6) {
        for (let i = 0; i < n; i++) v[i]! /= norm;
        break;
      }
    }
    q.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (rows >= cols ? q[c]![r]! : q[r]![c]!);
  }
  return out;
}

let counter = 0;

/** A named set of trainable variables. */
export class ParamSet {
  readonly vars: tf.Variable[] = [];
  readonly names: string[] = [];
  add(name: string, shape: number[], values: Float32Array | null): tf.Variable {
    const size = shape.reduce((a, b) => a * b, 1);
    const v = tf.variable(tf.tensor(values ?? new Float32Array(size), shape), true, `egym_nn_${name}_${counter++}`);
    this.vars.push(v);
    this.names.push(name);
    return v;
  }
  get(name: string): tf.Variable {
    const i = this.names.indexOf(name);
    if (i < 0) throw new InvalidArgument(`no parameter ${name}`);
    return this.vars[i]!;
  }
  getWeights(): number[][] {
    return this.vars.map((v) => Array.from(v.dataSync() as Float32Array));
  }
  setWeights(ws: number[][]): void {
    if (ws.length !== this.vars.length) throw new EgymError('AGENT_BAD_CHECKPOINT', `setWeights: expected ${this.vars.length} arrays, got ${ws.length}`);
    this.vars.forEach((v, i) => {
      if (ws[i]!.length !== v.size) throw new EgymError('AGENT_BAD_CHECKPOINT', `setWeights: parameter ${this.names[i]} has ${v.size} values, got ${ws[i]!.length}`);
      tf.tidy(() => v.assign(tf.tensor(Float32Array.from(ws[i]!), v.shape)));
    });
  }
  /** Copy the values of another set with the same layout (target networks). */
  copyFrom(other: ParamSet): void {
    this.vars.forEach((v, i) => v.assign(other.vars[i]!));
  }
  dispose(): void {
    for (const v of this.vars) v.dispose();
  }
}

/** An MLP: hidden layers with ReLU and orthogonal init, a linear output layer with its own gain. */
export class Mlp {
  readonly params = new ParamSet();
  constructor(
    readonly sizes: readonly number[],
    outGain: number,
    rng: Rng,
    readonly prefix: string,
  ) {
    for (let l = 0; l + 1 < sizes.length; l++) {
      const last = l + 2 === sizes.length;
      this.params.add(`${prefix}W${l}`, [sizes[l]!, sizes[l + 1]!], orthogonal(rng, sizes[l]!, sizes[l + 1]!, last ? outGain : Math.SQRT2));
      this.params.add(`${prefix}b${l}`, [sizes[l + 1]!], null);
    }
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = x;
    const L = this.sizes.length - 1;
    for (let l = 0; l < L; l++) {
      h = dense(h, this.params.vars[2 * l]!, this.params.vars[2 * l + 1]!);
      if (l + 1 < L) h = tf.relu(h);
    }
    return h;
  }
}

/** Adam with PyTorch's update (denominator sqrt(v_hat) + eps) and synchronously savable state. */
export class Adam {
  private m: tf.Variable[];
  private v: tf.Variable[];
  t = 0;
  constructor(
    private readonly vars: tf.Variable[],
    public lr: number,
    readonly eps = 1e-5,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
  ) {
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
  }
  /** Apply gradients (same order as vars). */
  apply(grads: tf.Tensor[]): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      grads.forEach((g, i) => {
        const m = tf.add(tf.mul(this.m[i]!, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i]!, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const step = tf.div(tf.mul(m, this.lr / bc1), tf.add(tf.sqrt(tf.div(v, bc2)), this.eps));
        this.vars[i]!.assign(tf.sub(this.vars[i]!, step));
      });
    });
  }
  state(): { t: number; lr: number; m: number[][]; v: number[][] } {
    return { t: this.t, lr: this.lr, m: this.m.map((x) => Array.from(x.dataSync() as Float32Array)), v: this.v.map((x) => Array.from(x.dataSync() as Float32Array)) };
  }
  load(s: { t: number; lr: number; m: number[][]; v: number[][] }): void {
    this.t = s.t;
    this.lr = s.lr;
    tf.tidy(() => {
      this.m.forEach((x, i) => x.assign(tf.tensor(Float32Array.from(s.m[i]!), x.shape)));
      this.v.forEach((x, i) => x.assign(tf.tensor(Float32Array.from(s.v[i]!), x.shape)));
    });
  }
  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}

/**
 * Scale gradients so that their global L2 norm is at most maxNorm (torch.nn.utils.clip_grad_norm_).
 * Returns the clipped gradients (new tensors; the inputs are disposed) and the norm before clipping. A NaN or
 * infinite norm throws NonFiniteValue before anything is applied.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: number } {
  const normT = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
  const norm = normT.dataSync()[0] as number;
  normT.dispose();
  if (!Number.isFinite(norm)) {
    for (const g of grads) g.dispose();
    throw new NonFiniteValue(`a learning update produced non-finite gradients (global norm ${norm}); the update was not applied and the weights are unchanged`);
  }
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  const out = grads.map((g) => tf.mul(g, scale));
  for (const g of grads) g.dispose();
  return { grads: out, norm };
}

/** Running mean and variance (Welford / parallel update), for observation normalization. */
export class RunningNorm {
  mean: Float64Array;
  varr: Float64Array;
  count = 1e-4;
  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.varr = new Float64Array(dim).fill(1);
  }
  /** Update with n rows of data (row-major n x dim). */
  update(x: ArrayLike<number>, n: number): void {
    if (n === 0) return;
    const d = this.dim;
    const bm = new Float64Array(d);
    const bv = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) bm[j]! += x[i * d + j]!;
    for (let j = 0; j < d; j++) bm[j]! /= n;
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) bv[j]! += (x[i * d + j]! - bm[j]!) ** 2;
    for (let j = 0; j < d; j++) bv[j]! /= n;
    const tot = this.count + n;
    for (let j = 0; j < d; j++) {
      const delta = bm[j]! - this.mean[j]!;
      const m2 = this.varr[j]! * this.count + bv[j]! * n + (delta * delta * this.count * n) / tot;
      this.mean[j] = this.mean[j]! + (delta * n) / tot;
      this.varr[j] = m2 / tot;
    }
    this.count = tot;
  }
  /** Normalize n rows into out, clipped to [-10, 10]. */
  apply(x: ArrayLike<number>, n: number, out: Float32Array): Float32Array {
    const d = this.dim;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const z = (x[i * d + j]! - this.mean[j]!) / Math.sqrt(this.varr[j]! + 1e-8);
        out[i * d + j] = z > 10 ? 10 : z < -10 ? -10 : z;
      }
    }
    return out;
  }
  state(): { mean: number[]; varr: number[]; count: number } {
    return { mean: Array.from(this.mean), varr: Array.from(this.varr), count: this.count };
  }
  load(s: { mean: number[]; varr: number[]; count: number }): void {
    this.mean = Float64Array.from(s.mean);
    this.varr = Float64Array.from(s.varr);
    this.count = s.count;
  }
}
