/**
 * Where the deep agents' gap to `item-watch-rank` on retention-v1 lies: in the per-item statistics they collect,
 * or in the ranking their scorer learns from them (README, "What this says, plainly"). The deep agents with
 * `itemFeedback` and `item-watch-rank` count the same per-item statistics (policies/item-feedback.ts) from their
 * own training steps and freeze them in evaluation, so the two parts can be swapped between trained agents:
 *
 * - the ranker on the learner's statistics: top-K by the learner's own watched-fraction column. If it earns what
 *   the ranker earns with its own statistics, the learner's exploration gathered statistics as good as the
 *   ranker's epsilon-greedy did, and the gap is in the scorer;
 * - the learner on the ranker's statistics: the trained scorer reading the ranker's counts;
 * - slate overlap: the share of the learner's slate that is in the ranker's slate for the same candidates (the
 *   ranker reading the learner's statistics), over every evaluation step of the held-out users;
 * - sampled slates: the learner evaluated on the slates it samples (exploring, as in training: the stochastic
 *   policy its policy gradient improves) next to its greedy top-K, and the ranker exploring (epsilon-greedy at its
 *   final epsilon) next to its greedy ranking;
 * - what the two disagree on (`picks`): over the same evaluation steps, the mean of each item column (the
 *   learner's statistics: click rate, reward per click, log(1 + shows), reward per length, i.e. the watched
 *   fraction), of the length, of the hidden true quality (read through `observation.hidden`, as the oracles do;
 *   no agent sees it) and of the rank by the watched-fraction column (0 the highest), for the items only the
 *   learner shows, the items only the ranker would show, and all candidates.
 *
 * Each learner is trained as the flagship's cell of that seed is (128,000 user-steps, 32 envs, training population
 * 100000 + seed, agent seed = seed, the flagship spec's params), so its return is the flagship's per-seed return
 * (each row keeps the committed one from results/reference/flagship/summary.json beside it, `committedReturn`), on
 * the flagship's held-out users (population 2000 of world 0). A diagnostic, not a tuning run: nothing is chosen
 * from it.
 *
 *   npx tsx experiments/probe-retention-v1-stats.ts [--seeds 5] [--users 1000]
 *     (writes results/bench/probe-retention-v1-stats.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import type { Agent } from '../agents/api.js';
import { makeVec } from '../envs/registry.js';
import { evaluateAgent } from './evaluate.js';
import { mean, pairedDifference } from './stats.js';
import { scriptCount, scriptSpec, trainAsCell } from './script-args.js';
import { type Picks, statsOf, summarizePicks, withOverlap } from './picks.js';

const seeds = scriptCount('seeds', 5);
const users = scriptCount('users', 1000);
const envId = 'retention-v1';
const envParams = { worldSeed: 0 };
const HELD_OUT = 2000;
const layout = makeVec(envId, envParams, { numEnvs: 1 }).layout;
const RANKER = 'item-watch-rank';
const LEARNERS = ['ppo-items', 'ppo-items-tuned', 'reinforce-items'];
const { spec, agent: fromSpec } = scriptSpec('experiments/specs/flagship.json');
const summary = JSON.parse(readFileSync('results/reference/flagship/summary.json', 'utf8')) as { groups: { label: string; metrics: { return: { perSeed: number[] } } }[] };
const committed = (label: string, seed: number) => summary.groups.find((g) => g.label === label)?.metrics.return.perSeed[seed];

const make = async (label: string, seed: number) => {
  const { id, params } = fromSpec(label);
  return makeAgent(id, params, { envId, envParams, seed });
};
const train = (a: Agent, seed: number) => trainAsCell(a, envId, envParams, spec.train, seed);
const evaluate = (a: Agent, explore = false) => mean(evaluateAgent(envId, envParams, a, { users, seed: HELD_OUT, explore }).return);

interface Row {
  seed: number;
  learner: string;
  learnerReturn: number;
  committedReturn: number | null;
  rankerReturn: number;
  rankerExploring: number;
  learnerSampling: number;
  rankerOnLearnerStats: number;
  learnerOnRankerStats: number;
  slateOverlap: number;
  picks: Picks;
}
const rows: Row[] = [];
for (let seed = 0; seed < seeds; seed++) {
  const ranker = await make(RANKER, seed);
  train(ranker, seed);
  const rankerReturn = evaluate(ranker);
  const rankerExploring = evaluate(ranker, true);
  const rankerStats = statsOf(ranker).state();
  for (const label of LEARNERS) {
    const learner = await make(label, seed);
    train(learner, seed);
    const learnerStats = statsOf(learner).state();
    const reader = await make(RANKER, seed);
    statsOf(reader).load(learnerStats);
    const { agent, overlap, picks } = withOverlap(learner, reader, statsOf(reader), layout);
    const learnerReturn = evaluate(agent);
    const learnerSampling = evaluate(learner, true);
    const rankerOnLearnerStats = evaluate(reader);
    statsOf(learner).load(rankerStats);
    const learnerOnRankerStats = evaluate(learner);
    const row: Row = { seed, learner: label, learnerReturn, committedReturn: committed(label, seed) ?? null, rankerReturn, rankerExploring, learnerSampling, rankerOnLearnerStats, learnerOnRankerStats, slateOverlap: overlap(), picks: picks() };
    rows.push(row);
    console.log(`seed ${seed} ${label}: ${learnerReturn.toFixed(1)} (flagship ${row.committedReturn?.toFixed(1) ?? '-'}); ${RANKER} ${rankerReturn.toFixed(1)}, on ${label}'s statistics ${rankerOnLearnerStats.toFixed(1)}; ${label} on ${RANKER}'s statistics ${learnerOnRankerStats.toFixed(1)}; slate overlap ${row.slateOverlap.toFixed(3)}; length / quality of the items only it shows ${row.picks.learnerOnly.length.toFixed(2)} / ${row.picks.learnerOnly.quality.toFixed(3)}, only ${RANKER} ${row.picks.rankerOnly.length.toFixed(2)} / ${row.picks.rankerOnly.quality.toFixed(3)}; sampled slates ${learnerSampling.toFixed(1)}, ${RANKER} exploring ${rankerExploring.toFixed(1)}`);
    (learner as unknown as { dispose?: () => void }).dispose?.();
  }
}
const byLearner = LEARNERS.map((label) => {
  const r = rows.filter((x) => x.learner === label);
  const col = (f: (x: Row) => number) => r.map(f);
  return {
    learner: label,
    learnerReturn: mean(col((x) => x.learnerReturn)),
    rankerOnLearnerStats: mean(col((x) => x.rankerOnLearnerStats)),
    learnerOnRankerStats: mean(col((x) => x.learnerOnRankerStats)),
    learnerSampling: mean(col((x) => x.learnerSampling)),
    rankerExploring: mean(col((x) => x.rankerExploring)),
    slateOverlap: mean(col((x) => x.slateOverlap)),
    statsGap: pairedDifference(col((x) => x.rankerReturn), col((x) => x.rankerOnLearnerStats)),
    scorerGap: pairedDifference(col((x) => x.rankerOnLearnerStats), col((x) => x.learnerReturn)),
    picks: summarizePicks(r.map((x) => x.picks)),
  };
});
mkdirSync('results/bench', { recursive: true });
writeFileSync(
  'results/bench/probe-retention-v1-stats.json',
  JSON.stringify({ command: `npx tsx experiments/probe-retention-v1-stats.ts --seeds ${seeds} --users ${users}`, envId, envParams, heldOut: HELD_OUT, users, ranker: RANKER, rows, byLearner }, null, 1) + '\n',
);
for (const b of byLearner) console.log(`${b.learner}: statistics gap (ranker own - ranker on learner's) ${b.statsGap.mean.toFixed(1)} [${b.statsGap.lo.toFixed(1)}, ${b.statsGap.hi.toFixed(1)}]; scorer gap (ranker on learner's - learner) ${b.scorerGap.mean.toFixed(1)} [${b.scorerGap.lo.toFixed(1)}, ${b.scorerGap.hi.toFixed(1)}]`);
