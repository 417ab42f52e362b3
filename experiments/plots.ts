/**
 * Plots as SVG, rendered without a browser by Vega-Lite (declarative specs compiled to Vega, rendered with
 * the headless SVG renderer): learning curves with CI bands, final metrics as dot plots with CIs, user
 * survival curves, return-gap histograms, and the topic-interest drift of sampled users.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { CellResult } from './run-cell.js';
import type { Summary } from './summary.js';
import { listMetrics } from './metrics.js';
import { tInterval } from './stats.js';

async function render(spec: Record<string, unknown>): Promise<string> {
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: { font: 'sans-serif', legend: { labelLimit: 320, symbolOpacity: 1 }, axis: { labelLimit: 320 } }, ...spec } as unknown as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(full).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/**
 * Load the renderer and compile its code paths once (a line chart with a band, a dot plot with error bars), so
 * that a report written afterwards renders at full speed. The runner calls it while the last cells still run.
 */
export async function warmPlots(): Promise<void> {
  const values = [0, 1, 2].map((x) => ({ x, y: x * x, lo: x - 1, hi: x + 1, g: x % 2 ? 'a' : 'b' }));
  await render({ data: { values }, layer: [{ mark: 'errorband', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'g' } } }, { mark: 'line', encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, color: { field: 'g' } } }] });
  await render({ data: { values }, layer: [{ mark: 'rule', encoding: { y: { field: 'g', type: 'nominal' }, x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } }, { mark: 'point', encoding: { y: { field: 'g', type: 'nominal' }, x: { field: 'y', type: 'quantitative' } } }] });
}

const groupName = (g: { label: string; point: Record<string, unknown>; oracle: boolean }) =>
  `${g.label}${g.oracle ? ' (oracle)' : ''}${Object.keys(g.point).length ? ' ' + Object.entries(g.point).map(([k, v]) => `${k.replace(/^.*\./, '')}=${String(v)}`).join(',') : ''}`;

