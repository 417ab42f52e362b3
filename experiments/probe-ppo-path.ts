/**
 * Is there a way uphill, in PPO's own objective, from where PPO ends on retention-v1 to the one-column ranking
 * that beats it? (README, "Given the ranker's ranking, PPO keeps it; from scratch it does not find it":
 * experiments/probe-ppo-from-ranker.ts showed that PPO started at the ranking stays there, and that from scratch
 * it ends 58 minutes lower; not why its training does not climb from one to the other.)
 *
 * The probe trains `ppo-items-tuned-wide` (experiments/tuning/wide-scorers.json) from scratch, as the sweep's
 * cells are (tuning seeds 10 and 11, 128,000 user-steps), and then, its item statistics frozen, walks the straight
 * line in score space from its scores s to the ranking by its own watched-fraction column:
 *   score_t(i) = (1 - t) s(i) + t alpha wf(i),  t = 0 ... 1,
 * (the head's weights and the wide weights scaled by 1 - t, alpha added to the wide weight of the watched-fraction
 * column, normalized as the scorer sees it; the same construction as probe-ppo-from-ranker.ts's start at t = 1).
 * Each point is a policy: its greedy top-K (what evaluation serves) and its Plackett-Luce samples (what PPO
 * trains and improves). For both it measures, on 1,000 held-out users of population 3000 (the first 500 are the
 * sweep's), the lifetime return and the per-day discounted return J_day(0.9) (experiments/objectives.ts), the
 * objective PPO maximizes with its day discount of 0.9 and gamma 1. alpha sets how sharp the samples are at the
 * ranking's end (1 and 3, as in probe-ppo-from-ranker.ts). If the sampled objective rises along the line, PPO's
 * gradient has a way up that its training does not take; if it falls first, or ends lower, the learner sits in
 * a local optimum of its own objective, or its objective prefers where it is. Two more paths take the line apart:
 *   sharpen: c s(i), c > 1 (the same ranking, sharper samples: the greedy slates do not change), and
 *   add:     s(i) + beta wf(i) (the learner's own scores plus more weight on the column, which is the direction of
 *            one of its parameters, the wide weight of the column; the probe prints the value PPO left there), and
 *   add minutes per click: s(i) + beta mpc(i), the same with the minutes-per-click column (reward per click), whose
 *            wide weight PPO's gradient raises too (experiments/probe-ppo-gradient.ts).
 * Nothing is chosen from it.
 *
 *   npx tsx experiments/probe-ppo-path.ts
 *     (writes results/bench/probe-ppo-path.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import { makeVec } from '../envs/registry.js';
import { evaluateAgent } from './evaluate.js';
import { discountedReturns } from './objectives.js';
import { mean } from './stats.js';
import { scriptSpec, trainAsCell } from './script-args.js';
import { tf } from '../policies/backend.js';
import type { PpoAgent } from '../agents/ppo.js';
import { InvalidArgument } from '../envs/errors.js';

const SPEC = 'experiments/tuning/wide-scorers.json';
const LEARNER = 'ppo-items-tuned-wide';
const SEEDS = [10, 11];
/** The points: `scale` multiplies the learner's scores, `wf` is the weight added on the watched-fraction column. */
const PATHS: { path: string; param: number; scale: number; wf: number; rpc?: number }[] = [
  ...[1, 3].flatMap((alpha) => [0, 0.2, 0.4, 0.6, 0.8, 1].map((t) => ({ path: `blend, alpha ${alpha}`, param: t, scale: 1 - t, wf: t * alpha }))),
  ...[1.5, 2, 3].map((c) => ({ path: 'sharpen', param: c, scale: c, wf: 0 })),
  ...[0.5, 1, 2, 3].map((beta) => ({ path: 'add', param: beta, scale: 1, wf: beta })),
  // `rpc` adds weight on the minutes-per-click column (reward per click) instead: the other column whose wide weight
  // PPO's gradient raises (experiments/probe-ppo-gradient.ts).
  ...[0.5, 1, 2].map((beta) => ({ path: 'add minutes per click', param: beta, scale: 1, wf: 0, rpc: beta })),
];
const USERS = 1000;
const DAY = 0.9;

const { spec, agent: fromSpec } = scriptSpec(SPEC);
const { id: envId, params } = spec.env;
const envParams = params ?? {};
const layout = makeVec(envId, envParams, { numEnvs: 1 }).layout;
const heldOut = spec.final.seed;

