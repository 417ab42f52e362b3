/** Runs cells sent by the pool, one at a time, and posts each result back. */
import { parentPort } from 'node:worker_threads';
import { runCell } from './run-cell.js';
import { loadModules } from './plugins.js';
import { EgymError } from '../envs/errors.js';
import type { Cell } from './cells.js';

parentPort!.on('message', async (msg: { cell: Cell; keepCheckpoint: boolean }) => {
  try {
    // The cell's user modules register their agents and envs in this thread too (once per worker).
    const mods = await loadModules(msg.cell.modulePaths ?? [], '/');
    if (mods.some((m, i) => m.sha256 !== msg.cell.modules[i])) throw new EgymError('USAGE', `cell ${msg.cell.key}: a user module changed on disk during the run`);
    const index = msg.cell.index;
    const result = await runCell(msg.cell, { keepCheckpoint: msg.keepCheckpoint, onProgress: (p) => parentPort!.postMessage({ progress: p, index }), onCurvePoint: (p) => parentPort!.postMessage({ curvePoint: p, index }) });
    parentPort!.postMessage({ ok: true, result });
  } catch (e) {
    // The error crosses the thread boundary as data: its message, and its code when it is an EgymError.
    parentPort!.postMessage({ ok: false, error: (e as Error).message, code: (e as { code?: unknown }).code, key: msg.cell.key });
  }
});
parentPort!.postMessage({ ready: true });
