/**
 * Running one cell: train an agent on the env (autoreset same-step, training users from population
 * 100000 + seed), evaluate it every `eval.every` user-steps on `eval.users` held-out users (population
 * `eval.seed`), and finally on `final.users` held-out users (population `final.seed`). Populations are sets
 * of users; the world they live in (catalogue, trend) comes from the env's `worldSeed`, which the spec sets
 * to 0 by default, so training, logging and held-out users are different users of one world. Agents that
 * cannot learn (no observe, no update) skip the training loop: their curve is the untrained point. Every agent and seed of
 * an experiment is evaluated on the same held-out users with the same exogenous draws, so differences are
 * paired. The optional multi-objective reward (spec `reward`) shapes what the agent learns from; evaluation
 * always reports every metric on the env's own reward.
 */
import { join } from 'node:path';
import '../agents/index.js';
import { agentSpec, makeAgent } from '../agents/registry.js';
import { type Agent, type AgentCheckpoint, calendarDayOffset, IncompatibleEnv, type Transitions } from '../agents/api.js';
import { trainAgent } from '../agents/loop.js';
import { makeVec } from '../envs/registry.js';
import { evaluateAgent, type UserOutcomes } from './evaluate.js';
import { USER_COLUMNS } from './metrics.js';
import type { CellProgress } from './progress.js';
import { withSetupProgress } from '../agents/setup-progress.js';
import type { Cell } from './cells.js';
import { ResultFileError } from './results.js';
import { findCheckpointFile, readCheckpointFile } from '../agents/checkpoint-file.js';

/** A cell's training users are population TRAINING_POPULATION + the cell's seed (held-out populations are the spec's). */
export const TRAINING_POPULATION = 100000;

/** The per-user columns of an evaluation: the stored outcomes, then each collected metric (experiments/metrics.ts). */
export function userColumns(o: UserOutcomes): Record<string, Float64Array> {
  const cols: Record<string, Float64Array> = {};
  for (const k of USER_COLUMNS) cols[k] = o[k];
  for (const [k, v] of Object.entries(o.metrics)) cols[k] = v;
  return cols;
}

export interface CurvePoint {
  userSteps: number;
  /** Mean over the evaluation users of each metric. */
  means: Record<string, number>;
}

/** One learning update's scalars: the update's number, the training user-steps when it ran, the agent's own names. */
export interface TrainUpdate {
  update: number;
  userSteps: number;
  metrics: Record<string, number>;
}

export interface TrainLogPoint {
  userSteps: number;
  /** Updates averaged into this point. */
  updates: number;
  metrics: Record<string, number>;
}

/** Scalars whose values come from the clock (throughput) stay out of the training log. */
const CLOCK_SCALAR = /sps|per_?sec|seconds|time/i;

/** Averages update scalars over fixed windows of vector steps (deterministic: step counts only). */
class TrainLog {
  readonly points: TrainLogPoint[] = [];
  /** Every update's scalars, unaveraged (written to train-logs/<cell key>.jsonl, not to the cell file). */
  readonly all: TrainUpdate[] = [];
  private sums = new Map<string, number>();
  private counts = new Map<string, number>();
  private updates = 0;
  private windowEnd = -1;
  constructor(
    private readonly window: number,
    private readonly B: number,
  ) {}
  add(m: Record<string, number>, step: number): void {
    const end = (Math.floor(step / this.window) + 1) * this.window;
    if (end !== this.windowEnd) this.flush();
    this.windowEnd = end;
    this.updates++;
    const kept: Record<string, number> = {};
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || CLOCK_SCALAR.test(k)) continue;
      kept[k] = v;
      this.sums.set(k, (this.sums.get(k) ?? 0) + v);
      this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    }
    this.all.push({ update: this.all.length + 1, userSteps: (step + 1) * this.B, metrics: kept });
  }
  flush(): void {
    if (this.updates === 0) return;
    const metrics: Record<string, number> = {};
    for (const [k, v] of this.sums) metrics[k] = v / this.counts.get(k)!;
    this.points.push({ userSteps: this.windowEnd * this.B, updates: this.updates, metrics });
    this.sums = new Map();
    this.counts = new Map();
    this.updates = 0;
  }
}

