/**
 * What a run needs in memory, estimated before anything is allocated: per cell, the evaluation's per-user
 * metrics and env buffers, the training env's buffers, and the learner's own buffers (PPO's rollout, SlateQ's
 * replay, the supervised pipeline's and offline REINFORCE's logged impressions, online REINFORCE's trajectories);
 * per run, the largest cell times the cells that run at once. Beyond the budget (default half of this machine's
 * memory; `--memory-budget GiB` or the `memoryBudget` option), the run stops with one error naming the field that
 * dominates, its value, the estimate and the limit.
 * The estimates are upper-bound approximations (float32 buffers and their working copies), not measurements.
 */
import { ItemFeedback } from '../policies/item-feedback.js';
import { totalmem } from 'node:os';
import { agentEnvInfo } from '../agents/registry.js';
import { EgymError } from '../envs/errors.js';
import type { Cell } from './cells.js';
import { resolveParams } from '../envs/params.js';
import { ppoParams } from '../agents/ppo-definition.js';
import { slateqParams } from '../agents/slateq-definition.js';
import { reinforceTopKParams } from '../agents/reinforce-topk-definition.js';
import { adaptiveSupervisedParams, supervisedParams } from '../agents/supervised/definition.js';

export const DEFAULT_MEMORY_FRACTION = 0.5;

/** The default budget: half of this machine's memory. */
export function defaultMemoryBudget(): number {
  return DEFAULT_MEMORY_FRACTION * totalmem();
}

export interface MemoryPart {
  /** The spec field that sets this part's size. */
  field: string;
  value: number;
  bytes: number;
}

/**
 * Upper-bound estimate of one cell's memory, by part. With `saveCheckpoints`, a SlateQ cell's final checkpoint
 * holds a copy of its replay buffer and the checkpoint's serialized form another (agents/checkpoint-file.ts).
 */
export function cellMemory(cell: Cell, opts: { saveCheckpoints?: boolean } = {}): MemoryPart[] {
  const layout = agentEnvInfo(cell.envId, cell.envParams).layout;
  const { U, N, F, K } = layout;
  const row = U + N * F;
  // itemFeedback widens every stored candidate row by the item columns (policies/item-feedback.ts).
  const itemColumns = N * ItemFeedback.columns(ItemFeedback.lengthOffset(layout));
  // Consumed-item averages (policies/history.ts): mean and moving average of the rows, with consumedItemStats
  // of the rows with their item columns, and log(1 + clicks).
  const consumedColumns = (itemStats: boolean) => 2 * (F + (itemStats ? itemColumns / N : 0)) + 1;
  const p = cell.agentParams;
  const a = `agents[${cell.agentIndex}].params`;
  const evalBatch = Math.min(256, Math.max(cell.final.users, cell.eval.users));
  const parts: MemoryPart[] = [
    // 14 per-user metric arrays and the per-user lists, plus one evaluation batch of env buffers.
    { field: 'final.users', value: cell.final.users, bytes: cell.final.users * 400 + evalBatch * row * 4 * 3 },
    // The training env's buffers, the loop's copy of the previous observation and the final observations.
    { field: 'train.numEnvs', value: cell.train.numEnvs, bytes: cell.train.numEnvs * row * 4 * 4 },
  ];
  // The cell's params are resolved already; reading them through the agent's own schema types them.
  if (cell.agentId === 'ppo') {
    const { numSteps, episodeHistory, consumedHistory, consumedItemStats, itemFeedback, greedyServe } = resolveParams(a, ppoParams, p);
    const n = numSteps * cell.train.numEnvs;
    // The history features widen the stored user rows (policies/history.ts), the item columns the candidate rows.
    const extra = (episodeHistory ? U + 1 : 0) + (consumedHistory ? consumedColumns(consumedItemStats) : 0) + (itemFeedback ? itemColumns : 0);
    // greedyServe keeps one more number per step (whether its slate was sampled).
    parts.push({ field: `${a}.numSteps`, value: numSteps, bytes: n * (row + extra + K + 7 + (greedyServe > 0 ? 1 : 0)) * 4 * 2 });
  }
  if (cell.agentId === 'slateq') {
    const { replaySize, consumedHistory, consumedItemStats, itemFeedback, nSteps } = resolveParams(a, slateqParams, p);
    const extra = (consumedHistory ? consumedColumns(consumedItemStats) : 0) + (itemFeedback ? itemColumns : 0);
    // n-step chains: a successor index and an insertion count (8 bytes) per transition.
    const bytes = replaySize * (2 * (row + extra) + 2 * K + N + 8 + (nSteps > 1 ? 3 : 0)) * 4;
    // A saved checkpoint: the state's copy of the buffer and its serialized form (replaySize is what to lower).
    parts.push({ field: `${a}.replaySize`, value: replaySize, bytes: opts.saveCheckpoints ? 3 * bytes : bytes });
  }
  const rf = cell.agentId === 'reinforce-topk' ? resolveParams(a, reinforceTopKParams, p) : null;
  if (rf?.mode === 'online') {
    // The consumed steps' rows of finished trajectories (up to updateSteps user-steps and the trajectories that end
    // in the same step) and of one trajectory in progress per training slot (counted as 1,000 steps at most),
    // never more than the cell's training steps; each row and its minibatch copy.
    const trainSteps = cell.train.steps * cell.train.numEnvs;
    const rows = Math.min(trainSteps, rf.updateSteps + cell.train.numEnvs * 1000);
    parts.push({ field: `${a}.updateSteps`, value: rf.updateSteps, bytes: rows * (U + N * F + (rf.itemFeedback ? itemColumns : 0) + 8) * 4 * 2 });
  }
  if (cell.agentId === 'supervised' || cell.agentId === 'adaptive-supervised' || rf?.mode === 'offline') {
    // Logged impressions: about 100 steps per user, K impressions per step, a feature row each (and a copy).
    const users = rf
      ? rf.logUsers
      : cell.agentId === 'supervised'
          ? resolveParams(a, supervisedParams, p).logUsers
          : resolveParams(a, adaptiveSupervisedParams, p).logUsers;
    parts.push({ field: `${a}.logUsers`, value: users, bytes: users * 100 * K * (U + F + 32) * 4 * 2 });
  }
  return parts;
}

/** Throw MEMORY_BUDGET if the run's largest cell, times the cells running at once, exceeds the budget. */
export function checkRunMemory(cells: Cell[], concurrent: number, budget: number, opts: { saveCheckpoints?: boolean } = {}): void {
  let worst: { cell: Cell; parts: MemoryPart[]; bytes: number } | null = null;
  const seen = new Set<string>();
  for (const c of cells) {
    const k = `${c.agentIndex}|${c.pointIndex}`; // seeds of one agent and point need the same memory
    if (seen.has(k)) continue;
    seen.add(k);
    const parts = cellMemory(c, opts);
    const bytes = parts.reduce((s, x) => s + x.bytes, 0);
    if (!worst || bytes > worst.bytes) worst = { cell: c, parts, bytes };
  }
  if (!worst) return;
  const total = worst.bytes * Math.max(1, concurrent);
  if (total <= budget) return;
  const top = worst.parts.reduce((x, y) => (y.bytes > x.bytes ? y : x));
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;
  throw new EgymError(
    'MEMORY_BUDGET',
    `${top.field} = ${top.value} (cell ${worst.cell.label}) needs about ${gib(top.bytes)}; the run needs about ${gib(total)} (${gib(worst.bytes)} per cell x ${Math.max(1, concurrent)} at once), above the memory budget of ${gib(budget)}: lower ${top.field}, run fewer workers, or raise --memory-budget`,
    top.field,
  );
}
