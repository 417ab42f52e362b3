import { describe, expect, it } from 'vitest';
import { make, makeVec } from '../../envs/registry.js';
import { IEV_TOPIC_QUALITY_MEANS } from '../../envs/interest-evolution.js';
import { userStream } from '../../envs/rng.js';
import { countZ, meanOf, sdOf } from '../helpers.js';
import { makeAgent } from '../../agents/index.js';
import { evaluateAgent } from '../../experiments/evaluate.js';

interface Hidden {
  interests: number[];
  budget: number;
  quality: number[];
  choiceScore: number[];
}

function topicsOf(cands: Float32Array, N: number): number[] {
  return Array.from({ length: N }, (_, i) => cands.subarray(i * 20, (i + 1) * 20).indexOf(1));
}

describe('interest-evolution-v0 matches RecSim', () => {
  it('topic quality means are concat(linspace(-3, 0, 14), linspace(0, 3, 6))', () => {
    expect(IEV_TOPIC_QUALITY_MEANS.length).toBe(20);
    expect(IEV_TOPIC_QUALITY_MEANS[0]).toBe(-3);
    expect(IEV_TOPIC_QUALITY_MEANS[13]).toBeCloseTo(0, 12);
    expect(IEV_TOPIC_QUALITY_MEANS[14]).toBe(0);
    expect(IEV_TOPIC_QUALITY_MEANS[16]).toBeCloseTo(1.2, 12);
    expect(IEV_TOPIC_QUALITY_MEANS[19]).toBe(3);
    expect(meanOf(IEV_TOPIC_QUALITY_MEANS)).toBeCloseTo(-0.6, 12);
  });

  it('documents: topics uniform, quality ~ Normal(mean_topic, 0.1), interests ~ Uniform(-1, 1)', () => {
    const env = makeVec('interest-evolution-v0', {}, { numEnvs: 4000, autoresetMode: 'off' });
    env.reset({ seed: 3 });
    const h = env.hidden();
    const N = 10;
    const topicCounts = new Array(20).fill(0);
    const resid: number[] = [];
    const q = h.quality!.data;
    const cands = env.sim.candidates;
    for (let s = 0; s < 4000; s++) {
      const topics = topicsOf(cands.subarray(s * N * 20, (s + 1) * N * 20), N);
      for (let i = 0; i < N; i++) {
        topicCounts[topics[i]!]++;
        resid.push(q[s * N + i]! - IEV_TOPIC_QUALITY_MEANS[topics[i]!]!);
      }
    }
    let chi2 = 0;
    for (const c of topicCounts) chi2 += (c - 2000) ** 2 / 2000;
    expect(chi2).toBeLessThan(43.82); // chi-square(19), p = 0.001
    expect(Math.abs(meanOf(resid))).toBeLessThan(4 * (0.1 / Math.sqrt(40000)));
    expect(sdOf(resid)).toBeGreaterThan(0.097);
    expect(sdOf(resid)).toBeLessThan(0.103);
    const u = Array.from(h.interests!.data);
    expect(Math.abs(meanOf(u))).toBeLessThan(0.01);
    expect(sdOf(u)).toBeCloseTo(1 / Math.sqrt(3), 2);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(1);
  });

  it('click frequencies match the multinomial proportional choice model within sampling error', () => {
    // One step for each of 20,000 users with the slate [0, 1, 2]; compare the observed counts of
    // (click position 0, 1, 2, no click) with the sums of the closed-form probabilities.
    const users = 20000;
    const env = makeVec('interest-evolution-v0', { slateSize: 3 }, { numEnvs: users, autoresetMode: 'off' });
    env.reset({ seed: 17 });
    const sc = Float64Array.from(env.hidden().choiceScore!.data);
    const probs: number[][] = [[], [], [], []];
    for (let s = 0; s < users; s++) {
      const w = [sc[s * 10]!, sc[s * 10 + 1]!, sc[s * 10 + 2]!];
      const tot = w[0]! + w[1]! + w[2]! + 2;
      for (let j = 0; j < 3; j++) probs[j]!.push(w[j]! / tot);
      probs[3]!.push(2 / tot);
    }
    const acts = new Int32Array(users * 3);
    for (let s = 0; s < users; s++) acts.set([0, 1, 2], s * 3);
    const r = env.step(acts);
    const counts = [0, 0, 0, 0];
    for (let s = 0; s < users; s++) {
      const o = s * env.layout.U + 20;
      let c = 3;
      for (let j = 0; j < 3; j++) if (r.observation.user[o + 4 * j] === 1) c = j;
      counts[c]!++;
      // reward is the watch time (4 minutes) exactly on a click
      expect(r.rewards[s]).toBe(c === 3 ? 0 : 4);
    }
    for (let j = 0; j < 4; j++) expect(Math.abs(countZ(counts[j]!, probs[j]!))).toBeLessThan(4);
  });

  it('interest drift and budget updates follow the equations (hand-computed from the user streams)', () => {
    const seed = 8;
    let checkedClick = false;
    let checkedNoClick = false;
    for (let user = 0; user < 40 && !(checkedClick && checkedNoClick); user++) {
      const env = make('interest-evolution-v0');
      const r0 = env.reset({ seed, options: { userIndex: user } });
      const h0 = r0.info.hidden as Hidden;
      const topics = topicsOf(r0.observation.candidates, 10);
      const r1 = env.step([3, 7]);
      const h1 = r1.info.hidden as Hidden;
      const flip = userStream(seed, user, 'transition')();
      const clicked = r1.info.clickedPosition as number;
      if (clicked >= 0) {
        const cand = clicked === 0 ? 3 : 7;
        const c = topics[cand]!;
        const u = h0.interests[c]!;
        const delta = 0.3 * (1 - Math.abs(u)) * (1 - u);
        const expected = Math.max(-1, Math.min(1, flip < (u + 1) / 2 ? u + delta : u - delta));
        expect(h1.interests[c]).toBe(expected);
        for (let t = 0; t < 20; t++) if (t !== c) expect(h1.interests[t]).toBe(h0.interests[t]);
        expect(r1.reward).toBe(4);
        expect(h1.budget).toBeCloseTo(200 - 4 + (0.9 / 3.4) * 4 * h0.quality[cand]!, 12);
        // The response block reveals quality and topic of both slate documents.
        const o = 20 + 4 * clicked;
        expect(r1.observation.user[o]).toBe(1);
        expect(r1.observation.user[o + 1]).toBe(4);
        expect(r1.observation.user[o + 2]).toBe(Math.fround(h0.quality[cand]!));
        expect(r1.observation.user[o + 3]).toBe(c);
        checkedClick = true;
      } else {
        expect(h1.interests).toEqual(h0.interests);
        expect(h1.budget).toBe(199.5);
        expect(r1.reward).toBe(0);
        checkedNoClick = true;
      }
    }
    expect(checkedClick && checkedNoClick).toBe(true);
  });

  it('watch time is cut by the remaining budget and the episode terminates at budget <= 0', () => {
    const env = make('interest-evolution-v0', { timeBudget: 5, stepPenalty: 0.5, qualityFactor: 0 });
    let sawCut = false;
    for (let user = 0; user < 30; user++) {
      env.reset({ seed: 2, options: { userIndex: user } });
      let budget = 5;
      for (;;) {
        const r = env.step([0, 1]);
        const clicked = r.reward > 0;
        if (clicked) {
          expect(r.reward).toBe(Math.min(budget, 4));
          if (budget < 4) sawCut = true;
          budget -= r.reward;
        } else budget -= 0.5;
        expect((r.info.hidden as Hidden).budget).toBeCloseTo(budget, 12);
        if (r.terminated) {
          expect(budget).toBeLessThanOrEqual(0);
          break;
        }
        expect(budget).toBeGreaterThan(0);
        expect(r.truncated).toBe(false);
      }
    }
    expect(sawCut).toBe(true);
  });

  it('hideInterests removes the interests from the observation but not from info.hidden', () => {
    const env = make('interest-evolution-v0', { hideInterests: true });
    const r = env.reset({ seed: 1 });
    expect(env.layout.U).toBe(8);
    expect(r.observation.user.length).toBe(8);
    expect((r.info.hidden as Hidden).interests.length).toBe(20);
  });

  it('the candidate stream uses the documented Box-Muller draws', () => {
    const env = make('interest-evolution-v0', { numCandidates: 2 });
    const r = env.reset({ seed: 4 });
    const rng = userStream(4, 0, 'candidates');
    const c1 = Math.floor(rng() * 20);
    const c2 = Math.floor(rng() * 20);
    expect(topicsOf(r.observation.candidates, 2)).toEqual([c1, c2]);
    const q = (r.info.hidden as Hidden).quality;
    const rad = Math.sqrt(-2 * Math.log(1 - rng()));
    const ang = 2 * Math.PI * rng();
    expect(q[0]).toBe(IEV_TOPIC_QUALITY_MEANS[c1]! + 0.1 * rad * Math.cos(ang));
    expect(q[1]).toBe(IEV_TOPIC_QUALITY_MEANS[c2]! + 0.1 * rad * Math.sin(ang));
  });
});

