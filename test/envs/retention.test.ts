import { describe, expect, it } from 'vitest';
import { make, makeVec } from '../../envs/registry.js';
import { evaluateAgent } from '../../experiments/evaluate.js';
import { makeAgent } from '../../agents/index.js';

const agent = (id: string, seed = 1) => makeAgent(id, {}, { envId: 'retention-v0', seed });
const randomAgent = await agent('random');
const myopicAgent = await agent('myopic-click');
const balancedAgent = await agent('balanced');
import { countZ, meanCi, meanOf } from '../helpers.js';

const USERS = 1500;

describe('retention-v0 calibration (random policy, 1,500 users)', () => {
  const o = evaluateAgent('retention-v0', {}, randomAgent, { users: USERS, seed: 2024 });

  it('mean session length is between 5 and 30 steps', () => {
    const m = meanOf(o.sessionLengths);
    expect(m).toBeGreaterThan(5);
    expect(m).toBeLessThan(30);
  });

  it('mean return gap is between 1 and 4 days', () => {
    const m = meanOf(o.returnGaps);
    expect(m).toBeGreaterThan(1);
    expect(m).toBeLessThan(4);
  });

  it('30-day churn is between 20% and 60%', () => {
    const m = meanOf(o.churned);
    expect(m).toBeGreaterThan(0.2);
    expect(m).toBeLessThan(0.6);
  });

  it('every user has at least one active day and at most 30', () => {
    expect(Math.min(...o.activeDays)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...o.activeDays)).toBeLessThanOrEqual(30);
  });
});

describe('retention-v0 poses the long-term trade-off', () => {
  // Paired users: both policies face the same users and exogenous draws.
  const myo = evaluateAgent('retention-v0', {}, myopicAgent, { users: USERS, seed: 99 });
  const bal = evaluateAgent('retention-v0', {}, balancedAgent, { users: USERS, seed: 99 });

  it('evaluates the same users', () => {
    expect(Array.from(myo.userIndex)).toEqual(Array.from(bal.userIndex));
  });

  it('the myopic click maximizer gets a higher first-session CTR (95% CI of the paired difference above 0)', () => {
    const d = meanCi(Array.from(myo.firstSessionCtr, (v, i) => v - bal.firstSessionCtr[i]!));
    expect(d.lo).toBeGreaterThan(0);
  });

  it('but at least 15% less 30-day lifetime engagement than the balanced policy (95% CI)', () => {
    // myopic < 0.85 x balanced  <=>  mean(0.85 bal_u - myo_u) > 0; paired over users.
    const d = meanCi(Array.from(bal.return, (v, i) => 0.85 * v - myo.return[i]!));
    expect(d.lo).toBeGreaterThan(0);
  });

  it('and more churn and fewer active days', () => {
    expect(meanCi(Array.from(myo.churned, (v, i) => v - bal.churned[i]!)).lo).toBeGreaterThan(0);
    expect(meanCi(Array.from(bal.activeDays, (v, i) => v - myo.activeDays[i]!)).lo).toBeGreaterThan(0);
  });
});

