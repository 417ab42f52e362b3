/**
 * Tabular temporal-difference control over a state abstraction and an action abstraction
 * (policies/discretize.ts, policies/abstract-actions.ts):
 * - q-learning: Q(s, a) += alpha (r + gamma max_a' Q(s', a') - Q(s, a))   (Watkins 1989; Watkins and Dayan 1992)
 * - sarsa: the target uses the action actually taken next, r + gamma Q(s', a')   (Rummery and Niranjan 1994)
 * - expected-sarsa: r + gamma sum_a' pi(a' | s') Q(s', a') under the current epsilon-greedy pi
 *   (van Seijen et al. 2009; Sutton and Barto 2018, 6.6)
 * Terminated transitions (churn, budget spent, user left) have target r; truncated ones (horizon, time limit)
 * bootstrap from the final observation. Exploration: epsilon-greedy with an epsilon schedule over user-steps;
 * step sizes constant or 1 / visits^power (policies/schedules.ts). When acting, greedy ties are broken
 * uniformly at random (Sutton and Barto 2018, sec. 2.2; one draw, only when there is a tie), so an untrained
 * agent orders nothing; bootstrap targets use the max, where ties do not matter.
 * Evaluation is greedy unless exploration is asked for.
 *
 * value-iteration: the optimal policy of an env that exposes its exact model (boredom-mdp-v0), by value
 * iteration (agents/planning.ts); an oracle.
 */
import { defineParams, param, type ParamsOf, withDefault } from '../envs/params.js';
import { defineAgent } from './registry.js';
import { ActionAbstraction, type AbstractionKind } from '../policies/abstract-actions.js';
import { defaultStateSpec, Discretizer, type StateDim } from '../policies/discretize.js';
import { epsilonAt, epsilonShape, stepSizeAt, stepSizeShape } from '../policies/schedules.js';
import { validateStateSpec } from '../policies/discretize.js';
import type { Rng } from '../envs/rng.js';
import { type AgentContext, type AgentEnvInfo, type AgentObservation, BadCheckpoint, BaseAgent, IncompatibleEnv, PerUserStreams, type Transitions } from './api.js';
import { valueIteration } from './planning.js';

export type TdRule = 'q-learning' | 'sarsa' | 'expected-sarsa';

export const tabularParams = defineParams({
  gamma: param.number({ default: 0.9, min: 0, max: 1, description: 'discount factor' }),
  initialQ: param.number({ default: 0, min: -1e6, max: 1e6, description: 'initial action values' }),
  stateFeatures: param.custom<'auto' | StateDim[]>({
    default: 'auto',
    allowed: '"auto" or a list of {feature, index?, edges? | levels?} over user features (policies/discretize.ts)',
    validate: validateStateSpec,
    description: 'state abstraction',
  }),
  actionAbstraction: param.enum({ default: 'auto', values: ['auto', 'candidate', 'topic', 'band'], description: 'abstract actions (policies/abstract-actions.ts)' }),
  actionBands: param.int({ default: 5, min: 2, max: 100, description: 'bands of the band abstraction' }),
  ...epsilonShape,
  epsilonSchedule: withDefault(epsilonShape.epsilonSchedule, 'exponential'),
  epsilonEnd: withDefault(epsilonShape.epsilonEnd, 0.01),
  epsilonSteps: withDefault(epsilonShape.epsilonSteps, 200_000),
  ...stepSizeShape,
});
export type TabularParams = ParamsOf<typeof tabularParams>;

export class TabularAgent extends BaseAgent<TabularParams> {
  readonly id: TdRule;
  readonly disc: Discretizer;
  readonly actions: ActionAbstraction;
  readonly S: number;
  readonly A: number;
  Q: Float64Array;
  visits: Float64Array;
  /** User-steps learned from so far (drives the epsilon schedule). */
  steps = 0;
  private lastState = new Int32Array(0);
  private lastAction = new Int32Array(0);
  private pending = new Uint8Array(0);
  private pendS = new Int32Array(0);
  private pendA = new Int32Array(0);
  private pendR = new Float64Array(0);
  private pendNext = new Int32Array(0);
  private readonly gamma: number;
  private readonly evalStreams: PerUserStreams;

