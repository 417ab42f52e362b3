/**
 * The env API: Gymnasium 1.x semantics in TypeScript shape, over one batched simulator.
 *
 * Every engagement-gym env is a {@link BatchSim}: B user slots held as structure-of-arrays typed buffers.
 * The single-user {@link Env} is a BatchSim with B = 1 behind the Gymnasium-style object API; the
 * {@link VectorEnv} steps B users in lock-step over the same buffers. Both run the same code, so user i of
 * a population behaves identically alone or in a batch of 1,024.
 *
 * ## Observation layout (every env)
 * An observation is a record of typed arrays; the vector env stacks B of them, user-major:
 * - `user`: Float32Array, U per user (B x U): user / context features, env-specific layout in the env header.
 * - `candidates`: Float32Array, N x F per user (B x N x F): features of the N candidates the slate is chosen from.
 * - `itemIds` (catalogue envs only): Int32Array, N per user (B x N): catalogue ids of the candidates.
 * Actions are slates: K distinct candidate indices in [0, N), position 0 first (`Slate(N, K)`); the vector
 * env takes an Int32Array of B x K.
 *
 * ## Episodes and users
 * `reset({ seed })` starts user 0 of population `seed`; `reset()` without a seed continues with the next
 * user of the same population (user 1, 2, ...); `reset({ options: { userIndex } })` jumps to a user. An env
 * never seeded uses population 0. terminated = the MDP ended (budget spent, user churned); truncated = cut
 * from outside (horizon, TimeLimit).
 */
import { InvalidAction, InvalidArgument, ResetNeeded } from './errors.js';
import type { ResolvedParams } from './params.js';
import { Box, describeValue, Dict, MultiDiscrete, Slate, type Space } from './spaces.js';
import { checkSeed } from './rng.js';
import type { FiniteModel } from './boredom-mdp.js';

/** Sizes of the observation blocks and the slate. */
export interface Layout {
  /** user features per user */
  U: number;
  /** candidates per step */
  N: number;
  /** features per candidate */
  F: number;
  /** slate size */
  K: number;
  /** catalogue size, when candidates come from a fixed catalogue (then observations carry `itemIds`) */
  itemCount: number | null;
  /** Named column blocks of the user features (offsets into the U values of one user). */
  userFeatures: readonly FeatureSpec[];
  /** Named column blocks of one candidate's features (offsets into its F values). */
  candidateFeatures: readonly FeatureSpec[];
  /** Bounds of the per-step reward (infinite where unbounded). */
  rewardRange: readonly [number, number];
  /**
   * How the user responds to a slate: 'mnl' (a conditional choice among the slate items and not clicking),
   * 'position0' (the item in slate position 0 is always consumed), 'single' (one item, clicked or not).
   */
  choice: 'mnl' | 'position0' | 'single';
}

/**
 * A named block of feature columns. `kind`: 'onehot' (exactly one 1, e.g. `topic`), 'real', 'int' (integer
 * levels), or 'history' (L entries of `stride` values, newest first).
 */
export interface FeatureSpec {
  name: string;
  offset: number;
  size: number;
  kind: 'onehot' | 'real' | 'int' | 'history';
  /** history: values per entry and their names */
  stride?: number;
  fields?: readonly string[];
}

/** The block called `name`, or undefined. */
export function feature(specs: readonly FeatureSpec[], name: string): FeatureSpec | undefined {
  return specs.find((f) => f.name === name);
}

/** The most users one vector env steps together (documented limit, checked before anything is allocated). */
export const MAX_NUM_ENVS = 1_000_000;
/** The most bytes of observation buffers one vector env may allocate (numEnvs x (U + N F) float32s, 3 copies). */
export const MAX_VEC_OBSERVATION_BYTES = 2 ** 31;

/** Per-step outcome of a slot, returned by {@link BatchSim.stepSlot}. */
export const RUNNING = 0;
export const TERMINATED = 1;
export const TRUNCATED = 2;
export type SlotStatus = typeof RUNNING | typeof TERMINATED | typeof TRUNCATED;

/** A named hidden-state block: `data` holds B x prod(shape) values, user-major. */
export interface HiddenBlock {
  data: Float32Array | Float64Array | Int32Array;
  shape: readonly number[];
  description: string;
}

/**
 * A batched user simulator: the one implementation behind both the single and the vector env.
 * Observation buffers are owned by the sim and overwritten in place.
 */
