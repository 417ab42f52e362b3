/**
 * Wrappers around a single-user {@link Env}: TimeLimit and RecordEpisodeStatistics (Gymnasium semantics).
 *
 * Change log: v0.1.0 - initial.
 */
import type { Env, EnvMetadata, Layout, ResetOptions, ResetResult, StepResult } from './core.js';
import type { ResolvedParams } from './params.js';
import type { Dict, Slate } from './spaces.js';
import type { SimEnv } from './core.js';
import { InvalidArgument, ResetNeeded } from './errors.js';

/** Base class: forwards everything to the wrapped env. */
export class Wrapper implements Env {
  constructor(readonly env: Env) {}
  get id(): string {
    return this.env.id;
  }
  get params(): ResolvedParams {
    return this.env.params;
  }
  get observationSpace(): Dict {
    return this.env.observationSpace;
  }
  get actionSpace(): Slate {
    return this.env.actionSpace;
  }
  get metadata(): EnvMetadata {
    return this.env.metadata;
  }
  get layout(): Layout {
    return this.env.layout;
  }
  get unwrapped(): SimEnv {
    return this.env.unwrapped;
  }
  reset(opts?: ResetOptions): ResetResult {
    return this.env.reset(opts);
  }
  step(action: ArrayLike<number>): StepResult {
    return this.env.step(action);
  }
  close(): void {
    this.env.close();
  }
}

/** Truncates the episode after `maxEpisodeSteps` steps (truncated = true; a termination at the same step wins). */
export class TimeLimit extends Wrapper {
  private elapsed = 0;
  constructor(
    env: Env,
    readonly maxEpisodeSteps: number,
  ) {
    super(env);
    if (!Number.isInteger(maxEpisodeSteps) || maxEpisodeSteps < 1) {
      throw new InvalidArgument(`TimeLimit(${env.id}): maxEpisodeSteps must be a positive integer, got ${maxEpisodeSteps}`);
    }
  }
  /** The episode ended here (terminated, or truncated by the limit): step() needs a reset first. */
  private ended = false;
  override reset(opts?: ResetOptions): ResetResult {
    const r = this.env.reset(opts);
    this.elapsed = 0;
    this.ended = false;
    return r;
  }
  override step(action: ArrayLike<number>): StepResult {
    // The inner env enforces its own episode end; the limit's truncation is this wrapper's to enforce.
    if (this.ended) throw new ResetNeeded(`${this.id}: step() called after the episode ended (TimeLimit ${this.maxEpisodeSteps} reached or terminated); call reset() first`);
    const r = this.env.step(action);
    this.elapsed++;
    if (this.elapsed >= this.maxEpisodeSteps && !r.terminated) r.truncated = true;
    if (r.terminated || r.truncated) this.ended = true;
    return r;
  }
}

/** Statistics of one finished episode. */
export interface EpisodeStatistics {
  return: number;
  length: number;
  /** Multi-session envs only. */
  activeDays?: number;
  sessions?: number;
  churned?: boolean;
}

/**
 * Adds `info.episode` at the end of every episode: return, length and, for multi-session envs (retention-v0),
 * active days, sessions and whether the user churned. Keeps the last `bufferLength` episodes.
 */
export class RecordEpisodeStatistics extends Wrapper {
  private ret = 0;
  private len = 0;
  readonly episodes: EpisodeStatistics[] = [];
  constructor(
    env: Env,
    readonly bufferLength = 100,
  ) {
    super(env);
  }
  override reset(opts?: ResetOptions): ResetResult {
    this.ret = 0;
    this.len = 0;
    return this.env.reset(opts);
  }
  override step(action: ArrayLike<number>): StepResult {
    const r = this.env.step(action);
    this.ret += r.reward;
    this.len++;
    if (r.terminated || r.truncated) {
      const ep: EpisodeStatistics = { return: this.ret, length: this.len };
      if (this.metadata.multiSession) {
        ep.activeDays = r.info.activeDays as number;
        ep.sessions = r.info.sessions as number;
        ep.churned = r.info.churned as boolean;
      }
      r.info.episode = ep;
      this.episodes.push(ep);
      if (this.episodes.length > this.bufferLength) this.episodes.shift();
    }
    return r;
  }
}
