/**
 * Runs cells on a pool of worker threads (one TensorFlow.js backend per worker), or in this thread with
 * workers = 0. Results are handed to `onResult` as they complete; what a run writes does not depend on the
 * order (files are keyed by cell and the summary is computed over cells sorted by index), so the output is
 * bit-identical whatever the number of workers.
 */
import { Worker } from 'node:worker_threads';
import type { Cell } from './cells.js';
import { runCell, type CellResult, type CurvePoint } from './run-cell.js';
import type { CellProgress } from './progress.js';
import { EgymError, isCode } from '../envs/errors.js';
import { agentSpec, resolveAgentParams } from '../agents/registry.js';

export interface PoolOptions {
  workers: number;
  keepCheckpoint: boolean;
  onResult: (r: CellResult) => void;
  /** Polled between cells: true stops dispatching (Ctrl-C). */
  stopped?: () => boolean;
  /** A running cell's progress (experiments/progress.ts). */
  onProgress?: (index: number, p: CellProgress) => void;
  /** A running cell's learning-curve point, as soon as it is evaluated. */
  onCurvePoint?: (index: number, p: CurvePoint) => void;
  /** Run even a single cell in a worker thread (keeps this thread's event loop free: the queue worker's lock). */
  forceThreads?: boolean;
}

/** A cell that failed in a worker thread; keeps the original error's code (a run-time error when it had none). */
export class CellFailed extends EgymError {
  constructor(key: string, message: string, code?: string) {
    super(isCode(code) ? code : 'CELL_FAILED', `cell ${key}: ${message}`);
    this.name = 'CellFailed';
  }
}

/** Users an agent logs while it is built (its definition's setupUsers; 0 for agents of modules not loaded here). */
export function setupUsersOf(cell: Cell): number {
  try {
    const spec = agentSpec(cell.agentId);
    return spec.setupUsers ? spec.setupUsers(resolveAgentParams(cell.agentId, cell.agentParams)) : 0;
  } catch {
    return 0;
  }
}

/** Its model fitting while built, relative to its logging (the definition's setupFitWeight; 0 when unknown). */
export function setupFitWeightOf(cell: Cell): number {
  try {
    return agentSpec(cell.agentId).setupFitWeight ?? 0;
  } catch {
    return 0;
  }
}

/**
 * A cell's expected cost in seconds on one core, for scheduling and progress only (results never depend on it):
 * training user-steps at about 3.7e-4 s each for TensorFlow.js learners (PPO, SlateQ, the supervised pipeline;
 * measured on the flagship's cells) and 1e-5 s for the others, about 25 ms per user logged while the agent is built
 * (the supervised pipeline's logging and fitting: about 40 s for the flagship's 1,500 users), plus about 2 ms per
 * evaluated user.
 */
export function expectedCost(cell: Cell): number {
  const trainSteps = cell.train.steps * cell.train.numEnvs;
  let perStep = 1e-5;
  try {
    if (agentSpec(cell.agentId).usesTf) perStep = 3.7e-4;
  } catch {
    /* an agent of a module not loaded here: the cheap rate */
  }
  const curvePoints = cell.eval.every > 0 ? Math.ceil(trainSteps / cell.eval.every) + 1 : 0;
  return trainSteps * perStep + 0.025 * setupUsersOf(cell) + 0.002 * (cell.final.users + curvePoints * cell.eval.users);
}

/** Longest expected cells first (stable in cell order), so that no long cell starts last and holds the run. */
export function longestFirst(cells: Cell[]): Cell[] {
  return cells
    .map((c) => ({ c, cost: expectedCost(c) }))
    .sort((a, b) => b.cost - a.cost || a.c.index - b.c.index)
    .map((x) => x.c);
}

export async function runPool(cells: Cell[], opts: PoolOptions): Promise<void> {
  if (opts.workers <= 0 || (cells.length <= 1 && !opts.forceThreads)) {
    for (const c of cells) {
      if (opts.stopped?.()) return;
      opts.onResult(
        await runCell(c, {
          keepCheckpoint: opts.keepCheckpoint,
          onProgress: opts.onProgress ? (p) => opts.onProgress!(c.index, p) : undefined,
          onCurvePoint: opts.onCurvePoint ? (p) => opts.onCurvePoint!(c.index, p) : undefined,
        }),
      );
    }
    return;
  }
  const queue = longestFirst(cells);
  const n = Math.min(opts.workers, cells.length);
  let failure: Error | null = null; // the first failure: a CellFailed, or a worker's own crash
  const workers: Worker[] = [];
  await Promise.all(
    Array.from({ length: n }, () => {
      // Built (dist/*.js): the compiled entry; from the TypeScript sources: worker.mjs registers tsx first.
      const w = new Worker(import.meta.url.endsWith('.js') ? new URL('./worker-entry.js', import.meta.url) : new URL('./worker.mjs', import.meta.url));
      workers.push(w);
      return new Promise<void>((resolve) => {
        const next = () => {
          const c = failure || opts.stopped?.() ? undefined : queue.shift();
          if (!c) {
            void w.terminate().then(() => resolve());
            return;
          }
          w.postMessage({ cell: c, keepCheckpoint: opts.keepCheckpoint });
        };
        w.on('message', (m: { ready?: boolean; ok?: boolean; result?: CellResult; error?: string; code?: string; key?: string; progress?: CellProgress; curvePoint?: CurvePoint; index?: number }) => {
          if (m.ready) return next();
          if (m.progress) return opts.onProgress?.(m.index!, m.progress);
          if (m.curvePoint) return opts.onCurvePoint?.(m.index!, m.curvePoint);
          if (m.ok) opts.onResult(m.result!);
          else failure ??= new CellFailed(m.key!, m.error ?? 'unknown error', m.code);
          next();
        });
        w.on('error', (e) => {
          failure ??= e;
          resolve();
        });
      });
    }),
  );
  if (failure) throw failure;
}
