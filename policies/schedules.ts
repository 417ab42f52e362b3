/**
 * Exploration and step-size schedules for tabular and bandit learners (Sutton and Barto 2018, ch. 2, 6).
 *
 * epsilon(t), t = user-steps seen so far:
 * - constant: epsilonStart
 * - linear: from epsilonStart to epsilonEnd over epsilonSteps, then epsilonEnd
 * - exponential: epsilonEnd + (epsilonStart - epsilonEnd) exp(-t / epsilonSteps)
 * step size alpha(n), n = visits of the (state, action) pair so far (n >= 1):
 * - constant: stepSize
 * - visits: 1 / n^stepSizePower (power in (0.5, 1] satisfies the Robbins-Monro conditions)
 */
import type { ParamSpec, ResolvedParams } from '../envs/params.js';

export const epsilonParams: readonly ParamSpec[] = [
  { name: 'epsilonSchedule', kind: 'enum', default: 'linear', values: ['constant', 'linear', 'exponential'], description: 'exploration schedule' },
  { name: 'epsilonStart', kind: 'number', default: 1, min: 0, max: 1, description: 'epsilon at the start' },
  { name: 'epsilonEnd', kind: 'number', default: 0.05, min: 0, max: 1, description: 'epsilon at the end of the schedule' },
  { name: 'epsilonSteps', kind: 'int', default: 50000, min: 1, max: 1e12, description: 'user-steps of the linear decay (time constant of the exponential)' },
];

export const stepSizeParams: readonly ParamSpec[] = [
  { name: 'stepSizeSchedule', kind: 'enum', default: 'visits', values: ['constant', 'visits'], description: 'step-size schedule' },
  { name: 'stepSize', kind: 'number', default: 0.1, min: 0, max: 1, minExclusive: true, description: 'constant step size' },
  { name: 'stepSizePower', kind: 'number', default: 0.6, min: 0.5, max: 1, minExclusive: true, description: 'alpha = 1 / visits^power' },
];

export function epsilonAt(p: ResolvedParams, t: number): number {
  const a = p.epsilonStart as number;
  const b = p.epsilonEnd as number;
  const n = p.epsilonSteps as number;
  switch (p.epsilonSchedule) {
    case 'constant':
      return a;
    case 'linear':
      return t >= n ? b : a + ((b - a) * t) / n;
    default:
      return b + (a - b) * Math.exp(-t / n);
  }
}

export function stepSizeAt(p: ResolvedParams, visits: number): number {
  return p.stepSizeSchedule === 'constant' ? (p.stepSize as number) : 1 / Math.pow(Math.max(1, visits), p.stepSizePower as number);
}
