import { describe, expect, it } from 'vitest';
import { checkEnv } from '../../envs/check-env.js';
import { listEnvs, make } from '../../envs/registry.js';
import { type Env, SimEnv } from '../../envs/core.js';
import { Wrapper } from '../../envs/wrappers.js';

describe('checkEnv over the whole registry', () => {
  for (const { id } of listEnvs()) {
    it(`${id} passes every check`, () => {
      const report = checkEnv(() => make(id), { steps: 400 });
      expect(report.passed.length).toBeGreaterThanOrEqual(7);
    });
  }
});

describe('checkEnv catches broken envs', () => {
  it('an env that calls Math.random fails', () => {
    class Noisy extends Wrapper {
      override step(a: ArrayLike<number>) {
        const r = super.step(a);
        r.reward += Math.random();
        return r;
      }
    }
    expect(() => checkEnv(() => new Noisy(make('boredom-mdp-v0')))).toThrow(/Math.random was called/);
  });

  it('an env that returns the same observation array every step fails', () => {
    class Aliasing extends Wrapper {
      private last: Float32Array | null = null;
      override step(a: ArrayLike<number>) {
        const r = super.step(a);
        if (this.last) {
          this.last.set(r.observation.user);
          r.observation.user = this.last;
        } else this.last = r.observation.user;
        return r;
      }
    }
    expect(() => checkEnv(() => new Aliasing(make('long-term-satisfaction-v0')))).toThrow(/aliased/);
  });

  it('an env whose info holds a typed array fails', () => {
    class TypedInfo extends Wrapper {
      override step(a: ArrayLike<number>) {
        const r = super.step(a);
        r.info = { ...r.info, bad: new Float32Array(2) };
        return r;
      }
    }
    expect(() => checkEnv(() => new TypedInfo(make('boredom-mdp-v0')))).toThrow(/typed array/);
  });

  it('an env that ignores the seed fails the determinism check', () => {
    let n = 0;
    class Unseeded extends Wrapper {
      override step(a: ArrayLike<number>) {
        const r = super.step(a);
        r.reward += n++;
        return r;
      }
    }
    const mk = (): Env => new Unseeded(make('boredom-mdp-v0'));
    expect(() => checkEnv(mk)).toThrow(/rollout differs/);
    expect(make('boredom-mdp-v0').unwrapped).toBeInstanceOf(SimEnv);
  });
});

describe('the checker refuses non-finite observations', () => {
  it('an env whose observation holds Infinity (inside an unbounded Box) fails, naming the step and the column', async () => {
    const { checkEnv } = await import('../../envs/check-env.js');
    const { make } = await import('../../envs/registry.js');
    const base = () => make('retention-v0');
    const poisoned = () => {
      const env = base();
      const step = env.step.bind(env);
      let t = 0;
      env.step = (a) => {
        const r = step(a);
        if (++t === 3) r.observation.user[19] = Infinity; // topicShows[0]: its Box is unbounded above
        return r;
      };
      return env;
    };
    expect(() => checkEnv(poisoned, { steps: 20 })).toThrow(/step 2 observation\.user\[19\] is Infinity \(observations must be finite\)/);
  });
});