interface Point {
  path: string;
  /** t on the blend, c on sharpen, beta on add. */
  param: number;
  greedy: { lifetime: number; jDay: number };
  sampled: { lifetime: number; jDay: number };
}
const perSeed: { seed: number; cellReturn: number; wfWideWeight: number; points: Point[] }[] = [];
for (const seed of SEEDS) {
  const { id, params: p } = fromSpec(LEARNER);
  if (id !== 'ppo' || p.wide !== true) throw new InvalidArgument(`probe: ${SPEC}'s ${LEARNER} is not PPO with the wide part`);
  const learner = (await makeAgent(id, p, { envId, envParams, seed })) as PpoAgent;
  trainAsCell(learner, envId, envParams, spec.train, seed);
  // The cell's own number: the same users as the sweep's summary (its first `final.users`).
  const cellReturn = mean(evaluateAgent(envId, envParams, learner, { users: spec.final.users ?? 500, seed: heldOut }).return);
  const vars = learner.actor.params.vars;
  const byName = (re: RegExp) => {
    const v = vars.find((x) => re.test(x.name));
    if (!v) throw new InvalidArgument(`probe: the actor has no variable matching ${re}`);
    return v;
  };
  const [w3, b3, ww] = [byName(/actorW3/), byName(/actorb3/), byName(/actorWw/)];
  const Fa = ww.shape[0]!;
  if (Fa !== layout.F + 4) throw new InvalidArgument(`probe: unexpected wide weights ${ww.name} ${ww.shape}`);
  const w30 = Float32Array.from(w3.dataSync());
  const b30 = Float32Array.from(b3.dataSync());
  const ww0 = Float32Array.from(ww.dataSync());
  const points: Point[] = [];
  for (const pt0 of PATHS) {
    const scaled = (a: Float32Array) => a.map((x) => pt0.scale * x);
    const w = scaled(ww0);
    w[Fa - 1]! += pt0.wf;
    // The item columns are click rate, reward per click, log(1 + shows), reward per length: reward per click is Fa - 3.
    w[Fa - 3]! += pt0.rpc ?? 0;
    w3.assign(tf.tensor(scaled(w30), w3.shape));
    b3.assign(tf.tensor(scaled(b30), b3.shape));
    ww.assign(tf.tensor(w, ww.shape));
    const measure = (explore: boolean) => {
      const j = discountedReturns(envId, envParams, learner, { users: USERS, seed: heldOut, gammas: [1], dayDiscounts: [DAY], explore });
      return { lifetime: j.perStep['gamma 1']!, jDay: j.perDay[`day ${DAY}`]! };
    };
    // Sharpening keeps the ranking: the greedy slates are those of the learner itself (the blend's t = 0).
    const greedy = pt0.path === 'sharpen' ? points[0]!.greedy : measure(false);
    const pt: Point = { path: pt0.path, param: pt0.param, greedy, sampled: measure(true) };
    points.push(pt);
    console.log(`seed ${seed} ${pt.path} ${pt.param}: greedy ${pt.greedy.lifetime.toFixed(1)} (J_day ${pt.greedy.jDay.toFixed(1)}), sampled ${pt.sampled.lifetime.toFixed(1)} (J_day ${pt.sampled.jDay.toFixed(1)})`);
  }
  perSeed.push({ seed, cellReturn, wfWideWeight: ww0[Fa - 1]!, points });
  console.log(`seed ${seed}: the trained learner on the sweep's ${spec.final.users ?? 500} users ${cellReturn.toFixed(1)}; its wide weight on the watched-fraction column ${ww0[Fa - 1]!.toFixed(3)}`);
  learner.dispose();
}
const means = perSeed[0]!.points.map((pt, i) => {
  const at = (f: (x: Point) => number) => mean(perSeed.map((s) => f(s.points[i]!)));
  return {
    path: pt.path,
    param: pt.param,
    greedy: { lifetime: at((x) => x.greedy.lifetime), jDay: at((x) => x.greedy.jDay) },
    sampled: { lifetime: at((x) => x.sampled.lifetime), jDay: at((x) => x.sampled.jDay) },
  };
});
mkdirSync('results/bench', { recursive: true });
writeFileSync('results/bench/probe-ppo-path.json', JSON.stringify({ command: 'npx tsx experiments/probe-ppo-path.ts', spec: SPEC, learner: LEARNER, seeds: SEEDS, users: USERS, heldOutPopulation: heldOut, dayDiscount: DAY, perSeed, means }, null, 1) + '\n');
for (const m of means) console.log(`${m.path} ${m.param}: greedy ${m.greedy.lifetime.toFixed(1)} (J_day ${m.greedy.jDay.toFixed(1)}), sampled ${m.sampled.lifetime.toFixed(1)} (J_day ${m.sampled.jDay.toFixed(1)})`);
