import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'egym.mjs');

function egym(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('egym CLI (spawned)', () => {
  it('--help lists the commands', () => {
    const r = egym('--help');
    expect(r.code).toBe(0);
    for (const c of ['list', 'info', 'check-env', 'bench', 'demo', 'run', 'sweep', 'report', 'merge', 'reproduce']) expect(r.stdout).toContain(c);
  });

  it('list envs --json prints every env with description and source', () => {
    const r = egym('list', 'envs', '--json');
    expect(r.code).toBe(0);
    const envs = JSON.parse(r.stdout) as { id: string; source: string }[];
    expect(envs.map((e) => e.id)).toContain('retention-v0');
    expect(envs.every((e) => e.source.length > 0)).toBe(true);
  });

  it('info prints the parameters with ranges and defaults', () => {
    const r = egym('info', 'interest-evolution-v0');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/numCandidates\s+an integer in \[1, 10000\], default 10/);
    expect(r.stdout).toContain('Slate(n=10, k=2)');
    const g = egym('info', 'ppo');
    expect(g.code).toBe(0);
    expect(g.stdout).toMatch(/source: Schulman et al. 2017/);
    expect(g.stdout).toMatch(/clipCoef\s+a number in \[0, 10\], default 0.2/);
  });

  it('check-env runs the checker', () => {
    const r = egym('check-env', 'boredom-mdp-v0', '--steps', '200');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/boredom-mdp-v0: all \d+ checks passed/);
  });

  it('an unknown env or agent is one clear line on stderr and the usage exit code 2, in every command', () => {
    for (const cmd of [['info', 'nope-v0'], ['bench', 'envs', '--env', 'nope-v0']]) expect(egym(...cmd).code).toBe(2);
    expect(egym('info', 'no-such-agent').code).toBe(2);
    const r = egym('check-env', 'nope-v0');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown env id "nope-v0"; known envs: /);
  });

  it('a usage error exits with code 2', () => {
    const r = egym('list', 'planets');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Choices: "envs"/);
    expect(egym().code).toBe(2);
    const bad = egym('check-env', 'bernoulli-bandit-v0', '--steps', 'abc');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/check-env: --steps must be a positive integer, got NaN/);
    expect(egym('check-env', 'bernoulli-bandit-v0', '--steps', '-5').code).toBe(2);
  });

  it('bench envs writes its JSON result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-bench-'));
    const out = join(dir, 'envs.json');
    const r = egym('bench', 'envs', '--env', 'boredom-mdp-v0', '--seconds', '0.05', '--runs', '1', '--batch', '8', '--out', out);
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(true);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.rows).toHaveLength(2);
    expect(j.rows[0].stepsPerSecond).toBeGreaterThan(0);
    expect(j.machine.node).toBe(process.version);
    // Without --out nothing is written (the committed results/bench tables change only when asked).
    const cwd = mkdtempSync(join(tmpdir(), 'egym-bench-cwd-'));
    const q = spawnSync(process.execPath, [BIN, 'bench', 'envs', '--env', 'boredom-mdp-v0', '--seconds', '0.05', '--runs', '1', '--batch', '8'], { encoding: 'utf8', timeout: 60_000, cwd });
    expect(q.status).toBe(0);
    expect(q.stdout).toMatch(/not written \(add --out FILE to keep it/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('bench scaling times separate runs per worker count, checks their summaries agree, and refuses bad counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-scaling-'));
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ version: 2, name: 'scaling-test', env: { id: 'retention-v0', params: { horizonDays: 2 } }, agents: [{ id: 'random' }, { id: 'ucb1' }], seeds: 2, train: { userSteps: 32, numEnvs: 4 }, eval: { every: 0, users: 4 }, final: { users: 8 } }));
    const out = join(dir, 'scaling.json');
    const r = spawnSync(process.execPath, [BIN, 'bench', 'scaling', '--spec', spec, '--full', '--workers', '1', '2', '--reps', '1', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const j = JSON.parse(readFileSync(out, 'utf8'));
    expect(j.cells).toBe(4);
    expect(j.summarySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(j.rows.map((x: { mode: string; workers: number }) => `${x.mode}:${x.workers}`)).toEqual(['local:1', 'local:2']);
    expect(j.rows[0].speedup).toBe(1);
    expect(j.rows[1].pairedSpeedups).toHaveLength(1);
    expect(j.rows[1].medianPairedSpeedup).toBe(j.rows[1].pairedSpeedups[0]);
    expect(j.rows[1].medianSeconds).toBeGreaterThan(0);
    // Cell-seconds are read back from each run's cell files; the 1-worker row is its own contention reference.
    for (const row of j.rows) {
      expect(row.cellSeconds).toHaveLength(1);
      expect(row.medianCellSeconds).toBeGreaterThan(0);
      expect(row.utilization).toBeGreaterThan(0);
    }
    expect(j.rows[0].contention).toBe(1);
    expect(j.rows[1].contention).toBeGreaterThan(0);
    expect(j.queueOverhead).toBeNull();
    // The core probe ran alone and as two copies together, each copy timing itself.
    expect(j.coreProbe.alone).toHaveLength(1);
    expect(j.coreProbe.sideBySide['2']).toHaveLength(2);
    expect(j.rows[0].coreSlowdown).toBeNull();
    expect(j.rows[1].coreSlowdown).toBeGreaterThan(0);
    expect(j.rows[1].coreCeiling).toBeCloseTo(2 / j.rows[1].coreSlowdown, 1);
    expect(r.stdout).toMatch(/\| local \| 2 \|/);
    expect(r.stdout).toMatch(/Core probe \(js: 8 independent multiply-add chains/);
    // And the memory-bound probe, in its own column.
    expect(j.memoryProbe.alone).toHaveLength(1);
    expect(j.memoryProbe.sideBySide['2']).toHaveLength(2);
    expect(j.rows[0].memorySlowdown).toBeNull();
    expect(j.rows[1].memorySlowdown).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/Memory probe \(js: c\[i\] = a\[i\] \+ 0.5 b\[i\]/);
    // The runs' CPU seconds (Linux): some CPU was used, and the 2-worker row is bounded by the 1-worker run's.
    expect(j.rows[0].coresBusy).toBeGreaterThan(0);
    expect(j.rows[1].cpuBound).toBeCloseTo(Math.min(2, j.machine.cores) / j.rows[0].coresBusy, 1);
    for (const bad of [['--workers', '0'], ['--reps', '0'], ['--queue', 'http://x'], ['--spec', join(dir, 'none.json')]]) {
      const b = egym('bench', 'scaling', '--spec', spec, ...bad);
      expect(b.code).toBe(2);
      expect(b.stderr).toMatch(/--workers must list integers in \[1, 256\]|--reps must be an integer in \[1, 100\]|not a redis:\/\/ URL|does not exist/);
    }
  }, 120_000);

  it('run --help shows the options and examples; every command has --help', () => {
    const r = egym('run', '--help');
    expect(r.code).toBe(0);
    for (const o of ['--workers', '--shard', '--quick', '--out', 'Examples:']) expect(r.stdout).toContain(o);
    for (const c of ['sweep', 'report', 'compare', 'merge', 'reproduce', 'pipeline', 'bench', 'check-env']) expect(egym(c, '--help').code).toBe(0);
  });

  it('a tiny run from flags writes a run folder and prints the summary table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-run-'));
    const r = egym('run', '--env', 'boredom-mdp-v0', '--agent', 'random', 'q-learning', '--seeds', '2', '--user-steps', '960', '--users', '20', '--out', dir, '--workers', '0');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nq-learning +\d/);
    expect(r.stdout).toContain('vs random');
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    const again = egym('run', '--env', 'boredom-mdp-v0', '--agent', 'random', 'q-learning', '--seeds', '2', '--user-steps', '960', '--users', '20', '--out', dir, '--workers', '0', '--json');
    expect(JSON.parse(again.stdout).skipped).toBe(4);
    // egym compare on the run folder: the pair random / q-learning is the summary's own baseline comparison.
    const cmp = egym('compare', dir, 'q-learning', 'random', '--json');
    expect(cmp.code).toBe(0);
    const c = JSON.parse(cmp.stdout);
    const sum = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    const v = sum.groups.find((g: { label: string }) => g.label === 'q-learning').vsBaseline.return;
    expect(c.seeds).toEqual([0, 1]);
    expect([c.diff, c.lo, c.hi, c.p]).toEqual([v.diff, v.lo, v.hi, v.p]);
    expect(egym('compare', join(dir, 'summary.json'), 'random', 'q-learning').stdout).toContain('return: random vs q-learning, paired over 2 seeds');
    const bad = egym('compare', dir, 'q-learning', 'ppo');
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual(['egym: b: no agent labelled "ppo" in experiment boredom-mdp-v0-random-q-learning; its labels: random, q-learning']);
    expect(egym('compare', join(dir, 'nothing'), 'a', 'b').code).toBe(2);
  });

  it('a bad spec exits 2 with one line naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-spec-'));
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ name: 'x', env: { id: 'retention-v0' }, agents: [{ id: 'random' }, { id: 'ppo', params: { lr: 'fast' } }], seeds: 1, train: { userSteps: 32 }, final: { users: 5 } }));
    const r = egym('run', f);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/agents\[1\]\.params: agent ppo: param "lr" = "fast" is not a finite number/);
    expect(egym('run', join(dir, 'missing.json')).code).toBe(2);
    expect(egym('reproduce', 'alphago').stderr).toMatch(/available: flagship, slateq, choc-kale, adaptive-drift/);
  });

  it('a spec path that is a directory, has a BOM, invalid UTF-8 or no object, and --out on a file, exit 2 naming the problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-specfile-'));
    const good = JSON.stringify({ name: 'x', env: { id: 'retention-v0' }, agents: [{ id: 'random' }], seeds: 1, train: { userSteps: 0 }, final: { users: 2 } });
    const cases: [string, Buffer | string, RegExp][] = [
      ['bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]), /starts with a UTF-8 byte-order mark/],
      ['latin1.json', Buffer.from(good.replace('"x"', '"caf\u00e9"'), 'latin1'), /is not valid UTF-8/],
      ['array.json', '[1, 2]', /must hold one JSON object \(the spec\), got an array/],
      ['broken.json', '{"name": ', /is not valid JSON/],
    ];
    for (const [name, body, re] of cases) {
      writeFileSync(join(dir, name), body);
      const r = egym('run', join(dir, name));
      expect(r.code, name).toBe(2);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr, name).toMatch(re);
    }
    const d = egym('run', dir);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/is a directory; give the path of a \.json spec file/);
    writeFileSync(join(dir, 'good.json'), good);
    writeFileSync(join(dir, 'notes.md'), 'keep me');
    const o = egym('run', join(dir, 'good.json'), '--out', join(dir, 'notes.md'));
    expect(o.code).toBe(2);
    expect(o.stderr).toMatch(/--out .*notes\.md is an existing file, not a directory/);
    expect(readFileSync(join(dir, 'notes.md'), 'utf8')).toBe('keep me');
  });

  it('merge with cells missing exits 3 (the code is not lost on the way out)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-merge-'));
    const args = ['--env', 'boredom-mdp-v0', '--agent', 'random', 'q-learning', '--seeds', '2', '--user-steps', '320', '--users', '5', '--workers', '0'];
    expect(egym('run', ...args, '--shard', '0/2', '--out', join(dir, 's0')).code).toBe(0);
    const r = egym('merge', join(dir, 's0'), '--out', join(dir, 'm'));
    expect(r.stdout).toMatch(/merged \d+ of 4 cells .* the rest are missing/);
    expect(r.code).toBe(3);
  });

  it('demo prints the paired comparison', () => {
    const r = egym('demo', '--users', '60');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/random\s+\d/);
    expect(r.stdout).toMatch(/myopic-click \*/);
  });

  it('pipeline --out writes the report it prints with --json, with the command that regenerates it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-pipeline-'));
    const file = join(dir, 'p.json');
    const r = egym('pipeline', '--model', 'logistic', '--users', '20', '--epochs', '2', '--backend', 'cpu', '--out', file, '--json');
    expect(r.code).toBe(0);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    const printed = JSON.parse(r.stdout);
    for (const k of ['impressions', 'testAuc', 'bayesAuc', 'testLogLoss', 'watchRmse', 'backend']) expect(written[k]).toEqual(printed[k]);
    expect(written).toMatchObject({ env: 'retention-v0', model: 'logistic', users: 20, seed: 5, backend: 'cpu' });
    expect(written.command).toBe(`npx egym pipeline --env retention-v0 --model logistic --users 20 --seed 5 --epochs 2 --batch-size 128 --backend cpu --out ${file}`);
    expect(written.wallSeconds).toBeGreaterThan(0);
    const bad = egym('pipeline', '--users', '20', '--seed', '1.5', '--out', join(dir, 'bad.json'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('pipeline: --seed must be a non-negative integer (got 1.5)');
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
  });

  it('an --out that cannot be a file (a folder, or a path under a file) is refused before any work, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-out-'));
    const file = join(dir, 'file.json');
    writeFileSync(file, 'keep');
    const cases: [string[], string][] = [
      [['demo', '--users', '40', '--out', dir], `demo: --out ${dir} is a folder; give a file path`],
      [['pipeline', '--users', '20', '--out', join(file, 'x.json')], `pipeline: --out ${join(file, 'x.json')} lies under ${file}, which is a file, not a folder`],
      [['bench', 'envs', '--out', join(file, 'a', 'b.json')], `bench: --out ${join(file, 'a', 'b.json')} lies under ${file}, which is a file, not a folder`],
      [['calibrate', '--users', '40', '--out', ''], 'calibrate: --out must be a file path (got an empty string)'],
    ];
    for (const [args, message] of cases) {
      const r = egym(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      // Refused before any work: nothing printed on stdout.
      expect(r.stdout).toBe('');
    }
    expect(readFileSync(file, 'utf8')).toBe('keep');
  });

  it('demo --out writes the rows it prints with --json, and refuses a bad seed before writing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-demo-'));
    const file = join(dir, 'sub', 'demo.json');
    const r = egym('demo', '--users', '40', '--seed', '7', '--out', file, '--json');
    expect(r.code).toBe(0);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toMatchObject({ env: 'retention-v0', users: 40, seed: 7 });
    expect(written.rows).toEqual(JSON.parse(r.stdout));
    expect(written.rows.map((x: { policy: string }) => x.policy)).toEqual(['random', 'myopic-click', 'balanced']);
    const bad = egym('demo', '--users', '40', '--seed', '-1', '--out', join(dir, 'bad.json'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('demo: --seed must be a non-negative integer (got -1)');
    expect(existsSync(join(dir, 'bad.json'))).toBe(false);
  });
});

