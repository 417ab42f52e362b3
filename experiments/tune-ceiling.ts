/**
 * Tuning a ceiling oracle's one weight on users disjoint from every evaluation population: population 777 (the
 * runner's held-out populations are 1000 and 2000, training 100000 + seed, logging 1000000 + seed).
 * - retention-v1 (world 0): ceiling-oracle's satisfactionWeight; writes results/bench/ceiling-tuning.json.
 * - interest-evolution-v0 (the SlateQ paper's N 10, K 3): budget-oracle's budgetPrice; writes
 *   results/bench/budget-oracle-tuning.json.
 *
 *   npx tsx experiments/tune-ceiling.ts [--users 600] [--env retention-v1 | interest-evolution-v0]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import { evaluateAgent } from './evaluate.js';
import { mean } from './stats.js';
import { InvalidArgument } from '../envs/errors.js';
import { scriptArg, scriptCount } from './script-args.js';

const envId = scriptArg('env', 'retention-v1');
const users = scriptCount('users', 600);
const POPULATION = 777;
const setups: Record<string, { agent: string; param: string; grid: number[]; envParams: Record<string, unknown>; file: string }> = {
  'retention-v1': { agent: 'ceiling-oracle', param: 'satisfactionWeight', grid: [0, 5, 10, 15, 20, 25, 30, 45, 60, 120], envParams: { worldSeed: 0 }, file: 'ceiling-tuning.json' },
  'interest-evolution-v0': { agent: 'budget-oracle', param: 'budgetPrice', grid: [0, 0.5, 1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2, 3], envParams: { numCandidates: 10, slateSize: 3 }, file: 'budget-oracle-tuning.json' },
};
const setup = setups[envId];
if (!setup) throw new InvalidArgument(`tune-ceiling --env: ${envId} is not one of ${Object.keys(setups).join(', ')}`);
const rows: Record<string, number>[] = [];
for (const w of setup.grid) {
  const a = await makeAgent(setup.agent, { [setup.param]: w }, { envId, envParams: setup.envParams, seed: 0 });
  const o = evaluateAgent(envId, setup.envParams, a, { users, seed: POPULATION });
  rows.push({ [setup.param]: w, meanReturn: mean(o.return) });
  console.log(`${setup.param} ${String(w).padStart(4)}: mean return ${mean(o.return).toFixed(1)}`);
}
const best = rows.reduce((a, b) => (b.meanReturn! > a.meanReturn! ? b : a));
console.log(`best: ${best[setup.param]}`);
mkdirSync('results/bench', { recursive: true });
// retention-v1's file keeps the layout it had before interest-evolution-v0 joined it.
const head = envId === 'retention-v1' ? { envId, world: 0 } : { envId, envParams: setup.envParams, agent: setup.agent };
const out = { ...head, population: POPULATION, users, rows, best: best[setup.param] };
writeFileSync(`results/bench/${setup.file}`, JSON.stringify(out, null, 2) + '\n');
