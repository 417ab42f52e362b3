/**
 * Statistics for experiment summaries. simple-statistics provides the basics (mean, sample standard
 * deviation, quantiles); it has no Student-t distribution, bootstrap or multiple-comparison correction, so
 * those are here: the t CDF through the regularized incomplete beta function (Numerical Recipes 6.4), its
 * quantile by bisection, t-intervals, paired differences with a two-sided p-value, Holm's step-down
 * correction, and the interquartile mean with a seeded (stratified) percentile bootstrap (rliable, Agarwal et
 * al., NeurIPS 2021).
 */
import { mean as ssMean, quantileSorted, sampleStandardDeviation } from 'simple-statistics';
import { streamFromString } from '../envs/rng.js';

export function mean(x: ArrayLike<number>): number {
  return ssMean(Array.from(x));
}

export function sd(x: ArrayLike<number>): number {
  return x.length < 2 ? 0 : sampleStandardDeviation(Array.from(x));
}

function logGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const t = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let s = 1.000000000190015;
  for (const ci of c) s += ci / ++y;
  return -t + Math.log((2.5066282746310005 * s) / x);
}

function betacf(a: number, b: number, x: number): number {
  const MAXIT = 300;
  const EPS = 3e-14;
  const FPMIN = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAXIT; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return h;
}

/** Regularized incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (bt * betacf(a, b, x)) / a : 1 - (bt * betacf(b, a, 1 - x)) / b;
}

/** Student-t CDF with df degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Student-t quantile (bisection on the CDF). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`tQuantile: p must be in (0, 1), got ${p}`);
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
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
  if (a.length !== b.length) throw new RangeError(`pairedDifference: ${a.length} vs ${b.length} observations`);
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
