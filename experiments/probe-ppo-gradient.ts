/**
 * Does PPO's gradient point along the watched-fraction column on retention-v1? (README: experiments/probe-ppo-path.ts
 * found PPO's own sampled objective J_day(0.9) rising steeply as weight is added on that column at the point where
 * `ppo-items-tuned-wide` ends, a weight its training leaves at about 0.17.)
 *
 * The probe trains `ppo-items-tuned-wide` (experiments/tuning/wide-scorers.json) as the sweep's cells are (tuning
 * seeds 10 and 11, 128,000 user-steps) and records, at every minibatch step, the gradient PPO's update takes
 * (the loss's gradient before the global-norm clip, negated: the direction of ascent) in two directions of the
 * actor's parameters:
 *   wf:      the wide weight of the watched-fraction column (the probe's `add` path), and
 *   sharpen: the head's weights and bias and the wide weights as they are (their own direction, which scales
 *            every score: the probe's `sharpen` path),
 * the second as the directional derivative g . theta over those parameters. Training is unchanged (the optimizer
 * is wrapped, not replaced: the learner's held-out return reproduces the sweep's cells to the digit). Then, the
 * policy frozen where it ended (no step applied) and its item statistics still counting, it collects 64 more
 * rollouts of the same size on other training users (population 100500 + seed) and records the same gradients
 * there. Each rollout's minibatch gradients are averaged into one value per update; the file keeps them, and
 * their mean, sd and t = mean / (sd / sqrt(n)) per quarter of training and at the frozen end, and for the column's
 * weight the root mean square of the minibatch gradients and the mean over it (Adam moves a weight by about its
 * rate times that ratio per step). A positive mean
 * with a large t says PPO's expected gradient points up the column; one near 0 says its estimate of the slope the
 * probe measured is lost in noise or biased. The same is recorded for the wide-sgd sweep's
 * `ppo-items-tuned-wide-sgd01` (experiments/tuning/wide-sgd.json: the wide weights trained by gradient descent at
 * 0.1 instead of Adam), and for both the wide weights where training ends, column by column. Nothing is chosen
 * from it.
 *
 *   npx tsx experiments/probe-ppo-gradient.ts
 *     (writes results/bench/probe-ppo-gradient.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import { makeVec } from '../envs/registry.js';
import { trainAgent } from '../agents/loop.js';
import { evaluateAgent } from './evaluate.js';
import { mean, sd } from './stats.js';
import { scriptSpec } from './script-args.js';
import { TRAINING_POPULATION } from './run-cell.js';
import type { tf } from '../policies/backend.js';
import type { Adam } from '../policies/nn.js';
import type { PpoAgent } from '../agents/ppo.js';
import { InvalidArgument } from '../envs/errors.js';

const SPEC = 'experiments/tuning/wide-scorers.json';
/** The learners: the wide-scorers sweep's, and the wide-sgd sweep's with its wide weights trained by gradient descent. */
const LEARNERS = [
  { spec: SPEC, label: 'ppo-items-tuned-wide' },
  { spec: 'experiments/tuning/wide-sgd.json', label: 'ppo-items-tuned-wide-sgd01' },
];
const SEEDS = [10, 11];
const FROZEN_UPDATES = 64;
const FROZEN_POPULATION = TRAINING_POPULATION + 500;

const { spec } = scriptSpec(SPEC);
const { id: envId, params } = spec.env;
const envParams = params ?? {};
const layout = makeVec(envId, envParams, { numEnvs: 1 }).layout;
const B = spec.train.numEnvs;
// The wide weights' columns: the candidate features, then the item columns.
const columns: string[] = [];
for (const f of layout.candidateFeatures) for (let j = 0; j < f.size; j++) columns[f.offset + j] = f.size > 1 ? `${f.name}[${j}]` : f.name;
columns.push('clickRate', 'rewardPerClick', 'logShows', 'watchedFraction');

interface Stat {
  n: number;
  mean: number;
  sd: number;
  t: number;
}
const summarize = (x: number[]): Stat => {
  const m = mean(x);
  const s = x.length > 1 ? sd(x) : NaN;
  return { n: x.length, mean: m, sd: s, t: m / (s / Math.sqrt(x.length)) };
};

