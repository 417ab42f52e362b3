/**
 * Per-item feedback statistics learned online from an agent's own training experience (catalogue envs with item
 * ids): for every catalogue item, how often the agent showed it in a slate, how often it was clicked there and
 * the reward those clicks earned. Each candidate row gets three columns, the same as the supervised pipeline's
 * `itemStats` (agents/supervised/preprocess.ts): the smoothed click rate (k + 20 pbar) / (n + 20), the smoothed
 * reward per click (w + 5 wbar) / (k + 5) and log(1 + n), where n, k, w are the item's shows, clicks and reward,
 * and pbar, wbar the population's click rate and reward per click so far (empirical-Bayes shrinkage toward them).
 * Where the candidates have a one-column `length` feature, a fourth column is the smoothed reward per click per
 * unit of length, (r + 5 rbar) / (k + 5) with r the sum over clicks of reward / length: with watch-time rewards,
 * the mean watched fraction, which a network would otherwise have to divide out of the reward per click.
 *
 * They are population-level learned parameters, like a network's weights: they change only from training
 * transitions (`record`, after the step, so a step's own outcome never enters the features it was chosen on), are
 * frozen in evaluation (the result does not depend on the order or batch in which held-out users are served), and
 * are part of the checkpoint. In retention-v1 an item's quality has a part its content features do not predict
 * (the item noise); watched minutes per click reveal it, so ranking by learned features can pass
 * `content-oracle`, which sees content only. These are the item-level statistics a production recommender keeps
 * (per-item CTR and watch time), not env knowledge.
 */
import { InvalidArgument } from '../envs/errors.js';
import type { Layout } from '../envs/core.js';

/** Prior weights of the shrinkage (pseudo-impressions for the click rate, pseudo-clicks for the reward per click). */
export const CTR_PRIOR = 20;
export const REWARD_PRIOR = 5;

/**
 * The three features of an item with n shows, k clicks and w reward, shrunk toward the population's click rate
 * `meanCtr` and reward per click `meanReward`, into out[o..o+2].
 */
export function writeItemFeatures(n: number, k: number, w: number, meanCtr: number, meanReward: number, out: Float32Array, o: number): void {
  out[o] = (k + CTR_PRIOR * meanCtr) / (n + CTR_PRIOR);
  out[o + 1] = (w + REWARD_PRIOR * meanReward) / (k + REWARD_PRIOR);
  out[o + 2] = Math.log1p(Math.max(0, n));
}

export interface ItemFeedbackState {
  shows: number[];
  clicks: number[];
  reward: number[];
  /** Per item, the sum over clicks of reward / length (with a length feature), else absent. */
  rate?: number[];
  /** Population totals (shows, clicks, reward, and rate with a length feature), kept as accumulated so that a loaded agent continues bit for bit. */
  totals: number[];
}

export class ItemFeedback {
  /** Columns appended to each candidate row: 3, or 4 with a length feature. */
  readonly extra: number;
  private readonly shows: Float64Array;
  private readonly clicks: Float64Array;
  private readonly reward: Float64Array;
  private readonly rate: Float64Array | null;
  private totShows = 0;
  private totClicks = 0;
  private totReward = 0;
  private totRate = 0;

  /** The offset of a layout's one-column `length` candidate feature, else -1. */
  static lengthOffset(layout: Layout): number {
    const f = layout.candidateFeatures.find((c) => c.name === 'length');
    return f && f.size === 1 ? f.offset : -1;
  }

  /** Columns appended for a length feature at `lengthOffset` (-1: none). */
  static columns(lengthOffset: number): number {
    return lengthOffset >= 0 ? 4 : 3;
  }

  /** The statistics of an agent's catalogue (item ids required), with the length column where `layout` has one. */
  static forLayout(layout: Layout & { itemCount: number }): ItemFeedback {
    return new ItemFeedback(layout.itemCount, layout.F, ItemFeedback.lengthOffset(layout));
  }

  constructor(
    readonly itemCount: number,
    readonly F: number,
    /** Offset of the candidates' one-column length feature, or -1 (no reward-per-length column). */
    readonly lengthOffset = -1,
  ) {
    if (!(Number.isInteger(itemCount) && itemCount > 0)) throw new InvalidArgument(`ItemFeedback: itemCount must be a positive integer, got ${itemCount}`);
    if (!(Number.isInteger(lengthOffset) && lengthOffset >= -1 && lengthOffset < F)) throw new InvalidArgument(`ItemFeedback: lengthOffset must be -1 or a column in [0, ${F}), got ${lengthOffset}`);
    this.extra = ItemFeedback.columns(lengthOffset);
    this.shows = new Float64Array(itemCount);
    this.clicks = new Float64Array(itemCount);
    this.reward = new Float64Array(itemCount);
    this.rate = lengthOffset >= 0 ? new Float64Array(itemCount) : null;
  }

  private item(id: number): number {
    if (!(id >= 0 && id < this.itemCount)) throw new InvalidArgument(`ItemFeedback: item id ${id} is outside the catalogue [0, ${this.itemCount})`);
    return id;
  }

