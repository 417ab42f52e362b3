/**
 * An elastic queue of cells on Redis (BullMQ). `egym run <spec> --queue redis://HOST:PORT/DB` enqueues the cells
 * that its run folder lacks, one job per cell (job id = run id + cell key, so a second submission of the same spec
 * finds the same jobs), and waits: each finished job's result comes back through Redis and the submitter writes
 * it, exactly as a local run would. `egym worker redis://...` (any number, on any machine that reaches Redis; no
 * shared filesystem) takes jobs one at a time and runs each cell in a worker thread, so its event loop stays free
 * to renew the job's lock: a worker that dies (SIGKILL, a lost machine) stops renewing it, and after `lockMs` the
 * job is stalled and goes back to the queue for another worker. Results that no submitter collected (it died) stay
 * in Redis as completed jobs and the next submission of the spec collects them. A job that Redis lost (a restart
 * without persistence) is enqueued again. Results are keyed by cell, so they are identical to a local run whatever
 * the number of workers and the order they finish in.
 *
 * Failures: a cell that throws a typed error (an EgymError: bad input, an agent that cannot run on the env, a
 * checkpoint too large for the queue) fails the same way on every attempt, so its job fails at once
 * (UnrecoverableError) and the submitter reports it. Anything else (a worker thread that crashed, an untyped error)
 * is tried up to 3 times. A job in BullMQ's failed list is final; a failed job left by an earlier submission of the
 * spec is enqueued again once by the next submission (its cause may have been fixed since), as a local run
 * reruns a cell that failed.
 */
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Cell } from './cells.js';
import type { CellResult } from './run-cell.js';
import { CellFailed, CellThread, longestFirst } from './pool.js';
import { EgymError, InvalidArgument } from '../envs/errors.js';
import { checkpointFromMessage, checkpointToMessage } from '../agents/checkpoint-file.js';

export const QUEUE_NAME = 'egym-cells';
/** Attempts of a cell that fails with an untyped error (a crashed worker thread, say). */
const ATTEMPTS = 3;

/** redis://HOST:PORT/DB (DB optional) as connection options; anything else is a usage error naming the form. */
export function parseRedisUrl(url: string): { host: string; port: number; db: number; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgument(`queue: ${JSON.stringify(url)} is not a URL; use redis://HOST:PORT/DB`);
  }
  if (u.protocol !== 'redis:') throw new InvalidArgument(`queue: ${JSON.stringify(url)} is not a redis:// URL; use redis://HOST:PORT/DB`);
  const port = u.port ? Number(u.port) : 6379;
  const dbPart = u.pathname.replace(/^\//, '');
  const db = dbPart === '' ? 0 : Number(dbPart);
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new InvalidArgument(`queue: database ${JSON.stringify(dbPart)} in ${url} must be an integer in [0, 15]`);
  // maxRetriesPerRequest null: BullMQ's blocking commands wait through reconnections (a Redis restart).
  return { host: u.hostname || '127.0.0.1', port, db, maxRetriesPerRequest: null };
}

export interface QueueRunOptions {
  url: string;
  runId: string;
  keepCheckpoint: boolean;
  onResult: (r: CellResult) => void;
  /** Polled between checks: true stops waiting (Ctrl-C; the jobs stay queued for the next submission). */
  stopped?: () => boolean;
  /** How often the submitter checks its jobs (ms). */
  pollMs?: number;
  /** Every this many checks, each pending job is looked at on its own (lost jobs enqueued again); 10 by default. */
  fullScanEvery?: number;
}

/**
 * The ids of every job in one of the queue's finished lists. All of them: BullMQ's getRanges reads only the two
 * newest unless given the range (0, -1 is the whole list), which once left a check collecting 2 results at most.
 */
export async function jobIds(queue: Queue, list: 'completed' | 'failed'): Promise<string[]> {
  return queue.getRanges([list], 0, -1);
}

