/**
 * `egym serve [results-dir]`: a local page (node:http, 127.0.0.1) that lists the runs under a results folder,
 * opens each run's report, and shows the learning curves of a run in progress, redrawn every 2 s as its cells
 * write evaluation points (the finished cells' files, and `live/<cell key>.jsonl` of the running ones).
 *
 * Routes: `/` (the runs), `/run/<run path>/` (a run's live page), `/run/<run path>/live.svg` and `live.json` (its
 * curves so far), `/files/<path>` (files under the results folder: reports, plots). Nothing outside the results
 * folder is served; every path is resolved and checked against it.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import { InvalidArgument } from '../envs/errors.js';

export interface ServeOptions {
  /** The results folder (default `results`). */
  dir: string;
  /** Port (0: any free port). */
  port?: number;
  host?: string;
}

export interface RunEntry {
  /** Path of the run folder, relative to the results folder (with /). */
  path: string;
  name: string;
  runId: string;
  cells: number;
  cellsDone: number;
  complete: boolean;
  /** Points of the learning curves so far (finished and running cells). */
  curvePoints: number;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Run folders (a manifest.json) under `root`, at most 4 levels down. */
export function listRuns(root: string): RunEntry[] {
  const out: RunEntry[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4 || !existsSync(d)) return;
    if (existsSync(join(d, 'manifest.json'))) {
      const e = runEntry(root, d);
      if (e) out.push(e);
      return;
    }
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (f.startsWith('.') || f === 'cells' || f === 'plots') continue;
      try {
        if (statSync(p).isDirectory()) walk(p, depth + 1);
      } catch {
        /* gone meanwhile */
      }
    }
  };
  walk(root, 0);
  return out;
}

function runEntry(root: string, d: string): RunEntry | null {
  try {
    const man = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as { runId?: string; spec?: { name?: string }; cells?: unknown[] };
    const cellFiles = existsSync(join(d, 'cells')) ? readdirSync(join(d, 'cells')).filter((f) => f.endsWith('.jsonl')).length : 0;
    return {
      path: relative(root, d).split(sep).join('/'),
      name: man.spec?.name ?? '(unnamed)',
      runId: man.runId ?? '',
      cells: man.cells?.length ?? 0,
      cellsDone: cellFiles,
      complete: existsSync(join(d, 'summary.json')),
      curvePoints: liveCurves(d).length,
    };
  } catch {
    return null;
  }
}

export interface LivePoint {
  label: string;
  seed: number;
  point: Record<string, unknown>;
  userSteps: number;
  return: number;
}

