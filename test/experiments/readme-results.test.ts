/**
 * The README's results tables against the committed summaries they come from. Every table of a reference run (a
 * table with a paired-comparison column) has, on the line before its header, a marker
 * `<!-- summary: results/reference/NAME -->`; every cell of every row is recomputed here from that folder's
 * summary.json, formatted as the tables print it, and must be the same text (bold marks aside). So a rerun that
 * changes a committed summary, or a README edit that changes a number, fails until both agree.
 *
 * Formats (those of `summaryTable`): a metric is `mean [lo, hi]` (return, active days: 1 decimal; rates: 3); the
 * normalized score 3 decimals; the untrained return the mean, 1 decimal; the paired comparison `+diff [lo, hi],
 * P(agent > baseline), p (Holm)` (`<1e-4` below 1e-4) or `(baseline)`. Where an interval is zero-wide at that
 * precision a table may print the mean alone (`765.4`, `+77.3, 1.00, <1e-4`). A row names its group by the label,
 * its roles in parentheses (`oracle`, `floor`, `ceiling`) and its sweep point as `key=value`, the key being the
 * last part of the parameter's path (`sensitivity=0.1` for env.params.sensitivity).
 *
 * The same for the tables of committed benchmark files, in the formats of the commands that print them: the
 * calibration tables (`<!-- calibration: FILE -->`, `egym calibrate --out`; `<!-- demo: FILE -->`, `egym demo
 * --out`), the supervised pipeline's (`<!-- pipeline: FILE,FILE -->`, `egym pipeline --out`, a row per file) and
 * the benchmarks' (`<!-- bench-envs: FILE -->`, `<!-- bench-agents: FILE -->`: the table `egym bench envs` or
 * `egym bench agents` prints for the file's rows, cell for cell).
 *
 * And the tuning tables (a return over tuning seeds 10 and 11, 10 to 15, or 16 to 23): `<!-- tuning: NAME:label;NAME:label/NAME:label;...
 * -->` names, row by row, the group(s) of results/bench/NAME-tuning.json the row shows (a row with several variants
 * shows each, joined by ` / `); the return with its per-seed values, the normalized score, the paired difference
 * with the row whose cell is blank (`pairedDifference`, t over the seeds), and the update scalars from the sweep's
 * committed train logs (entropy and explained variance over the last quarter of updates, approximate KL and clip
 * fraction over all, each averaged over the seeds). A grid of them (`<!-- tuning-grid: ROW;ROW -->`) has a column
 * per learner: each ROW names its columns' groups, comma-separated.
 *
 * And the probe tables (`<!-- probe: FILE -->`), each file by its own rules in PROBES (the probe scripts of
 * experiments/probe-*.ts write them); where a README row names a file's row in words, the rule maps the names.
 *
 * And the comparison with a paper (`<!-- published: results/reference/NAME -->`: the summary's `published` rows,
 * from the spec's published numbers), the ceiling's tuning row (`<!-- ceiling-tuning: FILE -->`, from
 * experiments/tune-ceiling.ts), the before/after benchmark tables (`<!-- before-after: FILE -->`: `egym bench
 * agents` run alternately on two commits, every repetition shown) and the scaling tables (`<!-- scaling:
 * FILE,FILE -->`: `egym bench scaling --out`, the files' rows in order).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { formatBenchTable } from '../../experiments/bench-envs.js';
import { formatAgentBench } from '../../experiments/bench-agents.js';
import type { CalibrationRow } from '../../experiments/calibrate.js';
import { pairedDifference } from '../../experiments/stats.js';
import type { DemoRow } from '../../experiments/demo.js';
import type { PipelineReport } from '../../agents/supervised/pipeline.js';
import type { PublishedComparison, PublishedRow } from '../../experiments/summary.js';

// The parts of a summary (experiments/summary.ts) that the tables show.
interface Interval {
  mean: number;
  lo: number;
  hi: number;
}
interface Group {
  label: string;
  point: Record<string, unknown>;
  oracle: boolean;
  metrics: Record<string, Interval>;
  normalized?: Interval | null;
  untrained?: Interval | null;
  vsBaseline?: { return?: { diff: number; lo: number; hi: number; poi: number; pHolm: number } } | null;
}
interface Summary {
  baseline: string;
  floor: string | null;
  ceiling: string | null;
  groups: Group[];
  published?: PublishedComparison;
}

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8').split('\n');

const MARKER = /^<!-- (summary|calibration|demo|pipeline|bench-envs|bench-agents|tuning|probe|published|ceiling-tuning|before-after|scaling|tuning-grid): (\S+) -->$/;

/** A marked table: the marker's kind and file(s), its line, and the table's header and rows as cells. */
interface MarkedTable {
  kind: 'summary' | 'calibration' | 'demo' | 'pipeline' | 'bench-envs' | 'bench-agents' | 'tuning' | 'probe' | 'published' | 'ceiling-tuning' | 'before-after' | 'scaling' | 'tuning-grid';
  /** The summary's folder, the benchmark's JSON file, or the pipeline's files (comma-separated). */
  dir: string;
  line: number;
  header: string[];
  rows: { line: number; cells: string[] }[];
}
/** Each marker with the table that follows it (the first table after the marker, before the next marker). */
function markedTables(lines: string[]): MarkedTable[] {
  const cells = (l: string) => l.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());
  const out: MarkedTable[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = MARKER.exec(lines[i]!.trim());
    if (!m) continue;
    let j = i + 1;
    // Tables may be indented (in a list item).
    const row = (k: number) => k < lines.length && lines[k]!.trim().startsWith('|');
    while (j < lines.length && !row(j) && !MARKER.test(lines[j]!.trim())) j++;
    if (!row(j) || !/^\|(\s*-+\s*\|)+$/.test(lines[j + 1]?.trim() ?? '')) throw new Error(`README line ${i + 1}: the marker for ${m[2]} has no table after it`);
    const header = cells(lines[j]!);
    const rows: { line: number; cells: string[] }[] = [];
    for (let k = j + 2; row(k); k++) rows.push({ line: k + 1, cells: cells(lines[k]!) });
    out.push({ kind: m[1] as MarkedTable['kind'], dir: m[2]!, line: i + 1, header, rows });
  }
  return out;
}

/** The README's marked tables, parsed once. */
const tables = markedTables(readme);

const f = (x: number, d: number) => x.toFixed(d);
/** `mean [lo, hi]`, or the mean alone where the table prints it so and the interval is zero-wide at d decimals. */
function interval(v: Interval, d: number, shown: string, sign = false): string {
  const s = (x: number) => `${sign && x >= 0 ? '+' : ''}${f(x, d)}`;
  const full = `${s(v.mean)} [${f(v.lo, d)}, ${f(v.hi, d)}]`;
  return shown === s(v.mean) && f(v.lo, d) === f(v.mean, d) && f(v.hi, d) === f(v.mean, d) ? shown : full;
}

