import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSpec, SpecError } from '../../experiments/spec.js';
import { expandCells, parseShard } from '../../experiments/cells.js';
import { mergeRuns, reportRun, runExperiment } from '../../experiments/experiment.js';
import {
  holm,
  iqm,
  pairedDifference,
  probabilityOfImprovement,
  probabilityOfImprovementCi,
  seedProportionInterval,
  stratifiedBootstrap,
  tCdf,
  tInterval,
  tQuantile,
  wilson,
} from '../../experiments/stats.js';
import { makeAgent } from '../../agents/index.js';
import { trainAgent } from '../../agents/loop.js';
import { makeVec } from '../../envs/registry.js';
import { evaluateAgent } from '../../experiments/evaluate.js';
import { readCells } from '../../experiments/results.js';

const tiny = (extra: Record<string, unknown> = {}) => ({
  name: 'tiny-test',
  env: { id: 'retention-v0', params: { horizonDays: 3 } },
  agents: [{ id: 'random' }, { id: 'ucb1', label: 'bandit' }],
  seeds: 2,
  train: { userSteps: 48, numEnvs: 4 },
  eval: { every: 24, users: 8 },
  final: { users: 24 },
  ...extra,
});
const tmp = () => mkdtempSync(join(tmpdir(), 'egym-exp-'));
const read = (d: string, f: string) => readFileSync(join(d, f), 'utf8');

describe('spec validation: every error names the field', () => {
  const bad = (spec: unknown, re: RegExp) => {
    expect(() => resolveSpec(spec)).toThrow(SpecError);
    expect(() => resolveSpec(spec)).toThrow(re);
  };
  it('unknown keys are errors', () => bad({ ...tiny(), agents: [{ id: 'random', parms: {} }] }, /spec: agents\[0\]\.parms: unknown key "parms" is not allowed here/));
  it('budgets count user-steps: a version-1 spec is one error saying what to rename; userSteps must fill whole vector steps', () => {
    bad({ ...tiny(), train: { steps: 12, numEnvs: 4 } }, /spec: version 1 spec: since version 2 every budget counts user-steps: rename train\.steps \(vector steps\) to train\.userSteps = steps x numEnvs \(here 12 x 4 = 48\), and set "version": 2/);
    bad({ ...tiny(), quick: { train: { steps: 3 } } }, /rename quick\.train\.steps .*\(here 3 x 4 = 12\)/);
    bad({ ...tiny(), version: 1 }, /version 1 spec/);
    bad({ ...tiny(), version: 3 }, /spec: version: /);
    bad({ ...tiny(), train: { userSteps: 50, numEnvs: 4 } }, /spec: train\.userSteps: 50 user-steps is not a multiple of train\.numEnvs = 4 \(users step together\): use 48 or 52/);
    try {
      resolveSpec({ ...tiny(), train: { steps: 12, numEnvs: 4 } });
    } catch (e) {
      expect((e as SpecError).path).toBe('train.steps');
    }
    // The same budget in both forms: the same cells (keys), so runs made before the rename resume.
    const v2 = resolveSpec({ ...tiny(), version: 2 });
    expect(v2.train).toEqual({ userSteps: 48, numEnvs: 4 });
    expect(expandCells(v2)[0]!.train).toEqual({ steps: 12, numEnvs: 4 });
  });
  it('wrong types name the path and the value', () => bad({ ...tiny(), seeds: 'five' }, /spec: seeds: .*given "five"/));
  it('missing fields', () => {
    const { final: _f, ...rest } = tiny();
    bad(rest, /spec: final: /);
  });
  it('agent params are validated under their path', () =>
    bad({ ...tiny(), agents: [{ id: 'random' }, { id: 'ppo', params: { lr: 5 } }] }, /spec: agents\[1\]\.params: agent ppo: param "lr" = 5 is out of range: allowed a number in \(0, 1\] \(default 0.00025\)/));
  it('env params and ids', () => {
    bad({ ...tiny(), env: { id: 'retention-v9' } }, /spec: env\.id: unknown env version "retention-v9"/);
    bad({ ...tiny(), env: { id: 'retention-v0', params: { horizonDays: -1 } } }, /spec: env\.params: retention-v0: param "horizonDays" = -1 is out of range/);
  });
  it('unknown agents, duplicate labels, a missing baseline', () => {
    bad({ ...tiny(), agents: [{ id: 'dqn' }] }, /spec: agents\[0\]\.id: unknown agent "dqn"/);
    bad({ ...tiny(), agents: [{ id: 'random' }, { id: 'random' }] }, /spec: agents\[1\]\.label: label "random" is used twice/);
    bad({ ...tiny(), baseline: 'nobody' }, /spec: baseline: "nobody" is not an agent label; labels: random, bandit/);
  });
  it('sweep paths and values', () => {
    bad({ ...tiny(), sweep: { grid: { 'agents[bandit].params.nope': [1] } } }, /sweep: "agents\[bandit\]\.params\.nope": agent ucb1 has no param "nope"/);
    bad({ ...tiny(), sweep: { grid: { 'env.param.x': [1] } } }, /is not a sweepable path/);
    expect(() => expandCells(resolveSpec({ ...tiny(), sweep: { grid: { 'env.params.numTopics': [5, 500] } } }))).toThrow(/sweep point \{"env.params.numTopics":500\}: retention-v0: param "numTopics" = 500 is out of range/);
  });
  it('evaluation populations must differ, and --quick needs a quick section', () => {
    bad({ ...tiny(), eval: { seed: 5 }, final: { users: 10, seed: 5 } }, /final\.seed: the final evaluation population must differ/);
    expect(() => resolveSpec(tiny(), true)).toThrow(/--quick needs a "quick" section/);
    expect(() => parseShard('3/2')).toThrow(/need 0 <= i < n/);
  });
  it('a valid spec resolves every default, and sweeps expand to cells', () => {
    const s = resolveSpec({ ...tiny(), sweep: { grid: { 'env.params.casualShare': [0.2, 0.8], 'agents[1].params.exploration': [0.5, 2] } } });
    expect(s.baseline).toBe('random');
    expect(s.agents[1]!.params.arms).toBe('auto');
    expect(expandCells(s)).toHaveLength(4 * 2 * 2);
  });
});

