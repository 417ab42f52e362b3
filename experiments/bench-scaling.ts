/**
 * `egym bench scaling`: how a sweep's wall time falls with workers. Each measured run is a separate `egym run`
 * process on a fresh output folder (so nothing is resumed), timed from its start to its exit, report included;
 * the configurations are interleaved (1, 2, 1, 2, ...) so that a slow spell of the machine does not favour one,
 * and the median of the repetitions is reported. Every run's summary.json must be byte-identical, or the
 * benchmark fails: scaling that changes results is not scaling.
 *
 * With `queue`, the same spec is also run through the Redis queue (experiments/queue.ts) with 1, 2, ... `egym
 * worker` processes started beforehand, and the queue's overhead per cell is measured on a spec of many tiny
 * cells: (time through the queue with one worker - time with one local worker) / cells.
 *
 * Each run also gives its cell-seconds: the sum over its cells of each cell's own wall time (timing.wallSeconds in
 * the cell files). They split a speedup into its two causes: speedup = workers x (utilization ratio) / contention,
 * where utilization = cell-seconds / (workers x run seconds) is the share of the run during which the workers were
 * running cells (what scheduling and the serial start and report decide), and contention = cell-seconds with w
 * workers / cell-seconds with 1 (how much slower the same cells run side by side: shared cores, caches, memory
 * bandwidth and the runtime's own threads). Scheduling can raise the first; less work per
 * cell, or workers that share less (processes rather than threads of one process), lowers the second.
 *
 * The cores' own contention is measured next to it, with no egym code involved: a probe loop that keeps 8
 * independent multiply-add chains over a 16 KB array (no memory traffic past the first-level cache, no allocation,
 * no garbage collection) is timed as one process alone and as w copies started together, interleaved with the runs.
 * Its slowdown (median side-by-side time / median alone time) is what the machine itself takes from w busy
 * processes, shared execution units or clocks (two virtual cores on one physical core, for one); w / slowdown is
 * then the most speedup any compute-bound work can get from w workers here. A second probe, memory-bound, streams
 * c = a + 0.5 b over three 10 MB Float32Arrays (far past the caches, as the agents' [40960, 64] activations are)
 * the same way: its slowdown is what w busy processes take from each other through memory bandwidth.
 *
 * A local run's CPU time (user + system, of the run and its worker processes: the children's times Linux keeps for
 * a process that waited for them) gives the cores it kept busy, CPU seconds / run seconds. More than 1 with one
 * worker means the worker's runtime threads (garbage collection, compilation) and the runner use the other cores
 * too; the same CPU seconds spread over all the machine's cores then bound any speedup: at most cores / (cores
 * busy with 1 worker), and less where side by side the same work takes more CPU.
 *
 * Wall-clock time is the measurement here: this is a benchmark, not library code whose results could depend on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from 'simple-statistics';
import { machineInfo } from './bench-envs.js';
import { packageRoot, readCells } from './results.js';
import { EgymError } from '../envs/errors.js';

/** The egym command of this package (bin/egym.mjs next to its package.json; from the sources or installed). */
export function egymBin(): string {
  const root = packageRoot();
  if (!root) throw new EgymError('USAGE', 'bench scaling: cannot find the engagement-gym package (bin/egym.mjs)');
  return join(root, 'bin', 'egym.mjs');
}

export interface ScalingRow {
  mode: 'local' | 'queue';
  workers: number;
  /** Seconds of each repetition, in the order run. */
  seconds: number[];
  medianSeconds: number;
  cellsPerMinute: number;
  /** Median time with 1 worker of the same mode / this median. */
  speedup: number | null;
  /**
   * The same ratio within each repetition (the 1-worker run and this one, run minutes apart), and their median:
   * steadier than the ratio of medians when the machine's speed drifts between repetitions.
   */
  pairedSpeedups: number[];
  medianPairedSpeedup: number | null;
  /** Sum of the cells' own wall times (timing.wallSeconds) of each repetition, and their median. */
  cellSeconds: number[];
  medianCellSeconds: number;
  /** Median over repetitions of cell-seconds / (workers x run seconds): the share of the run the workers were busy. */
  utilization: number;
  /** Median cell-seconds / the same mode's median with 1 worker: how much slower the cells ran side by side. */
  contention: number | null;
  /**
   * The probe loop's slowdown with this many copies side by side (the cores' own contention; null with 1 worker or
   * without a probe), and workers / it: the speedup compute-bound work could reach at best on this machine.
   */
  coreSlowdown: number | null;
  coreCeiling: number | null;
  /** The memory-bound probe's slowdown with this many copies side by side (null with 1 worker or without it). */
  memorySlowdown: number | null;
  /** Median over repetitions of CPU seconds / run seconds (local runs on Linux; null elsewhere and on the queue). */
  coresBusy: number | null;
  /** min(workers, cores) / the 1-worker run's coresBusy: the most speedup the 1-worker run's CPU time allows. */
  cpuBound: number | null;
}

