/**
 * Steps 2 and 3 of the supervised pipeline: preprocessing (dedupe, split by user, normalization fitted on
 * the training split only) and features.
 *
 * Features of an impression (FeatureBuilder), from the observation at decision time:
 * - the candidate's features (all F columns: topic one-hot, appeal, quality estimate, length, ...);
 * - the user's non-sequence features (context: day, session, step in session, days since the last visit;
 *   interests where the env shows them);
 * - crosses with the candidate's topic where the env has one: the user's interest in it (interest envs) and,
 *   from the history of the last L interactions (newest first), the recency-weighted engagement with it
 *   sum_j 0.7^j [topic_j = c] (watch fraction or clicked), the count of its appearances, and the overall
 *   recent click rate; and, from a lifetime profile (topicShows, topicClicks), the smoothed click rate on the
 *   candidate's topic (clicks + 1) / (shows + 2), log(1 + shows) of it, the user's overall click rate, and
 *   (topicWatch) the mean watched fraction on the candidate's topic, watch / (clicks + 1);
 * - for the sequence model, the last L interactions as a sequence of [one-hot topic, clicked, engagement];
 * - optionally (catalogue envs, param `itemStats`), per-item statistics fitted on the training split only
 *   (ItemStats): the item's smoothed click rate (k + 20 pbar) / (n + 20), its smoothed watch per click
 *   (w + 5 wbar) / (k + 5) and log(1 + n); training rows use leave-one-out counts (their own impression
 *   removed), so a row's label never enters its own features.
 */
import type { FeatureSpec, Layout } from '../../envs/core.js';
import { streamFromString } from '../../envs/rng.js';
import type { ImpressionLog } from './logging.js';
import { writeItemFeatures } from '../../policies/item-feedback.js';

/** Drop duplicate impressions (same user, step and slate position), keeping the first. */
export function dedupe(log: ImpressionLog): ImpressionLog {
  const seen = new Set<string>();
  const keep: number[] = [];
  for (let i = 0; i < log.n; i++) {
    const k = `${log.userIndex[i]}|${log.step[i]}|${log.position[i]}`;
    if (seen.has(k)) continue;
    seen.add(k);
    keep.push(i);
  }
  return keep.length === log.n ? log : subset(log, keep);
}

/** The impressions at the given row indices. */
export function subset(log: ImpressionLog, rows: ArrayLike<number>): ImpressionLog {
  const n = rows.length;
  const { U, F } = log;
  const out: ImpressionLog = {
    U,
    F,
    n,
    user: new Float32Array(n * U),
    cand: new Float32Array(n * F),
    userIndex: new Float64Array(n),
    step: new Int32Array(n),
    position: new Int32Array(n),
    itemId: new Int32Array(n),
    click: new Float32Array(n),
    watch: new Float32Array(n),
    propensity: new Float32Array(n),
    trueClick: new Float32Array(n),
  };
  for (let k = 0; k < n; k++) {
    const i = rows[k]!;
    out.user.set(log.user.subarray(i * U, (i + 1) * U), k * U);
    out.cand.set(log.cand.subarray(i * F, (i + 1) * F), k * F);
    out.userIndex[k] = log.userIndex[i]!;
    out.step[k] = log.step[i]!;
    out.position[k] = log.position[i]!;
    out.itemId[k] = log.itemId[i]!;
    out.click[k] = log.click[i]!;
    out.watch[k] = log.watch[i]!;
    out.propensity[k] = log.propensity[i]!;
    out.trueClick[k] = log.trueClick[i]!;
  }
  return out;
}

export interface Splits {
  train: ImpressionLog;
  val: ImpressionLog;
  test: ImpressionLog;
}

/**
 * Split by user: each user goes to train / validation / test with the given fractions by a draw from a stream
 * seeded by (seed, user index), so no user is in two splits and the assignment does not depend on row order.
 */
export function splitByUser(log: ImpressionLog, fractions: { train: number; val: number }, seed: number): Splits {
  const assign = new Map<number, number>();
  const rows: number[][] = [[], [], []];
  for (let i = 0; i < log.n; i++) {
    const u = log.userIndex[i]!;
    let a = assign.get(u);
    if (a === undefined) {
      const x = streamFromString(`egym|split|${seed}|${u}`)();
      a = x < fractions.train ? 0 : x < fractions.train + fractions.val ? 1 : 2;
      assign.set(u, a);
    }
    rows[a]!.push(i);
  }
  return { train: subset(log, rows[0]!), val: subset(log, rows[1]!), test: subset(log, rows[2]!) };
}