describe('statistics against hand-computed values', () => {
  it('Student t quantiles and CDF', () => {
    expect(tQuantile(0.975, 4)).toBeCloseTo(2.776445, 5);
    expect(tQuantile(0.975, 30)).toBeCloseTo(2.042272, 5);
    expect(tCdf(0, 7)).toBeCloseTo(0.5, 12);
    expect(tCdf(1.943180, 6)).toBeCloseTo(0.95, 5);
  });
  it('t-interval', () => {
    const ci = tInterval([1, 2, 3, 4, 5]);
    // mean 3, sd sqrt(2.5), half-width 2.776445 * sqrt(2.5) / sqrt(5)
    expect(ci.mean).toBe(3);
    expect(ci.hi - 3).toBeCloseTo((2.776445 * Math.sqrt(2.5)) / Math.sqrt(5), 5);
  });
  it('paired difference, relative change and the paired t-test p-value', () => {
    const a = [5, 7, 6, 9, 8];
    const b = [4, 6, 6, 7, 5];
    const d = pairedDifference(a, b);
    // differences 1, 1, 0, 2, 3: mean 1.4, sd sqrt(1.3), t = 1.4 / (sqrt(1.3) / sqrt(5)) = 2.7456, df 4 -> p = 0.0516
    expect(d.mean).toBeCloseTo(1.4, 12);
    expect(d.p).toBeCloseTo(0.0516, 3);
    expect(d.relative).toBeCloseTo((100 * 1.4) / 5.6, 10);
  });
  it('Holm correction and IQM', () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    expect(iqm([1, 2, 3, 4, 5, 6, 7, 100])).toBe(4.5);
  });
  it('Wilson intervals (published values: 50/100 -> [0.4038, 0.5962], 0/10 -> [0, 0.2775])', () => {
    const a = wilson(0.5, 100, 1.959964);
    expect(a.lo).toBeCloseTo(0.4038315, 6);
    expect(a.hi).toBeCloseTo(0.5961685, 6);
    const b = wilson(0, 10, 1.959964);
    expect(b.lo).toBe(0);
    expect(b.hi).toBeCloseTo(0.2775328, 6);
  });
  it('seed-level proportion intervals: Wilson at the design-effect sample size, t critical value, inside [0, 1]', () => {
    // Seeds vary less than users: deff = 1, n = 8, z = t(0.975, 1) = 12.7062: [0.006765, 0.981432].
    const a = seedProportionInterval([
      [1, 1, 0, 0],
      [1, 0, 0, 0],
    ]);
    expect(a.mean).toBe(0.375);
    expect(a.lo).toBeCloseTo(0.0067648, 5);
    expect(a.hi).toBeCloseTo(0.9814321, 5);
    // Seeds vary more: seed means 1, 0, 0.75, p = 7/12, deff = 0.270833 / (p (1 - p) / 4) = 4.457143,
    // n_eff = 12 / deff, z = t(0.975, 2) = 4.302653: [0.044223, 0.976938].
    const b = seedProportionInterval([
      [1, 1, 1, 1],
      [0, 0, 0, 0],
      [1, 1, 1, 0],
    ]);
    expect(b.lo).toBeCloseTo(0.0442232, 5);
    expect(b.hi).toBeCloseTo(0.9769376, 5);
    // The t-interval of the same seed means leaves [0, 1]; this one cannot.
    const t = tInterval([1, 0, 0.75]);
    expect(t.lo).toBeLessThan(0);
    expect(t.hi).toBeGreaterThan(1);
  });
  it("probability of improvement (rliable's P(X > Y), ties count one half) and its bootstrap CI", () => {
    expect(probabilityOfImprovement([3, 1], [2, 2])).toBe(0.5);
    expect(probabilityOfImprovement([2, 3], [2, 1])).toBe(0.875);
    const c = probabilityOfImprovementCi([5, 6, 7], [1, 2, 3], { seed: 1, reps: 200 });
    expect(c).toEqual({ p: 1, lo: 1, hi: 1 });
    const d = probabilityOfImprovementCi([1, 5, 3, 4], [2, 3, 4, 1], { seed: 1, reps: 500 });
    expect(d.lo).toBeLessThanOrEqual(d.p);
    expect(d.hi).toBeGreaterThanOrEqual(d.p);
    expect(probabilityOfImprovementCi([1, 5, 3, 4], [2, 3, 4, 1], { seed: 1, reps: 500 })).toEqual(d);
  });
  it('the bootstrap is reproducible from its seed and covers the statistic', () => {
    const x = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]];
    const a = stratifiedBootstrap(x, iqm, { seed: 3, reps: 500 });
    expect(stratifiedBootstrap(x, iqm, { seed: 3, reps: 500 })).toEqual(a);
    expect(a.lo).toBeLessThan(iqm(x[0]!));
    expect(a.hi).toBeGreaterThan(iqm(x[0]!));
  });
});

