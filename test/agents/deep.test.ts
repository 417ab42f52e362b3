import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '../../policies/backend.js';
import { computeGae } from '../../agents/gae.js';
import { Adam } from '../../policies/nn.js';
import { streamFromString } from '../../envs/rng.js';
import { makeAgent, resolveAgentParams } from '../../agents/index.js';
import { InvalidParam } from '../../envs/errors.js';
import type { PpoAgent } from '../../agents/ppo.js';
import type { SlateQAgent } from '../../agents/slateq.js';
import type { Transitions } from '../../agents/api.js';
import { observationOf, trainAgent } from '../../agents/loop.js';
import { makeVec } from '../../envs/registry.js';
import { evaluateAgent } from '../../experiments/evaluate.js';
import { optimalMnlSlate, greedyMnlSlate, mnlSlateValue } from '../../policies/slates.js';

await initBackend('wasm');

describe('GAE', () => {
  it('matches hand-computed values with a truncation cut and a termination in the same rollout', () => {
    // One env, 4 steps, gamma 0.9, lambda 0.8: step 1 is truncated (final value 5), step 3 terminates.
    const g = 0.9;
    const l = 0.8;
    const r = [1, 2, 3, 4];
    const v = [0.5, 1, 1.5, 2];
    const done = [0, 1, 0, 1];
    const trunc = [0, 5, 0, 0];
    const { advantages, returns } = computeGae(4, 1, r, v, done, trunc, [7], g, l);
    // Hand computation, backwards:
    const d3 = 4 - 2; // terminated: no bootstrap
    const a3 = d3;
    const d2 = 3 + g * 2 - 1.5; // next value V(s3) = 2
    const a2 = d2 + g * l * a3;
    const d1 = 2 + g * 5 - 1; // truncated: bootstrap from the final observation's value, not V(s2)
    const a1 = d1; // the advantage does not flow across the boundary
    const d0 = 1 + g * 1 - 0.5;
    const a0 = d0 + g * l * a1;
    expect(Array.from(advantages)).toEqual([a0, a1, a2, a3].map(Math.fround));
    expect(Array.from(returns)).toEqual([a0 + 0.5, a1 + 1, a2 + 1.5, a3 + 2].map(Math.fround));
    // Without an episode end, the last step bootstraps from lastValues.
    const open = computeGae(1, 1, [1], [0], [0], [0], [7], g, l);
    expect(open.advantages[0]).toBeCloseTo(1 + g * 7, 5);
  });

  it('takes one discount per step (semi-Markov): each step discounts by its own gamma, and equal gammas give the scalar result', () => {
    // One env, 3 steps, the discount from s_t to s_{t+1} is gs[t]; step 1 is truncated (final value 5).
    const l = 0.8;
    const gs = [1, 0.5, 0.25];
    const r = [1, 2, 3];
    const v = [0.5, 1, 1.5];
    const { advantages } = computeGae(3, 1, r, v, [0, 1, 0], [0, 5, 0], [7], gs, l);
    const a2 = 3 + 0.25 * 7 - 1.5;
    const a1 = 2 + 0.5 * 5 - 1;
    const a0 = 1 + 1 * 1 - 0.5 + 1 * l * a1;
    expect(Array.from(advantages)).toEqual([a0, a1, a2].map(Math.fround));
    // Two envs (rows t*B + b) with the same discount everywhere: bit-identical to the scalar gamma.
    const rr = [1, 2, 3, 4, 5, 6];
    const vv = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    const dn = [0, 0, 1, 0, 0, 0];
    const tv = [0, 0, 0, 0, 0, 0];
    const perStep = computeGae(3, 2, rr, vv, dn, tv, [1, 2], new Float32Array(6).fill(0.9), l);
    const scalar = computeGae(3, 2, rr, vv, dn, tv, [1, 2], Math.fround(0.9), l);
    expect(Array.from(perStep.advantages)).toEqual(Array.from(scalar.advantages));
    expect(Array.from(perStep.returns)).toEqual(Array.from(scalar.returns));
  });
});

describe('discount per day (dayDiscount)', () => {
  it('discounts gamma within a session and gamma x dayDiscount^(days elapsed) across a gap, from the raw day feature', async () => {
    const gamma = 0.99;
    const d = 0.8;
    const agent = (await makeAgent('ppo', { numSteps: 400, hidden: 8, gamma, dayDiscount: d, backend: 'cpu' }, { envId: 'retention-v0', seed: 0 })) as PpoAgent;
    const env = makeVec('retention-v0', { worldSeed: 0 }, { numEnvs: 4 });
    const days: number[][] = [];
    const ends: number[][] = [];
    trainAgent(agent, env, {
      steps: 399,
      seed: 3,
      onAct: (o) => days.push(Array.from({ length: 4 }, (_, s) => o.user[s * env.layout.U]!)),
      onStep: (r) => ends.push(Array.from(r.finalMask)),
    });
    const disc = (agent as unknown as { buf: { discounts: Float32Array } }).buf.discounts;
    let within = 0;
    let across = 0;
    for (let t = 0; t + 1 < days.length; t++) {
      for (let s = 0; s < 4; s++) {
        if (ends[t]![s]) continue; // a new user follows: its discount comes from the finished user's final observation
        const gap = days[t + 1]![s]! - days[t]![s]!;
        expect(disc[t * 4 + s]).toBe(Math.fround(gamma * d ** gap));
        if (gap === 0) within++;
        else across++;
      }
    }
    expect(within).toBeGreaterThan(100);
    expect(across).toBeGreaterThan(5);
    agent.dispose();
  });

  it('SlateQ stores each transition with its own discount, gamma x dayDiscount^(days elapsed)', async () => {
    const gamma = 0.95;
    const d = 0.7;
    const agent = await makeAgent('slateq', { hidden: 8, learningStarts: 1e6, replaySize: 2000, gamma, dayDiscount: d, noClickValue: 'learned', backend: 'cpu' }, { envId: 'retention-v0', seed: 0 });
    const env = makeVec('retention-v0', { worldSeed: 0 }, { numEnvs: 4 });
    const want: number[] = [];
    trainAgent(agent, env, {
      steps: 300,
      seed: 3,
      onStep: (tr) => {
        for (let s = 0; s < 4; s++) {
          const next = tr.finalMask[s] ? tr.finalObservation.user : tr.next.user;
          want.push(Math.fround(gamma * d ** (next[s * env.layout.U]! - tr.obs.user[s * env.layout.U]!)));
        }
      },
    });
    // Every transition is stored (noClickValue learned), in step order, slot by slot.
    const disc = (agent as unknown as { rb: { discount: Float32Array } }).rb.discount;
    expect(Array.from(disc.subarray(0, want.length))).toEqual(want);
    expect(want.filter((g) => g < Math.fround(gamma)).length).toBeGreaterThan(5);
    expect(want.filter((g) => g === Math.fround(gamma)).length).toBeGreaterThan(100);
    (agent as SlateQAgent).dispose();
  });

  it('is refused with a typed error on an env without a calendar day', async () => {
    for (const id of ['ppo', 'slateq']) {
      await expect(makeAgent(id, { dayDiscount: 0.9 }, { envId: 'interest-evolution-v0', seed: 0 })).rejects.toThrow(
        new RegExp(`^agent ${id} cannot run on interest-evolution-v0: dayDiscount 0.9 needs a multi-session env with a one-column user feature named "day"`),
      );
    }
  });
});

