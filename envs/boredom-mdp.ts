/**
 * boredom-mdp-v0: a small finite MDP with a known optimum, for scoring tabular learners as regret.
 * Source: engagement-gym's own; the satiation mechanism follows "rebounding bandits" (Leqi et al.,
 * NeurIPS 2021) in discrete form, and the quality/satisfaction trade-off is the choc/kale idea of RecSim.
 *
 * ## Generative model (defaults in brackets)
 * T [3] topics, boredom levels b_t in {0, ..., Lb - 1} (Lb [3]), satisfaction level g in {0, ..., Ls - 1} (Ls [3]).
 * Topic t has appeal a_t = 1 - 0.5 t / (T - 1) and quality q_t = -1 + 2 t / (T - 1): topic 0 is the most
 * appealing and the worst for satisfaction (clickbait), topic T-1 the least appealing and the best.
 * - Start: all b_t = 0, g = floor((Ls - 1) / 2) (one deterministic initial state).
 * - Action: the topic to recommend (a slate of one out of the T topics: Slate(T, 1)).
 * - Reward: click ~ Bernoulli(a_x (1 - b_x / Lb)); r = click (0.5 + g / (Ls - 1)): satisfied users engage more.
 * - Transition, components independent: b_x <- min(Lb - 1, b_x + 1) with probability boredomUp [0.9];
 *   every other topic b_t <- max(0, b_t - 1) with probability boredomDecay [0.5];
 *   g <- min(Ls - 1, g + 1) with probability satisfactionRate [0.8] max(0, q_x),
 *   g <- max(0, g - 1) with probability satisfactionRate max(0, -q_x).
 * - After the transition the user leaves (terminated) with probability
 *   leaveMax [0.3] - (leaveMax - leaveMin [0.02]) g' / (Ls - 1).
 * Episodes end with probability >= leaveMin per step, so expected total reward is finite without discounting.
 *
 * `model()` gives the exact model: P[s, a, s'] (sub-stochastic: the missing mass is the leave probability),
 * R[s, a] (expected reward) and the initial state, so value iteration gives the optimal value.
 * State index: g + Ls (b_0 + Lb (b_1 + Lb (b_2 + ...))).
 *
 * ## Observation (U = T + 1, N = T, F = T + 2)
 * - user = [b_0, ..., b_{T-1}, g] (the full state: the MDP is fully observable).
 * - candidates[t] = [one-hot(t), a_t, q_t] (fixed).
 * ## Random streams per user
 * choice: 1 per step (the click). transition: T + 2 per step (T boredom coins, satisfaction, leave).
 */
import type { BatchSim, HiddenBlock, Layout, SlotStatus } from './core.js';
import { RUNNING, TERMINATED } from './core.js';
import { defineParams, param, type ParamsOf } from './params.js';
import { atMost, defineEnv } from './definition.js';
import { observationSpaceOf } from './core.js';
import { InvalidParam } from './errors.js';
import { type Rng, userStream } from './rng.js';

export const boredomMdpParams = defineParams({
  numTopics: param.int({ default: 3, min: 2, max: 5, description: 'topics T (the actions)' }),
  boredomLevels: param.int({ default: 3, min: 2, max: 5, description: 'boredom levels Lb per topic' }),
  satisfactionLevels: param.int({ default: 3, min: 2, max: 7, description: 'satisfaction levels Ls' }),
  boredomUp: param.number({ default: 0.9, min: 0, max: 1, description: 'probability the recommended topic gets one level more boring' }),
  boredomDecay: param.number({ default: 0.5, min: 0, max: 1, description: 'probability each other topic loses one boredom level' }),
  satisfactionRate: param.number({ default: 0.8, min: 0, max: 1, description: 'scale of the satisfaction move probability |q_x|' }),
  leaveMax: param.number({ default: 0.3, min: 0, max: 1, description: 'leave probability at the lowest satisfaction' }),
  leaveMin: param.number({ default: 0.02, min: 0, max: 1, minExclusive: true, description: 'leave probability at the highest satisfaction (> 0 keeps episodes finite)' }),
});
export type BoredomMdpParams = ParamsOf<typeof boredomMdpParams>;