describe('runner', () => {
  it("progress counts a supervised agent's model fitting by its epochs, weighted against its logging", async () => {
    const { RunProgress } = await import('../../experiments/progress.js');
    const cells = expandCells(resolveSpec(tiny({ agents: [{ id: 'supervised', params: { logUsers: 100 } }], seeds: 1 })));
    const p = new RunProgress(cells, 10);
    const at = (setupFit: number) => {
      p.update(cells[0]!.index, { setupUserSteps: 1000, setupFit, trainUserSteps: 0, evalUserSteps: 0, evalUsers: 0 });
      return p.snapshot().fraction;
    };
    // Planned: logging 100 users x 10 steps, the fitting 3x that, 48 training user-steps, and 24 final + 3 x 8
    // learning-curve users x 10 steps: 1000 + 3000 + 48 + 480.
    const total = 1000 + 3000 + 48 + 480;
    expect(at(0)).toBeCloseTo(1000 / total, 9);
    expect(at(0.5)).toBeCloseTo(2500 / total, 9);
    expect(at(1)).toBeCloseTo(4000 / total, 9);
    expect(p.snapshot().userSteps).toBe(1000);
  });

  it('progress in user-steps: a snapshot before any cell runs, then counts that add up to what ran (0 and 2 workers); results unchanged', async () => {
    const { readCells } = await import('../../experiments/results.js');
    for (const workers of [0, 2]) {
      const snaps: import('../../experiments/progress.js').ProgressSnapshot[] = [];
      let cellsAtFirst = -1;
      const spec = tiny({ agents: [{ id: 'random' }, { id: 'q-learning' }, { id: 'supervised', params: { logUsers: 20, epochs: 1, hidden: 4 } }] });
      const d = tmp();
      const r = await runExperiment(spec, {
        workers,
        out: d,
        onProgress: (s) => {
          if (snaps.length === 0) cellsAtFirst = existsSync(join(d, 'cells')) ? readdirSync(join(d, 'cells')).length : 0;
          snaps.push(s);
        },
      });
      expect(cellsAtFirst).toBe(0);
      expect(snaps[0]!).toMatchObject({ userSteps: 0, fraction: 0, cells: 6, cellsDone: 0 });
      for (let i = 1; i < snaps.length; i++) {
        expect(snaps[i]!.userSteps).toBeGreaterThanOrEqual(snaps[i - 1]!.userSteps);
        expect(snaps[i]!.cellsDone).toBeGreaterThanOrEqual(snaps[i - 1]!.cellsDone);
        expect(snaps[i]!.fraction).toBeLessThanOrEqual(1);
      }
      // Setup (the supervised agent's logged users) and training reported before the cells finished.
      expect(snaps.some((s) => s.cellsDone === 0 && s.userSteps > 0)).toBe(true);
      const end = snaps.at(-1)!;
      expect(end).toMatchObject({ fraction: 1, cellsDone: 6, inFlight: 0 });
      // Every cell's training (48 user-steps for the two learners' 2 seeds) and every evaluated user-step is counted.
      const cells = [...readCells(d).values()];
      const evalSteps = cells.reduce((a, c) => a + c.final.users.length!.reduce((x: number, v) => x + (v ?? 0), 0), 0);
      expect(end.userSteps).toBeGreaterThan(evalSteps + 4 * 48);
      expect(end.totalUserSteps).toBe(end.userSteps);
      expect(read(d, 'summary.json')).toBe(read((await runExperiment(spec, { workers: 0, out: tmp() })).runDir, 'summary.json'));
      expect(r.complete).toBe(true);
    }
  });

  it('1 and 2 workers, processes or threads, give identical summary files', async () => {
    const d1 = tmp();
    const d2 = tmp();
    const d3 = tmp();
    const r1 = await runExperiment(tiny(), { workers: 1, out: d1 });
    await runExperiment(tiny(), { workers: 2, out: d2 });
    // Workers as threads of this process instead of child processes: the same files.
    await runExperiment(tiny(), { workers: 2, isolation: 'thread', out: d3 });
    expect(r1.complete).toBe(true);
    expect(read(d2, 'summary.json')).toBe(read(d1, 'summary.json'));
    expect(read(d3, 'summary.json')).toBe(read(d1, 'summary.json'));
    expect(read(d2, 'summary.csv')).toBe(read(d1, 'summary.csv'));
    for (const f of ['manifest.json', 'spec.json', 'report.html', 'plots/learning-curves.svg', 'plots/survival.svg', 'plots/final-return.svg']) expect(existsSync(join(d1, f))).toBe(true);
    expect(readdirSync(join(d1, 'cells'))).toHaveLength(4);
    const html = read(d1, 'report.html');
    expect(html).toContain('<svg');
    expect(html).toContain('tiny-test');
  });

  it("the report: a headline table, rliable's aggregate plots, captions in words, the manifest folded; a sweep plots each metric against its parameter", async () => {
    const d = tmp();
    await runExperiment(tiny({ sweep: { grid: { 'env.params.casualShare': [0.2, 0.5, 0.8] } } }), { workers: 0, out: d });
    const html = read(d, 'report.html');
    expect(html).toContain('<table id="headline">');
    for (const f of ['aggregate-iqm', 'performance-profile', 'probability-of-improvement', 'final-return', 'sweep-casualShare-return', 'sweep-casualShare-churned']) {
      expect(existsSync(join(d, 'plots', `${f}.svg`))).toBe(true);
      expect(html).toContain(`<figure id="${f}">`);
    }
    // Every figure has marks (paths), and its caption is words, not the file name.
    expect(read(d, 'plots/sweep-casualShare-return.svg')).toMatch(/<path[^>]+d="M/);
    expect(html).toContain('<figcaption>lifetime engagement (return) against casualShare</figcaption>');
    expect(html).toContain('<figcaption>Aggregate: interquartile mean of the return (rliable)</figcaption>');
    expect(html).not.toContain('<figcaption>final-return</figcaption>');
    expect(html).toMatch(/<details><summary>Manifest[^<]*<\/summary>\s*<pre>/);
  });

  it('shard + merge equals an unsharded run', async () => {
    const full = tmp();
    await runExperiment(tiny(), { workers: 0, out: full });
    const s0 = tmp();
    const s1 = tmp();
    const a = await runExperiment(tiny(), { workers: 0, out: s0, shard: { i: 0, n: 2 } });
    const b = await runExperiment(tiny(), { workers: 0, out: s1, shard: { i: 1, n: 2 } });
    expect(a.complete || b.complete).toBe(false);
    expect(a.ran + b.ran).toBe(4);
    const merged = join(tmp(), 'merged');
    const m = await mergeRuns([s0, s1], merged);
    expect(m.complete).toBe(true);
    expect(read(merged, 'summary.json')).toBe(read(full, 'summary.json'));
    await expect(mergeRuns([s0, (await runExperiment({ ...tiny(), name: 'other' }, { workers: 0, out: tmp(), shard: { i: 0, n: 4 } })).runDir], join(tmp(), 'x'))).rejects.toThrow(/shards of different experiments cannot be merged/);
  });

  it('resume after an interrupted run equals an uninterrupted run; corrupt and foreign files are errors', async () => {
    const full = tmp();
    await runExperiment(tiny(), { workers: 0, out: full });
    const d = tmp();
    let n = 0;
    const first = await runExperiment(tiny(), { workers: 0, out: d, stopped: () => n >= 2, onCell: () => n++ });
    expect(first.complete).toBe(false);
    expect(first.ran).toBe(4);
    expect(readdirSync(join(d, 'cells')).filter((f) => f.endsWith('.jsonl'))).toHaveLength(2);
    expect(readdirSync(join(d, 'cells')).some((f) => f.includes('.tmp'))).toBe(false);
    const second = await runExperiment(tiny(), { workers: 0, out: d });
    expect(second.skipped).toBe(2);
    expect(read(d, 'summary.json')).toBe(read(full, 'summary.json'));
    // A corrupt cell file is reported, not overwritten.
    const cellFile = join(d, 'cells', readdirSync(join(d, 'cells'))[0]!);
    writeFileSync(cellFile, '{not json');
    await expect(runExperiment(tiny(), { workers: 0, out: d })).rejects.toThrow(/result file .*has no content hash on its last line .*remove it to recompute the cell/);
    expect(readFileSync(cellFile, 'utf8')).toBe('{not json');
    // A folder of another experiment.
    await expect(runExperiment({ ...tiny(), seeds: 3 }, { workers: 0, out: full })).rejects.toThrow(/holds run run-[0-9a-f]+, a different spec/);
    const foreign = tmp();
    mkdirSync(join(foreign, 'cells'));
    writeFileSync(join(foreign, 'manifest.json'), '{"format":"something-else"}');
    await expect(runExperiment(tiny(), { workers: 0, out: foreign })).rejects.toThrow(/foreign folder/);
    // report rebuilds from the cells.
    const s = await reportRun(full);
    expect(s.groups).toHaveLength(2);
  });

  it('every cell file carries a content hash, recorded in the manifest: an edited number or a swapped file is named by resume, report and merge', async () => {
    const a = tmp();
    await runExperiment(tiny(), { workers: 0, out: a });
    const b = tmp();
    await runExperiment(tiny(), { workers: 0, out: b });
    const man = JSON.parse(read(a, 'manifest.json')) as { cells: { key: string; sha256: string }[] };
    expect(man.cells.every((c) => /^[0-9a-f]{64}$/.test(c.sha256))).toBe(true);
    const key = man.cells[0]!.key;
    const file = join(a, 'cells', `${key}.jsonl`);
    const original = readFileSync(file, 'utf8');
    expect(original.trimEnd().split('\n').pop()).toMatch(/^\{"type":"integrity","sha256":"[0-9a-f]{64}"\}$/);
    // A hand-edited number: the first per-user return changes by a little.
    const edited = original.replace(/"return":\[(-?[0-9.]+)/, (_m, v: string) => `"return":[${Number(v) + 1}`);
    expect(edited).not.toBe(original);
    writeFileSync(file, edited);
    const hashErr = new RegExp(`${key}\\.jsonl does not match its content hash .*edited or damaged`);
    await expect(runExperiment(tiny(), { workers: 0, out: a })).rejects.toThrow(hashErr);
    await expect(reportRun(a)).rejects.toThrow(hashErr);
    await expect(mergeRuns([a], tmp())).rejects.toThrow(hashErr);
    expect(readFileSync(file, 'utf8')).toBe(edited);
    // A whole valid cell file from another run of the same cell (its own hash is right, the manifest's is not).
    const other = readFileSync(join(b, 'cells', `${key}.jsonl`), 'utf8');
    expect(other).not.toBe(original); // the timing line differs
    writeFileSync(file, other);
    await expect(reportRun(a)).rejects.toThrow(/is not the file the run's manifest recorded/);
    writeFileSync(file, original);
    expect((await reportRun(a)).groups).toHaveLength(2);
  });

  it('the summary compares with the baseline over paired users and reports derived metrics', async () => {
    const d = tmp();
    const r = await runExperiment(tiny(), { workers: 0, out: d });
    const s = r.summary!;
    expect(s.baseline).toBe('random');
    const bandit = s.groups.find((g) => g.label === 'bandit')!;
    expect(bandit.vsBaseline!.return).toBeDefined();
    expect(Object.keys(bandit.metrics)).toEqual(expect.arrayContaining(['return', 'ctr', 'd1', 'd30', 'churned', 'activeDays', 'diversity', 'novelty']));
    expect(bandit.survival[0]).toBe(1);
    expect(bandit.curve).toHaveLength(3);
    const man = JSON.parse(read(d, 'manifest.json'));
    expect(man.backends).toEqual([]);
    expect(man.spec.name).toBe('tiny-test');
    expect(typeof man.seedScheme).toBe('string');
    // The resolved spec re-runs to the same run id.
    const again = await runExperiment(JSON.parse(read(d, 'spec.json')), { workers: 0, out: d });
    expect(again.skipped).toBe(4);
  });

  it("warm start: a run initialized from another run's final checkpoints starts where that run ended", async () => {
    const base = { ...tiny(), agents: [{ id: 'random' }, { id: 'q-learning', label: 'Q' }] };
    const src = tmp();
    const a = await runExperiment(base, { workers: 0, out: src, saveCheckpoints: true });
    expect(existsSync(join(src, 'checkpoints', 'Q-seed0.json'))).toBe(true);
    // No further training: the warm-started agent is evaluated as the source run left it.
    const warm = await runExperiment({ ...base, name: 'tiny-warm', train: { userSteps: 0 }, eval: { every: 0 }, warmStart: { checkpointDir: src } }, { workers: 0, out: tmp() });
    const q = (r: typeof a) => r.summary!.groups.find((g) => g.label === 'Q')!.metrics.return!.mean;
    expect(q(warm)).toBe(q(a));
    await expect(runExperiment({ ...base, name: 'tiny-warm2', warmStart: { checkpointDir: tmp() } }, { workers: 0, out: tmp() })).rejects.toThrow(/warm start: no checkpoint/);
  });

  it("an agent's explicit backend does not carry over to the later 'auto' cells of the same process", async () => {
    const ppoOnly = { ...tiny(), name: 'backend-a', seeds: 1, agents: [{ id: 'ppo', params: { numSteps: 4, hidden: 8 } }] };
    const mixed = { ...ppoOnly, name: 'backend-b', agents: [{ id: 'slateq', params: { hidden: 8, backend: 'cpu' } }, ...ppoOnly.agents] };
    const cellOf = (d: string, label: string) => {
      const c = [...readCells(d).values()].find((x) => x.cell.label === label)!;
      return { backend: c.backend, ret: c.final.users.return };
    };
    const b = tmp();
    await runExperiment(mixed, { workers: 0, out: b });
    const a = tmp();
    await runExperiment(ppoOnly, { workers: 0, out: a });
    expect(cellOf(b, 'slateq').backend).toBe('cpu');
    expect(cellOf(b, 'ppo')).toEqual(cellOf(a, 'ppo'));
    expect(cellOf(a, 'ppo').backend).not.toBe('cpu');
  });

  it('warm start from SlateQ: its replay buffer is written as a binary .ckpt through a worker process, and read back', async () => {
    const base = { ...tiny(), seeds: 1, agents: [{ id: 'slateq', params: { hidden: 8, learningStarts: 20, batchSize: 8, replaySize: 500 } }] };
    const src = tmp();
    const a = await runExperiment(base, { workers: 1, out: src, saveCheckpoints: true });
    const f = join(src, 'checkpoints', 'slateq-seed0.ckpt');
    expect(existsSync(f)).toBe(true);
    expect(readFileSync(f).subarray(0, 8).toString('latin1')).toBe('EGYMCKPT');
    const { readCheckpointFile } = await import('../../agents/index.js');
    const ck = readCheckpointFile(f) as { state: { rb: { cand: Float32Array }; size: number } };
    expect(ck.state.rb.cand).toBeInstanceOf(Float32Array);
    expect(ck.state.size).toBe(48); // every training user-step (a learned no-click value: no-click steps too)
    const warm = await runExperiment({ ...base, name: 'tiny-warm-slateq', train: { userSteps: 0 }, eval: { every: 0 }, warmStart: { checkpointDir: src } }, { workers: 0, out: tmp() });
    const r = (x: typeof a) => x.summary!.groups.find((g) => g.label === 'slateq')!.metrics.return!.mean;
    expect(r(warm)).toBe(r(a));
    // export-policy reads a .ckpt too, and says what it holds.
    const { spawnSync } = await import('node:child_process');
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'egym.mjs');
    const ex = spawnSync(process.execPath, [bin, 'export-policy', f, '--out', join(src, 'policy')], { encoding: 'utf8', timeout: 60_000 });
    expect(ex.status).toBe(2);
    expect(ex.stderr).toMatch(/is a checkpoint of agent slateq; only ppo has one policy network to export/);
  });
});

describe('multi-objective reward', () => {
  it('the shaping wrapper trains on the weighted mix: retention pays 1 per new active day, diversity the share of distinct-topic pairs', async () => {
    const { RewardShaping } = await import('../../experiments/run-cell.js');
    const { makeAgent } = await import('../../agents/index.js');
    const { trainAgent } = await import('../../agents/loop.js');
    const { makeVec } = await import('../../envs/registry.js');
    const inner = await makeAgent('random', {}, { envId: 'retention-v0', seed: 0 });
    const seen: number[] = [];
    (inner as unknown as { observe: (t: { rewards: Float64Array }) => void }).observe = (t) => seen.push(...t.rewards);
    const shaped = new RewardShaping(inner, { engagement: 0, retention: 1, diversity: 0, novelty: 0 }).wrap();
    const newDays: number[] = [];
    const env = makeVec('retention-v0', {}, { numEnvs: 4 });
    trainAgent(shaped, env, {
      steps: 300,
      seed: 1,
      onStep: (t) => {
        for (let s = 0; s < 4; s++) newDays.push(!t.finalMask[s] && Math.floor(t.next.user[s * env.layout.U]!) > Math.floor(t.obs.user[s * env.layout.U]!) ? 1 : 0);
      },
    });
    expect(seen).toEqual(newDays);
    expect(newDays.some((x) => x === 1)).toBe(true);
    const seen2: number[] = [];
    (inner as unknown as { observe: (t: { rewards: Float64Array }) => void }).observe = (t) => seen2.push(...t.rewards);
    trainAgent(new RewardShaping(inner, { engagement: 0, retention: 0, diversity: 1, novelty: 0 }).wrap(), makeVec('retention-v0', {}, { numEnvs: 4 }), { steps: 50, seed: 2 });
    for (const r of seen2) expect(r >= 0 && r <= 1).toBe(true);
    expect(new Set(seen2).size).toBeGreaterThan(1);
  });
});

describe('shipped specs', () => {
  /** The raw specs of one folder under experiments/, with their file names. */
  const loadSpecs = (d: string) => {
    const root = join(import.meta.dirname, '..', '..', 'experiments', d);
    return readdirSync(root).filter((f) => f.endsWith('.json')).map((f) => ({ f, raw: JSON.parse(readFileSync(join(root, f), 'utf8')) }));
  };
  it('every spec under experiments/specs validates, expands to cells, and has a quick variant', async () => {
    const { REPRODUCTIONS } = await import('../../experiments/cli.js');
    const specs = loadSpecs('specs');
    expect(specs.map(({ f }) => f).sort()).toEqual(Object.values(REPRODUCTIONS).sort());
    for (const { raw } of specs) {
      expect(expandCells(resolveSpec(raw)).length).toBeGreaterThan(0);
      expect(expandCells(resolveSpec(raw, true)).length).toBeGreaterThan(0);
    }
  });

  it('every tuning spec (experiments/tuning) validates and tunes on other seeds and users than every shipped spec of its env', () => {
    const tuning = loadSpecs('tuning');
    expect(tuning.length).toBeGreaterThan(0);
    const shipped = loadSpecs('specs').flatMap(({ f, raw }) => [resolveSpec(raw), ...(raw.quick ? [resolveSpec(raw, true)] : [])].map((r) => ({ f, r })));
    for (const { f, raw } of tuning) {
      const t = resolveSpec(raw);
      expect(expandCells(t).length, f).toBeGreaterThan(0);
      for (const { f: g, r } of shipped) {
        if (r.env.id !== t.env.id) continue;
        expect(t.seeds.filter((x) => r.seeds.includes(x)), `${f} shares training seeds with ${g}`).toEqual([]);
        expect([t.eval.seed, t.final.seed].filter((x) => [r.eval.seed, r.final.seed].includes(x)), `${f} shares held-out users with ${g}`).toEqual([]);
      }
    }
  });

  it('every replication spec (experiments/replication) adds training seeds to a shipped spec of its env, on its held-out users', () => {
    const replication = loadSpecs('replication');
    expect(replication.length).toBeGreaterThan(0);
    const shipped = loadSpecs('specs').map(({ f, raw }) => ({ f, r: resolveSpec(raw) }));
    for (const { f, raw } of replication) {
      const t = resolveSpec(raw);
      expect(expandCells(t).length, f).toBeGreaterThan(0);
      // The shipped specs it extends: the same env, world, budget and held-out users.
      const same = shipped.filter(({ r }) => r.env.id === t.env.id && JSON.stringify(r.env.params) === JSON.stringify(t.env.params) && r.final.seed === t.final.seed && r.final.users === t.final.users && r.train.userSteps === t.train.userSteps);
      expect(same.length, `${f} extends no shipped spec (same env, world, budget and held-out users)`).toBeGreaterThan(0);
      for (const { f: g, r } of same) expect(t.seeds.filter((x) => r.seeds.includes(x)), `${f} repeats training seeds of ${g}`).toEqual([]);
    }
  });
});

describe('probe scripts read their counts strictly', () => {
  it('scriptCount: the default when absent, an integer of at least 1 when given, else an InvalidArgument naming the flag', async () => {
    const { scriptCount } = await import('../../experiments/script-args.js');
    const { InvalidArgument } = await import('../../envs/errors.js');
    const argv = process.argv;
    const withArgs = (...a: string[]) => (process.argv = [...argv.slice(0, 2), ...a]);
    try {
      withArgs();
      expect(scriptCount('users', 1000)).toBe(1000);
      withArgs('--users', '250', '--seeds', '3');
      expect([scriptCount('users', 1000), scriptCount('seeds', 5)]).toEqual([250, 3]);
      for (const bad of ['0', '-2', '2.5', 'x', '']) {
        withArgs('--seeds', bad);
        expect(() => scriptCount('seeds', 5)).toThrow(InvalidArgument);
        expect(() => scriptCount('seeds', 5)).toThrow(`--seeds must be an integer of at least 1 (got ${bad})`);
      }
    } finally {
      process.argv = argv;
    }
  });
});

describe('seed-level summary', () => {
  /** A maker of synthetic cells (given per-user returns, every other column empty), numbered in order. */
  const cellMaker = async () => {
    const { USER_COLUMNS } = await import('../../experiments/metrics.js');
    let index = 0;
    return (label: string, seed: number, returns: number[], untrained?: number) => {
      const users = {} as Record<string, (number | null)[]>;
      for (const k of [...USER_COLUMNS, 'diversity']) users[k] = returns.map(() => null);
      users.return = returns;
      users.length = returns.map(() => 10);
      return {
        cell: { index: index++, pointIndex: 0, point: {}, label, agentId: label, oracle: label === 'ceil', seed },
        curve: untrained === undefined ? [] : [{ userSteps: 0, means: { return: untrained } }],
        final: { users, sessionLengths: [], returnGaps: [], coverage: null, interestTrace: [] },
      };
    };
  };

  it('pairs over seeds on the same users, and normalizes by floor and ceiling per seed (hand-computed)', async () => {
    const { summarize } = await import('../../experiments/summary.js');
    const cell = await cellMaker();
    // Seeds 0, 1, 2; two users each. Per-seed means: floor 10, 20, 30; ceiling 110, 120, 130;
    // agent 60, 45, 80 -> normalized 0.5, 0.25, 0.5; differences with the baseline (floor) 50, 25, 50.
    const cells = [0, 1, 2].flatMap((s) => [
      cell('floor', s, [10 * (s + 1) - 5, 10 * (s + 1) + 5]),
      cell('ceil', s, [100 + 10 * (s + 1), 100 + 10 * (s + 1)]),
      cell('agent', s, [[60, 45, 80][s]! - 1, [60, 45, 80][s]! + 1], 12 + s),
    ]);
    const spec = { name: 'x', env: { id: 'retention-v1', params: {} }, baseline: 'floor', floor: 'floor', ceiling: 'ceil' } as never;
    const sum = summarize(spec, cells as never);
    const a = sum.groups.find((g) => g.label === 'agent')!;
    const ci3 = (x: number[]) => tInterval(x);
    const n = ci3([0.5, 0.25, 0.5]);
    expect(a.normalized!.mean).toBeCloseTo(n.mean, 12);
    expect(a.normalized!.lo).toBeCloseTo(n.lo, 12);
    const d = pairedDifference([60, 45, 80], [10, 20, 30]);
    const c = a.vsBaseline!.return!;
    expect(c.diff).toBeCloseTo(125 / 3, 10);
    expect(c.lo).toBeCloseTo(d.lo, 10);
    expect(c.p).toBeCloseTo(d.p, 12);
    // Every agent seed beats every floor seed.
    expect(c.poi).toBe(1);
    expect(a.untrained!.mean).toBeCloseTo(13, 12);
    expect(sum.groups.find((g) => g.label === 'ceil')!.normalized!.mean).toBeCloseTo(1, 12);
    expect(sum.groups.find((g) => g.label === 'floor')!.normalized!.mean).toBe(0);
  });

  it('keeps the per-seed values, and egym compare pairs any two agents by seed from them (hand-computed, and equal to the baseline comparison)', async () => {
    const { summarize, summaryJson } = await import('../../experiments/summary.js');
    const { compareGroups, comparisonText } = await import('../../experiments/compare.js');
    const cell = await cellMaker();
    // Per-seed means: floor 10, 20, 30; ceiling 110, 120, 130; a 60, 45, 80; b 50, 50, 70; the b cell of
    // seed 2 is missing (b has seeds 0 and 1 only).
    const cells = [0, 1, 2].flatMap((s) => [
      cell('floor', s, [10 * (s + 1) - 5, 10 * (s + 1) + 5]),
      cell('ceil', s, [100 + 10 * (s + 1), 100 + 10 * (s + 1)]),
      cell('a', s, [[60, 45, 80][s]! - 1, [60, 45, 80][s]! + 1]),
      ...(s < 2 ? [cell('b', s, [[50, 50][s]! - 3, [50, 50][s]! + 3])] : []),
    ]);
    const spec = { name: 'x', env: { id: 'retention-v1', params: {} }, baseline: 'floor', floor: 'floor', ceiling: 'ceil' } as never;
    // Through JSON, as the command reads it.
    const sum = JSON.parse(summaryJson(summarize(spec, cells as never)));
    const a = sum.groups.find((g: { label: string }) => g.label === 'a');
    expect(a.metrics.return.perSeed).toEqual([60, 45, 80]);
    expect(a.normalized.perSeed).toEqual([0.5, 0.25, 0.5]);
    // a against b: seeds 0 and 1 only, differences +10 and -5.
    const ab = compareGroups(sum, 'a', 'b');
    expect(ab.seeds).toEqual([0, 1]);
    expect(ab.aValues).toEqual([60, 45]);
    expect(ab.bValues).toEqual([50, 50]);
    const d = pairedDifference([60, 45], [50, 50]);
    expect(ab.diff).toBeCloseTo(2.5, 12);
    expect([ab.lo, ab.hi, ab.p]).toEqual([d.lo, d.hi, d.p]);
    expect(ab.relative).toBeCloseTo(5, 12);
    expect(ab.poi).toBeCloseTo(0.5, 12);
    // Against the baseline it is the summary's own paired comparison.
    const af = compareGroups(sum, 'a', 'floor');
    const c = a.vsBaseline.return;
    expect([af.diff, af.lo, af.hi, af.p, af.poi, af.poiLo, af.poiHi]).toEqual([c.diff, c.lo, c.hi, c.p, c.poi, c.poiLo, c.poiHi]);
    expect(compareGroups(sum, 'a', 'ceil', { metric: 'normalized' }).diff).toBeCloseTo((0.5 + 0.25 + 0.5) / 3 - 1, 12);
    expect(comparisonText(ab)).toContain('mean difference +2.5 [');
    // Errors name the field and what is allowed.
    expect(() => compareGroups(sum, 'a', 'nobody')).toThrow(/b: no agent labelled "nobody" in experiment x; its labels: floor, ceil, a, b/);
    expect(() => compareGroups(sum, 'a', 'a')).toThrow(/b: compare an agent with another one/);
    expect(() => compareGroups(sum, 'a', 'b', { metric: 'clicks' })).toThrow(/metric: "clicks" is not in this summary; allowed: normalized, return/);
    expect(() => compareGroups(sum, 'a', 'b', { point: 3 })).toThrow(/point: the run has sweep points 0; got 3/);
    // A summary written before per-seed values were kept.
    const old = structuredClone(sum);
    for (const g of old.groups) for (const m of Object.values(g.metrics) as { perSeed?: number[] }[]) delete m.perSeed;
    expect(() => compareGroups(old, 'a', 'b')).toThrow(/no per-seed values .* egym report <run folder> where the run.s cells are kept, or rerun the spec/);
  });
});

describe('floor and ceiling in specs', () => {
  it('default to the agents with ids random and ceiling-oracle, name an agent label, and survive the written spec', async () => {
    const { specToJson } = await import('../../experiments/results.js');
    const base = { name: 'fc', env: { id: 'retention-v1' }, seeds: 2, train: { userSteps: 0 }, final: { users: 2 } };
    const d = resolveSpec({ ...base, agents: [{ id: 'random' }, { id: 'ceiling-oracle', label: 'top' }, { id: 'ucb1' }] });
    expect([d.floor, d.ceiling]).toEqual(['random', 'top']);
    expect(specToJson(d).floor).toBeUndefined();
    const n = resolveSpec({ ...base, agents: [{ id: 'random' }, { id: 'ucb1', label: 'bandit' }, { id: 'myopic-oracle' }], floor: 'bandit', ceiling: 'myopic-oracle' });
    const back = resolveSpec(specToJson(n));
    expect([back.floor, back.ceiling]).toEqual(['bandit', 'myopic-oracle']);
    expect(resolveSpec({ ...base, agents: [{ id: 'ucb1' }] }).floor).toBeNull();
    expect(() => resolveSpec({ ...base, agents: [{ id: 'random' }], ceiling: 'nobody' })).toThrow(/spec: ceiling: "nobody" is not an agent label; labels: random/);
    expect(() => resolveSpec({ ...base, agents: [{ id: 'random' }], ceiling: 'random' })).toThrow(/spec: ceiling: the ceiling must differ from the floor/);
  });
});

describe('summary CSV', () => {
  it('quotes the sweep point as RFC 4180 (doubled quotes), so a point with two parameters stays one field', async () => {
    const { summaryCsv } = await import('../../experiments/summary.js');
    const csv = summaryCsv({
      experiment: 'x',
      env: 'e',
      baseline: 'a',
      floor: null,
      ceiling: null,
      horizonDays: null,
      metrics: [{ key: 'return', label: 'return' }],
      groups: [
        {
          point: { 'env.params.a': 1, 'agents[0].params.b': 'q' },
          pointIndex: 0,
          label: 'a',
          agentId: 'random',
          oracle: false,
          seeds: [0],
          metrics: { return: { mean: 1, lo: 0, hi: 2, iqm: 1, iqmLo: 0, iqmHi: 2, perSeed: [1] } },
          vsBaseline: null,
          normalized: null,
          untrained: null,
          extras: { sessionLength: 0, returnGap: 0, coverage: 0 },
          curve: [],
          survival: [],
        },
      ],
    });
    const row = csv.trim().split('\n')[1]!;
    expect(row.startsWith('"{""env.params.a"":1,""agents[0].params.b"":""q""}",a,random,false,return,1,0,2,')).toBe(true);
    // Parsed back as RFC 4180: every row has the header's column count and the point survives.
    const { csvParseRows } = await import('d3-dsv');
    const rows = csvParseRows(csv.trim());
    for (const r of rows) expect(r.length).toBe(rows[0]!.length);
    expect(JSON.parse(rows[1]![0]!)).toEqual({ 'env.params.a': 1, 'agents[0].params.b': 'q' });
    expect(rows[1]!.slice(1, 5)).toEqual(['a', 'random', 'false', 'return']);
  });
});

describe('training logs', () => {
  it("each cell keeps every update's scalars (CleanRL's names for PPO, windowed, no clock), identical for 0 and 2 workers; the report plots them", async () => {
    const spec = tiny({ name: 'tiny-log', agents: [{ id: 'random' }, { id: 'ppo', params: { numSteps: 4, hidden: 8, numMinibatches: 2, updateEpochs: 1 } }], seeds: 1, train: { userSteps: 160, numEnvs: 4 } });
    const logs = async (workers: number) => {
      const d = tmp();
      await runExperiment(spec, { workers, out: d });
      const cells = readdirSync(join(d, 'cells')).map((f) => JSON.parse(read(join(d, 'cells'), f).trim().split('\n')[0]!));
      const ppo = cells.find((c) => c.cell.label === 'ppo');
      const rnd = cells.find((c) => c.cell.label === 'random');
      const full = read(join(d, 'train-logs'), `${ppo.key}.jsonl`).trim().split('\n').map((l) => JSON.parse(l) as { label: string; update: number; userSteps: number; metrics: Record<string, number> });
      const timingOf = (key: string) => read(join(d, 'cells'), readdirSync(join(d, 'cells')).find((f) => f.startsWith(key))!).trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'timing');
      return { d, ppo: ppo.train.log as { userSteps: number; updates: number; metrics: Record<string, number> }[], rnd: rnd.train.log, full, rndFull: existsSync(join(d, 'train-logs', `${rnd.key}.jsonl`)), sps: timingOf(ppo.key).sps as { userSteps: number; sps: number }[], rndSps: timingOf(rnd.key).sps };
    };
    const a = await logs(0);
    // 40 vector steps, an update every 4: 10 updates, one per window (window = ceil(40 / 200) = 1 step).
    expect(a.ppo).toHaveLength(10);
    expect(a.ppo[0]!.userSteps).toBe(4 * 4);
    expect(a.ppo.at(-1)!.userSteps).toBe(40 * 4);
    for (const k of ['policy_loss', 'value_loss', 'entropy', 'approx_kl', 'clipfrac', 'explained_variance', 'learning_rate']) expect(Object.keys(a.ppo[0]!.metrics)).toContain(k);
    for (const p of a.ppo) for (const k of Object.keys(p.metrics)) expect(k).not.toMatch(/sps|time|sec/i);
    expect(a.rnd ?? []).toEqual([]);
    // Every update, unaveraged, as JSON lines in train-logs/<cell key>.jsonl.
    expect(a.full.map((u) => [u.label, u.update, u.userSteps])).toEqual(Array.from({ length: 10 }, (_, i) => ['ppo', i + 1, 16 * (i + 1)]));
    expect(a.full[3]!.metrics).toEqual(a.ppo[3]!.metrics);
    expect(a.rndFull).toBe(false);
    expect(existsSync(join(a.d, 'plots', 'training-ppo.svg'))).toBe(true);
    expect(read(a.d, 'report.html')).toContain('Training diagnostics of ppo');
    // CleanRL's SPS, from the clock, stays in the cell's timing line (never in the log or the summary) and is plotted.
    expect(a.sps.map((p) => p.userSteps)).toEqual(a.ppo.map((p) => p.userSteps));
    expect(a.sps.every((p) => p.sps > 0 && Number.isFinite(p.sps))).toBe(true);
    expect(a.rndSps).toBeUndefined();
    expect(read(join(a.d, 'plots'), 'training-ppo.svg')).toContain('SPS (wall clock)');
    expect(read(a.d, 'summary.json')).not.toMatch(/sps/i);
    const b = await logs(2);
    expect(b.ppo).toEqual(a.ppo);
    expect(b.full).toEqual(a.full);
  });
});

describe('generic metrics read named features, not retention-v0 offsets', () => {
  it('a multi-session env with another user-feature layout gets the same session metrics as retention-v0 (no edit outside its file)', async () => {
    const { register, envSpec } = await import('../../envs/registry.js');
    const { RetentionSim, retentionV0Env } = await import('../../envs/retention.js');
    const { observationSpaceOf } = await import('../../envs/core.js');
    const base = retentionV0Env;
    // retention-v0 with its four leading scalar user features (day, session, step in session, days since the last
    // session) moved to the end of the user row, in reverse order.
    class Shuffled {
      readonly inner: InstanceType<typeof RetentionSim>;
      readonly layout: import('../../envs/core.js').Layout;
      readonly user: Float32Array;
      readonly perm: number[];
      constructor(B: number, p: import('../../envs/retention.js').RetentionParams) {
        this.inner = new RetentionSim(B, p);
        const L = this.inner.layout;
        const U = L.U;
        this.perm = [...Array.from({ length: U - 4 }, (_, i) => i + 4), 3, 2, 1, 0]; // new column j reads old perm[j]
        const where = (old: number) => this.perm.indexOf(old);
        this.layout = { ...L, userFeatures: L.userFeatures.map((f) => ({ ...f, offset: f.offset < 4 ? where(f.offset) : f.offset - 4 })) };
        this.user = new Float32Array(B * U);
      }
      get B() { return this.inner.B; }
      get candidates() { return this.inner.candidates; }
      get itemIds() { return this.inner.itemIds; }
      get rewards() { return this.inner.rewards; }
      get clicked() { return this.inner.clicked; }
      get episodeStatNames() { return this.inner.episodeStatNames; }
      private copy(s: number) {
        const U = this.layout.U;
        for (let j = 0; j < U; j++) this.user[s * U + j] = this.inner.user[s * U + this.perm[j]!]!;
      }
      setPopulation(seed: number) { this.inner.setPopulation(seed); }
      resetSlot(s: number, u: number) { this.inner.resetSlot(s, u); this.copy(s); }
      stepSlot(s: number, a: Int32Array, o: number) { const st = this.inner.stepSlot(s, a, o); this.copy(s); return st; }
      info(s: number) { return this.inner.info(s); }
      hidden(names?: readonly string[], active?: Uint8Array) { return this.inner.hidden(names, active); }
      episodeStats(s: number, out: Float64Array, o: number) { this.inner.episodeStats(s, out, o); }
    }
    register({
      ...base,
      id: 'retention-shuffled-v0',
      description: 'retention-v0 with another user-feature layout (test)',
      createSim: (B, p) => new Shuffled(B, p) as never,
      observationSpace: (_p, l) => observationSpaceOf(l, -Infinity, Infinity, -Infinity, Infinity),
    });
    const a = await makeAgent('random', {}, { envId: 'retention-v0', seed: 3 });
    const b = await makeAgent('random', {}, { envId: 'retention-shuffled-v0', seed: 3 });
    const x = evaluateAgent('retention-v0', {}, a, { users: 60, seed: 11 });
    const y = evaluateAgent('retention-shuffled-v0', {}, b, { users: 60, seed: 11 });
    expect(x.sessionLengths.length).toBeGreaterThan(60);
    expect(y.sessionLengths).toEqual(x.sessionLengths);
    expect(y.returnGaps).toEqual(x.returnGaps);
    expect(Array.from(y.firstSessionCtr)).toEqual(Array.from(x.firstSessionCtr));
    expect(Array.from(y.lastDay)).toEqual(Array.from(x.lastDay));
    expect(Array.from(y.return)).toEqual(Array.from(x.return));
    // The retention bonus of reward shaping reads the named day feature too.
    const { RewardShaping } = await import('../../experiments/run-cell.js');
    const bonus = async (envId: string) => {
      let total = 0;
      const inner = await makeAgent('random', {}, { envId, seed: 1 });
      (inner as { observe?: (t: import('../../agents/api.js').Transitions) => void }).observe = (t) => t.rewards.forEach((r) => (total += r));
      trainAgent(new RewardShaping(inner, { engagement: 0, retention: 1, diversity: 0, novelty: 0 }).wrap(), makeVec(envId, {}, { numEnvs: 4 }), { steps: 300, seed: 2 });
      return total;
    };
    const bx = await bonus('retention-v0');
    expect(bx).toBeGreaterThan(0);
    expect(await bonus('retention-shuffled-v0')).toBe(bx);
  });
});

describe('checkpoints: load one, evaluate it, export its policy', () => {
  it("a saved PPO checkpoint rebuilds the agent (makeAgent + load), evaluates to the run's own final results, and egym export-policy writes model.json + weights.bin", async () => {
    const d = mkdtempSync(join(tmpdir(), 'egym-ck-'));
    const spec = { name: 'ck', env: { id: 'retention-v0', params: { horizonDays: 3 } }, agents: [{ id: 'ppo', params: { numSteps: 8, hidden: 8 } }], seeds: 1, train: { userSteps: 64, numEnvs: 4 }, final: { users: 12, seed: 77 } };
    const r = await runExperiment(spec, { workers: 0, out: d, saveCheckpoints: true });
    const file = join(d, 'checkpoints', 'ppo-seed0.json');
    // As the README loads one.
    const ck = (await import('../../agents/index.js')).readCheckpointFile(file);
    expect(ck.envParams).toMatchObject({ horizonDays: 3 });
    const agent = await makeAgent(ck.agent, ck.params, { envId: ck.envId, envParams: ck.envParams, seed: ck.seed });
    agent.load(ck);
    const again = evaluateAgent(ck.envId, ck.envParams, agent, { users: 12, seed: 77 });
    const cell = readCells(d).values().next().value!;
    expect(Array.from(again.return)).toEqual(cell.final.users.return);
    expect(r.summary!.groups[0]!.metrics.return!.mean).toBeCloseTo(Array.from(again.return).reduce((a, b) => a + b, 0) / 12, 9);
    (agent as { dispose?: () => void }).dispose?.();
    const { spawnSync } = await import('node:child_process');
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'egym.mjs');
    const ex = spawnSync(process.execPath, [bin, 'export-policy', file, '--out', join(d, 'policy')], { encoding: 'utf8', timeout: 60_000 });
    expect(ex.status, ex.stderr).toBe(0);
    expect(existsSync(join(d, 'policy', 'model.json')) && existsSync(join(d, 'policy', 'weights.bin'))).toBe(true);
    const notPpo = spawnSync(process.execPath, [bin, 'export-policy', join(d, 'manifest.json'), '--out', join(d, 'x')], { encoding: 'utf8', timeout: 60_000 });
    expect(notPpo.status).toBe(2);
    expect(notPpo.stderr).toMatch(/is not an engagement-gym agent checkpoint/);
  });
});

