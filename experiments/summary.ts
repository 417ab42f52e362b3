/**
 * The summary of a run: per agent (and sweep point), each final metric's mean and 95% t-interval across
 * seeds (per-seed value = mean over the final evaluation users), its interquartile mean with a stratified
 * bootstrap CI, and versus the baseline the paired difference over the common evaluation users (pooled over
 * seeds) with its CI, relative improvement and paired t-test p-value, Holm-corrected across the compared agents.
 * Derived metrics: D1 / D7 / D30 retention (a session on or after day k; at or past the horizon: not churned),
 * the survival curve of users over days, per-step engagement, return gap, session length, coverage.
 * Built from the cells in index order, and free of timing: identical whatever the number of workers.
 */
import type { CellResult } from './run-cell.js';
import type { ResolvedSpec } from './spec.js';
import { holm, iqm, mean, pairedDifference, stratifiedBootstrap, tInterval } from './stats.js';

export const SUMMARY_METRICS: { key: string; label: string; multiSession?: boolean }[] = [
  { key: 'return', label: 'lifetime engagement (return)' },
  { key: 'perStep', label: 'engagement per step' },
  { key: 'length', label: 'steps per user' },
  { key: 'ctr', label: 'CTR' },
  { key: 'activeDays', label: 'active days', multiSession: true },
  { key: 'sessions', label: 'sessions', multiSession: true },
  { key: 'churned', label: 'churn rate', multiSession: true },
  { key: 'd1', label: 'D1 retention', multiSession: true },
  { key: 'd7', label: 'D7 retention', multiSession: true },
  { key: 'd30', label: 'D30 retention', multiSession: true },
  { key: 'firstSessionCtr', label: 'first-session CTR', multiSession: true },
  { key: 'diversity', label: 'intra-list diversity' },
  { key: 'novelty', label: 'novelty (bits)' },
];

export interface MetricSummary {
  mean: number;
  lo: number;
  hi: number;
  iqm: number;
  iqmLo: number;
  iqmHi: number;
}
export interface Comparison {
  diff: number;
  lo: number;
  hi: number;
  relative: number;
  p: number;
  pHolm: number;
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
  extras: { sessionLength: number; returnGap: number; coverage: number };
  curve: { userSteps: number; mean: number; lo: number; hi: number }[];
  survival: number[];
}
export interface Summary {
  experiment: string;
  env: string;
  baseline: string;
  metrics: typeof SUMMARY_METRICS;
  horizonDays: number | null;
  groups: GroupSummary[];
}

/** Per-user values of a (possibly derived) metric of one cell; NaN where undefined. */
export function userValues(r: CellResult, key: string, horizon: number | null): number[] {
  const u = r.final.users;
  const num = (a: (number | null)[]) => a.map((v) => (v === null ? NaN : v));
  const ret = num(u.return);
  const len = num(u.length);
  if (key === 'perStep') return ret.map((v, i) => v / len[i]!);
  const m = /^d(\d+)$/.exec(key);
  if (m) {
    const k = Number(m[1]);
    const last = num(u.lastDay);
    const churned = num(u.churned);
    return last.map((d, i) => (Number.isNaN(d) ? NaN : horizon !== null && k >= horizon ? 1 - churned[i]! : Math.floor(d) >= k ? 1 : 0));
  }
  return num(u[key as keyof typeof u]);
}

function finiteMean(x: number[]): number {
  const f = x.filter(Number.isFinite);
  return f.length ? mean(f) : NaN;
}

