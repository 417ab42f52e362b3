/**
 * What holds SlateQ below top-K by the quality estimate on retention-v0 (README, "The dueling split lifts SlateQ
 * here"). For retention-v0-deep's `slateq-day-sarsa` and `slateq-day-dueling`, trained as the runner trains their
 * seed-0 cells (256,000 user-steps, 32 users side by side, training population 100000), on the spec's held-out
 * population 2000 (500 users):
 *
 * 1. The return of the agent as trained (optimal slates under its learned choice model), which reproduces the
 *    runner's seed-0 cell;
 * 2. the return of top-K by its shifted item values alone (Q(s, i) - Q0(s), or A(s, i) with the split; serving
 *    'value'): its ordering of the candidates, without the choice model;
 * 3. the return of its optimal slates under the env's true choice model instead of the learned one;
 * 4. what its slates select (experiments/selection.ts): the selection differential of the quality estimate,
 *    ln(length) and appeal, next to top-K by the quality estimate.
 *
 *   npx tsx experiments/probe-slateq-v0.ts [--users 500]   (writes results/bench/probe-slateq-v0.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import type { Agent } from '../agents/api.js';
import type { SlateQAgent } from '../agents/slateq.js';
import { evaluateAgent } from './evaluate.js';
import { mean } from './stats.js';
import { scriptCount, scriptSpec, trainAsCell } from './script-args.js';
import { QUALITY_LENGTH_APPEAL, SelectionWatch } from './selection.js';

const users = scriptCount('users', 500);
const { spec, agent: fromSpec } = scriptSpec('experiments/specs/retention-v0-deep.json');
const envId = spec.env.id;
const envParams = spec.env.params ?? {};
const HELD_OUT = spec.final.seed;

const evaluate = (agent: Agent) => {
  const w = new SelectionWatch(agent, QUALITY_LENGTH_APPEAL);
  const o = evaluateAgent(envId, envParams, w, { users, seed: HELD_OUT });
  return { meanReturn: mean(o.return), ctr: mean(o.ctr), selection: w.result() };
};

/** The agent's private parts the probe switches: its serving rule and choice model. */
type Inside = { params: { serving: string }; choice: string; oracle: boolean };

const rows: Record<string, unknown>[] = [];
const qe = evaluate(await makeAgent('quality-estimate', {}, { envId, envParams, seed: 0 }));
rows.push({ label: 'quality-estimate', asServed: qe });
console.log(`quality-estimate: ${qe.meanReturn.toFixed(1)}, selection ${JSON.stringify(qe.selection)}`);
for (const label of ['slateq-day-sarsa', 'slateq-day-dueling']) {
  const a = fromSpec(label);
  const agent = (await makeAgent(a.id, a.params, { envId, envParams, seed: 0 })) as SlateQAgent;
  trainAsCell(agent, envId, envParams, { userSteps: 256000, numEnvs: 32 }, 0);
  const inside = agent as unknown as Inside;
  const asServed = evaluate(agent);
  // The true choice model (hidden choiceScore / noClickScore), with the same item values and optimal slates.
  inside.choice = 'env';
  inside.oracle = true;
  const trueChoice = evaluate(agent);
  inside.choice = 'learned';
  inside.oracle = false;
  // Top-K by the shifted item values alone (serving 'value': the choice model unused in serving).
  inside.params.serving = 'value';
  const byValue = evaluate(agent);
  rows.push({ label, asServed, topKByItemValue: byValue, optimalTrueChoice: trueChoice });
  console.log(`${label}: as served ${asServed.meanReturn.toFixed(1)} (selection ${JSON.stringify(asServed.selection)}), top-K by item value ${byValue.meanReturn.toFixed(1)}, optimal under the true choice model ${trueChoice.meanReturn.toFixed(1)}`);
  agent.dispose();
}

mkdirSync('results/bench', { recursive: true });
writeFileSync('results/bench/probe-slateq-v0.json', JSON.stringify({ envId, envParams, users, heldOut: HELD_OUT, seed: 0, trainingUserSteps: 256000, rows }, null, 2) + '\n');
