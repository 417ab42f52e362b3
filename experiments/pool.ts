/**
 * Runs cells on a pool of workers (child processes by default, or worker threads; one TensorFlow.js backend per
 * worker), or in this thread with workers = 0. Results are handed to `onResult` as they complete; what a run
 * writes does not depend on the order (files are keyed by cell and the summary is computed over cells sorted by
 * index), so the output is bit-identical whatever the number of workers and wherever they run.
 */
import { Worker } from 'node:worker_threads';
import { fork, type Serializable } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cell } from './cells.js';
import { runCell, type CellResult, type CurvePoint } from './run-cell.js';
import type { CellProgress } from './progress.js';
import { EgymError, isCode } from '../envs/errors.js';
import { agentSpec, resolveAgentParams } from '../agents/registry.js';

export interface PoolOptions {
  workers: number;
  /**
   * Where the workers run cells (default 'process'): child processes, or threads of this process. Measured with
   * `egym bench scaling` on the quick flagship, two cells side by side ran 1.13x slower than alone in two processes
   * and 1.32x slower as two threads of one process (README: Parallel, sharded, resumable).
   */
  isolation?: Isolation;
  keepCheckpoint: boolean;
  onResult: (r: CellResult) => void;
  /** Polled between cells: true stops dispatching (Ctrl-C). */
  stopped?: () => boolean;
  /** A running cell's progress (experiments/progress.ts). */
  onProgress?: (index: number, p: CellProgress) => void;
  /** A running cell's learning-curve point, as soon as it is evaluated. */
  onCurvePoint?: (index: number, p: CurvePoint) => void;
  /**
   * Called once, with several threads, when the last cell has been dispatched: from then on threads finish and
   * leave cores free (the runner loads and warms the report's plotting then, overlapping it with the last cells).
   */
  onDrained?: () => void;
}

/** A cell that failed in a worker; keeps the original error's code (a run-time error when it had none). */
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

type ThreadMessage = { ready?: boolean; ok?: boolean; result?: CellResult; error?: string; code?: string; key?: string; progress?: CellProgress; curvePoint?: CurvePoint; index?: number };

/** Where a pool's cells run: worker threads of this process, or child processes (one Node process each). */
export type Isolation = 'thread' | 'process';

/**
 * One worker that runs cells one at a time and stays up between them (TensorFlow.js and the modules load once per
 * worker, not once per cell): a worker thread of this process, or a child process forked with an IPC channel. Both
 * run experiments/worker-entry and exchange the same messages (structured clones), so a cell's result does not
 * depend on which. A cell that throws comes back as a CellFailed rejection and the worker stays usable; a crashed
 * worker rejects its cell and every later one with its own error.
 */
export class CellWorker {
  private readonly post: (m: unknown) => void;
  private readonly stop: () => Promise<void>;
  private readonly ready: Promise<void>;
  private crash: Error | null = null;
  private current: { resolve: (r: CellResult) => void; reject: (e: Error) => void; index: number; onProgress?: (p: CellProgress) => void; onCurvePoint?: (p: CurvePoint) => void } | null = null;

