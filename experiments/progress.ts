/**
 * Progress of a run in one unit, user-steps: the training user-steps and evaluation user-steps done, of the
 * total planned over the cells this run executes. Training totals are known from the spec; an evaluation's
 * user-steps are not (users end their episodes when they end), so its plan is the evaluated users times an
 * estimate of steps per user: first from a short probe of the env (random slates, 16 users), then from the
 * evaluations finished so far; the users a supervised or off-policy agent logs while it is built count the same way,
 * and its model fitting counts in the fraction done by the share of epochs run, weighted against its logging.
 * The fraction done weights each cell by its expected cost (pool.ts), so that a
 * thousand cheap heuristic steps do not count like a thousand PPO steps; a running cell counts at most 99% until
 * its result arrives. No clock here: the CLI times the snapshots for steps per second and the ETA.
 */
import type { Cell } from './cells.js';
import { expectedCost, setupFitWeightOf, setupUsersOf } from './pool.js';
import { makeVec } from '../envs/registry.js';
import { sampleDistinct, streamFromString } from '../envs/rng.js';

/** A cell's progress so far (cumulative). */
export interface CellProgress {
  /** User-steps the agent ran while it was built (users logged by supervised and off-policy agents). */
  setupUserSteps: number;
  /** Share (0 to 1) of the model fitting done while it was built. */
  setupFit: number;
  trainUserSteps: number;
  evalUserSteps: number;
  /** Evaluated users whose episode ended. */
  evalUsers: number;
}

export interface ProgressSnapshot {
  /** User-steps done (training and evaluation) over the cells of this run. */
  userSteps: number;
  /** Their planned total (evaluations estimated; see above). */
  totalUserSteps: number;
  /** Share of the expected work done, each cell weighted by its expected cost, in [0, 1]. */
  fraction: number;
  cells: number;
  cellsDone: number;
  /** Cells that reported progress and have not finished. */
  inFlight: number;
}

/** Mean steps per user of the env under uniform random slates (16 users, a fixed stream): the first estimate. */
export function probeStepsPerUser(envId: string, envParams: Record<string, unknown>, users = 16, maxSteps = 100_000): number {
  const env = makeVec(envId, envParams, { numEnvs: users, autoresetMode: 'off' });
  env.reset({ seed: 987_654 });
  const { N, K } = env.layout;
  const rng = streamFromString('egym|progress-probe');
  const actions = new Int32Array(users * K);
  const alive = new Uint8Array(users).fill(1);
  let steps = 0;
  for (let t = 0; t < maxSteps; t++) {
    for (let s = 0; s < users; s++) sampleDistinct(rng, N, K, actions, s * K);
    const r = env.step(actions);
    for (let s = 0; s < users; s++) {
      steps += alive[s]!;
      if (r.final.mask[s]) alive[s] = 0;
    }
    if (r.allDone) break;
  }
  return Math.max(1, steps / users);
}

interface CellState {
  cell: Cell;
  weight: number;
  train: number;
  /** Users logged while the agent is built, and evaluated users: their user-steps are estimated. */
  setupUsers: number;
  /** The fitting's weight relative to the logging (its planned work: setupUsers x steps per user x weight). */
  fitWeight: number;
  evalUsersPlanned: number;
  p: CellProgress;
  done: boolean;
  started: boolean;
}

export class RunProgress {
  private readonly cells = new Map<number, CellState>();
  private finishedEvalSteps = 0;
  private finishedEvalUsers = 0;

  constructor(
    cells: Cell[],
    private readonly probeStepsPerUser: number,
  ) {
    for (const c of cells) {
      const train = c.train.steps * c.train.numEnvs;
      const curvePoints = c.eval.every > 0 && train > 0 ? Math.ceil(train / c.eval.every) + 1 : 0;
      this.cells.set(c.index, {
        cell: c,
        weight: Math.max(1e-9, expectedCost(c)),
        train,
        setupUsers: setupUsersOf(c),
        fitWeight: setupFitWeightOf(c),
        evalUsersPlanned: c.final.users + curvePoints * c.eval.users,
        p: { setupUserSteps: 0, setupFit: 0, trainUserSteps: 0, evalUserSteps: 0, evalUsers: 0 },
        done: false,
        started: false,
      });
    }
  }

  /** Steps per evaluated user: measured on the evaluations finished so far, else the probe's. */
  stepsPerEvalUser(): number {
    return this.finishedEvalUsers >= 16 ? this.finishedEvalSteps / this.finishedEvalUsers : this.probeStepsPerUser;
  }

  update(index: number, p: CellProgress): void {
    const s = this.cells.get(index);
    if (!s || s.done) return;
    s.started = true;
    s.p = p;
  }

  /** The cell's result arrived: it counts in full, and its evaluations refine the steps-per-user estimate. */
  finish(index: number, p?: CellProgress): void {
    const s = this.cells.get(index);
    if (!s || s.done) return;
    if (p) s.p = p;
    s.done = true;
    if (s.p.evalUsers > 0) {
      this.finishedEvalSteps += s.p.evalUserSteps;
      this.finishedEvalUsers += s.p.evalUsers;
    }
  }

  snapshot(): ProgressSnapshot {
    const perUser = this.stepsPerEvalUser();
    let userSteps = 0;
    let total = 0;
    let w = 0;
    let wDone = 0;
    let cellsDone = 0;
    let inFlight = 0;
    for (const s of this.cells.values()) {
      const done = s.p.setupUserSteps + s.p.trainUserSteps + s.p.evalUserSteps;
      const planned = s.train + (s.setupUsers + s.evalUsersPlanned) * perUser;
      // The fitting counts in the fraction (not in user-steps): its share done times its planned weight.
      const fit = s.setupUsers * perUser * s.fitWeight;
      const work = done + Math.min(1, s.p.setupFit) * fit;
      userSteps += done;
      total += s.done ? done : Math.max(planned, done);
      w += s.weight;
      if (s.done) {
        wDone += s.weight;
        cellsDone++;
      } else {
        if (s.started) inFlight++;
        wDone += s.weight * Math.min(0.99, planned + fit > 0 ? work / (planned + fit) : 0);
      }
    }
    return { userSteps, totalUserSteps: total, fraction: w > 0 ? wDone / w : 1, cells: this.cells.size, cellsDone, inFlight };
  }
}
