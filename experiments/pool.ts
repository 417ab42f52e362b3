/**
 * Runs cells on a pool of worker threads (one TensorFlow.js backend per worker), or in this thread with
 * workers = 0. Results are handed to `onResult` as they complete; what a run writes does not depend on the
 * order (files are keyed by cell and the summary is computed over cells sorted by index), so the output is
 * bit-identical whatever the number of workers.
 */
import { Worker } from 'node:worker_threads';
import type { Cell } from './cells.js';
import { runCell, type CellResult } from './run-cell.js';
import { EgymError, isCode } from '../envs/errors.js';

export interface PoolOptions {
  workers: number;
  keepCheckpoint: boolean;
  onResult: (r: CellResult) => void;
  /** Polled between cells: true stops dispatching (Ctrl-C). */
  stopped?: () => boolean;
}

/** A cell that failed in a worker thread; keeps the original error's code (a run-time error when it had none). */
export class CellFailed extends EgymError {
  constructor(key: string, message: string, code?: string) {
    super(isCode(code) ? code : 'CELL_FAILED', `cell ${key}: ${message}`);
    this.name = 'CellFailed';
  }
}

export async function runPool(cells: Cell[], opts: PoolOptions): Promise<void> {
  if (opts.workers <= 0 || cells.length <= 1) {
    for (const c of cells) {
      if (opts.stopped?.()) return;
      opts.onResult(await runCell(c, { keepCheckpoint: opts.keepCheckpoint }));
    }
    return;
  }
  const queue = [...cells];
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
        w.on('message', (m: { ready?: boolean; ok?: boolean; result?: CellResult; error?: string; code?: string; key?: string }) => {
          if (m.ready) return next();
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
