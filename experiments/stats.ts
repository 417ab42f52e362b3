/**
 * Statistics for experiment summaries. simple-statistics provides the basics (mean, sample standard
 * deviation, quantiles) and stdlib the Student-t distribution (CDF and quantile, accurate to about 1e-15). The
 * rest is written here on top of them, because no maintained JavaScript package has it: t-intervals, paired
 * differences with a two-sided p-value, Holm's step-down correction, and the interquartile mean with a seeded
 * (stratified) percentile bootstrap (rliable, Agarwal et al., NeurIPS 2021).
 */
import { mean as ssMean, quantileSorted, sampleStandardDeviation } from 'simple-statistics';
import stdlibTCdf from '@stdlib/stats-base-dists-t-cdf';
import stdlibTQuantile from '@stdlib/stats-base-dists-t-quantile';
import { streamFromString } from '../envs/rng.js';
import { InvalidArgument } from '../envs/errors.js';

export function mean(x: ArrayLike<number>): number {
  return ssMean(Array.from(x));
}

export function sd(x: ArrayLike<number>): number {
  return x.length < 2 ? 0 : sampleStandardDeviation(Array.from(x));
}

/** Student-t CDF with df degrees of freedom (stdlib; Boost's incomplete-beta algorithm). */
export function tCdf(t: number, df: number): number {
  return stdlibTCdf(t, df);
}

/** Student-t quantile (stdlib). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new InvalidArgument(`tQuantile: p must be in (0, 1), got ${p}`);
  return stdlibTQuantile(p, df);
}

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Mean and two-sided (1 - alpha) t-interval. n = 1 gives a degenerate interval (NaN bounds). */
export function tInterval(x: ArrayLike<number>, alpha = 0.05): Interval {
  const n = x.length;
  const m = mean(x);
  if (n < 2) return { mean: m, lo: NaN, hi: NaN, n };
  const h = (tQuantile(1 - alpha / 2, n - 1) * sd(x)) / Math.sqrt(n);
  return { mean: m, lo: m - h, hi: m + h, n };
}

export interface PairedDifference extends Interval {
  /** Two-sided p-value of the paired t-test. */
  p: number;
  /** Mean difference relative to the baseline mean, in percent. */
  relative: number;
}

/** Paired difference a_i - b_i: mean, t-interval, paired t-test p-value, relative improvement over mean(b). */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>, alpha = 0.05): PairedDifference {
  if (a.length !== b.length) throw new InvalidArgument(`pairedDifference: ${a.length} vs ${b.length} observations`);
  const d = Array.from(a, (v, i) => v - b[i]!);
  const ci = tInterval(d, alpha);
  const s = sd(d);
  const n = d.length;
  let p: number;
  if (n < 2) p = NaN;
  else if (s === 0) p = ci.mean === 0 ? 1 : 0;
  else {
    const t = ci.mean / (s / Math.sqrt(n));
    p = 2 * (1 - tCdf(Math.abs(t), n - 1));
  }
  const mb = mean(b);
  return { ...ci, p, relative: mb === 0 ? NaN : (100 * ci.mean) / Math.abs(mb) };
}

/** Holm's step-down adjusted p-values (same order as the input). */
export function holm(p: readonly number[]): number[] {
  const idx = p.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(p.length);
  let running = 0;
  idx.forEach(([v, i], k) => {
    const adj = Math.min(1, (p.length - k) * v);
    running = Math.max(running, Number.isNaN(adj) ? running : adj);
    out[i] = Number.isNaN(v) ? NaN : running;
  });
  return out;
}

/** Interquartile mean: the mean after trimming floor(n / 4) values from each end (scipy's trim_mean(x, 0.25)). */
export function iqm(x: ArrayLike<number>): number {
  const s = Array.from(x).sort((a, b) => a - b);
  const k = Math.floor(s.length / 4);
  const mid = s.slice(k, s.length - k);
  return mean(mid);
}

/**
 * Percentile bootstrap CI of a statistic, resampling within each stratum (rliable's stratified bootstrap:
 * strata = tasks; runs are resampled with replacement inside each), from a seeded stream.
 */
export function stratifiedBootstrap(strata: number[][], stat: (x: number[]) => number, opts: { reps?: number; seed: number; alpha?: number }): { lo: number; hi: number } {
  const reps = opts.reps ?? 2000;
  const alpha = opts.alpha ?? 0.05;
  const rng = streamFromString(`egym|bootstrap|${opts.seed}`);
  const vals: number[] = [];
  for (let r = 0; r < reps; r++) {
    const sample: number[] = [];
    for (const s of strata) for (let i = 0; i < s.length; i++) sample.push(s[Math.floor(rng() * s.length)]!);
    vals.push(stat(sample));
  }
  vals.sort((a, b) => a - b);
  return { lo: quantileSorted(vals, alpha / 2), hi: quantileSorted(vals, 1 - alpha / 2) };
}