  constructor(rule: TdRule, p: TabularParams, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    this.id = rule;
    const spec = p.stateFeatures === 'auto' ? defaultStateSpec(env) : p.stateFeatures;
    try {
      this.disc = new Discretizer(spec, env.layout, `agent ${rule}`);
      this.actions = new ActionAbstraction(env.layout, p.actionAbstraction, p.actionBands, env.envId, `agent ${rule}`);
    } catch (e) {
      throw new IncompatibleEnv(rule, env.envId, (e as Error).message.replace(`agent ${rule}: `, ''));
    }
    this.S = this.disc.numStates;
    this.A = this.actions.numActions;
    this.Q = new Float64Array(this.S * this.A).fill(p.initialQ);
    this.visits = new Float64Array(this.S * this.A);
    this.gamma = p.gamma;
    this.evalStreams = new PerUserStreams(seed, 'tabular-eval');
  }

  private ensure(B: number): void {
    if (this.lastState.length === B) return;
    this.lastState = new Int32Array(B);
    this.lastAction = new Int32Array(B);
    this.pending = new Uint8Array(B);
    this.pendS = new Int32Array(B);
    this.pendA = new Int32Array(B);
    this.pendR = new Float64Array(B);
    this.pendNext = new Int32Array(B);
  }

  greedy(s: number): number {
    const o = s * this.A;
    let best = 0;
    for (let a = 1; a < this.A; a++) if (this.Q[o + a]! > this.Q[o + best]!) best = a;
    return best;
  }

  private maxQ(s: number): number {
    return this.Q[s * this.A + this.greedy(s)]!;
  }

  /** sum_a pi(a | s) Q(s, a) under epsilon-greedy. */
  private expectedQ(s: number, eps: number): number {
    const o = s * this.A;
    let mean = 0;
    for (let a = 0; a < this.A; a++) mean += this.Q[o + a]!;
    return (1 - eps) * this.maxQ(s) + (eps * mean) / this.A;
  }

  private epsGreedy(s: number, eps: number, rng: Rng): number {
    if (eps > 0 && rng() < eps) return Math.floor(rng() * this.A);
    const o = s * this.A;
    const best = this.greedy(s);
    const q = this.Q[o + best]!;
    let ties = 0;
    for (let a = 0; a < this.A; a++) if (this.Q[o + a] === q) ties++;
    if (ties === 1) return best;
    let k = Math.floor(rng() * ties);
    for (let a = 0; a < this.A; a++) if (this.Q[o + a] === q && k-- === 0) return a;
    return best;
  }

  get epsilon(): number {
    return epsilonAt(this.params, this.steps);
  }

  private learn(s: number, a: number, target: number): void {
    const k = s * this.A + a;
    this.visits[k]! += 1;
    this.Q[k]! += stepSizeAt(this.params, this.visits[k]!) * (target - this.Q[k]!);
  }

  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    this.ensure(obs.B);
    const out = this.out(obs.B);
    const { U, K } = this.env.layout;
    const eps = ctx.training ? this.epsilon : ctx.explore ? this.params.epsilonEnd : 0;
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      const st = this.disc.state(obs.user, s * U);
      const rng = ctx.training ? ctx.rng : this.evalStreams.get(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      const a = this.epsGreedy(st, eps, rng);
      if (ctx.training && this.pending[s]) {
        // SARSA: the pending update of the previous step uses the action just chosen.
        this.learn(this.pendS[s]!, this.pendA[s]!, this.pendR[s]! + this.gamma * this.Q[st * this.A + a]!);
        this.pending[s] = 0;
      }
      this.lastState[s] = st;
      this.lastAction[s] = a;
      this.actions.slate(a, obs.candidates, s, out, s * K);
    }
    return out;
  }

  observe(t: Transitions): void {
    const { U } = this.env.layout;
    const eps = this.epsilon;
    for (let s = 0; s < t.obs.B; s++) {
      if (!t.stepped[s]) continue;
      const st = this.lastState[s]!;
      const a = this.lastAction[s]!;
      const r = t.rewards[s]!;
      const ended = t.finalMask[s] === 1;
      const next = this.disc.state(ended ? t.finalObservation.user : t.next.user, s * U);
      this.steps++;
      if (t.terminated[s]) {
        this.learn(st, a, r);
        continue;
      }
      switch (this.id) {
        case 'q-learning':
          this.learn(st, a, r + this.gamma * this.maxQ(next));
          break;
        case 'expected-sarsa':
          this.learn(st, a, r + this.gamma * this.expectedQ(next, eps));
          break;
        case 'sarsa':
          if (ended) {
            // Truncated: the next action is never taken; bootstrap on an action sampled from the policy.
            const a2 = this.epsGreedy(next, eps, this.rng);
            this.learn(st, a, r + this.gamma * this.Q[next * this.A + a2]!);
          } else {
            this.pending[s] = 1;
            this.pendS[s] = st;
            this.pendA[s] = a;
            this.pendR[s] = r;
            this.pendNext[s] = next;
          }
          break;
      }
    }
  }

  protected override getState(): unknown {
    return {
      Q: Array.from(this.Q),
      visits: Array.from(this.visits),
      steps: this.steps,
      lastState: Array.from(this.lastState),
      lastAction: Array.from(this.lastAction),
      pending: Array.from(this.pending),
      pendS: Array.from(this.pendS),
      pendA: Array.from(this.pendA),
      pendR: Array.from(this.pendR),
      pendNext: Array.from(this.pendNext),
      evalStreams: this.evalStreams.state(),
    };
  }

  protected override setState(x: unknown): void {
    const st = x as Record<string, number[]> & { steps: number; evalStreams: ReturnType<PerUserStreams['state']> };
    if (st.Q.length !== this.S * this.A) throw new BadCheckpoint(`${this.id}: the checkpoint's Q table has ${st.Q.length} entries, this agent has ${this.S * this.A}`);
    this.Q = Float64Array.from(st.Q);
    this.visits = Float64Array.from(st.visits);
    this.steps = st.steps;
    this.lastState = Int32Array.from(st.lastState);
    this.lastAction = Int32Array.from(st.lastAction);
    this.pending = Uint8Array.from(st.pending);
    this.pendS = Int32Array.from(st.pendS);
    this.pendA = Int32Array.from(st.pendA);
    this.pendR = Float64Array.from(st.pendR);
    this.pendNext = Int32Array.from(st.pendNext);
    this.evalStreams.load(st.evalStreams);
  }
}

