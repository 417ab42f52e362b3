/**
 * Evaluate a fixed vector policy on a population of held-out users (autoreset off: every user's whole
 * episode, users in batches). Users are (population seed, user index) pairs, so two policies evaluated with
 * the same seed and user range face identical users and exogenous draws: differences are paired.
 */
import { feature, type VectorEnv } from '../envs/core.js';
import { makeVec } from '../envs/registry.js';
import type { Agent } from '../agents/api.js';
import { observationOf } from '../agents/loop.js';
import { EvaluationLimit } from '../envs/errors.js';
import { collectedMetrics, MetricCollectors } from './metrics.js';

export interface EvaluationOptions {
  /** Number of users. */
  users: number;
  /** Population seed. */
  seed: number;
  /** First user index (held-out ranges use disjoint index ranges or another seed). */
  firstUser?: number;
  /** Users stepped together (default 256). */
  batch?: number;
  /** Safety cap on steps per user. */
  maxSteps?: number;
  /** Let the agent explore during evaluation. */
  explore?: boolean;
  /** Record the hidden interests of this many first users over time. */
  traceUsers?: number;
  /** Called after every vector step with the user-steps and the users finished so far in this evaluation. */
  onProgress?: (userSteps: number, users: number) => void;
}

/** Per-user outcomes, index = position in the evaluated range. */
export interface UserOutcomes {
  userIndex: Float64Array;
  return: Float64Array;
  length: Float64Array;
  /** Multi-session envs (else NaN). */
  activeDays: Float64Array;
  sessions: Float64Array;
  churned: Float64Array;
  clicks: Float64Array;
  /** Clicks / steps in the first session (multi-session envs with history). */
  firstSessionCtr: Float64Array;
  /** Every completed session's length in steps, all users pooled. */
  sessionLengths: number[];
  /** Every observed return gap in days, all users pooled. */
  returnGaps: number[];
  /** Clicks / steps. */
  ctr: Float64Array;
  /** Per-user values of the registered metrics that collect over steps (experiments/metrics.ts), by key; NaN where undefined. */
  metrics: Record<string, Float64Array>;
  /** Day of the user's last session (multi-session envs). */
  lastDay: Float64Array;
  /** Mean self-information -log2(share of all clicks) of the items the user clicked (catalogue envs; NaN otherwise). */
  novelty: Float64Array;
  /** Share of the catalogue recommended at least once (catalogue envs; NaN otherwise). */
  coverage: number;
  /** Hidden interests of the first users over time: [user, day or step, ...interests]. */
  interestTrace: number[][];
}

/**
 * Evaluate `agent` (exploration off unless `explore`) on `opts.users` users of population `opts.seed`, in
 * batches; nothing is learned. The agent's per-user state (if any) starts fresh for each user.
 */
export function evaluateAgent(envId: string, params: Record<string, unknown> | undefined, agent: Agent, opts: EvaluationOptions): UserOutcomes {
  const batch = Math.min(opts.batch ?? 256, opts.users);
  const env = makeVec(envId, params, { numEnvs: batch, autoresetMode: 'off' });
  const n = opts.users;
  const out: UserOutcomes = {
    userIndex: new Float64Array(n),
    return: new Float64Array(n),
    length: new Float64Array(n),
    activeDays: new Float64Array(n).fill(NaN),
    sessions: new Float64Array(n).fill(NaN),
    churned: new Float64Array(n).fill(NaN),
    clicks: new Float64Array(n).fill(NaN),
    firstSessionCtr: new Float64Array(n).fill(NaN),
    sessionLengths: [],
    returnGaps: [],
    ctr: new Float64Array(n),
    metrics: Object.fromEntries(collectedMetrics().map((m) => [m.key, new Float64Array(n).fill(NaN)])),
    lastDay: new Float64Array(n).fill(NaN),
    novelty: new Float64Array(n).fill(NaN),
    coverage: NaN,
    interestTrace: [],
  };
  const acc: Accumulators = { shown: env.layout.itemCount !== null ? new Uint8Array(env.layout.itemCount) : null, consumed: Array.from({ length: n }, () => []), clickCounts: new Map(), userSteps: 0, users: 0, onProgress: opts.onProgress };
  const first = opts.firstUser ?? 0;
  let done = 0;
  let seeded = false;
  while (done < n) {
    const b = Math.min(batch, n - done);
    // A smaller last batch: run it in a fresh env of that size (users are independent of the batch).
    const e = b === batch ? env : makeVec(envId, params, { numEnvs: b, autoresetMode: 'off' });
    runBatch(e, agent, opts.explore ?? false, opts.seed, first + done, out, done, opts.maxSteps ?? 1e7, !seeded || e !== env, acc, opts.traceUsers ?? 3);
    seeded = true;
    done += b;
  }
  if (acc.shown) {
    let c = 0;
    for (const v of acc.shown) c += v;
    out.coverage = c / acc.shown.length;
    let total = 0;
    for (const v of acc.clickCounts.values()) total += v;
    for (let i = 0; i < n; i++) {
      const items = acc.consumed[i]!;
      if (items.length === 0) continue;
      let s = 0;
      for (const it of items) s += -Math.log2(acc.clickCounts.get(it)! / total);
      out.novelty[i] = s / items.length;
    }
  }
  return out;
}

interface Accumulators {
  shown: Uint8Array | null;
  consumed: number[][];
  clickCounts: Map<number, number>;
  /** Progress: user-steps and users finished so far. */
  userSteps: number;
  users: number;
  onProgress?: (userSteps: number, users: number) => void;
}