describe('budget-oracle, the ceiling of interest-evolution-v0', () => {
  const envParams = { numCandidates: 10, slateSize: 3 };
  const evalOn = async (id: string, params: Record<string, unknown> = {}) => {
    const a = await makeAgent(id, params, { envId: 'interest-evolution-v0', envParams, seed: 0 });
    return evaluateAgent('interest-evolution-v0', envParams, a, { users: 200, seed: 31 }).return;
  };

  it('with a budget price of 0 it is the myopic oracle; at its tuned price it beats it by far on the same users', async () => {
    const myopic = await evalOn('myopic-oracle');
    expect(Array.from(await evalOn('budget-oracle', { budgetPrice: 0 }))).toEqual(Array.from(myopic));
    const ceiling = await evalOn('budget-oracle');
    const diff = Array.from(ceiling, (x, i) => x - myopic[i]!);
    // Paired over 200 users: the mean gain is far beyond its sampling error (tuned on population 777: 279.5 vs 167.9).
    expect(meanOf(diff) - 4 * (sdOf(diff) / Math.sqrt(diff.length))).toBeGreaterThan(50);
  });

  it('runs only on interest-evolution-v0', async () => {
    await expect(makeAgent('budget-oracle', {}, { envId: 'retention-v1', seed: 0 })).rejects.toThrow(/agent budget-oracle cannot run on retention-v1: it is the ceiling of interest-evolution-v0/);
  });
});