describe('one error type and its exit codes', () => {
  it('library code throws only EgymError subclasses (a static scan of agents, envs, experiments, policies)', () => {
    const root = join(import.meta.dirname, '..', '..');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    for (const d of ['agents', 'envs', 'experiments', 'policies']) walk(join(root, d));
    const src = files.map((f) => [f, readFileSync(f, 'utf8')] as const);
    // The EgymError family: EgymError and every class that extends a member, transitively.
    const family = new Set(['EgymError']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [, s] of src) {
        for (const m of s.matchAll(/class (\w+) extends (\w+)/g)) {
          if (family.has(m[2]!) && !family.has(m[1]!)) {
            family.add(m[1]!);
            grew = true;
          }
        }
      }
    }
    expect(family.has('SpecError') && family.has('ResultFileError') && family.has('IncompatibleEnv') && family.has('InvalidAction')).toBe(true);
    const bad: string[] = [];
    for (const [f, s] of src) for (const m of s.matchAll(/throw new (\w+)\(/g)) if (!family.has(m[1]!)) bad.push(`${f.slice(root.length + 1)}: ${m[1]}`);
    expect(bad).toEqual([]);
  });

  it('exit codes by spawning the CLI: 0 done, 1 run-time error, 2 usage, 3 merge with cells missing, 130 Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-exit-'));
    const spec = (name: string, seeds: number, users: number) => {
      const f = join(dir, `${name}.json`);
      writeFileSync(f, JSON.stringify({ name, env: { id: 'retention-v0' }, agents: [{ id: 'random' }], seeds, train: { userSteps: 0 }, final: { users } }));
      return f;
    };
    const quiet = egym('run', spec('ok', 1, 5), '--out', join(dir, 'ok'), '--workers', '0', '--quiet');
    expect(quiet.code).toBe(0);
    // --quiet: the output folder and nothing else (no table, no progress lines).
    expect(quiet.stdout).toBe(`${join(dir, 'ok')}\n`);
    expect(quiet.stderr).toBe('');
    // Run-time: a run folder whose only cell file was damaged after the run.
    const cells = join(dir, 'ok', 'cells');
    const cell = join(cells, readdirSync(cells)[0]!);
    writeFileSync(cell, readFileSync(cell, 'utf8').replace('"return":[', '"return":[1,'));
    const r1 = egym('report', join(dir, 'ok'));
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/does not match its content hash/);
    expect(egym('run', '--env', 'retention-v0', '--agent', 'random', '--users', 'many').code).toBe(2);
    // Ctrl-C: interrupt a run with many cells after its first one; it exits 130 and keeps the finished cells.
    const { spawn } = await import('node:child_process');
    const out = join(dir, 'slow');
    const child = spawn(process.execPath, [BIN, 'run', spec('slow', 40, 3000), '--out', out, '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/\[1\/40\]/.test(err) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(err).toMatch(/interrupted/);
    const kept = readdirSync(join(out, 'cells')).filter((f) => f.endsWith('.jsonl')).length;
    expect(kept).toBeGreaterThanOrEqual(1);
    expect(kept).toBeLessThan(40);
    // The interrupted folder merges with cells missing: exit 3.
    expect(egym('merge', out, '--out', join(dir, 'merged')).code).toBe(3);
  });
});

