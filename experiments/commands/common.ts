/**
 * What the egym commands share: the usage error, output, strict spec-file reading, the run options and the
 * run itself (progress, Ctrl-C, summary), used by run, sweep and reproduce.
 */
import type { Argv } from 'yargs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { EgymError } from '../../envs/errors.js';
import { agentSpec, listAgents } from '../../agents/index.js';
import { BACKEND_CHOICES } from '../../policies/backend-choices.js';
import { runExperiment } from '../experiment.js';
import { parseShard } from '../cells.js';
import { type Summary, summaryTable } from '../summary.js';
import type { ProgressSnapshot } from '../progress.js';

// TensorFlow.js (and what needs it: the backend, the pipeline, the agent benchmark) loads in the commands that use it.
export const tfjsParts = async () => ({ ...(await import('../../policies/backend.js')), ...(await import('../../agents/supervised/pipeline.js')), ...(await import('../bench-agents.js')) });

export class UsageError extends EgymError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

// The shipped specs: experiments/specs beside the sources (the build copies them to dist/experiments/specs).
export const SPECS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'specs');
/** `egym reproduce <name>` names. */
export const REPRODUCTIONS: Record<string, string> = {
  flagship: 'flagship.json',
  slateq: 'recsim-slateq.json',
  'choc-kale': 'choc-kale.json',
  'adaptive-drift': 'adaptive-drift.json',
  'slateq-noclick': 'slateq-noclick.json',
  'ppo-study': 'ppo-study.json',
  'ppo-knobs': 'ppo-knobs.json',
  'recsim-ppo': 'recsim-ppo.json',
  'retention-v0-deep': 'retention-v0-deep.json',
};

/**
 * Read a spec file strictly: a regular file of UTF-8 JSON (no byte-order mark, no invalid byte sequences, which a
 * lenient decoder would silently replace) holding one object. Every failure is a usage error (exit 2) naming it.
 */
export function readSpecFile(path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`spec file ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new UsageError(`spec file ${path} is a directory; give the path of a .json spec file`);
  const bytes = readFileSync(path);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw new UsageError(`spec file ${path} starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`spec file ${path} is not valid UTF-8 (a lenient reader would replace the bad bytes and change the spec); save it as UTF-8`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`spec file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`spec file ${path} must hold one JSON object (the spec), got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  return v;
}

export interface RunArgs {
  backend?: string;
  workers?: number;
  isolation?: string;
  shard?: string;
  out?: string;
  quick?: boolean;
  quiet?: boolean;
  json?: boolean;
  'save-checkpoints'?: boolean;
  import?: string[];
  'memory-budget'?: number;
  queue?: string;
}

/** Set the TensorFlow.js backend of every agent that has one (it becomes part of the resolved spec). */
function withBackend(raw: unknown, backend: string | undefined): unknown {
  if (!backend || !raw || typeof raw !== 'object' || !Array.isArray((raw as { agents?: unknown }).agents)) return raw;
  const spec = raw as { agents: { id: string; params?: Record<string, unknown> }[] };
  return {
    ...spec,
    agents: spec.agents.map((a) => {
      const known = listAgents().some((x) => x.id === a.id) && agentSpec(a.id).params.has('backend');
      return known ? { ...a, params: { ...(a.params ?? {}), backend } } : a;
    }),
  };
}

