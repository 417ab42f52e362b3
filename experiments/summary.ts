/**
 * The summary of a run. The unit of replication is the seed: every interval is over per-seed values (a
 * seed's value = its mean over the final evaluation users, who are the same users for every agent and seed).
 * Per agent (and sweep point), each final metric's mean with a 95% t-interval over seeds (binary metrics:
 * churn and Dk retention, a Wilson interval at the design-effect sample size, inside [0, 1]; bounded rates:
 * the t-interval cut to [0, 1], which keeps its coverage), its interquartile mean with a stratified bootstrap
 * CI; versus the baseline the paired difference over seeds (per seed: the mean difference on the same users)
 * with its t-interval, relative improvement, paired t-test p-value (Holm-corrected across the compared
 * agents) and the probability of improvement P(agent > baseline) over seeds with a bootstrap CI (rliable);
 * the normalized score (agent - floor) / (ceiling - floor) per seed with its t-interval, where the spec names
 * a floor (random) and a ceiling oracle; and the untrained evaluation (the learning curve's first point).
 * Every interval keeps the per-seed values it is over (`perSeed`, in the order of the group's seeds), so that any
 * two agents can be paired by seed later (experiments/compare.ts, `egym compare`).
 * The metrics are the registry's (experiments/metrics.ts), D1 / D7 / D30 retention among them; also the
 * survival curve of users over days, return gap, session length and coverage.
 * Where the spec has published numbers (a paper's table for the same setting), `published` puts each labelled
 * agent's mean of that metric, with its interval over seeds, next to the published number: the difference, and
 * whether it lies within the spec's tolerance.
 * Built from the cells in index order, and free of timing: identical whatever the number of workers.
 */
import { csvFormatRows } from 'd3-dsv';
import type { CellResult } from './run-cell.js';
import { listMetrics, metricValues } from './metrics.js';
import type { ResolvedSpec } from './spec.js';
import { holm, iqm, mean, pairedDifference, probabilityOfImprovementCi, seedProportionInterval, stratifiedBootstrap, tInterval } from './stats.js';

/** A metric as the summary records it (from the registry, experiments/metrics.ts). */
export interface SummaryMetric {
  key: string;
  label: string;
  multiSession?: boolean;
  /** 'binary' (0/1 per user: Wilson intervals), 'rate' (a mean in [0, 1]: t-interval cut to [0, 1]), or real. */
  kind?: 'binary' | 'rate';
}

/** The registered metrics, as summaries record them. */
export function summaryMetrics(): SummaryMetric[] {
  return listMetrics().map((m) => ({ key: m.key, label: m.label, ...(m.multiSession ? { multiSession: true } : {}), ...(m.kind ? { kind: m.kind } : {}) }));
}

export interface MetricSummary {
  mean: number;
  lo: number;
  hi: number;
  iqm: number;
  iqmLo: number;
  iqmHi: number;
  /** The per-seed values the interval is over, in the order of the group's `seeds` (NaN: no value for that seed). */
  perSeed: number[];
}
export interface Comparison {
  /** Mean over seeds of the per-seed mean difference on the same users, and its t-interval over seeds. */
  diff: number;
  lo: number;
  hi: number;
  relative: number;
  /** Paired t-test over seeds (S - 1 df), and Holm's adjustment across the agents compared. */
  p: number;
  pHolm: number;
  /** P(agent > baseline) over seeds (rliable) and its bootstrap CI. */
  poi: number;
  poiLo: number;
  poiHi: number;
}
export interface SeedInterval {
  mean: number;
  lo: number;
  hi: number;
  /** The per-seed values, in the order of the group's `seeds`. */
  perSeed: number[];
}
export interface GroupSummary {
  point: Record<string, unknown>;
  pointIndex: number;
  label: string;
  agentId: string;
  oracle: boolean;
  seeds: number[];
  metrics: Record<string, MetricSummary>;
  vsBaseline: Record<string, Comparison> | null;
  /** (return - floor) / (ceiling - floor) per seed, t-interval over seeds; null without a floor and a ceiling. */
  normalized: SeedInterval | null;
  /** The return of the untrained agent (the learning curve's first point, eval users), over seeds; null without a curve. */
  untrained: SeedInterval | null;
  extras: { sessionLength: number; returnGap: number; coverage: number };
  curve: { userSteps: number; mean: number; lo: number; hi: number }[];
  survival: number[];
}
/** One agent's result next to its published number (`within`: |mean - published| <= tolerance). */
export interface PublishedRow {
  label: string;
  published: number;
  mean: number;
  lo: number;
  hi: number;
  diff: number;
  within: boolean;
}
export interface PublishedComparison {
  source: string;
  metric: string;
  tolerance: number;
  rows: PublishedRow[];
}
export interface Summary {
  experiment: string;
  env: string;
  baseline: string;
  /** Labels of the floor (random) and the ceiling of the normalized score, when the spec has them. */
  floor: string | null;
  ceiling: string | null;
  metrics: SummaryMetric[];
  horizonDays: number | null;
  groups: GroupSummary[];
  /** Only where the spec has published numbers. */
  published?: PublishedComparison;
}