describe('memory checked before a run allocates', () => {
  it('a run whose largest cell x workers exceeds the budget stops before any cell runs, naming the field, the estimate and the limit', async () => {
    const d = mkdtempSync(join(tmpdir(), 'egym-mem-'));
    const spec = { name: 'mem', env: { id: 'retention-v0' }, agents: [{ id: 'random' }, { id: 'slateq', params: { replaySize: 100_000_000 } }], seeds: 2, train: { userSteps: 4, numEnvs: 4 }, final: { users: 4 } };
    await expect(runExperiment(spec, { workers: 2, out: d, memoryBudget: 64 * 2 ** 30 })).rejects.toThrow(
      /agents\[1\]\.params\.replaySize = 100000000 \(cell slateq\) needs about [\d.]+ GiB; the run needs about [\d.]+ GiB \([\d.]+ GiB per cell x 2 at once\), above the memory budget of 64\.00 GiB/,
    );
    expect(existsSync(join(d, 'cells'))).toBe(false);
    expect(existsSync(join(d, 'spec.json'))).toBe(false);
    // The same spec with a small replay fits; a tiny budget names the largest part of the largest cell.
    const ok = { ...spec, agents: [{ id: 'random' }, { id: 'slateq', params: { replaySize: 1000 } }] };
    await expect(runExperiment(ok, { workers: 0, out: join(d, 'small'), memoryBudget: 1 })).rejects.toThrow(/MiB|GiB/);
    const r = await runExperiment({ ...ok, agents: [{ id: 'random' }] }, { workers: 0, out: join(d, 'fits'), memoryBudget: 2 ** 30 });
    expect(r.complete).toBe(true);
    const { exitCodeOf } = await import('../../envs/errors.js');
    const e = await runExperiment(spec, { workers: 2, out: d, memoryBudget: 2 ** 30 }).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('MEMORY_BUDGET');
    expect(exitCodeOf(e)).toBe(2);
  });
  it('the deep agents\' history features and item columns widen the rows their buffers hold', async () => {
    const { cellMemory } = await import('../../experiments/memory.js');
    const spec = resolveSpec({
      name: 'mem-history',
      env: { id: 'retention-v0' },
      agents: [
        { id: 'slateq', params: { replaySize: 1000 } },
        { id: 'slateq', label: 'c', params: { replaySize: 1000, consumedHistory: true } },
        { id: 'ppo', params: { numSteps: 10 } },
        { id: 'ppo', label: 'h', params: { numSteps: 10, episodeHistory: true, consumedHistory: true } },
        { id: 'slateq', label: 'i', params: { replaySize: 1000, itemFeedback: true } },
        { id: 'ppo', label: 'j', params: { numSteps: 10, itemFeedback: true } },
        { id: 'ppo', label: 'k', params: { numSteps: 10, itemFeedback: true, consumedHistory: true, consumedItemStats: true } },
        { id: 'reinforce-topk', label: 'r', params: { mode: 'online', updateSteps: 100 } },
        { id: 'reinforce-topk', label: 'ri', params: { mode: 'online', updateSteps: 100, itemFeedback: true } },
        { id: 'reinforce-topk', label: 'rb', params: { mode: 'online', updateSteps: 1e6 } },
      ],
      seeds: 1,
      train: { userSteps: 4, numEnvs: 4 },
      final: { users: 4 },
    });
    const cells = expandCells(spec);
    const part = (i: number) => cellMemory(cells.find((c) => c.agentIndex === i)!).at(-1)!.bytes;
    // retention-v0: U 49, F 13; consumed-item columns 2F + 1 = 27, episode-history columns U + 1 = 50.
    expect(part(1) - part(0)).toBe(1000 * 2 * 27 * 4);
    expect(part(3) - part(2)).toBe(10 * 4 * (27 + 50) * 4 * 2);
    // Item columns (item ids and a length feature): 4 per candidate, N 20.
    expect(part(4) - part(0)).toBe(1000 * 2 * 20 * 4 * 4);
    expect(part(5) - part(2)).toBe(10 * 4 * 20 * 4 * 4 * 2);
    // A saved checkpoint copies the replay buffer and serializes it: three times the buffer, for SlateQ only.
    const withCk = (i: number) => cellMemory(cells.find((c) => c.agentIndex === i)!, { saveCheckpoints: true });
    expect(withCk(4).at(-1)).toEqual({ field: 'agents[4].params.replaySize', value: 1000, bytes: 3 * part(4) });
    expect(withCk(2).at(-1)!.bytes).toBe(part(2));
    // consumedItemStats: the consumed-item averages cover the 4 item columns too (2 x 4 more).
    expect(part(6) - part(5)).toBe(10 * 4 * (27 + 2 * 4) * 4 * 2);
    // Online REINFORCE: the consumed steps' rows of at most updateSteps + 1,000 steps per training slot, never
    // more than the training steps (4 here), each with its minibatch copy.
    expect(cellMemory(cells.find((c) => c.agentIndex === 7)!).at(-1)).toEqual({ field: 'agents[7].params.updateSteps', value: 100, bytes: 4 * (49 + 20 * 13 + 8) * 4 * 2 });
    expect(part(8) - part(7)).toBe(4 * 20 * 4 * 4 * 2);
    expect(part(9)).toBe(part(7));
  });
});

