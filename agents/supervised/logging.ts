/**
 * Step 1 of the supervised pipeline: log impressions of a behaviour policy.
 *
 * The behaviour policy is a given agent mixed with uniform random slates: with probability epsilon (per
 * user-step, from per-user streams) the slate is uniform, else the agent's (epsilon = 1: uniformly random
 * logging). Every shown item is one impression record: user features, candidate features, item id, labels
 * (click, watch = the step's reward when clicked, else 0) and the behaviour policy's propensity of showing the
 * item, P(shown) = (1 - epsilon) 1[item in the agent's slate] + epsilon K / N. Where the env has a choice model
 * the record also holds the true click probability of the item in its slate (for the Bayes-optimal AUC).
 */
import { reportSetupSteps } from '../setup-progress.js';
import type { Agent, AgentObservation } from '../api.js';
import { observationOf } from '../loop.js';
import { makeVec } from '../../envs/registry.js';
import { sampleDistinct, streamFromString, type Rng } from '../../envs/rng.js';
import { InvalidArgument } from '../../envs/errors.js';

export interface ImpressionLog {
  U: number;
  F: number;
  n: number;
  user: Float32Array;
  cand: Float32Array;
  userIndex: Float64Array;
  /** Step of the user's episode. */
  step: Int32Array;
  position: Int32Array;
  itemId: Int32Array;
  click: Float32Array;
  watch: Float32Array;
  propensity: Float32Array;
  /** True P(click | slate), NaN where the env has no choice model. */
  trueClick: Float32Array;
}

/** A growable impression log. */
export class LogBuilder {
  private cap = 1024;
  n = 0;
  user: Float32Array;
  cand: Float32Array;
  userIndex = new Float64Array(this.cap);
  step = new Int32Array(this.cap);
  position = new Int32Array(this.cap);
  itemId = new Int32Array(this.cap);
  click = new Float32Array(this.cap);
  watch = new Float32Array(this.cap);
  propensity = new Float32Array(this.cap);
  trueClick = new Float32Array(this.cap);
  constructor(
    readonly U: number,
    readonly F: number,
  ) {
    this.user = new Float32Array(this.cap * U);
    this.cand = new Float32Array(this.cap * F);
  }
  private grow(): void {
    const c = this.cap * 2;
    const g = <T extends Float32Array | Float64Array | Int32Array>(a: T, per = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(c * per);
      b.set(a);
      return b;
    };
    this.user = g(this.user, this.U);
    this.cand = g(this.cand, this.F);
    this.userIndex = g(this.userIndex);
    this.step = g(this.step);
    this.position = g(this.position);
    this.itemId = g(this.itemId);
    this.click = g(this.click);
    this.watch = g(this.watch);
    this.propensity = g(this.propensity);
    this.trueClick = g(this.trueClick);
    this.cap = c;
  }
  push(user: Float32Array, uo: number, cand: Float32Array, co: number, userIndex: number, step: number, position: number, itemId: number, click: number, watch: number, propensity: number, trueClick: number): void {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.user.set(user.subarray(uo, uo + this.U), i * this.U);
    this.cand.set(cand.subarray(co, co + this.F), i * this.F);
    this.userIndex[i] = userIndex;
    this.step[i] = step;
    this.position[i] = position;
    this.itemId[i] = itemId;
    this.click[i] = click;
    this.watch[i] = watch;
    this.propensity[i] = propensity;
    this.trueClick[i] = trueClick;
  }
  build(): ImpressionLog {
    const n = this.n;
    return {
      U: this.U,
      F: this.F,
      n,
      user: this.user.slice(0, n * this.U),
      cand: this.cand.slice(0, n * this.F),
      userIndex: this.userIndex.slice(0, n),
      step: this.step.slice(0, n),
      position: this.position.slice(0, n),
      itemId: this.itemId.slice(0, n),
      click: this.click.slice(0, n),
      watch: this.watch.slice(0, n),
      propensity: this.propensity.slice(0, n),
      trueClick: this.trueClick.slice(0, n),
    };
  }
}

export interface LogOptions {
  users: number;
  /** Population seed of the logged users. */
  seed: number;
  firstUser?: number;
  /** Probability of a uniform random slate (1 = random logging). */
  epsilon: number;
  /** Seed of the behaviour randomness. */
  behaviourSeed: number;
  batch?: number;
  /** Cap on steps per user (safety). */
  maxSteps?: number;
}

