/**
 * The agent registry: `makeAgent(id, params, { envId, envParams, seed })`, `listAgents()` with one-line
 * descriptions, the source (paper) of each algorithm, and whether the agent is an oracle. Params are
 * validated like env params (unknown or out-of-range -> an error naming the param, range and default), and
 * an agent that cannot run on an env says so at construction (IncompatibleEnv).
 */
import { envSpec, resolveEnvParams } from '../envs/registry.js';
import { type ParamSchema, type ParamShape, type ParamsOf, type ResolvedParams, resolveParams } from '../envs/params.js';
import type { EnvSpec } from '../envs/definition.js';
import { checkSeed } from '../envs/rng.js';
import { RegistryConflict, UnknownAgent } from '../envs/errors.js';
import type { Agent, AgentEnvInfo } from './api.js';

export interface AgentSpec<S extends ParamSchema<ParamShape> = ParamSchema<any>> {
  id: string;
  description: string;
  /** The algorithm's source: paper or book. */
  source: string;
  /** Reads hidden state (or the exact model): marked in every listing and report. */
  oracle: boolean;
  /** Whether these params make the agent an oracle (default: `oracle`), e.g. SlateQ with the env's choice model. */
  oracleFor?(p: ParamsOf<S>): boolean;
  /** Uses TensorFlow.js (needs a backend; see policies/backend.ts). */
  usesTf?: boolean;
  /** Users the agent logs while it is built (supervised and off-policy agents): for progress and scheduling. */
  setupUsers?(p: ParamsOf<S>): number;
  /** Time the agent's model fitting takes while it is built, relative to its logging (progress only). */
  setupFitWeight?: number;
  /** The params schema (`defineParams`); `create` gets the resolved params, typed by it. */
  params: S;
  check?(p: ParamsOf<S>): void;
  create(p: ParamsOf<S>, env: AgentEnvInfo, seed: number): Agent | Promise<Agent>;
}

/** An agent definition, its params typed by its schema. Each agent module exports its definitions. */
export function defineAgent<S extends ParamSchema<ParamShape>>(spec: AgentSpec<S>): AgentSpec<S> {
  return spec;
}

/**
 * The env's params typed by its definition when the agent runs on that env (null on any other env): agents
 * that know an env's model read its params through this, not through casts.
 */
export function envParamsFor<S extends ParamSchema<ParamShape>>(env: AgentEnvInfo, def: EnvSpec<S>): ParamsOf<S> | null {
  return env.envId === def.id ? (env.params as ParamsOf<S>) : null;
}

const agents = new Map<string, AgentSpec>();

export function registerAgent<S extends ParamSchema<ParamShape>>(spec: AgentSpec<S>): void {
  if (agents.has(spec.id)) throw new RegistryConflict(`registerAgent: agent id "${spec.id}" is already registered`);
  agents.set(spec.id, spec as AgentSpec);
}

/** Whether agent `id` with these resolved params reads hidden state. */
export function isOracle(id: string, p: ResolvedParams): boolean {
  const s = agentSpec(id);
  return s.oracleFor ? s.oracleFor(p) : s.oracle;
}

export function listAgents(): { id: string; description: string; source: string; oracle: boolean }[] {
  return [...agents.values()].map((a) => ({ id: a.id, description: a.description, source: a.source, oracle: a.oracle }));
}

export function agentSpec(id: string): AgentSpec {
  const a = agents.get(id);
  if (!a) throw new UnknownAgent(`unknown agent ${JSON.stringify(id)}; known agents: ${[...agents.keys()].join(', ')}`);
  return a;
}

export function resolveAgentParams(id: string, params?: Record<string, unknown>): ResolvedParams {
  const spec = agentSpec(id);
  const p = resolveParams(`agent ${id}`, spec.params, params);
  spec.check?.(p);
  return p;
}

/** What an agent may know about an env (layout, feature blocks, hidden block names, exact model). */
export function agentEnvInfo(envId: string, envParams?: Record<string, unknown>): AgentEnvInfo {
  const spec = envSpec(envId);
  const p = resolveEnvParams(envId, envParams);
  const sim = spec.createSim(1, p);
  sim.setPopulation(0);
  sim.resetSlot(0, 0);
  return {
    envId,
    params: p,
    layout: sim.layout,
    hiddenNames: Object.keys(sim.hidden()),
    multiSession: spec.multiSession,
    model: spec.model ? spec.model(p) : null,
  };
}

export interface MakeAgentOptions {
  envId: string;
  envParams?: Record<string, unknown>;
  seed: number;
}

export async function makeAgent(id: string, params: Record<string, unknown> | undefined, opts: MakeAgentOptions): Promise<Agent> {
  const spec = agentSpec(id);
  const p = resolveAgentParams(id, params);
  checkSeed(opts.seed, `agent ${id}`);
  const env = agentEnvInfo(opts.envId, opts.envParams);
  return spec.create(p, env, opts.seed);
}