describe('revealed-quality, the observable heuristic of interest-evolution-v0', () => {
  it("ranks candidates by the mean quality the user's responses revealed for their topic, unseen topics at the prior", async () => {
    const env = makeVec('interest-evolution-v0', { numCandidates: 4, slateSize: 2 }, { numEnvs: 1 });
    const { U, N, F } = env.layout;
    const a = await makeAgent('revealed-quality', { prior: 0.5 }, { envId: 'interest-evolution-v0', envParams: { numCandidates: 4, slateSize: 2 }, seed: 0 });
    const ctx = a.context(false);
    const cands = new Float32Array(N * F);
    [3, 7, 9, 12].forEach((t, i) => (cands[i * F + t] = 1));
    const obs = (resp: number[][], first: number) => {
      const user = new Float32Array(U);
      resp.forEach((r, j) => user.set(r, 20 + 4 * j));
      return { B: 1, user, candidates: cands, itemIds: null, active: Uint8Array.of(1), userIndex: Float64Array.of(4), firstStep: Uint8Array.of(first) };
    };
    // First step: nothing revealed, every topic at the prior: the first two candidates (ties keep order).
    expect(Array.from(a.act(obs([[0, 0, 0, -1], [0, 0, 0, -1]], 1), ctx))).toEqual([0, 1]);
    // Topic 7 revealed at -1, topic 9 at 2 and then 1 (mean 1.5): 9 first, then the unseen ones at 0.5.
    expect(Array.from(a.act(obs([[1, 4, -1, 7], [0, 0, 2, 9]], 0), ctx))).toEqual([2, 0]);
    expect(Array.from(a.act(obs([[0, 0, 1, 9], [0, 0, -3, 3]], 0), ctx))).toEqual([2, 3]);
    // A new user starts from nothing.
    expect(Array.from(a.act(obs([[0, 0, 0, -1], [0, 0, 0, -1]], 1), ctx))).toEqual([0, 1]);
  });

  it('beats random by far on the same users (N 10, K 3)', async () => {
    const envParams = { numCandidates: 10, slateSize: 3 };
    const ret = async (id: string) => evaluateAgent('interest-evolution-v0', envParams, await makeAgent(id, {}, { envId: 'interest-evolution-v0', envParams, seed: 0 }), { users: 200, seed: 31 }).return;
    const r = await ret('random');
    const h = await ret('revealed-quality');
    const diff = Array.from(h, (x, i) => x - r[i]!);
    expect(meanOf(diff) - 4 * (sdOf(diff) / Math.sqrt(diff.length))).toBeGreaterThan(50);
  });
});
