/**
 * Why SlateQ with per-item feedback columns (the flagship's `slateq-items`) stays below ranking by one of those
 * columns on retention-v1 (README, the flagship's `slateq-items` paragraph): its slates, or its item values?
 * One `slateq-items` is trained as the flagship's seed-0 cell is (128,000 user-steps, 32 envs, training
 * population 100000, agent seed 0, the flagship spec's params), so its return as trained is the flagship's
 * seed-0 return; then the same trained agent is evaluated on the flagship's held-out users (population 2000 of
 * world 0) with its slates built in other ways, nothing retrained:
 *   - as trained: the optimal slate under the learned choice model (OS), then greedy (GS) and top-K by v (Q - Q0) (TS);
 *   - the choice model set aside (every v equal): top-K by Q - Q0, the item values alone;
 *   - `item-stat-rank` (reward per unit of length, and reward per click) reading the trained agent's own frozen
 *     item statistics: what the columns it sees are worth when ranked by directly.
 * If the slates built from Q alone earn what the agent earns, and ranking by one of its columns earns much more,
 * what falls short is the item values Q learned, not the slate construction or the statistics.
 *
 *   npx tsx experiments/probe-slateq-items.ts [--users 1000]   (writes results/bench/probe-slateq-items.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import type { Agent, AgentCheckpoint } from '../agents/api.js';
import type { SlateQAgent } from '../agents/slateq.js';
import { evaluateAgent } from './evaluate.js';
import { mean } from './stats.js';
import { scriptCount, scriptSpec, trainAsCell } from './script-args.js';

const users = scriptCount('users', 1000);
const envId = 'retention-v1';
const envParams = { worldSeed: 0 };
const HELD_OUT = 2000;
const { spec, agent: fromSpec } = scriptSpec('experiments/specs/flagship.json');
const a = fromSpec('slateq-items');
const agent = (await makeAgent('slateq', a.params, { envId, envParams, seed: 0 })) as SlateQAgent;
trainAsCell(agent, envId, envParams, spec.train, 0);

// The agent's internals a probe may reach (not part of its API): its serving rule and its choice weights.
const inner = agent as unknown as {
  params: { serving: string };
  weights: (n: number, h: unknown, h0: unknown, u: unknown, c: unknown, v: Float64Array, v0: Float64Array) => void;
  items: { state(): unknown };
};
const ownWeights = inner.weights.bind(agent);
const rows: { label: string; meanReturn: number; ctr: number }[] = [];
const evaluate = (label: string, x: Agent) => {
  const o = evaluateAgent(envId, envParams, x, { users, seed: HELD_OUT });
  rows.push({ label, meanReturn: mean(o.return), ctr: mean(o.ctr) });
  console.log(`${label}: return ${mean(o.return).toFixed(1)}, CTR ${mean(o.ctr).toFixed(3)}`);
};
for (const [label, serving] of [
  ['slateq-items as trained (optimal slates, learned choice model)', 'optimal'],
  ['greedy slates', 'greedy'],
  ['top-K by v (Q - Q0)', 'topk'],
] as const) {
  inner.params.serving = serving;
  evaluate(label, agent);
}
inner.weights = (n, h, h0, u, c, v, v0) => {
  ownWeights(n, h, h0, u, c, v, v0);
  v.fill(1);
};
inner.params.serving = 'topk';
evaluate('top-K by Q - Q0 (every v equal: the item values alone)', agent);
inner.weights = ownWeights;
inner.params.serving = 'optimal';
for (const stat of ['rewardPerLength', 'rewardPerClick'] as const) {
  const ranker = await makeAgent('item-stat-rank', { stat }, { envId, envParams, seed: 0 });
  const ck = ranker.save() as AgentCheckpoint & { state: { items: unknown } };
  ck.state.items = inner.items.state();
  ranker.load(ck);
  evaluate(`item-stat-rank (${stat}) on slateq-items' own item statistics`, ranker);
}
agent.dispose();
mkdirSync('results/bench', { recursive: true });
writeFileSync('results/bench/probe-slateq-items.json', JSON.stringify({ envId, envParams, users, heldOut: HELD_OUT, trainUserSteps: spec.train.userSteps, params: a.params, rows }, null, 2) + '\n');
