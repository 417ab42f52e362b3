/**
 * What changes in the deep agents' picks on retention-v1 as they train longer (README, "What this says,
 * plainly"). With 2x and 4x the flagship's budget `ppo-items-tuned` and `reinforce-items` sharpen their
 * policies and earn less (the committed budget sweeps, results/bench/ppo-items-budget-*-tuning.json). This probe
 * retrains both learners as the cells of those sweeps are (experiments/tuning/wide-scorers.json for 128,000
 * user-steps, ppo-items-budget-256k.json and ppo-items-budget-512k.json: tuning seeds 10 and 11, training
 * population 100000 + seed, agent seed = seed), evaluates each on the sweeps' held-out users (population 3000,
 * 500 users; its return is the sweep's, kept beside it as `committedReturn`), and measures, as
 * experiments/probe-retention-v1-stats.ts does on the flagship, what its slates hold that `item-watch-rank`
 * reading the learner's own statistics would not (`picks`: share, length, hidden quality, watched fraction and
 * the other item columns of the items only one of them shows) and what that ranker earns. A diagnostic on tuning
 * seeds and users: nothing is chosen from it.
 *
 *   npx tsx experiments/probe-retention-v1-budget.ts
 *     (writes results/bench/probe-retention-v1-budget.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import { makeVec } from '../envs/registry.js';
import { evaluateAgent } from './evaluate.js';
import { mean } from './stats.js';
import { scriptSpec, trainAsCell } from './script-args.js';
import { InvalidArgument } from '../envs/errors.js';
import { type Picks, statsOf, summarizePicks, withOverlap } from './picks.js';

const RANKER = 'item-watch-rank';
const LEARNERS = ['ppo-items-tuned', 'reinforce-items'];
const BUDGETS = [
  { userSteps: 128000, spec: 'experiments/tuning/wide-scorers.json', summary: 'results/bench/wide-scorers-tuning.json' },
  { userSteps: 256000, spec: 'experiments/tuning/ppo-items-budget-256k.json', summary: 'results/bench/ppo-items-budget-256k-tuning.json' },
  { userSteps: 512000, spec: 'experiments/tuning/ppo-items-budget-512k.json', summary: 'results/bench/ppo-items-budget-512k-tuning.json' },
];
const SEEDS = [10, 11];

interface Row {
  userSteps: number;
  seed: number;
  learner: string;
  learnerReturn: number;
  committedReturn: number | null;
  rankerOnLearnerStats: number;
  picks: Picks;
}
const rows: Row[] = [];
for (const budget of BUDGETS) {
  const { spec, agent: fromSpec } = scriptSpec(budget.spec);
  if (spec.train.userSteps !== budget.userSteps) throw new InvalidArgument(`probe: ${budget.spec} trains ${spec.train.userSteps} user-steps, not ${budget.userSteps}`);
  const summary = JSON.parse(readFileSync(budget.summary, 'utf8')) as { groups: { label: string; seeds: number[]; metrics: { return: { perSeed: number[] } } }[] };
  const committed = (label: string, seed: number) => {
    const g = summary.groups.find((x) => x.label === label);
    return g ? (g.metrics.return.perSeed[g.seeds.indexOf(seed)] ?? null) : null;
  };
  const { id: envId, params } = spec.env;
  const envParams = params ?? {};
  const layout = makeVec(envId, envParams, { numEnvs: 1 }).layout;
  const users = spec.final.users ?? 500;
  const ranker = fromSpec(RANKER);
  for (const seed of SEEDS) {
    for (const label of LEARNERS) {
      const { id, params: p } = fromSpec(label);
      const learner = await makeAgent(id, p, { envId, envParams, seed });
      trainAsCell(learner, envId, envParams, spec.train, seed);
      const reader = await makeAgent(ranker.id, ranker.params, { envId, envParams, seed });
      statsOf(reader).load(statsOf(learner).state());
      const { agent, picks } = withOverlap(learner, reader, statsOf(reader), layout);
      const evaluate = (a: typeof agent) => mean(evaluateAgent(envId, envParams, a, { users, seed: spec.final.seed }).return);
      const learnerReturn = evaluate(agent);
      const rankerOnLearnerStats = evaluate(reader);
      const row: Row = { userSteps: budget.userSteps, seed, learner: label, learnerReturn, committedReturn: committed(label, seed), rankerOnLearnerStats, picks: picks() };
      rows.push(row);
      console.log(`${budget.userSteps} seed ${seed} ${label}: ${learnerReturn.toFixed(1)} (sweep ${row.committedReturn?.toFixed(1) ?? '-'}); ${RANKER} on its statistics ${rankerOnLearnerStats.toFixed(1)}; share the ranker would not show ${row.picks.learnerOnlyShare.toFixed(3)}; length / quality of those ${row.picks.learnerOnly.length.toFixed(2)} / ${row.picks.learnerOnly.quality.toFixed(3)}, of the ranker's instead ${row.picks.rankerOnly.length.toFixed(2)} / ${row.picks.rankerOnly.quality.toFixed(3)}`);
      (learner as unknown as { dispose?: () => void }).dispose?.();
    }
  }
}
const byBudget = BUDGETS.flatMap((b) =>
  LEARNERS.map((label) => {
    const r = rows.filter((x) => x.userSteps === b.userSteps && x.learner === label);
    return {
      userSteps: b.userSteps,
      learner: label,
      learnerReturn: mean(r.map((x) => x.learnerReturn)),
      rankerOnLearnerStats: mean(r.map((x) => x.rankerOnLearnerStats)),
      learnerOnlyShare: mean(r.map((x) => x.picks.learnerOnlyShare)),
      picks: summarizePicks(r.map((x) => x.picks)),
    };
  }),
);
mkdirSync('results/bench', { recursive: true });
writeFileSync('results/bench/probe-retention-v1-budget.json', JSON.stringify({ command: 'npx tsx experiments/probe-retention-v1-budget.ts', seeds: SEEDS, ranker: RANKER, rows, byBudget }, null, 1) + '\n');
for (const b of byBudget) console.log(`${b.userSteps} ${b.learner}: ${b.learnerReturn.toFixed(1)}, ranker on its statistics ${b.rankerOnLearnerStats.toFixed(1)}, share ${b.learnerOnlyShare.toFixed(3)}, length ${b.picks.length!.learnerOnly.toFixed(2)} / ${b.picks.length!.rankerOnly.toFixed(2)}, quality ${b.picks.quality!.learnerOnly.toFixed(3)} / ${b.picks.quality!.rankerOnly.toFixed(3)}`);
