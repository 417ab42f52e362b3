/**
 * Running an experiment: resolve the spec, expand the cells, skip the cells already complete in the run
 * folder (resume), run the rest (this shard's, on a worker pool), write each cell atomically as it completes,
 * then the manifest, and, once every cell is there, the summary, plots and report. Interrupting (Ctrl-C)
 * stops dispatching; finished cells are on disk and nothing is half-written.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Cell, expandCells, hash, shardCells } from './cells.js';
import { type Isolation, runPool } from './pool.js';
import { cellHashes, cellPath, cellToJsonl, manifest, readCells, ResultFileError, specToJson, writeAtomic } from './results.js';
import type { CellResult, CurvePoint } from './run-cell.js';
import { type ResolvedSpec, resolveSpec } from './spec.js';
import { type Summary, summarize, summaryCsv, summaryJson } from './summary.js';
import { reportHtml } from './report.js';
import { InvalidArgument } from '../envs/errors.js';
import { checkpointFile } from '../agents/checkpoint-file.js';
import { loadModules } from './plugins.js';
import { checkRunMemory, defaultMemoryBudget } from './memory.js';
import { probeStepsPerUser, type ProgressSnapshot, RunProgress } from './progress.js';

export interface RunOptions {
  /** Run folder (default results/<name>/run-<hash of the resolved spec>). */
  out?: string;
  workers: number;
  /** Where the workers run cells: child processes (default) or threads of this process (experiments/pool.ts). */
  isolation?: Isolation;
  shard?: { i: number; n: number } | null;
  saveCheckpoints?: boolean;
  quick?: boolean;
  onCell?: (r: CellResult, done: number, total: number) => void;
  stopped?: () => boolean;
  /** Folder that the spec's relative `modules` paths start from (the spec file's folder; default: the current one). */
  base?: string;
  /** More user modules (`--import`), relative to the current folder. */
  imports?: string[];
  /** Bytes a run may need at once (default: half of this machine's memory; experiments/memory.ts). */
  memoryBudget?: number;
  /** Run the cells on a BullMQ queue at this Redis URL (experiments/queue.ts) instead of local workers. */
  queue?: string;
  /** Progress in user-steps (experiments/progress.ts): once before any cell runs, then as cells report and finish. */
  onProgress?: (s: ProgressSnapshot) => void;
}

export interface RunOutcome {
  runDir: string;
  spec: ResolvedSpec;
  cells: Cell[];
  ran: number;
  skipped: number;
  complete: boolean;
  summary: Summary | null;
}

export function runIdOf(spec: ResolvedSpec): string {
  // The hash of the spec in the form run ids were introduced with (no version; training in vector steps), so a
  // run folder made before budgets counted user-steps keeps its id and resumes. Published numbers annotate the
  // spec without changing what runs, so they are not part of the id either.
  const { version: _v, published: _p, ...rest } = specToJson(spec);
  return `run-${hash({ ...rest, train: { steps: spec.train.userSteps / spec.train.numEnvs, numEnvs: spec.train.numEnvs } }, 10)}`;
}

function checkRunDir(runDir: string, runId: string): void {
  const m = join(runDir, 'manifest.json');
  if (!existsSync(m)) return;
  let man: { format?: string; runId?: string };
  try {
    man = JSON.parse(readFileSync(m, 'utf8'));
  } catch (e) {
    throw new ResultFileError(`corrupt manifest ${m}: ${(e as Error).message}; choose another --out`);
  }
  if (man.format !== 'engagement-gym/run') throw new ResultFileError(`foreign folder ${runDir}: its manifest.json is not an engagement-gym run; choose another --out`);
  if (man.runId !== runId) throw new ResultFileError(`${runDir} holds run ${man.runId}, a different spec than this one (${runId}); choose another --out`);
}

/**
 * Load the spec's user modules (and `imports`) in this thread, then resolve the spec: agents and envs that the
 * modules register are known to it. The resolved spec lists the modules by absolute path and content hash.
 */
export async function resolveWithModules(raw: unknown, opts: { quick?: boolean; base?: string; imports?: string[] } = {}): Promise<ResolvedSpec> {
  const listed = raw !== null && typeof raw === 'object' && Array.isArray((raw as { modules?: unknown }).modules) ? ((raw as { modules: string[] }).modules) : [];
  const mods = [...(await loadModules(listed, opts.base ?? process.cwd(), 'modules')), ...(await loadModules(opts.imports ?? [], process.cwd(), '--import'))];
  const unique = [...new Map(mods.map((m) => [m.path, m])).values()];
  return resolveSpec(raw, opts.quick ?? false, unique);
}

