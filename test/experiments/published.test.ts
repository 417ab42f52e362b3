/**
 * Published numbers in a spec (`published`): validated against the agents and the metrics, kept out of the run
 * id, compared with the run's results in the summary, the terminal table and the report; and every shipped spec
 * that carries them reproduces them within its tolerance in its committed reference run.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSpec, SpecError } from '../../experiments/spec.js';
import { runExperiment, runIdOf } from '../../experiments/experiment.js';
import { specToJson } from '../../experiments/results.js';
import { comparePublished, type GroupSummary, type PublishedComparison, type Summary, summaryTable } from '../../experiments/summary.js';

const tiny = (extra: Record<string, unknown> = {}) => ({
  name: 'published-test',
  env: { id: 'retention-v0', params: { horizonDays: 3 } },
  agents: [{ id: 'random' }, { id: 'ucb1', label: 'bandit' }],
  seeds: 2,
  train: { userSteps: 48, numEnvs: 4 },
  final: { users: 24 },
  ...extra,
});
const published = (extra: Record<string, unknown> = {}) => ({ source: 'A paper, table 2', tolerance: 2, values: { random: 5.5, bandit: 7 }, ...extra });

describe('spec: published numbers', () => {
  const bad = (spec: unknown, path: string, re: RegExp) => {
    let err: unknown;
    try {
      resolveSpec(spec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).path).toBe(path);
    expect((err as Error).message).toMatch(re);
  };
  it('refuses, naming the field, a label that is no agent, an unknown metric, a bad tolerance or source, no values, a sweep', () => {
    bad(tiny({ published: published({ values: { random: 1, ucb: 2 } }) }), 'published.values.ucb', /"ucb" is not an agent label; labels: random, bandit/);
    bad(tiny({ published: published({ metric: 'minutes' }) }), 'published.metric', /"minutes" is not a metric of retention-v0; metrics: return, /);
    // A multi-session metric on a single-session env: no value to compare with.
    bad({ ...tiny({ published: published({ metric: 'activeDays' }) }), env: { id: 'interest-evolution-v0' } }, 'published.metric', /"activeDays" is not a metric of interest-evolution-v0/);
    expect(resolveSpec(tiny({ published: published({ metric: 'activeDays' }) })).published!.metric).toBe('activeDays');
    bad(tiny({ published: published({ tolerance: 0 }) }), 'published.tolerance', /given 0/);
    bad(tiny({ published: published({ tolerance: -1 }) }), 'published.tolerance', /given -1/);
    bad(tiny({ published: published({ source: '' }) }), 'published.source', /name the source/);
    bad(tiny({ published: published({ values: {} }) }), 'published.values', /at least one agent label/);
    bad(tiny({ published: published({ values: { random: 'x' } }) }), 'published.values.random', /given "x"/);
    bad(tiny({ published: published({ table: 2 }) }), 'published.table', /unknown key "table"/);
    bad(tiny({ published: published(), sweep: { grid: { 'agents[bandit].params.c': [1, 2] } } }), 'published', /for one setting/);
  });
  it('resolves with the metric defaulted and the values in the agents\' order, round-trips through the written spec and leaves the run id alone', () => {
    const s = resolveSpec(tiny({ published: published({ values: { bandit: 7, random: 5.5 } }) }));
    expect(s.published).toEqual({ source: 'A paper, table 2', metric: 'return', tolerance: 2, values: { random: 5.5, bandit: 7 } });
    expect(Object.keys(s.published!.values)).toEqual(['random', 'bandit']);
    expect(resolveSpec(specToJson(s))).toEqual(s);
    expect(runIdOf(s)).toBe(runIdOf(resolveSpec(tiny())));
    expect(resolveSpec(tiny()).published).toBeNull();
    // --quick runs another setting than the published one: checked, then left out.
    const quickSpec = tiny({ published: published(), quick: { seeds: 1 } });
    expect(resolveSpec(quickSpec, true).published).toBeNull();
    expect(() => resolveSpec(tiny({ published: published({ values: { nobody: 1 } }), quick: { seeds: 1 } }), true)).toThrow(/published\.values\.nobody/);
    expect('published' in specToJson(resolveSpec(tiny()))).toBe(false);
  });
});

describe('summary: the published comparison', () => {
  const group = (label: string, mean: number): GroupSummary =>
    ({ label, metrics: { return: { mean, lo: mean - 1, hi: mean + 1, iqm: mean, iqmLo: NaN, iqmHi: NaN, perSeed: [mean] } } }) as unknown as GroupSummary;
  it('puts each mean next to its published number, with the difference and whether it is within the tolerance', () => {
    const p = comparePublished([group('a', 160.1), group('b', 171.6), group('c', 170)], { source: 's', metric: 'return', tolerance: 2, values: { a: 159.2, b: 174.6, c: 168 } });
    expect(p.rows.map((r) => [r.label, r.published, r.mean, r.lo, r.hi, r.within])).toEqual([
      ['a', 159.2, 160.1, 159.1, 161.1, true],
      ['b', 174.6, 171.6, 170.6, 172.6, false],
      ['c', 168, 170, 169, 171, true],
    ]);
    expect(p.rows[0]!.diff).toBeCloseTo(0.9, 12);
    expect(p.rows[1]!.diff).toBeCloseTo(-3, 12);
  });
  it('counts a label without the metric as not reproduced', () => {
    const p = comparePublished([group('a', 1)], { source: 's', metric: 'ctr', tolerance: 1, values: { a: 1 } });
    expect(p.rows[0]!.within).toBe(false);
    expect(Number.isNaN(p.rows[0]!.mean)).toBe(true);
  });
  it('prints a table after the summary table, with the count within the tolerance, and nothing without published numbers', () => {
    const groups = [group('a', 160.1), group('b', 171.6)];
    const s = { experiment: 'x', env: 'e', baseline: 'a', floor: null, ceiling: null, metrics: [{ key: 'return', label: 'return' }], horizonDays: null, groups: groups.map((g) => ({ ...g, point: {}, oracle: false, vsBaseline: null, normalized: null, untrained: null })) } as unknown as Summary;
    const plain = summaryTable(s);
    expect(plain).not.toMatch(/published/);
    const withP = summaryTable({ ...s, published: comparePublished(groups, { source: 'Paper, table 1', metric: 'return', tolerance: 2, values: { a: 159.2, b: 174.6 } }) });
    expect(withP.startsWith(plain)).toBe(true);
    const tail = withP.slice(plain.length).split('\n');
    expect(tail[2]).toBe('published: Paper, table 1');
    expect(tail[3]).toMatch(/^agent +ours: return \[95% CI\] +published +difference +within 2$/);
    expect(tail[4]).toMatch(/^a +160\.1 \[159\.1, 161\.1\] +159\.2 +\+0\.9 +yes$/);
    expect(tail[5]).toMatch(/^b +171\.6 \[170\.6, 172\.6\] +174\.6 +-3\.0 +NO$/);
    expect(tail[6]).toBe('1 of 2 within 2 of the published return');
  });
  it('a run with published numbers writes them into summary.json and the report', async () => {
    const out = mkdtempSync(join(tmpdir(), 'egym-published-'));
    const r = await runExperiment(tiny({ published: published() }), { workers: 0, out });
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
    expect(s.published).toEqual(JSON.parse(JSON.stringify(r.summary!.published)));
    const ret = (label: string) => s.groups.find((g) => g.label === label)!.metrics.return!.mean;
    expect(s.published!.rows.map((x) => [x.label, x.mean, x.published])).toEqual([
      ['random', ret('random'), 5.5],
      ['bandit', ret('bandit'), 7],
    ]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<table id="published">');
    expect(html).toContain('A paper, table 2');
    expect(JSON.parse(readFileSync(join(out, 'spec.json'), 'utf8')).published).toEqual({ ...published(), metric: 'return' });
  }, 60_000);
});

describe('shipped specs with published numbers reproduce them in their committed reference runs', () => {
  const specsDir = new URL('../../experiments/specs/', import.meta.url);
  const shipped = readdirSync(specsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, raw: JSON.parse(readFileSync(new URL(f, specsDir), 'utf8')) as { name: string; published?: unknown } }))
    .filter((x) => x.raw.published !== undefined);
  it('at least the SlateQ paper comparison carries them', () => {
    expect(shipped.map((x) => x.file)).toContain('recsim-slateq.json');
  });
  for (const { file, raw } of shipped) {
    it(`${file}: every published number within the tolerance, recomputed from results/reference/${raw.name}`, () => {
      const spec = resolveSpec(raw);
      const dir = new URL(`../../results/reference/${raw.name}/`, import.meta.url);
      expect(existsSync(new URL('summary.json', dir))).toBe(true);
      const s = JSON.parse(readFileSync(new URL('summary.json', dir), 'utf8')) as Summary;
      const p: PublishedComparison = comparePublished(s.groups, spec.published!);
      // The committed summary holds the same comparison (written by the run from the same spec).
      expect(s.published).toEqual(JSON.parse(JSON.stringify(p)));
      const off = p.rows.filter((r) => !r.within).map((r) => `${r.label}: ${r.mean.toFixed(2)} against ${r.published}`);
      expect(off).toEqual([]);
      expect(p.rows.map((r) => r.label)).toEqual(Object.keys(spec.published!.values));
      expect(p.rows.length).toBeGreaterThan(0);
    });
  }
});
