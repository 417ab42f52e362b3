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
import { param, type ParamDef } from '../envs/params.js';

/** The exploration params (spread into an agent's `defineParams`, with its own defaults via `withDefault`). */
export const epsilonShape = {
  epsilonSchedule: param.enum({ default: 'linear', values: ['constant', 'linear', 'exponential'], description: 'exploration schedule' }),
  epsilonStart: param.number({ default: 1, min: 0, max: 1, description: 'epsilon at the start' }),
  epsilonEnd: param.number({ default: 0.05, min: 0, max: 1, description: 'epsilon at the end of the schedule' }),
  epsilonSteps: param.int({ default: 50000, min: 1, max: 1e12, description: 'user-steps of the linear decay (time constant of the exponential)' }),
};

/** The step-size params of tabular learners. */
export const stepSizeShape = {
  stepSizeSchedule: param.enum({ default: 'visits', values: ['constant', 'visits'], description: 'step-size schedule' }),
  stepSize: param.number({ default: 0.1, min: 0, max: 1, minExclusive: true, description: 'constant step size' }),
  stepSizePower: param.number({ default: 0.6, min: 0.5, max: 1, minExclusive: true, description: 'alpha = 1 / visits^power' }),
};

type ValuesOf<S> = { readonly [K in keyof S]: S[K] extends ParamDef<infer T> ? T : never };
export type EpsilonParams = ValuesOf<typeof epsilonShape>;
export type StepSizeParams = ValuesOf<typeof stepSizeShape>;

export function epsilonAt(p: EpsilonParams, t: number): number {
  const a = p.epsilonStart;
  const b = p.epsilonEnd;
  const n = p.epsilonSteps;
  switch (p.epsilonSchedule) {
    case 'constant':
      return a;
    case 'linear':
      return t >= n ? b : a + ((b - a) * t) / n;
    default:
      return b + (a - b) * Math.exp(-t / n);
  }
}

export function stepSizeAt(p: StepSizeParams, visits: number): number {
  return p.stepSizeSchedule === 'constant' ? p.stepSize : 1 / Math.pow(Math.max(1, visits), p.stepSizePower);
}