describe('retention-v0 mechanisms', () => {
  it('clicks follow the multinomial logit over the slate plus the no-click option', () => {
    const users = 20000;
    const env = makeVec('retention-v0', {}, { numEnvs: users, autoresetMode: 'off' });
    env.reset({ seed: 5 });
    const h = env.hidden(['choiceScore']);
    const sc = Float64Array.from(h.choiceScore!.data);
    const v0 = h.noClickScore!.data[0]!;
    const K = 5;
    const probs: number[][] = Array.from({ length: K + 1 }, () => []);
    for (let s = 0; s < users; s++) {
      let tot = v0;
      for (let j = 0; j < K; j++) tot += sc[s * 20 + j]!;
      for (let j = 0; j < K; j++) probs[j]!.push(sc[s * 20 + j]! / tot);
      probs[K]!.push(v0 / tot);
    }
    const acts = new Int32Array(users * K);
    for (let s = 0; s < users; s++) acts.set([0, 1, 2, 3, 4], s * K);
    const ids = Int32Array.from(env.sim.itemIds!);
    const r = env.step(acts);
    const counts = new Array(K + 1).fill(0);
    const U = env.layout.U;
    for (let s = 0; s < users; s++) {
      const info = env.infoFor(s);
      const item = info.clickedItem as number;
      const pos = item < 0 ? K : Array.from(ids.subarray(s * 20, s * 20 + K)).indexOf(item);
      counts[pos]++;
      expect(r.observation.user[s * U + 5]).toBe(item < 0 ? 0 : 1);
    }
    for (let j = 0; j <= K; j++) expect(Math.abs(countZ(counts[j], probs[j]!))).toBeLessThan(4);
  });

  it('with churn off nobody churns; with satisfaction off satisfaction never moves', async () => {
    const noChurn = evaluateAgent('retention-v0', { churn: false }, await makeAgent('myopic-click', {}, { envId: 'retention-v0', envParams: { churn: false }, seed: 1 }), { users: 300, seed: 1 });
    expect(Math.max(...noChurn.churned)).toBe(0);
    const env = make('retention-v0', { satisfaction: false });
    const r0 = env.reset({ seed: 3 });
    const s0 = (r0.info.hidden as { satisfaction: number }).satisfaction;
    for (let t = 0; t < 100; t++) {
      const r = env.step([0, 1, 2, 3, 4]);
      expect((r.info.hidden as { satisfaction: number }).satisfaction).toBe(s0);
      if (r.terminated || r.truncated) break;
    }
  });

  it('boredom rises with consumption of a topic and decays without it', () => {
    const env = make('retention-v0');
    let r = env.reset({ seed: 8 });
    let checked = 0;
    for (let t = 0; t < 200 && checked < 20; t++) {
      const before = (r.info.hidden as { boredom: number[] }).boredom;
      const s = env.step([0, 1, 2, 3, 4]);
      const after = (s.info.hidden as { boredom: number[] }).boredom;
      if (s.terminated || s.truncated) break;
      if (!(s.info.sessionEnded as boolean)) {
        const item = s.info.clickedItem as number;
        const topic = item >= 0 ? s.observation.user[4] : -1;
        for (let tp = 0; tp < 10; tp++) {
          const expected = 0.9 * before[tp]! + (tp === topic ? 0.4 : 0);
          expect(after[tp]).toBeCloseTo(expected, 12);
        }
        checked++;
      }
      r = s;
    }
    expect(checked).toBeGreaterThan(5);
  });

  it('the trend shift moves interests once the population passes the shift day', async () => {
    const base = evaluateAgent('retention-v0', { churn: false }, await agent('random', 3), { users: 200, seed: 4 });
    const shifted = evaluateAgent('retention-v0', { churn: false, trendShiftDay: 10, trendShiftMagnitude: 1.5 }, await agent('random', 3), { users: 200, seed: 4 });
    // Same users, same policy: only the shift differs, and it changes outcomes.
    expect(Array.from(shifted.return)).not.toEqual(Array.from(base.return));
    const env = make('retention-v0', { churn: false, trendShiftDay: 0.5, trendShiftMagnitude: 2 });
    let r = env.reset({ seed: 4 });
    const theta0 = (r.info.hidden as { interests: number[] }).interests;
    for (let t = 0; t < 500; t++) {
      const s = env.step([0, 1, 2, 3, 4]);
      if (s.truncated || s.terminated) break;
      if ((s.info.day as number) >= 0.5) {
        const theta1 = (s.info.hidden as { interests: number[] }).interests;
        // After a +-2 shift most interests sit on a bound.
        expect(theta1.filter((v) => Math.abs(v) === 1).length).toBeGreaterThan(theta0.filter((v) => Math.abs(v) === 1).length);
        return;
      }
      r = s;
    }
    throw new Error('the user never reached day 0.5');
  });

  it('the retention reward pays 1 per new active day; the mix adds it to the minutes', () => {
    const run = (reward: string) => {
      const env = make('retention-v0', { reward });
      env.reset({ seed: 12 });
      let total = 0;
      let minutes = 0;
      let newDays = 0;
      for (;;) {
        const r = env.step([4, 3, 2, 1, 0]);
        total += r.reward;
        minutes += r.info.watchMinutes as number;
        if (r.info.newActiveDay) newDays++;
        if (r.terminated || r.truncated) return { total, minutes, newDays, activeDays: r.info.activeDays as number };
      }
    };
    const ret = run('retention');
    expect(ret.total).toBe(ret.newDays);
    expect(ret.activeDays).toBe(ret.newDays + 1);
    const mix = run('mix');
    expect(mix.total).toBeCloseTo(mix.minutes + 10 * mix.newDays, 9);
    const eng = run('engagement');
    expect(eng.total).toBeCloseTo(eng.minutes, 9);
  });

  it('the observation carries day, session, step, gap and the interaction history', () => {
    const env = make('retention-v0');
    const r0 = env.reset({ seed: 1 });
    expect(Array.from(r0.observation.user.subarray(0, 7))).toEqual([0, 0, 0, 0, -1, 0, 0]);
    expect(r0.observation.itemIds!.length).toBe(20);
    let r = env.step([0, 1, 2, 3, 4]);
    if (!r.info.sessionEnded) expect(r.observation.user[2]).toBe(1);
    expect(r.observation.user[6]).toBe(Math.fround(r.info.watchFraction as number));
    for (let t = 0; t < 300 && !r.info.sessionEnded; t++) r = env.step([0, 1, 2, 3, 4]);
    if (!r.terminated && !r.truncated) {
      expect(r.observation.user[1]).toBe(1);
      expect(r.observation.user[2]).toBe(0);
      expect(r.observation.user[3]).toBe(Math.fround(r.info.returnGap as number));
      expect(r.observation.user[0]).toBe(Math.fround(r.info.day as number));
    }
  });
});

describe('catalogue switches', () => {
  it('reseeding retention-v0 with another population (another catalogue) leaves exactly one topic per candidate', () => {
    const env = make('retention-v0');
    env.reset({ seed: 1 });
    const r = env.reset({ seed: 2 });
    const { N, F } = env.layout;
    for (let i = 0; i < N; i++) {
      let ones = 0;
      for (let t = 0; t < 10; t++) ones += r.observation.candidates[i * F + t]!;
      expect(ones).toBe(1);
    }
  });
});