/** The exact model of a finite MDP. */
export interface FiniteModel {
  numStates: number;
  numActions: number;
  /** P[(s * A + a) * S + s'] = probability of moving to s' (and staying); rows sum to 1 - leave probability. */
  P: Float64Array;
  /** R[s * A + a] = expected immediate reward. */
  R: Float64Array;
  /** Distribution of the initial state. */
  initial: Float64Array;
  /** The state index of an observation's user block starting at `offset`. */
  stateOf(user: ArrayLike<number>, offset: number): number;
}

interface Config {
  T: number;
  Lb: number;
  Ls: number;
  up: number;
  decay: number;
  satRate: number;
  leaveMax: number;
  leaveMin: number;
  appeal: Float64Array;
  quality: Float64Array;
}

function config(p: BoredomMdpParams): Config {
  const T = p.numTopics;
  const appeal = new Float64Array(T);
  const quality = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    appeal[t] = 1 - (0.5 * t) / (T - 1);
    quality[t] = -1 + (2 * t) / (T - 1);
  }
  return {
    T,
    Lb: p.boredomLevels,
    Ls: p.satisfactionLevels,
    up: p.boredomUp,
    decay: p.boredomDecay,
    satRate: p.satisfactionRate,
    leaveMax: p.leaveMax,
    leaveMin: p.leaveMin,
    appeal,
    quality,
  };
}

function leaveProb(c: Config, g: number): number {
  return c.leaveMax - ((c.leaveMax - c.leaveMin) * g) / (c.Ls - 1);
}
function clickProb(c: Config, a: number, b: number): number {
  return c.appeal[a]! * (1 - b / c.Lb);
}
function engagementValue(c: Config, g: number): number {
  return 0.5 + g / (c.Ls - 1);
}

/** State index of (boredom levels, satisfaction). */
export function boredomStateIndex(boredom: ArrayLike<number>, g: number, Lb: number, Ls: number): number {
  let idx = 0;
  for (let t = boredom.length - 1; t >= 0; t--) idx = idx * Lb + boredom[t]!;
  return g + Ls * idx;
}

/** The state index of a boredom-mdp-v0 observation's user block [b_0, ..., b_{T-1}, g]. */
export function boredomStateOfObservation(user: ArrayLike<number>, params: BoredomMdpParams, offset = 0): number {
  const T = params.numTopics;
  let idx = 0;
  for (let t = T - 1; t >= 0; t--) idx = idx * params.boredomLevels + user[offset + t]!;
  return user[offset + T]! + params.satisfactionLevels * idx;
}

/** The most bytes the dense model (P: S x A x S float64s) may take; larger settings are refused before allocating. */
export const MAX_MODEL_BYTES = 512 * 2 ** 20;

/** The exact transition and reward model (see the file header). */
export function boredomMdpModel(p: BoredomMdpParams): FiniteModel {
  const c = config(p);
  const { T, Lb, Ls } = c;
  const nb = Lb ** T;
  const S = nb * Ls;
  const A = T;
  const bytes = S * A * S * 8;
  if (bytes > MAX_MODEL_BYTES) {
    throw new InvalidParam(
      `boredom-mdp-v0: numTopics = ${T}, boredomLevels = ${Lb}, satisfactionLevels = ${Ls} give ${S} states; the dense model needs ${(bytes / 2 ** 20).toFixed(0)} MiB (S x A x S float64s), above the limit of ${MAX_MODEL_BYTES / 2 ** 20} MiB: lower numTopics or boredomLevels (states = boredomLevels^numTopics x satisfactionLevels)`,
    );
  }
  const P = new Float64Array(S * A * S);
  const R = new Float64Array(S * A);
  const b = new Int32Array(T);
  const nbv = new Int32Array(T);
  for (let bi = 0; bi < nb; bi++) {
    let x = bi;
    for (let t = 0; t < T; t++) {
      b[t] = x % Lb;
      x = Math.floor(x / Lb);
    }
    for (let g = 0; g < Ls; g++) {
      const s = g + Ls * bi;
      for (let a = 0; a < A; a++) {
        R[s * A + a] = clickProb(c, a, b[a]!) * engagementValue(c, g);
        // Satisfaction outcomes.
        const q = c.quality[a]!;
        const pUp = c.satRate * Math.max(0, q);
        const pDown = c.satRate * Math.max(0, -q);
        const gOut: [number, number][] = [
          [Math.min(Ls - 1, g + 1), pUp],
          [Math.max(0, g - 1), pDown],
          [g, 1 - pUp - pDown],
        ];
        // Enumerate boredom outcomes: each topic moves (with its probability) or stays.
        for (let mask = 0; mask < 1 << T; mask++) {
          let pb = 1;
          for (let t = 0; t < T; t++) {
            const moves = (mask >> t) & 1;
            const pm = t === a ? c.up : c.decay;
            pb *= moves ? pm : 1 - pm;
            nbv[t] = moves ? (t === a ? Math.min(Lb - 1, b[t]! + 1) : Math.max(0, b[t]! - 1)) : b[t]!;
          }
          if (pb === 0) continue;
          for (const [g2, pg] of gOut) {
            if (pg === 0) continue;
            const s2 = boredomStateIndex(nbv, g2, Lb, Ls);
            P[(s * A + a) * S + s2] += pb * pg * (1 - leaveProb(c, g2));
          }
        }
      }
    }
  }
  const initial = new Float64Array(S);
  initial[boredomStateIndex(new Int32Array(T), Math.floor((Ls - 1) / 2), Lb, Ls)] = 1;
  return { numStates: S, numActions: A, P, R, initial, stateOf: (user, offset) => boredomStateOfObservation(user, p, offset) };
}