describe('per-item feedback statistics (itemFeedback)', () => {
  const SHORT = { worldSeed: 0, horizonDays: 3, maxSessionSteps: 10 };
  for (const [id, params] of [
    ['ppo', { numSteps: 16, numMinibatches: 2, updateEpochs: 1, hidden: 8, itemFeedback: true, backend: 'cpu' }],
    ['slateq', { hidden: 8, learningStarts: 50, batchSize: 16, replaySize: 500, itemFeedback: true, backend: 'cpu' }],
  ] as const) {
    it(`${id}: counts every training step's slates, clicks and rewards, and is frozen in evaluation`, async () => {
      const agent = await makeAgent(id, params, { envId: 'retention-v1', envParams: SHORT, seed: 1 });
      const env = makeVec('retention-v1', SHORT, { numEnvs: 3 });
      const M = env.layout.itemCount!;
      const { N, K } = env.layout;
      const shows = new Array<number>(M).fill(0);
      const clicks = new Array<number>(M).fill(0);
      const reward = new Array<number>(M).fill(0);
      const rate = new Array<number>(M).fill(0);
      const len = env.layout.candidateFeatures.find((c) => c.name === 'length')!.offset;
      const F = env.layout.F;
      trainAgent(agent, env, {
        steps: 120,
        seed: 4,
        onStep: (tr) => {
          for (let s = 0; s < 3; s++) {
            if (!tr.stepped[s]) continue;
            for (let k = 0; k < K; k++) {
              const it = tr.obs.itemIds![s * N + tr.actions[s * K + k]!]!;
              shows[it]! += 1;
              if (tr.clicked[s] === k) {
                clicks[it]! += 1;
                reward[it]! += tr.rewards[s]!;
                rate[it]! += tr.rewards[s]! / tr.obs.candidates[(s * N + tr.actions[s * K + k]!) * F + len]!;
              }
            }
          }
        },
      });
      const items = () => (agent.save().state as { items: { shows: number[]; clicks: number[]; reward: number[]; rate: number[] } }).items;
      const st = items();
      expect(st.shows).toEqual(shows);
      expect(st.clicks).toEqual(clicks);
      for (let i = 0; i < M; i++) {
        expect(st.reward[i]).toBeCloseTo(reward[i]!, 9);
        expect(st.rate[i]).toBeCloseTo(rate[i]!, 9);
      }
      expect(shows.reduce((a, b) => a + b, 0)).toBe(120 * 3 * K);
      expect(clicks.reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
      // Held-out users change nothing, and their result does not depend on the batch.
      const e1 = evaluateAgent('retention-v1', SHORT, agent, { users: 8, seed: 9, batch: 8 });
      expect(items()).toEqual(st);
      const e2 = evaluateAgent('retention-v1', SHORT, agent, { users: 8, seed: 9, batch: 3 });
      expect(Array.from(e2.return)).toEqual(Array.from(e1.return));
      (agent as PpoAgent | SlateQAgent).dispose();
    });
  }

  /**
   * Train `agent` for 40 steps of 3 users while a shadow ItemFeedback recounts every step: the candidate rows
   * each slate should be chosen on (counted before the step), and which slots stepped and ended.
   */
  const recountTraining = async (agent: PpoAgent | SlateQAgent) => {
    const { ItemFeedback } = await import('../../policies/item-feedback.js');
    const env = makeVec('retention-v1', SHORT, { numEnvs: 3 });
    const { N, K } = env.layout;
    const shadow = ItemFeedback.forLayout({ ...env.layout, itemCount: env.layout.itemCount! });
    const W = env.layout.F + shadow.extra;
    const want: Float32Array[] = [];
    const stepped: Uint8Array[] = [];
    const ended: Uint8Array[] = [];
    const firstSteps: Uint8Array[] = [];
    const clickedAt: Int32Array[] = [];
    trainAgent(agent, env, {
      steps: 40,
      seed: 6,
      onAct: (o) => {
        want.push(shadow.augment(o.candidates, o.itemIds, 3, N, new Float32Array(3 * N * W)));
        firstSteps.push(Uint8Array.from(o.firstStep));
      },
      onStep: (tr) => {
        shadow.record(tr.obs, N, tr.actions, K, tr.clicked, tr.rewards, tr.stepped, 3);
        stepped.push(Uint8Array.from(tr.stepped));
        ended.push(Uint8Array.from(tr.finalMask));
        clickedAt.push(Int32Array.from(tr.clicked));
      },
    });
    return { N, K, U: env.layout.U, W, want, stepped, ended, firstSteps, clickedAt };
  };

  it('PPO chooses each slate on the statistics of the steps before it: a step\'s own outcome is counted after', async () => {
    const agent = (await makeAgent('ppo', { numSteps: 50, hidden: 8, itemFeedback: true, normalizeObs: false, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 2 })) as PpoAgent;
    const { N, W, want } = await recountTraining(agent);
    const cand = (agent as unknown as { buf: { cand: Float32Array } }).buf.cand;
    expect(want).toHaveLength(40);
    for (let t = 0; t < 40; t++) expect(Array.from(cand.subarray(t * 3 * N * W, (t + 1) * 3 * N * W))).toEqual(Array.from(want[t]!));
    // The statistics moved during the rollout, so the check above can tell before from after.
    expect(Array.from(want[39]!)).not.toEqual(Array.from(want[1]!));
    agent.dispose();
  });

  it('SlateQ replays each transition on the statistics its slate was chosen on, and its next state on those after the step', async () => {
    const agent = (await makeAgent('slateq', { hidden: 8, itemFeedback: true, learningStarts: 1e6, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 2 })) as SlateQAgent;
    const { N, W, want, stepped, ended } = await recountTraining(agent);
    const rb = (agent as unknown as { rb: { cand: Float32Array; nextCand: Float32Array } }).rb;
    const row = (a: Float32Array, i: number) => Array.from(a.subarray(i * N * W, (i + 1) * N * W));
    let i = 0;
    let checkedNext = 0;
    for (let t = 0; t < 40; t++) {
      for (let s = 0; s < 3; s++) {
        if (!stepped[t]![s]) continue;
        expect(row(rb.cand, i)).toEqual(row(want[t]!, s));
        if (t + 1 < 40 && !ended[t]![s]) {
          expect(row(rb.nextCand, i)).toEqual(row(want[t + 1]!, s));
          checkedNext++;
        }
        i++;
      }
    }
    expect(i).toBeGreaterThan(100);
    expect(checkedNext).toBeGreaterThan(100);
    expect(Array.from(want[39]!)).not.toEqual(Array.from(want[1]!));
    agent.dispose();
  });

  it('the statistics change what PPO scores: the same weights score a candidate by what its item earned', async () => {
    const a = (await makeAgent('ppo', { hidden: 8, itemFeedback: true, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 1 })) as PpoAgent;
    const env = makeVec('retention-v1', SHORT, { numEnvs: 2 });
    const obs = env.reset({ seed: 3 }).observation;
    const o = { ...obs, userIndex: Float64Array.of(0, 1), firstStep: Uint8Array.of(1, 1) };
    const v1 = Array.from(a.criticValue(o, 2));
    const ckpt = a.save() as { state: { items: { shows: number[]; clicks: number[]; reward: number[]; rate: number[]; totals: number[] } } };
    // Credit every candidate of slot 0 with many shows, clicks and minutes.
    const N = env.layout.N;
    for (let i = 0; i < N; i++) {
      const it = obs.itemIds![i]!;
      ckpt.state.items.shows[it] = 100;
      ckpt.state.items.clicks[it] = 80;
      ckpt.state.items.reward[it] = 800;
      ckpt.state.items.rate[it] = 200;
    }
    ckpt.state.items.totals = [100 * N, 80 * N, 800 * N, 200 * N];
    a.load(ckpt as never);
    const v2 = Array.from(a.criticValue(o, 2));
    expect(v2[0]).not.toBe(v1[0]);
    expect(() => a.criticValue({ user: obs.user, candidates: obs.candidates, userIndex: o.userIndex, firstStep: o.firstStep }, 2)).toThrow(/with itemFeedback the observation needs itemIds/);
    a.dispose();
  });

  it('consumedItemStats: the consumed-item mean in the user rows covers each clicked item\'s statistics as they were when it was served', async () => {
    const agent = (await makeAgent('ppo', { numSteps: 50, hidden: 8, itemFeedback: true, consumedHistory: true, consumedItemStats: true, normalizeObs: false, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 2 })) as PpoAgent;
    const { N, K, U, W, want, stepped, firstSteps, clickedAt } = await recountTraining(agent);
    const Ua = U + 2 * W + 1;
    const buf = (agent as unknown as { buf: { user: Float32Array; slates: Int32Array } }).buf;
    const user = buf.user;
    const slates = buf.slates;
    expect(user.length).toBe(50 * 3 * Ua);
    // Replay the run from the agent's own rollout buffer (its slates) and the transitions (the clicks).
    const sums = Array.from({ length: 3 }, () => new Float64Array(W));
    const counts = new Array<number>(3).fill(0);
    let checked = 0;
    let withStats = 0;
    for (let t = 0; t < 40; t++) {
      for (let s = 0; s < 3; s++) {
        if (firstSteps[t]![s]) {
          sums[s]!.fill(0);
          counts[s] = 0;
        }
        const o = (t * 3 + s) * Ua + U;
        for (let j = 0; j < W; j++) {
          const expected = counts[s]! > 0 ? sums[s]![j]! / counts[s]! : 0;
          expect(user[o + j]).toBeCloseTo(expected, 5);
        }
        expect(user[o + 2 * W]).toBeCloseTo(Math.log1p(counts[s]!), 6);
        if (counts[s]! > 0) {
          checked++;
          // The item columns (after the env's F) are part of what is averaged.
          for (let j = W - 4; j < W; j++) if (user[o + j] !== 0) withStats++;
        }
      }
      for (let s = 0; s < 3; s++) {
        const pos = clickedAt[t]![s]!;
        if (!stepped[t]![s] || pos < 0) continue;
        const i = slates[(t * 3 + s) * K + pos]!;
        const row = want[t]!.subarray((s * N + i) * W, (s * N + i + 1) * W);
        for (let j = 0; j < W; j++) sums[s]![j]! += row[j]!;
        counts[s]! += 1;
      }
    }
    expect(checked).toBeGreaterThan(60);
    expect(withStats).toBeGreaterThan(60);
    agent.dispose();
  });

  it('consumedItemStats without consumedHistory or itemFeedback is refused, naming the fields', async () => {
    for (const id of ['ppo', 'slateq']) {
      for (const p of [{ consumedItemStats: true, itemFeedback: true }, { consumedItemStats: true, consumedHistory: true }]) {
        await expect(makeAgent(id, p, { envId: 'retention-v1', seed: 0 })).rejects.toThrow(
          new RegExp(`^agent ${id}: consumedItemStats averages the item-statistic columns of consumed items: it needs consumedHistory true and itemFeedback true \\(got consumedHistory ${!!p.consumedHistory}, itemFeedback ${!!p.itemFeedback}\\)$`),
        );
      }
    }
  });

  it('consumedRate set without consumedHistory is refused (it would be ignored); with it, it is taken', () => {
    for (const id of ['ppo', 'slateq']) {
      for (const rate of [0.05, 0.3]) {
        expect(() => resolveAgentParams(id, { consumedRate: rate })).toThrow(new RegExp(`^agent ${id}: consumedRate ${rate} sets the consumed-item moving average of consumedHistory: it needs consumedHistory true \\(got false\\)$`));
        expect(() => resolveAgentParams(id, { consumedRate: rate })).toThrow(InvalidParam);
        expect(resolveAgentParams(id, { consumedRate: rate, consumedHistory: true }).consumedRate).toBe(rate);
      }
      const resolved = resolveAgentParams(id, {});
      expect(resolved.consumedRate).toBe(0.1);
      expect(resolveAgentParams(id, { ...resolved })).toEqual(resolved);
    }
  });

  it('is refused with a typed error on an env without catalogue item ids', async () => {
    for (const id of ['ppo', 'slateq']) {
      await expect(makeAgent(id, { itemFeedback: true }, { envId: 'interest-evolution-v0', seed: 0 })).rejects.toThrow(
        new RegExp(`^agent ${id} cannot run on interest-evolution-v0: itemFeedback needs catalogue item ids \\(the env has none\\)`),
      );
    }
  });
});

describe('SlateQ n-step targets (nSteps)', () => {
  const SHORT = { worldSeed: 0, horizonDays: 3, maxSessionSteps: 10 };
  type Chains = { ret: Float64Array; disc: Float64Array; term: Uint8Array; last: Int32Array };
  type Rb = { reward: Float32Array; terminal: Uint8Array; discount: Float32Array; seq?: Float64Array };

  type StepRow = { r: number; g: number; term: number; end: number };
  /** Each slot's (reward x rewardScale 0.5, discount 0.95 x 0.7^(days elapsed), terminated, ended) of one step, as stored. */
  const stepRow = (tr: Transitions, U: number, B: number): StepRow[] =>
    Array.from({ length: B }, (_, s) => {
      const next = tr.finalMask[s] ? tr.finalObservation.user : tr.next.user;
      return { r: Math.fround(tr.rewards[s]! * 0.5), g: Math.fround(0.95 * 0.7 ** (next[s * U]! - tr.obs.user[s * U]!)), term: tr.terminated[s]!, end: tr.finalMask[s]! };
    });

  /** Train with `params`, recording every slot's stepRow per step. */
  const record = async (params: Record<string, unknown>) => {
    const B = 4;
    const agent = (await makeAgent('slateq', { hidden: 8, learningStarts: 1e6, noClickValue: 'learned', rewardScale: 0.5, gamma: 0.95, dayDiscount: 0.7, backend: 'cpu', ...params }, { envId: 'retention-v0', envParams: SHORT, seed: 0 })) as SlateQAgent;
    const env = makeVec('retention-v0', SHORT, { numEnvs: B });
    const U = env.layout.U;
    const steps: StepRow[][] = [];
    trainAgent(agent, env, { steps: 300, seed: 3, onStep: (tr) => steps.push(stepRow(tr, U, B)) });
    return { agent, steps, B, rb: (agent as unknown as { rb: Rb }).rb };
  };

  /** The n-step chain of the k-th stored transition (every transition is stored, step by step, slot by slot), by hand. */
  const byHand = (steps: StepRow[][], B: number, k: number, n: number) => {
    const s = k % B;
    let t = Math.floor(k / B);
    let ret = steps[t]![s]!.r;
    let disc = steps[t]![s]!.g;
    let used = 1;
    while (used < n && !steps[t]![s]!.term && !steps[t]![s]!.end && t + 1 < steps.length) {
      t++;
      ret += disc * steps[t]![s]!.r;
      disc *= steps[t]![s]!.g;
      used++;
    }
    return { ret, disc, term: steps[t]![s]!.term, lastInsert: t * B + s, used };
  };

  it('sums the same user\'s next n rewards with each step\'s own discount, stops at its episode end, and bootstraps after the last', async () => {
    const n = 4;
    const { agent, steps, B, rb } = await record({ nSteps: n, replaySize: 5000 });
    const stored = steps.length * B;
    const idx = Int32Array.from({ length: stored }, (_, k) => k);
    const got = agent.chains(idx) as Chains;
    const used = [0, 0, 0, 0, 0];
    let ends = 0;
    let acrossDays = 0;
    for (let k = 0; k < stored; k++) {
      const h = byHand(steps, B, k, n);
      expect(got.ret[k]).toBeCloseTo(h.ret, 4);
      expect(got.disc[k]).toBeCloseTo(h.disc, 6);
      expect(got.term[k]).toBe(h.term);
      expect(got.last[k]).toBe(h.lastInsert);
      used[h.used]!++;
      if (h.used < n && h.lastInsert < stored - B) ends++;
      if (h.used === n && h.disc < 0.95 ** n * 0.8) acrossDays++;
    }
    // Full chains, chains cut by an episode end, and terminations all occur.
    expect(used[n]).toBeGreaterThan(800);
    expect(ends).toBeGreaterThan(20);
    expect(Array.from(got.term).filter((x) => x === 1).length).toBeGreaterThan(0);
    // Some full chains cross a day gap, so their discount takes dayDiscount in.
    expect(acrossDays).toBeGreaterThan(5);
    // nSteps 1: the one-step target's own reward, discount, termination and next state.
    const one = await record({ nSteps: 1, replaySize: 5000 });
    const g1 = one.agent.chains(idx) as Chains;
    for (let k = 0; k < stored; k++) {
      expect(g1.ret[k]).toBe(one.rb.reward[k]);
      expect(g1.disc[k]).toBe(one.rb.discount[k]);
      expect(g1.term[k]).toBe(one.rb.terminal[k]);
      expect(g1.last[k]).toBe(k);
    }
    agent.dispose();
    one.agent.dispose();
  });

  it('never links across a ring-buffer overwrite, and resumes its chains from a checkpoint', async () => {
    const n = 6;
    const { agent, steps, B, rb } = await record({ nSteps: n, replaySize: 37 });
    const idx = Int32Array.from({ length: 37 }, (_, k) => k);
    const got = agent.chains(idx) as Chains;
    for (let e = 0; e < 37; e++) {
      const insert = rb.seq![e]! - 1; // the e-th entry holds the insert-th transition
      const h = byHand(steps, B, insert, n);
      expect(got.ret[e]).toBeCloseTo(h.ret, 4);
      expect(rb.seq![got.last[e]!]! - 1).toBe(h.lastInsert);
    }
    // A checkpoint restores the chains: the next steps link to the same entries in a resumed copy.
    const copy = (await makeAgent('slateq', { hidden: 8, learningStarts: 1e6, noClickValue: 'learned', rewardScale: 0.5, gamma: 0.95, dayDiscount: 0.7, backend: 'cpu', nSteps: n, replaySize: 37 }, { envId: 'retention-v0', envParams: SHORT, seed: 0 })) as SlateQAgent;
    copy.load(agent.save());
    // A new training run (5 steps: the buffer then holds both runs) starts new users: no chain crosses into it.
    const U = makeVec('retention-v0', SHORT, { numEnvs: 1 }).layout.U;
    const more = (a: SlateQAgent, log?: typeof steps) => {
      const env = makeVec('retention-v0', SHORT, { numEnvs: B });
      trainAgent(a, env, { steps: 5, seed: 8, onStep: (tr) => log?.push(stepRow(tr, U, B)) });
      return a.chains(idx) as Chains;
    };
    const both = steps.map((row, t) => (t === steps.length - 1 ? row.map((x) => ({ ...x, end: 1 })) : row));
    const lastOfRun1 = Array.from({ length: 37 }, (_, e) => e).filter((e) => rb.seq![e]! > (steps.length - 1) * B && rb.seq![e]! <= steps.length * B);
    const resumed = more(agent, both);
    expect(more(copy)).toEqual(resumed);
    // The first run's last transitions were followed by no slate of their own users (SARSA falls back to serving).
    expect(lastOfRun1).toHaveLength(B);
    const hasNext = (agent as unknown as { rb: { hasNextSlate: Uint8Array } }).rb.hasNextSlate;
    for (const e of lastOfRun1) expect(hasNext[e]).toBe(0);
    let firstRun = 0;
    for (let e = 0; e < 37; e++) {
      const h = byHand(both, B, rb.seq![e]! - 1, n);
      expect(resumed.ret[e]).toBeCloseTo(h.ret, 4);
      expect(rb.seq![resumed.last[e]!]! - 1).toBe(h.lastInsert);
      if (rb.seq![e]! <= steps.length * B) firstRun++;
    }
    expect(firstRun).toBeGreaterThan(5);
    agent.dispose();
    copy.dispose();
  });

  it('is refused with a typed error where no-click steps are not stored', async () => {
    await expect(makeAgent('slateq', { nSteps: 3, noClickValue: 'zero' }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(
      /^agent slateq cannot run on retention-v0: nSteps 3 needs every transition stored: set noClickValue "learned"/,
    );
    await expect(makeAgent('slateq', { nSteps: 0 }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(/nSteps/);
  });
});

describe('SlateQ serving', () => {
  it('the optimal slate (OS) equals enumeration of all slates; greedy and top-K are no better', () => {
    const rng = streamFromString('os');
    const N = 7;
    const K = 3;
    for (let trial = 0; trial < 50; trial++) {
      const v = Array.from({ length: N }, () => 0.1 + 2 * rng());
      const q = Array.from({ length: N }, () => 10 * rng() - 2);
      const v0 = 0.5 + rng();
      let best = -Infinity;
      for (let a = 0; a < N; a++) for (let b = a + 1; b < N; b++) for (let c = b + 1; c < N; c++) best = Math.max(best, mnlSlateValue(v, q, 0, [a, b, c], 0, K, v0));
      const os = new Int32Array(K);
      optimalMnlSlate(v, q, 0, N, K, v0, os, 0, new Float64Array(N));
      expect(mnlSlateValue(v, q, 0, os, 0, K, v0)).toBeCloseTo(best, 10);
      const gs = new Int32Array(K);
      greedyMnlSlate(v, q, 0, N, K, v0, gs, 0);
      expect(mnlSlateValue(v, q, 0, gs, 0, K, v0)).toBeLessThanOrEqual(best + 1e-12);
    }
  });
});

describe('SlateQ serving by value', () => {
  it('serves top-K by the shifted item values, whatever the choice weights; optimal serving of the same values follows the weights; evalServing swaps the rule in evaluation only', async () => {
    const envParams = { horizonDays: 2, maxSessionSteps: 8 };
    const env = makeVec('retention-v1', envParams, { numEnvs: 6 });
    const { N, K } = env.layout;
    const r = env.reset({ seed: 4 });
    const obs = observationOf(env, new Uint8Array(6).fill(1), r.userIndex, new Uint8Array(6).fill(1), r.observation);
    // [serving, dueling, evalServing, training]: evalServing swaps the rule in evaluation only.
    const cases = [
      ['value', true, 'same', false],
      ['value', false, 'same', false],
      ['optimal', true, 'same', false],
      ['optimal', true, 'value', false],
      ['optimal', true, 'value', true],
      ['value', true, 'optimal', false],
    ] as const;
    for (const [serving, dueling, evalServing, training] of cases) {
      const agent = (await makeAgent('slateq', { serving, dueling, evalServing, epsilonStart: 0, epsilonEnd: 0, noClickValue: 'learned', hidden: 8, backend: 'cpu' }, { envId: 'retention-v1', envParams, seed: 1 })) as SlateQAgent;
      const a = agent as unknown as { qValues: (...x: unknown[]) => Float32Array; weights: (n: number, h: unknown, h0: unknown, u: unknown, c: unknown, v: Float64Array, v0: Float64Array) => void };
      // Choice weights that favour the items of lowest value: serving by value must not follow them.
      let values: Float32Array<ArrayBufferLike> = new Float32Array(0);
      const qValues = a.qValues.bind(agent);
      a.qValues = (...x: unknown[]) => (values = qValues(...x));
      let shifted: Float32Array | null = null;
      const weights = a.weights.bind(agent);
      a.weights = (n, h, h0, u, c, v, v0) => {
        weights(n, h, h0, u, c, v, v0);
        for (let i = 0; i < n * N; i++) v[i] = Math.exp(-5 * values[i]!);
      };
      const noClick = (agent as unknown as { noClickValues: (...x: unknown[]) => Float32Array }).noClickValues.bind(agent);
      (agent as unknown as { noClickValues: (...x: unknown[]) => Float32Array }).noClickValues = (...x: unknown[]) => {
        const q0 = noClick(...x);
        shifted = Float32Array.from(values, (q, j) => q - q0[Math.floor(j / N)]!);
        return q0;
      };
      const out = agent.act(obs, agent.context(training));
      const item = dueling ? values : shifted!;
      let byValue = 0;
      for (let s = 0; s < 6; s++) {
        const row = Array.from(item.subarray(s * N, (s + 1) * N));
        const top = row.map((q, i) => [q, i] as const).sort((x, y) => y[0] - x[0]).slice(0, K).map(([, i]) => i);
        if (Array.from(out.subarray(s * K, (s + 1) * K)).every((i, k) => i === top[k])) byValue++;
      }
      // By value every slate is the top-K of the item values, in order; optimal slates under these weights are not.
      const rule = training || evalServing === 'same' ? serving : evalServing;
      if (rule === 'value') expect(byValue).toBe(6);
      else expect(byValue).toBeLessThan(6);
      agent.dispose();
    }
  });
});

describe('finite numbers only: a NaN never reaches the weights silently', () => {
  it('assertFinite finds a NaN or an infinity at any position, whatever the length, and skips inactive slots', async () => {
    const { assertFinite } = await import('../../agents/api.js');
    const { NonFiniteValue } = await import('../../envs/errors.js');
    for (const B of [1, 2, 3]) {
      for (const w of [1, 2, 3, 4, 5, 7]) {
        const n = B * w;
        for (const make of [(v: number[]) => Float32Array.from(v), (v: number[]) => Float64Array.from(v)]) {
          const finite = make(Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -0 : (i - 2.5) * 1e30)));
          expect(() => assertFinite('t', 'f', finite, B)).not.toThrow();
          for (let j = 0; j < n; j++) {
            for (const bad of [NaN, Infinity, -Infinity]) {
              const x = make(Array.from(finite));
              x[j] = bad;
              const s = Math.floor(j / w);
              expect(() => assertFinite('t', 'f', x, B), `B ${B} w ${w} j ${j} ${bad}`).toThrow(NonFiniteValue);
              expect(() => assertFinite('t', 'f', x, B)).toThrow(`t: f of slot ${s} holds ${bad} at column ${j - s * w}`);
              // The slot marked inactive: nothing to report.
              const active = Uint8Array.from({ length: B }, (_, k) => (k === s ? 0 : 1));
              expect(() => assertFinite('t', 'f', x, B, active)).not.toThrow();
            }
          }
        }
      }
    }
  });

  it('a NaN observation handed to PPO in training stops the loop with NonFiniteValue naming the slot and field; the weights stay finite', async () => {
    const { NonFiniteValue } = await import('../../envs/errors.js');
    const agent = (await makeAgent('ppo', { numSteps: 8, hidden: 8 }, { envId: 'retention-v0', seed: 0 })) as PpoAgent;
    const env = makeVec('retention-v0', {}, { numEnvs: 4 });
    let t = 0;
    const U = env.layout.U;
    // Poison slot 2's user row at step 5, after the agent acted: the transition carries it.
    const run = () => trainAgent(agent, env, { steps: 64, seed: 0, onAct: () => { if (t++ === 5) env.sim.user[2 * U + 1] = NaN; } });
    expect(run).toThrow(NonFiniteValue);
    t = 0;
    const env2 = makeVec('retention-v0', {}, { numEnvs: 4 });
    expect(() => trainAgent(agent, env2, { steps: 64, seed: 0, onAct: () => { if (t++ === 5) env2.sim.user[2 * U + 1] = NaN; } })).toThrow(/ppo: observation.user of slot 2 holds NaN at column 1/);
    const ck = agent.save();
    expect(JSON.stringify(ck)).not.toMatch(/null,|\[null/);
    agent.dispose();
  });

  it('save() refuses a non-finite state; load() refuses a checkpoint whose numbers became null and leaves the agent as it was', async () => {
    const { NonFiniteValue } = await import('../../envs/errors.js');
    const { BadCheckpoint } = await import('../../agents/api.js');
    const agent = (await makeAgent('ppo', { hidden: 8 }, { envId: 'retention-v0', seed: 0 })) as PpoAgent;
    const good = agent.save();
    const broken = JSON.parse(JSON.stringify(good)) as typeof good;
    const w = (broken.state as { actor: number[][] }).actor;
    w[0]![3] = null as unknown as number;
    expect(() => agent.load(broken)).toThrow(BadCheckpoint);
    expect(JSON.stringify(agent.save())).toBe(JSON.stringify(good));
    agent.actor.params.vars[0]!.assign(tf.fill(agent.actor.params.vars[0]!.shape, NaN));
    expect(() => agent.save()).toThrow(NonFiniteValue);
    expect(() => agent.save()).toThrow(/ppo: cannot save a non-finite agent state \(state\.actor\[0\]\[0\] = NaN\)/);
    agent.dispose();
  });

  it('the deep agents refuse a NaN observation in act, naming the slot and the field', async () => {
    const { NonFiniteValue } = await import('../../envs/errors.js');
    for (const id of ['ppo', 'slateq']) {
      const agent = await makeAgent(id, { hidden: 8 }, { envId: 'retention-v0', seed: 0 });
      const env = makeVec('retention-v0', {}, { numEnvs: 3 });
      const r = env.reset({ seed: 1 });
      const user = Float32Array.from(r.observation.user);
      user[env.layout.U + 2] = NaN;
      const obs = { user, candidates: r.observation.candidates, itemIds: r.observation.itemIds, B: 3, active: new Uint8Array(3).fill(1), userIndex: new Float64Array(3), firstStep: new Uint8Array(3).fill(1) };
      expect(() => agent.act(obs, agent.context(false))).toThrow(NonFiniteValue);
      expect(() => agent.act(obs, agent.context(false))).toThrow(new RegExp(`${id}: observation.user of slot 1 holds NaN at column 2`));
      // An inactive slot's contents do not matter.
      obs.active[1] = 0;
      expect(agent.act(obs, agent.context(false)).length).toBe(3 * env.layout.K);
      (agent as { dispose?: () => void }).dispose?.();
    }
  });

  it('a non-finite gradient is not applied: Adam.applyClipped throws before the optimizer step, and disposes the gradients', async () => {
    const { NonFiniteValue } = await import('../../envs/errors.js');
    const w = [tf.variable(tf.tensor1d([0.5, -0.5])), tf.variable(tf.tensor1d([3]))];
    const opt = new Adam(w, 0.1);
    const before = tf.memory().numTensors;
    expect(() => opt.applyClipped([tf.tensor1d([1, NaN]), tf.tensor1d([2])], 1)).toThrow(NonFiniteValue);
    expect(() => opt.applyClipped([tf.tensor1d([1, 1]), tf.tensor1d([Infinity])], 1)).toThrow(NonFiniteValue);
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(w[0]!.dataSync())).toEqual([0.5, -0.5]);
    expect(Array.from(w[1]!.dataSync())).toEqual([3]);
    expect(opt.state().t).toBe(0);
    w.forEach((x) => x.dispose());
  });

  it("Adam's per-variable learning-rate multipliers: each variable steps as an Adam of lr x its multiplier would; none given is all 1; bad ones are refused", async () => {
    const { InvalidArgument } = await import('../../envs/errors.js');
    const init = [[0.5, -0.25, 2], [1, -3]];
    const grads = [[[0.3, -1e-3, 7], [2, -0.5]], [[-0.2, 4e-3, 1], [0.01, 3]], [[0.9, 0, -2], [-1, 1]]];
    const vars = () => init.map((x) => tf.variable(tf.tensor1d(x)));
    const scaled = vars();
    const opt = new Adam(scaled, 0.01, 1e-5, 0.9, 0.999, [1, 4]);
    const one = vars();
    const optOne = new Adam([one[0]!], 0.01, 1e-5);
    const four = vars();
    const optFour = new Adam([four[1]!], 0.04, 1e-5);
    const plain = vars();
    const optPlain = new Adam(plain, 0.01, 1e-5);
    const ones = vars();
    const optOnes = new Adam(ones, 0.01, 1e-5, 0.9, 0.999, [1, 1]);
    for (const [g0, g1] of grads) {
      const t = [tf.tensor1d(g0!), tf.tensor1d(g1!)];
      opt.apply(t);
      optOne.apply([t[0]!]);
      optFour.apply([t[1]!]);
      optPlain.apply(t);
      optOnes.apply(t);
      t.forEach((x) => x.dispose());
    }
    const values = (v: tf.Variable) => Array.from(v.dataSync());
    expect(values(scaled[0]!)).toEqual(values(one[0]!));
    expect(values(scaled[1]!)).toEqual(values(four[1]!));
    expect(values(scaled[1]!)).not.toEqual(values(plain[1]!));
    expect(ones.map(values)).toEqual(plain.map(values));
    for (const bad of [[1], [1, 0], [1, Number.NaN], [-2, 1]]) expect(() => new Adam(plain, 0.01, 1e-5, 0.9, 0.999, bad)).toThrow(InvalidArgument);
    expect(() => new Adam(plain, 0.01, 1e-5, 0.9, 0.999, [1, 0])).toThrow(/lrScale needs one positive finite multiplier per variable \(2\)/);
    [scaled, one, four, plain, ones].flat().forEach((x) => x.dispose());
  });

  it('sgdStep: x - rate g in float32, the gradient left to the caller; a gradient of another size is refused', async () => {
    const { sgdStep } = await import('../../policies/nn.js');
    const x = tf.variable(tf.tensor1d([0.5, -2, 3.25]));
    const g = tf.tensor1d([0.1, -4, 0]);
    sgdStep(x, g, 0.3);
    const f = Math.fround;
    expect(Array.from(x.dataSync())).toEqual([f(0.5 - f(f(0.3) * f(0.1))), f(-2 - f(f(0.3) * -4)), 3.25]);
    expect(g.isDisposed).toBe(false);
    expect(() => sgdStep(x, tf.tensor1d([1, 2]), 0.1)).toThrow(/sgdStep: gradient of 2 values for a parameter of 3/);
    x.dispose();
    g.dispose();
  });
});

describe('exporting a trained PPO policy to the TensorFlow.js layers format', () => {
  it('model.json + weights.bin load with tf.loadLayersModel and score raw observations as the agent does (normalization and clipping folded in)', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    for (const hidden2 of [0, 6]) {
      const agent = (await makeAgent('ppo', { numSteps: 8, hidden: 8, hidden2 }, { envId: 'retention-v1', seed: 4 })) as PpoAgent;
      trainAgent(agent, makeVec('retention-v1', {}, { numEnvs: 4 }), { steps: 32, seed: 1 });
      const dir = mkdtempSync(join(tmpdir(), 'egym-export-'));
      const { modelJson, weights } = await agent.exportPolicy(dir);
      const json = JSON.parse(readFileSync(modelJson, 'utf8')) as { format: string; modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
      const bin = readFileSync(weights);
      const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) }));
      const { U, N, F, K } = agent.env.layout;
      const B = 16;
      const rng = streamFromString(`export-${hidden2}`);
      // Raw observations, some far out of the training range (the clip at 10 standard deviations must match).
      const user = Float32Array.from({ length: B * U }, () => (rng() - 0.5) * (rng() < 0.1 ? 400 : 8));
      const cand = Float32Array.from({ length: B * N * F }, () => (rng() - 0.5) * (rng() < 0.1 ? 400 : 6));
      const got = (model.predict([tf.tensor2d(user, [B, U]), tf.tensor3d(cand, [B, N, F])]) as tf.Tensor).dataSync();
      const nu = agent.userNorm.apply(user, B, new Float32Array(B * U));
      const nc = agent.candNorm.apply(cand, B * N, new Float32Array(B * N * F));
      const want = agent.actor.scores(tf.tensor2d(nu, [B, U]), tf.tensor2d(nc, [B * N, F]), N).dataSync();
      for (let i = 0; i < B * N; i++) expect(got[i]!).toBeCloseTo(want[i]!, 4);
      // The greedy slate from the exported scores is the agent's evaluation slate.
      const slates = agent.act({ user, candidates: cand, itemIds: null, B, active: new Uint8Array(B).fill(1), userIndex: new Float64Array(B), firstStep: new Uint8Array(B) }, agent.context(false));
      for (let s = 0; s < B; s++) {
        const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => got[s * N + b]! - got[s * N + a]!);
        expect(new Set(Array.from(slates.subarray(s * K, (s + 1) * K)))).toEqual(new Set(order.slice(0, K)));
      }
      model.dispose();
      agent.dispose();
    }
  });
});

