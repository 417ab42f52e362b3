/**
 * Per-item feedback statistics learned online from an agent's own training experience (catalogue envs with item
 * ids): for every catalogue item, how often the agent showed it in a slate, how often it was clicked there and
 * the reward those clicks earned. Each candidate row gets three columns, the same as the supervised pipeline's
 * `itemStats` (agents/supervised/preprocess.ts): the smoothed click rate (k + 20 pbar) / (n + 20), the smoothed
 * reward per click (w + 5 wbar) / (k + 5) and log(1 + n), where n, k, w are the item's shows, clicks and reward,
 * and pbar, wbar the population's click rate and reward per click so far (empirical-Bayes shrinkage toward them).
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
  /** Population totals (shows, clicks, reward), kept as accumulated so that a loaded agent continues bit for bit. */
  totals: [number, number, number];
}

export class ItemFeedback {
  /** Columns appended to each candidate row. */
  readonly extra = 3;
  private readonly shows: Float64Array;
  private readonly clicks: Float64Array;
  private readonly reward: Float64Array;
  private totShows = 0;
  private totClicks = 0;
  private totReward = 0;

  constructor(
    readonly itemCount: number,
    readonly F: number,
  ) {
    if (!(Number.isInteger(itemCount) && itemCount > 0)) throw new InvalidArgument(`ItemFeedback: itemCount must be a positive integer, got ${itemCount}`);
    this.shows = new Float64Array(itemCount);
    this.clicks = new Float64Array(itemCount);
    this.reward = new Float64Array(itemCount);
  }

  private item(id: number): number {
    if (!(id >= 0 && id < this.itemCount)) throw new InvalidArgument(`ItemFeedback: item id ${id} is outside the catalogue [0, ${this.itemCount})`);
    return id;
  }

  /**
   * Rows [candidate features (F), click rate, reward per click, log(1 + shows)] for the B x N candidates into out
   * (B x N x (F + 3)).
   */
  augment(candidates: Float32Array, itemIds: Int32Array | null, B: number, N: number, out: Float32Array): Float32Array {
    const F = this.F;
    const W = F + this.extra;
    if (!itemIds) throw new InvalidArgument('ItemFeedback.augment: the observation has no item ids');
    if (out.length < B * N * W) throw new InvalidArgument(`ItemFeedback.augment: out holds ${out.length} values, needs ${B * N * W}`);
    const meanCtr = this.totShows > 0 ? this.totClicks / this.totShows : 0;
    const meanReward = this.totClicks > 0 ? this.totReward / this.totClicks : 0;
    for (let r = 0; r < B * N; r++) {
      for (let j = 0; j < F; j++) out[r * W + j] = candidates[r * F + j]!;
      const it = this.item(itemIds[r]!);
      writeItemFeatures(this.shows[it]!, this.clicks[it]!, this.reward[it]!, meanCtr, meanReward, out, r * W + F);
    }
    return out;
  }

  /**
   * Count one step's feedback: for each slot that stepped, every item of its slate (positions of B x N
   * candidates) was shown once; the clicked position (-1: none) earned the slot's reward.
   */
  record(itemIds: Int32Array | null, N: number, slates: Int32Array, K: number, clicked: Int32Array, rewards: Float64Array, stepped: Uint8Array, B: number): void {
    if (!itemIds) throw new InvalidArgument('ItemFeedback.record: the observation has no item ids');
    for (let s = 0; s < B; s++) {
      if (!stepped[s]) continue;
      const pos = clicked[s]!;
      if (pos >= K) throw new InvalidArgument(`ItemFeedback.record: slot ${s} clicked position ${pos}, the slate holds ${K}`);
      for (let k = 0; k < K; k++) {
        const it = this.item(itemIds[s * N + slates[s * K + k]!]!);
        this.shows[it]! += 1;
        this.totShows += 1;
        if (k === pos) {
          this.clicks[it]! += 1;
          this.reward[it]! += rewards[s]!;
          this.totClicks += 1;
          this.totReward += rewards[s]!;
        }
      }
    }
  }

  state(): ItemFeedbackState {
    return { shows: Array.from(this.shows), clicks: Array.from(this.clicks), reward: Array.from(this.reward), totals: [this.totShows, this.totClicks, this.totReward] };
  }

  load(s: ItemFeedbackState): void {
    if (!Array.isArray(s.totals) || s.totals.length !== 3) throw new InvalidArgument('ItemFeedback: checkpointed statistics lack their totals');
    if (s.shows.length !== this.itemCount || s.clicks.length !== this.itemCount || s.reward.length !== this.itemCount) {
      throw new InvalidArgument(`ItemFeedback: checkpointed statistics cover ${s.shows.length} items, the env's catalogue has ${this.itemCount}`);
    }
    this.shows.set(s.shows);
    this.clicks.set(s.clicks);
    this.reward.set(s.reward);
    [this.totShows, this.totClicks, this.totReward] = s.totals;
  }
}