export class BoredomMdpSim implements BatchSim {
  readonly layout: Layout;
  readonly user: Float32Array;
  readonly candidates: Float32Array;
  readonly itemIds = null;
  readonly rewards: Float64Array;
  readonly clicked: Int32Array;
  readonly episodeStatNames: readonly string[] = [];
  private readonly c: Config;
  private readonly boredom: Int32Array;
  private readonly sat: Int32Array;
  private readonly lastClick: Uint8Array;
  private readonly rChoice: Rng[];
  private readonly rTrans: Rng[];
  private populationSeed = 0;

  constructor(
    readonly B: number,
    p: BoredomMdpParams,
  ) {
    this.c = config(p);
    const T = this.c.T;
    this.layout = {
      U: T + 1,
      N: T,
      F: T + 2,
      K: 1,
      itemCount: null,
      userFeatures: [
        { name: 'boredom', offset: 0, size: T, kind: 'int' },
        { name: 'satisfaction', offset: T, size: 1, kind: 'int' },
      ],
      candidateFeatures: [
        { name: 'topic', offset: 0, size: T, kind: 'onehot' },
        { name: 'appeal', offset: T, size: 1, kind: 'real' },
        { name: 'quality', offset: T + 1, size: 1, kind: 'real' },
      ],
      rewardRange: [0, 1.5],
      choice: 'single',
    };
    this.clicked = new Int32Array(B).fill(-1);
    this.user = new Float32Array(B * (T + 1));
    this.candidates = new Float32Array(B * T * (T + 2));
    for (let s = 0; s < B; s++) {
      for (let t = 0; t < T; t++) {
        const o = (s * T + t) * (T + 2);
        this.candidates[o + t] = 1;
        this.candidates[o + T] = this.c.appeal[t]!;
        this.candidates[o + T + 1] = this.c.quality[t]!;
      }
    }
    this.rewards = new Float64Array(B);
    this.boredom = new Int32Array(B * T);
    this.sat = new Int32Array(B);
    this.lastClick = new Uint8Array(B);
    this.rChoice = new Array<Rng>(B);
    this.rTrans = new Array<Rng>(B);
  }

  setPopulation(seed: number): void {
    this.populationSeed = seed;
  }

  resetSlot(s: number, userIndex: number): void {
    const T = this.c.T;
    this.boredom.fill(0, s * T, (s + 1) * T);
    this.sat[s] = Math.floor((this.c.Ls - 1) / 2);
    this.rChoice[s] = userStream(this.populationSeed, userIndex, 'choice');
    this.rTrans[s] = userStream(this.populationSeed, userIndex, 'transition');
    this.rewards[s] = 0;
    this.lastClick[s] = 0;
    this.writeObs(s);
  }