/** Acts optimally on a finite MDP from its exact model (value iteration). */
export const valueIterationParams = defineParams({ gamma: param.number({ default: 0.9, min: 0, max: 1, description: 'discount factor' }) });

export class ValueIterationAgent extends BaseAgent<ParamsOf<typeof valueIterationParams>> {
  readonly id = 'value-iteration';
  override readonly oracle = true;
  readonly policy: Int32Array;
  readonly V: Float64Array;
  private readonly actions: ActionAbstraction;

  constructor(p: ParamsOf<typeof valueIterationParams>, env: AgentEnvInfo, seed: number) {
    super(p, env, seed);
    if (!env.model) throw new IncompatibleEnv(this.id, env.envId, 'the env exposes no exact model (only finite MDPs such as boredom-mdp-v0 do)');
    const vi = valueIteration(env.model, p.gamma);
    this.policy = vi.policy;
    this.V = vi.V;
    this.actions = new ActionAbstraction(env.layout, 'candidate', 1, env.envId, this.id);
  }

  act(obs: AgentObservation): Int32Array {
    const out = this.out(obs.B);
    const { U, K } = this.env.layout;
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      const st = this.env.model!.stateOf(obs.user, s * U);
      this.actions.slate(this.policy[st]!, obs.candidates, s, out, s * K);
    }
    return out;
  }
}

const TD_SOURCES: Record<TdRule, [string, string]> = {
  'q-learning': ['tabular Q-learning over a state and an action abstraction', 'Watkins 1989; Watkins and Dayan 1992, Machine Learning 8'],
  sarsa: ['tabular SARSA (on-policy TD control)', 'Rummery and Niranjan 1994; Sutton and Barto 2018, 6.4'],
  'expected-sarsa': ['tabular Expected SARSA', 'van Seijen, van Hasselt, Whiteson and Wiering 2009; Sutton and Barto 2018, 6.6'],
};

/** The tabular agents' definitions (registered by agents/index.ts). */
export const tabularAgents = [
  ...(['q-learning', 'sarsa', 'expected-sarsa'] as const).map((rule) =>
    defineAgent({
      id: rule,
      description: TD_SOURCES[rule][0],
      source: TD_SOURCES[rule][1],
      oracle: false,
      params: tabularParams,
      create: (p, env, seed) => new TabularAgent(rule, p, env, seed),
    }),
  ),
  defineAgent({
    id: 'value-iteration',
    description: 'the optimal policy of a finite MDP from its exact model (boredom-mdp-v0)',
    source: 'Bellman 1957; Sutton and Barto 2018, 4.4',
    oracle: true,
    params: valueIterationParams,
    create: (p, env, seed) => new ValueIterationAgent(p, env, seed),
  }),
];
