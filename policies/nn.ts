/**
 * Neural-network plumbing on TensorFlow.js for the deep agents: orthogonal initialization (Saxe et al. 2014;
 * CleanRL's layer_init: hidden gain sqrt(2), policy head 0.01, value head 1, zero biases), an Adam optimizer
 * with PyTorch's update rule and an explicit epsilon (tfjs's default epsilon is 1e-7; CleanRL's PPO passes
 * 1e-5) whose state can be saved synchronously, a settable learning rate (tfjs has no scheduler), and
 * global-norm gradient clipping (tfjs has none).
 */
import { EgymError, InvalidArgument, NonFiniteValue } from '../envs/errors.js';
import { dense, relu, tf } from './backend.js';
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
      if (l + 1 < L) h = relu(h);
    }
    return h;
  }
}

/**
 * Adam with PyTorch's update (denominator sqrt(v_hat) + eps) and synchronously savable state.
 *
 * The update runs in JS over each parameter's values, one pass per parameter, instead of about fifteen
 * TensorFlow.js operations per parameter (each with its own kernel call and tensors): PPO and SlateQ make a
 * minibatch step for every few hundred user-steps, and those calls were a visible share of a learning step
 * (issue 9, item 4). Every operation is the one the tensor version ran, in the same order, rounded to float32
 * as the backend's float32 kernels round it (products, sums, quotients and square roots of float32 values computed
 * in double and rounded once are exactly the float32 results, since double carries more than twice float32's
 * precision), with the scalars as float32 as TensorFlow.js makes them; so the weights are the same to the bit
 * as the tensor version's on the cpu and wasm backends (tested, and the flagship's quick summary is unchanged). On
 * a GPU backend, whose kernels may round otherwise, the update is now the one cpu and wasm compute.
 */
export class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  t = 0;
  /** Per-variable multipliers of lr (default 1 each: one learning rate for all). */
  private readonly lrScale: readonly number[];
  constructor(
    private readonly vars: tf.Variable[],
    public lr: number,
    readonly eps = 1e-5,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    lrScale?: readonly number[],
  ) {
    this.m = vars.map((x) => new Float32Array(x.size));
    this.v = vars.map((x) => new Float32Array(x.size));
    if (lrScale && (lrScale.length !== vars.length || lrScale.some((x) => !(x > 0 && Number.isFinite(x))))) {
      throw new InvalidArgument(`Adam: lrScale needs one positive finite multiplier per variable (${vars.length}), got [${lrScale.join(', ')}]`);
    }
    this.lrScale = lrScale ?? vars.map(() => 1);
  }
  /**
   * Apply gradients (same order as vars), each first multiplied by `scale` (as float32; the global-norm clip's
   * factor, see clipScale). The gradients are read, not disposed.
   */
  apply(grads: tf.Tensor[], scale = 1): void {
    if (grads.length !== this.vars.length) throw new InvalidArgument(`Adam.apply: ${grads.length} gradients for ${this.vars.length} parameters`);
    grads.forEach((g, i) => {
      if (g.size !== this.vars[i]!.size) throw new InvalidArgument(`Adam.apply: gradient ${i} has ${g.size} values, its parameter ${this.vars[i]!.size}`);
    });
    this.t++;
    const f = Math.fround;
    const sc = f(scale);
    const b1 = f(this.beta1);
    const c1 = f(1 - this.beta1);
    const b2 = f(this.beta2);
    const c2 = f(1 - this.beta2);
    const bc2 = f(1 - this.beta2 ** this.t);
    const eps = f(this.eps);
    grads.forEach((gt, i) => {
      // lr x 1 is lr exactly, so a multiplier of 1 changes nothing.
      const lrc = f((this.lr * this.lrScale[i]!) / (1 - this.beta1 ** this.t));
      const x = this.vars[i]!;
      const g = gt.dataSync() as Float32Array;
      const w = Float32Array.from(x.dataSync() as Float32Array);
      const m = this.m[i]!;
      const v = this.v[i]!;
      for (let j = 0; j < w.length; j++) {
        const gj = f(g[j]! * sc);
        const mj = f(f(m[j]! * b1) + f(gj * c1));
        const vj = f(f(v[j]! * b2) + f(f(gj * gj) * c2));
        m[j] = mj;
        v[j] = vj;
        w[j] = w[j]! - f(f(mj * lrc) / f(f(Math.sqrt(f(vj / bc2))) + eps));
      }
      tf.tidy(() => x.assign(tf.tensor(w, x.shape, 'float32')));
    });
  }
  /**
   * Clip the gradients to a global L2 norm of maxNorm (torch.nn.utils.clip_grad_norm_: each multiplied by
   * min(1, maxNorm / (norm + 1e-6))), apply them, and dispose them; returns the norm before clipping. A NaN or
   * infinite norm throws NonFiniteValue before anything is applied (the gradients are disposed all the same).
   */
  applyClipped(grads: tf.Tensor[], maxNorm: number): number {
    try {
      const { scale, norm } = clipScale(grads, maxNorm);
      this.apply(grads, scale);
      return norm;
    } finally {
      for (const g of grads) g.dispose();
    }
  }
  state(): { t: number; lr: number; m: number[][]; v: number[][] } {
    return { t: this.t, lr: this.lr, m: this.m.map((x) => Array.from(x)), v: this.v.map((x) => Array.from(x)) };
  }
  load(s: { t: number; lr: number; m: number[][]; v: number[][] }): void {
    for (const [k, arrs] of [['m', s.m], ['v', s.v]] as const) {
      if (!Array.isArray(arrs) || arrs.length !== this.vars.length) throw new EgymError('AGENT_BAD_CHECKPOINT', `Adam state: expected ${this.vars.length} arrays in ${k}, got ${Array.isArray(arrs) ? arrs.length : typeof arrs}`);
      arrs.forEach((a, i) => {
        if (!Array.isArray(a) || a.length !== this.vars[i]!.size) throw new EgymError('AGENT_BAD_CHECKPOINT', `Adam state: ${k}[${i}] should hold ${this.vars[i]!.size} values`);
      });
    }
    this.t = s.t;
    this.lr = s.lr;
    s.m.forEach((a, i) => this.m[i]!.set(a));
    s.v.forEach((a, i) => this.v[i]!.set(a));
  }
  /** Nothing to free on the backend: the moments are plain arrays. */
  dispose(): void {}
}