export async function runSpec(raw0: unknown, a: RunArgs, base?: string): Promise<void> {
  const raw = withBackend(raw0, a.backend);
  const workers = a.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) throw new UsageError('--workers must be a non-negative integer (0: run in this thread)');
  const shard = a.shard ? parseShard(a.shard) : null;
  let stop = false;
  const onSig = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\negym: interrupted: no new cell starts; the cells in flight finish and are saved (Ctrl-C again stops at once and loses them); run again to resume\n');
  };
  process.on('SIGINT', onSig);
  const show = !a.quiet && !a.json;
  const tty = process.stderr.isTTY && show;
  const bar = tty
    ? new cliProgress.SingleBar({ format: '{bar} {pct}% | {done} of {planned} user-steps | {rate}/s | ETA {left} | cells {cells} | {last}', hideCursor: true, barsize: 24 }, cliProgress.Presets.shades_classic)
    : null;
  const meter = new ProgressMeter();
  let last = '';
  let lastRender = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  if (a.out !== undefined && existsSync(a.out) && !statSync(a.out).isDirectory()) throw new UsageError(`--out ${a.out} is an existing file, not a directory; give a results folder`);
  try {
    const mb = a['memory-budget'];
    if (mb !== undefined && !(Number.isFinite(mb) && mb > 0)) throw new UsageError(`--memory-budget must be a positive number of GiB, got ${mb}`);
    const render = () => {
      lastRender = performance.now(); // clock-ok (progress display only)
      const v = meter.view();
      if (!v) return;
      if (bar) bar.update(Math.round(v.fraction * 1000), { pct: (100 * v.fraction).toFixed(1), done: human(v.userSteps), planned: human(v.totalUserSteps), rate: human(v.rate), left: v.eta, cells: v.cells, last });
      else process.stderr.write(`progress ${(100 * v.fraction).toFixed(1)}% | ${human(v.userSteps)} of ${human(v.totalUserSteps)} user-steps | ${human(v.rate)}/s | ETA ${v.eta} | cells ${v.cells}\n`);
    };
    const r = await runExperiment(raw, {
      memoryBudget: mb !== undefined ? mb * 2 ** 30 : undefined,
      base,
      imports: a.import,
      workers,
      isolation: a.isolation as 'process' | 'thread' | undefined,
      shard,
      out: a.out,
      quick: a.quick,
      saveCheckpoints: a['save-checkpoints'],
      queue: a.queue,
      stopped: () => stop,
      onProgress: show
        ? (snap) => {
            const first = !meter.started;
            meter.add(snap);
            // From the first second: the bar (a terminal, redrawn at most 4 times a second), or a plain line now and
            // every 10 s (a pipe or a file). Drawn from the progress reports, so a run in this thread shows it too.
            if (first) {
              if (bar) bar.start(1000, 0, { pct: '0.0', done: '0', planned: human(snap.totalUserSteps), rate: '-', left: '-', cells: `0/${snap.cells}`, last: '' });
              else process.stderr.write(`egym: ${snap.cells} cells to run, ${human(snap.totalUserSteps)} user-steps (evaluations estimated)\n`);
              lastRender = performance.now(); // clock-ok (progress display only)
              // Also on a timer, for stretches without reports (a model being fitted in a worker).
              timer = setInterval(() => {
                if (performance.now() - lastRender >= (bar ? 1000 : 10_000)) render(); // clock-ok (progress display only)
              }, 1000);
              timer.unref();
            } else if (performance.now() - lastRender >= (bar ? 250 : 10_000)) render(); // clock-ok (progress display only)
          }
        : undefined,
      onCell: (res, done, total) => {
        last = `${res.cell.label} seed ${res.cell.seed}: return ${(res.final.users.return.reduce((s: number, v) => s + (v ?? 0), 0) / res.final.users.return.length).toFixed(2)}`;
        if (bar) render();
        else if (show) process.stderr.write(`[${done}/${total}] ${last}\n`);
      },
    });
    if (timer) clearInterval(timer);
    if (bar) {
      render();
      bar.stop();
    }
    if (a.json) {
      out(JSON.stringify({ runDir: r.runDir, ran: r.ran, skipped: r.skipped, complete: r.complete, summary: r.summary }, null, 2));
    } else if (a.quiet) {
      out(r.runDir); // --quiet: errors (stderr) and the output folder only
    } else {
      out(`${r.spec.name}: ${r.ran} cells run, ${r.skipped} already done (of ${shard ? 'this shard' : r.cells.length})${stop ? ' (interrupted)' : ''}`);
      if (r.summary) out(`\n${summaryTable(r.summary)}\n\nreport: ${join(r.runDir, 'report.html')}`);
      else out(`results so far: ${r.runDir} (${shard ? 'merge the shards with egym merge' : 'run again to resume'})`);
    }
    if (stop) process.exitCode = 130;
    else if (r.summary) checkPublished(r.summary);
  } finally {
    if (timer) clearInterval(timer);
    bar?.stop();
    process.off('SIGINT', onSig);
  }
}