describe('published numbers (spawned)', () => {
  it('a complete run that misses a published number exits 4 after writing everything, and says which; within the tolerance 0; report does the same', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-published-'));
    const spec = (name: string, tolerance: number) => {
      const f = join(dir, `${name}.json`);
      writeFileSync(f, JSON.stringify({ name, env: { id: 'retention-v0' }, agents: [{ id: 'random' }, { id: 'myopic-oracle' }], seeds: 1, train: { userSteps: 0 }, final: { users: 5 }, published: { source: 'a test', tolerance, values: { random: 1000, 'myopic-oracle': 1000 } } }));
      return f;
    };
    const miss = egym('run', spec('miss', 1), '--out', join(dir, 'miss'), '--workers', '0');
    expect(miss.code).toBe(4);
    expect(miss.stderr).toMatch(/^egym: 2 of 2 published numbers not reproduced within 1: random [\d.]+ against 1000, myopic-oracle [\d.]+ against 1000$/m);
    expect(miss.stdout).toMatch(/^0 of 2 within 1 of the published /m);
    expect(existsSync(join(dir, 'miss', 'summary.json'))).toBe(true);
    expect(existsSync(join(dir, 'miss', 'report.html'))).toBe(true);
    expect(egym('report', join(dir, 'miss')).code).toBe(4);
    const hit = egym('run', spec('hit', 10000), '--out', join(dir, 'hit'), '--workers', '0');
    expect(hit.code).toBe(0);
    expect(hit.stderr).not.toMatch(/not reproduced/);
    expect(hit.stdout).toMatch(/^2 of 2 within 10000 of the published /m);
  });
});

