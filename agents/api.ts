/**
 * The agent API: one interface for every agent, acting on batches of users from the vector env (a single
 * user is a batch of one).
 *
 *   act(observation, ctx) -> slates (Int32Array B x K)   choose a slate for every active slot
 *   observe(transitions)                                 learners see what happened (s, a, r, s')
 *   feedback(clicked, stepped, ctx)                      optional: what was clicked, in training and evaluation
 *   update()                                             optional extra learning step (returns metrics)
 *   onEpisodeEnd(slot, userIndex)                        optional per-user episode hook
 *   save() / load(checkpoint)                            JSON-serializable state, including RNG state
 *
 * `ctx` carries the agent's own seeded RNG and whether it is training or evaluating; agents do not explore
 * in evaluation unless `ctx.explore` is set. Randomness that decides an evaluation slate (the random
 * agent, exploration asked for in evaluation) comes from per-user streams seeded by (agent seed, user index),
 * so evaluation results do not depend on the batch size. Oracle agents read the env's hidden state through
 * `observation.hidden` and are marked `oracle: true` wherever they are listed and reported.
 */
import type { FeatureSpec, HiddenBlock, Layout, VecObservation } from '../envs/core.js';
import type { FiniteModel } from '../envs/boredom-mdp.js';
import type { ResolvedParams } from '../envs/params.js';
import { restoreStream, type RngState, type StatefulRng, statefulStream } from '../envs/rng.js';
import { EgymError, NonFiniteValue } from '../envs/errors.js';
import { ItemFeedback } from '../policies/item-feedback.js';

export interface AgentObservation extends VecObservation {
  /** Number of slots. */
  B: number;
  /** 1 where the slot needs a slate. */
  active: Uint8Array;
  /** The user index in each slot. */
  userIndex: Float64Array;
  /** 1 where the slot's user is at the first step of its episode (a new user). */
  firstStep: Uint8Array;
  /** The env's hidden state (oracle agents only; the runners always provide it). */
  hidden?: (names?: readonly string[]) => Record<string, HiddenBlock>;
}

export interface AgentContext {
  /** The agent's own seeded generator (its state is part of the checkpoint). */
  rng: StatefulRng;
  /** Training (exploration on) or evaluation (exploration off unless `explore`). */
  training: boolean;
  /** Explore even in evaluation. */
  explore: boolean;
}

/** One vector step as learners see it. Arrays are views valid during the call: copy what you keep. */
export interface Transitions {
  /** The observation the slates were chosen on. */
  obs: AgentObservation;
  actions: Int32Array;
  rewards: Float64Array;
  /** Slate position clicked (consumed), -1 for none. */
  clicked: Int32Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** The next observation of each slot: for slots whose episode ended, use `finalObservation` instead. */
  next: AgentObservation;
  /** 1 where the slot's episode ended at this step (then `finalObservation` holds the finished user's last observation). */
  finalMask: Uint8Array;
  finalObservation: VecObservation;
  /** 1 where the slot took part in this step (not an already-finished slot in 'off' mode). */
  stepped: Uint8Array;
}

/** What an agent knows about the env it is built for. */
export interface AgentEnvInfo {
  envId: string;
  params: ResolvedParams;
  layout: Layout;
  /** Names of the hidden blocks the env provides. */
  hiddenNames: readonly string[];
  multiSession: boolean;
  /** The exact model, for finite MDPs. */
  model: FiniteModel | null;
}

export interface AgentCheckpoint {
  format: 'engagement-gym/agent';
  version: 1;
  agent: string;
  envId: string;
  /** The env's resolved params (rebuild the agent with makeAgent(agent, params, { envId, envParams, seed })). */
  envParams?: Record<string, unknown>;
  params: Record<string, unknown>;
  seed: number;
  rng: RngState;
  state: unknown;
}

