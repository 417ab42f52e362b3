/**
 * The basic loops over a vector env and the agent API: train (same-step autoreset, a fixed number of vector
 * steps) and evaluate (autoreset off, every user's whole episode, exploration off). The experiment runner
 * builds on these.
 */
import type { VecObservation, VectorEnv } from '../envs/core.js';
import { type Agent, type AgentObservation, assertFiniteTransitions, type Transitions } from './api.js';
import { InvalidArgument } from '../envs/errors.js';

/** An AgentObservation view over the env's current buffers. */
export function observationOf(env: VectorEnv, active: Uint8Array, userIndex: Float64Array, firstStep: Uint8Array, obs: VecObservation): AgentObservation {
  return {
    user: obs.user,
    candidates: obs.candidates,
    itemIds: obs.itemIds,
    B: env.numEnvs,
    active,
    userIndex,
    firstStep,
    hidden: (names) => env.hidden(names),
  };
}

function copyObs(src: VecObservation, dst: VecObservation): void {
  dst.user.set(src.user);
  dst.candidates.set(src.candidates);
  if (src.itemIds && dst.itemIds) dst.itemIds.set(src.itemIds);
}

export interface EpisodeRecord {
  userIndex: number;
  return: number;
  length: number;
  stats: Record<string, number>;
}

export interface TrainResult {
  steps: number;
  episodes: EpisodeRecord[];
  /** The last metrics returned by agent.update(). */
  metrics: Record<string, number>;
}

/**
 * Train `agent` for `steps` vector steps (B user-steps each) on `env` (autoreset same-step). The env is reset
 * with `seed` unless `resume` is set (then it continues where it stands).
 */
export interface TrainOptions {
  steps: number;
  seed?: number;
  /** Continue the env where it stands instead of resetting it. */
  resume?: boolean;
  onEpisode?: (e: EpisodeRecord) => void;
  /** Called after every vector step with what the agent observed. */
  onStep?: (t: Transitions) => void;
  /** Called with the scalars of every learning update (agent.update() returning metrics) and the vector step it ran at. */
  onUpdate?: (metrics: Record<string, number>, step: number) => void;
  /** Called after the agent chose its slates, before the env steps (the env's hidden state is still the decision's). */
  onAct?: (obs: AgentObservation, actions: Int32Array) => void;
  /** Called after every vector step with the vector steps done so far (progress reporting; cheap). */
  onProgress?: (stepsDone: number) => void;
}

export function trainAgent(agent: Agent, env: VectorEnv, opts: TrainOptions): TrainResult {
  if (env.metadata.autoresetMode !== 'same-step') throw new InvalidArgument(`trainAgent needs a vector env with autoreset 'same-step', got '${env.metadata.autoresetMode}'`);
  const B = env.numEnvs;
  const { U, N, F } = env.layout;
  const r0 = opts.resume ? null : env.reset({ seed: opts.seed ?? 0 });
  const active = new Uint8Array(B).fill(1);
  const userIndex = new Float64Array(B);
  const cur: VecObservation = env.sim.itemIds
    ? { user: env.sim.user, candidates: env.sim.candidates, itemIds: env.sim.itemIds }
    : { user: env.sim.user, candidates: env.sim.candidates, itemIds: null };
  if (r0) userIndex.set(r0.userIndex);
  else for (let s = 0; s < B; s++) userIndex[s] = (env.infoFor(s).userIndex as number) ?? 0;
  const prev: VecObservation = { user: new Float32Array(B * U), candidates: new Float32Array(B * N * F), itemIds: env.sim.itemIds ? new Int32Array(B * N) : null };
  const prevUsers = new Float64Array(B);
  const stepped = new Uint8Array(B).fill(1);
  // After a reset every slot starts a user; on resume the agent's per-user state carries on.
  const firstStep = new Uint8Array(B).fill(opts.resume ? 0 : 1);
  const prevFirst = new Uint8Array(B);
  const ctx = agent.context(true);
  const episodes: EpisodeRecord[] = [];
  let metrics: Record<string, number> = {};
  for (let t = 0; t < opts.steps; t++) {
    const obs = observationOf(env, active, userIndex, firstStep, cur);
    const actions = agent.act(obs, ctx);
    opts.onAct?.(obs, actions);
    copyObs(cur, prev);
    prevUsers.set(userIndex);
    prevFirst.set(firstStep);
    const r = env.step(actions);
    userIndex.set(r.userIndex);
    firstStep.set(r.final.mask);
    agent.feedback?.(r.clicked, stepped, ctx);
    if (agent.observe || opts.onStep) {
      const tr: Transitions = {
        obs: observationOf(env, active, prevUsers, prevFirst, prev),
        actions,
        rewards: r.rewards,
        clicked: r.clicked,
        terminated: r.terminated,
        truncated: r.truncated,
        next: observationOf(env, active, userIndex, firstStep, cur),
        finalMask: r.final.mask,
        finalObservation: r.final.observation,
        stepped,
      };
      if (agent.observe) assertFiniteTransitions(agent.id, tr);
      agent.observe?.(tr);
      opts.onStep?.(tr);
    }
    const m = agent.update?.();
    if (m) {
      metrics = m;
      opts.onUpdate?.(m, t);
    }
    if (r.numFinished > 0) {
      for (let s = 0; s < B; s++) {
        if (!r.final.mask[s]) continue;
        const stats: Record<string, number> = {};
        for (const k of env.statNames) stats[k] = r.final.stats[k]![s]!;
        const e = { userIndex: r.final.userIndex[s]!, return: stats.return!, length: stats.length!, stats };
        episodes.push(e);
        opts.onEpisode?.(e);
        agent.onEpisodeEnd?.(s, r.final.userIndex[s]!);
      }
    }
    opts.onProgress?.(t + 1);
  }
  return { steps: opts.steps, episodes, metrics };
}