describe('REINFORCE top-K online (mode "online")', () => {
  const SHORT = { worldSeed: 0, horizonDays: 4, maxSessionSteps: 8 };

  it("keeps each user's trajectory until it ends, then its consumed steps with their per-day discounted returns and pi's sampling probabilities", async () => {
    const { ReinforceTopKAgent } = await import('../../agents/reinforce-topk.js');
    const agent = (await makeAgent('reinforce-topk', { mode: 'online', gamma: 0.9, dayDiscount: 0.5, updateSteps: 1e9, hidden: 8, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 3 })) as InstanceType<typeof ReinforceTopKAgent>;
    const env = makeVec('retention-v1', SHORT, { numEnvs: 3 });
    const { U, N, F, K } = env.layout;
    const day = env.layout.userFeatures.find((f) => f.name === 'day')!.offset;
    const internal = agent as unknown as { userNorm: { apply(x: Float32Array, n: number, o: Float32Array): Float32Array }; candNorm: { apply(x: Float32Array, n: number, o: Float32Array): Float32Array }; finished: { ret: number[]; beta: number[]; item: number[]; steps: number; trajectories: number } };
    // Per slot: the steps so far (reward, day, consumed item and the probability pi gave it when sampling).
    type Step = { r: number; day: number; item: number; beta: number };
    const open: Step[][] = [[], [], []];
    const want: { ret: number; beta: number; item: number }[] = [];
    let probs: Float64Array = new Float64Array(0);
    let endedSteps = 0;
    let ended = 0;
    trainAgent(agent, env, {
      steps: 150,
      seed: 8,
      onAct: (o, a) => {
        // pi's softmax over the candidates, on the rows normalized as act normalized them.
        const u = internal.userNorm.apply(o.user, 3, new Float32Array(3 * U));
        const c = internal.candNorm.apply(o.candidates, 3 * N, new Float32Array(3 * N * F));
        const p = tf.tidy(() => tf.softmax(agent.pi.scores(tf.tensor2d(u, [3, U]), tf.tensor2d(c, [3 * N, F]), N)).dataSync());
        probs = new Float64Array(3 * K);
        for (let s = 0; s < 3; s++) for (let k = 0; k < K; k++) probs[s * K + k] = p[s * N + a[s * K + k]!]!;
      },
      onStep: (tr: Transitions) => {
        for (let s = 0; s < 3; s++) {
          if (!tr.stepped[s]) continue;
          const pos = tr.clicked[s]!;
          open[s]!.push({ r: tr.rewards[s]!, day: tr.obs.user[s * U + day]!, item: pos >= 0 ? tr.actions[s * K + pos]! : -1, beta: pos >= 0 ? probs[s * K + pos]! : 0 });
          if (!tr.finalMask[s]) continue;
          const st = open[s]!;
          const rets = new Array<number>(st.length);
          for (let i = st.length - 1; i >= 0; i--) rets[i] = st[i]!.r + (i + 1 < st.length ? 0.9 * 0.5 ** Math.max(0, st[i + 1]!.day - st[i]!.day) * rets[i + 1]! : 0);
          st.forEach((x, i) => x.item >= 0 && want.push({ ret: rets[i]!, beta: x.beta, item: x.item }));
          endedSteps += st.length;
          ended++;
          open[s] = [];
        }
      },
    });
    const f = internal.finished;
    expect(ended).toBeGreaterThan(4);
    expect(f.trajectories).toBe(ended);
    expect(f.steps).toBe(endedSteps);
    expect(f.item).toEqual(want.map((w) => w.item));
    for (let i = 0; i < want.length; i++) {
      expect(f.ret[i]).toBeCloseTo(want[i]!.ret, 9);
      expect(f.beta[i]).toBeCloseTo(want[i]!.beta, 6);
    }
    // Days elapse inside trajectories, so the per-day discount is exercised.
    expect(want.length).toBeGreaterThan(20);
    agent.dispose();
  });

  it('updates every updateSteps user-steps of finished trajectories, reports its scalars, and changes pi', async () => {
    const agent = await makeAgent('reinforce-topk', { mode: 'online', updateSteps: 50, batchSize: 16, hidden: 8, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 3 });
    const before = JSON.stringify((agent as unknown as { pi: { params: { getWeights(): unknown } } }).pi.params.getWeights());
    const updates: Record<string, number>[] = [];
    trainAgent(agent, makeVec('retention-v1', SHORT, { numEnvs: 3 }), { steps: 150, seed: 8, onUpdate: (m) => updates.push(m) });
    expect(updates.length).toBeGreaterThan(2);
    updates.forEach((m, i) => {
      expect(m.iteration).toBe(i + 1);
      expect(m.user_steps).toBeGreaterThanOrEqual(50);
      for (const k of ['policy_loss', 'entropy', 'mean_capped_weight', 'capped_share', 'mean_return']) expect(Number.isFinite(m[k])).toBe(true);
    });
    expect(JSON.stringify((agent as unknown as { pi: { params: { getWeights(): unknown } } }).pi.params.getWeights())).not.toBe(before);
    (agent as { dispose?: () => void }).dispose?.();
  });

  it('baseline "value": the state value fits the normalized returns it is subtracted from', async () => {
    const agent = await makeAgent('reinforce-topk', { mode: 'online', baseline: 'value', updateSteps: 1e9, batchSize: 32, epochs: 2, lr: 3e-3, hidden: 8, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 3 });
    trainAgent(agent, makeVec('retention-v1', SHORT, { numEnvs: 3 }), { steps: 150, seed: 8 });
    const internal = agent as unknown as { finished: { steps: number; ret: number[] }; update(): Record<string, number> };
    const data = structuredClone(internal.finished);
    expect(data.ret.length).toBeGreaterThan(64);
    const losses: number[] = [];
    for (let i = 0; i < 10; i++) {
      internal.finished = { ...structuredClone(data), steps: 1e9 };
      losses.push(internal.update().value_loss!);
    }
    // The first update's loss is that of the untrained value (the normalized returns have variance about 1).
    expect(losses[0]).toBeGreaterThan(0.5);
    expect(losses[9]).toBeLessThan(0.5 * losses[0]!);
    (agent as { dispose?: () => void }).dispose?.();
  });

  it('a param of the other mode set away from its default is refused, naming it (it would be ignored)', async () => {
    const opts = { envId: 'retention-v1', seed: 0 };
    const modes = '\\(offline-only: behaviour, behaviourEpsilon, logUsers; online-only: dayDiscount, itemFeedback, baseline, entCoef, updateSteps\\)';
    await expect(makeAgent('reinforce-topk', { itemFeedback: true }, opts)).rejects.toThrow(
      new RegExp(`^agent reinforce-topk: itemFeedback true: only mode "online" reads it, and this agent has mode "offline"; leave it at the default or change the mode ${modes}$`),
    );
    await expect(makeAgent('reinforce-topk', { dayDiscount: 0.8 }, opts)).rejects.toThrow(/^agent reinforce-topk: dayDiscount 0.8: only mode "online" reads it/);
    await expect(makeAgent('reinforce-topk', { baseline: 'value' }, opts)).rejects.toThrow(/^agent reinforce-topk: baseline "value": only mode "online" reads it/);
    await expect(makeAgent('reinforce-topk', { mode: 'offline', entCoef: 0.01, updateSteps: 100 }, opts)).rejects.toThrow(/^agent reinforce-topk: entCoef 0.01, updateSteps 100: only mode "online" reads them/);
    await expect(makeAgent('reinforce-topk', { mode: 'online', logUsers: 100 }, opts)).rejects.toThrow(/^agent reinforce-topk: logUsers 100: only mode "offline" reads it, and this agent has mode "online"/);
    await expect(makeAgent('reinforce-topk', { mode: 'online', behaviour: 'random', behaviourEpsilon: 1 }, opts)).rejects.toThrow(/behaviour "random", behaviourEpsilon 1: only mode "offline" reads them/);
    // Refused before anything is built: resolving the params alone throws.
    expect(() => resolveAgentParams('reinforce-topk', { mode: 'online', logUsers: 100 })).toThrow(InvalidParam);
    // The defaults themselves pass (the runner resolves resolved params again, every name present), and resolving
    // twice gives the same params.
    const once = resolveAgentParams('reinforce-topk', { mode: 'online', entCoef: 0.01 });
    expect(resolveAgentParams('reinforce-topk', { ...once })).toEqual(once);
    expect(resolveAgentParams('reinforce-topk', { mode: 'online', logUsers: 500 }).logUsers).toBe(500);
    await expect(makeAgent('reinforce-topk', { mode: 'online', dayDiscount: 0.8 }, { envId: 'interest-evolution-v0', seed: 0 })).rejects.toThrow(/^agent reinforce-topk cannot run on interest-evolution-v0: dayDiscount 0.8 needs a multi-session env/);
  });

  /**
   * pi's weights before, and their change after one update of the same gathered trajectories (no update while
   * gathering: updateSteps 1e9), with the wide part on the item-statistic columns at the given rate.
   */
  const wideUpdate = async (extra: Record<string, unknown>) => {
    const agent = await makeAgent('reinforce-topk', { mode: 'online', itemFeedback: true, wide: true, wideColumns: 'itemFeedback', updateSteps: 1e9, batchSize: 1024, epochs: 1, hidden: 8, backend: 'cpu', ...extra }, { envId: 'retention-v1', envParams: SHORT, seed: 3 });
    trainAgent(agent, makeVec('retention-v1', SHORT, { numEnvs: 3 }), { steps: 150, seed: 8 });
    const internal = agent as unknown as { pi: { F: number; wideWeights: tf.Variable | null; params: { vars: tf.Variable[] } }; finished: { steps: number; ret: number[] }; update(): Record<string, number> };
    expect(internal.finished.ret.length).toBeGreaterThan(10);
    const vars = internal.pi.params.vars;
    const before = vars.map((v) => Array.from(v.dataSync()));
    internal.finished.steps = 1e9;
    internal.update();
    const delta = vars.map((v, i) => Array.from(v.dataSync()).map((x, j) => x - before[i]![j]!));
    const wideAt = vars.indexOf(internal.pi.wideWeights!);
    const F = internal.pi.F;
    (agent as { dispose?: () => void }).dispose?.();
    return { before, delta, wideAt, F };
  };

  it('wideColumns itemFeedback: the wide part is the four item-statistic columns; wideLrScale moves only them further, by that factor', async () => {
    const one = await wideUpdate({});
    const ten = await wideUpdate({ wideLrScale: 10 });
    expect(one.F).toBe(makeVec('retention-v1', SHORT, { numEnvs: 1 }).layout.F + 4);
    expect(one.wideAt).toBeGreaterThan(-1);
    expect(one.delta[one.wideAt]!.length).toBe(4);
    expect(ten.before).toEqual(one.before);
    one.delta.forEach((d, i) => {
      if (i !== one.wideAt) expect(ten.delta[i]).toEqual(d);
    });
    const w1 = one.delta[one.wideAt]!;
    expect(w1.every((x) => Math.abs(x) > 1e-6)).toBe(true);
    w1.forEach((x, j) => expect(ten.delta[one.wideAt]![j]!).toBeCloseTo(10 * x, 6));
  });

  it('the wide options are refused where they would be ignored, naming the field', async () => {
    const opts = { envId: 'retention-v1', seed: 0 };
    await expect(makeAgent('reinforce-topk', { mode: 'online', wideLrScale: 10 }, opts)).rejects.toThrow(/^agent reinforce-topk: wideLrScale 10 sets the learning rate of the wide part: it needs wide true \(got false\)/);
    await expect(makeAgent('reinforce-topk', { mode: 'online', itemFeedback: true, wideColumns: 'itemFeedback' }, opts)).rejects.toThrow(/^agent reinforce-topk: wideColumns itemFeedback restricts the wide part to the item-statistic columns: it needs wide true and itemFeedback true \(got wide false, itemFeedback true\)/);
    await expect(makeAgent('reinforce-topk', { mode: 'online', wide: true, wideColumns: 'itemFeedback' }, opts)).rejects.toThrow(/got wide true, itemFeedback false/);
    for (const v of [0, -1, 2e4]) expect(() => resolveAgentParams('reinforce-topk', { mode: 'online', wide: true, wideLrScale: v })).toThrow(/wideLrScale/);
    expect(() => resolveAgentParams('reinforce-topk', { mode: 'online', wide: true, itemFeedback: true, wideColumns: 'content' })).toThrow(/wideColumns/);
  });
});