/** Per-column standardization: (x - mean) / std, fitted on one matrix (the training split). */
export class Normalizer {
  constructor(
    readonly mean: Float32Array,
    readonly std: Float32Array,
  ) {}
  static fit(x: Float32Array, d: number): Normalizer {
    const n = x.length / d;
    const mean = new Float64Array(d);
    const sq = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
    for (let j = 0; j < d; j++) mean[j]! /= Math.max(1, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sq[j]! += (x[i * d + j]! - mean[j]!) ** 2;
    const std = new Float32Array(d);
    for (let j = 0; j < d; j++) {
      const s = Math.sqrt(sq[j]! / Math.max(1, n - 1));
      std[j] = s > 1e-8 ? s : 1;
    }
    return new Normalizer(Float32Array.from(mean), std);
  }
  apply(x: Float32Array, d: number): Float32Array {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const j = i % d;
      out[i] = (x[i]! - this.mean[j]!) / this.std[j]!;
    }
    return out;
  }
  toJSON(): { mean: number[]; std: number[] } {
    return { mean: Array.from(this.mean), std: Array.from(this.std) };
  }
  static fromJSON(j: { mean: number[]; std: number[] }): Normalizer {
    return new Normalizer(Float32Array.from(j.mean), Float32Array.from(j.std));
  }
}

const DECAY = 0.7;

/**
 * Per-item impressions, clicks and watch minutes counted on a training split (catalogue envs); the features are
 * policies/item-feedback.ts's, which the deep agents learn online.
 */
export class ItemStats {
  constructor(
    readonly shows: Float64Array,
    readonly clicks: Float64Array,
    readonly watch: Float64Array,
    readonly meanCtr: number,
    readonly meanWatch: number,
  ) {}
  static fit(log: ImpressionLog, itemCount: number): ItemStats {
    const shows = new Float64Array(itemCount);
    const clicks = new Float64Array(itemCount);
    const watch = new Float64Array(itemCount);
    let k = 0;
    let w = 0;
    for (let i = 0; i < log.n; i++) {
      const it = log.itemId[i]!;
      if (it < 0 || it >= itemCount) continue;
      shows[it]! += 1;
      clicks[it]! += log.click[i]!;
      watch[it]! += log.watch[i]!;
      k += log.click[i]!;
      w += log.watch[i]!;
    }
    return new ItemStats(shows, clicks, watch, log.n > 0 ? k / log.n : 0, k > 0 ? w / k : 0);
  }
  /** The three features of item `it`, minus one impression (click c, watch w) when leaving one out. */
  write(it: number, out: Float32Array, o: number, leaveOut?: { click: number; watch: number }): void {
    let n = 0;
    let k = 0;
    let w = 0;
    if (it >= 0 && it < this.shows.length) {
      n = this.shows[it]!;
      k = this.clicks[it]!;
      w = this.watch[it]!;
      if (leaveOut) (n -= 1), (k -= leaveOut.click), (w -= leaveOut.watch);
    }
    writeItemFeatures(n, k, w, this.meanCtr, this.meanWatch, out, o);
  }
  toJSON(): { shows: number[]; clicks: number[]; watch: number[]; meanCtr: number; meanWatch: number } {
    return { shows: Array.from(this.shows), clicks: Array.from(this.clicks), watch: Array.from(this.watch), meanCtr: this.meanCtr, meanWatch: this.meanWatch };
  }
  static fromJSON(j: ReturnType<ItemStats['toJSON']>): ItemStats {
    return new ItemStats(Float64Array.from(j.shows), Float64Array.from(j.clicks), Float64Array.from(j.watch), j.meanCtr, j.meanWatch);
  }
}

/** Builds feature vectors (and sequences) from user and candidate rows of one env layout. */
export class FeatureBuilder {
  readonly dim: number;
  /** Sequence length and per-step width (0 when the env has no interaction history). */
  readonly seqLen: number;
  readonly seqDim: number;
  private readonly userCols: number[] = [];
  private readonly topic: FeatureSpec | undefined;
  private readonly interests: FeatureSpec | undefined;
  private readonly history: FeatureSpec | undefined;
  private readonly shows: FeatureSpec | undefined;
  private readonly clicks: FeatureSpec | undefined;
  private readonly watch: FeatureSpec | undefined;
  private readonly hTopic: number;
  private readonly hClick: number;
  private readonly hEngage: number;
  private readonly F: number;

  constructor(
    layout: Layout,
    readonly itemStats: ItemStats | null = null,
  ) {
    this.F = layout.F;
    for (const f of layout.userFeatures) if (f.kind !== 'history') for (let j = 0; j < f.size; j++) this.userCols.push(f.offset + j);
    this.topic = layout.candidateFeatures.find((f) => f.name === 'topic' && f.kind === 'onehot');
    this.interests = layout.userFeatures.find((f) => f.name === 'interests');
    const h = layout.userFeatures.find((f) => f.kind === 'history' && f.fields?.includes('topic'));
    this.history = h;
    this.hTopic = h ? h.fields!.indexOf('topic') : -1;
    this.hClick = h ? h.fields!.indexOf('clicked') : -1;
    const eng = h ? (h.fields!.includes('watchFraction') ? 'watchFraction' : 'clicked') : '';
    this.hEngage = h ? h.fields!.indexOf(eng) : -1;
    const shows = layout.userFeatures.find((f) => f.name === 'topicShows');
    const clicks = layout.userFeatures.find((f) => f.name === 'topicClicks');
    if (this.topic && shows && clicks && shows.size === this.topic.size && clicks.size === this.topic.size) {
      this.shows = shows;
      this.clicks = clicks;
    }
    let d = layout.F + this.userCols.length;
    if (this.topic && this.interests && this.interests.size === this.topic.size) d += 1;
    if (this.topic && h) d += 3;
    if (this.shows) d += 3;
    const watch = layout.userFeatures.find((f) => f.name === 'topicWatch');
    if (this.topic && this.clicks && watch && watch.size === this.topic.size) {
      this.watch = watch;
      d += 1;
    }
    if (itemStats) d += 3;
    this.dim = d;
    this.seqLen = h && this.topic ? h.size / h.stride! : 0;
    this.seqDim = this.seqLen > 0 ? this.topic!.size + 2 : 0;
  }