/** Training user-steps per second of training so far (CleanRL's SPS), one point per window of vector steps. */
class SpsLog {
  readonly points: { userSteps: number; sps: number }[] = [];
  private lastWindow = -1;
  constructor(
    private readonly window: number,
    private readonly B: number,
  ) {}
  add(step: number, seconds: number): void {
    const w = Math.floor(step / this.window);
    const p = { userSteps: (step + 1) * this.B, sps: seconds > 0 ? ((step + 1) * this.B) / seconds : 0 };
    if (w === this.lastWindow) this.points[this.points.length - 1] = p;
    else this.points.push(p);
    this.lastWindow = w;
  }
}

export interface CellResult {
  format: 'engagement-gym/cell';
  version: 1;
  key: string;
  cell: Cell;
  curve: CurvePoint[];
  final: {
    /** Per-user columns: USER_COLUMNS and each collected metric's key. */
    users: Record<string, (number | null)[]>;
    sessionLengths: number[];
    returnGaps: number[];
    coverage: number | null;
    interestTrace: number[][];
  };
  /**
   * Training: totals, the last update's scalars, and `log`: every update's scalars with the agent's own names
   * (CleanRL's for PPO), averaged over windows of 1/200 of the training run (at most 200 points), each at the
   * training user-steps where its window ends. Only learning scalars: nothing that depends on the clock.
   */
  train: { userSteps: number; episodes: number; lastMetrics: Record<string, number>; log?: TrainLogPoint[] };
  backend: string | null;
  /**
   * Wall-clock facts: excluded from summaries (they differ between runs). `wallSeconds`: the whole cell (building
   * the agent, training, every evaluation). `trainUserStepsPerSecond`: training user-steps per second of training
   * alone (the learning-curve evaluations between training chunks excluded; 0 without training). `sps`: CleanRL's SPS, training
   * user-steps per second of training so far (evaluations excluded), at the end of each of the training log's
   * windows (at most 200 points); absent for agents that do not update.
   */
  timing: { wallSeconds: number; trainUserStepsPerSecond: number; sps?: { userSteps: number; sps: number }[] };
  checkpoint?: AgentCheckpoint;
  /** Every update's scalars (the runner writes them to train-logs/<key>.jsonl and drops them from the result). */
  trainUpdates?: TrainUpdate[];
}

const nul = (v: number) => (Number.isFinite(v) ? v : null);

function means(o: UserOutcomes): Record<string, number> {
  const m: Record<string, number> = {};
  for (const [k, a] of Object.entries(userColumns(o))) {
    let s = 0;
    let n = 0;
    for (const v of a) if (Number.isFinite(v)) (s += v), n++;
    m[k] = n > 0 ? s / n : NaN;
  }
  return m;
}

