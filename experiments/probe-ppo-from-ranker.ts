/**
 * Does PPO's policy gradient keep the one-column ranking that beats it on retention-v1, or move away from it?
 * (README, "What this says, plainly": from scratch PPO converges to slates that `item-watch-rank` beats; whether
 * that is where its objective points or where its optimization gets stuck was not established.)
 *
 * The probe starts `ppo-items-tuned-wide` (ppo-items-tuned with the wide part, experiments/tuning/wide-scorers.json)
 * at the ranker's ranking: the wide weight of the watched-fraction column (reward per click per minute of length,
 * the agent's own item statistic, normalized as the scorer sees it) is set to `alpha`, every other wide weight
 * stays 0 and the deep part keeps its near-zero initial output, so the greedy slate is top-K by that column and the
 * sampled slates are Plackett-Luce around it, sharper the larger alpha. A diagnostic init, not an agent option: it
 * hands the learner the answer on purpose, to see what learning then does with it. Each start is then trained as
 * the sweeps' cells are (128,000 user-steps, 32 users side by side, training population 100000 + seed, tuning
 * seeds 10 and 11) and, as a control, "frozen": the same start and the same training steps with a learning rate of
 * 1e-9, so the policy stays where it started while its item statistics are counted from its own slates. Every
 * 32,000 user-steps the greedy policy is evaluated on 100 users of population 3100 (the sweeps' learning-curve
 * users); at the end on the sweeps' 500 held-out users of population 3000, through the same overlap measurement as
 * experiments/probe-retention-v1-budget.ts (`item-watch-rank` reading the learner's own statistics: what it earns,
 * and the items only the learner shows). A last start tests one reading of the result: PPO from scratch, but
 * with item statistics that are already informative when it starts learning (counted first by the same untrained,
 * frozen policy on 64,000 user-steps of other training users, population 100500 + seed), so that its early updates
 * do not learn from statistics that are still mostly prior. Nothing is chosen from it.
 *
 *   npx tsx experiments/probe-ppo-from-ranker.ts
 *     (writes results/bench/probe-ppo-from-ranker.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import { makeVec } from '../envs/registry.js';
import { trainAgent } from '../agents/loop.js';
import { evaluateAgent } from './evaluate.js';
import { mean } from './stats.js';
import { scriptSpec } from './script-args.js';
import { TRAINING_POPULATION } from './run-cell.js';
import { tf } from '../policies/backend.js';
import type { PpoAgent } from '../agents/ppo.js';
import { type Picks, statsOf, summarizePicks, withOverlap } from './picks.js';
import { InvalidArgument } from '../envs/errors.js';

const SPEC = 'experiments/tuning/wide-scorers.json';
const LEARNER = 'ppo-items-tuned-wide';
const RANKER = 'item-watch-rank';
const SEEDS = [10, 11];
const STARTS: { name: string; alpha: number; frozen: boolean; statsFirst?: number }[] = [
  { name: 'from ranker, alpha 1, trained', alpha: 1, frozen: false },
  { name: 'from ranker, alpha 3, trained', alpha: 3, frozen: false },
  { name: 'from ranker, alpha 3, frozen', alpha: 3, frozen: true },
  { name: 'from scratch (ppo-items-tuned-wide), trained', alpha: 0, frozen: false },
  { name: 'from scratch, statistics counted first for 64,000 user-steps, trained', alpha: 0, frozen: false, statsFirst: 64000 },
];
/** The users the statistics are counted on first (statsFirst): another training population of the same world. */
const STATS_FIRST_POPULATION = TRAINING_POPULATION + 500;
const CURVE_EVERY = 32000;

const { spec, agent: fromSpec } = scriptSpec(SPEC);
const { id: envId, params } = spec.env;
const envParams = params ?? {};
const layout = makeVec(envId, envParams, { numEnvs: 1 }).layout;
const B = spec.train.numEnvs;
const users = spec.final.users ?? 500;
const ranker = fromSpec(RANKER);
// The sweep's learning-curve users (its `eval` block).
const curveUsers = (JSON.parse(readFileSync(SPEC, 'utf8')) as { eval: { users: number; seed: number } }).eval;

