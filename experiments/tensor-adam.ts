/**
 * Adam as TensorFlow.js operations, with the global-norm clip as a tensor multiply: what policies/nn.ts's Adam ran
 * before it became one JS pass per parameter. Kept as the reference the JS version is held to, bit for bit
 * (test/policies/slates-and-networks.test.ts), and timed against (experiments/probe-adam-exp.ts).
 */
import { tf } from '../policies/backend.js';

export class TensorAdam {
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];
  private t = 0;
  constructor(
    private readonly vars: tf.Variable[],
    public lr: number,
    private readonly eps: number,
  ) {
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
  }
  /** Clip to a global norm of maxNorm, apply, and dispose the gradients. */
  applyClipped(grads: tf.Tensor[], maxNorm: number): void {
    const normT = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
    const norm = normT.dataSync()[0]!;
    normT.dispose();
    const scale = Math.min(1, maxNorm / (norm + 1e-6));
    this.t++;
    const bc1 = 1 - 0.9 ** this.t;
    const bc2 = 1 - 0.999 ** this.t;
    tf.tidy(() => {
      grads.forEach((g0, i) => {
        const g = tf.mul(g0, scale);
        const m = tf.add(tf.mul(this.m[i]!, 0.9), tf.mul(g, 1 - 0.9));
        const v = tf.add(tf.mul(this.v[i]!, 0.999), tf.mul(tf.square(g), 1 - 0.999));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const step = tf.div(tf.mul(m, this.lr / bc1), tf.add(tf.sqrt(tf.div(v, bc2)), this.eps));
        this.vars[i]!.assign(tf.sub(this.vars[i]!, step));
      });
    });
    for (const g of grads) g.dispose();
  }
  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose();
  }
}