  private writeObs(s: number): void {
    const T = this.c.T;
    for (let t = 0; t < T; t++) this.user[s * (T + 1) + t] = this.boredom[s * T + t]!;
    this.user[s * (T + 1) + T] = this.sat[s]!;
  }

  stepSlot(s: number, actions: Int32Array, o: number): SlotStatus {
    const c = this.c;
    const T = c.T;
    const a = actions[o]!;
    const g = this.sat[s]!;
    const click = this.rChoice[s]!() < clickProb(c, a, this.boredom[s * T + a]!);
    this.rewards[s] = click ? engagementValue(c, g) : 0;
    this.lastClick[s] = click ? 1 : 0;
    this.clicked[s] = click ? 0 : -1;
    const tr = this.rTrans[s]!;
    for (let t = 0; t < T; t++) {
      const u = tr();
      const k = s * T + t;
      if (t === a) {
        if (u < c.up) this.boredom[k] = Math.min(c.Lb - 1, this.boredom[k]! + 1);
      } else if (u < c.decay) this.boredom[k] = Math.max(0, this.boredom[k]! - 1);
    }
    const q = c.quality[a]!;
    const pUp = c.satRate * Math.max(0, q);
    const pDown = c.satRate * Math.max(0, -q);
    const us = tr();
    let g2 = g;
    if (us < pUp) g2 = Math.min(c.Ls - 1, g + 1);
    else if (us < pUp + pDown) g2 = Math.max(0, g - 1);
    this.sat[s] = g2;
    const leave = tr() < leaveProb(c, g2);
    this.writeObs(s);
    return leave ? TERMINATED : RUNNING;
  }

  info(s: number): Record<string, unknown> {
    const T = this.c.T;
    const b = Array.from(this.boredom.subarray(s * T, (s + 1) * T));
    return {
      clicked: this.lastClick[s] === 1,
      state: boredomStateIndex(b, this.sat[s]!, this.c.Lb, this.c.Ls),
      hidden: { expectedReward: b.map((bt, t) => clickProb(this.c, t, bt) * engagementValue(this.c, this.sat[s]!)) },
    };
  }

  hidden(): Record<string, HiddenBlock> {
    const { B } = this;
    const T = this.c.T;
    const er = new Float64Array(B * T);
    for (let s = 0; s < B; s++) {
      for (let t = 0; t < T; t++) er[s * T + t] = clickProb(this.c, t, this.boredom[s * T + t]!) * engagementValue(this.c, this.sat[s]!);
    }
    return { expectedReward: { data: er, shape: [T], description: 'expected immediate reward of each topic' } };
  }

  episodeStats(): void {}
}

export const boredomMdpEnv = defineEnv({
  id: 'boredom-mdp-v0',
  description: 'A small finite MDP (topics x boredom levels x satisfaction) with an exact model() for value iteration',
  source: "engagement-gym's own; satiation after rebounding bandits (Leqi et al., NeurIPS 2021)",
  params: boredomMdpParams,
  multiSession: false,
  card: {
    models: 'per-topic boredom levels and a satisfaction level; appealing topics lower satisfaction, which raises the leave probability',
    observation: 'user: boredom levels (T) + satisfaction level; candidates: T x (T + 2) fixed topic features',
    action: 'Slate(T, 1): the topic to recommend',
    reward: 'click x (0.5 + satisfaction level / (Ls - 1))',
    episodeEnd: 'terminated when the user leaves (probability 0.3 down to 0.02 by satisfaction)',
  },
  check: atMost('boredom-mdp-v0', ['leaveMin', 'leaveMax']),
  createSim: (B, p) => new BoredomMdpSim(B, p),
  observationSpace: (p, l) => {
    const T = p.numTopics;
    const uHigh = [...new Array(T).fill(p.boredomLevels - 1), p.satisfactionLevels - 1];
    const cLow: number[] = [];
    const cHigh: number[] = [];
    for (let i = 0; i < T; i++) {
      for (let t = 0; t < T; t++) cLow.push(0), cHigh.push(1);
      cLow.push(0, -1);
      cHigh.push(1, 1);
    }
    return observationSpaceOf(l, 0, uHigh, cLow, cHigh);
  },
  model: (p) => boredomMdpModel(p),
});