describe('PPO served greedily on most training steps (greedyServe)', () => {
  const SHORT = { worldSeed: 0, horizonDays: 3, maxSessionSteps: 10 };
  type Internal = { buf: { user: Float32Array; cand: Float32Array; slates: Int32Array; logp: Float32Array; sampled?: Float32Array }; t: number };
  const build = async (greedyServe: number, numSteps = 40) =>
    (await makeAgent('ppo', { numSteps, numMinibatches: 2, updateEpochs: 2, hidden: 8, greedyServe, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })) as PpoAgent;
  const weights = (a: PpoAgent) => [...a.actor.params.vars, ...a.critic.params.vars].map((v) => Array.from(v.dataSync()));

  it("a greedy step's slate is the policy's top-K on the rows it saw; a sampled step's is drawn; the share drawn is about 1 - greedyServe", async () => {
    const agent = await build(0.7, 1000);
    const env = makeVec('retention-v1', SHORT, { numEnvs: 4 });
    const { N, K } = env.layout;
    trainAgent(agent, env, { steps: 100, seed: 3 });
    const b = (agent as unknown as Internal).buf;
    const U = b.user.length / (1000 * 4);
    const F = b.cand.length / (1000 * 4 * N);
    const S = 100 * 4;
    const scores = tf.tidy(() => agent.actor.scores(tf.tensor2d(b.user.subarray(0, S * U), [S, U]), tf.tensor2d(b.cand.subarray(0, S * N * F), [S * N, F]), N).dataSync());
    let sampled = 0;
    let sampledOffTop = 0;
    for (let r = 0; r < S; r++) {
      const top = Array.from({ length: N }, (_, i) => i).sort((x, y) => scores[r * N + y]! - scores[r * N + x]! || x - y).slice(0, K);
      const slate = Array.from(b.slates.subarray(r * K, (r + 1) * K));
      if (b.sampled![r] === 1) {
        sampled++;
        if (slate.join() !== top.join()) sampledOffTop++;
      } else {
        expect(b.sampled![r]).toBe(0);
        expect(slate).toEqual(top);
      }
    }
    // Binomial(400, 0.3): sd 9.2; 4.5 sd either side.
    expect(sampled).toBeGreaterThan(120 - 41);
    expect(sampled).toBeLessThan(120 + 41);
    // An untrained policy is broad: its samples are almost never its top-K in order.
    expect(sampledOffTop).toBeGreaterThan(0.9 * sampled);
    agent.dispose();
  });

  it("the policy gradient uses the sampled steps only: a greedy step's stored log-probability changes nothing, a sampled step's does", async () => {
    const run = async (edit: 'none' | 'greedy' | 'sampled') => {
      const agent = await build(0.5);
      const internal = agent as unknown as Internal;
      const before = weights(agent);
      let m: Record<string, number> | null = null;
      let nSampled = 0;
      // One rollout of 40 steps of 3 users; its last step's transition is observed, then (onStep, before the update)
      // the stored log-probabilities of the greedy or of the sampled steps are shifted.
      trainAgent(agent, makeVec('retention-v1', SHORT, { numEnvs: 3 }), {
        steps: 40,
        seed: 3,
        onStep: () => {
          if (internal.t !== 40) return;
          const b = internal.buf;
          for (let r = 0; r < 120; r++) {
            nSampled += b.sampled![r]!;
            if ((edit === 'greedy' && b.sampled![r] === 0) || (edit === 'sampled' && b.sampled![r] === 1)) b.logp[r] = b.logp[r]! - 0.3;
          }
        },
        onUpdate: (x) => (m = x),
      });
      const after = weights(agent);
      agent.dispose();
      return { before, after, m: m!, nSampled };
    };
    const base = await run('none');
    const greedy = await run('greedy');
    const samp = await run('sampled');
    // Binomial(120, 0.5): sd 5.5.
    expect(base.nSampled).toBeGreaterThan(35);
    expect(base.nSampled).toBeLessThan(85);
    expect(base.after).not.toEqual(base.before);
    expect(greedy.after).toEqual(base.after);
    expect(samp.after).not.toEqual(base.after);
    expect(Number.isFinite(base.m.approx_kl)).toBe(true);
  });

  it('is refused at 1 or above and below 0, naming the field', async () => {
    for (const v of [1, -0.1, 1.5]) await expect(makeAgent('ppo', { greedyServe: v, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/greedyServe/);
  });
});

describe('PPO whose training samples sharpen on a schedule (temperatureEnd)', () => {
  const SHORT = { worldSeed: 0, horizonDays: 3, maxSessionSteps: 10 };
  type Internal = { buf: { user: Float32Array; cand: Float32Array; slates: Int32Array; logp: Float32Array } };
  // 8-step rollouts of 2 users, 64 planned user-steps: 4 updates anneal T from 1 to temperatureEnd.
  const build = async (temperatureEnd: number, lr = 2.5e-4) =>
    (await makeAgent('ppo', { numSteps: 8, numMinibatches: 2, updateEpochs: 2, hidden: 8, totalSteps: 64, temperatureEnd, lr, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })) as PpoAgent;

  it('a rollout after k updates is sampled and scored over logits / T, T = 1 + (temperatureEnd - 1) min(1, k / 4)', async () => {
    const { plLogProb } = await import('../../policies/plackett-luce.js');
    for (const [updates, expected] of [[0, 1], [3, 0.625], [6, 0.5]] as const) {
      const agent = await build(0.5);
      // `updates` full rollouts and updates, then 5 steps of the next rollout (no update yet: the actor is the one
      // that sampled them).
      trainAgent(agent, makeVec('retention-v1', SHORT, { numEnvs: 2 }), { steps: updates * 8 + 5, seed: 3 });
      const b = (agent as unknown as Internal).buf;
      const N = 20;
      const K = 5;
      const S = 5 * 2;
      const U = b.user.length / 16;
      const F = b.cand.length / (16 * N);
      const logits = tf.tidy(() => agent.actor.scores(tf.tensor2d(b.user.subarray(0, S * U), [S, U]), tf.tensor2d(b.cand.subarray(0, S * N * F), [S * N, F]), N).dataSync() as Float32Array);
      const at = (T: number) => Array.from({ length: S }, (_, r) => plLogProb(logits.map((x) => x / T), r * N, N, b.slates, r * K, K));
      const stored = Array.from(b.logp.subarray(0, S));
      at(expected).forEach((x, r) => expect(stored[r]!).toBeCloseTo(x, 4));
      if (expected !== 1) expect(at(1).some((x, r) => Math.abs(x - stored[r]!) > 1e-2)).toBe(true);
      agent.dispose();
    }
  });

  it('the update scores each rollout at the temperature it was sampled at: a frozen policy sees ratio 1 (no KL, nothing clipped)', async () => {
    const agent = await build(0.3, 1e-12);
    const kls: number[] = [];
    const clips: number[] = [];
    trainAgent(agent, makeVec('retention-v1', SHORT, { numEnvs: 2 }), { steps: 48, seed: 3, onUpdate: (m) => (kls.push(m.approx_kl!), clips.push(m.clipfrac!)) });
    expect(kls.length).toBe(6);
    for (const k of kls) expect(Math.abs(k)).toBeLessThan(1e-6);
    expect(clips.every((c) => c === 0)).toBe(true);
    agent.dispose();
  });

  it("an exploring evaluation samples at the training schedule's temperature, whatever its own batch", async () => {
    const agent = await build(0.3);
    trainAgent(agent, makeVec('retention-v1', SHORT, { numEnvs: 2 }), { steps: 24, seed: 3 });
    const ret = (batch: number) => Array.from(evaluateAgent('retention-v1', SHORT, agent, { users: 6, seed: 9, explore: true, batch }).return);
    const two = ret(2);
    expect(ret(6)).toEqual(two);
    expect(ret(3)).toEqual(two);
    agent.dispose();
  });

  it('out of range is refused, naming the field', async () => {
    for (const v of [0, 1.5, -1]) await expect(makeAgent('ppo', { temperatureEnd: v, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/temperatureEnd/);
  });
});

describe("PPO's wide part with its own learning rate (wideLrScale) or by gradient descent (wideSgdLr)", () => {
  const SHORT = { worldSeed: 0, horizonDays: 3, maxSessionSteps: 10 };
  /** Every weight before and its change after one update (16 steps of 3 users: one rollout, one minibatch, one epoch). */
  const oneUpdate = async (extra: Record<string, unknown>) => {
    const agent = (await makeAgent('ppo', { numSteps: 16, numMinibatches: 1, updateEpochs: 1, hidden: 8, wide: true, itemFeedback: true, backend: 'cpu', ...extra }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })) as PpoAgent;
    const vars = [...agent.actor.params.vars, ...agent.critic.params.vars];
    const before = vars.map((v) => Array.from(v.dataSync()));
    trainAgent(agent, makeVec('retention-v1', SHORT, { numEnvs: 3 }), { steps: 16, seed: 3 });
    const delta = vars.map((v, i) => Array.from(v.dataSync()).map((x, j) => x - before[i]![j]!));
    const wideAt = vars.findIndex((v) => /actorWw/.test(v.name));
    agent.dispose();
    return { before, delta, wideAt };
  };

  it('one update moves the wide weights wideLrScale times as far and every other weight as with one rate', async () => {
    const one = await oneUpdate({ wideLrScale: 1 });
    const ten = await oneUpdate({ wideLrScale: 10 });
    const wideAt = one.wideAt;
    expect(wideAt).toBeGreaterThan(-1);
    expect(ten.before).toEqual(one.before);
    one.delta.forEach((d, i) => {
      if (i === wideAt) return;
      expect(ten.delta[i]).toEqual(d);
    });
    const w1 = one.delta[wideAt]!;
    const w10 = ten.delta[wideAt]!;
    expect(w1.some((x) => Math.abs(x) > 1e-5)).toBe(true);
    w1.forEach((x, j) => expect(w10[j]!).toBeCloseTo(10 * x, 6));
  });

  it('wideSgdLr: the wide weights step by gradient descent (linear in the rate, in the direction Adam takes first), every other weight as with Adam', async () => {
    const adam = await oneUpdate({});
    const r1 = await oneUpdate({ wideSgdLr: 0.05 });
    const r2 = await oneUpdate({ wideSgdLr: 0.1 });
    const w = adam.wideAt;
    adam.delta.forEach((d, i) => {
      if (i === w) return;
      expect(r1.delta[i]).toEqual(d);
    });
    const a = adam.delta[w]!;
    const d1 = r1.delta[w]!;
    const d2 = r2.delta[w]!;
    expect(d1.filter((x) => Math.abs(x) > 1e-7).length).toBeGreaterThan(3);
    d1.forEach((x, j) => {
      expect(d2[j]!).toBeCloseTo(2 * x, 6);
      if (Math.abs(x) > 1e-7) expect(Math.sign(x)).toBe(Math.sign(a[j]!));
    });
    // Not Adam's step: Adam's first step moves every weight with a gradient by about lr, whatever its size.
    const ratios = d1.filter((x) => Math.abs(x) > 1e-7).map((x) => Math.abs(x));
    expect(Math.max(...ratios) / Math.min(...ratios)).toBeGreaterThan(2);
  });

  it('is refused without the wide part, and out of range, naming the field', async () => {
    await expect(makeAgent('ppo', { wideLrScale: 10, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/^agent ppo: wideLrScale 10 sets the learning rate of the wide part: it needs wide true \(got false\)/);
    for (const v of [0, -1, 2e4]) await expect(makeAgent('ppo', { wide: true, wideLrScale: v, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/wideLrScale/);
    await expect(makeAgent('ppo', { wideSgdLr: 0.1, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/^agent ppo: wideSgdLr 0.1 trains the wide part by gradient descent: it needs wide true \(got false\)/);
    await expect(makeAgent('ppo', { wide: true, wideSgdLr: 0.1, wideLrScale: 3, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/wideSgdLr 0.1 takes the wide part out of Adam, so wideLrScale 3 \(its Adam rate\) would be ignored/);
    for (const v of [-0.1, 200]) await expect(makeAgent('ppo', { wide: true, wideSgdLr: v, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/wideSgdLr/);
  });

  it('wideColumns itemFeedback: the wide part reads only the item-statistic columns', async () => {
    const agent = (await makeAgent('ppo', { hidden: 8, wide: true, itemFeedback: true, wideColumns: 'itemFeedback', backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })) as PpoAgent;
    const F = makeVec('retention-v1', SHORT, { numEnvs: 1 }).layout.F;
    const scorer = agent.actor;
    expect(scorer.F).toBe(F + 4);
    expect(scorer.wideWeights!.shape).toEqual([4, 1]);
    // Random candidate rows; the wide part's share of each score is the score with weights w minus with zeros.
    const N = 6;
    const rng = streamFromString('wide-columns');
    const c = Float32Array.from({ length: N * scorer.F }, () => rng() * 4 - 2);
    const user = tf.tensor2d(Float32Array.from({ length: scorer.U }, () => rng()), [1, scorer.U]);
    const cands = tf.tensor2d(c, [N, scorer.F]);
    const w = [0.5, -1, 2, 3];
    const scores = () => Array.from(scorer.scores(user, cands, N).dataSync());
    const deep = scores();
    scorer.wideWeights!.assign(tf.tensor2d(w, [4, 1]));
    const withWide = scores();
    for (let i = 0; i < N; i++) {
      const expected = w.reduce((sum, wj, j) => sum + wj * c[i * scorer.F + F + j]!, 0);
      expect(withWide[i]! - deep[i]!).toBeCloseTo(expected, 4);
    }
    user.dispose();
    cands.dispose();
    agent.dispose();
  });

  it('wideColumns itemFeedback with a larger rate moves only the four wide weights further', async () => {
    const one = await oneUpdate({ wideColumns: 'itemFeedback' });
    const ten = await oneUpdate({ wideColumns: 'itemFeedback', wideLrScale: 10 });
    expect(one.delta[one.wideAt]!.length).toBe(4);
    one.delta.forEach((d, i) => {
      if (i !== one.wideAt) expect(ten.delta[i]).toEqual(d);
    });
    one.delta[one.wideAt]!.forEach((x, j) => expect(ten.delta[one.wideAt]![j]!).toBeCloseTo(10 * x, 6));
  });

  it('wideColumns itemFeedback is refused without the wide part or the item columns, naming the field', async () => {
    await expect(makeAgent('ppo', { itemFeedback: true, wideColumns: 'itemFeedback', backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/^agent ppo: wideColumns itemFeedback restricts the wide part to the item-statistic columns: it needs wide true and itemFeedback true \(got wide false, itemFeedback true\)/);
    await expect(makeAgent('ppo', { wide: true, wideColumns: 'itemFeedback', backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/got wide true, itemFeedback false/);
    await expect(makeAgent('ppo', { wide: true, itemFeedback: true, wideColumns: 'content', backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 5 })).rejects.toThrow(/wideColumns/);
  });
});