  constructor(readonly isolation: Isolation) {
    // Built (dist/*.js): the compiled entry; from the TypeScript sources: worker.mjs registers tsx first.
    const entry = import.meta.url.endsWith('.js') ? new URL('./worker-entry.js', import.meta.url) : new URL('./worker.mjs', import.meta.url);
    let isReady!: () => void;
    let failed!: (e: Error) => void;
    this.ready = new Promise<void>((ok, bad) => ((isReady = ok), (failed = bad)));
    this.ready.catch(() => undefined);
    const onMessage = (m: ThreadMessage) => {
      if (m.ready) return isReady();
      const c = this.current;
      if (!c) return;
      if (m.progress) return c.onProgress?.(m.progress);
      if (m.curvePoint) return c.onCurvePoint?.(m.curvePoint);
      this.current = null;
      if (m.ok) c.resolve(m.result!);
      else c.reject(new CellFailed(m.key!, m.error ?? 'unknown error', m.code));
    };
    const die = (e: Error) => {
      this.crash ??= e;
      failed(this.crash);
      const c = this.current;
      this.current = null;
      c?.reject(this.crash);
    };
    if (isolation === 'thread') {
      const worker = new Worker(entry);
      worker.on('message', onMessage);
      worker.on('error', die);
      worker.on('exit', (code) => die(new EgymError('CELL_FAILED', `a cell worker thread exited (code ${code})`)));
      this.post = (m) => worker.postMessage(m);
      this.stop = async () => {
        worker.removeAllListeners('exit');
        await worker.terminate();
      };
    } else {
      // The child's own Node flags are its defaults, but for the heap limits the caller set; its output is ours.
      const execArgv = process.execArgv.filter((a) => /^--max-(old|semi)-space-size=/.test(a));
      const child = fork(fileURLToPath(entry), [], { serialization: 'advanced', execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', (m) => onMessage(m as ThreadMessage));
      child.on('error', die);
      child.on('exit', (code, signal) => die(new EgymError('CELL_FAILED', `a cell worker process exited (${signal ?? `code ${code}`})`)));
      this.post = (m) => child.send(m as Serializable);
      this.stop = async () => {
        child.removeAllListeners('exit');
        if (child.exitCode !== null || child.signalCode !== null) return;
        await new Promise<void>((ok) => {
          child.once('exit', () => ok());
          child.kill('SIGTERM');
        });
      };
    }
  }

  /** Run one cell in this worker (one at a time). */
  async run(cell: Cell, opts: { keepCheckpoint: boolean; onProgress?: (p: CellProgress) => void; onCurvePoint?: (p: CurvePoint) => void }): Promise<CellResult> {
    if (this.current) throw new EgymError('USAGE', `CellWorker.run: a cell is already running in this ${this.isolation}`);
    await this.ready;
    if (this.crash) throw this.crash;
    return new Promise<CellResult>((resolve, reject) => {
      this.current = { resolve, reject, index: cell.index, onProgress: opts.onProgress, onCurvePoint: opts.onCurvePoint };
      this.post({ cell, keepCheckpoint: opts.keepCheckpoint });
    });
  }

  /** Stop the worker (a running cell is abandoned). */
  async terminate(): Promise<void> {
    this.crash ??= new EgymError('CELL_FAILED', `the cell worker ${this.isolation} was stopped`);
    await this.stop();
  }
}

/** A cell worker on a thread of this process (the queue's `egym worker` runs one). */
export class CellThread extends CellWorker {
  constructor() {
    super('thread');
  }
}

export async function runPool(cells: Cell[], opts: PoolOptions): Promise<void> {
  if (opts.workers <= 0 || cells.length <= 1) {
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
  let drained = false;
  await Promise.all(
    Array.from({ length: n }, async () => {
      const thread = new CellWorker(opts.isolation ?? 'process');
      try {
        for (;;) {
          const c = failure || opts.stopped?.() ? undefined : queue.shift();
          if (!c) break;
          if (queue.length === 0 && !drained && n > 1) {
            // Nothing left to dispatch: the threads that finish from now on leave a core free for the caller.
            drained = true;
            opts.onDrained?.();
          }
          try {
            opts.onResult(
              await thread.run(c, {
                keepCheckpoint: opts.keepCheckpoint,
                onProgress: opts.onProgress ? (p) => opts.onProgress!(c.index, p) : undefined,
                onCurvePoint: opts.onCurvePoint ? (p) => opts.onCurvePoint!(c.index, p) : undefined,
              }),
            );
          } catch (e) {
            failure ??= e as Error;
            if (!(e instanceof CellFailed)) break; // the thread itself is gone
          }
        }
      } finally {
        await thread.terminate();
      }
    }),
  );
  if (failure) throw failure;
}