function runBatch(env: VectorEnv, agent: Agent, explore: boolean, seed: number, firstUser: number, out: UserOutcomes, at: number, maxSteps: number, reseed: boolean, acc: Accumulators, traceUsers: number): void {
  const B = env.numEnvs;
  const { K, U, N, F } = env.layout;
  const steps = new Float64Array(B);
  const clicks = new Float64Array(B);
  const collectors = new MetricCollectors(env.layout, B);
  // Session metrics read the env's named user features (any layout): the calendar day, the step within the
  // session (0 at a session's first step) and the days since the last session. A multi-session env without them
  // gets no session metrics (NaN, empty lists) rather than numbers read from the wrong columns.
  const feat = (name: string) => {
    const f = feature(env.layout.userFeatures, name);
    return f && f.size === 1 ? f.offset : -1;
  };
  const oDay = feat('day');
  const oStep = feat('stepInSession');
  const oGap = feat('daysSinceLastSession');
  const multi = env.metadata.multiSession && oDay >= 0 && oStep >= 0 && oGap >= 0;
  const r0 = reseed ? env.reset({ seed, options: { firstUser } }) : env.reset({ options: { firstUser } });
  const active = new Uint8Array(B).fill(1);
  const userIndex = Float64Array.from(r0.userIndex);
  const sessSteps = new Float64Array(B);
  const firstClicks = new Float64Array(B);
  const firstSteps = new Float64Array(B);
  const obs = r0.observation;
  const ctx = agent.context(false, explore);
  const firstStep = new Uint8Array(B).fill(1);
  const view = observationOf(env, active, userIndex, firstStep, obs);
  const hasInterests = env.hidden().interests !== undefined;
  // Each step's shown item ids, slot by slot (one buffer for the batch, refilled every step).
  const chosenItems = acc.shown ? new Int32Array(B * K) : null;
  for (let t = 0; t < maxSteps; t++) {
    const actions = agent.act(view, ctx);
    if (t === 0) firstStep.fill(0);
    for (let s = 0; s < B; s++) {
      if (!active[s]) continue;
      const ui = at + s;
      if (ui < traceUsers && hasInterests && (multi ? obs.user[s * U + oStep] === 0 : t % 10 === 0)) {
        const h = env.infoFor(s).hidden as { interests?: number[] };
        if (h.interests) out.interestTrace.push([ui, multi ? obs.user[s * U + oDay]! : t, ...h.interests]);
      }
      if (acc.shown) for (let j = 0; j < K; j++) acc.shown[obs.itemIds![s * N + actions[s * K + j]!]!] = 1;
      collectors.shown({ slot: s, obs, slate: actions });
      // The consumed item (decided by this step's response, read after the step below).
    }
    if (chosenItems) for (let s = 0, k = 0; s < B; s++) for (let j = 0; j < K; j++, k++) chosenItems[k] = obs.itemIds![s * N + actions[k]!]!;
    const r = env.step(actions);
    agent.feedback?.(r.clicked, active, ctx);
    for (let s = 0; s < B; s++) {
      if (!active[s]) continue;
      steps[s]! += 1;
      acc.userSteps++;
      collectors.outcome(s, r.clicked[s]!, r.rewards[s]!);
      if (r.clicked[s]! >= 0) {
        clicks[s]! += 1;
        if (chosenItems) {
          const it = chosenItems[s * K + r.clicked[s]!]!;
          acc.consumed[at + s]!.push(it);
          acc.clickCounts.set(it, (acc.clickCounts.get(it) ?? 0) + 1);
        }
      }
    }
    for (let s = 0; s < B; s++) {
      if (!active[s]) continue;
      if (multi) {
        const o = s * U;
        sessSteps[s]! += 1;
        // This step's click counts toward the first session's CTR until its first session has ended.
        if (firstSteps[s] !== -1) {
          firstSteps[s]! += 1;
          firstClicks[s]! += r.clicked[s]! >= 0 ? 1 : 0;
        }
        const finished = r.final.mask[s] === 1;
        if (finished || obs.user[o + oStep] === 0) {
          out.sessionLengths.push(sessSteps[s]!);
          sessSteps[s] = 0;
          if (firstSteps[s] !== -1) {
            out.firstSessionCtr[at + s] = firstClicks[s]! / firstSteps[s]!;
            firstSteps[s] = -1;
          }
          if (!finished) out.returnGaps.push(obs.user[o + oGap]!);
        }
      }
      if (r.final.mask[s]) {
        active[s] = 0;
        acc.users++;
        const i = at + s;
        out.ctr[i] = clicks[s]! / Math.max(1, steps[s]!);
        collectors.end(s, out.metrics, i);
        if (multi) out.lastDay[i] = r.final.observation.user[s * U + oDay]!;
        const st = r.final.stats;
        out.userIndex[i] = r.final.userIndex[s]!;
        out.return[i] = st.return![s]!;
        out.length[i] = st.length![s]!;
        if (st.activeDays) {
          out.activeDays[i] = st.activeDays[s]!;
          out.sessions[i] = st.sessions![s]!;
          out.churned[i] = st.churned![s]!;
          out.clicks[i] = st.clicks![s]!;
        }
      }
    }
    acc.onProgress?.(acc.userSteps, acc.users);
    if (r.allDone) return;
  }
  throw new EvaluationLimit(`${env.id}: evaluation hit maxSteps = ${maxSteps} with users still active`);
}

export function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}
