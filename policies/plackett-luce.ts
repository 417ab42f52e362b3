/**
 * Stochastic slates: Gumbel top-K sampling (sampling K items without replacement from softmax(s) is the top-K
 * of s + Gumbel noise; Kool, van Hoof and Welling, ICML 2019) with the agent's own seeded stream, and the
 * Plackett-Luce probability of the sampled ordered slate:
 *   log P(a_1, ..., a_K) = sum_k [ s_{a_k} - log sum_{j not in {a_1..a_{k-1}}} exp(s_j) ].
 * Invalid candidates (mask 0) get probability 0.
 */
import { tf } from './backend.js';
import type { Rng } from '../envs/rng.js';

const NEG = -1e9;

/** Sample an ordered slate of K from logits[base .. base + N) into out[o ..]; masked candidates are never drawn. */
export function gumbelTopK(logits: ArrayLike<number>, base: number, N: number, K: number, rng: Rng, out: Int32Array, o: number, work: Float64Array, mask?: ArrayLike<number>): void {
  for (let i = 0; i < N; i++) {
    const u = rng();
    const g = -Math.log(-Math.log(u > 0 ? u : 1e-300));
    work[i] = mask && !mask[base + i] ? -Infinity : logits[base + i]! + g;
  }
  topOrdered(work, N, K, out, o);
}

/** The K largest entries of work[0..N), best first (deterministic slates use the plain logits). */
export function topOrdered(work: ArrayLike<number>, N: number, K: number, out: Int32Array, o: number): void {
  for (let j = 0; j < K; j++) out[o + j] = -1;
  for (let i = 0; i < N; i++) {
    const v = work[i]!;
    let pos = K;
    while (pos > 0) {
      const prev = out[o + pos - 1]!;
      if (prev >= 0 && !(v > work[prev]!)) break;
      pos--;
    }
    if (pos >= K) continue;
    for (let j = K - 1; j > pos; j--) out[o + j] = out[o + j - 1]!;
    out[o + pos] = i;
  }
}

/** Plackett-Luce log-probability of an ordered slate (plain JS, double precision). */
export function plLogProb(logits: ArrayLike<number>, base: number, N: number, slate: ArrayLike<number>, so: number, K: number, mask?: ArrayLike<number>): number {
  const used = new Uint8Array(N);
  let lp = 0;
  for (let k = 0; k < K; k++) {
    let mx = -Infinity;
    for (let j = 0; j < N; j++) if (!used[j] && (!mask || mask[base + j])) mx = Math.max(mx, logits[base + j]!);
    let z = 0;
    for (let j = 0; j < N; j++) if (!used[j] && (!mask || mask[base + j])) z += Math.exp(logits[base + j]! - mx);
    const a = slate[so + k]!;
    lp += logits[base + a]! - mx - Math.log(z);
    used[a] = 1;
  }
  return lp;
}

/**
 * z - logsumexp(z) over the last axis of a rank-3 z, the same numbers as `tf.sub(z, tf.logSumExp(z, 2, true))`
 * forward and backward, bit for bit, with one kernel fewer where the time went. tf.logSumExp subtracts the max and
 * differentiates through it: the Max kernel's gradient is dy x (z == max), an Equal of z against the max broadcast
 * over the last axis, which the wasm backend runs through its generic broadcasting loop (15 ms on PPO's [2048, 5,
 * 20] against 0.8 ms for an Equal with a scalar, experiments/probe-ppo-kernels.ts). Here the
 * backward is the chain autodiff builds from tfjs-core's own gradients (Sub, Add, Log, Sum, Exp, Max), in the
 * order the tape accumulates them, with that mask read as (z - max) == 0, the same set for finite z (IEEE
 * subtraction is exact to zero only for equal operands; wasm keeps subnormals). test/policies/slates-and-networks
 * compares values and gradients with tf.logSumExp's to the bit, ties included.
 */