const METRIC_COLUMNS: Record<string, { key: string; decimals: number }> = {
  'lifetime engagement (return)': { key: 'return', decimals: 1 },
  'return (minutes)': { key: 'return', decimals: 1 },
  'active days': { key: 'activeDays', decimals: 1 },
  'D30 retention': { key: 'd30', decimals: 3 },
  'churn rate': { key: 'churned', decimals: 3 },
  CTR: { key: 'ctr', decimals: 3 },
};

/** The text a column shows for a group, given what the README shows there (for the zero-wide forms). */
function expectedCell(s: Summary, g: Group, column: string, shown: string): string {
  const metric = METRIC_COLUMNS[column];
  if (metric) {
    const v = g.metrics[metric.key];
    if (!v) throw new Error(`${g.label} has no ${metric.key}`);
    return interval(v, metric.decimals, shown);
  }
  if (column.startsWith('normalized (')) {
    if (!g.normalized) throw new Error(`${g.label} has no normalized score`);
    return interval(g.normalized, 3, shown);
  }
  if (column === 'untrained return') return g.untrained ? f(g.untrained.mean, 1) : '-';
  if (column.startsWith('vs ')) {
    const c = g.vsBaseline?.return;
    if (!c) return g.label === s.baseline ? '(baseline)' : '-';
    const p = c.pHolm < 1e-4 ? '<1e-4' : f(c.pHolm, 4);
    const diff = interval({ mean: c.diff, lo: c.lo, hi: c.hi }, 1, shown.split(',')[0]!, true);
    return `${diff}, ${f(c.poi, 2)}, ${p}`;
  }
  throw new Error(`no rule for the column "${column}"`);
}

/** The row names a group can have: label, roles in parentheses, sweep point as key=value. */
function rowName(s: Summary, g: Group): string {
  const tags = [g.oracle ? 'oracle' : '', g.label === s.floor ? 'floor' : '', g.label === s.ceiling ? 'ceiling' : ''].filter(Boolean);
  const point = Object.entries(g.point).map(([k, v]) => ` ${k.split('.').pop()}=${String(v)}`).join('');
  return `${g.label}${tags.length ? ` (${tags.join(', ')})` : ''}${point}`;
}

const unbold = (c: string) => c.replace(/\*\*/g, '');

describe("the README's results tables are the committed summaries", () => {
  it('marks every table of a reference run, the calibration, pipeline and benchmark tables', () => {
    // Every table whose header ends with the paired comparison is a summary's; each is marked.
    const unmarked = readme
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => l.startsWith('| agent |') && /\| vs [^|]+: return difference over seeds/.test(l))
      .filter(({ i }) => !/^<!-- summary: \S+ -->$/.test(readme[i - 1] ?? ''))
      .map(({ i }) => `README line ${i + 1}`);
    expect(unmarked).toEqual([]);
    // Every tuning table (a return over the tuning seeds) is marked too.
    const unmarkedTuning = readme
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => /^\s*\| .*\| return \(seeds 10, 11\) \|/.test(l))
      .filter(({ i }) => !/^<!-- tuning: \S+ -->$/.test(readme[i - 1]?.trim() ?? ''))
      .map(({ i }) => `README line ${i + 1}`);
    expect(unmarkedTuning).toEqual([]);
    expect(tables.filter((t) => t.kind === 'summary').length).toBeGreaterThanOrEqual(10);
    expect(tables.filter((t) => t.kind !== 'summary' && t.kind !== 'tuning' && t.kind !== 'probe').map((t) => t.kind)).toEqual(['calibration', 'ceiling-tuning', 'demo', 'bench-agents', 'before-after', 'before-after', 'before-after', 'pipeline', 'scaling', 'scaling', 'tuning-grid', 'published', 'bench-envs']);
    expect(tables.filter((t) => t.kind === 'probe').map((t) => t.dir)).toEqual([
      'results/bench/fifth-pass-before-after.json',
      'results/bench/wasm-threads.json',
      'results/bench/probe-retention-v1.json',
      'results/bench/probe-retention-v1-stats.json',
      'results/bench/probe-retention-v1-stats.json',
      'results/bench/probe-retention-v1-explore.json',
      'results/bench/probe-retention-v1-budget.json',
      'results/bench/probe-ppo-from-ranker.json',
      'results/bench/probe-ppo-path.json',
      'results/bench/probe-ppo-gradient.json',
      'results/bench/probe-slateq-v0.json',
      'results/bench/probe-retention-v0.json',
      'results/bench/probe-retention-v0.json',
    ]);
    expect(tables.filter((t) => t.kind === 'tuning').length).toBeGreaterThanOrEqual(11);
  });
  it('marks every table of the README but the three that describe (commands, environments, agents)', () => {
    const unmarked: string[] = [];
    let prev = '';
    readme.forEach((l, i) => {
      const starts = l.trim().startsWith('|') && !(readme[i - 1] ?? '').trim().startsWith('|');
      if (starts && !MARKER.test(prev.trim())) unmarked.push(l.trim().split('|')[1]!.trim());
      if (!l.trim().startsWith('|') && l.trim() !== '') prev = l;
    });
    expect(unmarked).toEqual(['command', 'id', 'id']);
  });
  for (const t of tables.filter((x) => x.kind === 'summary')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const s = JSON.parse(readFileSync(new URL(`${t.dir}/summary.json`, root), 'utf8')) as Summary;
      const byName = new Map(s.groups.map((g) => [rowName(s, g), g]));
      expect(t.header[0]).toBe('agent');
      expect(compareRows(t, (name) => byName.get(name) ?? null, (h) => (g, shown) => expectedCell(s, g, h, shown))).toEqual([]);
      expect(t.rows.length).toBeGreaterThan(0);
    });
  }
});

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ci = (m: number, lo: number, hi: number, d: number, sign = false) => `${sign && m >= 0 ? '+' : ''}${m.toFixed(d)} [${lo.toFixed(d)}, ${hi.toFixed(d)}]`;

/** A calibration row's cells, in `formatCalibration`'s formats, by the README's column names. */
const CALIBRATION_COLUMNS: Record<string, (r: CalibrationRow) => string> = {
  role: (r) => r.role,
  'lifetime minutes [95% CI]': (r) => ci(r.return.mean, r.return.lo, r.return.hi, 1),
  normalized: (r) => r.normalized.toFixed(3),
  'vs random, paired [95% CI]': (r) => (r.label === 'random' ? '-' : ci(r.vsRandom.mean, r.vsRandom.lo, r.vsRandom.hi, 1, true)),
  'active days': (r) => r.activeDays.toFixed(2),
  '30-day churn': (r) => pct(r.churn),
  'first-session CTR': (r) => r.firstSessionCtr.toFixed(3),
  'session length (steps)': (r) => r.sessionLength.toFixed(1),
  'return gap (days)': (r) => r.returnGap.toFixed(2),
};
/** A demo row's cells, in `formatDemo`'s formats, by the README's column names. */
const DEMO_COLUMNS: Record<string, (r: DemoRow) => string> = {
  'lifetime minutes (95% CI)': (r) => ci(r.engagement, r.engagementCi[0], r.engagementCi[1], 1),
  'active days': (r) => r.activeDays.toFixed(2),
  '30-day churn': (r) => pct(r.churn),
  'first-session CTR': (r) => r.firstSessionCtr.toFixed(3),
  'session length (steps)': (r) => r.sessionLength.toFixed(1),
  'return gap (days)': (r) => r.returnGap.toFixed(2),
};

