// Slurm for real: a single-node cluster from the OS packages (scripts/slurm-up.sh: munge, slurmctld, slurmd), the
// README's array-job script (scripts/egym-array.sbatch) submitted as an array, the shards merged and compared with
// a local run; one array task cancelled mid-run and resubmitted resumes without recomputing its finished cells.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeRuns, runExperiment } from '../../experiments/experiment.js';

const ROOT = join(import.meta.dirname, '..', '..');
const HAVE = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged', '/usr/bin/sbatch'].every((p) => existsSync(p)) && process.getuid?.() === 0;
if (!HAVE) console.log('Slurm test skipped: needs root and slurm-wlm + munge (apt-get install slurm-wlm munge); .ci/run installs them');

const state = mkdtempSync(join(tmpdir(), 'egym-slurm-'));
const env = { ...process.env, SLURM_CONF: join(state, 'slurm.conf') };
const slurm = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, encoding: 'utf8' }).trim();
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

async function waitJob(job: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (slurm('squeue', ['-h', '-j', job, '-o', '%i']) === '') return;
    await sleep(500);
  }
  throw new Error(`slurm job ${job} still queued or running after ${timeoutMs} ms`);
}

/** Submit the README's array script over `array` with SPEC and OUT (and `extra`) in its environment; the job id. */
function submit(spec: string, out: string, array: string, extra: Record<string, string> = {}): string {
  mkdirSync(out, { recursive: true }); // Slurm opens the output files there
  const vars = { SPEC: spec, OUT: out, EGYM: `${process.execPath} ${join(ROOT, 'bin', 'egym.mjs')}`, ...extra };
  const args = ['--parsable', `--array=${array}`, `--chdir=${ROOT}`, `--output=${join(out, 'slurm-%A_%a.out')}`, `--export=ALL,${Object.entries(vars).map(([k, v]) => `${k}=${v}`).join(',')}`, join(ROOT, 'scripts', 'egym-array.sbatch')];
  return slurm('sbatch', args).split(';')[0]!;
}

describe.skipIf(!HAVE)('Slurm (single-node cluster)', () => {
  beforeAll(() => {
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'slurm-up.sh'), state], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`slurm-up failed: ${r.stderr}`);
  }, 60_000);
  afterAll(() => {
    spawnSync('bash', [join(ROOT, 'scripts', 'slurm-down.sh'), state]);
  });

  it('an array job of the README script, merged, equals a local run', async () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('```sh\n' + readFileSync(join(ROOT, 'scripts', 'egym-array.sbatch'), 'utf8') + '```');
    const dir = mkdtempSync(join(tmpdir(), 'egym-slurm-run-'));
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ version: 2, name: 'slurm', env: { id: 'retention-v0', params: { horizonDays: 3 } }, agents: [{ id: 'random' }, { id: 'q-learning' }, { id: 'ucb1' }], seeds: 2, train: { userSteps: 3200, numEnvs: 32 }, final: { users: 30 } }));
    const job = submit(spec, join(dir, 'shards'), '0-1');
    await waitJob(job, 180_000);
    const shards = readdirSync(join(dir, 'shards')).filter((f) => f.startsWith('shard-')).map((f) => join(dir, 'shards', f));
    expect(shards).toHaveLength(2);
    const merged = await mergeRuns(shards, join(dir, 'merged'));
    expect(merged).toMatchObject({ complete: true, cells: 6, total: 6 });
    const local = await runExperiment(JSON.parse(readFileSync(spec, 'utf8')), { workers: 0, out: join(dir, 'local') });
    expect(readFileSync(join(dir, 'merged', 'summary.json'), 'utf8')).toBe(readFileSync(join(local.runDir, 'summary.json'), 'utf8'));
  });

  it('a task cancelled mid-run and resubmitted alone resumes: its finished cells are kept, not recomputed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-slurm-cancel-'));
    const spec = join(dir, 'spec.json');
    // Three tabular learners x 2 seeds, a few seconds a cell: shard 1 of 2 holds 3 of them.
    writeFileSync(spec, JSON.stringify({ version: 2, name: 'slurm-cancel', env: { id: 'retention-v0', params: { horizonDays: 5 } }, agents: [{ id: 'q-learning' }, { id: 'sarsa' }, { id: 'expected-sarsa' }], seeds: 2, train: { userSteps: 640_000, numEnvs: 64 }, final: { users: 200 } }));
    const out = join(dir, 'shards');
    const job = submit(spec, out, '0-1');
    const cells = join(out, 'shard-1', 'cells');
    const count = () => (existsSync(cells) ? readdirSync(cells).filter((f) => f.endsWith('.jsonl')).length : 0);
    const t0 = Date.now();
    while (count() < 1 && Date.now() - t0 < 180_000) await sleep(200);
    expect(count()).toBeGreaterThanOrEqual(1);
    slurm('scancel', [`${job}_1`]);
    await waitJob(job, 180_000);
    const before = readdirSync(cells).filter((f) => f.endsWith('.jsonl'));
    expect(before.length).toBeLessThan(3); // cancelled before its shard was done
    const stamps = new Map(before.map((f) => [f, statSync(join(cells, f)).mtimeMs]));
    const again = submit(spec, out, '1', { SHARDS: '2' });
    await waitJob(again, 180_000);
    const after = readdirSync(cells).filter((f) => f.endsWith('.jsonl'));
    expect(after).toHaveLength(3);
    for (const [f, t] of stamps) expect(statSync(join(cells, f)).mtimeMs).toBe(t);
    const merged = await mergeRuns([join(out, 'shard-0'), join(out, 'shard-1')], join(dir, 'merged'));
    expect(merged).toMatchObject({ complete: true, cells: 6 });
  });
});