export interface Agent {
  readonly id: string;
  readonly oracle: boolean;
  readonly params: ResolvedParams;
  readonly env: AgentEnvInfo;
  /** A context for acting: the agent's RNG plus the mode. */
  context(training: boolean, explore?: boolean): AgentContext;
  act(obs: AgentObservation, ctx: AgentContext): Int32Array;
  observe?(t: Transitions): void;
  /**
   * What each slot's user clicked (slate position, -1 for none) in the slate the agent just served, in training
   * and in evaluation, before `observe`: the feedback a deployed recommender sees, for per-user state.
   */
  feedback?(clicked: Int32Array, stepped: Uint8Array, ctx: AgentContext): void;
  update?(): Record<string, number> | void;
  onEpisodeEnd?(slot: number, userIndex: number): void;
  save(): AgentCheckpoint;
  load(c: AgentCheckpoint): void;
}

/** Raised at construction when an agent cannot run on an env. */
export class IncompatibleEnv extends EgymError {
  constructor(agent: string, env: string, why: string) {
    super('AGENT_INCOMPATIBLE_ENV', `agent ${agent} cannot run on ${env}: ${why}`);
    this.name = 'IncompatibleEnv';
  }
}

/** Raised when a checkpoint does not belong to this agent or is malformed. */
export class BadCheckpoint extends EgymError {
  constructor(message: string) {
    super('AGENT_BAD_CHECKPOINT', message);
    this.name = 'BadCheckpoint';
  }
}

/**
 * Common agent plumbing: params, env info, the seeded RNG, a reusable slate buffer, and the checkpoint
 * envelope (subclasses provide `getState` / `setState`).
 */
export abstract class BaseAgent<P extends ResolvedParams = ResolvedParams> implements Agent {
  abstract readonly id: string;
  /** Reads hidden state (set by subclasses; may depend on params). */
  oracle: boolean = false;
  rng: StatefulRng;
  protected slates = new Int32Array(0);

  constructor(
    readonly params: P,
    readonly env: AgentEnvInfo,
    /** The agent's seed (restored by load: a resumed agent is the same agent). */
    public seed: number,
  ) {
    this.rng = statefulStream(`egym|agent|${seed}`);
  }

  context(training: boolean, explore = false): AgentContext {
    return { rng: this.rng, training, explore };
  }

  /** The output buffer for B slots. */
  protected out(B: number): Int32Array {
    const n = B * this.env.layout.K;
    if (this.slates.length !== n) this.slates = new Int32Array(n);
    return this.slates;
  }

  abstract act(obs: AgentObservation, ctx: AgentContext): Int32Array;

  protected getState(): unknown {
    return null;
  }
  protected setState(_s: unknown): void {}
  /** A checkpointed state in the form this version's getState returns (subclasses convert older forms). */
  protected upgradeState(s: unknown): unknown {
    return s;
  }

  save(): AgentCheckpoint {
    const state = this.getState();
    // JSON would turn a NaN weight into null and the checkpoint would load as something else: refuse it here.
    const bad = findNonFinite(state);
    if (bad) throw new NonFiniteValue(`${this.id}: cannot save a non-finite agent state (${bad})`);
    return {
      format: 'engagement-gym/agent',
      version: 1,
      agent: this.id,
      envId: this.env.envId,
      envParams: JSON.parse(JSON.stringify(this.env.params)),
      params: JSON.parse(JSON.stringify(this.params)),
      seed: this.seed,
      rng: this.rng.state(),
      state,
    };
  }

  load(c: AgentCheckpoint): void {
    if (!c || c.format !== 'engagement-gym/agent') throw new BadCheckpoint(`${this.id}: not an engagement-gym agent checkpoint`);
    if (c.agent !== this.id) throw new BadCheckpoint(`${this.id}: the checkpoint belongs to agent ${c.agent}`);
    if (c.envId !== this.env.envId) throw new BadCheckpoint(`${this.id}: the checkpoint was made on ${c.envId}, this agent runs on ${this.env.envId}`);
    if (!Number.isSafeInteger(c.seed)) throw new BadCheckpoint(`${this.id}: the checkpoint has no seed`);
    // A null where the state holds a number (NaN or infinity written as JSON) must not load as 0.
    const before = { seed: this.seed, rng: this.rng, state: structuredClone(this.getState() ?? null) as unknown };
    this.seed = c.seed;
    this.rng = restoreStream(c.rng);
    let bad: string | null;
    let refused: BadCheckpoint | null = null;
    try {
      const want = this.upgradeState(c.state);
      this.setState(want);
      const after = this.getState();
      bad = findNonFinite(after) ?? (sameState(after, want) ? null : 'a value changed on loading: a null or a mistyped number in place of a finite number');
    } catch (e) {
      bad = (e as Error).message;
      if (e instanceof BadCheckpoint) refused = e;
    }
    if (bad) {
      // Whatever setState had taken in is undone first.
      this.seed = before.seed;
      this.rng = before.rng;
      this.setState(before.state);
      if (refused) throw refused;
      throw new BadCheckpoint(`${this.id}: the checkpoint's state does not load back as saved (${bad}); the agent is left as it was`);
    }
  }
}