describe('a runner killed outright', () => {
  it('SIGTERM: its worker processes end quietly at their next report, without an EPIPE stack trace on the shared terminal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-term-'));
    const f = join(dir, 'slow.json');
    writeFileSync(f, JSON.stringify({ name: 'slow', env: { id: 'retention-v0' }, agents: [{ id: 'random' }], seeds: 40, train: { userSteps: 0 }, final: { users: 3000 } }));
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [BIN, 'run', f, '--out', join(dir, 'out'), '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let afterKill = '';
    let killedAt = 0;
    // The workers write to the stderr pipe they inherited from the runner, so it closes only when they have all
    // ended too.
    const closed = new Promise<void>((resolve) => child.stderr.on('close', () => resolve()));
    child.stderr.on('data', (d: Buffer) => {
      if (killedAt) afterKill += d.toString();
      err += d.toString();
      if (!killedAt && /\[1\/40\]/.test(err)) {
        killedAt = performance.now();
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c, sig) => resolve(sig === 'SIGTERM' ? 143 : c)));
    expect(code).toBe(143);
    await closed;
    // A cell of 3000 users takes about a second: the workers end at their next progress report or result.
    expect(performance.now() - killedAt).toBeLessThan(20_000);
    expect(afterKill).not.toMatch(/EPIPE|Error|at /);
  });
});