  /**
   * Rows [candidate features (F), click rate, reward per click, log(1 + shows), (reward per length)] for the
   * B x N candidates into out (B x N x (F + extra)).
   */
  augment(candidates: Float32Array, itemIds: Int32Array | null, B: number, N: number, out: Float32Array): Float32Array {
    const F = this.F;
    const W = F + this.extra;
    if (!itemIds) throw new InvalidArgument('ItemFeedback.augment: the observation has no item ids');
    if (out.length < B * N * W) throw new InvalidArgument(`ItemFeedback.augment: out holds ${out.length} values, needs ${B * N * W}`);
    const meanCtr = this.totShows > 0 ? this.totClicks / this.totShows : 0;
    const meanReward = this.totClicks > 0 ? this.totReward / this.totClicks : 0;
    const meanRate = this.totClicks > 0 ? this.totRate / this.totClicks : 0;
    const rate = this.rate;
    for (let r = 0; r < B * N; r++) {
      for (let j = 0; j < F; j++) out[r * W + j] = candidates[r * F + j]!;
      const it = this.item(itemIds[r]!);
      writeItemFeatures(this.shows[it]!, this.clicks[it]!, this.reward[it]!, meanCtr, meanReward, out, r * W + F);
      if (rate) out[r * W + F + 3] = (rate[it]! + REWARD_PRIOR * meanRate) / (this.clicks[it]! + REWARD_PRIOR);
    }
    return out;
  }

  /**
   * Count one step's feedback: for each slot that stepped, every item of its slate (positions of the B x N
   * candidates of `obs`) was shown once; the clicked position (-1: none) earned the slot's reward.
   */
  record(obs: { candidates: Float32Array; itemIds: Int32Array | null }, N: number, slates: Int32Array, K: number, clicked: Int32Array, rewards: Float64Array, stepped: Uint8Array, B: number): void {
    const itemIds = obs.itemIds;
    if (!itemIds) throw new InvalidArgument('ItemFeedback.record: the observation has no item ids');
    for (let s = 0; s < B; s++) {
      if (!stepped[s]) continue;
      const pos = clicked[s]!;
      if (pos >= K) throw new InvalidArgument(`ItemFeedback.record: slot ${s} clicked position ${pos}, the slate holds ${K}`);
      for (let k = 0; k < K; k++) {
        const c = s * N + slates[s * K + k]!;
        const it = this.item(itemIds[c]!);
        this.shows[it]! += 1;
        this.totShows += 1;
        if (k === pos) {
          this.clicks[it]! += 1;
          this.reward[it]! += rewards[s]!;
          this.totClicks += 1;
          this.totReward += rewards[s]!;
          if (this.rate) {
            const len = obs.candidates[c * this.F + this.lengthOffset]!;
            if (!(len > 0)) throw new InvalidArgument(`ItemFeedback.record: item ${it} has length ${len}; the reward per length needs lengths > 0`);
            this.rate[it]! += rewards[s]! / len;
            this.totRate += rewards[s]! / len;
          }
        }
      }
    }
  }

  state(): ItemFeedbackState {
    return {
      shows: Array.from(this.shows),
      clicks: Array.from(this.clicks),
      reward: Array.from(this.reward),
      ...(this.rate ? { rate: Array.from(this.rate) } : {}),
      totals: this.rate ? [this.totShows, this.totClicks, this.totReward, this.totRate] : [this.totShows, this.totClicks, this.totReward],
    };
  }

  load(s: ItemFeedbackState): void {
    const nt = this.rate ? 4 : 3;
    if (!Array.isArray(s.totals) || s.totals.length !== nt) throw new InvalidArgument(`ItemFeedback: checkpointed statistics lack their ${nt} totals`);
    if (this.rate && s.rate?.length !== this.itemCount) throw new InvalidArgument(`ItemFeedback: checkpointed statistics lack the reward per length of the catalogue's ${this.itemCount} items`);
    if (s.shows.length !== this.itemCount || s.clicks.length !== this.itemCount || s.reward.length !== this.itemCount) {
      throw new InvalidArgument(`ItemFeedback: checkpointed statistics cover ${s.shows.length} items, the env's catalogue has ${this.itemCount}`);
    }
    this.shows.set(s.shows);
    this.clicks.set(s.clicks);
    this.reward.set(s.reward);
    if (this.rate) this.rate.set(s.rate!);
    [this.totShows, this.totClicks, this.totReward] = s.totals as [number, number, number];
    this.totRate = this.rate ? s.totals[3]! : 0;
  }
}

/**
 * The candidate rows an agent with optional per-item statistics sees: the observation's own (no statistics), or
 * with the item columns, into `out` (a new array unless given).
 */
export function candidateRows(items: ItemFeedback | null, obs: { candidates: Float32Array; itemIds: Int32Array | null }, B: number, N: number, out?: Float32Array): Float32Array {
  if (!items) return obs.candidates;
  return items.augment(obs.candidates, obs.itemIds, B, N, out ?? new Float32Array(B * N * (items.F + items.extra)));
}