describe('scheduling', () => {
  it('cells are dispatched longest expected first (the learners of the flagship before its heuristics), stable in cell order', async () => {
    const { longestFirst } = await import('../../experiments/pool.js');
    const spec = resolveSpec(JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'experiments', 'specs', 'flagship.json'), 'utf8')));
    const order = longestFirst(expandCells(spec));
    const tf = new Set(['supervised', 'ppo', 'slateq', 'reinforce-topk']);
    const firstCheap = order.findIndex((c) => !tf.has(c.agentId));
    // supervised, ppo, slateq, ppo-day, slateq-day, ppo-items, slateq-items, ppo-items-tuned, reinforce-items and
    // ppo-items-wide, 5 seeds each.
    expect(firstCheap).toBe(50);
    expect(order.slice(firstCheap).every((c) => !tf.has(c.agentId))).toBe(true);
    // Equal costs keep the cell order.
    const seeds = order.filter((c) => c.agentId === 'random').map((c) => c.index);
    expect(seeds).toEqual([...seeds].sort((a, b) => a - b));
  });
  it('bench scaling splits a speedup into worker utilization and contention (speedup = workers x utilization ratio / contention)', async () => {
    const { scalingRows } = await import('../../experiments/bench-scaling.js');
    // 1 worker: 100 s runs with 95 cell-seconds; 2 workers: 60 s runs whose cells took 110 s in all (they ran
    // 110 / 95 = 1.16x slower side by side) while the workers were busy 110 / 120 of the run.
    const runs = new Map([
      ['local:1', [{ seconds: 100, cellSeconds: 95 }, { seconds: 110, cellSeconds: 104.5 }]],
      ['local:2', [{ seconds: 60, cellSeconds: 110 }, { seconds: 66, cellSeconds: 121 }]],
    ]);
    // The probe loop: 1.0 s alone, 1.1 and 1.2 s as two copies side by side (median 1.15: the cores' own 1.15x).
    const probe = { kernel: 'k', alone: [1.0, 1.0], sideBySide: { '2': [1.1, 1.2, 1.2, 1.1] } };
    const [one, two] = scalingRows(runs, 32, [1, 2], [], probe);
    expect(one!.coreSlowdown).toBeNull();
    expect(two!.coreSlowdown).toBe(1.15);
    expect(two!.coreCeiling).toBe(1.74);
    expect(scalingRows(runs, 32, [1, 2], [])[1]!.coreSlowdown).toBeNull();
    // The memory probe the same way: 2.0 s alone, 2.8 s side by side (1.4x), in its own column.
    const memory = { kernel: 'm', alone: [2.0, 2.0], sideBySide: { '2': [2.8, 2.8, 2.8, 2.8] } };
    const withMemory = scalingRows(runs, 32, [1, 2], [], probe, 0, memory);
    expect(withMemory[0]!.memorySlowdown).toBeNull();
    expect(withMemory[1]!.memorySlowdown).toBe(1.4);
    expect(withMemory[1]!.coreSlowdown).toBe(1.15);
    expect(two!.memorySlowdown).toBeNull();
    // Without CPU times there are no cores-busy columns; with them, 1 worker kept 1.1 cores busy (110 and 121 CPU s),
    // so 2 workers on 2 cores can be at most 2 / 1.1 = 1.82x faster.
    expect(two!.coresBusy).toBeNull();
    const withCpu = new Map([...runs].map(([k, rs]) => [k, rs.map((x) => ({ ...x, cpuSeconds: x.seconds * (k === 'local:1' ? 1.1 : 1.9) }))]));
    const [c1, c2] = scalingRows(withCpu, 32, [1, 2], [], null, 2);
    expect(c1!.coresBusy).toBe(1.1);
    expect(c1!.cpuBound).toBeNull();
    expect(c2!.coresBusy).toBe(1.9);
    expect(c2!.cpuBound).toBe(1.82);
    expect(scalingRows(withCpu, 32, [1, 2], [], null, 4)[1]!.cpuBound).toBe(1.82); // min(workers, cores)
    expect(one!.contention).toBe(1);
    expect(one!.utilization).toBe(0.95);
    expect(two!.utilization).toBe(0.917); // 110 / (2 x 120), to the millisecond
    expect(two!.contention).toBe(1.16);
    expect(two!.pairedSpeedups).toEqual([1.67, 1.67]);
    expect(two!.cellSeconds).toEqual([110, 121]);
    expect(two!.medianCellSeconds).toBe(115.5);
    expect(two!.cellsPerMinute).toBe(30.5);
  });
});

