/**
 * `egym bench dense`: one training step of the agents' scorer-sized network (F candidate features -> hidden ->
 * hidden -> 1, ReLU, the custom-gradient dense layer of policies/backend.ts, squared loss, SGD) per batch size,
 * on each backend asked for, and the batch size from which each backend outruns wasm. Results are read back
 * asynchronously (`await data()`), so it runs on webgpu too, where agents cannot (policies/backend.ts,
 * WEBGPU_SYNC_READS). Benchmarks read the clock (this file and bench-agents.ts only).
 */
import { type BackendInfo, type BackendName, dense, initBackend, tf } from '../policies/backend.js';

export interface DenseBenchRow {
  backend: BackendName;
  /** What runs it: the WebGPU adapter (device and description; "software" for SwiftShader, lavapipe), or the backend. */
  device: string;
  batch: number;
  msPerStep: number;
  rowsPerSecond: number;
  gflops: number;
}

export interface DenseBenchResult {
  features: number;
  hidden: number;
  rows: DenseBenchRow[];
  /** Per backend other than wasm: the smallest measured batch from which it is faster than wasm at every larger one (null: never). */
  overtakesWasmAt: Record<string, number | null>;
}

function deviceOf(b: BackendInfo): string {
  if (!b.adapter) return b.name;
  const a = b.adapter;
  return `${[a.vendor, a.device || a.description].filter(Boolean).join(' ')}${a.software ? ' (software)' : ''}`;
}

async function measure(batch: number, F: number, H: number, seconds: number): Promise<number> {
  const r = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.1, 'float32', seed);
  const vars = [tf.variable(r([F, H], 1)), tf.variable(tf.zeros([H])), tf.variable(r([H, H], 2)), tf.variable(tf.zeros([H])), tf.variable(r([H, 1], 3)), tf.variable(tf.zeros([1]))] as tf.Variable[];
  const x = r([batch, F], 4) as tf.Tensor2D;
  const y = r([batch, 1], 5);
  const opt = tf.train.sgd(1e-3);
  const step = async () => {
    const loss = opt.minimize(() => {
      const h1 = tf.relu(dense(x, vars[0]!, vars[1]!));
      const h2 = tf.relu(dense(h1, vars[2]!, vars[3]!));
      return tf.mean(tf.square(tf.sub(dense(h2, vars[4]!, vars[5]!), y))) as tf.Scalar;
    }, true, vars)!;
    await loss.data();
    loss.dispose();
  };
  await step();
  await step();
  let n = 0;
  const t0 = performance.now(); // clock-ok
  while (n < 3 || performance.now() - t0 < seconds * 1000) { // clock-ok
    await step();
    n++;
  }
  const ms = (performance.now() - t0) / n; // clock-ok
  opt.dispose();
  for (const t of [...vars, x, y]) t.dispose();
  return ms;
}

export async function benchDense(opts: { backends: BackendName[]; batches: number[]; features?: number; hidden?: number; seconds?: number; onRow?: (r: DenseBenchRow) => void }): Promise<DenseBenchResult> {
  const F = opts.features ?? 13;
  const H = opts.hidden ?? 64;
  // Forward 2 x batch x (F H + H H + H) multiply-adds; the backward pass about twice that.
  const flopsPerRow = 3 * 2 * (F * H + H * H + H);
  const rows: DenseBenchRow[] = [];
  for (const backend of opts.backends) {
    const info = await initBackend(backend);
    for (const batch of opts.batches) {
      const ms = await measure(batch, F, H, opts.seconds ?? 0.5);
      rows.push({ backend, device: deviceOf(info), batch, msPerStep: ms, rowsPerSecond: (batch / ms) * 1000, gflops: (flopsPerRow * batch) / (ms / 1000) / 1e9 });
      opts.onRow?.(rows.at(-1)!);
    }
  }
  const overtakesWasmAt: Record<string, number | null> = {};
  const wasm = new Map(rows.filter((r) => r.backend === 'wasm').map((r) => [r.batch, r.rowsPerSecond]));
  if (wasm.size > 0) {
    for (const b of opts.backends.filter((x) => x !== 'wasm')) {
      const mine = rows.filter((r) => r.backend === b && wasm.has(r.batch)).sort((p, q) => p.batch - q.batch);
      let at: number | null = null;
      for (let i = mine.length - 1; i >= 0 && mine[i]!.rowsPerSecond > wasm.get(mine[i]!.batch)!; i--) at = mine[i]!.batch;
      overtakesWasmAt[b] = at;
    }
  }
  return { features: F, hidden: H, rows, overtakesWasmAt };
}

export function formatDenseBench(r: DenseBenchResult): string {
  const lines = [`Training step of a ${r.features} -> ${r.hidden} -> ${r.hidden} -> 1 network (forward, backward, SGD):`, '', '| backend | device | batch (rows) | ms per step | rows/s | GFLOP/s |', '|---|---|---|---|---|---|'];
  for (const x of r.rows) lines.push(`| ${x.backend} | ${x.device} | ${x.batch.toLocaleString('en-US')} | ${x.msPerStep.toFixed(2)} | ${Math.round(x.rowsPerSecond).toLocaleString('en-US')} | ${x.gflops.toFixed(2)} |`);
  for (const [b, at] of Object.entries(r.overtakesWasmAt)) lines.push('', `${b} ${at === null ? 'is not faster than wasm at the largest batch measured' : `is faster than wasm from ${at.toLocaleString('en-US')} rows per step on`}.`);
  return lines.join('\n');
}
