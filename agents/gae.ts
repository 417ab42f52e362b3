import { type AgentEnvInfo, calendarDayOffset, IncompatibleEnv } from './api.js';

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
 * `gamma` is one number, or one per step (row t*B + b: the discount from s_t to s_{t+1}, e.g. PPO's dayDiscount,
 * a semi-Markov discount by the time elapsed, Bradtke & Duff 1995); with per-step discounts every gamma above is
 * gamma_t.
 */
export function computeGae(
  M: number,
  B: number,
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  dones: ArrayLike<number>,
  truncValues: ArrayLike<number>,
  lastValues: ArrayLike<number>,
  gamma: number | ArrayLike<number>,
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
      const g = typeof gamma === 'number' ? gamma : gamma[k]!;
      const delta = rewards[k]! + g * truncValues[k]! + g * nextValue * nonTerminal - values[k]!;
      last = delta + g * lambda * nonTerminal * last;
      adv[k] = last;
      ret[k] = last + values[k]!;
    }
  }
  return { advantages: adv, returns: ret };
}

/**
 * For a discount per calendar day (PPO's and SlateQ's `dayDiscount` < 1): the offset of the env's raw one-column
 * `day` user feature, or an IncompatibleEnv error when the env has no calendar day; -1 when dayDiscount is 1.
 * The discount between an observation on day d and the next on day d' is then gamma x dayDiscount^(d' - d)
 * (`stepDiscount`): 1 x gamma within a session, and a return after a gap of g days weighs dayDiscount^g less.
 */
export function dayFeatureOffset(agent: string, env: AgentEnvInfo, dayDiscount: number): number {
  if (dayDiscount === 1) return -1;
  const day = calendarDayOffset(env);
  if (day < 0) throw new IncompatibleEnv(agent, env.envId, `dayDiscount ${dayDiscount} needs a multi-session env with a one-column user feature named "day" (dayDiscount 1 discounts per step only)`);
  return day;
}

/** gamma x dayDiscount^(days from `day` to `nextDay`) (a negative gap counts as 0). */
export function stepDiscount(gamma: number, dayDiscount: number, day: number, nextDay: number): number {
  return gamma * dayDiscount ** Math.max(0, nextDay - day);
}
