/** Slate construction helpers: top-K by score, slates from abstract preferences. */

/**
 * Indices of the top-K entries of scores[base .. base + N), best first, written to out[o .. o + K).
 * Ties go to the lower index (deterministic). Entries equal to -Infinity are still eligible.
 */
export function topK(scores: ArrayLike<number>, base: number, N: number, K: number, out: Int32Array, o: number): void {
  for (let j = 0; j < K; j++) out[o + j] = -1;
  for (let i = 0; i < N; i++) {
    const v = scores[base + i]!;
    let pos = K;
    while (pos > 0) {
      const prev = out[o + pos - 1]!;
      if (prev >= 0 && !(v > scores[base + prev]!)) break;
      pos--;
    }
    if (pos >= K) continue;
    for (let j = K - 1; j > pos; j--) out[o + j] = out[o + j - 1]!;
    out[o + pos] = i;
  }
}

/**
 * The slate maximizing the expected reward under a conditional (multinomial) choice model,
 *   E[r | A] = sum_{i in A} s_i r_i / (s_0 + sum_{j in A} s_j),   |A| = K,
 * found exactly by Dinkelbach's method: for a value lambda the best slate is the top-K of s_i (r_i - lambda);
 * iterate lambda <- E[r | A] until the slate stops changing. Writes the slate ordered by s_i r_i.
 */
export function optimalMnlSlate(
  score: ArrayLike<number>,
  value: ArrayLike<number>,
  base: number,
  N: number,
  K: number,
  s0: number,
  out: Int32Array,
  o: number,
  work: Float64Array,
): number {
  let lambda = 0;
  let prevKey = '';
  for (let iter = 0; iter < 50; iter++) {
    for (let i = 0; i < N; i++) work[i] = score[base + i]! * (value[base + i]! - lambda);
    topK(work, 0, N, K, out, o);
    let num = 0;
    let den = s0;
    let key = '';
    for (let j = 0; j < K; j++) {
      const i = out[o + j]!;
      num += score[base + i]! * value[base + i]!;
      den += score[base + i]!;
      key += i + ',';
    }
    const next = num / den;
    if (key === prevKey || Math.abs(next - lambda) <= 1e-12 * Math.max(1, Math.abs(next))) {
      lambda = next;
      break;
    }
    prevKey = key;
    lambda = next;
  }
  // Order the chosen slate by s_i r_i (position does not matter to an MNL user; this is a stable order).
  for (let i = 0; i < N; i++) work[i] = -Infinity;
  for (let j = 0; j < K; j++) {
    const i = out[o + j]!;
    work[i] = score[base + i]! * value[base + i]!;
  }
  topK(work, 0, N, K, out, o);
  return lambda;
}

/**
 * Greedy slate under a conditional choice model (SlateQ's GS): add, K times, the item that maximizes
 * sum_{i in A} v_i q_i / (v_0 + sum_{i in A} v_i) over the slate so far.
 */
export function greedyMnlSlate(v: ArrayLike<number>, q: ArrayLike<number>, base: number, N: number, K: number, v0: number, out: Int32Array, o: number): void {
  let num = 0;
  let den = v0;
  for (let j = 0; j < K; j++) {
    let best = -1;
    let bestVal = -Infinity;
    for (let i = 0; i < N; i++) {
      let used = false;
      for (let k = 0; k < j; k++) if (out[o + k] === i) used = true;
      if (used) continue;
      const val = (num + v[base + i]! * q[base + i]!) / (den + v[base + i]!);
      if (val > bestVal) {
        bestVal = val;
        best = i;
      }
    }
    out[o + j] = best;
    num += v[base + best]! * q[base + best]!;
    den += v[base + best]!;
  }
}

/** Expected value sum_{i in A} v_i q_i / (v_0 + sum_{i in A} v_i) of a slate. */
export function mnlSlateValue(v: ArrayLike<number>, q: ArrayLike<number>, base: number, slate: ArrayLike<number>, so: number, K: number, v0: number): number {
  let num = 0;
  let den = v0;
  for (let j = 0; j < K; j++) {
    const i = slate[so + j]!;
    num += v[base + i]! * q[base + i]!;
    den += v[base + i]!;
  }
  return num / den;
}
