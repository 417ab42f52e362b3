/** report.html: one self-contained page with the summary table, the plots (inline SVG) and the manifest. */
import type { Summary } from './summary.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function reportHtml(s: Summary, plots: Record<string, string>, manifest: Record<string, unknown>): string {
  const fmt = (x: number | undefined, d = 3) => (x === undefined || !Number.isFinite(x) ? '' : x.toFixed(d));
  const head = `<tr><th>agent</th>${s.metrics.map((m) => `<th>${esc(m.label)}</th>`).join('')}</tr>`;
  const rows = s.groups
    .map(
      (g) =>
        `<tr><td>${esc(g.label)}${g.oracle ? ' <em>(oracle)</em>' : ''}${Object.keys(g.point).length ? `<br><small>${esc(JSON.stringify(g.point))}</small>` : ''}</td>${s.metrics
          .map((m) => {
            const v = g.metrics[m.key];
            const c = g.vsBaseline?.[m.key];
            if (!v) return '<td></td>';
            const p = Number.isFinite(c?.pHolm) && (c?.pHolm as number) < 1e-4 ? 'p<1e-4' : `p=${fmt(c?.pHolm, 4)}`;
            const cmp = c ? `<br><small>${c.diff >= 0 ? '+' : ''}${fmt(c.diff)} [${fmt(c.lo)}, ${fmt(c.hi)}] ${fmt(c.relative, 1)}% ${p}</small>` : '';
            return `<td>${fmt(v.mean)}<br><small>[${fmt(v.lo)}, ${fmt(v.hi)}]</small>${cmp}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('\n');
  // The headline: one row per agent, the return and what it means against the floor, the ceiling and the baseline.
  const ci = (v: { mean: number; lo: number; hi: number } | null | undefined, d = 1) => (v ? `${fmt(v.mean, d)} <small>[${fmt(v.lo, d)}, ${fmt(v.hi, d)}]</small>` : '');
  const role = (g: Summary['groups'][number]) =>
    [g.label === s.floor ? 'floor' : '', g.label === s.ceiling ? 'ceiling' : '', g.oracle ? 'oracle' : '', g.label === s.baseline ? 'baseline' : ''].filter(Boolean).join(', ');
  const headRows = s.groups
    .map((g) => {
      const r = g.metrics.return;
      const c = g.vsBaseline?.return;
      const p = c ? (c.pHolm < 1e-4 ? '&lt;1e-4' : fmt(c.pHolm, 4)) : '';
      return `<tr><td>${esc(g.label)}${Object.keys(g.point).length ? ` <small>${esc(JSON.stringify(g.point))}</small>` : ''}</td><td>${esc(role(g))}</td><td>${ci(r)}</td><td>${ci(g.normalized, 3)}</td><td>${ci(g.untrained)}</td><td>${r ? `${fmt(r.iqm, 1)} <small>[${fmt(r.iqmLo, 1)}, ${fmt(r.iqmHi, 1)}]</small>` : ''}</td><td>${c ? `${c.diff >= 0 ? '+' : ''}${fmt(c.diff, 1)} <small>[${fmt(c.lo, 1)}, ${fmt(c.hi, 1)}]</small>` : ''}</td><td>${c ? `${fmt(c.poi, 2)} <small>[${fmt(c.poiLo, 2)}, ${fmt(c.poiHi, 2)}]</small>` : ''}</td><td>${p}</td></tr>`;
    })
    .join('\n');
  const headline = `<table id="headline"><tr><th>agent</th><th>role</th><th>return (mean over seeds) [95% CI]</th><th>normalized score${s.floor && s.ceiling ? ` (${esc(s.floor)} = 0, ${esc(s.ceiling)} = 1)` : ''}</th><th>untrained return</th><th>IQM [bootstrap CI]</th><th>vs ${esc(s.baseline)}: paired diff over seeds</th><th>P(agent &gt; ${esc(s.baseline)})</th><th>p (Holm)</th></tr>
${headRows}</table>`;
  const label = new Map(s.metrics.map((m) => [m.key, m.label]));
  const pub = s.published;
  const published = pub
    ? `<h2>Against the published numbers</h2>
<p>${esc(pub.source)}: each agent's ${esc(label.get(pub.metric) ?? pub.metric)} (mean over seeds, 95% CI) next to the published number; ${pub.rows.filter((r) => r.within).length} of ${pub.rows.length} lie within ${pub.tolerance} of it.</p>
<table id="published"><tr><th>agent</th><th>ours [95% CI]</th><th>published</th><th>difference</th><th>within ${pub.tolerance}</th></tr>
${pub.rows.map((r) => `<tr><td>${esc(r.label)}</td><td>${ci(r, 1)}</td><td>${r.published}</td><td>${r.diff >= 0 ? '+' : ''}${fmt(r.diff, 1)}</td><td>${r.within ? 'yes' : '<b>no</b>'}</td></tr>`).join('\n')}</table>`
    : '';
  const caption = (name: string): string => {
    const fixed: Record<string, string> = {
      'learning-curves': 'Learning curves: return on held-out users during training',
      'aggregate-iqm': 'Aggregate: interquartile mean of the return (rliable)',
      'performance-profile': 'Performance profiles (rliable)',
      'probability-of-improvement': `Probability of improvement over ${s.baseline} (rliable)`,
      survival: 'Survival: users not churned by day',
      'return-gaps': 'Return gaps between sessions',
      'interest-drift': 'Interest drift of sampled users',
    };
    if (fixed[name]) return fixed[name]!;
    let m = /^final-(.+)$/.exec(name);
    if (m) return `Final ${label.get(m[1]!) ?? m[1]} per agent`;
    m = /^sweep-(.+)-([^-]+)$/.exec(name);
    if (m) return `${label.get(m[2]!) ?? m[2]} against ${m[1]}`;
    m = /^training-(.+)$/.exec(name);
    if (m) return `Training diagnostics: ${m[1]!.replace(/_/g, ' ').trim()}`;
    return name;
  };
  const figs = Object.entries(plots)
    .map(([name, svg]) => `<figure id="${esc(name)}">${svg}<figcaption>${esc(caption(name))}</figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(s.experiment)}: engagement-gym report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}th{background:#f4f4f4}small{color:#555;white-space:nowrap}figcaption{font-weight:bold;margin-top:.3em}summary{cursor:pointer;font-weight:bold;margin:1.5em 0 .5em}figure{margin:1.5em 0}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}</style>
</head><body>
<h1>${esc(s.experiment)}</h1>
<p>Env <code>${esc(s.env)}</code>. Every interval is over seeds (the unit of replication): each seed's value is its mean over the same held-out users. The normalized score is (agent - floor) / (ceiling - floor) per seed; the untrained return is the learning curve's first point; P(agent &gt; baseline) is rliable's probability of improvement over seeds with a bootstrap CI.</p>
${headline}${published ? `\n${published}` : ''}
<h2>All metrics</h2>
<p>Each cell: mean over seeds with its 95% t-interval; below it, the paired difference with the baseline <b>${esc(s.baseline)}</b> over seeds on the same held-out users (95% CI, relative change, Holm-adjusted paired t-test p-value). Churn and retention intervals are Wilson intervals at the design-effect sample size; rates are cut to [0, 1]. Oracles read hidden state.</p>
<table>${head}
${rows}</table>
${figs}
<details><summary>Manifest: the resolved spec, versions, seeds and machine of this run</summary>
<pre>${esc(JSON.stringify(manifest, null, 2))}</pre>
</details>
</body></html>
`;
}
