import { describe, expect, it } from 'vitest';
import { make, makeVec } from '../../envs/registry.js';
import { normal, userStream } from '../../envs/rng.js';
import { meanCi } from '../helpers.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('long-term-satisfaction-v0 matches RecSim choc/kale', () => {
  it('engagement and the NPE transition follow the equations (hand-computed from the user streams)', () => {
    const seed = 5;
    const user = 3;
    const beta = 0.7;
    const tau = 0.3;
    const env = make('long-term-satisfaction-v0', { sensitivity: tau });
    const r0 = env.reset({ seed, options: { userIndex: user } });
    let npe = (userStream(seed, user, 'init')() - 0.5) / (1 - beta);
    expect((r0.info.hidden as { npe: number }).npe).toBe(npe);
    const choice = userStream(seed, user, 'choice');
    const trans = userStream(seed, user, 'transition');
    const candStream = userStream(seed, user, 'candidates');
    const drawCandidates = () => Array.from({ length: 10 }, () => candStream());
    let cands = drawCandidates();
    expect(Array.from(r0.observation.candidates)).toEqual(cands.map(Math.fround));
    for (let t = 0; t < 60; t++) {
      const pick = t % 2 === 0 ? 0 : 5;
      const c = cands[pick]!;
      const sat = sigmoid(tau * npe);
      const e = Math.exp(sat * (5 * c + 4 * (1 - c)) + (c + (1 - c)) * normal(choice));
      npe = beta * npe - 2 * (c - 0.5) + 0.05 * normal(trans);
      const r = env.step([pick, pick === 0 ? 1 : 0]);
      expect(r.reward).toBe(e);
      expect((r.info.hidden as { npe: number }).npe).toBe(npe);
      expect(r.observation.user[0]).toBe(1);
      expect(r.observation.user[1]).toBe(Math.fround(Math.min(100, e)));
      expect(r.terminated).toBe(t === 59);
      cands = drawCandidates();
      expect(Array.from(r.observation.candidates)).toEqual(cands.map(Math.fround));
    }
  });

  it('NPE_0 is Uniform(-1/(2(1-beta)), 1/(2(1-beta)))', () => {
    const env = makeVec('long-term-satisfaction-v0', {}, { numEnvs: 5000, autoresetMode: 'off' });
    env.reset({ seed: 1 });
    const npe = Array.from(env.hidden().npe!.data);
    const lim = 0.5 / 0.3;
    expect(Math.min(...npe)).toBeGreaterThanOrEqual(-lim);
    expect(Math.max(...npe)).toBeLessThanOrEqual(lim);
    const ci = meanCi(npe);
    expect(ci.lo).toBeLessThan(0);
    expect(ci.hi).toBeGreaterThan(0);
  });

  it('the hidden steps left count down from timeBudget to 1 over the episode (the horizon lts-oracle plans over)', () => {
    const env = makeVec('long-term-satisfaction-v0', { timeBudget: 4, slateSize: 1 }, { numEnvs: 2, autoresetMode: 'off' });
    env.reset({ seed: 3 });
    const seen: number[] = [];
    for (let t = 0; t < 4; t++) {
      seen.push(env.hidden().stepsLeft!.data[0]!);
      env.step(new Int32Array([0, 0]));
    }
    expect(seen).toEqual([4, 3, 2, 1]);
  });

  function lifetime(tau: number, pickChoc: boolean): number[] {
    const users = 400;
    const env = makeVec('long-term-satisfaction-v0', { sensitivity: tau, slateSize: 1 }, { numEnvs: users, autoresetMode: 'off' });
    const r0 = env.reset({ seed: 21 });
    const acts = new Int32Array(users);
    let obs = r0.observation;
    for (;;) {
      for (let s = 0; s < users; s++) {
        let best = 0;
        for (let i = 1; i < 10; i++) {
          const c = obs.candidates[s * 10 + i]!;
          if (pickChoc ? c > obs.candidates[s * 10 + best]! : c < obs.candidates[s * 10 + best]!) best = i;
        }
        acts[s] = best;
      }
      const r = env.step(acts);
      obs = r.observation;
      if (r.allDone) return Array.from(r.final.stats.return!);
    }
  }

  it('at the default tau myopia (most clickbait) wins; at tau = 0.3 the kale policy wins (paired users)', () => {
    const chocD = lifetime(0.01, true);
    const kaleD = lifetime(0.01, false);
    const dDefault = meanCi(chocD.map((v, i) => v - kaleD[i]!));
    expect(dDefault.lo).toBeGreaterThan(0);
    const chocH = lifetime(0.3, true);
    const kaleH = lifetime(0.3, false);
    const dHigh = meanCi(kaleH.map((v, i) => v - chocH[i]!));
    expect(dHigh.lo).toBeGreaterThan(0);
  });
});
