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

async function render(spec: Record<string, unknown>): Promise<string> {
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config: { font: 'sans-serif' }, ...spec } as unknown as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(full).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
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
        { mark: { type: 'area', opacity: 0.2 }, encoding: { x: { field: 'steps', type: 'quantitative', title: 'training user-steps' }, y: { field: 'lo', type: 'quantitative', title: 'return' }, y2: { field: 'hi' }, color: { field: 'agent', type: 'nominal' } } },
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'steps', type: 'quantitative' }, y: { field: 'mean', type: 'quantitative' }, color: { field: 'agent', type: 'nominal' } } },
      ],
    });
  }
  const plotted = new Set(listMetrics().filter((d) => d.plot).map((d) => d.key));
  for (const m of s.metrics) {
    const rows = s.groups.filter((g) => g.metrics[m.key]).map((g) => ({ agent: groupName(g), mean: g.metrics[m.key]!.mean, lo: Number.isFinite(g.metrics[m.key]!.lo) ? g.metrics[m.key]!.lo : g.metrics[m.key]!.mean, hi: Number.isFinite(g.metrics[m.key]!.hi) ? g.metrics[m.key]!.hi : g.metrics[m.key]!.mean }));
    if (rows.length === 0 || !plotted.has(m.key)) continue;
    plots[`final-${m.key}`] = await render({
      title: `${m.label}: mean and 95% CI across seeds`,
      width: 480,
      height: { step: 22 },
      data: { values: rows },
      layer: [
        { mark: 'rule', encoding: { y: { field: 'agent', type: 'nominal', sort: null, title: null }, x: { field: 'lo', type: 'quantitative', title: m.label, scale: { zero: false } }, x2: { field: 'hi' } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { y: { field: 'agent', type: 'nominal', sort: null }, x: { field: 'mean', type: 'quantitative' } } },
      ],
    });
  }
  const surv = s.groups.flatMap((g) => g.survival.map((v, d) => ({ agent: groupName(g), day: d, alive: v })));
  if (surv.length > 0) {
    plots['survival'] = await render({
      title: 'Users not churned, by day',
      width: 560,
      height: 280,
      data: { values: surv },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: { x: { field: 'day', type: 'quantitative' }, y: { field: 'alive', type: 'quantitative', title: 'share of users', scale: { domain: [0, 1] } }, color: { field: 'agent', type: 'nominal' } },
    });
  }
  const gaps = results.flatMap((r) => r.final.returnGaps.map((g) => ({ agent: r.cell.label, gap: g })));
  if (gaps.length > 0) {
    const capped = gaps.filter((_, i) => i % Math.max(1, Math.floor(gaps.length / 20000)) === 0);
    plots['return-gaps'] = await render({
      title: 'Return gaps between sessions (days)',
      width: 560,
      height: 260,
      data: { values: capped },
      mark: { type: 'bar', opacity: 0.6 },
      encoding: { x: { field: 'gap', type: 'quantitative', bin: { maxbins: 40 }, title: 'days' }, y: { aggregate: 'count', type: 'quantitative', stack: null }, color: { field: 'agent', type: 'nominal' } },
    });
  }
  const first = [...results].sort((a, b) => a.cell.index - b.cell.index)[0];
  if (first && first.final.interestTrace.length > 0) {
    const rows = first.final.interestTrace.flatMap(([u, t, ...th]) => th.slice(0, 5).map((v, k) => ({ user: `user ${u}`, t, topic: `topic ${k}`, interest: v })));
    plots['interest-drift'] = await render({
      title: `Topic interests of sampled users over time (${first.cell.label}, seed ${first.cell.seed}; first 5 topics)`,
      data: { values: rows },
      facet: { row: { field: 'user', type: 'nominal', title: null } },
      spec: { width: 520, height: 110, mark: 'line', encoding: { x: { field: 't', type: 'quantitative', title: 'day (session starts) or step' }, y: { field: 'interest', type: 'quantitative' }, color: { field: 'topic', type: 'nominal' } } },
    });
  }
  // Training diagnostics: every logged update scalar of each learning agent, one line per seed, one panel per
  // scalar (independent y scales), so a plateau or a collapse shows without rerunning.
  const COUNTERS = new Set(['iteration', 'gradient_steps', 'replay', 'retrains', 'windowImpressions', 'skipped']);
  const byLabel = new Map<string, { seed: number; steps: number; scalar: string; value: number }[]>();
  for (const r of [...results].sort((a, b) => a.cell.index - b.cell.index)) {
    const log = r.train.log ?? [];
    if (log.length < 2) continue;
    const name = groupName({ label: r.cell.label, point: r.cell.point, oracle: r.cell.oracle });
    const rows = byLabel.get(name) ?? byLabel.set(name, []).get(name)!;
    for (const p of log) for (const [k, v] of Object.entries(p.metrics)) if (!COUNTERS.has(k)) rows.push({ seed: r.cell.seed, steps: p.userSteps, scalar: k, value: v });
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
