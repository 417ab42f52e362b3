/**
 * Reference slate policies over the vector env: the fixed policies that pose each env's problem
 * (random, myopic click-maximizing, balanced) and serve as baselines before any learning. They act on a
 * whole batch at once and write an Int32Array of B x K.
 *
 * `myopic-click` and `balanced` read the env's hidden choice model (`choiceScore`), so they are oracles:
 * they know the user's true click propensities. `random` draws from a per-user stream seeded by
 * (policy seed, user index), so a user gets the same random slates whether stepped alone or in a batch.
 */
import type { VecObservation, VectorEnv } from '../envs/core.js';
import { type Rng, sampleDistinct, streamFromString } from '../envs/rng.js';

export interface VecPolicy {
  readonly name: string;
  /** Whether the policy reads hidden state. */
  readonly oracle: boolean;
  /**
   * Write slates for the slots whose `active` flag is 1 into out (B x K). `userIndex` is the user in each slot.
   */
  act(obs: VecObservation, env: VectorEnv, active: Uint8Array, userIndex: Float64Array, out: Int32Array): void;
}

/** Uniform slates without repetition, from a per-user stream. */
export function randomPolicy(seed: number): VecPolicy {
  let rngs: Rng[] = [];
  let owners: Float64Array = new Float64Array(0);
  return {
    name: 'random',
    oracle: false,
    act(_obs, env, active, userIndex, out) {
      const B = env.numEnvs;
      const { N, K } = env.layout;
      if (rngs.length !== B) {
        rngs = new Array<Rng>(B);
        owners = new Float64Array(B).fill(-1);
      }
      for (let s = 0; s < B; s++) {
        if (!active[s]) continue;
        if (owners[s] !== userIndex[s]) {
          owners[s] = userIndex[s]!;
          rngs[s] = streamFromString(`egym|policy|random|${seed}|${userIndex[s]}`);
        }
        sampleDistinct(rngs[s]!, N, K, out, s * K);
      }
    },
  };
}

/** Indices of the top-K entries of scores[base .. base + N) written to out[o .. o + K), best first. */
export function topK(scores: ArrayLike<number>, base: number, N: number, K: number, out: Int32Array, o: number): void {
  for (let j = 0; j < K; j++) out[o + j] = -1;
  for (let i = 0; i < N; i++) {
    const v = scores[base + i]!;
    // insertion into the sorted top-K list
    let pos = K;
    while (pos > 0) {
      const prev = out[o + pos - 1]!;
      if (prev >= 0 && scores[base + prev]! >= v) break;
      pos--;
    }
    if (pos >= K) continue;
    for (let j = K - 1; j > pos; j--) out[o + j] = out[o + j - 1]!;
    out[o + pos] = i;
  }
}

function choiceScores(env: VectorEnv): Float64Array | Float32Array | Int32Array {
  const h = env.hidden(['choiceScore']).choiceScore;
  if (!h) throw new Error(`${env.id}: the myopic and balanced reference policies need the hidden block "choiceScore" (a choice-model env)`);
  return h.data;
}

/** Myopic click maximizer: the K candidates with the highest true click propensity now. */
export function myopicClickPolicy(): VecPolicy {
  return {
    name: 'myopic-click',
    oracle: true,
    act(_obs, env, active, _userIndex, out) {
      const sc = choiceScores(env);
      const { N, K } = env.layout;
      for (let s = 0; s < env.numEnvs; s++) if (active[s]) topK(sc, s * N, N, K, out, s * K);
    },
  };
}

export interface BalancedOptions {
  /** Weight of the observable quality estimate (per unit of quality, in utility units). */
  qualityWeight?: number;
  /** Penalty per appearance of the candidate's topic in the observed history. */
  repeatPenalty?: number;
}

/**
 * A balanced policy for retention-v0-style observations (candidates [one-hot topic (T), appeal, quality
 * estimate, length], user history of [topic, clicked, fraction] triples from offset 4): it scores each
 * candidate by its log click propensity plus `qualityWeight` x quality estimate minus `repeatPenalty` per
 * recent interaction with the same topic, and fills the slate greedily with at most one item per topic.
 */
export function balancedPolicy(opts: BalancedOptions = {}): VecPolicy {
  const wq = opts.qualityWeight ?? 6;
  const wr = opts.repeatPenalty ?? 0.5;
  let score = new Float64Array(0);
  let used = new Uint8Array(0);
  return {
    name: 'balanced',
    oracle: true,
    act(obs, env, active, _userIndex, out) {
      const sc = choiceScores(env);
      const { N, K, F, U } = env.layout;
      const T = F - 3;
      const L = (U - 4) / 3;
      if (score.length !== N) score = new Float64Array(N);
      if (used.length !== T) used = new Uint8Array(T);
      for (let s = 0; s < env.numEnvs; s++) {
        if (!active[s]) continue;
        const cb = s * N * F;
        for (let i = 0; i < N; i++) {
          const o = cb + i * F;
          let topic = 0;
          while (topic < T && obs.candidates[o + topic] !== 1) topic++;
          let repeats = 0;
          for (let j = 0; j < L; j++) if (obs.user[s * U + 4 + 3 * j] === topic) repeats++;
          score[i] = Math.log(sc[s * N + i]!) + wq * obs.candidates[o + T + 1]! - wr * repeats;
        }
        used.fill(0);
        for (let j = 0; j < K; j++) {
          let best = -1;
          let bestTopicFree = false;
          for (let i = 0; i < N; i++) {
            let taken = false;
            for (let q = 0; q < j; q++) if (out[s * K + q] === i) taken = true;
            if (taken) continue;
            let topic = 0;
            while (topic < T && obs.candidates[cb + i * F + topic] !== 1) topic++;
            const free = used[topic] === 0;
            if (best < 0 || (free && !bestTopicFree) || (free === bestTopicFree && score[i]! > score[best]!)) {
              best = i;
              bestTopicFree = free;
            }
          }
          out[s * K + j] = best;
          let topic = 0;
          while (topic < T && obs.candidates[cb + best * F + topic] !== 1) topic++;
          used[topic] = 1;
        }
      }
    },
  };
}