/** Enqueue the cells (or find their jobs) and hand each result to onResult as its job completes. */
export async function runOnQueue(cells: Cell[], opts: QueueRunOptions): Promise<void> {
  const connection = new Redis(parseRedisUrl(opts.url));
  connection.on('error', () => undefined); // unreachable while Redis restarts: ioredis reconnects
  const queue = new Queue(QUEUE_NAME, { connection });
  // Enqueued longest expected first (the queue is FIFO), so that no long cell starts last and holds the sweep.
  const pending = new Map(longestFirst(cells).map((c) => [`${opts.runId}-${c.key}`, c]));
  const add = (id: string, c: Cell) => queue.add('cell', { cell: c, keepCheckpoint: opts.keepCheckpoint }, { jobId: id, attempts: ATTEMPTS, removeOnComplete: false, removeOnFail: false });
  // Per-job checks (getJob + getState for every pending cell: add the missing ones, collect, see failures) run at
  // the first round and then every `fullEvery` rounds; the rounds between read the completed and failed lists in
  // bulk, so a poll costs Redis a few calls, not two per pending cell.
  const fullEvery = Math.max(1, Math.floor(opts.fullScanEvery ?? 10));
  const failedOut = (c: Cell, job: { attemptsMade: number; failedReason?: string }) =>
    new EgymError('CELL_FAILED', `cell ${c.key} (${c.label}, seed ${c.seed}) failed on the queue (${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'}): ${job.failedReason}`);
  try {
    for (let round = 0; pending.size > 0 && !opts.stopped?.(); round++) {
      const results: [string, CellResult][] = [];
      try {
        if (round % fullEvery === 0) {
          for (const [id, c] of pending) {
            const job = await queue.getJob(id);
            if (!job) {
              await add(id, c); // new, or lost by a Redis restart
              continue;
            }
            const state = await job.getState();
            if (state === 'completed') {
              // The job read above may predate its completion (its returnvalue still empty): read it again, or
              // leave it to the next check.
              const done = job.returnvalue ? job : await queue.getJob(id);
              if (done?.returnvalue) results.push([id, done.returnvalue as CellResult]);
            }
            else if (state === 'failed') {
              // Final (BullMQ retries a job before it lists it as failed). One left by an earlier submission is
              // tried again once, at this submission's first check.
              if (round > 0) throw failedOut(c, job);
              await job.remove();
              await add(id, c);
            }
          }
        } else {
          // Ids only (other runs' uncollected results are not fetched), then this run's finished jobs one by one.
          for (const id of await jobIds(queue, 'completed')) {
            if (!pending.has(id)) continue;
            const job = await queue.getJob(id);
            if (job?.returnvalue) results.push([id, job.returnvalue as CellResult]);
          }
          for (const id of await jobIds(queue, 'failed')) {
            const c = pending.get(id);
            const job = c ? await queue.getJob(id) : undefined;
            if (c && job) throw failedOut(c, job);
          }
        }
      } catch (e) {
        if (e instanceof EgymError) throw e;
        // Redis unreachable (restarting): what was read is kept; the rest at the next check.
      }
      for (const [id, result] of results) {
        // Written here, outside the Redis error handling: a failure to write is the run's error, never retried silently.
        // A checkpoint with typed arrays travels as its file container in base64 (agents/checkpoint-file.ts).
        if (result.checkpoint) result.checkpoint = checkpointFromMessage(result.checkpoint, `the queue's result for ${id}`);
        opts.onResult(result);
        pending.delete(id);
        // Written by the submitter: Redis need not keep it (if this fails, the job stays and is harmless).
        await queue.remove(id).catch(() => undefined);
      }
      if (pending.size > 0) await new Promise((ok) => setTimeout(ok, opts.pollMs ?? 300));
    }
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
}

export interface QueueWorkerOptions {
  url: string;
  /** Lock of a running job (ms): a worker that stops renewing it for this long has its job taken back. */
  lockMs?: number;
  onCell?: (c: Cell, r: CellResult) => void;
  /** A cell's attempt failed: its message, and whether the queue will try it again. */
  onFailed?: (c: Cell, message: string, retried: boolean) => void;
}

/** Take cells from the queue, one at a time, each in a worker thread; resolves when closed. */
export function startQueueWorker(opts: QueueWorkerOptions): { close(): Promise<void>; closed: Promise<void> } {
  const lock = opts.lockMs ?? 30_000;
  const connection = new Redis(parseRedisUrl(opts.url));
  connection.on('error', () => undefined);
  // One thread for the worker's life (TensorFlow.js loads once), replaced if it crashes; started now, so that the
  // first cell does not wait for it.
  let thread: CellThread | null = new CellThread();
  // The error a failed attempt hands to BullMQ: UnrecoverableError when trying again cannot help.
  const failed = (attemptsMade: number, cell: Cell, e: Error, final: boolean): Error => {
    opts.onFailed?.(cell, e.message, !final && attemptsMade + 1 < ATTEMPTS);
    return final ? new UnrecoverableError(e.message) : e;
  };
  const worker = new Worker(
    QUEUE_NAME,
    async (job) => {
      const { cell, keepCheckpoint } = job.data as { cell: Cell; keepCheckpoint: boolean };
      thread ??= new CellThread();
      let result: CellResult;
      try {
        result = await thread.run(cell, { keepCheckpoint });
      } catch (e) {
        if (!(e instanceof CellFailed)) {
          const dead = thread;
          thread = null;
          await dead.terminate().catch(() => undefined);
          throw failed(job.attemptsMade, cell, e as Error, false);
        }
        // A typed error inside the cell (its code kept across the thread boundary) is the same on every attempt.
        throw failed(job.attemptsMade, cell, e, e.code !== 'CELL_FAILED');
      }
      try {
        if (result.checkpoint) result.checkpoint = checkpointToMessage(result.checkpoint) as typeof result.checkpoint;
      } catch (e) {
        throw failed(job.attemptsMade, cell, e as Error, e instanceof EgymError);
      }
      opts.onCell?.(cell, result);
      return result;
    },
    { connection, concurrency: 1, lockDuration: lock, stalledInterval: Math.max(500, Math.floor(lock / 2)), maxStalledCount: 3 },
  );
  worker.on('error', () => undefined); // connection errors while Redis restarts: BullMQ reconnects
  let done!: () => void;
  const closed = new Promise<void>((ok) => (done = ok));
  return {
    closed,
    // The running cell is finished first (up to 10 s; then it is left to the lock, like a dead worker's), and the
    // connection closed even when Redis is unreachable.
    close: async () => {
      await Promise.race([worker.close(), new Promise((ok) => setTimeout(ok, 10_000).unref())]);
      await thread?.terminate().catch(() => undefined);
      connection.disconnect();
      done();
    },
  };
}