describe('plugins from a checkout', () => {
  it('a TypeScript module given by a spec runs in the main thread and in 2 workers, equal to an in-thread run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-plugin-'));
    const spec = join(dir, 'spec.json');
    writeFileSync(spec, JSON.stringify({ name: 'plug', modules: [join(import.meta.dirname, '..', 'fixtures', 'ts-agent.ts')], env: { id: 'retention-v0' }, agents: [{ id: 'fixture-first-k' }, { id: 'random' }], seeds: 2, train: { userSteps: 0 }, final: { users: 20 } }));
    const w2 = egym('run', spec, '--workers', '2', '--out', join(dir, 'w2'), '--quiet');
    expect(w2.code, w2.stderr).toBe(0);
    const w0 = egym('run', spec, '--workers', '0', '--out', join(dir, 'w0'), '--quiet');
    expect(w0.code, w0.stderr).toBe(0);
    expect(readFileSync(join(dir, 'w2', 'summary.json'), 'utf8')).toBe(readFileSync(join(dir, 'w0', 'summary.json'), 'utf8'));
    const man = JSON.parse(readFileSync(join(dir, 'w2', 'spec.json'), 'utf8')) as { modules: string[] };
    expect(man.modules).toEqual([join(import.meta.dirname, '..', 'fixtures', 'ts-agent.ts')]);
    // Without the module the agent is unknown: exit 2 naming it.
    writeFileSync(spec, JSON.stringify({ name: 'plug', env: { id: 'retention-v0' }, agents: [{ id: 'fixture-first-k' }], seeds: 1, train: { userSteps: 0 }, final: { users: 2 } }));
    const bad = egym('run', spec, '--workers', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown agent "fixture-first-k"/);
  });
});