/** Wraps an agent so that it learns from a weighted mix of engagement, retention, diversity and novelty. */
export class RewardShaping {
  private counts = new Map<number, number>();
  private total = 0;
  private shaped = new Float64Array(0);
  constructor(
    private readonly agent: Agent,
    private readonly w: Cell['reward'],
  ) {}
  wrap(): Agent {
    const inner = this.agent;
    const observe = inner.observe?.bind(inner);
    if (!observe) return inner;
    const self = this;
    return new Proxy(inner, {
      get(target, prop, recv) {
        if (prop === 'observe') return (t: Transitions) => observe(self.shape(t));
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
  private shape(t: Transitions): Transitions {
    const { U, N, F, K } = this.agent.env.layout;
    const B = t.obs.B;
    if (this.shaped.length !== B) this.shaped = new Float64Array(B);
    const topic = this.agent.env.layout.candidateFeatures.find((f) => f.name === 'topic' && f.kind === 'onehot');
    // The retention bonus: +1 when the next observation's calendar day (the env's named `day` feature) is later.
    const day = calendarDayOffset(this.agent.env);
    if (this.w.retention !== 0 && day < 0) {
      throw new IncompatibleEnv(this.agent.id, this.agent.env.envId, 'reward.retention needs a multi-session env with a user feature named "day"');
    }
    for (let s = 0; s < B; s++) {
      let r = this.w.engagement * t.rewards[s]!;
      if (this.w.retention !== 0 && !t.finalMask[s]) {
        if (Math.floor(t.next.user[s * U + day]!) > Math.floor(t.obs.user[s * U + day]!)) r += this.w.retention;
      }
      if (this.w.diversity !== 0 && topic && K > 1) {
        const tp: number[] = [];
        for (let j = 0; j < K; j++) {
          const o = (s * N + t.actions[s * K + j]!) * F + topic.offset;
          let x = -1;
          for (let q = 0; q < topic.size; q++) if (t.obs.candidates[o + q] === 1) x = q;
          tp.push(x);
        }
        let diff = 0;
        for (let a = 0; a < K; a++) for (let b = a + 1; b < K; b++) if (tp[a] !== tp[b]) diff++;
        r += (this.w.diversity * diff) / ((K * (K - 1)) / 2);
      }
      if (this.w.novelty !== 0 && t.obs.itemIds) {
        let nov = 0;
        for (let j = 0; j < K; j++) {
          const it = t.obs.itemIds[s * N + t.actions[s * K + j]!]!;
          const c = this.counts.get(it) ?? 0;
          nov += -Math.log2((c + 1) / (this.total + N));
          this.counts.set(it, c + 1);
          this.total++;
        }
        r += (this.w.novelty * nov) / K;
      }
      this.shaped[s] = r;
    }
    return { ...t, rewards: this.shaped };
  }
}

export interface RunCellOptions {
  keepCheckpoint?: boolean;
  /**
   * Progress, cumulative (experiments/progress.ts): called about 200 times over the training and every 8 vector
   * steps of an evaluation, and once at the end. Step counts only: what it reports never changes the results.
   */
  onProgress?: (p: CellProgress) => void;
  /** Each learning-curve point as soon as it is evaluated (the live page of `egym serve`). */
  onCurvePoint?: (p: CurvePoint) => void;
}

export async function runCell(cell: Cell, opts: RunCellOptions = {}): Promise<CellResult> {
  const t0 = performance.now(); // clock-ok (timing is reported, never used in results)
  const progress: CellProgress = { setupUserSteps: 0, setupFit: 0, trainUserSteps: 0, evalUserSteps: 0, evalUsers: 0 };
  const report = opts.onProgress ? () => opts.onProgress!({ ...progress }) : null;
  report?.();
  let setupCalls = 0;
  const build = () => makeAgent(cell.agentId, cell.agentParams, { envId: cell.envId, envParams: cell.envParams, seed: cell.seed });
  let agent = report
    ? await withSetupProgress(
        (n) => {
          progress.setupUserSteps += n;
          if (++setupCalls % 16 === 0) report();
        },
        build,
        (share) => {
          progress.setupFit += share;
          report();
        },
      )
    : await build();
  if (cell.warmStart) {
    const dir = join(cell.warmStart.checkpointDir, 'checkpoints');
    const f = findCheckpointFile(dir, `${cell.label}-seed${cell.seed}`);
    if (!f) throw new ResultFileError(`warm start: no checkpoint ${join(dir, `${cell.label}-seed${cell.seed}`)}.json or .ckpt (the source run must set saveCheckpoints through "egym run --save-checkpoints")`);
    agent.load(readCheckpointFile(f));
  }
  const w = cell.reward;
  const learner = w.engagement === 1 && w.retention === 0 && w.diversity === 0 && w.novelty === 0 ? agent : new RewardShaping(agent, w).wrap();
  const curve: CurvePoint[] = [];
  const B = cell.train.numEnvs;
  const totalSteps = cell.train.steps;
  const evalEvery = cell.eval.every > 0 ? Math.max(1, Math.ceil(cell.eval.every / B)) : 0;
  const evaluate = (users: number, seed: number) => {
    const baseSteps = progress.evalUserSteps;
    const baseUsers = progress.evalUsers;
    let calls = 0;
    const o = evaluateAgent(cell.envId, cell.envParams, agent, {
      users,
      seed,
      traceUsers: 3,
      onProgress: report
        ? (steps, done) => {
            progress.evalUserSteps = baseSteps + steps;
            progress.evalUsers = baseUsers + done;
            if (++calls % 8 === 0) report();
          }
        : undefined,
    });
    report?.();
    return o;
  };
  const addPoint = (userSteps: number) => {
    const p: CurvePoint = { userSteps, means: means(evaluate(cell.eval.users, cell.eval.seed)) };
    curve.push(p);
    opts.onCurvePoint?.(p);
  };
  let episodes = 0;
  let lastMetrics: Record<string, number> = {};
  const trainLog = new TrainLog(Math.max(1, Math.ceil(totalSteps / 200)), B);
  // CleanRL's SPS at the end of each training-log window (wall clock: kept in the cell's timing, never in results).
  const sps = new SpsLog(Math.max(1, Math.ceil(totalSteps / 200)), B);
  let trainedMs = 0;
  // An agent that neither observes nor updates cannot change with training: its curve is its untrained point.
  const learns = typeof agent.observe === 'function' || typeof agent.update === 'function';
  if (totalSteps > 0 && !learns) {
    if (evalEvery > 0) addPoint(0);
  } else if (totalSteps > 0) {
    const env = makeVec(cell.envId, cell.envParams, { numEnvs: B });
    if (evalEvery > 0) addPoint(0);
    let done = 0;
    while (done < totalSteps) {
      const chunk = evalEvery > 0 ? Math.min(evalEvery, totalSteps - done) : totalSteps - done;
      const at = done;
      const every = Math.max(1, Math.floor(totalSteps / 200));
      const chunkStart = performance.now(); // clock-ok (SPS: reported, never used in results)
      const r = trainAgent(learner, env, {
        steps: chunk,
        seed: TRAINING_POPULATION + cell.seed,
        resume: done > 0,
        onUpdate: (m, t) => {
          trainLog.add(m, at + t);
          sps.add(at + t, (trainedMs + performance.now() - chunkStart) / 1000); // clock-ok
        },
        onProgress: report
          ? (t) => {
              progress.trainUserSteps = (at + t) * B;
              if ((at + t) % every === 0) report();
            }
          : undefined,
      });
      trainedMs += performance.now() - chunkStart; // clock-ok
      episodes += r.episodes.length;
      if (Object.keys(r.metrics).length > 0) lastMetrics = r.metrics;
      done += chunk;
      if (evalEvery > 0) addPoint(done * B);
    }
  }
  report?.();
  // Training alone: the learning-curve evaluations between the chunks are not training.
  const trainSeconds = trainedMs / 1000;
  const fin = evaluate(cell.final.users, cell.final.seed);
  const users: CellResult['final']['users'] = {};
  for (const [k, a] of Object.entries(userColumns(fin))) users[k] = Array.from(a, nul);
  const result: CellResult = {
    format: 'engagement-gym/cell',
    version: 1,
    key: cell.key,
    cell,
    curve,
    final: {
      users,
      sessionLengths: fin.sessionLengths,
      returnGaps: fin.returnGaps,
      coverage: nul(fin.coverage),
      interestTrace: fin.interestTrace,
    },
    train: { userSteps: totalSteps * B, episodes, lastMetrics, log: (trainLog.flush(), trainLog.points) },
    backend: (agent as { backend?: { name: string } }).backend?.name ?? (agentSpec(cell.agentId).usesTf ? ((await import('../policies/backend.js')).backendInfo()?.name ?? null) : null),
    timing: { wallSeconds: (performance.now() - t0) / 1000, trainUserStepsPerSecond: trainSeconds > 0 ? (totalSteps * B) / trainSeconds : 0, ...(sps.points.length > 0 ? { sps: sps.points } : {}) }, // clock-ok
  };
  if (trainLog.all.length > 0) result.trainUpdates = trainLog.all;
  if (opts.keepCheckpoint) result.checkpoint = agent.save();
  (agent as { dispose?: () => void }).dispose?.();
  agent = null as unknown as Agent;
  return result;
}