/**
 * Per-user random streams keyed by (agent seed, purpose, user index), started afresh at the first step of
 * every episode: randomness that depends only on the user and the agent seed, not on the batch size or on
 * what the agent did before.
 */
export class PerUserStreams {
  private rngs: StatefulRng[] = [];
  private owners = new Float64Array(0);
  constructor(
    private seed: number,
    private readonly purpose: string,
  ) {}

  get(slot: number, userIndex: number, firstStep: boolean): StatefulRng {
    if (slot >= this.rngs.length) {
      const n = Math.max(slot + 1, this.rngs.length * 2);
      const owners = new Float64Array(n).fill(-1);
      owners.set(this.owners);
      this.owners = owners;
      this.rngs.length = n;
    }
    if (firstStep || this.owners[slot] !== userIndex) {
      this.owners[slot] = userIndex;
      this.rngs[slot] = statefulStream(`egym|agent|${this.seed}|${this.purpose}|${userIndex}`);
    }
    return this.rngs[slot]!;
  }

  state(): { seed: number; owners: number[]; states: (RngState | null)[] } {
    return { seed: this.seed, owners: Array.from(this.owners), states: this.rngs.map((r) => (r ? r.state() : null)) };
  }

  load(s: { seed: number; owners: number[]; states: (RngState | null)[] }): void {
    this.seed = s.seed;
    this.owners = Float64Array.from(s.owners);
    this.rngs = s.states.map((st) => (st ? restoreStream(st) : (undefined as unknown as StatefulRng)));
  }
}

/**
 * Throw NonFiniteValue if `data` (B slots of equal width, user-major) holds a NaN or an infinity in a slot
 * that `active` marks (all slots without it), naming the slot, the field and the column. Linear in the data.
 */
export function assertFinite(who: string, field: string, data: ArrayLike<number>, B: number, active?: ArrayLike<number>): void {
  // Fast path: v * 0 is 0 or -0 for a finite v and NaN for NaN or an infinity, so four running sums of them are
  // all zero exactly when every value is finite (four, so that the additions do not wait on each other).
  const n = data.length;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    a0 += data[i]! * 0;
    a1 += data[i + 1]! * 0;
    a2 += data[i + 2]! * 0;
    a3 += data[i + 3]! * 0;
  }
  for (; i < n; i++) a0 += data[i]! * 0;
  if (a0 + a1 + a2 + a3 === 0) return;
  // A non-finite value somewhere: find the first one in an active slot.
  const w = B > 0 ? data.length / B : 0;
  for (let j = 0; j < data.length; j++) {
    const v = data[j]!;
    if (v - v !== 0) {
      const s = Math.floor(j / w);
      if (active && !active[s]) continue;
      throw new NonFiniteValue(`${who}: ${field} of slot ${s} holds ${v} at column ${j - s * w}; learners accept finite numbers only (check the env or the wrapper that produced it)`);
    }
  }
}

/** The user and candidate rows of the slots that `active` marks are finite (what an agent acts on). */
export function assertFiniteObservation(who: string, obs: VecObservation, B: number, active?: ArrayLike<number>, prefix = 'observation'): void {
  assertFinite(who, `${prefix}.user`, obs.user, B, active);
  assertFinite(who, `${prefix}.candidates`, obs.candidates, B, active);
}

/** Every observation and reward a learner is handed is finite (the loops and the deep agents call this). */
export function assertFiniteTransitions(who: string, t: Transitions): void {
  const B = t.obs.B;
  assertFiniteObservation(who, t.obs, B, t.stepped);
  assertFinite(who, 'reward', t.rewards, B, t.stepped);
  assertFiniteObservation(who, t.next, B, t.stepped, 'next observation');
  assertFinite(who, 'final observation.user', t.finalObservation.user, B, t.finalMask);
}

