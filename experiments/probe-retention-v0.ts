/**
 * Why the deep agents stall below top-K by the quality estimate on retention-v0 (README, "The deep agents against
 * one column on retention-v0"). Three probes, on the held-out population 2000 of world 0 (500 users) unless said:
 *
 * 1. Consistency: each step, with probability p the slate is top-K by the quality estimate, else a uniform random
 *    slate (per-user streams). The mean return as a function of p shows how much a policy gains from choosing
 *    quality only some of the time.
 * 2. Two-column rankers: top-K by qualityEstimate + b ln(length) + a appeal, the weights picked on population 777
 *    (disjoint from every population the runner uses) and reported on 2000.
 * 3. What each policy selects: for every served slate, the mean of each candidate feature over the slate minus
 *    its mean over the N candidates, in units of the candidates' standard deviation (a selection differential),
 *    averaged over all steps of all users; for quality-estimate, the best two-column ranker, ceiling-oracle and
 *    PPO trained for 256,000 user-steps (seed 0, population 100000 as the runner's training users) with the
 *    retention-v0-deep spec's settings, with and without consumedHistory.
 * 4. The objective a discounted learner maximizes: for the same policies, the myopic oracle, and PPO with
 *    consumedHistory trained at gamma 0.999 and with dayDiscount 0.8 (gamma 1), the start-state discounted return
 *    J_gamma = mean over users of sum_t gamma^t r_t, t counting user-steps (one slate) from the user's first step,
 *    for gamma 0.9 ... 1 (gamma 1: the lifetime return), and the return discounted per calendar day,
 *    J_day(delta) = mean over users of sum_t delta^(day_t) r_t, day_t the (fractional) day of step t. It shows
 *    whether PPO at its gamma of 0.99 fails to optimize its objective, or optimizes an objective that does not
 *    separate the policies the lifetime return separates.
 *
 *   npx tsx experiments/probe-retention-v0.ts [--users 500]   (writes results/bench/probe-retention-v0.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import '../agents/index.js';
import { makeAgent } from '../agents/registry.js';
import { LinearRankAgent } from '../agents/baselines.js';
import { type Agent, type AgentEnvInfo, type AgentObservation, BaseAgent, PerUserStreams } from '../agents/api.js';
import { sampleDistinct } from '../envs/rng.js';
import { topK } from '../policies/slates.js';
import { evaluateAgent } from './evaluate.js';
import { discountedReturns } from './objectives.js';
import { mean } from './stats.js';
import { scriptCount, trainAsCell } from './script-args.js';
import { QUALITY_LENGTH_APPEAL, SelectionWatch } from './selection.js';

const users = scriptCount('users', 500);
const envId = 'retention-v0';
const envParams = { worldSeed: 0 };
const HELD_OUT = 2000;
const TUNING = 777;
const info: AgentEnvInfo = (await makeAgent('random', {}, { envId, envParams, seed: 0 })).env;
const { N, K } = info.layout;

/**
 * Top-K by qualityEstimate + logLength ln(length) + appeal x appeal (linear-rank's score), or with probability
 * 1 - p a uniform random slate.
 */
class Ranker extends BaseAgent {
  readonly id = 'probe-ranker';
  private readonly streams = new PerUserStreams(0, 'probe');
  private readonly score = new Float64Array(N);
  private readonly linear: LinearRankAgent;
  constructor(
    private readonly w: { appeal: number; logLength: number; p: number },
    env: AgentEnvInfo,
  ) {
    super({}, env, 0);
    const terms = [
      { feature: 'qualityEstimate', weight: 1 },
      { feature: 'length', weight: w.logLength, transform: 'log' as const },
      { feature: 'appeal', weight: w.appeal },
    ];
    this.linear = new LinearRankAgent({ terms }, env, 0);
  }
  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      const rng = this.streams.get(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      if (this.w.p < 1 && rng() >= this.w.p) {
        sampleDistinct(rng, N, K, out, s * K);
        continue;
      }
      this.linear.scoreSlot(obs.candidates, s, this.score);
      topK(this.score, 0, N, K, out, s * K);
    }
    return out;
  }
}

const evaluate = (agent: Agent, seed = HELD_OUT) => {
  const w = new SelectionWatch(agent, QUALITY_LENGTH_APPEAL);
  const o = evaluateAgent(envId, envParams, w, { users, seed });
  return { meanReturn: mean(o.return), ctr: mean(o.ctr), selection: w.result() };
};

