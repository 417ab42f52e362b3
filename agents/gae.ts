/**
 * Generalized advantage estimation (Schulman et al. 2016) over a rollout of M steps x B envs (row t*B + b),
 * with one deliberate difference from CleanRL: a truncated episode (horizon cut) bootstraps from the value of
 * its final observation (the reward of that step becomes r + gamma V(s_final)), while a terminated one (churn,
 * budget spent) does not; either way the advantage does not flow across the episode boundary.
 *
 *   done_t = terminated_t or truncated_t (the episode ended at step t, after action a_t)
 *   delta_t = r_t + gamma truncValue_t + gamma V(s_{t+1}) (1 - done_t) - V(s_t)
 *   A_t = delta_t + gamma lambda (1 - done_t) A_{t+1},   returns_t = A_t + V(s_t)
 * where V(s_M) is `lastValues` (the value of the observation after the last step).
 */
export function computeGae(
  M: number,
  B: number,
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  dones: ArrayLike<number>,
  truncValues: ArrayLike<number>,
  lastValues: ArrayLike<number>,
  gamma: number,
  lambda: number,
): { advantages: Float32Array; returns: Float32Array } {
  const adv = new Float32Array(M * B);
  const ret = new Float32Array(M * B);
  for (let b = 0; b < B; b++) {
    let last = 0;
    for (let t = M - 1; t >= 0; t--) {
      const k = t * B + b;
      const nonTerminal = 1 - dones[k]!;
      const nextValue = t === M - 1 ? lastValues[b]! : values[(t + 1) * B + b]!;
      const delta = rewards[k]! + gamma * truncValues[k]! + gamma * nextValue * nonTerminal - values[k]!;
      last = delta + gamma * lambda * nonTerminal * last;
      adv[k] = last;
      ret[k] = last + values[k]!;
    }
  }
  return { advantages: adv, returns: ret };
}
