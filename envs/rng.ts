/**
 * Seeded random streams.
 *
 * Every random draw in engagement-gym comes from a `seedrandom.alea` generator seeded with a string.
 * (The default ARC4 generator of seedrandom maps seed '1' and '11' to the same stream, and xorshift7
 * gives one stream for every string seed shorter than 8 characters: ../shared/reference/deps-probe.md §4.)
 *
 * ## The user stream scheme (common random numbers)
 * A simulated user is identified by `(population seed, user index)`. Each user owns separate named streams,
 * one per purpose, seeded with the string
 *
 *     `egym|<population seed>|<user index>|<purpose>`
 *
 * where purpose is one of {@link StreamPurpose}: `init` (the user's initial state), `candidates` (candidate
 * generation), `choice` (the user's response: choice, watch time, engagement noise), `transition` (state
 * transitions), `session` (the per-step session-leave draw) and `return` (per session end: churn, return gap,
 * between-session drift). Population-level randomness (a catalogue shared by all
 * users of a population, a trend direction) uses `egym|<population seed>|world|<purpose>`.
 *
 * Because the streams do not depend on the batch a user is simulated in, on the slot it occupies, on the
 * env parameters or on the policy, two policies evaluated on the same users face identical users and
 * identical exogenous draws, and a user behaves identically whether stepped alone or in a batch of 1,024.
 * Each env draws a fixed number of values per step from each stream, whatever the action (documented in
 * the env's header), so the draws stay aligned between policies.
 */
import seedrandom from 'seedrandom';
import { InvalidArgument } from './errors.js';

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** A uniform generator whose state can be saved and restored (for checkpoints). */
export interface StatefulRng {
  (): number;
  state(): RngState;
}
export type RngState = seedrandom.State.Alea;

/** The named per-user streams. */
export type StreamPurpose = 'init' | 'candidates' | 'choice' | 'transition' | 'session' | 'return';
export const STREAM_PURPOSES: readonly StreamPurpose[] = ['init', 'candidates', 'choice', 'transition', 'session', 'return'];

/** A generator seeded from an arbitrary string. */
export function streamFromString(seed: string): Rng {
  return seedrandom.alea(seed);
}

/** A generator whose state can be saved (`rng.state()`) and restored with {@link restoreStream}. */
export function statefulStream(seed: string): StatefulRng {
  return seedrandom.alea(seed, { state: true }) as unknown as StatefulRng;
}

/** Continue a stream from a saved state: the result draws exactly what the saved stream would have drawn next. */
export function restoreStream(state: RngState): StatefulRng {
  return seedrandom.alea('', { state: { ...state } }) as unknown as StatefulRng;
}

/** The seed string of one of a user's streams. */
export function userStreamSeed(populationSeed: number, userIndex: number, purpose: string): string {
  return `egym|${populationSeed}|${userIndex}|${purpose}`;
}

/** One of a user's streams. */
export function userStream(populationSeed: number, userIndex: number, purpose: StreamPurpose): Rng {
  return seedrandom.alea(userStreamSeed(populationSeed, userIndex, purpose));
}

/** A population-level stream (shared by every user of the population). */
export function worldStream(populationSeed: number, purpose: string): Rng {
  return seedrandom.alea(`egym|${populationSeed}|world|${purpose}`);
}

/** Validate a seed: a finite non-negative integer (safe integer range). */
export function checkSeed(seed: unknown, where: string): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) {
    const got = typeof seed === 'number' || typeof seed === 'bigint' ? String(seed) + (typeof seed === 'bigint' ? 'n (a BigInt)' : '') : typeof seed === 'string' ? JSON.stringify(seed) : seed === null ? 'null' : typeof seed;
    throw new InvalidArgument(`${where}: seed must be a non-negative integer, got ${got}`);
  }
  return seed;
}

/** Uniform integer in {0, ..., n-1}; exactly one draw. */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Standard normal by Box-Muller; always exactly two draws (so the per-step draw count stays fixed). */
export function normal(rng: Rng): number {
  const u1 = 1 - rng(); // (0, 1]
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** Exponential with the given mean; exactly one draw. */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng());
}

/**
 * k distinct indices in [0, n) by Robert Floyd's algorithm: exactly k draws whatever the values drawn.
 * Writes into `out` at `offset`. The order of the written indices is the insertion order.
 */
export function sampleDistinct(rng: Rng, n: number, k: number, out: Int32Array, offset = 0): void {
  let m = 0;
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(rng() * (j + 1));
    let seen = false;
    for (let q = 0; q < m; q++) {
      if (out[offset + q] === t) {
        seen = true;
        break;
      }
    }
    out[offset + m] = seen ? j : t;
    m++;
  }
}

/** Fisher-Yates shuffle of the first `len` entries of `arr` starting at `offset`; exactly len-1 draws. */
export function shuffleInPlace(rng: Rng, arr: Int32Array | number[], offset = 0, len = arr.length - offset): void {
  for (let i = len - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const a = arr[offset + i]!;
    arr[offset + i] = arr[offset + j]!;
    arr[offset + j] = a;
  }
}
