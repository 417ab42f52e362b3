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

export interface HistoryState {
  owners: number[];
  counts: number[];
  sums: number[];
}

export class EpisodeHistory {
  /** Extra feature columns appended to each user row. */
  readonly extra: number;
  private owners = new Float64Array(0);
  private counts = new Float64Array(0);
  private sums = new Float64Array(0);

  constructor(readonly U: number) {
    this.extra = U + 1;
  }

  private ensure(B: number): void {
    if (this.owners.length >= B) return;
    const owners = new Float64Array(B).fill(-1);
    owners.set(this.owners);
    const counts = new Float64Array(B);
    counts.set(this.counts);
    const sums = new Float64Array(B * this.U);
    sums.set(this.sums);
    this.owners = owners;
    this.counts = counts;
    this.sums = sums;
  }

  private restartIfNew(s: number, user: number, first: boolean): void {
    if (!first && this.owners[s] === user) return;
    this.owners[s] = user;
    this.counts[s] = 0;
    this.sums.fill(0, s * this.U, (s + 1) * this.U);
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
    this.ensure(B);
    for (let s = 0; s < B; s++) {
      if (!opts.keepOwner) this.restartIfNew(s, obs.userIndex[s]!, obs.firstStep[s] === 1);
      const n = this.counts[s]!;
      const o = s * W;
      for (let j = 0; j < U; j++) {
        const x = obs.user[s * U + j]!;
        out[o + j] = x;
        out[o + U + j] = (this.sums[s * U + j]! + x) / (n + 1);
      }
      out[o + 2 * U] = Math.log1p(n);
      if (opts.commit && (!obs.active || obs.active[s])) {
        for (let j = 0; j < U; j++) this.sums[s * U + j]! += obs.user[s * U + j]!;
        this.counts[s] = n + 1;
      }
    }
    return out;
  }

  state(): HistoryState {
    return { owners: Array.from(this.owners), counts: Array.from(this.counts), sums: Array.from(this.sums) };
  }

  load(s: HistoryState): void {
    if (s.sums.length !== s.owners.length * this.U || s.counts.length !== s.owners.length) throw new InvalidArgument('EpisodeHistory: checkpointed history has inconsistent sizes');
    this.owners = Float64Array.from(s.owners);
    this.counts = Float64Array.from(s.counts);
    this.sums = Float64Array.from(s.sums);
  }
}