describe('cell threads', () => {
  for (const isolation of ['thread', 'process'] as const) {
    it(`one ${isolation} runs cell after cell, as in this thread; a failing cell is a CellFailed and the ${isolation} goes on`, async () => {
      const { CellWorker, CellFailed } = await import('../../experiments/pool.js');
      const { runCell } = await import('../../experiments/run-cell.js');
      const all = expandCells(resolveSpec(tiny()));
      const cells = [all[0]!, all.find((c) => c.agentId === 'ucb1')!]; // random, then the learner (curve points)
      const worker = new CellWorker(isolation);
      try {
        const a = await worker.run(cells[0]!, { keepCheckpoint: false });
        const bad = { ...cells[1]!, agentParams: { bogus: 1 } };
        const e = await worker.run(bad, { keepCheckpoint: false }).catch((x: unknown) => x);
        expect(e).toBeInstanceOf(CellFailed);
        expect((e as Error).message).toMatch(/bogus/);
        const points: number[] = [];
        const b = await worker.run(cells[1]!, { keepCheckpoint: false, onCurvePoint: (p) => points.push(p.userSteps) });
        expect(points.length).toBeGreaterThan(1);
        for (const [c, r] of [[cells[0]!, a], [cells[1]!, b]] as const) {
          const here = await runCell(c, { keepCheckpoint: false });
          expect(JSON.stringify(r.final)).toBe(JSON.stringify(here.final));
        }
      } finally {
        await worker.terminate();
      }
      // Stopped: the worker refuses further cells with its own error.
      await expect(worker.run(cells[0]!, { keepCheckpoint: false })).rejects.toThrow(new RegExp(`cell worker ${isolation} was stopped`));
    }, 60_000);
  }

  it('the pool says once, before the last cell ends, that nothing is left to dispatch', async () => {
    const { runPool } = await import('../../experiments/pool.js');
    const cells = expandCells(resolveSpec(tiny({ seeds: 3 })));
    let got = 0;
    const drainedAt: number[] = [];
    await runPool(cells, { workers: 2, keepCheckpoint: false, onResult: () => got++, onDrained: () => drainedAt.push(got) });
    expect(got).toBe(cells.length);
    expect(drainedAt).toHaveLength(1);
    expect(drainedAt[0]).toBeLessThan(cells.length);
    // One worker, or none: nothing to overlap, never called.
    const none: number[] = [];
    await runPool(cells.slice(0, 2), { workers: 1, keepCheckpoint: false, onResult: () => undefined, onDrained: () => none.push(1) });
    expect(none).toEqual([]);
  }, 60_000);
});

describe('oracle flags come from the agent definitions', () => {
  it("the resolved spec marks an agent oracle exactly when the built agent reads hidden state (SlateQ's choiceModel env included)", async () => {
    const agents = [{ id: 'random' }, { id: 'ceiling-oracle' }, { id: 'slateq', label: 'sq-env', params: { choiceModel: 'env', hidden: 8 } }, { id: 'slateq', label: 'sq-learned', params: { choiceModel: 'learned', hidden: 8 } }, { id: 'myopic-oracle' }];
    const s = resolveSpec({ name: 'o', env: { id: 'retention-v0' }, agents, seeds: 1, train: { userSteps: 0 }, final: { users: 2 } });
    for (const a of s.agents) {
      const built = await makeAgent(a.id, a.params, { envId: 'retention-v0', seed: 0 });
      expect(a.oracle, a.label).toBe(built.oracle);
      (built as { dispose?: () => void }).dispose?.();
    }
    expect(s.agents.map((a) => a.oracle)).toEqual([false, true, true, false, true]);
  });
});