interface Row {
  start: string;
  alpha: number;
  frozen: boolean;
  seed: number;
  curve: { userSteps: number; return: number }[];
  learnerReturn: number;
  rankerOnLearnerStats: number;
  picks: Picks;
}
const rows: Row[] = [];
for (const seed of SEEDS) {
  for (const st of STARTS) {
    const { id, params: p } = fromSpec(LEARNER);
    if (id !== 'ppo' || p.wide !== true) throw new InvalidArgument(`probe: ${SPEC}'s ${LEARNER} is not PPO with the wide part`);
    const learner = (await makeAgent(id, st.frozen ? { ...p, lr: 1e-9 } : p, { envId, envParams, seed })) as PpoAgent;
    // The wide weights [F + item columns, 1]: the last of the item columns is reward per click per minute of length.
    const ww = learner.actor.params.vars.at(-1)!;
    const Fa = ww.shape[0]!;
    if (!/actorWw/.test(ww.name) || Fa !== layout.F + 4) throw new InvalidArgument(`probe: unexpected wide weights ${ww.name} ${ww.shape}`);
    const w = new Float32Array(Fa);
    w[Fa - 1] = st.alpha;
    ww.assign(tf.tensor2d(w, [Fa, 1]));
    if (st.statsFirst) {
      // The untrained policy (the same init, frozen) serves other users of the world first; the learner then
      // starts with the item statistics they gave, and keeps counting as usual.
      const counter = await makeAgent(id, { ...p, lr: 1e-9 }, { envId, envParams, seed });
      trainAgent(counter, makeVec(envId, envParams, { numEnvs: B, autoresetMode: 'same-step' }), { steps: st.statsFirst / B, seed: STATS_FIRST_POPULATION + seed });
      statsOf(learner).load(statsOf(counter).state());
      (counter as PpoAgent).dispose();
    }
    const curve: Row['curve'] = [];
    let next = CURVE_EVERY;
    trainAgent(learner, makeVec(envId, envParams, { numEnvs: B, autoresetMode: 'same-step' }), {
      steps: spec.train.userSteps / B,
      seed: TRAINING_POPULATION + seed,
      onUpdate: (_m, t) => {
        const done = (t + 1) * B;
        if (done < next) return;
        next += CURVE_EVERY;
        curve.push({ userSteps: done, return: mean(evaluateAgent(envId, envParams, learner, { users: curveUsers.users, seed: curveUsers.seed }).return) });
      },
    });
    const reader = await makeAgent(ranker.id, ranker.params, { envId, envParams, seed });
    statsOf(reader).load(statsOf(learner).state());
    const { agent, picks } = withOverlap(learner, reader, statsOf(reader), layout);
    const evaluate = (a: typeof agent) => mean(evaluateAgent(envId, envParams, a, { users, seed: spec.final.seed }).return);
    const row: Row = { start: st.name, alpha: st.alpha, frozen: st.frozen, seed, curve, learnerReturn: evaluate(agent), rankerOnLearnerStats: evaluate(reader), picks: picks() };
    rows.push(row);
    console.log(`seed ${seed} ${st.name}: ${row.learnerReturn.toFixed(1)}; ranker on its statistics ${row.rankerOnLearnerStats.toFixed(1)}; share the ranker would not show ${row.picks.learnerOnlyShare.toFixed(3)}; curve ${curve.map((c) => `${c.userSteps}:${c.return.toFixed(0)}`).join(' ')}`);
    learner.dispose();
  }
}
const byStart = STARTS.map((st) => {
  const r = rows.filter((x) => x.start === st.name);
  return {
    start: st.name,
    learnerReturn: mean(r.map((x) => x.learnerReturn)),
    rankerOnLearnerStats: mean(r.map((x) => x.rankerOnLearnerStats)),
    learnerOnlyShare: mean(r.map((x) => x.picks.learnerOnlyShare)),
    curve: r[0]!.curve.map((c, i) => ({ userSteps: c.userSteps, return: mean(r.map((x) => x.curve[i]!.return)) })),
    picks: summarizePicks(r.map((x) => x.picks)),
  };
});
mkdirSync('results/bench', { recursive: true });
writeFileSync('results/bench/probe-ppo-from-ranker.json', JSON.stringify({ command: 'npx tsx experiments/probe-ppo-from-ranker.ts', spec: SPEC, learner: LEARNER, seeds: SEEDS, ranker: RANKER, rows, byStart }, null, 1) + '\n');
for (const b of byStart) console.log(`${b.start}: ${b.learnerReturn.toFixed(1)}, ranker on its statistics ${b.rankerOnLearnerStats.toFixed(1)}, share ${b.learnerOnlyShare.toFixed(3)}, length ${b.picks.length!.learnerOnly.toFixed(2)} / ${b.picks.length!.rankerOnly.toFixed(2)}, quality ${b.picks.quality!.learnerOnly.toFixed(3)} / ${b.picks.quality!.rankerOnly.toFixed(3)}; curve ${b.curve.map((c) => c.return.toFixed(0)).join(' ')}`);
