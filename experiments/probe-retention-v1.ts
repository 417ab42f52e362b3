/**
 * Why PPO with per-item feedback columns (the flagship's `ppo-items`) stays below ranking by one of those columns
 * (`item-watch-rank`) on retention-v1 (README, "What this says, plainly"). For each policy, on the flagship's
 * held-out users (population 2000 of world 0, 1,000 users): the lifetime return, the CTR, and the objectives a
 * discounted learner maximizes (experiments/objectives.ts): the start-state return discounted per step, J_gamma,
 * and per calendar day, J_day(delta). The learners are trained as the flagship's seed-0 cells are (128,000
 * user-steps, 32 envs, training population 100000, agent seed 0, the flagship spec's params), so their returns are
 * the flagship's seed-0 returns. `ppo-items` maximizes J_day(0.8): if it is level with `item-watch-rank` there
 * while below it in lifetime return, the objective, not the optimizer, is what does not separate them.
 * `reinforce-items` (REINFORCE top-K online) maximizes the same J_day(0.8) with whole-trajectory returns.
 *
 *   npx tsx experiments/probe-retention-v1.ts [--users 1000]   (writes results/bench/probe-retention-v1.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import type { Agent } from '../agents/api.js';
import { evaluateAgent } from './evaluate.js';
import { discountedReturns } from './objectives.js';
import { mean } from './stats.js';
import { scriptCount, scriptSpec, trainAsCell } from './script-args.js';

const users = scriptCount('users', 1000);
const envId = 'retention-v1';
const envParams = { worldSeed: 0 };
const HELD_OUT = 2000;
const { spec, agent: fromSpec } = scriptSpec('experiments/specs/flagship.json');
const GAMMAS = [0.99, 0.999, 1];
const DAY_DISCOUNTS = [0.7, 0.8, 0.9, 0.95];
const labels: { label: string; train: boolean }[] = [
  { label: 'random', train: false },
  { label: 'myopic-oracle', train: false },
  { label: 'ceiling-oracle', train: false },
  { label: 'item-minutes-rank', train: true },
  { label: 'item-watch-rank', train: true },
  { label: 'ppo-day', train: true },
  { label: 'ppo-items', train: true },
  { label: 'reinforce-items', train: true },
];
const rows: Record<string, unknown>[] = [];
const extra = [{ label: 'content-oracle', id: 'content-oracle', params: {} }];
for (const p of [...labels.map((l) => ({ ...l, ...fromSpec(l.label) })), ...extra.map((e) => ({ ...e, train: false }))]) {
  const agent: Agent = await makeAgent(p.id, p.params, { envId, envParams, seed: 0 });
  if (p.train) trainAsCell(agent, envId, envParams, spec.train, 0);
  const o = evaluateAgent(envId, envParams, agent, { users, seed: HELD_OUT });
  const d = discountedReturns(envId, envParams, agent, { users, seed: HELD_OUT, gammas: GAMMAS, dayDiscounts: DAY_DISCOUNTS });
  const row = { label: p.label, meanReturn: mean(o.return), ctr: mean(o.ctr), discounted: d };
  rows.push(row);
  console.log(`${p.label}: return ${row.meanReturn.toFixed(1)}, CTR ${row.ctr.toFixed(3)}; J ${[...Object.entries(d.perStep), ...Object.entries(d.perDay)].map(([k, x]) => `${k}: ${x.toFixed(1)}`).join(', ')}`);
}
mkdirSync('results/bench', { recursive: true });
writeFileSync('results/bench/probe-retention-v1.json', JSON.stringify({ envId, envParams, users, heldOut: HELD_OUT, trainUserSteps: spec.train.userSteps, gammas: GAMMAS, dayDiscounts: DAY_DISCOUNTS, rows }, null, 2) + '\n');