export async function makePlots(s: Summary, results: CellResult[]): Promise<Record<string, string>> {
  const plots: Record<string, string> = {};
  const curve = s.groups.flatMap((g) => g.curve.map((p) => ({ agent: groupName(g), steps: p.userSteps, mean: p.mean, lo: Number.isFinite(p.lo) ? p.lo : p.mean, hi: Number.isFinite(p.hi) ? p.hi : p.mean })));
  if (curve.length > 0) {
    plots['learning-curves'] = await render({
      title: 'Learning curves: return on held-out users (mean, 95% CI across seeds)',
      width: 560,
      height: 300,
      data: { values: curve },
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'steps', type: 'quantitative', title: 'training user-steps' }, y: { field: 'mean', type: 'quantitative', title: 'return' }, color: { field: 'agent', type: 'nominal' } } },
        { mark: { type: 'area', opacity: 0.2 }, encoding: { x: { field: 'steps', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'agent', type: 'nominal' } } },
      ],
    });
  }
  const plotted = new Set(listMetrics().filter((d) => d.plot).map((d) => d.key));
  for (const m of s.metrics) {
    const rows = s.groups
      .filter((g) => g.metrics[m.key])
      .map((g) => ({ agent: groupName(g), mean: g.metrics[m.key]!.mean, lo: Number.isFinite(g.metrics[m.key]!.lo) ? g.metrics[m.key]!.lo : g.metrics[m.key]!.mean, hi: Number.isFinite(g.metrics[m.key]!.hi) ? g.metrics[m.key]!.hi : g.metrics[m.key]!.mean }))
      .sort((a, b) => b.mean - a.mean);
    if (rows.length === 0 || !plotted.has(m.key)) continue;
    plots[`final-${m.key}`] = await render({
      title: `${m.label}: mean and 95% CI across seeds (sorted)`,
      width: 480,
      height: { step: 22 },
      data: { values: rows },
      layer: [
        { mark: { type: 'rule', clip: true }, encoding: { y: { field: 'agent', type: 'nominal', sort: null, title: null }, x: { field: 'lo', type: 'quantitative', title: m.label, scale: { zero: false, domain: ciDomain(rows) } }, x2: { field: 'hi' } } },
        { mark: { type: 'point', filled: true, size: 60, clip: true }, encoding: { y: { field: 'agent', type: 'nominal', sort: null }, x: { field: 'mean', type: 'quantitative' } } },
      ],
    });
  }
  await aggregatePlots(s, results, plots);
  await sweepPlots(s, plots, plotted);
  const surv = survivalRows(s, results);
  if (surv.length > 0) {
    plots['survival'] = await render({
      title: 'Users not churned, by day: mean over seeds and 95% CI',
      width: 560,
      height: 280,
      data: { values: surv },
      layer: [
        { mark: { type: 'line', interpolate: 'step-after' }, encoding: { x: { field: 'day', type: 'quantitative' }, y: { field: 'alive', type: 'quantitative', title: 'share of users not churned', scale: { domain: [0, 1] } }, color: { field: 'agent', type: 'nominal', legend: { symbolType: 'stroke', symbolStrokeWidth: 3 } } } },
        { mark: { type: 'area', interpolate: 'step-after', opacity: 0.15 }, encoding: { x: { field: 'day', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'agent', type: 'nominal', legend: { symbolType: 'stroke', symbolStrokeWidth: 3 } } } },
      ],
    });
  }
  const gaps = results.flatMap((r) => r.final.returnGaps.map((g) => ({ agent: r.cell.label, gap: g })));
  if (gaps.length > 0) {
    const capped = gaps.filter((_, i) => i % Math.max(1, Math.floor(gaps.length / 20000)) === 0);
    plots['return-gaps'] = await render({
      title: 'Return gaps between sessions: share of each agent\'s gaps by length (days)',
      width: 560,
      height: 260,
      data: { values: capped },
      transform: [
        { bin: { maxbins: 40 }, field: 'gap', as: 'gap_bin' },
        { aggregate: [{ op: 'count', as: 'n' }], groupby: ['agent', 'gap_bin', 'gap_bin_end'] },
        { joinaggregate: [{ op: 'sum', field: 'n', as: 'total' }], groupby: ['agent'] },
        { calculate: 'datum.n / datum.total', as: 'share' },
      ],
      mark: { type: 'line', point: true, strokeWidth: 1.5 },
      encoding: { x: { field: 'gap_bin', type: 'quantitative', title: 'return gap (days, bin start)' }, y: { field: 'share', type: 'quantitative', title: "share of the agent's return gaps" }, color: { field: 'agent', type: 'nominal' } },
    });
  }
  // Interest drift: the first traced user of each agent's first seed (the same user for every agent: paired).
  const firsts = new Map<string, CellResult>();
  for (const r of [...results].sort((a, b) => a.cell.index - b.cell.index)) {
    const name = groupName({ label: r.cell.label, point: r.cell.point, oracle: r.cell.oracle });
    if (!firsts.has(name) && r.final.interestTrace.length > 0) firsts.set(name, r);
  }
  const order = s.groups.map((g) => groupName(g)).filter((n) => firsts.has(n));
  const drift = order.slice(0, 20).map((n) => [n, firsts.get(n)!] as const).flatMap(([name, r]) => {
    const u0 = r.final.interestTrace[0]![0];
    return r.final.interestTrace.filter((row) => row[0] === u0).flatMap(([, t, ...th]) => th.slice(0, 5).map((v, k) => ({ agent: name, t, topic: `topic ${k}`, interest: v })));
  });
  if (drift.length > 0) {
    const r0 = [...firsts.values()][0]!;
    plots['interest-drift'] = await render({
      title: `Topic interests of one held-out user under each agent (user ${r0.final.interestTrace[0]![0]}, seed ${r0.cell.seed}; first 5 topics)`,
      data: { values: drift },
      facet: { row: { field: 'agent', type: 'nominal', title: null, sort: null } },
      spec: { width: 520, height: 90, mark: 'line', encoding: { x: { field: 't', type: 'quantitative', title: 'day (session starts) or step' }, y: { field: 'interest', type: 'quantitative', scale: { domain: [-1, 1] } }, color: { field: 'topic', type: 'nominal' } } },
    });
  }
  // Training diagnostics: every logged update scalar of each learning agent, one line per seed, one panel per
  // scalar (independent y scales), so a plateau or a collapse shows without rerunning.
  const SPS_PANEL = 'SPS (wall clock)';
  const COUNTERS = new Set(['iteration', 'gradient_steps', 'replay', 'retrains', 'windowImpressions', 'skipped']);
  const byLabel = new Map<string, { seed: number; steps: number; scalar: string; value: number }[]>();
  for (const r of [...results].sort((a, b) => a.cell.index - b.cell.index)) {
    const log = r.train.log ?? [];
    if (log.length < 2) continue;
    const name = groupName({ label: r.cell.label, point: r.cell.point, oracle: r.cell.oracle });
    const rows = byLabel.get(name) ?? byLabel.set(name, []).get(name)!;
    for (const p of log) for (const [k, v] of Object.entries(p.metrics)) if (!COUNTERS.has(k)) rows.push({ seed: r.cell.seed, steps: p.userSteps, scalar: k, value: v });
    // CleanRL's SPS, from the cell's wall-clock timing (the one panel that differs between runs).
    for (const p of r.timing.sps ?? []) rows.push({ seed: r.cell.seed, steps: p.userSteps, scalar: SPS_PANEL, value: p.sps });
  }
  for (const [name, rows] of byLabel) {
    plots[`training-${name.replace(/[^A-Za-z0-9_-]+/g, '_')}`] = await render({
      title: `Training diagnostics of ${name}: update scalars by training user-steps (one line per seed)`,
      data: { values: rows },
      facet: { row: { field: 'scalar', type: 'nominal', title: null } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 520,
        height: 90,
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'steps', type: 'quantitative', title: 'training user-steps' },
          y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
          color: { field: 'seed', type: 'nominal', title: 'seed' },
        },
      },
    });
  }
  return plots;
}