/**
 * Cells that differ from the rows' own: `find` names a README row's source row (or null) from its first cell (and
 * the others, for rows named by more than one), `column` a header's rule, which also sees what the README shows
 * (for the forms a zero-wide interval may take).
 */
function compareRows<R>(t: MarkedTable, find: (name: string, cells: string[]) => R | null, column: (header: string) => ((row: R, shown: string) => string) | undefined): string[] {
  const wrong: string[] = [];
  for (const r of t.rows) {
    const name = unbold(r.cells[0]!);
    const row = find(name, r.cells.map(unbold));
    if (row === null) {
      wrong.push(`line ${r.line}: no row "${name}" in ${t.dir}`);
      continue;
    }
    for (let j = 1; j < t.header.length; j++) {
      const col = column(t.header[j]!);
      if (!col) {
        wrong.push(`line ${r.line}: no rule for the column "${t.header[j]}"`);
        continue;
      }
      const shown = unbold(r.cells[j] ?? '');
      const want = col(row, shown);
      if (shown !== want) wrong.push(`line ${r.line}, ${name}, "${t.header[j]}": README ${shown}, file ${want}`);
    }
  }
  return wrong;
}

describe("the README's calibration tables are the committed calibration files", () => {
  for (const t of tables.filter((x) => x.kind === 'calibration')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const c = JSON.parse(readFileSync(new URL(t.dir, root), 'utf8')) as { rows: CalibrationRow[]; bestHeuristic: string };
      const byLabel = new Map(c.rows.map((r) => [r.label, r]));
      // A row is named by its label, or by a description with the label in parentheses at the end.
      const find = (name: string) => byLabel.get(name) ?? byLabel.get(/\(([^()]+)\)$/.exec(name)?.[1] ?? '') ?? null;
      expect(compareRows(t, find, (h) => CALIBRATION_COLUMNS[h])).toEqual([]);
      // The rows the table names best and worst single embedding column are those of the file.
      const embedding = c.rows.filter((r) => /^embedding\d+-(highest|lowest)$/.test(r.label));
      expect(embedding).toHaveLength(16);
      const sorted = [...embedding].sort((a, b) => b.normalized - a.normalized);
      const named = (what: string) => t.rows.map((r) => unbold(r.cells[0]!)).find((n) => n.startsWith(what));
      expect(named('best single embedding column')).toBe(`best single embedding column (${sorted[0]!.label})`);
      expect(named('worst single embedding column')).toBe(`worst single embedding column (${sorted.at(-1)!.label})`);
      expect(c.bestHeuristic).toBe(sorted[0]!.label);
    });
  }
  for (const t of tables.filter((x) => x.kind === 'demo')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const d = JSON.parse(readFileSync(new URL(t.dir, root), 'utf8')) as { rows: DemoRow[] };
      // A row is named by the policy, then optionally a description in parentheses.
      const find = (name: string) => d.rows.find((r) => name === r.policy || name.startsWith(`${r.policy} (`)) ?? null;
      expect(compareRows(t, find, (h) => DEMO_COLUMNS[h])).toEqual([]);
      expect(t.rows).toHaveLength(d.rows.length);
    });
  }
});

type PipelineFile = PipelineReport & { model: string; wallSeconds: number };
const PIPELINE_COLUMNS: Record<string, (r: PipelineFile) => string> = {
  'test AUC': (r) => r.testAuc.toFixed(4),
  'Bayes-optimal AUC': (r) => r.bayesAuc?.toFixed(4) ?? 'n/a',
  'log-loss': (r) => r.testLogLoss.toFixed(4),
  'watch RMSE (min)': (r) => r.watchRmse?.toFixed(3) ?? 'n/a',
  'wall time': (r) => `${r.wallSeconds.toFixed(1)} s`,
};

describe("the README's pipeline table is the committed pipeline reports", () => {
  for (const t of tables.filter((x) => x.kind === 'pipeline')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const reports = t.dir.split(',').map((file) => JSON.parse(readFileSync(new URL(file, root), 'utf8')) as PipelineFile);
      expect(compareRows(t, (name) => reports.find((r) => r.model === name) ?? null, (h) => PIPELINE_COLUMNS[h])).toEqual([]);
      expect(t.rows).toHaveLength(reports.length);
    });
  }
});

describe("the README's benchmark tables are the committed benchmark files, as the bench commands print them", () => {
  const format: Record<string, (rows: never[]) => string> = { 'bench-envs': formatBenchTable, 'bench-agents': formatAgentBench };
  for (const t of tables.filter((x) => x.kind === 'bench-envs' || x.kind === 'bench-agents')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const { rows } = JSON.parse(readFileSync(new URL(t.dir, root), 'utf8')) as { rows: never[] };
      const want = markedTables([`<!-- ${t.kind}: ${t.dir} -->`, ...format[t.kind]!(rows).split('\n')])[0]!;
      expect(t.header).toEqual(want.header);
      expect(t.rows.map((r) => r.cells)).toEqual(want.rows.map((r) => r.cells));
    });
  }
});

/**
 * A tuning sweep's group (results/bench/NAME-tuning.json, a summary over the tuning seeds) and its update scalars
 * (results/bench/NAME-tuning-train-logs/, where the sweep kept them).
 */
