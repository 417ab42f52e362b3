// The elastic queue against a real redis-server (the OS package; .ci/run installs it): egym worker processes take
// cells from a BullMQ queue; one is killed with SIGKILL mid-run and another starts late; Redis is restarted
// mid-sweep (no persistence: it loses its jobs); every cell ends up in the results once and the summary is
// identical to a local run. A second submission reuses the finished cells, and results that no submitter
// collected are collected by the next one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../../experiments/experiment.js';
import { expandCells } from '../../experiments/cells.js';
import { resolveSpec } from '../../experiments/spec.js';

const ROOT = join(import.meta.dirname, '..', '..');
const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
if (!REDIS) console.log('queue test skipped: no redis-server (apt-get install redis-server); .ci/run installs it');

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const freePort = () =>
  new Promise<number>((ok) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });

let port = 0;
let redis: ChildProcess | null = null;
const workers: ChildProcess[] = [];
const startRedis = async () => {
  redis = spawn(REDIS!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await sleep(500);
};
const stopRedis = async () => {
  redis?.kill('SIGKILL');
  await new Promise((ok) => (redis?.exitCode !== null ? ok(null) : redis?.once('exit', ok)));
  redis = null;
};
/** An egym worker process; its stdout lines ("done <label> seed <s> (<key>)", "failed ...") collected. */
function startWorker(url: string): { p: ChildProcess; done: string[]; failed: string[] } {
  const p = spawn(process.execPath, [join(ROOT, 'bin', 'egym.mjs'), 'worker', url, '--lock-ms', '3000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const done: string[] = [];
  const failed: string[] = [];
  p.stdout!.on('data', (b: Buffer) => {
    const lines = b.toString().split('\n');
    done.push(...lines.filter((l) => l.startsWith('done ')));
    failed.push(...lines.filter((l) => l.startsWith('failed ')));
  });
  workers.push(p);
  return { p, done, failed };
}
const cellCount = (d: string) => (existsSync(join(d, 'cells')) ? readdirSync(join(d, 'cells')).filter((f) => f.endsWith('.jsonl')).length : 0);

const spec = (name: string, seeds: number) => ({
  version: 2,
  name,
  env: { id: 'retention-v0', params: { horizonDays: 5 } },
  agents: [{ id: 'random' }, { id: 'q-learning' }, { id: 'sarsa' }, { id: 'expected-sarsa' }],
  seeds,
  train: { userSteps: 192_000, numEnvs: 64 },
  final: { users: 100 },
});

describe.skipIf(!REDIS)('queue on a real redis-server', () => {
  beforeAll(async () => {
    port = await freePort();
    await startRedis();
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await stopRedis();
  });

  it('3 workers, one killed mid-run, one started late, Redis restarted mid-sweep: every cell once, the summary of a local run', async () => {
    const url = `redis://127.0.0.1:${port}/0`;
    const dir = mkdtempSync(join(tmpdir(), 'egym-queue-'));
    const local = await runExperiment(spec('queue', 2), { workers: 0, out: join(dir, 'local') });
    const out = join(dir, 'queued');
    const a = startWorker(url);
    const b = startWorker(url);
    const submitted = runExperiment(spec('queue', 2), { workers: 0, out, queue: url });
    // Worker a finishes a cell, then dies without a word in the middle of its next one.
    for (let i = 0; i < 600 && a.done.length < 1; i++) await sleep(100);
    expect(a.done.length).toBeGreaterThanOrEqual(1);
    await sleep(300);
    a.p.kill('SIGKILL');
    await sleep(1000);
    const c = startWorker(url); // a late worker
    // Redis restarts (empty) once some cells are written.
    for (let i = 0; i < 600 && cellCount(out) < 3; i++) await sleep(100);
    await stopRedis();
    await sleep(500);
    await startRedis();
    const r = await submitted;
    expect(r.complete).toBe(true);
    expect(cellCount(out)).toBe(8);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(readFileSync(join(local.runDir, 'summary.json'), 'utf8'));
    expect(b.done.length + c.done.length).toBeGreaterThan(0);
    // A second submission of the same spec reuses every finished cell.
    const again = await runExperiment(spec('queue', 2), { workers: 0, out, queue: url });
    expect(again).toMatchObject({ ran: 0, skipped: 8, complete: true });
  });

  it('a check reads the job lists in bulk: each pending job is read on its own only every tenth check', async () => {
    const { runOnQueue } = await import('../../experiments/queue.js');
    const { Redis } = await import('ioredis');
    const cells = expandCells(resolveSpec(spec('queue-bulk', 30))); // 120 cells, no worker: all stay pending
    const r = new Redis({ host: '127.0.0.1', port, db: 3 });
    await r.config('RESETSTAT');
    let checks = 0;
    await runOnQueue(cells, { url: `redis://127.0.0.1:${port}/3`, runId: 'bulk-test', keepCheckpoint: false, onResult: () => undefined, stopped: () => ++checks > 20, pollMs: 5 });
    const stats = await r.info('commandstats');
    const calls = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    // 20 checks: per-job reads (HGETALL) at the 1st (which also enqueues) and the 11th, about 2 x 120, where a
    // per-job read at every check would make 20 x 120.
    expect(calls('hgetall')).toBeGreaterThanOrEqual(120);
    expect(calls('hgetall')).toBeLessThan(4 * 120);
    expect(await r.keys('bull:egym-cells:bulk-test-*')).not.toHaveLength(0); // the jobs were enqueued
    await r.flushdb();
    r.disconnect();
  });

  it('a bulk check sees every finished job, not only the newest two', async () => {
    const { jobIds } = await import('../../experiments/queue.js');
    const { Queue, Worker } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const connection = new Redis({ host: '127.0.0.1', port, db: 4, maxRetriesPerRequest: null });
    const q = new Queue('egym-jobids-test', { connection });
    for (let i = 0; i < 7; i++) await q.add('j', { i, fail: i >= 5 }, { jobId: `j${i}`, removeOnComplete: false, removeOnFail: false });
    const w = new Worker(
      'egym-jobids-test',
      async (job) => {
        if ((job.data as { fail: boolean }).fail) throw new Error('no');
        return job.data;
      },
      { connection },
    );
    while ((await q.getJobCounts('completed', 'failed')).completed! + (await q.getJobCounts('completed', 'failed')).failed! < 7) await new Promise((ok) => setTimeout(ok, 20));
    await w.close();
    expect((await jobIds(q, 'completed')).sort()).toEqual(['j0', 'j1', 'j2', 'j3', 'j4']);
    expect((await jobIds(q, 'failed')).sort()).toEqual(['j5', 'j6']);
    await q.obliterate({ force: true });
    await q.close();
    connection.disconnect();
  });

  it('results that no submitter collected (it stopped) are collected by the next submission, not recomputed', async () => {
    const url = `redis://127.0.0.1:${port}/0`;
    for (const w of workers.splice(0)) w.kill('SIGKILL'); // the first test's workers
    const dir = mkdtempSync(join(tmpdir(), 'egym-queue2-'));
    const out = join(dir, 'queued');
    let polls = 0;
    // The first submitter enqueues and stops waiting at once (as if it died).
    const first = await runExperiment(spec('queue-2', 1), { workers: 0, out, queue: url, stopped: () => ++polls > 1 });
    expect(first.complete).toBe(false);
    const w = startWorker(url);
    for (let i = 0; i < 600 && w.done.length < 4; i++) await sleep(100);
    expect(w.done).toHaveLength(4);
    const second = await runExperiment(spec('queue-2', 1), { workers: 0, out, queue: url });
    expect(second.complete).toBe(true);
    expect(cellCount(out)).toBe(4);
    await sleep(500);
    expect(w.done).toHaveLength(4); // nothing ran again
  });

  it('a cell that fails with a typed error is tried once, not 3 times, and reported; the next submission tries it once more', async () => {
    const url = `redis://127.0.0.1:${port}/2`;
    for (const w of workers.splice(0)) w.kill('SIGKILL');
    const out = join(mkdtempSync(join(tmpdir(), 'egym-queue4-')), 'queued');
    // PPO with itemFeedback needs catalogue item ids, which interest-evolution-v0 has not: a typed error when the
    // agent is built, the same on every attempt.
    const bad = { ...spec('queue-bad', 1), env: { id: 'interest-evolution-v0' }, agents: [{ id: 'random' }, { id: 'ppo', params: { itemFeedback: true, backend: 'cpu' } }], train: { userSteps: 320, numEnvs: 32 }, final: { users: 10 } };
    const w = startWorker(url);
    const reason = /cell \w+ \(ppo, seed 0\) failed on the queue \(1 attempt\): .*itemFeedback needs catalogue item ids/;
    await expect(runExperiment(bad, { workers: 0, out, queue: url })).rejects.toThrow(reason);
    for (let i = 0; i < 50 && w.failed.length < 1; i++) await sleep(100); // the worker's line may come after Redis's word
    await sleep(300);
    expect(w.failed).toHaveLength(1);
    expect(w.failed[0]).toMatch(/^failed ppo seed 0 \(\w+\): .*itemFeedback needs catalogue item ids \(the env has none\)$/);
    // The failed job stays in Redis; a second submission enqueues it again (one more attempt), then reports it.
    await expect(runExperiment(bad, { workers: 0, out, queue: url })).rejects.toThrow(reason);
    for (let i = 0; i < 50 && w.failed.length < 2; i++) await sleep(100);
    await sleep(300);
    expect(w.failed).toHaveLength(2);
    expect(w.done.filter((l) => l.startsWith('done random '))).toHaveLength(1); // the finished cell is not rerun
  });

  it("a SlateQ checkpoint (typed arrays) comes back through the queue as the local run's, byte for byte", async () => {
    const url = `redis://127.0.0.1:${port}/1`;
    for (const w of workers.splice(0)) w.kill('SIGKILL');
    const dir = mkdtempSync(join(tmpdir(), 'egym-queue3-'));
    const ck = { ...spec('queue-ck', 1), agents: [{ id: 'slateq', params: { hidden: 8, learningStarts: 50, batchSize: 8, replaySize: 2000, backend: 'cpu' } }], train: { userSteps: 400, numEnvs: 4 }, final: { users: 10 } };
    startWorker(url);
    await runExperiment(ck, { workers: 0, out: join(dir, 'queued'), queue: url, saveCheckpoints: true });
    await runExperiment(ck, { workers: 0, out: join(dir, 'local'), saveCheckpoints: true });
    const file = (d: string) => readFileSync(join(dir, d, 'checkpoints', 'slateq-seed0.ckpt'));
    expect(file('queued').subarray(0, 8).toString('latin1')).toBe('EGYMCKPT');
    expect(file('queued').equals(file('local'))).toBe(true);
  });
});
