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
  const figs = Object.entries(plots)
    .map(([name, svg]) => `<figure id="${esc(name)}">${svg}<figcaption>${esc(name)}</figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(s.experiment)}: engagement-gym report</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top}th{background:#f4f4f4}small{color:#555}figure{margin:1.5em 0}pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}</style>
</head><body>
<h1>${esc(s.experiment)}</h1>
<p>Env <code>${esc(s.env)}</code>. Each cell: mean over seeds with its 95% t-interval; below it, the paired difference with the baseline <b>${esc(s.baseline)}</b> over the same held-out users (95% CI, relative change, Holm-adjusted paired t-test p-value). Oracles read hidden state.</p>
<table>${head}
${rows}</table>
${figs}
<h2>Manifest</h2>
<pre>${esc(JSON.stringify(manifest, null, 2))}</pre>
</body></html>
`;
}