  private topicOf(cand: Float32Array, co: number): number {
    const t = this.topic!;
    for (let j = 0; j < t.size; j++) if (cand[co + t.offset + j] === 1) return j;
    return -1;
  }

  /**
   * Write the feature vector of (user row at uo, candidate row at co, catalogue item `itemId`) into out at oo;
   * `leaveOut` removes the row's own impression from the item statistics (training rows).
   */
  write(user: Float32Array, uo: number, cand: Float32Array, co: number, out: Float32Array, oo: number, itemId = -1, leaveOut?: { click: number; watch: number }): void {
    let k = oo;
    for (let j = 0; j < this.F; j++) out[k++] = cand[co + j]!;
    for (const c of this.userCols) out[k++] = user[uo + c]!;
    const c = this.topic ? this.topicOf(cand, co) : -1;
    if (this.topic && this.interests && this.interests.size === this.topic.size) out[k++] = c >= 0 ? user[uo + this.interests.offset + c]! : 0;
    if (this.topic && this.history) {
      const h = this.history;
      const L = h.size / h.stride!;
      let eng = 0;
      let count = 0;
      let clicks = 0;
      let seen = 0;
      let w = 1;
      for (let j = 0; j < L; j++) {
        const o = uo + h.offset + j * h.stride!;
        const tp = user[o + this.hTopic]!;
        if (tp >= 0) {
          seen++;
          clicks += this.hClick >= 0 ? user[o + this.hClick]! : 0;
          if (tp === c) {
            count++;
            eng += w * user[o + this.hEngage]!;
          }
        }
        w *= DECAY;
      }
      out[k++] = eng;
      out[k++] = count;
      out[k++] = seen > 0 ? clicks / seen : 0;
    }
    if (this.shows && this.clicks) {
      const sh = c >= 0 ? user[uo + this.shows.offset + c]! : 0;
      const cl = c >= 0 ? user[uo + this.clicks.offset + c]! : 0;
      let allS = 0;
      let allC = 0;
      for (let t = 0; t < this.shows.size; t++) {
        allS += user[uo + this.shows.offset + t]!;
        allC += user[uo + this.clicks.offset + t]!;
      }
      out[k++] = (cl + 1) / (sh + 2);
      out[k++] = Math.log1p(sh);
      out[k++] = (allC + 1) / (allS + 2);
    }
    if (this.watch) out[k++] = c >= 0 ? user[uo + this.watch.offset + c]! / (user[uo + this.clicks!.offset + c]! + 1) : 0;
    if (this.itemStats) this.itemStats.write(itemId, out, k, leaveOut);
  }

  /** Write the interaction sequence of a user row (oldest first) into out at oo: seqLen x seqDim. */
  writeSequence(user: Float32Array, uo: number, out: Float32Array, oo: number): void {
    const h = this.history!;
    const T = this.topic!.size;
    out.fill(0, oo, oo + this.seqLen * this.seqDim);
    for (let j = 0; j < this.seqLen; j++) {
      const src = uo + h.offset + (this.seqLen - 1 - j) * h.stride!;
      const o = oo + j * this.seqDim;
      const tp = user[src + this.hTopic]!;
      if (tp >= 0 && tp < T) out[o + tp] = 1;
      out[o + T] = this.hClick >= 0 ? user[src + this.hClick]! : 0;
      out[o + T + 1] = user[src + this.hEngage]!;
    }
  }

  /** Feature matrix of a log (n x dim); `leaveOneOut` for the split the item statistics were fitted on. */
  matrix(log: ImpressionLog, leaveOneOut = false): Float32Array {
    const out = new Float32Array(log.n * this.dim);
    const lo = { click: 0, watch: 0 };
    for (let i = 0; i < log.n; i++) {
      if (leaveOneOut) (lo.click = log.click[i]!), (lo.watch = log.watch[i]!);
      this.write(log.user, i * log.U, log.cand, i * log.F, out, i * this.dim, log.itemId[i]!, leaveOneOut ? lo : undefined);
    }
    return out;
  }

  /** Sequence tensor data of a log (n x seqLen x seqDim). */
  sequences(log: ImpressionLog): Float32Array {
    const w = this.seqLen * this.seqDim;
    const out = new Float32Array(log.n * w);
    for (let i = 0; i < log.n; i++) this.writeSequence(log.user, i * log.U, out, i * w);
    return out;
  }
}