// 1. Consistency.
const consistency = [0, 0.25, 0.5, 0.75, 0.9, 1].map((p) => ({ p, ...evaluate(new Ranker({ appeal: 0, logLength: 0, p }, info)) }));
for (const r of consistency) console.log(`consistency p ${r.p}: ${r.meanReturn.toFixed(1)}`);

// 2. Two-column rankers, picked on the tuning population.
const grid: { appeal: number; logLength: number }[] = [];
for (const logLength of [0, 0.05, 0.1, 0.2, 0.3, 0.4]) for (const appeal of [-0.4, -0.2, 0, 0.2]) grid.push({ appeal, logLength });
const tuning = grid.map((w) => ({ ...w, meanReturn: mean(evaluateAgent(envId, envParams, new Ranker({ ...w, p: 1 }, info), { users, seed: TUNING }).return) }));
const best = tuning.reduce((a, b) => (b.meanReturn > a.meanReturn ? b : a));
console.log(`best two-column ranker on population ${TUNING}: appeal ${best.appeal}, logLength ${best.logLength} (${best.meanReturn.toFixed(1)})`);

// 3. Selection differentials.
const policies: { label: string; make: () => Promise<Agent>; train?: boolean }[] = [
  { label: 'quality-estimate', make: () => makeAgent('quality-estimate', {}, { envId, envParams, seed: 0 }) },
  { label: `two-column (appeal ${best.appeal}, logLength ${best.logLength})`, make: async () => new Ranker({ appeal: best.appeal, logLength: best.logLength, p: 1 }, info) },
  { label: 'ceiling-oracle', make: () => makeAgent('ceiling-oracle', {}, { envId, envParams, seed: 0 }) },
  { label: 'random', make: () => makeAgent('random', {}, { envId, envParams, seed: 0 }) },
  { label: 'ppo', train: true, make: () => makeAgent('ppo', { lr: 0.001, numSteps: 64, totalSteps: 256000 }, { envId, envParams, seed: 0 }) },
  { label: 'ppo-consumed', train: true, make: () => makeAgent('ppo', { lr: 0.001, numSteps: 64, totalSteps: 256000, consumedHistory: true, entCoef: 0 }, { envId, envParams, seed: 0 }) },
  { label: 'myopic-oracle', make: () => makeAgent('myopic-oracle', {}, { envId, envParams, seed: 0 }) },
  { label: 'ppo-consumed gamma 0.999', train: true, make: () => makeAgent('ppo', { lr: 0.001, numSteps: 64, totalSteps: 256000, consumedHistory: true, entCoef: 0, gamma: 0.999 }, { envId, envParams, seed: 0 }) },
  { label: 'ppo-consumed dayDiscount 0.8', train: true, make: () => makeAgent('ppo', { lr: 0.001, numSteps: 64, totalSteps: 256000, consumedHistory: true, entCoef: 0, gamma: 1, dayDiscount: 0.8 }, { envId, envParams, seed: 0 }) },
];
const GAMMAS = [0.9, 0.95, 0.99, 0.995, 0.999, 1];
const DAY_DISCOUNTS = [0.5, 0.7, 0.8, 0.9];
const discounted = (agent: Agent) => discountedReturns(envId, envParams, agent, { users, seed: HELD_OUT, gammas: GAMMAS, dayDiscounts: DAY_DISCOUNTS });
const selection: Record<string, unknown>[] = [];
for (const p of policies) {
  const agent = await p.make();
  if (p.train) trainAsCell(agent, envId, envParams, { userSteps: 256000, numEnvs: 32 }, 0);
  const r = evaluate(agent);
  const d = discounted(agent);
  selection.push({ label: p.label, ...r, discounted: d });
  console.log(`${p.label}: return ${r.meanReturn.toFixed(1)}, CTR ${r.ctr.toFixed(3)}, selection ${QUALITY_LENGTH_APPEAL.map(({ name }) => `${name} ${r.selection[name]!.toFixed(2)}`).join(', ')}; J ${[...Object.entries(d.perStep), ...Object.entries(d.perDay)].map(([k, x]) => `${k}: ${x.toFixed(1)}`).join(', ')}`);
}

mkdirSync('results/bench', { recursive: true });
const out = { envId, envParams, users, heldOut: HELD_OUT, tuningPopulation: TUNING, consistency, twoColumn: { tuning, best }, selection };
writeFileSync('results/bench/probe-retention-v0.json', JSON.stringify(out, null, 2) + '\n');