/**
 * Whether two checkpoint states are the same as saved: JSON values compared as JSON would write them (key
 * order aside, keys holding undefined absent), typed arrays by type and bytes (NaN included), without building
 * one string of the whole state (a replay buffer's could pass V8's longest string).
 */
export function sameState(a: unknown, b: unknown, depth = 0): boolean {
  if (depth > 64) return JSON.stringify(a) === JSON.stringify(b);
  const ta = ArrayBuffer.isView(a);
  const tb = ArrayBuffer.isView(b);
  if (ta || tb) {
    if (!(ta && tb) || (a as object).constructor !== (b as object).constructor) return false;
    const x = a as ArrayBufferView;
    const y = b as ArrayBufferView;
    return x.byteLength === y.byteLength && Buffer.compare(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), new Uint8Array(y.buffer, y.byteOffset, y.byteLength)) === 0;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const y = b as unknown[];
    if (a.length !== y.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameState(a[i] ?? null, y[i] ?? null, depth + 1)) return false;
    return true;
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined).sort();
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  for (const k of ka) if (!sameState((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1)) return false;
  return true;
}

/** The path of the first non-finite number inside a JSON-like value (typed arrays included), or null. */
export function findNonFinite(v: unknown, path = 'state', depth = 0): string | null {
  if (typeof v === 'number') return Number.isFinite(v) ? null : `${path} = ${v}`;
  if (v === null || typeof v !== 'object' || depth > 64) return null;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const a = v as unknown as ArrayLike<number | bigint>;
    for (let i = 0; i < a.length; i++) if (typeof a[i] === 'number' && !Number.isFinite(a[i] as number)) return `${path}[${i}] = ${a[i]}`;
    return null;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = findNonFinite(v[i], `${path}[${i}]`, depth + 1);
      if (r) return r;
    }
    return null;
  }
  for (const [k, x] of Object.entries(v)) {
    const r = findNonFinite(x, `${path}.${k}`, depth + 1);
    if (r) return r;
  }
  return null;
}

/** Offset of the env's one-column calendar `day` user feature on a multi-session env, else -1 (none to read). */
export function calendarDayOffset(env: AgentEnvInfo): number {
  const day = env.layout.userFeatures.find((f) => f.name === 'day');
  return env.multiSession && day && day.size === 1 ? day.offset : -1;
}

/**
 * The per-item feedback statistics of a deep agent built with `itemFeedback` (policies/item-feedback.ts), or
 * null without it; an IncompatibleEnv error on an env without catalogue item ids.
 */
export function itemFeedbackFor(agent: string, env: AgentEnvInfo, on: boolean): ItemFeedback | null {
  if (!on) return null;
  const { layout } = env;
  if (layout.itemCount === null) throw new IncompatibleEnv(agent, env.envId, 'itemFeedback needs catalogue item ids (the env has none)');
  return ItemFeedback.forLayout({ ...layout, itemCount: layout.itemCount });
}

/** The feature block `name` of the layout's candidates (or user), or an IncompatibleEnv error. */
export function requireFeature(agent: string, env: AgentEnvInfo, where: 'user' | 'candidates', names: readonly string[]): FeatureSpec {
  const specs = where === 'user' ? env.layout.userFeatures : env.layout.candidateFeatures;
  for (const n of names) {
    const f = specs.find((s) => s.name === n);
    if (f) return f;
  }
  throw new IncompatibleEnv(
    agent,
    env.envId,
    `it needs the ${where} feature ${names.map((n) => `"${n}"`).join(' or ')}; the env's ${where} features are ${specs.map((s) => s.name).join(', ') || '(none)'}`,
  );
}

/** The topic of candidate i of slot s from a one-hot `topic` block. */
export function topicOf(cands: Float32Array, s: number, i: number, N: number, F: number, topic: FeatureSpec): number {
  const o = (s * N + i) * F + topic.offset;
  for (let t = 0; t < topic.size; t++) if (cands[o + t] === 1) return t;
  return -1;
}
