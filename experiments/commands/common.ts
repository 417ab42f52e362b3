/**
 * What the egym commands share: the usage error, output, strict spec-file reading, the run options and the
 * run itself (progress, Ctrl-C, summary), used by run, sweep and reproduce.
 */
import type { Argv } from 'yargs';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { EgymError } from '../../envs/errors.js';
import { agentSpec, listAgents } from '../../agents/index.js';
import { BACKEND_CHOICES } from '../../policies/backend-choices.js';
import { runExperiment } from '../experiment.js';
import { parseShard } from '../cells.js';
import { summaryTable } from '../summary.js';

// TensorFlow.js (and what needs it: the backend, the pipeline, the agent benchmark) loads in the commands that use it.
export const tfjsParts = async () => ({ ...(await import('../../policies/backend.js')), ...(await import('../../agents/supervised/pipeline.js')), ...(await import('../bench-agents.js')) });

export class UsageError extends EgymError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

// The shipped specs: experiments/specs beside the sources (the build copies them to dist/experiments/specs).
export const SPECS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'specs');
/** `egym reproduce <name>` names. */
export const REPRODUCTIONS: Record<string, string> = {
  flagship: 'flagship.json',
  slateq: 'recsim-slateq.json',
  'choc-kale': 'choc-kale.json',
  'adaptive-drift': 'adaptive-drift.json',
  'slateq-noclick': 'slateq-noclick.json',
  'ppo-study': 'ppo-study.json',
};

/**
 * Read a spec file strictly: a regular file of UTF-8 JSON (no byte-order mark, no invalid byte sequences, which a
 * lenient decoder would silently replace) holding one object. Every failure is a usage error (exit 2) naming it.
 */
export function readSpecFile(path: string): unknown {
  if (!existsSync(path)) throw new UsageError(`spec file ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new UsageError(`spec file ${path} is a directory; give the path of a .json spec file`);
  const bytes = readFileSync(path);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw new UsageError(`spec file ${path} starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`spec file ${path} is not valid UTF-8 (a lenient reader would replace the bad bytes and change the spec); save it as UTF-8`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`spec file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`spec file ${path} must hold one JSON object (the spec), got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  return v;
}

export interface RunArgs {
  backend?: string;
  workers?: number;
  shard?: string;
  out?: string;
  quick?: boolean;
  quiet?: boolean;
  json?: boolean;
  'save-checkpoints'?: boolean;
  import?: string[];
  'memory-budget'?: number;
}

/** Set the TensorFlow.js backend of every agent that has one (it becomes part of the resolved spec). */
function withBackend(raw: unknown, backend: string | undefined): unknown {
  if (!backend || !raw || typeof raw !== 'object' || !Array.isArray((raw as { agents?: unknown }).agents)) return raw;
  const spec = raw as { agents: { id: string; params?: Record<string, unknown> }[] };
  return {
    ...spec,
    agents: spec.agents.map((a) => {
      const known = listAgents().some((x) => x.id === a.id) && agentSpec(a.id).params.has('backend');
      return known ? { ...a, params: { ...(a.params ?? {}), backend } } : a;
    }),
  };
}

export async function runSpec(raw0: unknown, a: RunArgs, base?: string): Promise<void> {
  const raw = withBackend(raw0, a.backend);
  const workers = a.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 0) throw new UsageError('--workers must be a non-negative integer (0: run in this thread)');
  const shard = a.shard ? parseShard(a.shard) : null;
  let stop = false;
  const onSig = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\negym: interrupted: no new cell starts; the cells in flight finish and are saved (Ctrl-C again stops at once and loses them); run again to resume\n');
  };
  process.on('SIGINT', onSig);
  const tty = process.stderr.isTTY && !a.quiet && !a.json;
  const bar = tty ? new cliProgress.SingleBar({ format: 'cells {bar} {value}/{total} | ETA {eta_formatted} | {last}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  let started = false;
  if (a.out !== undefined && existsSync(a.out) && !statSync(a.out).isDirectory()) throw new UsageError(`--out ${a.out} is an existing file, not a directory; give a results folder`);
  try {
    const mb = a['memory-budget'];
    if (mb !== undefined && !(Number.isFinite(mb) && mb > 0)) throw new UsageError(`--memory-budget must be a positive number of GiB, got ${mb}`);
    const r = await runExperiment(raw, {
      memoryBudget: mb !== undefined ? mb * 2 ** 30 : undefined,
      base,
      imports: a.import,
      workers,
      shard,
      out: a.out,
      quick: a.quick,
      saveCheckpoints: a['save-checkpoints'],
      stopped: () => stop,
      onCell: (res, done, total) => {
        const last = `${res.cell.label} seed ${res.cell.seed}: return ${(res.final.users.return.reduce((s: number, v) => s + (v ?? 0), 0) / res.final.users.return.length).toFixed(2)}`;
        if (bar) {
          if (!started) {
            bar.start(total, done - 1, { last: '' });
            started = true;
          }
          bar.update(done, { last });
        } else if (!a.quiet && !a.json) process.stderr.write(`[${done}/${total}] ${last}\n`);
      },
    });
    bar?.stop();
    if (a.json) {
      out(JSON.stringify({ runDir: r.runDir, ran: r.ran, skipped: r.skipped, complete: r.complete, summary: r.summary }, null, 2));
    } else if (a.quiet) {
      out(r.runDir); // --quiet: errors (stderr) and the output folder only
    } else {
      out(`${r.spec.name}: ${r.ran} cells run, ${r.skipped} already done (of ${shard ? 'this shard' : r.cells.length})${stop ? ' (interrupted)' : ''}`);
      if (r.summary) out(`\n${summaryTable(r.summary)}\n\nreport: ${join(r.runDir, 'report.html')}`);
      else out(`results so far: ${r.runDir} (${shard ? 'merge the shards with egym merge' : 'run again to resume'})`);
    }
    if (stop) process.exitCode = 130;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSig);
  }
}

export const runOptions = (y: Argv) =>
  y
    .option('workers', { type: 'number', describe: 'worker threads (default: the number of cores; 0 runs in this thread)' })
    .option('backend', { choices: BACKEND_CHOICES, describe: 'TensorFlow.js backend of every agent that uses one (default: each agent\'s own, auto)' })
    .option('shard', { type: 'string', describe: 'run shard i of n ("i/n", 0-based): a deterministic subset of the cells' })
    .option('out', { type: 'string', describe: 'run folder (default results/<experiment>/run-<spec hash>)' })
    .option('quick', { type: 'boolean', default: false, describe: "the spec's quick variant (smaller budget)" })
    .option('save-checkpoints', { type: 'boolean', default: false, describe: 'write final agent checkpoints (for warm starts)' })
    .option('quiet', { type: 'boolean', default: false, describe: 'print only errors and the output folder' })
    .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
    .option('memory-budget', { type: 'number', describe: 'GiB the run may need at once (default: half of this machine\'s memory); checked before any cell runs' })
    .option('import', { type: 'string', array: true, describe: 'user module(s) that register agents or envs (.js, or .ts with tsx), loaded first, in every worker too' });

export function out(s: string): void {
  process.stdout.write(s + '\n');
}