/** Run the behaviour policy on `users` users of an env and log every impression. */
export function logImpressions(envId: string, envParams: Record<string, unknown> | undefined, agent: Agent | null, opts: LogOptions): ImpressionLog {
  if (!(opts.epsilon >= 0 && opts.epsilon <= 1)) throw new InvalidArgument(`logImpressions: epsilon must be in [0, 1], got ${opts.epsilon}`);
  if (!agent && opts.epsilon !== 1) throw new InvalidArgument('logImpressions: without a behaviour agent epsilon must be 1 (uniform random logging)');
  const batch = Math.min(opts.batch ?? 256, opts.users);
  const probe = makeVec(envId, envParams, { numEnvs: 1, autoresetMode: 'off' });
  const { U, F, N, K } = probe.layout;
  const log = new LogBuilder(U, F);
  let done = 0;
  let seeded = false;
  let env = makeVec(envId, envParams, { numEnvs: batch, autoresetMode: 'off' });
  while (done < opts.users) {
    const b = Math.min(batch, opts.users - done);
    if (b !== env.numEnvs) {
      env = makeVec(envId, envParams, { numEnvs: b, autoresetMode: 'off' });
      seeded = false;
    }
    const first = (opts.firstUser ?? 0) + done;
    const r0 = seeded ? env.reset({ options: { firstUser: first } }) : env.reset({ seed: opts.seed, options: { firstUser: first } });
    seeded = true;
    const active = new Uint8Array(b).fill(1);
    const userIndex = Float64Array.from(r0.userIndex);
    const firstStep = new Uint8Array(b).fill(1);
    const view: AgentObservation = observationOf(env, active, userIndex, firstStep, r0.observation);
    const ctx = agent?.context(false);
    const rngs: Rng[] = Array.from({ length: b }, (_, s) => streamFromString(`egym|behaviour|${opts.behaviourSeed}|${userIndex[s]}`));
    const slates = new Int32Array(b * K);
    const greedy = new Int32Array(b * K);
    const hasChoice = env.hidden().choiceScore !== undefined;
    const stepNo = new Int32Array(b);
    const prob = new Float64Array(b * K);
    for (let t = 0; t < (opts.maxSteps ?? 1e7); t++) {
      if (agent) greedy.set(agent.act(view, ctx!));
      if (t === 0) firstStep.fill(0);
      for (let s = 0; s < b; s++) {
        if (!active[s]) continue;
        const explore = opts.epsilon >= 1 || rngs[s]!() < opts.epsilon;
        if (explore) sampleDistinct(rngs[s]!, N, K, slates, s * K);
        else slates.set(greedy.subarray(s * K, (s + 1) * K), s * K);
      }
      // True click probabilities of the shown items, before the step changes the state.
      prob.fill(NaN);
      if (hasChoice) {
        const h = env.hidden(['choiceScore', 'noClickScore']);
        const sc = h.choiceScore!.data;
        for (let s = 0; s < b; s++) {
          if (!active[s]) continue;
          let den = h.noClickScore!.data[s]!;
          for (let j = 0; j < K; j++) den += sc[s * N + slates[s * K + j]!]!;
          for (let j = 0; j < K; j++) prob[s * K + j] = sc[s * N + slates[s * K + j]!]! / den;
        }
      }
      // Copy the decision-time features before stepping.
      const userBuf = Float32Array.from(r0.observation.user);
      const candBuf = Float32Array.from(r0.observation.candidates);
      const ids = r0.observation.itemIds ? Int32Array.from(r0.observation.itemIds) : null;
      const wasActive = Uint8Array.from(active);
      const r = env.step(slates);
      let stepped = 0;
      for (let s = 0; s < b; s++) stepped += wasActive[s]!;
      reportSetupSteps(stepped);
      for (let s = 0; s < b; s++) {
        if (!wasActive[s]) continue;
        for (let j = 0; j < K; j++) {
          const i = slates[s * K + j]!;
          let inGreedy = false;
          if (agent) for (let q = 0; q < K; q++) if (greedy[s * K + q] === i) inGreedy = true;
          const propensity = (1 - opts.epsilon) * (inGreedy ? 1 : 0) + (opts.epsilon * K) / N;
          const clicked = r.clicked[s] === j ? 1 : 0;
          log.push(userBuf, s * U, candBuf, (s * N + i) * F, userIndex[s]!, stepNo[s]!, j, ids ? ids[s * N + i]! : -1, clicked, clicked ? r.rewards[s]! : 0, propensity, prob[s * K + j]!);
        }
        stepNo[s]! += 1;
        if (r.final.mask[s]) active[s] = 0;
      }
      if (r.allDone) break;
    }
    done += b;
  }
  return log.build();
}