export const runOptions = (y: Argv) =>
  y
    .option('workers', { type: 'number', describe: 'workers that run cells side by side (default: the number of cores; 0 runs them in this thread)' })
    .option('isolation', { choices: ['process', 'thread'], describe: 'workers as child processes (default: side by side they slow each other less) or as threads of this process' })
    .option('backend', { choices: BACKEND_CHOICES, describe: 'TensorFlow.js backend of every agent that uses one (default: each agent\'s own, auto)' })
    .option('shard', { type: 'string', describe: 'run shard i of n ("i/n", 0-based): a deterministic subset of the cells' })
    .option('out', { type: 'string', describe: 'run folder (default results/<experiment>/run-<spec hash>)' })
    .option('quick', { type: 'boolean', default: false, describe: "the spec's quick variant (smaller budget)" })
    .option('save-checkpoints', { type: 'boolean', default: false, describe: 'write final agent checkpoints (for warm starts)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'print only errors and the output folder' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
    .option('memory-budget', { type: 'number', describe: 'GiB the run may need at once (default: half of this machine\'s memory); checked before any cell runs' })
    .option('queue', { type: 'string', describe: 'run the cells on a BullMQ queue at redis://HOST:PORT/DB, taken by egym worker processes (experiments/queue.ts)' })
    .option('import', { type: 'string', array: true, describe: 'user module(s) that register agents or envs (.js, or .ts with tsx), loaded first, in every worker too' });

/** Refuse a --seed that is not a non-negative safe integer, naming the command and the value. */
export function checkSeed(command: string, seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`${command}: --seed must be a non-negative integer (got ${seed})`);
}

/**
 * Refuse an --out file that could not be written, before any work starts: an empty path, a folder, or a path under a
 * file. Missing folders are fine (the writer makes them).
 */
export function checkOutFile(command: string, path: string | undefined): void {
  if (path === undefined) return;
  if (path === '') throw new UsageError(`${command}: --out must be a file path (got an empty string)`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${command}: --out ${path} is a folder; give a file path`);
  let d = dirname(resolve(path));
  while (!existsSync(d)) d = dirname(d);
  if (!statSync(d).isDirectory()) throw new UsageError(`${command}: --out ${path} lies under ${d}, which is a file, not a folder`);
}

/**
 * A complete run whose spec has published numbers: where one falls outside the tolerance, say so on stderr and exit
 * 4 (the run and its files are complete; the reproduction is not), as `egym calibrate` exits 1 on a missed target.
 */
export function checkPublished(s: Summary): void {
  const p = s.published;
  if (!p) return;
  const off = p.rows.filter((r) => !r.within);
  if (off.length === 0) return;
  process.stderr.write(`egym: ${off.length} of ${p.rows.length} published numbers not reproduced within ${p.tolerance}: ${off.map((r) => `${r.label} ${Number.isFinite(r.mean) ? r.mean.toFixed(2) : 'no value'} against ${r.published}`).join(', ')}\n`);
  process.exitCode = 4;
}

export function out(s: string): void {
  process.stdout.write(s + '\n');
}

/** 1234567 -> "1.23M". */
export function human(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  return a >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : a >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : a >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`;
}

/** Seconds as "1h02m", "2m10s" or "45s". */
export function duration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '-';
  const s = Math.round(sec);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * Times the run's progress snapshots (the CLI's clock; results never see it): user-steps per second over the last
 * 10 s, and the ETA from the cost-weighted fraction done, elapsed x (1 - f) / f.
 */
export class ProgressMeter {
  private t0 = 0;
  private latest: ProgressSnapshot | null = null;
  private readonly window: { t: number; steps: number }[] = [];
  get started(): boolean {
    return this.latest !== null;
  }
  add(s: ProgressSnapshot): void {
    const now = performance.now(); // clock-ok (progress display only)
    if (!this.latest) this.t0 = now;
    this.latest = s;
    this.window.push({ t: now, steps: s.userSteps });
    while (this.window.length > 2 && now - this.window[0]!.t > 10_000) this.window.shift();
  }
  view(): { fraction: number; userSteps: number; totalUserSteps: number; rate: number; eta: string; cells: string } | null {
    const s = this.latest;
    if (!s) return null;
    const now = performance.now(); // clock-ok (progress display only)
    const first = this.window[0]!;
    const dt = (now - first.t) / 1000;
    const rate = dt > 0 ? (s.userSteps - first.steps) / dt : NaN;
    const elapsed = (now - this.t0) / 1000;
    const f = s.fraction;
    return {
      fraction: f,
      userSteps: s.userSteps,
      totalUserSteps: s.totalUserSteps,
      rate,
      eta: f >= 1 ? '0s' : f > 0.001 ? duration((elapsed * (1 - f)) / f) : '-',
      cells: `${s.cellsDone}/${s.cells}${s.inFlight > 0 ? ` (${s.inFlight} running)` : ''}`,
    };
  }
}
