/**
 * Episode-history features for agents whose env observation is a snapshot: per slot, the running mean of the
 * user feature rows seen since the user's episode began (the current row included) and log(1 + steps already
 * taken). They are sufficient statistics of the observation history an agent has seen, not env knowledge: in
 * interest-evolution-v0 the remaining time budget (hidden, and what the value of a state mostly depends on) is
 * a function of the counts of clicks and no-clicks and of the mean quality of what was watched, all of which
 * are in the history of the observed responses but in no single observation. A recurrent policy would learn
 * such summaries; these are the cheap fixed ones (mean and count; the sum is their product).
 *
 * A slot's history restarts when the observation marks its first step, or when another user occupies it.
 * Each act call commits the current row of every active slot once; `augment` without `commit` builds the
 * features of an observation without changing the history (the next observation of a rollout's last step; with
 * `keepOwner`, a truncated episode's final observation).
 */
import { InvalidArgument } from '../envs/errors.js';

/** Checkpointed per-slot blocks: the owner of each slot and its block of values, row-major. */
export interface SlotState {
  owners: number[];
  values: number[];
}

/**
 * One block of `width` numbers per slot, owned by the user in that slot: zeroed when the slot's user is at its
 * first step or another user takes the slot. The per-user memory of EpisodeHistory and of agents that keep
 * within-episode statistics (revealed-quality).
 */
export class SlotBlocks {
  private owners = new Float64Array(0);
  /** Slot s's block is values[s * width, (s + 1) * width). */
  values = new Float64Array(0);

  constructor(readonly width: number) {}

  /** Room for B slots (new slots have no owner). */
  ensure(B: number): void {
    if (this.owners.length >= B) return;
    const owners = new Float64Array(B).fill(-1);
    owners.set(this.owners);
    const values = new Float64Array(B * this.width);
    values.set(this.values);
    this.owners = owners;
    this.values = values;
  }

  /** Slot s now serves `user` (at its first step if `first`): a new owner or a first step zeroes the block. */
  claim(s: number, user: number, first: boolean): void {
    if (!first && this.owners[s] === user) return;
    this.owners[s] = user;
    this.values.fill(0, s * this.width, (s + 1) * this.width);
  }

  state(): SlotState {
    return { owners: Array.from(this.owners), values: Array.from(this.values) };
  }

  load(s: SlotState, what: string): void {
    if (s.values.length !== s.owners.length * this.width) throw new InvalidArgument(`${what}: checkpointed per-slot state has inconsistent sizes`);
    this.owners = Float64Array.from(s.owners);
    this.values = Float64Array.from(s.values);
  }
}

export type HistoryState = SlotState;

export class EpisodeHistory {
  /** Extra feature columns appended to each user row. */
  readonly extra: number;
  /** Per slot: the sums of the episode's user rows (U), then the number of rows committed. */
  private readonly slots: SlotBlocks;

  constructor(readonly U: number) {
    this.extra = U + 1;
    this.slots = new SlotBlocks(U + 1);
  }

  /**
   * Rows [user (U), episode mean (U), log(1 + steps)] for B slots into out (B x (2U + 1)). With `commit`, every
   * active slot's current row joins its history. With `keepOwner` (a finished user's final observation), the
   * slot's history is used as it stands.
   */
  augment(obs: { user: Float32Array; userIndex: Float64Array; firstStep: Uint8Array; active?: Uint8Array }, B: number, out: Float32Array, opts: { commit: boolean; keepOwner?: boolean }): Float32Array {
    const U = this.U;
    const W = U + this.extra;
    if (out.length < B * W) throw new InvalidArgument(`EpisodeHistory.augment: out holds ${out.length} values, needs ${B * W}`);
    this.slots.ensure(B);
    const v = this.slots.values;
    for (let s = 0; s < B; s++) {
      if (!opts.keepOwner) this.slots.claim(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      const b = s * (U + 1);
      const n = v[b + U]!;
      const o = s * W;
      for (let j = 0; j < U; j++) {
        const x = obs.user[s * U + j]!;
        out[o + j] = x;
        out[o + U + j] = (v[b + j]! + x) / (n + 1);
      }
      out[o + 2 * U] = Math.log1p(n);
      if (opts.commit && (!obs.active || obs.active[s])) {
        for (let j = 0; j < U; j++) v[b + j]! += obs.user[s * U + j]!;
        v[b + U] = n + 1;
      }
    }
    return out;
  }

  state(): HistoryState {
    return this.slots.state();
  }

  load(s: HistoryState): void {
    this.slots.load(s, 'EpisodeHistory');
  }
}
