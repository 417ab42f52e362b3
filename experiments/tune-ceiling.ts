/**
 * Tuning the ceiling oracle's satisfactionWeight on users disjoint from every evaluation population:
 * population 777 (the runner's held-out populations are 1000 and 2000, training 100000 + seed, logging
 * 1000000 + seed), world 0. Writes results/bench/ceiling-tuning.json.
 *
 *   npx tsx experiments/tune-ceiling.ts [--users 600] [--env retention-v1]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import { evaluateAgent } from './evaluate.js';
import { mean } from './stats.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : d;
};
const envId = arg('env', 'retention-v1');
const users = Number(arg('users', '600'));
const POPULATION = 777;
const weights = [0, 5, 10, 15, 20, 25, 30, 45, 60, 120];
const rows: { satisfactionWeight: number; meanReturn: number }[] = [];
for (const w of weights) {
  const a = await makeAgent('ceiling-oracle', { satisfactionWeight: w }, { envId, envParams: { worldSeed: 0 }, seed: 0 });
  const o = evaluateAgent(envId, { worldSeed: 0 }, a, { users, seed: POPULATION });
  rows.push({ satisfactionWeight: w, meanReturn: mean(o.return) });
  console.log(`satisfactionWeight ${String(w).padStart(4)}: mean lifetime return ${mean(o.return).toFixed(1)}`);
}
const best = rows.reduce((a, b) => (b.meanReturn > a.meanReturn ? b : a));
console.log(`best: ${best.satisfactionWeight}`);
mkdirSync('results/bench', { recursive: true });
writeFileSync('results/bench/ceiling-tuning.json', JSON.stringify({ envId, world: 0, population: POPULATION, users, rows, best: best.satisfactionWeight }, null, 2) + '\n');
