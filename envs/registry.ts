/**
 * The env registry: versioned ids (`name-vN`), `make`, `makeVec`, `register`, `listEnvs`.
 *
 * An env's version is bumped whenever its dynamics, reward, observation layout or defaults change, so a
 * result produced with `retention-v0` stays comparable. Registering an id twice is an error.
 */
import { type AutoresetMode, type BatchSim, type Env, type EnvDefinition, MAX_NUM_ENVS, MAX_VEC_OBSERVATION_BYTES, observationSpaceOf, SimEnv, VectorEnv } from './core.js';
import { describeValue } from './spaces.js';
import type { Dict } from './spaces.js';
import { InvalidArgument, RegistryConflict, UnknownEnv } from './errors.js';
import { type ParamSchema, type ParamShape, type ParamsOf, type ResolvedParams, resolveParams } from './params.js';
import { TimeLimit } from './wrappers.js';
import type { EnvSpec } from './definition.js';
import { interestEvolutionEnv } from './interest-evolution.js';
import { longTermSatisfactionEnv } from './long-term-satisfaction.js';
import { boredomMdpEnv } from './boredom-mdp.js';
import { retentionV0Env, retentionV1Env } from './retention.js';
import { bernoulliBanditEnv, linearBanditEnv } from './bandits.js';

const ID_RE = /^(?<name>[a-z][a-z0-9-]*?)-v(?<version>\d+)$/;
const registry = new Map<string, EnvSpec>();


export function register<S extends ParamSchema<ParamShape>>(spec: EnvSpec<S>): void {
  if (!ID_RE.test(spec.id)) throw new InvalidArgument(`register: env id "${spec.id}" must look like name-vN (lower case, e.g. retention-v0)`);
  if (registry.has(spec.id)) throw new RegistryConflict(`register: env id "${spec.id}" is already registered; bump the version for a changed env`);
  registry.set(spec.id, spec as EnvSpec);
}

/** The registered specs, in registration order. */
export function listEnvs(): { id: string; description: string; source: string }[] {
  return [...registry.values()].map((s) => ({ id: s.id, description: s.description, source: s.source }));
}

export function envSpec(id: string): EnvSpec {
  const spec = registry.get(id);
  if (spec) return spec;
  const known = [...registry.keys()];
  const m = ID_RE.exec(String(id));
  if (m?.groups) {
    const versions = known.filter((k) => ID_RE.exec(k)?.groups?.name === m.groups!.name);
    if (versions.length > 0) throw new UnknownEnv(`unknown env version "${id}"; available versions: ${versions.join(', ')}`);
  }
  throw new UnknownEnv(`unknown env id ${JSON.stringify(id)}; known envs: ${known.join(', ')}`);
}

/** Validate params against an env's spec (defaults filled in). */
export function resolveEnvParams(id: string, params?: Record<string, unknown>): ResolvedParams {
  return resolveEnvParamsOf(envSpec(id), params);
}

/** The same, typed by the env's definition (e.g. `resolveEnvParamsOf(boredomMdpEnv, { numTopics: 4 })`). */
export function resolveEnvParamsOf<S extends ParamSchema<ParamShape>>(spec: EnvSpec<S>, params?: Record<string, unknown>): ParamsOf<S> {
  const p = resolveParams(spec.id, spec.params, params);
  spec.check?.(p);
  return p;
}

function definition(spec: EnvSpec, p: ResolvedParams): EnvDefinition {
  const def: EnvDefinition = { id: spec.id, params: p, multiSession: spec.multiSession, createSim: (B) => spec.createSim(B, p) };
  if (spec.model) def.model = () => spec.model!(p);
  return def;
}

export interface MakeOptions {
  /** Wrap in TimeLimit with this many steps. */
  maxEpisodeSteps?: number;
}

/** A single-user env. */
export function make(id: string, params?: Record<string, unknown>, opts: MakeOptions = {}): Env {
  const spec = envSpec(id);
  const p = resolveEnvParams(id, params);
  const def = definition(spec, p);
  const probe = spec.createSim(1, p);
  const env: Env = new SimEnv(def, spec.observationSpace(p, probe.layout));
  return opts.maxEpisodeSteps !== undefined ? new TimeLimit(env, opts.maxEpisodeSteps) : env;
}

export interface MakeVecOptions {
  numEnvs: number;
  autoresetMode?: AutoresetMode;
}

/** A vector env of `numEnvs` users stepped in lock-step (autoreset 'same-step' by default). */
export function makeVec(id: string, params: Record<string, unknown> | undefined, opts: MakeVecOptions): VectorEnv {
  if (opts === null || typeof opts !== 'object') throw new InvalidArgument(`makeVec(${JSON.stringify(id)}): options must be an object { numEnvs, autoresetMode? }, got ${opts === null ? 'null' : typeof opts}`);
  const spec = envSpec(id);
  const p = resolveEnvParams(id, params);
  const def = definition(spec, p);
  const probe = spec.createSim(1, p);
  const B = opts.numEnvs;
  if (typeof B !== 'number' || !Number.isInteger(B) || B < 1 || B > MAX_NUM_ENVS) {
    throw new InvalidArgument(`makeVec(${JSON.stringify(id)}): numEnvs must be an integer in [1, ${MAX_NUM_ENVS}], got ${describeValue(B)}`);
  }
  const { U, N, F } = probe.layout;
  const bytes = B * (U + N * F) * 4 * 3;
  if (bytes > MAX_VEC_OBSERVATION_BYTES) {
    throw new InvalidArgument(
      `makeVec(${JSON.stringify(id)}): numEnvs = ${B} needs about ${(bytes / 2 ** 20).toFixed(0)} MiB of observation buffers (${B} x (U ${U} + N ${N} x F ${F}) float32s, 3 copies); the limit is ${MAX_VEC_OBSERVATION_BYTES / 2 ** 20} MiB: lower numEnvs to at most ${Math.floor(MAX_VEC_OBSERVATION_BYTES / ((U + N * F) * 12))}`,
    );
  }
  return new VectorEnv(def, spec.observationSpace(p, probe.layout), B, opts.autoresetMode === undefined ? 'same-step' : opts.autoresetMode);
}

// The built-in envs, each defined in its own module.
for (const spec of [interestEvolutionEnv, longTermSatisfactionEnv, retentionV0Env, retentionV1Env, boredomMdpEnv, bernoulliBanditEnv, linearBanditEnv] as EnvSpec[]) register(spec);