export interface BatchSim {
  readonly B: number;
  readonly layout: Layout;
  readonly user: Float32Array;
  readonly candidates: Float32Array;
  readonly itemIds: Int32Array | null;
  /** Reward of each slot's last step. */
  readonly rewards: Float64Array;
  /** Slate position the user clicked (consumed) at each slot's last step, -1 for none. */
  readonly clicked: Int32Array;
  /** Names of per-episode statistics beyond return and length (e.g. activeDays, sessions, churned). */
  readonly episodeStatNames: readonly string[];
  /** Prepare population-level state (a catalogue, a trend) for population `seed`. */
  setPopulation(seed: number): void;
  /** Start user `userIndex` of the current population in `slot`; writes its first observation. */
  resetSlot(slot: number, userIndex: number): void;
  /** Apply the slate at actions[offset .. offset + K) to `slot`; writes reward and next observation. */
  stepSlot(slot: number, actions: Int32Array, offset: number): SlotStatus;
  /**
   * The JSON-serializable info of a slot after reset/step, a fresh object the caller may extend. Its
   * `hidden` entry may be a lazy getter over a snapshot of the state (see {@link lazyHidden}).
   */
  info(slot: number): Record<string, unknown>;
  /**
   * Hidden state as typed blocks over all slots (for oracle agents and analysis; never in the observation).
   * `names` limits the work to the blocks asked for (others may be absent from the result); `active`, when
   * given, lets the sim skip the per-candidate work of finished slots (their values are then unspecified).
   */
  hidden(names?: readonly string[], active?: Uint8Array): Record<string, HiddenBlock>;
  /** Write the extra per-episode statistics of a slot, in `episodeStatNames` order. */
  episodeStats(slot: number, out: Float64Array, offset: number): void;
}

export interface EnvMetadata {
  /** Autoreset mode of vector envs ('same-step' or 'off'); single envs: 'off'. */
  autoresetMode: AutoresetMode;
  /** Whether episodes span several sessions (then episode statistics include activeDays, sessions, churned). */
  multiSession: boolean;
}

export interface Observation {
  user: Float32Array;
  candidates: Float32Array;
  itemIds?: Int32Array;
}
export type Info = Record<string, unknown>;

export interface ResetOptions {
  seed?: number;
  options?: { userIndex?: number };
}
export interface ResetResult {
  observation: Observation;
  info: Info;
}
export interface StepResult {
  observation: Observation;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: Info;
}

/** Anything that can create a fresh copy of an env's sim (the registry entry). */
export interface EnvDefinition {
  id: string;
  params: ResolvedParams;
  createSim(B: number): BatchSim;
  multiSession: boolean;
  /** The exact model, for finite MDPs. */
  model?: () => FiniteModel;
}

/** The Gymnasium-style single-user env interface (what wrappers implement too). */
export interface Env {
  readonly id: string;
  readonly params: ResolvedParams;
  readonly observationSpace: Dict;
  readonly actionSpace: Slate;
  readonly metadata: EnvMetadata;
  readonly layout: Layout;
  readonly unwrapped: SimEnv;
  reset(opts?: ResetOptions): ResetResult;
  step(action: ArrayLike<number>): StepResult;
  close(): void;
}

/** Build the observation space of a layout. */
export function observationSpaceOf(layout: Layout, userLow: number | ArrayLike<number>, userHigh: number | ArrayLike<number>, candLow: number | ArrayLike<number>, candHigh: number | ArrayLike<number>): Dict {
  const spaces: Record<string, Space<unknown>> = {
    user: new Box(userLow, userHigh, [layout.U]),
    candidates: new Box(candLow, candHigh, [layout.N, layout.F]),
  };
  if (layout.itemCount !== null) spaces.itemIds = new MultiDiscrete(new Array(layout.N).fill(layout.itemCount));
  return new Dict(spaces);
}

type Phase = 'new' | 'running' | 'done';

/**
 * An info object whose `hidden` entry is computed only when read (or serialized by JSON.stringify), from a
 * snapshot the sim took at the step: keeps the single-user step cheap when nobody looks at the hidden state.
 * The other fields are own enumerable properties.
 */
const HIDDEN = Symbol('hidden');