/** Every learning-curve point of a run so far: finished cells' files, then the running cells' live files (a torn last line is skipped). */
export function liveCurves(runDir: string): LivePoint[] {
  const out: LivePoint[] = [];
  const done = new Set<string>();
  const cells = join(runDir, 'cells');
  if (existsSync(cells)) {
    for (const f of readdirSync(cells).sort()) {
      if (!f.endsWith('.jsonl')) continue;
      done.add(f.slice(0, -'.jsonl'.length));
      // A cell file: the cell line, one line per curve point, then the final metrics (cellToJsonl).
      let cur: { label: string; seed: number; point: Record<string, unknown> } | null = null;
      for (const line of readFileSync(join(cells, f), 'utf8').split('\n')) {
        if (!line.startsWith('{"type":"cell"') && !line.startsWith('{"type":"curve"')) continue;
        let j: { type?: string; cell?: { label: string; seed: number; point: Record<string, unknown> }; userSteps?: number; means?: Record<string, number> };
        try {
          j = JSON.parse(line);
        } catch {
          continue;
        }
        if (j.type === 'cell' && j.cell) cur = j.cell;
        else if (j.type === 'curve' && cur && typeof j.userSteps === 'number' && typeof j.means?.return === 'number') out.push({ label: cur.label, seed: cur.seed, point: cur.point, userSteps: j.userSteps, return: j.means.return });
      }
    }
  }
  const live = join(runDir, 'live');
  if (existsSync(live)) {
    for (const f of readdirSync(live).sort()) {
      if (!f.endsWith('.jsonl') || done.has(f.slice(0, -'.jsonl'.length))) continue;
      let text = '';
      try {
        text = readFileSync(join(live, f), 'utf8');
      } catch {
        continue; // the cell finished and its live file went meanwhile
      }
      for (const line of text.split('\n')) {
        try {
          const j = JSON.parse(line) as { label: string; seed: number; point: Record<string, unknown>; userSteps: number; means: Record<string, number> };
          if (typeof j.means?.return === 'number') out.push({ label: j.label, seed: j.seed, point: j.point, userSteps: j.userSteps, return: j.means.return });
        } catch {
          /* a line being written */
        }
      }
    }
  }
  return out;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml', '.json': 'application/json', '.csv': 'text/csv; charset=utf-8', '.png': 'image/png', '.jsonl': 'text/plain; charset=utf-8' };

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px}th{background:#f4f4f4}</style>
</head><body>${body}</body></html>`;
}

export async function serve(opts: ServeOptions): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const root = resolve(opts.dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new InvalidArgument(`serve: ${opts.dir} is not a folder (give the results folder, e.g. results)`);
  const port = opts.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgument(`serve: --port must be an integer in [0, 65535], got ${port}`);
  const { learningCurveSvg } = await import('./plots.js');
  const inside = (rel: string): string | null => {
    const p = resolve(root, decodeURIComponent(rel));
    return p === root || p.startsWith(root + sep) ? p : null;
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const send = (status: number, type: string, body: string | Buffer) => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(body);
      };
      try {
        if (url.pathname === '/favicon.ico') {
          res.writeHead(204);
          return res.end();
        }
        if (url.pathname === '/') {
          const runs = listRuns(root);
          const rows = runs
            .map((r) => `<tr><td>${esc(r.name)}</td><td><code>${esc(r.path)}</code></td><td>${r.cellsDone}/${r.cells}</td><td>${r.complete ? `<a href="/files/${esc(r.path)}/report.html">report</a>` : 'running or incomplete'}</td><td><a href="/run/${esc(r.path)}/">learning curves</a></td></tr>`)
            .join('\n');
          return send(200, TYPES['.html']!, page('engagement-gym runs', `<h1>Runs under ${esc(root)}</h1><table id="runs"><tr><th>experiment</th><th>folder</th><th>cells done</th><th>report</th><th>live</th></tr>${rows}</table>`));
        }
        const m = /^\/run\/(.+?)\/(live\.svg|live\.json)?$/.exec(url.pathname);
        if (m) {
          const dir = inside(m[1]!);
          if (!dir || !existsSync(join(dir, 'manifest.json'))) return send(404, 'text/plain', 'no such run');
          const pts = liveCurves(dir);
          if (m[2] === 'live.json') return send(200, TYPES['.json']!, JSON.stringify({ run: runEntry(root, dir), points: pts }));
          if (m[2] === 'live.svg') return send(200, TYPES['.svg']!, await learningCurveSvg(pts));
          const e = runEntry(root, dir)!;
          return send(
            200,
            TYPES['.html']!,
            page(
              `${e.name}: live`,
              `<h1>${esc(e.name)} <small>${esc(e.path)}</small></h1>
<p id="status">${e.cellsDone} of ${e.cells} cells done; ${pts.length} curve points${e.complete ? `; <a href="/files/${esc(e.path)}/report.html">report</a>` : ''}</p>
<img id="curve" alt="learning curves" src="live.svg">
<script>
setInterval(async () => {
  const r = await fetch('live.json', { cache: 'no-store' });
  const j = await r.json();
  document.getElementById('status').textContent = j.run.cellsDone + ' of ' + j.run.cells + ' cells done; ' + j.points.length + ' curve points';
  document.getElementById('curve').src = 'live.svg?n=' + j.points.length;
}, 2000);
</script>`,
            ),
          );
        }
        if (url.pathname.startsWith('/files/')) {
          const p = inside(url.pathname.slice('/files/'.length));
          if (!p || !existsSync(p) || statSync(p).isDirectory()) return send(404, 'text/plain', 'not found');
          return send(200, TYPES[extname(p)] ?? 'application/octet-stream', readFileSync(p));
        }
        return send(404, 'text/plain', 'not found');
      } catch (e) {
        send(500, 'text/plain', (e as Error).message);
      }
    })();
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  const addr = server.address();
  const url = `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/`;
  return { url, server, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}
