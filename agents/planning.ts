/**
 * Exact planning on finite MDPs that expose `model()` (boredom-mdp-v0): value iteration and policy
 * evaluation (Bellman 1957; Sutton and Barto 2018, ch. 4). Transition rows may be sub-stochastic: the missing
 * mass is termination (value 0 afterwards).
 */
import type { FiniteModel } from '../envs/boredom-mdp.js';
import { InvalidArgument } from '../envs/errors.js';

export interface ValueIterationResult {
  V: Float64Array;
  /** Q[s * A + a] */
  Q: Float64Array;
  /** A greedy optimal action per state (lowest index on ties). */
  policy: Int32Array;
  iterations: number;
}

function backup(m: FiniteModel, V: Float64Array, gamma: number, s: number, a: number): number {
  const S = m.numStates;
  const row = (s * m.numActions + a) * S;
  let q = m.R[s * m.numActions + a]!;
  let acc = 0;
  for (let s2 = 0; s2 < S; s2++) {
    const p = m.P[row + s2]!;
    if (p !== 0) acc += p * V[s2]!;
  }
  return q + gamma * acc;
}

/** Value iteration to a sup-norm change below `tol`. Needs gamma < 1 or a model that terminates surely. */
export function valueIteration(m: FiniteModel, gamma: number, tol = 1e-10, maxIter = 1e6): ValueIterationResult {
  if (!(gamma >= 0 && gamma <= 1)) throw new InvalidArgument(`valueIteration: gamma must be in [0, 1], got ${gamma}`);
  const S = m.numStates;
  const A = m.numActions;
  let V = new Float64Array(S);
  let next = new Float64Array(S);
  let it = 0;
  for (; it < maxIter; it++) {
    let delta = 0;
    for (let s = 0; s < S; s++) {
      let best = -Infinity;
      for (let a = 0; a < A; a++) best = Math.max(best, backup(m, V, gamma, s, a));
      next[s] = best;
      delta = Math.max(delta, Math.abs(best - V[s]!));
    }
    [V, next] = [next, V];
    if (delta < tol) break;
  }
  const Q = new Float64Array(S * A);
  const policy = new Int32Array(S);
  for (let s = 0; s < S; s++) {
    let best = -Infinity;
    for (let a = 0; a < A; a++) {
      const q = backup(m, V, gamma, s, a);
      Q[s * A + a] = q;
      if (q > best + 1e-12) {
        best = q;
        policy[s] = a;
      }
    }
  }
  return { V, Q, policy, iterations: it + 1 };
}

/**
 * Evaluate a stochastic policy pi[s * A + a] (rows sum to 1): returns V^pi and Q^pi by iterating the Bellman
 * expectation operator to `tol`.
 */
export function policyEvaluation(m: FiniteModel, pi: Float64Array, gamma: number, tol = 1e-10, maxIter = 1e6): { V: Float64Array; Q: Float64Array } {
  const S = m.numStates;
  const A = m.numActions;
  if (pi.length !== S * A) throw new InvalidArgument(`policyEvaluation: pi must hold S x A = ${S * A} probabilities, got ${pi.length}`);
  let V = new Float64Array(S);
  let next = new Float64Array(S);
  for (let it = 0; it < maxIter; it++) {
    let delta = 0;
    for (let s = 0; s < S; s++) {
      let v = 0;
      for (let a = 0; a < A; a++) {
        const p = pi[s * A + a]!;
        if (p !== 0) v += p * backup(m, V, gamma, s, a);
      }
      next[s] = v;
      delta = Math.max(delta, Math.abs(v - V[s]!));
    }
    [V, next] = [next, V];
    if (delta < tol) break;
  }
  const Q = new Float64Array(S * A);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) Q[s * A + a] = backup(m, V, gamma, s, a);
  return { V, Q };
}

/** A deterministic policy as a probability table. */
export function deterministicPolicy(policy: Int32Array, A: number): Float64Array {
  const pi = new Float64Array(policy.length * A);
  for (let s = 0; s < policy.length; s++) pi[s * A + policy[s]!] = 1;
  return pi;
}

/** The expected return from the initial state distribution. */
export function startValue(m: FiniteModel, V: Float64Array): number {
  let v = 0;
  for (let s = 0; s < m.numStates; s++) v += m.initial[s]! * V[s]!;
  return v;
}
