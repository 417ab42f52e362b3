/**
 * The on-disk layout of a run, written atomically (temp file + rename):
 *   results/<experiment>/<run-id>/manifest.json   resolved spec, versions, backend, seed scheme, machine, cells
 *                                 spec.json       the resolved spec as a re-runnable spec file
 *                                 cells/<key>.jsonl  one cell: header, learning-curve points, final per-user metrics
 *                                 summary.json, summary.csv, report.html, plots/*.svg
 *                                 checkpoints/<label>-seed<seed>.json  (--save-checkpoints; warm starts read these;
 *                                 .ckpt for a state with typed arrays such as SlateQ's replay buffer:
 *                                 agents/checkpoint-file.ts)
 * A cell file that exists is checked (format, version, key, content hash): a corrupt, edited or foreign file is an
 * error naming it, never silently used or overwritten. The last line of a cell file is
 * {"type":"integrity","sha256":...}, the SHA-256 of every byte before it; the manifest records the same hash
 * per cell, so resume, report and merge detect a hand-edited or damaged result.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import writeFileAtomic from 'write-file-atomic';
import type { CellResult } from './run-cell.js';
import { type ResolvedSpec, SPEC_VERSION } from './spec.js';
import type { Cell } from './cells.js';
import { EgymError } from '../envs/errors.js';

export class ResultFileError extends EgymError {
  constructor(message: string, path?: string) {
    super('RESULT_FILE_INVALID', message, path);
    this.name = 'ResultFileError';
  }
}

/**
 * Write a file atomically (write-file-atomic: a temporary file in the same folder, fsync, rename; the temporary
 * file removed on failure): a reader, a crash or Ctrl-C sees the old file or the new one, never part of one.
 */
export function writeAtomic(path: string, text: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic.sync(path, text);
}

export function cellPath(runDir: string, key: string): string {
  return join(runDir, 'cells', `${key}.jsonl`);
}

/** JSONL of a cell result: the header line, one line per curve point, the final metrics, the timing. */
export function cellToJsonl(r: CellResult): string {
  const lines = [
    { type: 'cell', format: r.format, version: r.version, key: r.key, cell: r.cell, backend: r.backend, train: r.train },
    ...r.curve.map((p) => ({ type: 'curve', ...p })),
    { type: 'final', ...r.final },
    { type: 'timing', ...r.timing },
  ];
  const body = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  return body + JSON.stringify({ type: 'integrity', sha256: sha256(body) }) + '\n';
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The content hash a cell file records on its last line (null when it has none). */
export function cellFileHash(path: string): string | null {
  const text = readFileSync(path, 'utf8');
  const last = text.trimEnd().split('\n').pop() ?? '';
  try {
    const l = JSON.parse(last) as { type?: string; sha256?: string };
    return l.type === 'integrity' && typeof l.sha256 === 'string' ? l.sha256 : null;
  } catch {
    return null;
  }
}

export function readCell(path: string, expectKey?: string, expectHash?: string): CellResult {
  let lines: Record<string, unknown>[];
  const text = readFileSync(path, 'utf8');
  // The integrity line: the hash of every byte before it. Checked before anything in the file is believed.
  const cut = text.lastIndexOf('\n', text.length - 2);
  const lastLine = text.slice(cut + 1).trim();
  let integrity: { type?: string; sha256?: string } = {};
  try {
    integrity = JSON.parse(lastLine) as typeof integrity;
  } catch {
    /* reported below */
  }
  if (integrity.type !== 'integrity' || typeof integrity.sha256 !== 'string') {
    throw new ResultFileError(`result file ${path} has no content hash on its last line (truncated, or written by an older version); remove it to recompute the cell`);
  }
  const actual = sha256(text.slice(0, cut + 1));
  if (actual !== integrity.sha256) {
    throw new ResultFileError(`result file ${path} does not match its content hash (sha256 ${actual.slice(0, 12)}..., recorded ${integrity.sha256.slice(0, 12)}...): it was edited or damaged after it was written; remove it to recompute the cell`);
  }
  if (expectHash !== undefined && expectHash !== integrity.sha256) {
    throw new ResultFileError(`result file ${path} is not the file the run's manifest recorded (sha256 ${integrity.sha256.slice(0, 12)}..., manifest ${expectHash.slice(0, 12)}...): it was replaced after it was written; remove it to recompute the cell`);
  }
  try {
    lines = text
      .slice(0, cut + 1)
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch (e) {
    throw new ResultFileError(`corrupt result file ${path}: ${(e as Error).message}; remove it to recompute the cell, or choose another --out`);
  }
  const head = lines[0];
  if (!head || head.type !== 'cell' || head.format !== 'engagement-gym/cell' || head.version !== 1) {
    throw new ResultFileError(`foreign result file ${path}: not an engagement-gym cell file (format engagement-gym/cell, version 1); remove it or choose another --out`);
  }
  if (expectKey && head.key !== expectKey) throw new ResultFileError(`result file ${path} holds cell ${String(head.key)}, expected ${expectKey}; remove it or choose another --out`);
  const fin = lines.find((l) => l.type === 'final');
  const timing = lines.find((l) => l.type === 'timing');
  if (!fin || !timing) throw new ResultFileError(`incomplete result file ${path}: no final metrics; remove it to recompute the cell`);
  const { type: _f, ...final } = fin;
  const { type: _t, ...tm } = timing;
  return {
    format: 'engagement-gym/cell',
    version: 1,
    key: head.key as string,
    cell: head.cell as Cell,
    curve: lines.filter((l) => l.type === 'curve').map(({ type: _c, ...p }) => p as unknown as CellResult['curve'][number]),
    final: final as unknown as CellResult['final'],
    train: head.train as CellResult['train'],
    backend: head.backend as string | null,
    timing: tm as unknown as CellResult['timing'],
  };
}

/**
 * Completed cells in a run folder (validated, content hashes checked against the file and against the
 * manifest's record where it has one), keyed by cell key.
 */
export function readCells(runDir: string): Map<string, CellResult> {
  const dir = join(runDir, 'cells');
  const out = new Map<string, CellResult>();
  if (!existsSync(dir)) return out;
  const recorded = new Map<string, string>();
  const m = join(runDir, 'manifest.json');
  if (existsSync(m)) {
    try {
      const man = JSON.parse(readFileSync(m, 'utf8')) as { cells?: { key: string; sha256?: string | null }[] };
      for (const c of man.cells ?? []) if (typeof c.sha256 === 'string') recorded.set(c.key, c.sha256);
    } catch (e) {
      throw new ResultFileError(`corrupt manifest ${m}: ${(e as Error).message}; choose another --out`);
    }
  }
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.jsonl')) continue;
    const key = f.slice(0, -'.jsonl'.length);
    out.set(key, readCell(join(dir, f), key, recorded.get(key)));
  }
  return out;
}

/** The resolved spec as a spec file that `egym run` accepts. */
export function specToJson(spec: ResolvedSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    version: SPEC_VERSION,
    name: spec.name,
    description: spec.description,
    env: spec.env,
    agents: spec.agents.map((a) => ({ id: a.id, label: a.label, params: a.params })),
    baseline: spec.baseline,
    seeds: spec.seeds,
    train: spec.train,
    eval: spec.eval,
    final: spec.final,
    reward: spec.reward,
  };
  // floor and ceiling only where they differ from what resolveSpec picks by default (the agents with ids random
  // and ceiling-oracle), so the written spec re-resolves to the same spec and default specs keep their run id.
  const defFloor = spec.agents.find((a) => a.id === 'random')?.label ?? null;
  const defCeiling = spec.agents.find((a) => a.id === 'ceiling-oracle')?.label ?? null;
  if (spec.floor !== defFloor && spec.floor !== null) out.floor = spec.floor;
  if (spec.ceiling !== defCeiling && spec.ceiling !== null) out.ceiling = spec.ceiling;
  if (spec.sweep) out.sweep = { grid: spec.sweep.grid, ...(spec.sweep.random ? { random: spec.sweep.random } : {}), seed: spec.sweep.seed };
  if (spec.warmStart) out.warmStart = spec.warmStart;
  if (spec.published) out.published = spec.published;
  if (spec.modules.length > 0) out.modules = spec.modules.map((m) => m.path);
  return out;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The content hash of each cell file in a run folder (what the manifest records). */
export function cellHashes(runDir: string, keys: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keys) {
    const p = cellPath(runDir, k);
    if (!existsSync(p)) continue;
    const h = cellFileHash(p);
    if (h) out.set(k, h);
  }
  return out;
}

