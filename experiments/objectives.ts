/**
 * The objectives a discounted learner maximizes, measured for any policy: the start-state return discounted per
 * step, J_gamma = mean over users of sum_t gamma^t r_t (t counts user-steps, one slate each, from the user's first
 * step; gamma 1 is the lifetime return), and discounted per calendar day, J_day(delta) = mean over users of
 * sum_t delta^(day_t) r_t, day_t the (fractional) day of step t read from the env's `day` user feature. Comparing
 * policies under these shows whether a learner fails to optimize its own objective or optimizes one that does
 * not separate the policies the lifetime return separates (experiments/probe-retention-v0.ts and -v1.ts).
 */
import { type Agent, requireFeature } from '../agents/api.js';
import { observationOf } from '../agents/loop.js';
import { makeVec } from '../envs/registry.js';

export interface DiscountedReturns {
  perStep: Record<string, number>;
  perDay: Record<string, number>;
}

/**
 * J_gamma and J_day of a policy on `users` held-out users of population `seed`, in one batch: greedy, or with
 * `explore` the agent's exploring policy (a learner's sampled slates: the stochastic policy its policy gradient
 * improves), its learned state frozen either way.
 */
export function discountedReturns(envId: string, envParams: Record<string, unknown>, agent: Agent, opts: { users: number; seed: number; gammas: readonly number[]; dayDiscounts: readonly number[]; explore?: boolean }): DiscountedReturns {
  const { users, gammas, dayDiscounts } = opts;
  const cDay = requireFeature('discountedReturns', agent.env, 'user', ['day']).offset;
  const env = makeVec(envId, envParams, { numEnvs: users, autoresetMode: 'off' });
  const r0 = env.reset({ seed: opts.seed, options: { firstUser: 0 } });
  const active = new Uint8Array(users).fill(1);
  const firstStep = new Uint8Array(users).fill(1);
  const view = observationOf(env, active, Float64Array.from(r0.userIndex), firstStep, r0.observation);
  const ctx = agent.context(false, opts.explore ?? false);
  const weight = gammas.map(() => new Float64Array(users).fill(1));
  const sums = new Float64Array(gammas.length);
  const daySums = new Float64Array(dayDiscounts.length);
  const day = new Float64Array(users);
  const U = env.layout.U;
  for (let t = 0; ; t++) {
    for (let s = 0; s < users; s++) day[s] = view.user[s * U + cDay]!;
    const r = env.step(agent.act(view, ctx));
    if (t === 0) firstStep.fill(0);
    agent.feedback?.(r.clicked, active, ctx);
    for (let s = 0; s < users; s++) {
      if (!active[s]) continue;
      for (let g = 0; g < gammas.length; g++) {
        sums[g]! += weight[g]![s]! * r.rewards[s]!;
        weight[g]![s]! *= gammas[g]!;
      }
      for (let g = 0; g < dayDiscounts.length; g++) daySums[g]! += dayDiscounts[g]! ** day[s]! * r.rewards[s]!;
    }
    active.set(r.active);
    if (r.allDone) break;
  }
  return {
    perStep: Object.fromEntries(gammas.map((g, i) => [`gamma ${g}`, sums[i]! / users])),
    perDay: Object.fromEntries(dayDiscounts.map((g, i) => [`day ${g}`, daySums[i]! / users])),
  };
}
