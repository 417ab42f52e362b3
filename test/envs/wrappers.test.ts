import { describe, expect, it } from 'vitest';
import { make } from '../../envs/registry.js';
import { RecordEpisodeStatistics, TimeLimit } from '../../envs/wrappers.js';
import { normal, restoreStream, statefulStream, streamFromString, userStream } from '../../envs/rng.js';
import { meanOf, sdOf } from '../helpers.js';

describe('wrappers', () => {
  it('TimeLimit truncates at the limit and resets its counter', () => {
    const env = new TimeLimit(make('boredom-mdp-v0', { leaveMax: 0.001, leaveMin: 0.001 }), 10);
    for (let ep = 0; ep < 3; ep++) {
      env.reset({ seed: ep });
      let n = 0;
      for (;;) {
        const r = env.step([n % 3]);
        n++;
        if (r.terminated) break;
        if (r.truncated) {
          expect(n).toBe(10);
          break;
        }
      }
    }
    expect(() => new TimeLimit(make('boredom-mdp-v0'), 0)).toThrow(/maxEpisodeSteps must be a positive integer/);
  });

  it('TimeLimit enforces the episode state machine: after its truncation, step() throws ResetNeeded until reset()', async () => {
    const { ResetNeeded } = await import('../../envs/errors.js');
    const env = make('retention-v0', {}, { maxEpisodeSteps: 1 });
    env.reset({ seed: 1 });
    expect(env.step([0, 1, 2, 3, 4]).truncated).toBe(true);
    expect(() => env.step([0, 1, 2, 3, 4])).toThrow(ResetNeeded);
    expect(() => env.step([0, 1, 2, 3, 4])).toThrow(/retention-v0: step\(\) called after the episode ended .*call reset\(\) first/);
    env.reset();
    expect(env.step([0, 1, 2, 3, 4]).truncated).toBe(true);
  });

  it('RecordEpisodeStatistics reports return and length, and sessions / active days / churn for multi-session envs', () => {
    const env = new RecordEpisodeStatistics(make('retention-v0'));
    env.reset({ seed: 2 });
    let ret = 0;
    let len = 0;
    for (;;) {
      const r = env.step([0, 1, 2, 3, 4]);
      ret += r.reward;
      len++;
      if (r.terminated || r.truncated) {
        const ep = r.info.episode as Record<string, unknown>;
        expect(ep.return).toBeCloseTo(ret, 9);
        expect(ep.length).toBe(len);
        expect(ep.activeDays).toBe(r.info.activeDays);
        expect(ep.sessions).toBe(r.info.sessions);
        expect(ep.churned).toBe(r.terminated);
        break;
      }
      expect(r.info.episode).toBeUndefined();
    }
    expect(env.episodes.length).toBe(1);
    const single = new RecordEpisodeStatistics(make('long-term-satisfaction-v0'));
    single.reset({ seed: 1 });
    let r;
    do r = single.step([0, 1]);
    while (!r.terminated);
    expect(r.info.episode).toEqual({ return: expect.any(Number), length: 60 });
  });
});

describe('random streams', () => {
  it('per-user streams are distinct per user, purpose and population, and reproducible', () => {
    const a = userStream(1, 0, 'choice')();
    expect(userStream(1, 0, 'choice')()).toBe(a);
    expect(userStream(1, 1, 'choice')()).not.toBe(a);
    expect(userStream(1, 0, 'transition')()).not.toBe(a);
    expect(userStream(2, 0, 'choice')()).not.toBe(a);
    // The default seedrandom generator would map population 1 and 11 to the same stream; alea does not.
    expect(userStream(11, 0, 'choice')()).not.toBe(userStream(1, 0, 'choice')());
  });

  it('a saved stream state resumes exactly', () => {
    const s = statefulStream('resume');
    for (let i = 0; i < 10; i++) s();
    const st = s.state();
    const expected = [s(), s(), s()];
    const r = restoreStream(st);
    expect([r(), r(), r()]).toEqual(expected);
  });

  it('normal() has mean 0 and sd 1', () => {
    const rng = streamFromString('normal');
    const x = Array.from({ length: 40000 }, () => normal(rng));
    expect(Math.abs(meanOf(x))).toBeLessThan(4 / Math.sqrt(40000));
    expect(Math.abs(sdOf(x) - 1)).toBeLessThan(0.015);
  });
});