describe('runs built from flags', () => {
  it('--steps (vector steps) was renamed --user-steps: exit 2 with the value to use', () => {
    const r = egym('run', '--env', 'bernoulli-bandit-v0', '--agent', 'ucb1', '--seeds', '1', '--steps', '10', '--users', '4', '--workers', '0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--steps \(vector steps\) was renamed --user-steps: .*--user-steps 320/);
  });

  it('--eval-every and --eval-users give a learning curve; bad values exit 2 naming the spec field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-flags-'));
    const r = egym('run', '--env', 'bernoulli-bandit-v0', '--agent', 'ucb1', '--seeds', '1', '--user-steps', '1280', '--users', '4', '--eval-every', '320', '--eval-users', '3', '--workers', '0', '--out', join(dir, 'r'), '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const cells = join(dir, 'r', 'cells');
    const lines = readFileSync(join(cells, readdirSync(cells)[0]!), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; userSteps?: number });
    // 40 vector steps x 32 users = 1,280 user-steps: points at 0, 320, 640, 960 and 1,280.
    expect(lines.filter((l) => l.type === 'curve').map((l) => l.userSteps)).toEqual([0, 320, 640, 960, 1280]);
    const bad = egym('run', '--env', 'bernoulli-bandit-v0', '--agent', 'ucb1', '--eval-every', '100', '--eval-users', '0', '--out', join(dir, 'b'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/eval\.users/);
  });
});
