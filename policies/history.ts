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

/**
 * Consumed-item features: per slot, the mean of the candidate feature rows of the items the slot's user
 * consumed (clicked) so far in the episode, an exponential moving average of them (rate `rate`, bias-corrected
 * as Adam's moments are, so the first click gives that click's row) and log(1 + clicks). The average of
 * watched items' features is the user representation of YouTube's candidate generator (Covington et al. 2016);
 * the moving average weights recent consumption more. An agent learns them from its own feedback: which slate
 * it served (`serve`, at act time) and which position was clicked (`consume`, from the transitions in training
 * and from `Agent.feedback` in evaluation), so a recommender could keep them in production.
 *
 * A slot's block restarts when the observation marks its first step or another user occupies it (`augment`
 * without `keepOwner`), as EpisodeHistory's.
 */
export class ConsumedHistory {
  /** Extra feature columns appended to each user row: mean (F), moving average (F), log(1 + clicks). */
  readonly extra: number;
  /** Per slot: sums of consumed rows (F), the moving average before bias correction (F), clicks. */
  private readonly slots: SlotBlocks;
  /** Per slot, the feature rows of the slate it was last served (K x F). */
  private served = new Float32Array(0);

  constructor(
    readonly F: number,
    readonly K: number,
    readonly rate: number,
  ) {
    if (!(rate > 0 && rate <= 1)) throw new InvalidArgument(`ConsumedHistory: rate must be in (0, 1], got ${rate}`);
    this.extra = 2 * F + 1;
    this.slots = new SlotBlocks(2 * F + 1);
  }

  /** Remember the feature rows of the slates served to B slots (candidates B x N x F, slates B x K). */
  serve(candidates: Float32Array, N: number, slates: Int32Array, B: number, active: Uint8Array): void {
    const { F, K } = this;
    if (this.served.length < B * K * F) {
      const grown = new Float32Array(B * K * F);
      grown.set(this.served);
      this.served = grown;
    }
    for (let s = 0; s < B; s++) {
      if (!active[s]) continue;
      for (let k = 0; k < K; k++) {
        const i = slates[s * K + k]!;
        this.served.set(candidates.subarray((s * N + i) * F, (s * N + i + 1) * F), (s * K + k) * F);
      }
    }
  }

  /** Slot s's user consumed position `clicked` (-1: nothing) of the slate it was last served. */
  consume(clicked: Int32Array, B: number, stepped: Uint8Array): void {
    const { F } = this;
    const W = 2 * F + 1;
    if (this.served.length < B * this.K * F) throw new InvalidArgument(`ConsumedHistory.consume: no slate was served to ${B} slots (serve before consume)`);
    this.slots.ensure(B);
    const v = this.slots.values;
    const a = this.rate;
    for (let s = 0; s < B; s++) {
      const pos = clicked[s]!;
      if (!stepped[s] || pos < 0) continue;
      if (pos >= this.K) throw new InvalidArgument(`ConsumedHistory.consume: slot ${s} clicked position ${pos}, the slate holds ${this.K}`);
      const b = s * W;
      const row = (s * this.K + pos) * F;
      for (let j = 0; j < F; j++) {
        const x = this.served[row + j]!;
        v[b + j]! += x;
        v[b + F + j] = (1 - a) * v[b + F + j]! + a * x;
      }
      v[b + 2 * F]! += 1;
    }
  }

  /**
   * Rows [rows (W0), consumed mean (F), moving average (F), log(1 + clicks)] for B slots into out. `rows` are
   * the user rows the agent has so far (width W0). With `keepOwner` (a finished user's final observation) the
   * slot's block is used as it stands.
   */
  augment(rows: Float32Array, W0: number, obs: { userIndex: Float64Array; firstStep: Uint8Array }, B: number, out: Float32Array, opts: { keepOwner?: boolean }): Float32Array {
    const { F } = this;
    const Wb = 2 * F + 1;
    const W = W0 + this.extra;
    if (out.length < B * W) throw new InvalidArgument(`ConsumedHistory.augment: out holds ${out.length} values, needs ${B * W}`);
    this.slots.ensure(B);
    const v = this.slots.values;
    for (let s = 0; s < B; s++) {
      if (!opts.keepOwner) this.slots.claim(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      const b = s * Wb;
      const o = s * W;
      for (let j = 0; j < W0; j++) out[o + j] = rows[s * W0 + j]!;
      const n = v[b + 2 * F]!;
      const corr = n > 0 ? 1 / (1 - (1 - this.rate) ** n) : 0;
      for (let j = 0; j < F; j++) {
        out[o + W0 + j] = n > 0 ? v[b + j]! / n : 0;
        out[o + W0 + F + j] = v[b + F + j]! * corr;
      }
      out[o + W0 + 2 * F] = Math.log1p(n);
    }
    return out;
  }

  state(): HistoryState {
    return this.slots.state();
  }

  load(s: HistoryState): void {
    this.slots.load(s, 'ConsumedHistory');
  }
}
