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
 * Differentiable Plackett-Luce log-probabilities [M] of ordered slates [M, K] under logits [M, N], and the
 * chain-rule entropy estimate sum_k H(softmax over the items not yet placed | the sampled prefix).
 * Position k's distribution is a softmax over the candidates not placed before it: with r_k the items placed at
 * positions < k (an exclusive cumulative sum of the slate's one-hot rows, a constant), z_k = logits - 1e9 r_k,
 *   log Z_k = logsumexp(z_k),   log P = sum_k (z_k[chosen_k] - log Z_k),   H_k = -sum_j p_kj (z_kj - log Z_k).
 * Each Z_k is a sum over the remaining items, never Z minus the placed ones: once the policy is peaked, that
 * difference cancels catastrophically in float32 (a PPO run with gamma 0 reached a NaN gradient that way).
 * Picks use oneHot products only (gather has no gradient on wasm). Masked candidates (mask 0) get probability 0.
 */
export function plLogProbTf(logits: tf.Tensor2D, slates: Int32Array, K: number, mask?: tf.Tensor2D): { logp: tf.Tensor1D; entropy: tf.Tensor1D } {
  return tf.tidy(() => {
    const [M, N] = logits.shape;
    const masked = mask ? tf.add(logits, tf.mul(tf.sub(1, mask), NEG)) : logits;
    const oh = tf.oneHot(tf.tensor1d(slates, 'int32'), N).toFloat().reshape([M, K, N]);
    const placed = tf.cumsum(oh, 1, true); // [M, K, N]: 1 where the item was placed at an earlier position
    const zk = tf.add(tf.reshape(masked, [M, 1, N]), tf.mul(placed, NEG)) as tf.Tensor3D; // [M, K, N]
    const logpk = logSoftmaxLast(zk); // log-probabilities of every item at every position
    const logp = tf.sum(tf.mul(oh, logpk), [1, 2]) as tf.Tensor1D;
    const entropy = tf.neg(tf.sum(tf.mul(tf.exp(logpk), logpk), [1, 2])) as tf.Tensor1D;
    return { logp, entropy };
  });
}
