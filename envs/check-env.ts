/**
 * checkEnv: the Gymnasium env checker, stricter (rl-conventions §1.6, §1.8). Run over the whole registry in
 * the tests and by `egym check-env <id>`.
 *
 * Checks: spaces are valid and round-trip through JSON; reset/step results lie in their spaces; reset with
 * the same seed is deterministic; a rollout with sampled actions is bit-identical across two env instances;
 * reset() without a seed continues the stream (the next user differs); step before reset and after the end
 * throws; observation arrays are not aliased between steps; info is JSON-serializable; invalid actions
 * throw InvalidAction; and no `Math.random` is reachable (the checks run under a Math.random that throws). // rng-ok
 */
import type { Env, Observation, StepResult } from './core.js';
import { InvalidAction, ResetNeeded } from './errors.js';
import { type Space, spaceFromJSON } from './spaces.js';
import { streamFromString } from './rng.js';
import { EgymError } from './errors.js';

export interface CheckReport {
  id: string;
  passed: string[];
}

class CheckFailure extends EgymError {
  constructor(message: string) {
    super('ENV_CHECK_FAILED', message);
    this.name = 'CheckFailure';
  }
}

function fail(id: string, what: string): never {
  throw new CheckFailure(`checkEnv(${id}): ${what}`);
}

function sameObs(a: Observation, b: Observation): boolean {
  const eq = (x: ArrayLike<number> | undefined, y: ArrayLike<number> | undefined) => {
    if (x === undefined || y === undefined) return x === y;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
    return true;
  };
  return eq(a.user, b.user) && eq(a.candidates, b.candidates) && eq(a.itemIds, b.itemIds);
}

/**
 * Check an env. `makeEnv` must return a fresh instance each call (two are compared). `steps` bounds the
 * rollout length. Throws with a message naming the env and the failed property; returns the passed checks.
 */
export function checkEnv(makeEnv: () => Env, opts: { steps?: number; seed?: number } = {}): CheckReport {
  const steps = opts.steps ?? 300;
  const seed = opts.seed ?? 123;
  const original = Math.random; // rng-ok: the trap below replaces it; nothing draws from it
  Math.random = () => { // rng-ok: a trap that fails any call
    throw new CheckFailure('Math.random was called: all randomness must come from the seeded streams'); // rng-ok
  };
  try {
    return runChecks(makeEnv, steps, seed);
  } finally {
    Math.random = original; // rng-ok
  }
}