class LazyHiddenInfo {
  [key: string]: unknown;
  /** The pending computation, then its result (a symbol key: not enumerable, not serialized). */
  [HIDDEN]: (() => Record<string, unknown>) | Record<string, unknown>;
  constructor(fields: Record<string, unknown>, compute: () => Record<string, unknown>) {
    for (const k in fields) this[k] = fields[k];
    this[HIDDEN] = compute;
  }
  get hidden(): Record<string, unknown> {
    const h = this[HIDDEN];
    return typeof h === 'function' ? (this[HIDDEN] = h()) : h;
  }
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const k in this) out[k] = this[k];
    out.hidden = this.hidden;
    return out;
  }
}

/** Info fields plus a lazily computed `hidden` entry (see LazyHiddenInfo). */
export function lazyHidden(fields: Record<string, unknown>, compute: () => Record<string, unknown>): Record<string, unknown> {
  return new LazyHiddenInfo(fields, compute);
}

/** Copy one slot's observation out of the sim buffers (fresh arrays: nothing aliases between steps). */
export function copySlotObservation(sim: BatchSim, slot: number): Observation {
  const { U, N, F } = sim.layout;
  const obs: Observation = {
    user: sim.user.slice(slot * U, (slot + 1) * U),
    candidates: sim.candidates.slice(slot * N * F, (slot + 1) * N * F),
  };
  if (sim.itemIds) obs.itemIds = sim.itemIds.slice(slot * N, (slot + 1) * N);
  return obs;
}

/**
 * Which population the env draws users from and which user comes next: `reset({ seed })` restarts the
 * population (user 0), `reset()` continues it, an explicit start index jumps; never seeded means population 0.
 */
class PopulationCursor {
  seed: number | null = null;
  next = 0;
  constructor(
    private readonly id: string,
    private readonly sim: BatchSim,
  ) {}
  /** Apply a reset's seed and start index (named `what` in errors). */
  begin(seed: number | undefined, start: number | undefined, what: string): void {
    if (seed !== undefined) {
      checkSeed(seed, `${this.id}.reset`);
      this.seed = seed;
      this.sim.setPopulation(seed);
      this.next = 0;
    } else if (this.seed === null) {
      this.seed = 0;
      this.sim.setPopulation(0);
      this.next = 0;
    }
    if (start !== undefined) {
      if (typeof start !== 'number' || !Number.isSafeInteger(start) || start < 0) throw new InvalidArgument(`${this.id}.reset: options.${what} must be a non-negative integer, got ${describeValue(start)}`);
      this.next = start;
    }
  }
}

/**
 * The single-user env: one slot of a BatchSim. Order is enforced (step before reset, or after the episode
 * ended, throws ResetNeeded). Each observation is a fresh copy.
 */
export class SimEnv implements Env {
  readonly id: string;
  readonly params: ResolvedParams;
  readonly observationSpace: Dict;
  readonly actionSpace: Slate;
  readonly metadata: EnvMetadata;
  readonly layout: Layout;
  readonly sim: BatchSim;
  private readonly cursor: PopulationCursor;
  private userIndex = -1;
  private phase: Phase = 'new';
  private stepCount = 0;
  private readonly action: Int32Array;
  private readonly modelFn: (() => FiniteModel) | undefined;

  constructor(
    def: EnvDefinition,
    observationSpace: Dict,
  ) {
    this.id = def.id;
    this.params = def.params;
    this.sim = def.createSim(1);
    this.layout = this.sim.layout;
    this.observationSpace = observationSpace;
    this.actionSpace = new Slate(this.layout.N, this.layout.K);
    this.metadata = { autoresetMode: 'off', multiSession: def.multiSession };
    this.action = new Int32Array(this.layout.K);
    this.modelFn = def.model;
    this.cursor = new PopulationCursor(this.id, this.sim);
  }

  /** Whether the env exposes its exact transition and reward model. */
  get hasModel(): boolean {
    return this.modelFn !== undefined;
  }

  /** The exact transition and reward model of a finite MDP (boredom-mdp-v0); throws for other envs. */
  model(): FiniteModel {
    if (!this.modelFn) throw new InvalidArgument(`${this.id}: this env has no exact model (only finite MDPs such as boredom-mdp-v0 expose model())`);
    return this.modelFn();
  }

  get unwrapped(): SimEnv {
    return this;
  }