export function summarize(spec: ResolvedSpec, results: CellResult[]): Summary {
  const sorted = [...results].sort((a, b) => a.cell.index - b.cell.index);
  const horizon = typeof spec.env.params.horizonDays === 'number' ? (spec.env.params.horizonDays as number) : null;
  const multi = sorted.some((r) => r.final.users.activeDays.some((v) => v !== null));
  const metrics = SUMMARY_METRICS.filter((m) => !m.multiSession || multi);
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
      const perSeed = cells.map((r) => finiteMean(userValues(r, m.key, horizon))).filter(Number.isFinite);
      if (perSeed.length === 0) continue;
      const ci = tInterval(perSeed);
      const boot = perSeed.length > 1 ? stratifiedBootstrap([perSeed], iqm, { seed: 7 }) : { lo: NaN, hi: NaN };
      ms[m.key] = { mean: ci.mean, lo: ci.lo, hi: ci.hi, iqm: iqm(perSeed), iqmLo: boot.lo, iqmHi: boot.hi };
    }
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
      extras: {
        sessionLength: finiteMean(cells.flatMap((r) => r.final.sessionLengths)),
        returnGap: finiteMean(cells.flatMap((r) => r.final.returnGaps)),
        coverage: finiteMean(cells.map((r) => (r.final.coverage === null ? NaN : r.final.coverage))),
      },
      curve,
      survival,
    });
  }
  // Paired comparisons with the baseline of the same sweep point, over users x seeds present in both.
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
        for (let i = 0; i < Math.min(av.length, bv.length); i++) {
          if (Number.isFinite(av[i]!) && Number.isFinite(bv[i]!)) {
            a.push(av[i]!);
            b.push(bv[i]!);
          }
        }
      }
      if (a.length < 2) continue;
      const d = pairedDifference(a, b);
      cmp[m.key] = { diff: d.mean, lo: d.lo, hi: d.hi, relative: d.relative, p: d.p, pHolm: NaN };
    }
    g.vsBaseline = cmp;
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
  return { experiment: spec.name, env: spec.env.id, baseline: spec.baseline, metrics, horizonDays: multi ? horizon : null, groups };
}

/** JSON with NaN and infinities written as null (deterministic key order as built). */
export function summaryJson(s: Summary): string {
  return JSON.stringify(s, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

export function summaryCsv(s: Summary): string {
  const rows = ['point,label,agent,oracle,metric,mean,ci_lo,ci_hi,iqm,iqm_lo,iqm_hi,diff_vs_baseline,diff_lo,diff_hi,relative_pct,p,p_holm'];
  const f = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : String(x));
  for (const g of s.groups) {
    for (const m of s.metrics) {
      const v = g.metrics[m.key];
      if (!v) continue;
      const c = g.vsBaseline?.[m.key];
      rows.push(
        [JSON.stringify(JSON.stringify(g.point)), g.label, g.agentId, g.oracle, m.key, f(v.mean), f(v.lo), f(v.hi), f(v.iqm), f(v.iqmLo), f(v.iqmHi), f(c?.diff), f(c?.lo), f(c?.hi), f(c?.relative), f(c?.p), f(c?.pHolm)].join(','),
      );
    }
  }
  return rows.join('\n') + '\n';
}

/** A plain-text table of the main metrics (for the terminal). */
export function summaryTable(s: Summary, keys = ['return', 'activeDays', 'd30', 'churned', 'ctr']): string {
  const ks = keys.filter((k) => s.metrics.some((m) => m.key === k));
  const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const head = ['agent', ...ks.map((k) => s.metrics.find((m) => m.key === k)!.label), `vs ${s.baseline}: return diff [95% CI], rel., p (Holm)`];
  const lines = [head.join(' | ')];
  for (const g of s.groups) {
    const pt = Object.keys(g.point).length ? ` ${JSON.stringify(g.point)}` : '';
    const cells = ks.map((k) => {
      const v = g.metrics[k];
      return v ? `${fmt(v.mean)} [${fmt(v.lo)}, ${fmt(v.hi)}]` : '-';
    });
    const c = g.vsBaseline?.return;
    const vs = c ? `${c.diff >= 0 ? '+' : ''}${fmt(c.diff)} [${fmt(c.lo)}, ${fmt(c.hi)}], ${c.relative >= 0 ? '+' : ''}${fmt(c.relative, 1)}%, p ${c.pHolm < 1e-4 ? '<1e-4' : fmt(c.pHolm, 4)}` : g.label === s.baseline ? '(baseline)' : '-';
    lines.push([`${g.label}${g.oracle ? ' (oracle)' : ''}${pt}`, ...cells, vs].join(' | '));
  }
  return lines.join('\n');
}