/** One measured run: its wall seconds and the sum of its cells' own wall times. */
export interface TimedRun {
  seconds: number;
  cellSeconds: number;
  /** CPU seconds of the run and its workers (null where unknown). */
  cpuSeconds?: number | null;
}

export interface ScalingResult {
  command: string;
  machine: Record<string, unknown>;
  spec: string;
  quick: boolean;
  cells: number;
  summarySha256: string;
  rows: ScalingRow[];
  queueOverhead: { cells: number; localSeconds: number; queueSeconds: number; perCellMs: number } | null;
  /** The probe loop's seconds alone and with w copies side by side (each copy's own time), per repetition. */
  coreProbe: Probe | null;
  /** The memory-bound probe's seconds, the same way (null in results written before it existed, or without probes). */
  memoryProbe?: Probe | null;
}

/** A probe's seconds alone and with w copies side by side (each copy's own time), per repetition. */
export interface Probe {
  kernel: string;
  alone: number[];
  sideBySide: Record<string, number[]>;
}

export interface ScalingOptions {
  spec: string;
  quick: boolean;
  workers: number[];
  reps: number;
  queue?: string;
  queueWorkers?: number[];
  /** Tiny cells for the queue-overhead measurement. */
  overheadCells?: number;
  onLine?: (line: string) => void;
}

function now(): number {
  return performance.now(); // clock-ok: a benchmark's measurement
}

function exitOf(p: ChildProcess, what: string): Promise<void> {
  let err = '';
  p.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  return new Promise((ok, bad) => {
    p.on('error', bad);
    p.on('exit', (code, sig) => (code === 0 ? ok() : bad(new EgymError('CELL_FAILED', `bench scaling: ${what} exited with ${code ?? sig}: ${err.trim()}`))));
  });
}

/**
 * CPU seconds (user + system) of this process's children that have exited and been waited for, their own waited-for
 * children included: fields 16 and 17 of /proc/self/stat, in clock ticks of 1/100 s (Linux's USER_HZ). Null where
 * there is no /proc.
 */
export function childrenCpuSeconds(): number | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const ticks = Number(f[13]) + Number(f[14]);
    return Number.isFinite(ticks) ? ticks / 100 : null;
  } catch {
    return null;
  }
}

