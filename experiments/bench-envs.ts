/**
 * `egym bench envs`: env steps per second, single-user and batched, random slates, median of several runs.
 * Benchmarks read the clock (this file only); library code never does.
 */
import { median } from 'simple-statistics';
import { cpus } from 'node:os';
import { writeAtomic } from './results.js';
import { listEnvs, make, makeVec } from '../envs/registry.js';
import { sampleDistinct, streamFromString } from '../envs/rng.js';

export interface EnvBenchRow {
  env: string;
  params: Record<string, unknown>;
  N: number;
  K: number;
  mode: 'single' | 'batched';
  batch: number;
  stepsPerSecond: number;
  runs: number[];
}

export interface EnvBenchOptions {
  /** Seconds per measured run. */
  seconds?: number;
  /** Measured runs per row (the median is reported). */
  runs?: number;
  batch?: number;
  envs?: string[];
}

const POOL = 4096;

function slatePool(N: number, K: number): Int32Array {
  const rng = streamFromString('bench-slates');
  const pool = new Int32Array(POOL * K);
  for (let i = 0; i < POOL; i++) sampleDistinct(rng, N, K, pool, i * K);
  return pool;
}

function timeSingle(id: string, seconds: number): number {
  const env = make(id);
  const { N, K } = env.layout;
  const pool = slatePool(N, K);
  const slates = Array.from({ length: POOL }, (_, i) => pool.subarray(i * K, (i + 1) * K));
  env.reset({ seed: 1 });
  let steps = 0;
  const t0 = performance.now(); // clock-ok
  let now = t0;
  while (now - t0 < seconds * 1000) {
    for (let i = 0; i < 2000; i++) {
      const r = env.step(slates[(steps + i) & (POOL - 1)]!);
      if (r.terminated || r.truncated) env.reset();
    }
    steps += 2000;
    now = performance.now(); // clock-ok
  }
  return (steps / (now - t0)) * 1000;
}

function timeBatched(id: string, B: number, seconds: number): number {
  const env = makeVec(id, {}, { numEnvs: B, autoresetMode: 'same-step' });
  const { N, K } = env.layout;
  const pool = slatePool(N, K);
  // Actions for a whole batch: consecutive windows of the slate pool.
  const batches = Array.from({ length: 16 }, (_, j) => {
    const a = new Int32Array(B * K);
    for (let s = 0; s < B; s++) a.set(pool.subarray(((s + j * 97) % POOL) * K, ((s + j * 97) % POOL + 1) * K), s * K);
    return a;
  });
  env.reset({ seed: 1 });
  let steps = 0;
  let it = 0;
  const t0 = performance.now(); // clock-ok
  let now = t0;
  while (now - t0 < seconds * 1000) {
    env.step(batches[it++ & 15]!);
    steps += B;
    now = performance.now(); // clock-ok
  }
  return (steps / (now - t0)) * 1000;
}

export function benchEnvs(opts: EnvBenchOptions & { onRow?: (r: EnvBenchRow) => void } = {}): EnvBenchRow[] {
  const seconds = opts.seconds ?? 1;
  const runs = opts.runs ?? 5;
  const B = opts.batch ?? 1024;
  const rows: EnvBenchRow[] = [];
  for (const { id } of listEnvs()) {
    if (opts.envs && !opts.envs.includes(id)) continue;
    const layout = make(id).layout;
    // Warm-up (JIT), then the measured runs.
    timeSingle(id, seconds / 4);
    const single = Array.from({ length: runs }, () => timeSingle(id, seconds));
    timeBatched(id, B, seconds / 4);
    const batched = Array.from({ length: runs }, () => timeBatched(id, B, seconds));
    const a: EnvBenchRow = { env: id, params: {}, N: layout.N, K: layout.K, mode: 'single', batch: 1, stepsPerSecond: median(single), runs: single };
    const b: EnvBenchRow = { env: id, params: {}, N: layout.N, K: layout.K, mode: 'batched', batch: B, stepsPerSecond: median(batched), runs: batched };
    rows.push(a, b);
    opts.onRow?.(a);
    opts.onRow?.(b);
  }
  return rows;
}

export function machineInfo(): Record<string, unknown> {
  const c = cpus();
  return { node: process.version, platform: process.platform, arch: process.arch, cpu: c[0]?.model ?? 'unknown', cores: c.length };
}

/** Write JSON atomically (experiments/results.ts writeAtomic). */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export function formatBenchTable(rows: EnvBenchRow[]): string {
  const lines = ['| env | N | K | mode | steps/s (median) |', '|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.env} | ${r.N} | ${r.K} | ${r.mode === 'single' ? 'single user' : `batched (B = ${r.batch})`} | ${Math.round(r.stepsPerSecond).toLocaleString('en-US')} |`);
  }
  return lines.join('\n');
}