/** An x domain around the means that one very wide interval cannot flatten: the means +- 3 median half-widths (clipped marks show the rest as cut). */
function ciDomain(rows: { mean: number; lo: number; hi: number }[]): [number, number] | undefined {
  const finite = rows.filter((r) => Number.isFinite(r.mean));
  if (finite.length === 0) return undefined;
  const half = finite.map((r) => (r.hi - r.lo) / 2).filter((w) => Number.isFinite(w) && w >= 0).sort((a, b) => a - b);
  const med = half.length ? half[Math.floor(half.length / 2)]! : 0;
  let lo = Math.min(...finite.map((r) => r.mean));
  let hi = Math.max(...finite.map((r) => r.mean));
  const margin = Math.max((hi - lo) * 0.05, 1e-9);
  const pad = Math.max(3 * med, margin);
  lo = Math.max(lo - pad, Math.min(...finite.map((r) => r.lo)) - margin);
  hi = Math.min(hi + pad, Math.max(...finite.map((r) => r.hi)) + margin);
  return lo < hi ? [lo, hi] : undefined;
}

/** Seed-level returns of each group, normalized by the floor and ceiling of the same seed and sweep point when the spec has both. */
function seedScores(s: Summary, results: CellResult[]): { name: string; scores: number[]; normalized: boolean }[] {
  const mean = (r: CellResult) => {
    const v = r.final.users.return!.filter((x): x is number => x !== null);
    return v.reduce((a, b) => a + b, 0) / v.length;
  };
  const at = new Map(results.map((r) => [`${r.cell.pointIndex}|${r.cell.label}|${r.cell.seed}`, mean(r)]));
  const normalized = s.floor !== null && s.ceiling !== null;
  return s.groups.map((g) => ({
    name: groupName(g),
    normalized,
    scores: g.seeds
      .map((seed) => {
        const v = at.get(`${g.pointIndex}|${g.label}|${seed}`)!;
        if (!normalized) return v;
        const f = at.get(`${g.pointIndex}|${s.floor}|${seed}`);
        const c = at.get(`${g.pointIndex}|${s.ceiling}|${seed}`);
        return f === undefined || c === undefined || c === f ? NaN : (v - f) / (c - f);
      })
      .filter(Number.isFinite),
  }));
}

/**
 * rliable's aggregate views (Agarwal et al., NeurIPS 2021): the interquartile mean of the return with its
 * stratified bootstrap CI, performance profiles (the share of seed-level scores above each threshold) and the
 * probability of improvement over the baseline with its CI.
 */