/**
 * engagement-gym's own package.json: the nearest one above this module whose name is engagement-gym (the same
 * from the sources, from dist/ and from an installed copy under node_modules).
 */
export function packageJson(): { name: string; version: string } {
  const root = packageRoot();
  if (!root) return { name: 'engagement-gym', version: 'unknown' };
  const j = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  return { name: 'engagement-gym', version: j.version ?? '0.0.0' };
}

/** The folder of engagement-gym's own package.json (see packageJson), or null if none is found. */
export function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p) && (JSON.parse(readFileSync(p, 'utf8')) as { name?: string }).name === 'engagement-gym') return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The installed TensorFlow.js version, read from its package.json wherever npm put it (no TensorFlow.js load). */
function tfjsVersion(): string {
  try {
    const p = createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json');
    return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function manifest(spec: ResolvedSpec, runId: string, cells: Cell[], results: Map<string, CellResult>, extra: Record<string, unknown>, hashes?: Map<string, string>): Record<string, unknown> {
  const pkg = packageJson();
  const tfjs = { version: tfjsVersion() };
  const backends = [...new Set([...results.values()].map((r) => r.backend).filter((b): b is string => b !== null))].sort();
  return {
    format: 'engagement-gym/run',
    version: 1,
    runId,
    spec: specToJson(spec),
    packageVersion: pkg.version,
    gitCommit: gitCommit(),
    node: process.version,
    tfjsVersion: tfjs.version,
    backends,
    seedScheme:
      'users are (population seed, user index) with per-purpose alea streams egym|<population>|<user>|<purpose>; training users come from population 100000 + seed, learning-curve users from eval.seed, final users from final.seed (the same for every agent and seed: paired); agents seed their own streams with egym|agent|<seed>',
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), platform: process.platform, arch: process.arch },
    cells: cells.map((c) => ({ index: c.index, key: c.key, label: c.label, seed: c.seed, point: c.point, done: results.has(c.key), sha256: hashes?.get(c.key) ?? null })),
    ...extra,
  };
}