/** Standard normal / Student-t two-sided critical value: the (1 - alpha/2) quantile of t with df (Infinity: normal). */
function critical(alpha: number, df: number): number {
  if (df === Infinity || df > 1e6) {
    // Normal quantile by bisection on the t CDF's limit is unnecessary: a large df is indistinguishable.
    return tQuantile(1 - alpha / 2, 1e6);
  }
  return tQuantile(1 - alpha / 2, df);
}

/**
 * Wilson score interval of a proportion p (Wilson 1927): successes / n observations, critical value z.
 * Always inside [0, 1].
 */
export function wilson(p: number, n: number, z: number): { lo: number; hi: number } {
  if (!(n > 0) || !Number.isFinite(p)) return { lo: NaN, hi: NaN };
  const z2 = z * z;
  const den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = (z / den) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/**
 * Seed-level interval of a binary per-user metric (retention, churn): `perSeed[s]` holds seed s's 0/1 values
 * (its users). The point estimate is the pooled proportion; the interval is Wilson's at the effective sample
 * size n / deff (Kish 1965's design effect, deff = max(1, between-seed variance of the seed means / the
 * binomial variance p(1 - p) / m of a seed mean of m users)), with the critical value of t with S - 1 df. When
 * seeds vary more than users do, it approaches the t-interval over seed means, but never leaves [0, 1].
 */
export function seedProportionInterval(perSeed: number[][], alpha = 0.05): Interval {
  const S = perSeed.length;
  let k = 0;
  let n = 0;
  const means: number[] = [];
  for (const xs of perSeed) {
    let ks = 0;
    for (const v of xs) ks += v;
    k += ks;
    n += xs.length;
    if (xs.length > 0) means.push(ks / xs.length);
  }
  const p = n > 0 ? k / n : NaN;
  if (S < 2 || n === 0) return { mean: p, lo: NaN, hi: NaN, n: S };
  const m = n / S;
  const vb = sd(means) ** 2;
  const binom = (p * (1 - p)) / m;
  const deff = binom > 0 ? Math.max(1, vb / binom) : 1;
  const w = wilson(p, n / deff, critical(alpha, S - 1));
  return { mean: p, lo: w.lo, hi: w.hi, n: S };
}

/**
 * Probability of improvement P(X > Y) of rliable (Agarwal et al., NeurIPS 2021): the share of run pairs
 * (x_i, y_j) with x_i > y_j, ties counting one half (the Mann-Whitney U statistic over m n).
 */
export function probabilityOfImprovement(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) for (let j = 0; j < y.length; j++) s += x[i]! > y[j]! ? 1 : x[i] === y[j] ? 0.5 : 0;
  return s / (x.length * y.length);
}

/** P(X > Y) with a seeded percentile bootstrap CI (X's and Y's runs resampled independently, as rliable does). */
export function probabilityOfImprovementCi(x: number[], y: number[], opts: { reps?: number; seed: number; alpha?: number }): { p: number; lo: number; hi: number } {
  const p = probabilityOfImprovement(x, y);
  if (x.length < 2 || y.length < 2) return { p, lo: NaN, hi: NaN };
  const reps = opts.reps ?? 2000;
  const alpha = opts.alpha ?? 0.05;
  const rng = streamFromString(`egym|poi|${opts.seed}`);
  const vals: number[] = [];
  const xs = new Array<number>(x.length);
  const ys = new Array<number>(y.length);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < x.length; i++) xs[i] = x[Math.floor(rng() * x.length)]!;
    for (let j = 0; j < y.length; j++) ys[j] = y[Math.floor(rng() * y.length)]!;
    vals.push(probabilityOfImprovement(xs, ys));
  }
  vals.sort((a, b) => a - b);
  return { p, lo: quantileSorted(vals, alpha / 2), hi: quantileSorted(vals, 1 - alpha / 2) };
}

/** Mean and normal-approximation (1.96) 95% CI of a mean over many users (calibration and demo tables). */
export function normalMeanCi(x: ArrayLike<number>): { mean: number; lo: number; hi: number } {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i]!;
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - m) ** 2;
  const h = 1.959964 * Math.sqrt(v / (n - 1) / n);
  return { mean: m, lo: m - h, hi: m + h };
}