async function aggregatePlots(s: Summary, results: CellResult[], plots: Record<string, string>): Promise<void> {
  const iqm = s.groups
    .filter((g) => g.metrics.return)
    .map((g) => ({ agent: groupName(g), iqm: g.metrics.return!.iqm, lo: Number.isFinite(g.metrics.return!.iqmLo) ? g.metrics.return!.iqmLo : g.metrics.return!.iqm, hi: Number.isFinite(g.metrics.return!.iqmHi) ? g.metrics.return!.iqmHi : g.metrics.return!.iqm }))
    .sort((a, b) => b.iqm - a.iqm);
  if (iqm.length > 0) {
    plots['aggregate-iqm'] = await render({
      title: 'Interquartile mean of the return over seeds, 95% stratified bootstrap CI (rliable)',
      width: 480,
      height: { step: 22 },
      data: { values: iqm },
      layer: [
        { mark: { type: 'rule', clip: true }, encoding: { y: { field: 'agent', type: 'nominal', sort: null, title: null }, x: { field: 'lo', type: 'quantitative', title: 'IQM of the return', scale: { zero: false, domain: ciDomain(iqm.map((r) => ({ mean: r.iqm, lo: r.lo, hi: r.hi }))) } }, x2: { field: 'hi' } } },
        { mark: { type: 'point', filled: true, size: 60, clip: true }, encoding: { y: { field: 'agent', type: 'nominal', sort: null }, x: { field: 'iqm', type: 'quantitative' } } },
      ],
    });
  }
  const scores = seedScores(s, results).filter((g) => g.scores.length > 0);
  const all = scores.flatMap((g) => g.scores);
  if (all.length > 1) {
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const taus = Array.from({ length: 41 }, (_, i) => lo + ((hi - lo) * i) / 40);
    const rows = scores.flatMap((g) => taus.map((tau) => ({ agent: g.name, tau, share: g.scores.filter((x) => x > tau).length / g.scores.length })));
    plots['performance-profile'] = await render({
      title: `Performance profiles: share of seeds with a ${scores[0]!.normalized ? 'normalized score' : 'return'} above tau (rliable)`,
      width: 560,
      height: 280,
      data: { values: rows },
      mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
      encoding: { x: { field: 'tau', type: 'quantitative', title: scores[0]!.normalized ? 'normalized score tau' : 'return tau' }, y: { field: 'share', type: 'quantitative', title: 'share of seeds above tau', scale: { domain: [0, 1] } }, color: { field: 'agent', type: 'nominal' } },
    });
  }
  const poi = s.groups
    .filter((g) => g.vsBaseline?.return)
    .map((g) => ({ agent: groupName(g), p: g.vsBaseline!.return!.poi, lo: g.vsBaseline!.return!.poiLo, hi: g.vsBaseline!.return!.poiHi }))
    .sort((a, b) => b.p - a.p);
  if (poi.length > 0) {
    plots['probability-of-improvement'] = await render({
      title: `P(agent > ${s.baseline}) over seeds with its bootstrap CI (rliable)`,
      width: 480,
      height: { step: 22 },
      data: { values: poi },
      layer: [
        { mark: 'rule', encoding: { y: { field: 'agent', type: 'nominal', sort: null, title: null }, x: { field: 'lo', type: 'quantitative', title: `P(agent > ${s.baseline})`, scale: { domain: [0, 1] } }, x2: { field: 'hi' } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'agent', type: 'nominal', sort: null }, x: { field: 'p', type: 'quantitative' } } },
        { data: { values: [{ x: 0.5 }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { x: { field: 'x', type: 'quantitative' } } },
      ],
    });
  }
}

/** For a sweep: every plotted metric against each swept parameter, one line per agent with its 95% CI band. */
async function sweepPlots(s: Summary, plots: Record<string, string>, plotted: Set<string>): Promise<void> {
  const params = [...new Set(s.groups.flatMap((g) => Object.keys(g.point)))];
  for (const param of params) {
    const numeric = s.groups.every((g) => typeof g.point[param] === 'number' || g.point[param] === undefined);
    for (const m of s.metrics) {
      if (!plotted.has(m.key)) continue;
      const rows = s.groups
        .filter((g) => g.metrics[m.key] && g.point[param] !== undefined)
        .map((g) => ({ agent: `${g.label}${g.oracle ? ' (oracle)' : ''}`, x: g.point[param] as number | string, mean: g.metrics[m.key]!.mean, lo: Number.isFinite(g.metrics[m.key]!.lo) ? g.metrics[m.key]!.lo : g.metrics[m.key]!.mean, hi: Number.isFinite(g.metrics[m.key]!.hi) ? g.metrics[m.key]!.hi : g.metrics[m.key]!.mean }));
      if (rows.length === 0) continue;
      const short = param.replace(/^.*\./, '');
      const x = { field: 'x', type: numeric ? 'quantitative' : 'ordinal', title: param, ...(numeric && rows.every((r) => (r.x as number) > 0) && Math.max(...rows.map((r) => r.x as number)) / Math.min(...rows.map((r) => r.x as number)) >= 20 ? { scale: { type: 'log' } } : {}) };
      const y = { type: 'quantitative', title: m.label, scale: { zero: false, domain: ciDomain(rows) } };
      plots[`sweep-${short}-${m.key}`] = await render({
        title: `${m.label} against ${short}: mean and 95% CI across seeds`,
        width: 520,
        height: 280,
        data: { values: rows },
        layer: [
          { mark: { type: 'line', point: true, clip: true }, encoding: { x, y: { field: 'mean', ...y }, color: { field: 'agent', type: 'nominal' } } },
          { mark: { type: 'area', opacity: 0.25, clip: true }, encoding: { x, y: { field: 'lo', ...y }, y2: { field: 'hi' }, color: { field: 'agent', type: 'nominal' } } },
        ],
      });
    }
  }
}

/** The live page's chart: each seed's learning curve so far, one colour per agent (and sweep point). */
export async function learningCurveSvg(points: { label: string; seed: number; point: Record<string, unknown>; userSteps: number; return: number }[]): Promise<string> {
  const rows = points.map((p) => ({ agent: groupName({ label: p.label, point: p.point, oracle: false }), run: `${p.label} ${JSON.stringify(p.point)} seed ${p.seed}`, steps: p.userSteps, return: p.return }));
  if (rows.length === 0) return render({ title: 'Learning curves: no evaluation point yet', width: 560, height: 60, data: { values: [{ x: 0 }] }, mark: { type: 'text', text: 'waiting for the first evaluation points' }, encoding: {} });
  return render({
    title: 'Learning curves so far: return on held-out users, one line per seed',
    width: 640,
    height: 320,
    data: { values: rows },
    mark: { type: 'line', point: true, strokeWidth: 1.5 },
    encoding: {
      x: { field: 'steps', type: 'quantitative', title: 'training user-steps' },
      y: { field: 'return', type: 'quantitative', title: 'return', scale: { zero: false } },
      color: { field: 'agent', type: 'nominal' },
      detail: { field: 'run', type: 'nominal' },
    },
  });
}

/**
 * Survival by day per group: each seed's share of its evaluated users not churned by day d (a user who churned on
 * day x counts until x), then the mean over seeds with a 95% t-interval (the seed is the unit of replication).
 */
function survivalRows(s: Summary, results: CellResult[]): { agent: string; day: number; alive: number; lo: number; hi: number }[] {
  const rows: { agent: string; day: number; alive: number; lo: number; hi: number }[] = [];
  if (s.horizonDays === null) return rows;
  const days = Math.ceil(s.horizonDays);
  for (const g of s.groups) {
    const cells = results.filter((r) => r.cell.pointIndex === g.pointIndex && r.cell.label === g.label);
    const perSeed = cells
      .map((r) => {
        const last = r.final.users.lastDay ?? [];
        const ch = r.final.users.churned ?? [];
        const users = last.map((d, i) => [d, ch[i]] as const).filter(([d]) => d !== null) as (readonly [number, number | null])[];
        if (users.length === 0) return null;
        return Array.from({ length: days + 1 }, (_, d) => users.filter(([x, c]) => c === 0 || x >= d).length / users.length);
      })
      .filter((x): x is number[] => x !== null);
    if (perSeed.length === 0) continue;
    for (let d = 0; d <= days; d++) {
      const ci = tInterval(perSeed.map((v) => v[d]!));
      rows.push({ agent: groupName(g), day: d, alive: ci.mean, lo: Number.isFinite(ci.lo) ? Math.max(0, ci.lo) : ci.mean, hi: Number.isFinite(ci.hi) ? Math.min(1, ci.hi) : ci.mean });
    }
  }
  return rows;
}