export async function runExperiment(raw: unknown, opts: RunOptions): Promise<RunOutcome> {
  const spec = await resolveWithModules(raw, opts);
  const cells = expandCells(spec);
  const runId = runIdOf(spec);
  const runDir = opts.out ?? join('results', spec.name, runId);
  checkRunDir(runDir, runId);
  const existing = readCells(runDir);
  const keys = new Set(cells.map((c) => c.key));
  for (const k of existing.keys()) if (!keys.has(k)) throw new ResultFileError(`${cellPath(runDir, k)} is not a cell of this experiment; remove it or choose another --out`);
  const mine = shardCells(cells, opts.shard ?? null);
  const todo = mine.filter((c) => !existing.has(c.key));
  // Before any cell runs: the memory the largest cell needs, times the cells running at once.
  checkRunMemory(todo, opts.workers > 0 ? Math.min(opts.workers, todo.length) : 1, opts.memoryBudget ?? defaultMemoryBudget(), { saveCheckpoints: opts.saveCheckpoints ?? false });
  const results = new Map(existing);
  let done = mine.length - todo.length;
  writeAtomic(join(runDir, 'spec.json'), JSON.stringify(specToJson(spec), null, 2) + '\n');
  const writeManifest = () =>
    writeAtomic(join(runDir, 'manifest.json'), JSON.stringify(manifest(spec, runId, cells, results, { shard: opts.shard ? `${opts.shard.i}/${opts.shard.n}` : null }, cellHashes(runDir, results.keys())), null, 2) + '\n');
  writeManifest();
  const byIndex = new Map(todo.map((c) => [c.index, c]));
  const progress = opts.onProgress && todo.length > 0 ? new RunProgress(todo, probeStepsPerUser(spec.env.id, spec.env.params)) : null;
  if (progress) opts.onProgress!(progress.snapshot());
  const onResult = (r: CellResult) => {
      if (progress) {
        progress.finish(r.cell.index);
        opts.onProgress!(progress.snapshot());
      }
      if (r.checkpoint) {
        // <label>-seed<seed>.json, or .ckpt for a state with typed arrays (agents/checkpoint-file.ts).
        const base = `${r.cell.label}-seed${r.cell.seed}${Object.keys(r.cell.point).length ? `-p${r.cell.pointIndex}` : ''}`;
        const file = checkpointFile(base, r.checkpoint);
        writeAtomic(join(runDir, 'checkpoints', file.name), file.bytes);
        delete r.checkpoint;
      }
      if (r.trainUpdates) {
        // Every learning update's scalars, one JSON line each (the cell file keeps them averaged over windows).
        writeAtomic(join(runDir, 'train-logs', `${r.key}.jsonl`), r.trainUpdates.map((u) => JSON.stringify({ label: r.cell.label, seed: r.cell.seed, ...u })).join('\n') + '\n');
        delete r.trainUpdates;
      }
      writeAtomic(cellPath(runDir, r.key), cellToJsonl(r));
      rmSync(join(runDir, 'live', `${r.key}.jsonl`), { force: true });
      results.set(r.key, r);
      done++;
      opts.onCell?.(r, done, mine.length);
    };
  // Once the last cell is dispatched, a finishing thread leaves a core free: load and warm the report's renderer
  // then, so that little is left to do after the last cell (results do not depend on it).
  let warming: Promise<void> | null = null;
  const warmReport = () => {
    warming ??= import('./plots.js').then((m) => m.warmPlots()).catch(() => undefined);
  };
  if (opts.queue) {
    // The cells run in other processes: the renderer can warm up while this one waits for them.
    warmReport();
    const { runOnQueue } = await import('./queue.js');
    await runOnQueue(todo, { url: opts.queue, runId, keepCheckpoint: opts.saveCheckpoints ?? false, onResult, stopped: opts.stopped });
  } else {
    await runPool(todo, {
      workers: opts.workers,
      isolation: opts.isolation,
      keepCheckpoint: opts.saveCheckpoints ?? false,
      stopped: opts.stopped,
      // Learning-curve points of running cells, appended to live/<cell key>.jsonl as they are evaluated (egym serve
      // draws them); the folder goes once the run is complete, the cell files holding the same points.
      onCurvePoint: (index, p) => {
        const c = byIndex.get(index);
        if (c) appendLive(runDir, c, p);
      },
      onProgress: progress
        ? (index, p) => {
            progress.update(index, p);
            opts.onProgress!(progress.snapshot());
          }
        : undefined,
      onResult,
      onDrained: warmReport,
    });
  }
  writeManifest();
  const complete = cells.every((c) => results.has(c.key));
  if (complete) rmSync(join(runDir, 'live'), { recursive: true, force: true });
  await warming;
  const summary = complete ? await writeReport(runDir, spec, cells.map((c) => results.get(c.key)!)) : null;
  return { runDir, spec, cells, ran: todo.length, skipped: mine.length - todo.length, complete, summary };
}