/**
 * One plain gradient-descent step, x <- x - rate g in float32 (each product and difference rounded), for a variable
 * kept out of Adam (PPO's `wideSgdLr`): it moves with the mean of its gradients, where Adam moves about its rate in
 * the direction of their sign, however noisy. The gradient is read, not disposed.
 */
export function sgdStep(x: tf.Variable, g: tf.Tensor, rate: number): void {
  if (g.size !== x.size) throw new InvalidArgument(`sgdStep: gradient of ${g.size} values for a parameter of ${x.size}`);
  const f = Math.fround;
  const r = f(rate);
  const gv = g.dataSync() as Float32Array;
  const w = Float32Array.from(x.dataSync() as Float32Array);
  for (let j = 0; j < w.length; j++) w[j] = w[j]! - f(r * gv[j]!);
  tf.tidy(() => x.assign(tf.tensor(w, x.shape, 'float32')));
}

/**
 * The global L2 norm of the gradients and the factor that scales it to at most maxNorm
 * (torch.nn.utils.clip_grad_norm_), for Adam.apply. A NaN or infinite norm throws NonFiniteValue (the gradients
 * are left to the caller).
 */
export function clipScale(grads: tf.Tensor[], maxNorm: number): { scale: number; norm: number } {
  const normT = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
  const norm = normT.dataSync()[0] as number;
  normT.dispose();
  if (!Number.isFinite(norm)) throw new NonFiniteValue(`a learning update produced non-finite gradients (global norm ${norm}); the update was not applied and the weights are unchanged`);
  return { scale: Math.min(1, maxNorm / (norm + 1e-6)), norm };
}

/** Running mean and variance (Welford / parallel update), for observation normalization. */
export class RunningNorm {
  mean: Float64Array;
  varr: Float64Array;
  count = 1e-4;
  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.varr = new Float64Array(dim).fill(1);
    this.bm = new Float64Array(dim);
    this.bv = new Float64Array(dim);
    this.sd = new Float64Array(dim);
  }
  /** Per-column work arrays (batch mean and variance; the standard deviations in apply). */
  private readonly bm: Float64Array;
  private readonly bv: Float64Array;
  private readonly sd: Float64Array;
  /** Update with n rows of data (row-major n x dim). */
  update(x: ArrayLike<number>, n: number): void {
    if (n === 0) return;
    const d = this.dim;
    const bm = this.bm.fill(0);
    const bv = this.bv.fill(0);
    for (let i = 0, o = 0; i < n; i++, o += d) for (let j = 0; j < d; j++) bm[j]! += x[o + j]!;
    for (let j = 0; j < d; j++) bm[j]! /= n;
    for (let i = 0, o = 0; i < n; i++, o += d) for (let j = 0; j < d; j++) bv[j]! += (x[o + j]! - bm[j]!) ** 2;
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
    const mean = this.mean;
    const sd = this.sd;
    for (let j = 0; j < d; j++) sd[j] = Math.sqrt(this.varr[j]! + 1e-8);
    for (let i = 0, o = 0; i < n; i++, o += d) {
      for (let j = 0; j < d; j++) {
        const z = (x[o + j]! - mean[j]!) / sd[j]!;
        out[o + j] = z > 10 ? 10 : z < -10 ? -10 : z;
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