  /** The (population seed, user index) of the current episode. */
  get currentUser(): { populationSeed: number; userIndex: number } {
    return { populationSeed: this.cursor.seed ?? 0, userIndex: this.userIndex };
  }

  reset(opts: ResetOptions = {}): ResetResult {
    this.cursor.begin(opts.seed, opts.options?.userIndex, 'userIndex');
    this.userIndex = this.cursor.next++;
    this.sim.resetSlot(0, this.userIndex);
    this.phase = 'running';
    this.stepCount = 0;
    return { observation: copySlotObservation(this.sim, 0), info: this.makeInfo() };
  }

  step(action: ArrayLike<number>): StepResult {
    if (this.phase === 'new') throw new ResetNeeded(`${this.id}: step() called before reset(); call reset() first`);
    if (this.phase === 'done') {
      throw new ResetNeeded(`${this.id}: step() called after the episode ended (terminated or truncated); call reset() to start the next user`);
    }
    const a = validateSlate(this.id, this.actionSpace, action);
    this.action.set(a);
    const status = this.sim.stepSlot(0, this.action, 0);
    this.stepCount++;
    const terminated = status === TERMINATED;
    const truncated = status === TRUNCATED;
    if (terminated || truncated) this.phase = 'done';
    return {
      observation: copySlotObservation(this.sim, 0),
      reward: this.sim.rewards[0]!,
      terminated,
      truncated,
      info: this.makeInfo(),
    };
  }

  close(): void {
    // Nothing to release: the sim holds only typed arrays. Closing twice is allowed.
  }

  private makeInfo(): Info {
    const info = this.sim.info(0);
    info.userIndex = this.userIndex;
    info.populationSeed = this.cursor.seed ?? 0;
    info.step = this.stepCount;
    info.clickedPosition = this.stepCount > 0 ? this.sim.clicked[0] : -1;
    return info;
  }
}

/** Check an action against a slate space; returns it as integers or throws InvalidAction naming the env. */
export function validateSlate(envId: string, space: Slate, action: unknown): ArrayLike<number> {
  const why = space.validate(action);
  if (why !== null) throw new InvalidAction(`${envId}: invalid action: ${why}; the action space is ${space.describe()}`);
  return action as ArrayLike<number>;
}

export type AutoresetMode = 'same-step' | 'off';

export interface VecObservation {
  user: Float32Array;
  candidates: Float32Array;
  itemIds: Int32Array | null;
}

/** Statistics of the episodes that ended at a step (typed fields, valid where `mask` is 1). */
export interface FinalInfo {
  /** 1 where the slot's episode ended at this step. */
  mask: Uint8Array;
  /** The user index whose episode ended. */
  userIndex: Float64Array;
  /** The finished user's last observation (same-step mode: the returned observation is already the next user's). */
  observation: VecObservation;
  /** Episode return, length and the env's extra statistics (activeDays, sessions, churned, ...). */
  stats: Record<string, Float64Array>;
}

export interface VecStepResult {
  observation: VecObservation;
  rewards: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  /** Slate position clicked (consumed) at this step, -1 for none (for finished slots: the finished user's). */
  clicked: Int32Array;
  /** 'off' mode: 1 while the slot's user is still in its episode. 'same-step': always 1. */
  active: Uint8Array;
  /** The user index now in each slot. */
  userIndex: Float64Array;
  final: FinalInfo;
  /** Number of slots whose episode ended at this step. */
  numFinished: number;
  /** 'off' mode: every slot is done. */
  allDone: boolean;
}

export interface VecResetOptions {
  seed?: number;
  options?: { firstUser?: number };
}

/**
 * B users stepped in lock-step. All returned arrays are views of buffers owned by the env and are
 * overwritten by the next call: copy what you keep.
 *
 * Autoreset modes: `same-step`: a finished user is replaced at once by the next user of the population
 * (indices B, B+1, ... in slot order), and its last observation and episode statistics are in `final`.
 * `off`: finished users stay done (`active` = 0, their actions are ignored, reward 0) until `reset()`;
 * evaluation uses this.
 */