/** Per-user values of a registered metric of one cell; NaN where undefined. */
export function userValues(r: CellResult, key: string, horizon: number | null): number[] {
  const m = listMetrics().find((d) => d.key === key);
  const col = r.final.users[key];
  if (!m) return col ? col.map((v) => (v === null ? NaN : v)) : [];
  return metricValues(m, r.final.users, { horizon });
}

function finiteMean(x: number[]): number {
  const f = x.filter(Number.isFinite);
  return f.length ? mean(f) : NaN;
}

export function summarize(spec: ResolvedSpec, results: CellResult[]): Summary {
  const sorted = [...results].sort((a, b) => a.cell.index - b.cell.index);
  const horizon = typeof spec.env.params.horizonDays === 'number' ? (spec.env.params.horizonDays) : null;
  const multi = sorted.some((r) => r.final.users.activeDays.some((v) => v !== null));
  const metrics = summaryMetrics().filter((m) => !m.multiSession || multi);
  const groupsMap = new Map<string, CellResult[]>();
  for (const r of sorted) {
    const k = `${r.cell.pointIndex}|${r.cell.label}`;
    if (!groupsMap.has(k)) groupsMap.set(k, []);
    groupsMap.get(k)!.push(r);
  }
  const groups: GroupSummary[] = [];
  for (const cells of groupsMap.values()) {
    const c0 = cells[0]!.cell;
    const ms: Record<string, MetricSummary> = {};
    for (const m of metrics) {
      const bySeed = cells.map((r) => finiteMean(userValues(r, m.key, horizon)));
      const perSeed = bySeed.filter(Number.isFinite);
      if (perSeed.length === 0) continue;
      let ci: { mean: number; lo: number; hi: number } = tInterval(perSeed);
      if (m.kind === 'binary') ci = seedProportionInterval(cells.map((r) => userValues(r, m.key, horizon).filter(Number.isFinite)).filter((x) => x.length > 0));
      else if (m.kind === 'rate') ci = { mean: ci.mean, lo: Math.max(0, ci.lo), hi: Math.min(1, ci.hi) };
      const boot = perSeed.length > 1 ? stratifiedBootstrap([perSeed], iqm, { seed: 7 }) : { lo: NaN, hi: NaN };
      ms[m.key] = { mean: ci.mean, lo: ci.lo, hi: ci.hi, iqm: iqm(perSeed), iqmLo: boot.lo, iqmHi: boot.hi, perSeed: bySeed };
    }
    const untrainedPts = cells.map((r) => (r.curve.length > 0 && r.curve[0]!.userSteps === 0 ? r.curve[0]!.means.return! : NaN));
    const untrained = untrainedPts.every(Number.isFinite) ? seedInterval(untrainedPts) : null;
    // Learning curve of the return: per evaluation point, mean and t-interval across seeds.
    const curve: GroupSummary['curve'] = [];
    const nPts = Math.min(...cells.map((r) => r.curve.length));
    for (let i = 0; i < nPts; i++) {
      const v = cells.map((r) => r.curve[i]!.means.return!);
      const ci = tInterval(v);
      curve.push({ userSteps: cells[0]!.curve[i]!.userSteps, mean: ci.mean, lo: ci.lo, hi: ci.hi });
    }
    const survival: number[] = [];
    if (multi && horizon !== null) {
      for (let d = 0; d <= Math.ceil(horizon); d++) {
        let alive = 0;
        let n = 0;
        for (const r of cells) {
          const last = r.final.users.lastDay;
          const ch = r.final.users.churned;
          for (let i = 0; i < last.length; i++) {
            if (last[i] === null) continue;
            n++;
            if (ch[i] === 0 || (last[i] as number) >= d) alive++;
          }
        }
        survival.push(n ? alive / n : NaN);
      }
    }
    groups.push({
      point: c0.point,
      pointIndex: c0.pointIndex,
      label: c0.label,
      agentId: c0.agentId,
      oracle: c0.oracle,
      seeds: cells.map((r) => r.cell.seed),
      metrics: ms,
      vsBaseline: null,
      normalized: null,
      untrained,
      extras: {
        sessionLength: finiteMean(cells.flatMap((r) => r.final.sessionLengths)),
        returnGap: finiteMean(cells.flatMap((r) => r.final.returnGaps)),
        coverage: finiteMean(cells.map((r) => (r.final.coverage === null ? NaN : r.final.coverage))),
      },
      curve,
      survival,
    });
  }
  // Paired comparisons with the baseline of the same sweep point, over the seeds both have: per seed, the
  // mean difference over the users both evaluated (the same users); then a t-interval over seeds.
  const perSeedMeans = (cells: CellResult[], key: string) => new Map(cells.map((r) => [r.cell.seed, finiteMean(userValues(r, key, horizon))]));
  for (const g of groups) {
    if (g.label === spec.baseline) continue;
    const base = groupsMap.get(`${g.pointIndex}|${spec.baseline}`);
    const mine = groupsMap.get(`${g.pointIndex}|${g.label}`)!;
    if (!base) continue;
    const cmp: Record<string, Comparison> = {};
    for (const m of metrics) {
      const a: number[] = [];
      const b: number[] = [];
      for (const r of mine) {
        const br = base.find((x) => x.cell.seed === r.cell.seed);
        if (!br) continue;
        const av = userValues(r, m.key, horizon);
        const bv = userValues(br, m.key, horizon);
        let sa = 0;
        let sb = 0;
        let n = 0;
        for (let i = 0; i < Math.min(av.length, bv.length); i++) {
          if (Number.isFinite(av[i]!) && Number.isFinite(bv[i]!)) {
            sa += av[i]!;
            sb += bv[i]!;
            n++;
          }
        }
        if (n === 0) continue;
        a.push(sa / n);
        b.push(sb / n);
      }
      if (a.length < 1) continue;
      const d = pairedDifference(a, b);
      const poi = probabilityOfImprovementCi([...perSeedMeans(mine, m.key).values()].filter(Number.isFinite), [...perSeedMeans(base, m.key).values()].filter(Number.isFinite), { seed: 11 });
      cmp[m.key] = { diff: d.mean, lo: d.lo, hi: d.hi, relative: d.relative, p: d.p, pHolm: NaN, poi: poi.p, poiLo: poi.lo, poiHi: poi.hi };
    }
    g.vsBaseline = cmp;
  }
  // Normalized score per seed against the floor and the ceiling of the same sweep point.
  if (spec.floor && spec.ceiling) {
    for (const g of groups) {
      const fl = groupsMap.get(`${g.pointIndex}|${spec.floor}`);
      const ce = groupsMap.get(`${g.pointIndex}|${spec.ceiling}`);
      if (!fl || !ce) continue;
      const fm = perSeedMeans(fl, 'return');
      const cm = perSeedMeans(ce, 'return');
      const v: number[] = [];
      // Aligned with g.seeds: NaN for a seed without a floor or a ceiling run (left out of the interval).
      const aligned: number[] = [];
      for (const r of groupsMap.get(`${g.pointIndex}|${g.label}`)!) {
        const f = fm.get(r.cell.seed);
        const c = cm.get(r.cell.seed);
        if (f === undefined || c === undefined || !(c - f !== 0)) {
          aligned.push(NaN);
          continue;
        }
        const x = (finiteMean(userValues(r, 'return', horizon)) - f) / (c - f);
        v.push(x);
        aligned.push(x);
      }
      if (v.length > 0 && v.every(Number.isFinite)) g.normalized = { ...seedInterval(v), perSeed: aligned };
    }
  }
  // Holm across the agents compared with the baseline, per metric and sweep point.
  for (const m of metrics) {
    const byPoint = new Map<number, GroupSummary[]>();
    for (const g of groups) if (g.vsBaseline?.[m.key]) (byPoint.get(g.pointIndex) ?? byPoint.set(g.pointIndex, []).get(g.pointIndex)!).push(g);
    for (const gs of byPoint.values()) {
      const adj = holm(gs.map((g) => g.vsBaseline![m.key]!.p));
      gs.forEach((g, i) => (g.vsBaseline![m.key]!.pHolm = adj[i]!));
    }
  }
  const out: Summary = { experiment: spec.name, env: spec.env.id, baseline: spec.baseline, floor: spec.floor ?? null, ceiling: spec.ceiling ?? null, metrics, horizonDays: multi ? horizon : null, groups };
  if (spec.published) out.published = comparePublished(groups, spec.published);
  return out;
}

