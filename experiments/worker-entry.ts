/**
 * Runs cells sent by the pool, one at a time, and posts each result back. The same entry serves a worker thread
 * (messages through parentPort) and a child process forked with an IPC channel (process.send; the pool's
 * CellWorker with isolation 'process'), so a cell runs the same code either way.
 */
import { parentPort } from 'node:worker_threads';
import { runCell } from './run-cell.js';
import { loadModules } from './plugins.js';
import { EgymError } from '../envs/errors.js';
import type { Cell } from './cells.js';

type Message = { cell: Cell; keepCheckpoint: boolean };
// A child process whose runner is gone (killed by SIGTERM or SIGKILL: kill, scancel, a container stop) has no one
// to report to. Its cell runs synchronously, so the channel's 'disconnect' event waits for the cell's end; the
// parent's pid is checked at every post instead (getppid: the runner's pid until it dies), and a failed send ends
// the process too, quietly, instead of an EPIPE 'error' event that would crash it with a stack trace on the
// terminal the runner shared with it.
const runner = process.ppid;
const quit = () => process.exit(0);
const port = parentPort
  ? { on: (f: (m: Message) => void) => parentPort!.on('message', f), post: (m: unknown) => parentPort!.postMessage(m) }
  : {
      on: (f: (m: Message) => void) => process.on('message', f),
      post: (m: unknown) => {
        if (process.ppid !== runner || !process.connected) quit();
        process.send!(m, undefined, undefined, (e) => e && quit());
      },
    };
if (!parentPort) {
  if (!process.send) throw new EgymError('USAGE', 'worker-entry: start it as a worker thread or as a child process with an IPC channel');
  // A child process: Ctrl-C reaches the whole process group, and it is the runner's to act on (it stops dispatching
  // and ends its workers); a parent that is gone leaves nothing to report to.
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => process.exit(0));
}

port.on(async (msg: Message) => {
  try {
    // The cell's user modules register their agents and envs in this worker too (once per worker).
    const mods = await loadModules(msg.cell.modulePaths ?? [], '/');
    if (mods.some((m, i) => m.sha256 !== msg.cell.modules[i])) throw new EgymError('USAGE', `cell ${msg.cell.key}: a user module changed on disk during the run`);
    const index = msg.cell.index;
    const result = await runCell(msg.cell, { keepCheckpoint: msg.keepCheckpoint, onProgress: (p) => port.post({ progress: p, index }), onCurvePoint: (p) => port.post({ curvePoint: p, index }) });
    port.post({ ok: true, result });
  } catch (e) {
    // The error crosses the thread or process boundary as data: its message, and its code when it is an EgymError.
    port.post({ ok: false, error: (e as Error).message, code: (e as { code?: unknown }).code, key: msg.cell.key });
  }
});
port.post({ ready: true });