export class VectorEnv {
  readonly id: string;
  readonly numEnvs: number;
  readonly sim: BatchSim;
  readonly layout: Layout;
  readonly singleObservationSpace: Dict;
  readonly singleActionSpace: Slate;
  readonly metadata: EnvMetadata;
  readonly statNames: readonly string[];
  private readonly result: VecStepResult;
  private readonly cursor: PopulationCursor;
  private phase: 'new' | 'running' = 'new';
  private readonly epReturn: Float64Array;
  private readonly epLength: Float64Array;
  private readonly extraStats: Float64Array;
  /** Slate validation scratch: the stamp of the row that last used each candidate index. */
  private seen = new Int32Array(0);
  private stamp = 0;

  constructor(def: EnvDefinition, observationSpace: Dict, numEnvs: number, autoresetMode: AutoresetMode) {
    if (typeof numEnvs !== 'number' || !Number.isInteger(numEnvs) || numEnvs < 1 || numEnvs > MAX_NUM_ENVS) {
      throw new InvalidArgument(`${def.id}: numEnvs must be an integer in [1, ${MAX_NUM_ENVS}], got ${describeValue(numEnvs)}`);
    }
    if (autoresetMode !== 'same-step' && autoresetMode !== 'off') {
      throw new InvalidArgument(`${def.id}: autoresetMode must be 'same-step' or 'off', got ${describeValue(autoresetMode)}`);
    }
    this.id = def.id;
    this.numEnvs = numEnvs;
    this.sim = def.createSim(numEnvs);
    this.layout = this.sim.layout;
    this.singleObservationSpace = observationSpace;
    this.singleActionSpace = new Slate(this.layout.N, this.layout.K);
    this.metadata = { autoresetMode, multiSession: def.multiSession };
    const B = numEnvs;
    const { U, N, F } = this.layout;
    this.statNames = ['return', 'length', ...this.sim.episodeStatNames];
    const stats: Record<string, Float64Array> = {};
    for (const s of this.statNames) stats[s] = new Float64Array(B);
    this.epReturn = new Float64Array(B);
    this.epLength = new Float64Array(B);
    this.extraStats = new Float64Array(this.sim.episodeStatNames.length);
    this.cursor = new PopulationCursor(def.id, this.sim);
    this.result = {
      observation: { user: this.sim.user, candidates: this.sim.candidates, itemIds: this.sim.itemIds },
      rewards: new Float64Array(B),
      clicked: new Int32Array(B).fill(-1),
      terminated: new Uint8Array(B),
      truncated: new Uint8Array(B),
      active: new Uint8Array(B),
      userIndex: new Float64Array(B),
      final: {
        mask: new Uint8Array(B),
        userIndex: new Float64Array(B),
        observation: {
          user: new Float32Array(B * U),
          candidates: new Float32Array(B * N * F),
          itemIds: this.sim.itemIds ? new Int32Array(B * N) : null,
        },
        stats,
      },
      numFinished: 0,
      allDone: false,
    };
  }

  /** Start users firstUser .. firstUser + B - 1 (default 0 after a seed, else the next unused users). */
  reset(opts: VecResetOptions = {}): { observation: VecObservation; userIndex: Float64Array } {
    this.cursor.begin(opts.seed, opts.options?.firstUser, 'firstUser');
    const r = this.result;
    for (let s = 0; s < this.numEnvs; s++) {
      const u = this.cursor.next++;
      this.sim.resetSlot(s, u);
      r.userIndex[s] = u;
      r.active[s] = 1;
      this.epReturn[s] = 0;
      this.epLength[s] = 0;
    }
    r.rewards.fill(0);
    r.clicked.fill(-1);
    r.terminated.fill(0);
    r.truncated.fill(0);
    r.final.mask.fill(0);
    r.numFinished = 0;
    r.allDone = false;
    this.phase = 'running';
    return { observation: r.observation, userIndex: r.userIndex };
  }