const perSeed = [];
for (const { spec: file, label } of LEARNERS) for (const seed of SEEDS) {
  const { spec: its, agent: fromSpec } = scriptSpec(file);
  if (JSON.stringify([its.env, its.train, its.final]) !== JSON.stringify([spec.env, spec.train, spec.final])) throw new InvalidArgument(`probe: ${file} trains or evaluates otherwise than ${SPEC}`);
  const { id, params: p } = fromSpec(label);
  if (id !== 'ppo' || p.wide !== true) throw new InvalidArgument(`probe: ${file}'s ${label} is not PPO with the wide part`);
  const learner = (await makeAgent(id, p, { envId, envParams, seed })) as PpoAgent;
  const actorVars = learner.actor.params.vars;
  const byName = (re: RegExp) => {
    const v = actorVars.find((x) => re.test(x.name));
    if (!v) throw new InvalidArgument(`probe: the actor has no variable matching ${re}`);
    return v;
  };
  const head = [byName(/actorW3/), byName(/actorb3/), byName(/actorWw/)];
  const ww = head[2]!;
  const Fa = ww.shape[0]!;
  if (Fa !== layout.F + 4) throw new InvalidArgument(`probe: unexpected wide weights ${ww.name} ${ww.shape}`);
  // Wrap the step (Adam's, or with wideSgdLr the agent's own, which also clips): read the gradients (the update
  // passes them in the order of its variables), then let the step go on (training) or dispose them unapplied
  // (frozen).
  type Step = (grads: tf.Tensor[], maxNorm: number) => number;
  const sgd = typeof p.wideSgdLr === 'number' && p.wideSgdLr > 0;
  const host = (sgd ? learner : (learner as unknown as { opt: Adam }).opt) as unknown as Record<'applyWideSgd' | 'applyClipped', Step>;
  const method = sgd ? 'applyWideSgd' : 'applyClipped';
  const original = host[method].bind(host);
  const vars = [...actorVars, ...learner.critic.params.vars];
  const at = head.map((h) => vars.indexOf(h));
  let frozen = false;
  let wfNow: number[] = [];
  let sharpenNow: number[] = [];
  host[method] = (grads, maxNorm) => {
    const g = at.map((i) => grads[i]!.dataSync() as Float32Array);
    wfNow.push(-g[2]![Fa - 1]!);
    let d = 0;
    head.forEach((h, k) => {
      const theta = h.dataSync() as Float32Array;
      for (let j = 0; j < theta.length; j++) d -= g[k]![j]! * theta[j]!;
    });
    sharpenNow.push(d);
    if (!frozen) return original(grads, maxNorm);
    for (const x of grads) x.dispose();
    return 0;
  };
  const perUpdate: { userSteps: number; wf: number; sharpen: number; wfWeight: number; wfMeanSquare: number }[] = [];
  const onUpdate = (_m: Record<string, number>, t: number) => {
    perUpdate.push({ userSteps: (t + 1) * B, wf: mean(wfNow), sharpen: mean(sharpenNow), wfWeight: (ww.dataSync() as Float32Array)[Fa - 1]!, wfMeanSquare: mean(wfNow.map((x) => x * x)) });
    wfNow = [];
    sharpenNow = [];
  };
  trainAgent(learner, makeVec(envId, envParams, { numEnvs: B, autoresetMode: 'same-step' }), { steps: spec.train.userSteps / B, seed: TRAINING_POPULATION + seed, onUpdate });
  const cellReturn = mean(evaluateAgent(envId, envParams, learner, { users: spec.final.users ?? 500, seed: spec.final.seed }).return);
  const wideWeights = Object.fromEntries(Array.from(ww.dataSync() as Float32Array, (x, j) => [columns[j] ?? String(j), x]));
  const training = perUpdate.slice();
  perUpdate.length = 0;
  frozen = true;
  const rollout = training.length > 0 ? spec.train.userSteps / training.length / B : 1;
  trainAgent(learner, makeVec(envId, envParams, { numEnvs: B, autoresetMode: 'same-step' }), { steps: FROZEN_UPDATES * rollout, seed: FROZEN_POPULATION + seed, onUpdate });
  const atEnd = perUpdate.slice();
  const quarters = [0, 1, 2, 3].map((q) => {
    const part = training.slice(Math.floor((q * training.length) / 4), Math.floor(((q + 1) * training.length) / 4));
    const rms = Math.sqrt(mean(part.map((x) => x.wfMeanSquare)));
    const wf = summarize(part.map((x) => x.wf));
    // Adam moves a weight by about lr x (mean gradient) / (root mean square gradient) per step.
    return { quarter: q + 1, wf, wfMinibatchRms: rms, wfMeanOverRms: wf.mean / rms, sharpen: summarize(part.map((x) => x.sharpen)), wfWeightAtEnd: part.at(-1)!.wfWeight };
  });
  const frozenEnd = { wf: summarize(atEnd.map((x) => x.wf)), sharpen: summarize(atEnd.map((x) => x.sharpen)) };
  console.log(`${label}, seed ${seed}: return ${cellReturn.toFixed(1)}; ${training.length} updates; wide weights ${Object.entries(wideWeights).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
  for (const q of quarters) console.log(`  quarter ${q.quarter}: wf ${q.wf.mean.toExponential(2)} (t ${q.wf.t.toFixed(2)}, minibatch rms ${q.wfMinibatchRms.toExponential(2)}, mean / rms ${q.wfMeanOverRms.toFixed(3)}), sharpen ${q.sharpen.mean.toExponential(2)} (t ${q.sharpen.t.toFixed(2)}), wf weight ${q.wfWeightAtEnd.toFixed(3)}`);
  console.log(`  frozen end, ${atEnd.length} updates: wf ${frozenEnd.wf.mean.toExponential(2)} (t ${frozenEnd.wf.t.toFixed(2)}), sharpen ${frozenEnd.sharpen.mean.toExponential(2)} (t ${frozenEnd.sharpen.t.toFixed(2)})`);
  perSeed.push({ learner: label, spec: file, seed, cellReturn, wideWeights, quarters, frozenEnd, training, atEnd });
  learner.dispose();
}
mkdirSync('results/bench', { recursive: true });
writeFileSync('results/bench/probe-ppo-gradient.json', JSON.stringify({ command: 'npx tsx experiments/probe-ppo-gradient.ts', learners: LEARNERS, seeds: SEEDS, frozenUpdates: FROZEN_UPDATES, frozenPopulation: 'TRAINING_POPULATION + 500 + seed', perSeed }, null, 1) + '\n');
