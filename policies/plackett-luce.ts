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
 * Differentiable Plackett-Luce log-probabilities [M] of ordered slates [M, K] under logits [M, N], and the
 * chain-rule entropy estimate sum_k H(softmax over the items not yet placed | the sampled prefix).
 * With z = logits - max, e = exp(z), Z = sum_j e_j and the chosen items' e_(k), z_(k):
 *   Z_k = Z - sum_{k' < k} e_(k'),   log P = sum_k (z_(k) - log Z_k),
 *   H_k = log Z_k - (sum_j e_j z_j - sum_{k' < k} e_(k') z_(k')) / Z_k,
 * computed in one pass (the prefix sums are a product with a strictly lower-triangular K x K matrix). Picks use
 * oneHot products only (gather has no gradient on wasm). Masked candidates (mask 0) get probability 0.
 */
export function plLogProbTf(logits: tf.Tensor2D, slates: Int32Array, K: number, mask?: tf.Tensor2D): { logp: tf.Tensor1D; entropy: tf.Tensor1D } {
  return tf.tidy(() => {
    const [M, N] = logits.shape;
    const masked = mask ? tf.add(logits, tf.mul(tf.sub(1, mask), NEG)) : logits;
    const z = tf.sub(masked, tf.max(masked, 1, true)) as tf.Tensor2D;
    const e = tf.exp(z);
    const oh = tf.oneHot(tf.tensor1d(slates, 'int32'), N).toFloat().reshape([M, K, N]);
    const zc = tf.sum(tf.mul(oh, tf.reshape(z, [M, 1, N])), 2) as tf.Tensor2D; // [M, K]
    const ec = tf.exp(zc);
    const lower = new Float32Array(K * K);
    for (let r = 0; r < K; r++) for (let c = 0; c < r; c++) lower[c * K + r] = 1; // (x @ lower)_k = sum_{k' < k} x_k'
    const L = tf.tensor2d(lower, [K, K]);
    const Z = tf.sum(e, 1, true);
    // max(Z - prefix, 1e-30) guards rounding; written with relu so the gradient handles the broadcast.
    const Zk = tf.add(tf.relu(tf.sub(tf.sub(Z, tf.matMul(ec, L)), 1e-30)), 1e-30);
    const logZk = tf.log(Zk);
    const logp = tf.sum(tf.sub(zc, logZk), 1) as tf.Tensor1D;
    const T = tf.sum(tf.mul(e, z), 1, true);
    const Tk = tf.sub(T, tf.matMul(tf.mul(ec, zc), L));
    const entropy = tf.sum(tf.sub(logZk, tf.div(Tk, Zk)), 1) as tf.Tensor1D;
    return { logp, entropy };
  });
}