export const logSoftmaxLast = tf.customGrad(((z: tf.Tensor3D, save: tf.GradSaveFunc) => {
  const [M, K] = z.shape as [number, number, number];
  // tf.logSumExp(z, 2, true), op for op.
  const zMax = tf.max(z, 2, true); // [M, K, 1]
  const a = tf.sub(z, zMax);
  const b = tf.exp(a);
  const c = tf.sum(b, 2); // [M, K]
  const d = tf.log(c);
  const logZ = tf.reshape(tf.add(tf.reshape(zMax, d.shape), d), [M, K, 1]);
  save([a, b, c]);
  return {
    value: tf.sub(z, logZ),
    gradFunc: (dy: tf.Tensor, [sa, sb, sc]: tf.Tensor[]) => {
      // Sub (z - logZ): z gets dy; logZ gets -sum(dy) over the broadcast axis. The Reshape to [M, K] and the Add
      // pass it on to both the max and the log.
      const dRes = tf.neg(tf.sum(dy, 2)); // [M, K]
      const dc = tf.div(dRes, sc!); // Log
      const da = tf.mul(tf.reshape(dc, [M, K, 1]), sb!); // Sum (dc times ones: the same numbers), then Exp
      // Sub (z - zMax): z gets da; zMax gets -sum(da), next to what the Add gave it.
      const dMax = tf.add(tf.reshape(dRes, [M, K, 1]), tf.reshape(tf.neg(tf.sum(da, 2)), [M, K, 1]));
      // Max: dMax where z is the max. z's three gradients add up in the tape's order: the outer Sub's, the inner
      // Sub's, the Max's.
      return tf.add(tf.add(dy, da), tf.mul(dMax, tf.cast(tf.equal(sa!, 0), 'float32')));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (z: tf.Tensor3D) => tf.Tensor3D;

/**
 * sum(x, [1, 2]) of a rank-3 x, with the gradient tfjs-core's Sum gives it (dy reshaped to [M, 1, 1] times ones of
 * x's shape: the same numbers, bit for bit), but the ones made by the backend's Fill kernel: tf.ones fills them in
 * a JS loop and copies them into the backend, twice a PPO minibatch over [2048, 5, 20].
 */
const sumLast2 = tf.customGrad(((x: tf.Tensor3D) => {
  const [M, K, N] = x.shape;
  return {
    value: tf.sum(x, [1, 2]),
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.reshape(dy, [M, 1, 1]), tf.fill([M, K, N], 1, 'float32')),
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor3D) => tf.Tensor1D;

/**
 * The constants of an ordered slate's Plackett-Luce terms, made in JS: the one-hot rows [M, K, N] of the slate's
 * items (an index outside [0, N) gives a row of zeros, as tf.oneHot does), and NEG times the number of times each
 * candidate was placed at an earlier position, the values tf.mul(tf.cumsum(oneHot, 1, true), NEG) gives (exact
 * small integers times -1e9, and -0 where nothing was placed), without those three kernels.
 */
function slateConstants(slates: Int32Array, M: number, K: number, N: number): { oh: Float32Array; placedNeg: Float32Array } {
  const size = M * K * N;
  // On wasm a new tensor's values are copied into the backend's heap at once, so the arrays can be reused for the
  // next call; elsewhere (cpu keeps the array it is given) they are new every time.
  const reuse = tf.getBackend() === 'wasm';
  if (!reuse || constantsOh.length < size) {
    constantsOh = new Float32Array(size);
    constantsNeg = new Float32Array(size);
  }
  const oh = constantsOh.subarray(0, size).fill(0);
  const placedNeg = constantsNeg.subarray(0, size).fill(-0); // NEG times a count of 0 is -0, as the tensor product gives
  for (let m = 0, base = 0; m < M; m++, base += K) {
    for (let k = 0; k < K; k++) {
      const row = (base + k) * N;
      const a = slates[base + k]!;
      if (a >= 0 && a < N) oh[row + a] = 1;
      // NEG times the number of earlier positions that placed each item.
      for (let j = 0; j < k; j++) {
        const p = slates[base + j]!;
        if (p < 0 || p >= N) continue;
        let count = 0;
        for (let q = 0; q < k; q++) if (slates[base + q] === p) count++;
        placedNeg[row + p] = count * NEG;
      }
    }
  }
  return { oh, placedNeg };
}
let constantsOh = new Float32Array(0);
let constantsNeg = new Float32Array(0);

/**
 * Differentiable Plackett-Luce log-probabilities [M] of ordered slates [M, K] under logits [M, N], and the
 * chain-rule entropy estimate sum_k H(softmax over the items not yet placed | the sampled prefix).
 * Position k's distribution is a softmax over the candidates not placed before it: with r_k the items placed at
 * positions < k (an exclusive cumulative sum of the slate's one-hot rows, a constant), z_k = logits - 1e9 r_k,
 *   log Z_k = logsumexp(z_k),   log P = sum_k (z_k[chosen_k] - log Z_k),   H_k = -sum_j p_kj (z_kj - log Z_k).
 * Each Z_k is a sum over the remaining items, never Z minus the placed ones: once the policy is peaked, that
 * difference cancels catastrophically in float32 (a PPO run with gamma 0 reached a NaN gradient that way).
 * Picks use one-hot products only (gather has no gradient on wasm). Masked candidates (mask 0) get probability 0.
 * The constants are made in JS (`slateConstants`) and the two sums over [K, N] make their ones by Fill (`sumLast2`):
 * values and gradients are those of the same built from tf.oneHot, tf.cumsum and tf.sum, bit for bit (tested).
 */
export function plLogProbTf(logits: tf.Tensor2D, slates: Int32Array, K: number, mask?: tf.Tensor2D): { logp: tf.Tensor1D; entropy: tf.Tensor1D } {
  return tf.tidy(() => {
    const [M, N] = logits.shape;
    const masked = mask ? tf.add(logits, tf.mul(tf.sub(1, mask), NEG)) : logits;
    const c = slateConstants(slates, M, K, N);
    const oh = tf.tensor3d(c.oh, [M, K, N]);
    const zk = tf.add(tf.reshape(masked, [M, 1, N]), tf.tensor3d(c.placedNeg, [M, K, N])) as tf.Tensor3D; // [M, K, N]
    const logpk = logSoftmaxLast(zk); // log-probabilities of every item at every position
    const logp = sumLast2(tf.mul(oh, logpk) as tf.Tensor3D);
    const entropy = tf.neg(sumLast2(tf.mul(tf.exp(logpk), logpk) as tf.Tensor3D)) as tf.Tensor1D;
    return { logp, entropy };
  });
}