function runChecks(makeEnv: () => Env, steps: number, seed: number): CheckReport {
  const a = makeEnv();
  const b = makeEnv();
  const id = a.id;
  const passed: string[] = [];

  // Spaces.
  for (const [name, sp] of [
    ['observationSpace', a.observationSpace],
    ['actionSpace', a.actionSpace],
  ] as [string, Space<unknown>][]) {
    const j = JSON.stringify(sp.toJSON());
    const back = spaceFromJSON(JSON.parse(j));
    if (JSON.stringify(back.toJSON()) !== j) fail(id, `${name} does not round-trip through JSON`);
    const rng = streamFromString('check-space');
    for (let i = 0; i < 20; i++) if (!sp.contains(sp.sample(rng))) fail(id, `${name} contains() rejects its own sample()`);
  }
  passed.push('spaces valid and JSON round-trip');

  // Order enforcement.
  try {
    a.step(a.actionSpace.sample(streamFromString('x')));
    fail(id, 'step() before reset() did not throw');
  } catch (e) {
    if (!(e instanceof ResetNeeded)) throw e instanceof CheckFailure ? e : new CheckFailure(`checkEnv(${id}): step() before reset() threw ${(e as Error).name}, expected ResetNeeded`);
  }
  passed.push('step before reset throws ResetNeeded');

  // Reset determinism.
  const ra = a.reset({ seed });
  const rb = b.reset({ seed });
  if (!a.observationSpace.contains(ra.observation)) fail(id, 'reset() observation is not in observationSpace');
  if (!sameObs(ra.observation, rb.observation)) fail(id, 'reset({seed}) is not deterministic across instances');
  if (JSON.stringify(ra.info) !== JSON.stringify(rb.info)) fail(id, 'reset({seed}) info differs across instances');
  checkJson(id, ra.info, 'reset info');
  passed.push('reset determinism, observation in space, info JSON-serializable');

  // Invalid actions.
  const { N, K } = a.layout;
  const bad: [string, unknown][] = [
    ['wrong length', new Array(K + 1).fill(0)],
    ['out of range', [N, ...new Array(K - 1).fill(0)].slice(0, K)],
    ['negative', [-1, ...new Array(K - 1).fill(0)].slice(0, K)],
    ['NaN', [NaN, ...new Array(K - 1).fill(0)].slice(0, K)],
    ['non-integer', [0.5, ...new Array(K - 1).fill(0)].slice(0, K)],
    ['not an array', 'x'],
  ];
  if (K >= 2) bad.push(['duplicate', [0, 0, ...Array.from({ length: K - 2 }, (_, i) => i + 1)]]);
  for (const [what, act] of bad) {
    try {
      a.step(act as ArrayLike<number>);
      fail(id, `an invalid action (${what}) was accepted`);
    } catch (e) {
      if (!(e instanceof InvalidAction)) throw e instanceof CheckFailure ? e : new CheckFailure(`checkEnv(${id}): invalid action (${what}) threw ${(e as Error).name}: ${(e as Error).message}, expected InvalidAction`);
      if (!(e as Error).message.includes(id)) fail(id, `the InvalidAction message does not name the env: ${(e as Error).message}`);
    }
  }
  passed.push('invalid actions throw InvalidAction naming the env');

  // Rollout determinism across two instances, spaces, aliasing, info JSON, step after end.
  a.reset({ seed });
  b.reset({ seed });
  const rngA = streamFromString('check-actions');
  const rngB = streamFromString('check-actions');
  let prev: StepResult | null = null;
  let ended = 0;
  for (let t = 0; t < steps; t++) {
    const sa = a.step(a.actionSpace.sample(rngA));
    const sb = b.step(b.actionSpace.sample(rngB));
    if (!sameObs(sa.observation, sb.observation) || !Object.is(sa.reward, sb.reward) || sa.terminated !== sb.terminated || sa.truncated !== sb.truncated) {
      fail(id, `rollout differs between two instances with the same seed at step ${t}`);
    }
    if (JSON.stringify(sa.info) !== JSON.stringify(sb.info)) fail(id, `info differs between two instances with the same seed at step ${t}`);
    if (!a.observationSpace.contains(sa.observation)) fail(id, `step ${t} observation is not in observationSpace`);
    for (const [field, arr] of [['user', sa.observation.user], ['candidates', sa.observation.candidates]] as const) {
      for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i]!)) fail(id, `step ${t} observation.${field}[${i}] is ${arr[i]} (observations must be finite)`);
    }
    if (typeof sa.reward !== 'number' || !Number.isFinite(sa.reward)) fail(id, `step ${t} reward ${sa.reward} is not a finite number`);
    if (typeof sa.terminated !== 'boolean' || typeof sa.truncated !== 'boolean') fail(id, 'terminated and truncated must be booleans');
    checkJson(id, sa.info, `step ${t} info`);
    if (prev) {
      if (prev.observation.user === sa.observation.user || prev.observation.candidates === sa.observation.candidates) fail(id, 'observation arrays are aliased between steps');
      if (prev.observation.user.buffer === sa.observation.user.buffer) fail(id, 'observation arrays share a buffer between steps');
    }
    prev = sa;
    if (sa.terminated || sa.truncated) {
      ended++;
      try {
        a.step(a.actionSpace.sample(streamFromString('y')));
        fail(id, 'step() after the episode ended did not throw');
      } catch (e) {
        if (!(e instanceof ResetNeeded)) throw e instanceof CheckFailure ? e : new CheckFailure(`checkEnv(${id}): step() after the end threw ${(e as Error).name}, expected ResetNeeded`);
      }
      const na = a.reset();
      const nb = b.reset();
      if (!sameObs(na.observation, nb.observation)) fail(id, 'reset() without a seed is not deterministic across instances');
      prev = null;
    }
  }
  passed.push(`rollout of ${steps} steps identical across instances (${ended} episode ends), results in spaces and finite, no aliasing`);
  if (ended > 0) passed.push('step after the end throws ResetNeeded');

  // reset() without a seed continues: the next user is a different user, and equals an explicit jump.
  const c = makeEnv();
  c.reset({ seed });
  const next = c.reset();
  const d = makeEnv();
  d.reset({ seed });
  const jump = d.reset({ options: { userIndex: 1 } });
  if (!sameObs(next.observation, jump.observation)) fail(id, 'reset() without a seed did not continue with the next user');
  if (next.info.userIndex !== 1) fail(id, `reset() without a seed should start user 1 of the population, got ${JSON.stringify(next.info.userIndex)}`);
  passed.push('reset() without a seed continues the population stream');

  a.close();
  a.close();
  passed.push('close() twice is allowed');
  return { id, passed };
}

function checkJson(id: string, info: unknown, what: string): void {
  let s: string;
  try {
    s = JSON.stringify(info);
  } catch (e) {
    fail(id, `${what} is not JSON-serializable: ${(e as Error).message}`);
  }
  const back = JSON.parse(s);
  if (JSON.stringify(back) !== s) fail(id, `${what} does not round-trip through JSON`);
  const walk = (v: unknown, path: string): void => {
    if (typeof v === 'number' && !Number.isFinite(v)) fail(id, `${what}.${path} is ${v} (not representable in JSON)`);
    if (ArrayBuffer.isView(v)) fail(id, `${what}.${path} is a typed array (serializes as an object); use a plain array`);
    if (v && typeof v === 'object') {
      const own = typeof (v as { toJSON?: unknown }).toJSON === 'function' && !ArrayBuffer.isView(v) ? (v as { toJSON(): object }).toJSON() : v;
      for (const [k, x] of Object.entries(own)) walk(x, path ? `${path}.${k}` : k);
    }
  };
  walk(info, '');
}