/** One timed `egym run` on a fresh folder: its seconds, its cell-seconds, its CPU seconds and its summary's SHA-256. */
async function timedRun(spec: string, args: string[], what: string): Promise<TimedRun & { sha: string; cells: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'egym-scaling-'));
  try {
    const cpu0 = childrenCpuSeconds();
    const t = now();
    await exitOf(spawn(process.execPath, [egymBin(), 'run', spec, '--out', dir, '--quiet', ...args], { stdio: ['ignore', 'ignore', 'pipe'] }), what);
    const seconds = (now() - t) / 1000;
    const cpu1 = childrenCpuSeconds();
    const summary = readFileSync(join(dir, 'summary.json'));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { cells?: unknown[] };
    let cellSeconds = 0;
    for (const c of readCells(dir).values()) cellSeconds += c.timing.wallSeconds;
    const cpuSeconds = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
    return { seconds, cellSeconds, cpuSeconds, sha: createHash('sha256').update(summary).digest('hex'), cells: manifest.cells?.length ?? 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The probe loop (see the header): about a second on one core of a 2 GHz machine. Prints its own seconds. */
const PROBE_PASSES = 1_000_000;
export const PROBE_KERNEL = `js: 8 independent multiply-add chains over a 16 KB Float64Array, ${PROBE_PASSES.toLocaleString('en')} passes (no allocation, no memory traffic past L1)`;
/** A probe's script: `body` defines probe(passes); it runs `warmup` passes, then times `passes` and prints its seconds. */
const timedProbe = (body: string, warmup: number, passes: number) => `${body}
probe(${warmup});
const t = performance.now();
const check = probe(${passes}) > 0;
process.stdout.write(JSON.stringify({ seconds: (performance.now() - t) / 1000, check }));`;
const PROBE_SOURCE = timedProbe(`function probe(passes) {
  const a = new Float64Array(2048);
  for (let i = 0; i < 2048; i++) a[i] = 1 + i * 1e-6;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  for (let r = 0; r < passes; r++) for (let i = 0; i < 2048; i += 8) { s0 += a[i] * 1.0000001; s1 += a[i + 1] * 0.9999999; s2 += a[i + 2] * 1.0000002; s3 += a[i + 3] * 0.9999998; s4 += a[i + 4] * 1.0000003; s5 += a[i + 5] * 0.9999997; s6 += a[i + 6] * 1.0000004; s7 += a[i + 7] * 0.9999996; }
  return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
}`, 1000, PROBE_PASSES);

/** The memory-bound probe (see the header): about half a second alone on this machine. Prints its own seconds. */
const MEMORY_PASSES = 60;
export const MEMORY_KERNEL = `js: c[i] = a[i] + 0.5 b[i] over three 10 MB Float32Arrays, ${MEMORY_PASSES} passes (memory-bound: 30 MB per pass, past every cache)`;
const MEMORY_SOURCE = timedProbe(`function probe(passes) {
  const n = 2621440, a = new Float32Array(n), b = new Float32Array(n), c = new Float32Array(n);
  for (let i = 0; i < n; i++) { a[i] = i * 1e-6; b[i] = 1 - i * 1e-7; }
  let s = 0;
  for (let r = 0; r < passes; r++) { for (let i = 0; i < n; i++) c[i] = a[i] + 0.5 * b[i]; s += c[r]; }
  return s;
}`, 2, MEMORY_PASSES);

/** The probe loop (compute) or the memory-bound one in n processes started together: each one's own seconds. */
export async function probeCores(n: number, kind: 'compute' | 'memory' = 'compute'): Promise<number[]> {
  const { source, what } = kind === 'memory' ? { source: MEMORY_SOURCE, what: 'the memory probe' } : { source: PROBE_SOURCE, what: 'the core probe' };
  return Promise.all(
    Array.from({ length: n }, async () => {
      const p = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout!.on('data', (d: Buffer) => (text += d.toString()));
      await exitOf(p, what);
      const r = JSON.parse(text) as { seconds: number; check: boolean };
      if (!(r.seconds > 0) || !r.check) throw new EgymError('CELL_FAILED', `bench scaling: ${what} printed ${text.slice(0, 200)}`);
      return r.seconds;
    }),
  );
}

/** Start n `egym worker` processes on the queue; stop() ends them with SIGTERM and waits. */
async function startWorkers(url: string, n: number): Promise<{ stop(): Promise<void> }> {
  const procs = Array.from({ length: n }, () => spawn(process.execPath, [egymBin(), 'worker', url], { stdio: ['ignore', 'ignore', 'ignore'] }));
  // Connected and waiting for jobs before the clock starts (each starts its cell thread at once; a local run starts
  // its workers after the clock starts, so the queue rows do not pay that start-up).
  await new Promise((ok) => setTimeout(ok, 2000));
  return {
    stop: async () => {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((ok) => {
              if (p.exitCode !== null || p.signalCode !== null) return ok();
              p.on('exit', () => ok());
              p.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

/** Rows from the measured runs per configuration ("local:2", "queue:1", ...), in the order they ran. */
export function scalingRows(runs: Map<string, TimedRun[]>, cells: number, workers: number[], queueWorkers: number[], probe: Probe | null = null, cores = 0, memoryProbe: Probe | null = null): ScalingRow[] {
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const r1 = (x: number) => Math.round(x * 10) / 10;
  // Cell-seconds and utilization to the millisecond: a run of tiny cells spends hundredths of a second in them.
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const rows: ScalingRow[] = [];
  for (const [mode, list] of [['local', workers], ['queue', queueWorkers]] as const) {
    const one = runs.get(`${mode}:1`);
    const base = one?.map((x) => x.seconds);
    const baseCells = one?.map((x) => x.cellSeconds);
    // Cores busy: CPU seconds / run seconds, for a mode whose runs all have their CPU time (the local runs).
    const busy = (rs: TimedRun[] | undefined) => (mode === 'local' && rs?.length && rs.every((x) => typeof x.cpuSeconds === 'number') ? median(rs.map((x) => x.cpuSeconds! / x.seconds)) : null);
    const busyOne = busy(one);
    for (const w of list) {
      const rs = runs.get(`${mode}:${w}`)!;
      const s = rs.map((x) => x.seconds);
      const cs = rs.map((x) => x.cellSeconds);
      const m = median(s);
      const busyW = busy(rs);
      const paired = base ? s.map((x, i) => r2(base[i]! / x)) : [];
      rows.push({
        mode,
        workers: w,
        seconds: s.map(r1),
        medianSeconds: r1(m),
        cellsPerMinute: r1((cells / m) * 60),
        speedup: base ? r2(median(base) / m) : null,
        pairedSpeedups: paired,
        medianPairedSpeedup: base ? r2(median(paired.length ? paired : [1])) : null,
        cellSeconds: cs.map(r3),
        medianCellSeconds: r3(median(cs)),
        utilization: r3(median(rs.map((x) => x.cellSeconds / (w * x.seconds)))),
        contention: baseCells ? r2(median(cs) / median(baseCells)) : null,
        ...coreColumns(probe, w),
        memorySlowdown: coreColumns(memoryProbe, w).coreSlowdown,
        coresBusy: busyW === null ? null : r2(busyW),
        cpuBound: busyOne === null || !(cores > 0) || w === 1 ? null : r2(Math.min(w, cores) / busyOne),
      });
    }
  }
  return rows;
}

/** The probe's slowdown with w copies side by side and w / it (nulls with 1 worker or without a probe). */
function coreColumns(probe: Probe | null, w: number): { coreSlowdown: number | null; coreCeiling: number | null } {
  const side = probe?.sideBySide[String(w)];
  if (!probe || w === 1 || !side?.length || !probe.alone.length) return { coreSlowdown: null, coreCeiling: null };
  const slow = median(side) / median(probe.alone);
  return { coreSlowdown: Math.round(slow * 100) / 100, coreCeiling: Math.round((w / slow) * 100) / 100 };
}

export async function benchScaling(o: ScalingOptions): Promise<ScalingResult> {
  const say = o.onLine ?? (() => undefined);
  const quickArgs = o.quick ? ['--quick'] : [];
  const runs = new Map<string, TimedRun[]>();
  let sha = '';
  let cells = 0;
  const record = (key: string, r: TimedRun & { sha: string; cells: number }, what: string) => {
    if (sha && r.sha !== sha) throw new EgymError('CELL_FAILED', `bench scaling: ${what} wrote a different summary.json than the first run (${r.sha.slice(0, 12)} vs ${sha.slice(0, 12)})`);
    sha = r.sha;
    cells = r.cells;
    runs.set(key, [...(runs.get(key) ?? []), { seconds: r.seconds, cellSeconds: r.cellSeconds, cpuSeconds: r.cpuSeconds }]);
    say(`  ${what}: ${r.seconds.toFixed(1)} s (cells ${r.cellSeconds.toFixed(1)} s${typeof r.cpuSeconds === 'number' ? `, CPU ${r.cpuSeconds.toFixed(1)} s` : ''})`);
  };
  const queueWorkers = o.queue ? (o.queueWorkers ?? [1, 2]) : [];
  const probe = { kernel: PROBE_KERNEL, alone: [] as number[], sideBySide: {} as Record<string, number[]> };
  const memory = { kernel: MEMORY_KERNEL, alone: [] as number[], sideBySide: {} as Record<string, number[]> };
  const probeCounts = [...new Set([...o.workers, ...queueWorkers])].filter((w) => w > 1).sort((a, b) => a - b);
  for (let rep = 0; rep < o.reps; rep++) {
    if (probeCounts.length) {
      for (const [pr, kind, name] of [[probe, 'compute', 'core'], [memory, 'memory', 'memory']] as const) {
        pr.alone.push(...(await probeCores(1, kind)));
        for (const w of probeCounts) (pr.sideBySide[String(w)] ??= []).push(...(await probeCores(w, kind)));
        say(`  ${name} probe, run ${rep + 1}/${o.reps}: ${pr.alone.at(-1)!.toFixed(2)} s alone${probeCounts.map((w) => `, ${w} side by side ${pr.sideBySide[String(w)]!.slice(-w).map((x) => x.toFixed(2)).join(' ')} s`).join('')}`);
      }
    }
    for (const w of o.workers) {
      const what = `local, ${w} worker${w === 1 ? '' : 's'}, run ${rep + 1}/${o.reps}`;
      record(`local:${w}`, await timedRun(o.spec, [...quickArgs, '--workers', String(w)], what), what);
    }
    for (const w of queueWorkers) {
      const what = `queue, ${w} egym worker${w === 1 ? '' : 's'}, run ${rep + 1}/${o.reps}`;
      const workers = await startWorkers(o.queue!, w);
      try {
        record(`queue:${w}`, await timedRun(o.spec, [...quickArgs, '--queue', o.queue!], what), what);
      } finally {
        await workers.stop();
      }
    }
  }
  const coreProbe = probeCounts.length ? probe : null;
  const memoryProbe = probeCounts.length ? memory : null;
  const machine = machineInfo();
  const rows = scalingRows(runs, cells, o.workers, queueWorkers, coreProbe, Number(machine.cores) || 0, memoryProbe);
  let queueOverhead: ScalingResult['queueOverhead'] = null;
  if (o.queue) {
    // Many tiny cells (random agent, no training, 20 users each): what is left is the per-cell cost of the path.
    const n = o.overheadCells ?? 40;
    const dir = mkdtempSync(join(tmpdir(), 'egym-overhead-'));
    try {
      const tiny = join(dir, 'tiny.json');
      writeFileSync(tiny, JSON.stringify({ version: 2, name: 'queue-overhead', env: { id: 'retention-v1' }, agents: [{ id: 'random' }], seeds: n, train: { userSteps: 0, numEnvs: 1 }, eval: { every: 0, users: 1, seed: 1 }, final: { users: 20, seed: 2 } }));
      const local: number[] = [];
      const queued: number[] = [];
      for (let rep = 0; rep < o.reps; rep++) {
        local.push((await timedRun(tiny, ['--workers', '1'], 'tiny cells, local')).seconds);
        const workers = await startWorkers(o.queue, 1);
        try {
          queued.push((await timedRun(tiny, ['--queue', o.queue], 'tiny cells, queue')).seconds);
        } finally {
          await workers.stop();
        }
        say(`  ${n} tiny cells, run ${rep + 1}/${o.reps}: ${local.at(-1)!.toFixed(1)} s local, ${queued.at(-1)!.toFixed(1)} s through the queue`);
      }
      const l = median(local);
      const q = median(queued);
      queueOverhead = { cells: n, localSeconds: Math.round(l * 10) / 10, queueSeconds: Math.round(q * 10) / 10, perCellMs: Math.round(((q - l) / n) * 1000) };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // The command line that repeats this measurement (the spec is an option; quick is the default, --full is not).
  const cmd = ['egym bench scaling', `--spec ${o.spec}`, o.quick ? '' : '--full', `--workers ${o.workers.join(' ')}`, `--reps ${o.reps}`, o.queue ? `--queue ${o.queue} --queue-workers ${queueWorkers.join(' ')}` : ''].filter(Boolean).join(' ');
  return { command: cmd, machine, spec: o.spec, quick: o.quick, cells, summarySha256: sha, rows, queueOverhead, coreProbe, memoryProbe };
}

export function formatScaling(r: ScalingResult): string {
  const x_ = (v: number | null) => (v === null ? '' : `${v}x`);
  const lines = ['| path | workers | median s | runs (s) | cells/min | speedup (medians) | speedup per repetition (median) | cell-seconds (median) | utilization | contention | cores\' own slowdown | ceiling (workers / it) | memory probe slowdown | cores busy | CPU bound |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const x of r.rows) lines.push(`| ${x.mode} | ${x.workers} | ${x.medianSeconds} | ${x.seconds.join(', ')} | ${x.cellsPerMinute} | ${x_(x.speedup)} | ${x.pairedSpeedups.length ? `${x.pairedSpeedups.join(', ')} (${x.medianPairedSpeedup}x)` : ''} | ${x.medianCellSeconds} | ${x.utilization} | ${x_(x.contention)} | ${x_(x.coreSlowdown)} | ${x_(x.coreCeiling)} | ${x_(x.memorySlowdown)} | ${x.coresBusy ?? ''} | ${x_(x.cpuBound)} |`);
  for (const [name, pr] of [['Core probe', r.coreProbe], ['Memory probe', r.memoryProbe]] as const) {
    if (pr) lines.push('', `${name} (${pr.kernel}): ${pr.alone.map((x) => x.toFixed(2)).join(', ')} s alone; ${Object.entries(pr.sideBySide).map(([w, xs]) => `${w} side by side: ${xs.map((x) => x.toFixed(2)).join(', ')} s`).join('; ')}.`);
  }
  if (r.queueOverhead) {
    const q = r.queueOverhead;
    lines.push('', `Queue overhead: ${q.cells} tiny cells in ${q.localSeconds} s on one local worker, ${q.queueSeconds} s through the queue with one egym worker: ${q.perCellMs} ms per cell.`);
  }
  return lines.join('\n');
}