interface TuningRow {
  group: Group & { metrics: Record<string, Interval & { perSeed: number[] }>; normalized: Interval | null };
  /** Per seed, the train log's update scalars in order. */
  updates: Record<string, number>[][];
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** A train-log scalar: per seed, its mean over the last quarter of the updates or over all of them; then the mean over seeds. */
function scalar(r: TuningRow, key: string, lastQuarter: boolean): number {
  if (r.updates.length === 0) throw new Error(`${r.group.label}: no train logs for ${key}`);
  return mean(r.updates.map((u) => mean(u.slice(lastQuarter ? Math.floor((u.length * 3) / 4) : 0).map((x) => x[key]!))));
}
/** The return over the tuning seeds: the mean, with each seed's value where the row shows one variant; `seeds`, where given, is how many the file must hold. */
const tuningReturn =
  (seeds?: number) =>
  (r: TuningRow, multi: boolean): string => {
    const v = r.group.metrics.return!;
    if (seeds !== undefined && v.perSeed.length !== seeds) return `(${v.perSeed.length} seeds in the file, not ${seeds})`;
    return multi ? v.mean.toFixed(1) : `${v.mean.toFixed(1)} (${v.perSeed.map((x) => x.toFixed(1)).join(', ')})`;
  };
const TUNING_COLUMNS: Record<string, (r: TuningRow, multi: boolean, base: TuningRow | null) => string> = {
  'return (seeds 10, 11)': tuningReturn(),
  // A sweep over six tuning seeds (10 to 15) shows every seed's return.
  'return (seeds 10 to 15)': tuningReturn(6),
  // The fresh seeds (16 to 23) a six-seed pick is checked on.
  'return (seeds 16 to 23)': tuningReturn(8),
  normalized: (r) => r.group.normalized!.mean.toFixed(3),
  'paired difference': (r, _m, base) => {
    if (!base) return '';
    const d = pairedDifference(r.group.metrics.return!.perSeed, base.group.metrics.return!.perSeed);
    return `${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(1)} [${d.lo.toFixed(1)}, ${d.hi.toFixed(1)}]`;
  },
  'slate entropy at the end': (r) => scalar(r, 'entropy', true).toFixed(1),
  "critic's explained variance": (r) => scalar(r, 'explained_variance', true).toFixed(2),
  'approx KL': (r) => scalar(r, 'approx_kl', false).toFixed(4),
  'clip fraction': (r) => scalar(r, 'clipfrac', false).toFixed(3),
};

describe("the README's tuning tables are the committed sweeps", () => {
  const cache = new Map<string, TuningRow>();
  /** `NAME:label`: the group `label` of results/bench/NAME-tuning.json, with its train logs where committed. */
  const load = (ref: string): TuningRow => {
    const hit = cache.get(ref);
    if (hit) return hit;
    const [name, label] = ref.split(':') as [string, string];
    const s = JSON.parse(readFileSync(new URL(`results/bench/${name}-tuning.json`, root), 'utf8')) as { groups: TuningRow['group'][] };
    const group = s.groups.find((g) => g.label === label);
    if (!group) throw new Error(`no group ${label} in results/bench/${name}-tuning.json`);
    const dir = new URL(`results/bench/${name}-tuning-train-logs/`, root);
    const updates: Record<string, number>[][] = [];
    if (existsSync(dir))
      for (const f of readdirSync(dir).sort()) {
        const lines = readFileSync(new URL(f, dir), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { label: string; seed: number; metrics: Record<string, number> });
        if (lines[0]?.label === label) updates.push(lines.map((l) => l.metrics));
      }
    const row = { group, updates };
    cache.set(ref, row);
    return row;
  };
  for (const t of tables.filter((x) => x.kind === 'tuning')) {
    it(`README line ${t.line}`, () => {
      const refs = t.dir.split(';').map((r) => r.split('/'));
      expect(refs).toHaveLength(t.rows.length);
      const pairedCol = t.header.findIndex((h) => h.startsWith('paired difference'));
      // The reference row: the one whose paired difference is blank (exactly one, a single variant).
      const blank = t.rows.map((r, i) => ({ r, i })).filter(({ r }) => pairedCol >= 0 && (r.cells[pairedCol] ?? '') === '');
      if (pairedCol >= 0) expect(blank.map(({ i }) => refs[i]!.length)).toEqual([1]);
      const base = pairedCol >= 0 ? load(refs[blank[0]!.i]![0]!) : null;
      const wrong: string[] = [];
      t.rows.forEach((r, i) => {
        const variants = refs[i]!.map(load);
        for (let j = 1; j < t.header.length; j++) {
          const key = t.header[j]!.startsWith('paired difference') ? 'paired difference' : t.header[j]!;
          const col = TUNING_COLUMNS[key];
          if (!col) {
            wrong.push(`line ${r.line}: no rule for the column "${t.header[j]}"`);
            continue;
          }
          const want = variants.map((v) => col(v, variants.length > 1, v === base ? null : base)).join(' / ');
          const shown = unbold(r.cells[j] ?? '');
          if (shown !== want) wrong.push(`line ${r.line}, ${refs[i]!.join('/')}, "${t.header[j]}": README ${shown}, file ${want}`);
        }
      });
      expect(wrong).toEqual([]);
    });
  }
  // A grid (`<!-- tuning-grid: ROW;ROW;... -->`, each ROW the groups of its columns after the first, comma-separated,
  // as NAME:label): a column per learner, its return over the seeds, with the slate's entropy at the end where the
  // header says (entropy).
  for (const t of tables.filter((x) => x.kind === 'tuning-grid')) {
    it(`README line ${t.line}`, () => {
      const refs = t.dir.split(';').map((r) => r.split(','));
      expect(refs).toHaveLength(t.rows.length);
      let i = 0;
      const find = () => refs[i++] ?? null;
      const column = (h: string) => {
        const j = t.header.indexOf(h) - 1;
        return (row: string[]) => {
          const r = load(row[j]!);
          const ret = r.group.metrics.return!.mean.toFixed(1);
          return h.endsWith('(entropy)') ? `${ret} (${scalar(r, 'entropy', true).toFixed(1)})` : ret;
        };
      };
      expect(refs.every((r) => r.length === t.header.length - 1)).toBe(true);
      // A first column of training user-steps is each row's sweeps' budget (experiments/tuning/NAME.json).
      if (t.header[0] === 'training user-steps') {
        const budget = (ref: string) => (JSON.parse(readFileSync(new URL(`experiments/tuning/${ref.split(':')[0]}.json`, root), 'utf8')) as { train: { userSteps: number } }).train.userSteps.toLocaleString('en-US');
        expect(t.rows.map((r, k) => refs[k]!.map(budget).every((b) => b === r.cells[0]))).toEqual(t.rows.map(() => true));
      }
      expect(compareRows(t, find, column)).toEqual([]);
    });
  }
});

/** A variant list in a row name, `1.5 / 2 / 3`, as numbers. */
const variants = (text: string) => text.split(' / ').map(Number);
/** Values joined by ` / `, or one value where every variant prints the same (as the tables print them). */
const joined = (xs: string[]) => (xs.every((x) => x === xs[0]) ? xs[0]! : xs.join(' / '));

/** A value with its sign, 2 decimals (the selection tables' standard deviations). */
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
/** A learner-only / ranker-only pair of a picks column, n decimals. */
const pair = (p: { learnerOnly: number; rankerOnly: number }, n: number) => `${p.learnerOnly.toFixed(n)} / ${p.rankerOnly.toFixed(n)}`;

/** The probes' tables, each read by its own rules from its file (the probe scripts' JSON). */
const PROBES: Record<string, (t: MarkedTable, file: unknown) => string[]> = {
  // experiments/probe-retention-v1.ts: each policy's lifetime return and discounted objectives.
  'results/bench/probe-retention-v1.json': (t, file) => {
    type Row = { label: string; meanReturn: number; discounted: { perStep: Record<string, number>; perDay: Record<string, number> } };
    const rows = (file as { rows: Row[] }).rows;
    const columns: Record<string, (r: Row) => number | undefined> = { 'lifetime return': (r) => r.meanReturn };
    for (const h of t.header) {
      const step = /^J_gamma ([\d.]+)$/.exec(h);
      const day = /^J_day ([\d.]+)/.exec(h);
      if (step) columns[h] = (r) => r.discounted.perStep[`gamma ${step[1]}`];
      else if (day) columns[h] = (r) => r.discounted.perDay[`day ${day[1]}`];
    }
    const fmt = Object.fromEntries(Object.entries(columns).map(([h, f]) => [h, (r: Row) => f(r)?.toFixed(1) ?? 'missing']));
    return compareRows(t, (name) => rows.find((r) => r.label === name) ?? null, (h) => fmt[h]);
  },
  // experiments/probe-retention-v1-stats.ts: statistics and scorers swapped between the learners and the ranker
  // (one table), and what the learners pick instead of the ranker (another), means over the seeds.
  'results/bench/probe-retention-v1-stats.json': (t, file) => {
    type Diff = { mean: number; lo: number; hi: number };
    type Pick = { learnerOnly: number; rankerOnly: number; difference: Diff };
    type Row = { learner: string; learnerReturn: number; rankerOnLearnerStats: number; learnerOnRankerStats: number; slateOverlap: number; statsGap: Diff; scorerGap: Diff; picks: Record<string, Pick> };
    const rows = (file as { byLearner: Row[] }).byLearner;
    const d = (x: Diff, n: number) => ci(x.mean, x.lo, x.hi, n, true);
    const pick = (key: string, n: number) => (r: Row) => `${pair(r.picks[key]!, n)} (${d(r.picks[key]!.difference, n)})`;
    const columns: Record<string, (r: Row) => string> = {
      'its return': (r) => r.learnerReturn.toFixed(1),
      "the ranker on the learner's statistics": (r) => r.rankerOnLearnerStats.toFixed(1),
      "the learner on the ranker's statistics": (r) => r.learnerOnRankerStats.toFixed(1),
      "share of the learner's slate the ranker would also show": (r) => r.slateOverlap.toFixed(3),
      "ranker's own minus ranker on the learner's statistics": (r) => d(r.statsGap, 1),
      "ranker on the learner's statistics minus the learner": (r) => d(r.scorerGap, 1),
      'share of its slate the ranker would not show': (r) => (1 - r.slateOverlap).toFixed(2),
      'length (minutes)': pick('length', 2),
      'hidden quality': pick('quality', 3),
      'minutes per click': pick('rewardPerClick', 2),
      'watched fraction': pick('watchedFraction', 3),
      'click rate': pick('clickRate', 3),
      'rank by watched fraction, 0 = first of 20': (r) => pair(r.picks.watchedFractionRank!, 1),
    };
    return compareRows(t, (name) => rows.find((r) => r.learner === name) ?? null, (h) => columns[h]);
  },
  // experiments/probe-retention-v1-explore.ts: the two rankers with a random slate at rate epsilon, means over the seeds.
  'results/bench/probe-retention-v1-explore.json': (t, file) => {
    type Row = { epsilon: number; watch: number; minutes: number; difference: { mean: number; lo: number; hi: number } };
    const rows = (file as { byEpsilon: Row[] }).byEpsilon;
    expect(t.rows.map((r) => Number(r.cells[0]))).toEqual(rows.map((r) => r.epsilon));
    const columns: Record<string, (r: Row) => string> = {
      'by watched fraction': (r) => r.watch.toFixed(1),
      'by minutes per click': (r) => r.minutes.toFixed(1),
      difference: (r) => ci(r.difference.mean, r.difference.lo, r.difference.hi, 1, true),
    };
    return compareRows(t, (name) => rows.find((r) => r.epsilon === Number(name)) ?? null, (h) => columns[h]);
  },
  // experiments/probe-retention-v0.ts: each policy's discounted objectives and what its slates select, in
  // standard deviations of the candidates (the README names the file's rows in words).
  'results/bench/probe-retention-v0.json': (t, file) => {
    type Row = { label: string; meanReturn: number; selection: Record<string, number>; discounted: { perStep: Record<string, number>; perDay: Record<string, number> } };
    const rows = (file as { selection: Row[] }).selection;
    const names: Record<string, string> = {
      'ceiling-oracle (oracle)': 'ceiling-oracle',
      'quality-length-appeal': 'two-column (appeal -0.2, logLength 0.2)',
      'ppo-day (seed 0)': 'ppo-consumed dayDiscount 0.8',
      'quality-estimate': 'quality-estimate',
      'ppo-consumed (seed 0)': 'ppo-consumed',
      'ppo (seed 0)': 'ppo',
      'ppo-consumed at gamma 0.999 (seed 0)': 'ppo-consumed gamma 0.999',
      'myopic-oracle (oracle)': 'myopic-oracle',
      random: 'random',
    };
    const columns: Record<string, (r: Row) => string> = {
      'lifetime return': (r) => r.meanReturn.toFixed(1),
      return: (r) => r.meanReturn.toFixed(1),
      'quality estimate': (r) => signed(r.selection.qualityEstimate!),
      'ln(length)': (r) => signed(r.selection.logLength!),
      appeal: (r) => signed(r.selection.appeal!),
    };
    for (const h of t.header) {
      const step = /^J_gamma ([\d.]+)$/.exec(h);
      const day = /^J_day ([\d.]+)$/.exec(h);
      if (step) columns[h] = (r) => r.discounted.perStep[`gamma ${step[1]}`]?.toFixed(1) ?? 'missing';
      else if (day) columns[h] = (r) => r.discounted.perDay[`day ${day[1]}`]?.toFixed(1) ?? 'missing';
    }
    return compareRows(t, (name) => rows.find((r) => r.label === names[name]) ?? null, (h) => columns[h]);
  },
  // experiments/probe-slateq-v0.ts: SlateQ's seed-0 learners served three ways, with what each selects.
  'results/bench/probe-slateq-v0.json': (t, file) => {
    type Served = { meanReturn: number; selection: Record<string, number> };
    type Row = { label: string; asServed: Served; topKByItemValue?: Served; optimalTrueChoice?: Served };
    const rows = (file as { rows: Row[] }).rows;
    const ret = (get: (r: Row) => Served | undefined) => (r: Row) => get(r)?.meanReturn.toFixed(1) ?? '';
    const columns: Record<string, (r: Row) => string> = {
      'as trained (optimal slates, learned choice model)': ret((r) => r.asServed),
      'top-K by its item values alone': ret((r) => r.topKByItemValue),
      'optimal slates, true choice model': ret((r) => r.optimalTrueChoice),
      'selection: quality estimate / ln(length) / appeal': (r) => ['qualityEstimate', 'logLength', 'appeal'].map((k) => signed(r.asServed.selection[k]!)).join(' / '),
    };
    expect(t.header[0]).toBe(`seed ${(file as { seed: number }).seed}`);
    return compareRows(t, (name) => rows.find((r) => r.label === name) ?? null, (h) => columns[h]);
  },
  // experiments/probe-retention-v1-budget.ts: the learners' picks against the ranker's at each budget, means over
  // the seeds (rows named by budget and learner).
  'results/bench/probe-retention-v1-budget.json': (t, file) => {
    type Pick = { learnerOnly: number; rankerOnly: number };
    type Row = { userSteps: number; learner: string; learnerReturn: number; rankerOnLearnerStats: number; learnerOnlyShare: number; picks: Record<string, Pick> };
    const rows = (file as { byBudget: Row[] }).byBudget;
    const pick = (key: string, n: number) => (r: Row) => pair(r.picks[key]!, n);
    const columns: Record<string, (r: Row) => string> = {
      learner: (r) => r.learner,
      'its return': (r) => r.learnerReturn.toFixed(1),
      'the ranker on its statistics': (r) => r.rankerOnLearnerStats.toFixed(1),
      'share of its slate the ranker would not show': (r) => r.learnerOnlyShare.toFixed(2),
      'length (minutes)': pick('length', 2),
      'hidden quality': pick('quality', 3),
      'minutes per click': pick('rewardPerClick', 2),
    };
    expect(t.header[0]).toBe('training user-steps');
    const find = (steps: string, cells: string[]) => rows.find((r) => r.userSteps.toLocaleString('en-US') === steps && r.learner === cells[1]) ?? null;
    return compareRows(t, find, (h) => columns[h]);
  },
  // experiments/probe-ppo-from-ranker.ts: PPO started at the ranker's ranking or from scratch, means over the seeds
  // (the README names the starts in words; a frozen start's few differing picks are left blank).
  'results/bench/probe-ppo-from-ranker.json': (t, file) => {
    type Pick = { learnerOnly: number; rankerOnly: number };
    type Row = { start: string; learnerReturn: number; rankerOnLearnerStats: number; learnerOnlyShare: number; picks: Record<string, Pick> };
    const rows = (file as { byStart: Row[] }).byStart;
    const names: Record<string, string> = {
      'the ranking, alpha 3, frozen': 'from ranker, alpha 3, frozen',
      'the ranking, alpha 3, trained': 'from ranker, alpha 3, trained',
      'the ranking, alpha 1 (broader samples), trained': 'from ranker, alpha 1, trained',
      'scratch (ppo-items-tuned-wide), trained': 'from scratch (ppo-items-tuned-wide), trained',
      'scratch, with statistics counted first (64,000 user-steps of other users), trained': 'from scratch, statistics counted first for 64,000 user-steps, trained',
    };
    const pick = (key: string, n: number) => (r: Row) => (r.start.endsWith('frozen') ? '' : pair(r.picks[key]!, n));
    const columns: Record<string, (r: Row) => string> = {
      return: (r) => r.learnerReturn.toFixed(1),
      'the ranker on its statistics': (r) => r.rankerOnLearnerStats.toFixed(1),
      'share of its slate the ranker would not show': (r) => r.learnerOnlyShare.toFixed(3),
      "those items' length / the ranker's (minutes)": pick('length', 2),
      "their hidden quality / the ranker's": pick('quality', 3),
    };
    expect(t.rows.length).toBe(rows.length);
    return compareRows(t, (name) => rows.find((r) => r.start === names[name]) ?? null, (h) => columns[h]);
  },
  // experiments/probe-ppo-gradient.ts: PPO's gradient for the watched-fraction column, per quarter of training
  // and with the policy frozen at the end, for ppo-items-tuned-wide, seed by seed (joined by ' / ').
  'results/bench/probe-ppo-gradient.json': (t, file) => {
    type T = { mean: number; t: number };
    type Quarter = { quarter: number; wf: T; wfMeanOverRms: number; sharpen: T; wfWeightAtEnd: number };
    type Seed = { learner: string; seed: number; quarters: Quarter[]; frozenEnd: { wf: T; sharpen: T } };
    const seeds = (file as { perSeed: Seed[] }).perSeed.filter((x) => x.learner === 'ppo-items-tuned-wide');
    expect(seeds.map((x) => x.seed)).toEqual([10, 11]);
    type Row = { quarter: Quarter | null; frozen: { wf: T; sharpen: T } }[];
    const find = (name: string): Row | null =>
      name === 'frozen end' ? seeds.map((x) => ({ quarter: null, frozen: x.frozenEnd })) : /^[1-4]$/.test(name) ? seeds.map((x) => { const q = x.quarters.find((y) => y.quarter === Number(name))!; return { quarter: q, frozen: { wf: q.wf, sharpen: q.sharpen } }; }) : null;
    const tt = (v: T) => `${v.mean.toFixed(3)} (${v.t.toFixed(1)})`;
    const per = (f: (p: Row[number]) => string) => (r: Row) => r.map(f).join(' / ');
    const columns: Record<string, (r: Row) => string> = {
      "the column's weight: mean gradient (t)": per((p) => tt(p.frozen.wf)),
      'its minibatch gradients: mean / root mean square': (r) => (r[0]!.quarter ? r.map((p) => p.quarter!.wfMeanOverRms.toFixed(2)).join(' / ') : ''),
      "the weight at the quarter's end": (r) => (r[0]!.quarter ? r.map((p) => p.quarter!.wfWeightAtEnd.toFixed(3)).join(' / ') : ''),
      'sharpen: mean (t)': per((p) => tt(p.frozen.sharpen)),
    };
    return compareRows(t, find, (h) => columns[h]);
  },
  // experiments/probe-wasm-threads.ts: PPO's update kernels on the default and the threaded build, medians.
  'results/bench/wasm-threads.json': (t, file) => {
    type Row = { build: string; threadsInUse: number; medianMs: Record<string, number> };
    const rows = (file as { rows: Row[] }).rows;
    const builds: Record<string, string> = { 'SIMD (the default)': 'simd', 'threaded SIMD': 'threaded-simd' };
    const ms = (k: string) => (r: Row) => r.medianMs[k]!.toFixed(1);
    const columns: Record<string, (r: Row) => string> = {
      'threads in use': (r) => String(r.threadsInUse),
      'forward x W (ms, median)': ms('forward'),
      'weight gradient (x^T) dy (ms)': ms('weightGrad'),
      'training step (ms)': ms('trainStep'),
    };
    expect(t.rows.length).toBe(rows.length);
    return compareRows(t, (name, cells) => rows.find((r) => r.build === builds[name] && String(r.threadsInUse) === cells[1]) ?? null, (h) => columns[h]);
  },
  // The fifth pass's before/after (egym bench agents, the supervised build, the quick flagship): every repetition
  // of each commit, and the change within each repetition as a range of whole percents (smallest change first).
  'results/bench/fifth-pass-before-after.json': (t, file) => {
    type Bench = { agent: string; env: string; stepsPerSecond: number };
    type Run = { code: string; repetition: number; rows: Bench[]; supervisedBuildSeconds: number };
    type Quick = { code: string; repetition: number; wallSeconds: number; userCpuSeconds: number };
    const f = file as { runs: Run[]; flagshipQuick: Quick[] };
    const bench = (agent: string, env: string) => (code: string) =>
      f.runs.filter((r) => r.code === code).sort((a, b) => a.repetition - b.repetition).map((r) => r.rows.find((x) => x.agent === agent && x.env === env)!.stepsPerSecond);
    const measures: Record<string, { values: (code: string) => number[]; fmt: (x: number) => string }> = {
      'PPO, retention-v0 (env-steps/s)': { values: bench('ppo', 'retention-v0'), fmt: (x) => Math.round(x).toLocaleString('en-US') },
      'PPO, interest-evolution-v0': { values: bench('ppo', 'interest-evolution-v0'), fmt: (x) => Math.round(x).toLocaleString('en-US') },
      'SlateQ, retention-v0': { values: bench('slateq', 'retention-v0'), fmt: (x) => Math.round(x).toLocaleString('en-US') },
      'SlateQ, interest-evolution-v0': { values: bench('slateq', 'interest-evolution-v0'), fmt: (x) => Math.round(x).toLocaleString('en-US') },
      "supervised agent's build, retention-v1 (s)": { values: (code) => f.runs.filter((r) => r.code === code).sort((a, b) => a.repetition - b.repetition).map((r) => r.supervisedBuildSeconds), fmt: (x) => x.toFixed(2) },
      'quick flagship, 2 workers (s, wall)': { values: (code) => f.flagshipQuick.filter((r) => r.code === code).sort((a, b) => a.repetition - b.repetition).map((r) => r.wallSeconds), fmt: (x) => x.toFixed(2) },
      'quick flagship, CPU (s, user)': { values: (code) => f.flagshipQuick.filter((r) => r.code === code).sort((a, b) => a.repetition - b.repetition).map((r) => r.userCpuSeconds), fmt: (x) => x.toFixed(2) },
    };
    type M = (typeof measures)[string];
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${x}%`;
    const columns: Record<string, (m: M) => string> = {
      before: (m) => m.values('before').map(m.fmt).join(', '),
      after: (m) => m.values('after').map(m.fmt).join(', '),
      'within each repetition': (m) => {
        const b = m.values('before');
        const changes = m.values('after').map((a, i) => Math.round(100 * (a / b[i]! - 1))).sort((x, y) => Math.abs(x) - Math.abs(y));
        return changes[0] === changes[changes.length - 1] ? pct(changes[0]!) : `${pct(changes[0]!)} to ${pct(changes[changes.length - 1]!)}`;
      },
    };
    return compareRows(t, (name) => measures[name] ?? null, (h) => columns[h]);
  },
  // experiments/probe-ppo-path.ts: greedy and sampled returns along each path, means over the seeds.
  'results/bench/probe-ppo-path.json': (t, file) => {
    type Point = { path: string; param: number; greedy: { lifetime: number; jDay: number }; sampled: { lifetime: number; jDay: number } };
    const means = (file as { means: Point[] }).means;
    const at = (path: string, params: number[]) => params.map((q) => means.find((m) => m.path === path && m.param === q));
    /** The points a row names: PPO as trained is the blends' t 0; the column alone their t 1. */
    const points = (name: string): (Point | undefined)[] | null => {
      if (name === 'PPO as trained (s)') return at('blend, alpha 1', [0]);
      let m = /^blend, alpha (\d+), t ([\d.]+)$/.exec(name);
      if (m) return at(`blend, alpha ${m[1]}`, [Number(m[2])]);
      m = /^the column alone, alpha (\d+) \(t 1\)$/.exec(name);
      if (m) return at(`blend, alpha ${m[1]}`, [1]);
      m = /^(sharpen), c (.+)$|^(add|add minutes per click), beta (.+)$/.exec(name);
      if (m) return at(m[1] ?? m[3]!, variants(m[2] ?? m[4]!));
      return null;
    };
    const col = (get: (p: Point) => number) => (ps: (Point | undefined)[]) => joined(ps.map((p) => (p ? get(p).toFixed(1) : 'missing')));
    const columns: Record<string, (ps: (Point | undefined)[]) => string> = {
      'greedy: lifetime': col((p) => p.greedy.lifetime),
      'greedy: J_day(0.9)': col((p) => p.greedy.jDay),
      'sampled: lifetime': col((p) => p.sampled.lifetime),
      'sampled: J_day(0.9)': col((p) => p.sampled.jDay),
    };
    return compareRows(t, points, (h) => columns[h]);
  },
};

/** The comparison with a paper (`<!-- published: results/reference/NAME -->`), from the summary's `published` rows. */
const PUBLISHED_COLUMNS: Record<string, (r: PublishedRow) => string> = {
  'ours: avg. return [95% CI]': (r) => ci(r.mean, r.lo, r.hi, 1),
  'paper: avg. return': (r) => String(r.published),
  difference: (r) => `${r.diff >= 0 ? '+' : ''}${r.diff.toFixed(1)}`,
};

describe("the README's comparison with the paper is the committed run's", () => {
  for (const t of tables.filter((x) => x.kind === 'published')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const p = (JSON.parse(readFileSync(new URL(`${t.dir}/summary.json`, root), 'utf8')) as Summary).published;
      expect(p).toBeDefined();
      expect(compareRows(t, (name) => p!.rows.find((r) => r.label === name) ?? null, (h) => PUBLISHED_COLUMNS[h])).toEqual([]);
      // Every published number is in the table.
      expect(t.rows.map((r) => unbold(r.cells[0]!))).toEqual(p!.rows.map((r) => r.label));
    });
  }
});

describe("the README's ceiling-tuning row is the committed tuning file", () => {
  for (const t of tables.filter((x) => x.kind === 'ceiling-tuning')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      type File = { users: number; rows: { satisfactionWeight: number; meanReturn: number }[] };
      const file = JSON.parse(readFileSync(new URL(t.dir, root), 'utf8')) as File;
      expect(t.header[0]).toBe('satisfactionWeight');
      // One row; a column per weight, every weight of the file shown.
      expect(t.header.slice(1).map(Number)).toEqual(file.rows.map((r) => r.satisfactionWeight));
      const find = (name: string) => (name === `mean lifetime minutes (${file.users} users)` ? file : null);
      const column = (h: string) => (f: File) => f.rows.find((r) => r.satisfactionWeight === Number(h))?.meanReturn.toFixed(1) ?? 'missing';
      expect(compareRows(t, find, column)).toEqual([]);
      expect(t.rows.length).toBe(1);
    });
  }
});

/**
 * The before/after benchmark tables (`<!-- before-after: FILE -->`): `egym bench agents` run alternately on two
 * commits, every repetition of each shown in order, as `steps/s`, `steps/s (learning GFLOP/s)` or `steps/s
 * (learning GFLOP/s / peak)`, in the form the README picked for that row.
 */
describe("the README's before/after benchmark tables are the committed benchmark runs", () => {
  type BenchRow = { agent: string; env: string; stepsPerSecond: number; updateGflops: number; peakGflops: number };
  type File = { runs: { code: string; repetition: number; rows: BenchRow[] }[] };
  const entry = (r: BenchRow, shown: string) => {
    const n = Math.round(r.stepsPerSecond).toLocaleString('en-US');
    if (/\(.+ \/ .+\)$/.test(shown)) return `${n} (${r.updateGflops.toFixed(2)} / ${r.peakGflops.toFixed(1)})`;
    if (/\(.+\)$/.test(shown)) return `${n} (${r.updateGflops.toFixed(2)})`;
    return n;
  };
  for (const t of tables.filter((x) => x.kind === 'before-after')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const file = JSON.parse(readFileSync(new URL(t.dir, root), 'utf8')) as File;
      expect(t.header.slice(0, 2)).toEqual(['agent', 'env']);
      type Key = { agent: string; env: string };
      const column = (h: string) => {
        if (h === 'env') return (k: Key) => k.env;
        const m = /^(before|after): steps\/s/.exec(h);
        if (!m) return undefined;
        return (k: Key, shown: string) => {
          const runs = file.runs.filter((r) => r.code === m[1]).sort((a, b) => a.repetition - b.repetition);
          const parts = shown.split(', ');
          return runs
            .map((run, i) => {
              const row = run.rows.find((r) => r.agent === k.agent && r.env === k.env);
              return row ? entry(row, parts[i] ?? '') : 'missing';
            })
            .join(', ');
        };
      };
      expect(compareRows(t, (agent, cells) => ({ agent, env: cells[1]! }), column)).toEqual([]);
      expect(t.rows.length).toBeGreaterThan(0);
    });
  }
});

/**
 * The scaling tables (`<!-- scaling: FILE,FILE,... -->`, `egym bench scaling --out`): the table's rows are the
 * files' rows in order (the first column names each measurement in words), every number as the file holds it.
 */
describe("the README's scaling tables are the committed scaling runs", () => {
  type Row = { mode: string; workers: number; seconds: number[]; medianSeconds: number; cellsPerMinute: number; speedup: number; pairedSpeedups: number[]; medianPairedSpeedup: number; utilization: number; contention: number; coreSlowdown: number | null; memorySlowdown?: number | null };
  // Ratios with two decimals; a 1-worker row's own reference ratio as 1x.
  const x = (v: number | null | undefined, r: Row) => (v === null || v === undefined ? '' : r.workers === 1 && v === 1 ? '1x' : `${v.toFixed(2)}x`);
  const paired = (r: Row) => r.pairedSpeedups.map((v) => v.toFixed(2)).join(', ');
  const COLUMNS: Record<string, (r: Row) => string> = {
    workers: (r) => String(r.workers),
    'runs (s)': (r) => r.seconds.map((v) => v.toFixed(1)).join(', '),
    'median (s)': (r) => r.medianSeconds.toFixed(1),
    'cells/min (median)': (r) => r.cellsPerMinute.toFixed(1),
    'cells/min': (r) => r.cellsPerMinute.toFixed(1),
    'speedup, ratio of medians': (r) => x(r.speedup, r),
    'speedup within each repetition (median)': (r) => (r.workers === 1 ? '' : `${paired(r)} (${r.medianPairedSpeedup.toFixed(2)}x)`),
    'within each repetition': (r) => (r.workers === 1 ? '' : paired(r)),
    utilization: (r) => r.utilization.toFixed(2),
    contention: (r) => x(r.contention, r),
    "cores' own slowdown (probe)": (r) => x(r.coreSlowdown, r),
    "cores' own slowdown": (r) => x(r.coreSlowdown, r),
    'memory probe slowdown': (r) => x(r.memorySlowdown, r),
  };
  for (const t of tables.filter((k) => k.kind === 'scaling')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const rows = t.dir.split(',').flatMap((f) => (JSON.parse(readFileSync(new URL(f, root), 'utf8')) as { rows: Row[] }).rows);
      expect(t.rows.length).toBe(rows.length);
      let i = 0;
      expect(compareRows(t, () => rows[i++] ?? null, (h) => COLUMNS[h])).toEqual([]);
    });
  }
});

describe("the README's probe tables are the committed probe files", () => {
  for (const t of tables.filter((x) => x.kind === 'probe')) {
    it(`${t.dir} (README line ${t.line})`, () => {
      const check = PROBES[t.dir];
      if (!check) throw new Error(`no rules for the probe file ${t.dir}`);
      expect(check(t, JSON.parse(readFileSync(new URL(t.dir, root), 'utf8')))).toEqual([]);
      expect(t.rows.length).toBeGreaterThan(0);
    });
  }
});

describe('the README table checker', () => {
  const s: Summary = {
    baseline: 'b',
    floor: 'random',
    ceiling: 'top',
    groups: [],
  };
  const g: Group = { label: 'a', point: {}, oracle: false, metrics: { return: { mean: 765.44, lo: 765.41, hi: 765.449 }, ctr: { mean: 0.5, lo: 0.4, hi: 0.6 } }, vsBaseline: { return: { diff: 77.31, lo: 77.29, hi: 77.34, poi: 1, pHolm: 2e-5 } } };
  it('prints a zero-wide interval as the mean alone only where the README does', () => {
    expect(expectedCell(s, g, 'lifetime engagement (return)', '765.4')).toBe('765.4');
    expect(expectedCell(s, g, 'lifetime engagement (return)', '765.4 [765.4, 765.4]')).toBe('765.4 [765.4, 765.4]');
    expect(expectedCell(s, g, 'CTR', '0.500')).toBe('0.500 [0.400, 0.600]');
    expect(expectedCell(s, g, 'vs b: return difference over seeds', '+77.3, 1.00, <1e-4')).toBe('+77.3, 1.00, <1e-4');
    expect(expectedCell(s, g, 'vs b: return difference over seeds', '+77.3 [77.3, 77.3], 1.00, <1e-4')).toBe('+77.3 [77.3, 77.3], 1.00, <1e-4');
  });
  it('refuses a column it has no rule for', () => {
    expect(() => expectedCell(s, g, 'sessions', '1')).toThrow(/no rule for the column "sessions"/);
  });
  it('names rows by label, roles and sweep point', () => {
    expect(rowName(s, { ...g, label: 'top', oracle: true })).toBe('top (oracle, ceiling)');
    expect(rowName(s, { ...g, label: 'random', point: { 'env.params.tau': 0.1 } })).toBe('random (floor) tau=0.1');
  });
  it('finds a marked table and refuses a marker without one', () => {
    const t = markedTables(['<!-- summary: x -->', 'text', '| agent | CTR |', '|---|---|', '| a | 0.5 |', '', 'after']);
    expect(t).toEqual([{ kind: 'summary', dir: 'x', line: 1, header: ['agent', 'CTR'], rows: [{ line: 5, cells: ['a', '0.5'] }] }]);
    expect(() => markedTables(['<!-- summary: x -->', 'text only'])).toThrow(/no table after it/);
  });
});