/** Each published number next to the agent's result (a spec with published numbers has no sweep: one group per label). */
export function comparePublished(groups: GroupSummary[], p: { source: string; metric: string; tolerance: number; values: Record<string, number> }): PublishedComparison {
  const rows: PublishedRow[] = [];
  for (const [label, published] of Object.entries(p.values)) {
    const v = groups.find((g) => g.label === label)?.metrics[p.metric];
    const mean = v?.mean ?? NaN;
    const diff = mean - published;
    rows.push({ label, published, mean, lo: v?.lo ?? NaN, hi: v?.hi ?? NaN, diff, within: Math.abs(diff) <= p.tolerance });
  }
  return { source: p.source, metric: p.metric, tolerance: p.tolerance, rows };
}

function seedInterval(x: number[]): SeedInterval {
  const ci = tInterval(x);
  return { mean: ci.mean, lo: ci.lo, hi: ci.hi, perSeed: x };
}

/** JSON with NaN and infinities written as null (deterministic key order as built). */
export function summaryJson(s: Summary): string {
  return JSON.stringify(s, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** The summary as RFC 4180 CSV, written by d3-dsv (fields with commas, quotes or newlines quoted, quotes doubled). */
export function summaryCsv(s: Summary): string {
  const rows: string[][] = [
    'point,label,agent,oracle,metric,mean,ci_lo,ci_hi,iqm,iqm_lo,iqm_hi,diff_vs_baseline,diff_lo,diff_hi,relative_pct,p,p_holm,p_improvement,p_improvement_lo,p_improvement_hi,normalized,normalized_lo,normalized_hi,untrained,untrained_lo,untrained_hi'.split(','),
  ];
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : String(x));
  for (const g of s.groups) {
    for (const m of s.metrics) {
      const v = g.metrics[m.key];
      if (!v) continue;
      const c = g.vsBaseline?.[m.key];
      rows.push(
        [
          JSON.stringify(g.point),
          g.label,
          g.agentId,
          String(g.oracle),
          m.key,
          f(v.mean),
          f(v.lo),
          f(v.hi),
          f(v.iqm),
          f(v.iqmLo),
          f(v.iqmHi),
          f(c?.diff),
          f(c?.lo),
          f(c?.hi),
          f(c?.relative),
          f(c?.p),
          f(c?.pHolm),
          f(c?.poi),
          f(c?.poiLo),
          f(c?.poiHi),
          ...(m.key === 'return' ? [f(g.normalized?.mean), f(g.normalized?.lo), f(g.normalized?.hi), f(g.untrained?.mean), f(g.untrained?.lo), f(g.untrained?.hi)] : ['', '', '', '', '', '']),
        ],
      );
    }
  }
  return csvFormatRows(rows) + '\n';
}

/** A plain-text table of the main metrics (for the terminal): aligned columns, oracles and roles marked. */
export function summaryTable(s: Summary, keys = ['return', 'activeDays', 'd30', 'churned', 'ctr']): string {
  const ks = keys.filter((k) => s.metrics.some((m) => m.key === k));
  const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const norm = s.floor != null && s.ceiling != null;
  const head = [
    'agent',
    ...ks.map((k) => s.metrics.find((m) => m.key === k)!.label),
    ...(norm ? [`normalized (${s.floor} 0, ${s.ceiling} 1)`] : []),
    'untrained return',
    `vs ${s.baseline}: return diff over seeds [95% CI], P(>), p (Holm)`,
  ];
  const rows = [head];
  for (const g of s.groups) {
    const pt = Object.keys(g.point).length ? ` ${JSON.stringify(g.point)}` : '';
    const cells = ks.map((k) => {
      const v = g.metrics[k];
      const d = k === 'return' || k === 'activeDays' ? 1 : 3;
      return v ? `${fmt(v.mean, d)} [${fmt(v.lo, d)}, ${fmt(v.hi, d)}]` : '-';
    });
    const n = g.normalized;
    const c = g.vsBaseline?.return;
    const vs = c ? `${c.diff >= 0 ? '+' : ''}${fmt(c.diff, 1)} [${fmt(c.lo, 1)}, ${fmt(c.hi, 1)}], ${fmt(c.poi)}, p ${c.pHolm < 1e-4 ? '<1e-4' : fmt(c.pHolm, 4)}` : g.label === s.baseline ? '(baseline)' : '-';
    const tags = [g.oracle ? 'oracle' : '', g.label === s.floor ? 'floor' : '', g.label === s.ceiling ? 'ceiling' : ''].filter(Boolean);
    rows.push([
      `${g.label}${tags.length ? ` (${tags.join(', ')})` : ''}${pt}`,
      ...cells,
      ...(norm ? [n ? `${fmt(n.mean, 3)} [${fmt(n.lo, 3)}, ${fmt(n.hi, 3)}]` : '-'] : []),
      g.untrained ? fmt(g.untrained.mean, 1) : '-',
      vs,
    ]);
  }
  const main = aligned(rows);
  return s.published ? `${main}\n\n${publishedTable(s, s.published)}` : main;
}

/** Rows of text in columns: the first left-aligned, the others right-aligned. */
function aligned(rows: string[][]): string {
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => r.map((v, j) => (j === 0 ? v.padEnd(widths[j]!) : v.padStart(widths[j]!))).join('  ').trimEnd()).join('\n');
}

/** The published comparison as text: a row per agent, and how many lie within the tolerance. */
export function publishedTable(s: Summary, p: PublishedComparison): string {
  const label = s.metrics.find((m) => m.key === p.metric)?.label ?? p.metric;
  const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const rows = [['agent', `ours: ${label} [95% CI]`, 'published', 'difference', `within ${p.tolerance}`]];
  for (const r of p.rows) rows.push([r.label, `${fmt(r.mean)} [${fmt(r.lo)}, ${fmt(r.hi)}]`, String(r.published), `${r.diff >= 0 ? '+' : ''}${fmt(r.diff)}`, r.within ? 'yes' : 'NO']);
  const n = p.rows.filter((r) => r.within).length;
  return `published: ${p.source}\n${aligned(rows)}\n${n} of ${p.rows.length} within ${p.tolerance} of the published ${label}`;
}