  /** Step every active slot with its slate: actions is Int32Array of B x K. */
  step(actions: Int32Array): VecStepResult {
    if (this.phase === 'new') throw new ResetNeeded(`${this.id} (vector): step() called before reset(); call reset() first`);
    const { K, N, U, F } = this.layout;
    const B = this.numEnvs;
    if (!(actions instanceof Int32Array)) throw new InvalidAction(`${this.id} (vector): actions must be an Int32Array of B x K = ${B} x ${K}, got ${actions === null ? 'null' : typeof actions === 'object' ? (actions as object).constructor.name : typeof actions}`);
    if (actions.length !== B * K) throw new InvalidAction(`${this.id} (vector): actions must hold B x K = ${B} x ${K} = ${B * K} indices, got ${actions.length}`);
    const r = this.result;
    const sim = this.sim;
    const same = this.metadata.autoresetMode === 'same-step';
    // All or nothing: every active slot's slate is validated before any slot moves, so a rejected batch leaves
    // the env exactly as it was. Linear time: a stamp per candidate index marks what the row has used.
    if (this.seen.length !== N) this.seen = new Int32Array(N).fill(-1);
    const seen = this.seen;
    for (let s = 0; s < B; s++) {
      if (!r.active[s]) continue;
      const o = s * K;
      const stamp = this.stamp++;
      for (let i = 0; i < K; i++) {
        const v = actions[o + i]!;
        if (v < 0 || v >= N) throw new InvalidAction(`${this.id} (vector): invalid action for slot ${s}: slate[${i}] = ${v} is out of range [0, ${N - 1}]; each row is a Slate(n=${N}, k=${K}); no slot was stepped`);
        if (seen[v] === stamp) {
          let j = 0;
          while (actions[o + j] !== v) j++;
          throw new InvalidAction(`${this.id} (vector): invalid action for slot ${s}: index ${v} appears twice (slate positions ${j} and ${i}); a slate holds distinct candidates; no slot was stepped`);
        }
        seen[v] = stamp;
      }
      if (this.stamp > 2 ** 30) {
        seen.fill(-1);
        this.stamp = 0;
      }
    }
    let finished = 0;
    let anyActive = false;
    for (let s = 0; s < B; s++) {
      r.final.mask[s] = 0;
      if (!r.active[s]) {
        r.rewards[s] = 0;
        r.clicked[s] = -1;
        r.terminated[s] = 0;
        r.truncated[s] = 0;
        continue;
      }
      const o = s * K;
      const status = sim.stepSlot(s, actions, o);
      const rew = sim.rewards[s]!;
      r.rewards[s] = rew;
      r.clicked[s] = sim.clicked[s]!;
      this.epReturn[s] += rew;
      this.epLength[s]! += 1;
      r.terminated[s] = status === TERMINATED ? 1 : 0;
      r.truncated[s] = status === TRUNCATED ? 1 : 0;
      if (status !== RUNNING) {
        finished++;
        this.recordFinal(s, U, N, F);
        if (same) {
          const u = this.cursor.next++;
          sim.resetSlot(s, u);
          r.userIndex[s] = u;
          this.epReturn[s] = 0;
          this.epLength[s] = 0;
        } else {
          r.active[s] = 0;
        }
      }
      if (r.active[s]) anyActive = true;
    }
    r.numFinished = finished;
    r.allDone = !anyActive;
    return r;
  }

  /**
   * Hidden state of every slot (oracles and analysis only); `names` limits the blocks computed. With autoreset
   * off, finished slots are skipped (their per-candidate values are unspecified: nobody acts on them).
   */
  hidden(names?: readonly string[]): Record<string, HiddenBlock> {
    return this.sim.hidden(names, this.metadata.autoresetMode === 'off' && this.phase !== 'new' ? this.result.active : undefined);
  }

  /** The JSON info of one slot (not built in the hot path; call it when needed). */
  infoFor(slot: number): Info {
    const info = this.sim.info(slot);
    info.userIndex = this.result.userIndex[slot];
    info.populationSeed = this.cursor.seed ?? 0;
    return info;
  }

  close(): void {}

  private recordFinal(s: number, U: number, N: number, F: number): void {
    const f = this.result.final;
    f.mask[s] = 1;
    f.userIndex[s] = this.result.userIndex[s]!;
    f.observation.user.set(this.sim.user.subarray(s * U, (s + 1) * U), s * U);
    f.observation.candidates.set(this.sim.candidates.subarray(s * N * F, (s + 1) * N * F), s * N * F);
    if (f.observation.itemIds && this.sim.itemIds) f.observation.itemIds.set(this.sim.itemIds.subarray(s * N, (s + 1) * N), s * N);
    f.stats.return![s] = this.epReturn[s]!;
    f.stats.length![s] = this.epLength[s]!;
    const names = this.sim.episodeStatNames;
    if (names.length > 0) {
      this.sim.episodeStats(s, this.extraStats, 0);
      for (let i = 0; i < names.length; i++) f.stats[names[i]!]![s] = this.extraStats[i]!;
    }
  }
}