/** Summary, plots and report of a complete set of cells. */
export async function writeReport(runDir: string, spec: ResolvedSpec, results: CellResult[]): Promise<Summary> {
  const s = summarize(spec, results);
  writeAtomic(join(runDir, 'summary.json'), summaryJson(s));
  writeAtomic(join(runDir, 'summary.csv'), summaryCsv(s));
  // vega and vega-lite load only when a report is written (they cost about 0.3 s of every CLI start otherwise).
  const { makePlots } = await import('./plots.js');
  const plots = await makePlots(s, results);
  for (const [name, svg] of Object.entries(plots)) writeAtomic(join(runDir, 'plots', `${name}.svg`), svg);
  const man = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  writeAtomic(join(runDir, 'report.html'), reportHtml(s, plots, man));
  return s;
}

/** Regenerate the summary, plots and report of a run folder from its cells. */
export async function reportRun(runDir: string): Promise<Summary> {
  const specFile = join(runDir, 'spec.json');
  if (!existsSync(specFile)) throw new ResultFileError(`${runDir} is not a run folder (no spec.json)`);
  const spec = await resolveWithModules(JSON.parse(readFileSync(specFile, 'utf8')), { base: runDir });
  const cells = expandCells(spec);
  const have = readCells(runDir);
  const missing = cells.filter((c) => !have.has(c.key));
  if (missing.length > 0) throw new ResultFileError(`${runDir} is incomplete: ${missing.length} of ${cells.length} cells missing (run the remaining shards, or egym merge the shard folders)`);
  return writeReport(runDir, spec, cells.map((c) => have.get(c.key)!));
}

/** Merge shard folders of one experiment into `out` (cells copied, validated), then report if complete. */
export async function mergeRuns(dirs: string[], out: string): Promise<{ complete: boolean; cells: number; total: number; summary: Summary | null }> {
  if (dirs.length === 0) throw new InvalidArgument('merge: name at least one run folder');
  let spec: ResolvedSpec | null = null;
  let runId = '';
  const results = new Map<string, CellResult>();
  const trainLogs = new Map<string, string>();
  for (const d of dirs) {
    const specFile = join(d, 'spec.json');
    if (!existsSync(specFile)) throw new ResultFileError(`merge: ${d} is not a run folder (no spec.json)`);
    const s = await resolveWithModules(JSON.parse(readFileSync(specFile, 'utf8')), { base: d });
    const id = runIdOf(s);
    if (spec && id !== runId) throw new ResultFileError(`merge: ${d} holds run ${id}, the others ${runId}: shards of different experiments cannot be merged`);
    spec = s;
    runId = id;
    for (const [k, r] of readCells(d)) {
      results.set(k, r);
      const log = join(d, 'train-logs', `${k}.jsonl`);
      if (existsSync(log)) trainLogs.set(k, readFileSync(log, 'utf8'));
    }
  }
  const cells = expandCells(spec!);
  checkRunDir(out, runId);
  writeAtomic(join(out, 'spec.json'), JSON.stringify(specToJson(spec!), null, 2) + '\n');
  for (const c of cells) {
    const r = results.get(c.key);
    if (r) writeAtomic(cellPath(out, c.key), cellToJsonl(r));
    const log = trainLogs.get(c.key);
    if (log !== undefined) writeAtomic(join(out, 'train-logs', `${c.key}.jsonl`), log);
  }
  writeAtomic(join(out, 'manifest.json'), JSON.stringify(manifest(spec!, runId, cells, results, { mergedFrom: dirs }, cellHashes(out, results.keys())), null, 2) + '\n');
  const complete = cells.every((c) => results.has(c.key));
  const summary = complete ? await writeReport(out, spec!, cells.map((c) => results.get(c.key)!)) : null;
  return { complete, cells: results.size, total: cells.length, summary };
}

/** One learning-curve point of a running cell, appended as a JSON line (label, seed, sweep point, user-steps, means). */
function appendLive(runDir: string, c: Cell, p: CurvePoint): void {
  mkdirSync(join(runDir, 'live'), { recursive: true });
  // The first point (the untrained agent) starts the file afresh: a cell rerun after an interruption starts over.
  (p.userSteps === 0 ? writeFileSync : appendFileSync)(join(runDir, 'live', `${c.key}.jsonl`), JSON.stringify({ key: c.key, label: c.label, seed: c.seed, point: c.point, pointIndex: c.pointIndex, userSteps: p.userSteps, means: p.means }) + '\n');
}
