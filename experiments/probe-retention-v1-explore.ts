/**
 * What ranking by quality is worth to users served with exploration (README, "What this says, plainly"). The deep
 * agents on retention-v1 learn from the users of their own sampled slates, and the items their scorers pick
 * where `item-watch-rank` would not are longer and of lower quality (experiments/probe-retention-v1-stats.ts,
 * `picks`). This probe measures how much ranking by quality beats ranking by length when every user's future
 * slates are partly random, as a learner's training users' are: `item-watch-rank` (top-K by the watched-fraction
 * statistic, which tracks the hidden quality) against `item-minutes-rank` (top-K by minutes per click, which
 * grows with the item's length: the immediate reward), both reading the same statistics (the ones
 * `item-watch-rank` counted in its flagship cell of that seed), each serving a uniformly random slate with
 * probability epsilon at every step (the bandit's own exploration, at a fixed epsilon), on the flagship's
 * held-out users. A diagnostic, not a tuning run: nothing is chosen from it.
 *
 *   npx tsx experiments/probe-retention-v1-explore.ts [--seeds 5] [--users 1000]
 *     (writes results/bench/probe-retention-v1-explore.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import { evaluateAgent } from './evaluate.js';
import { mean, pairedDifference } from './stats.js';
import { scriptCount, scriptSpec, trainAsCell } from './script-args.js';
import { statsOf } from './picks.js';

const seeds = scriptCount('seeds', 5);
const users = scriptCount('users', 1000);
const envId = 'retention-v1';
const envParams = { worldSeed: 0 };
const HELD_OUT = 2000;
const EPSILONS = [0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.8];
const RANKERS = ['item-watch-rank', 'item-minutes-rank'] as const;
const { spec, agent: fromSpec } = scriptSpec('experiments/specs/flagship.json');

interface Row {
  seed: number;
  epsilon: number;
  /** Lifetime return and active days per ranker. */
  returns: Record<(typeof RANKERS)[number], number>;
  activeDays: Record<(typeof RANKERS)[number], number>;
}
const rows: Row[] = [];
for (let seed = 0; seed < seeds; seed++) {
  const counted = fromSpec('item-watch-rank');
  const trained = await makeAgent(counted.id, counted.params, { envId, envParams, seed });
  trainAsCell(trained, envId, envParams, spec.train, seed);
  const stats = statsOf(trained).state();
  for (const epsilon of EPSILONS) {
    const row: Row = { seed, epsilon, returns: { 'item-watch-rank': NaN, 'item-minutes-rank': NaN }, activeDays: { 'item-watch-rank': NaN, 'item-minutes-rank': NaN } };
    for (const label of RANKERS) {
      const { id, params } = fromSpec(label);
      const a = await makeAgent(id, { ...params, epsilonEnd: epsilon }, { envId, envParams, seed });
      statsOf(a).load(stats);
      const o = evaluateAgent(envId, envParams, a, { users, seed: HELD_OUT, explore: epsilon > 0 });
      row.returns[label] = mean(o.return);
      row.activeDays[label] = mean(o.activeDays);
    }
    rows.push(row);
    console.log(`seed ${seed} epsilon ${epsilon}: item-watch-rank ${row.returns['item-watch-rank'].toFixed(1)}, item-minutes-rank ${row.returns['item-minutes-rank'].toFixed(1)}`);
  }
}
const byEpsilon = EPSILONS.map((epsilon) => {
  const r = rows.filter((x) => x.epsilon === epsilon);
  const watch = r.map((x) => x.returns['item-watch-rank']);
  const minutes = r.map((x) => x.returns['item-minutes-rank']);
  return { epsilon, watch: mean(watch), minutes: mean(minutes), difference: pairedDifference(watch, minutes) };
});
mkdirSync('results/bench', { recursive: true });
writeFileSync(
  'results/bench/probe-retention-v1-explore.json',
  JSON.stringify({ command: `npx tsx experiments/probe-retention-v1-explore.ts --seeds ${seeds} --users ${users}`, envId, envParams, heldOut: HELD_OUT, users, epsilons: EPSILONS, rows, byEpsilon }, null, 1) + '\n',
);
for (const b of byEpsilon) console.log(`epsilon ${b.epsilon}: item-watch-rank ${b.watch.toFixed(1)}, item-minutes-rank ${b.minutes.toFixed(1)}, difference ${b.difference.mean.toFixed(1)} [${b.difference.lo.toFixed(1)}, ${b.difference.hi.toFixed(1)}]`);
