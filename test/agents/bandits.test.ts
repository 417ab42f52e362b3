import { describe, expect, it } from 'vitest';
import { makeAgent } from '../../agents/index.js';
import { sampleBeta } from '../../agents/bandits.js';
import { streamFromString } from '../../envs/rng.js';
import { meanOf } from '../helpers.js';

describe('bandit building blocks', () => {
  it('Beta sampling has the right mean and variance', () => {
    const rng = streamFromString('beta');
    const x = Array.from({ length: 20000 }, () => sampleBeta(rng, 2, 5));
    const m = meanOf(x);
    expect(m).toBeCloseTo(2 / 7, 2);
    const v = meanOf(x.map((y) => (y - m) ** 2));
    expect(v).toBeCloseTo((2 * 5) / (49 * 8), 3);
    const small = Array.from({ length: 20000 }, () => sampleBeta(rng, 0.5, 0.5));
    expect(meanOf(small)).toBeCloseTo(0.5, 1);
  });

  it('topic arms need a topic feature; item arms need item ids', async () => {
    await expect(makeAgent('ucb1', {}, { envId: 'long-term-satisfaction-v0', seed: 0 })).rejects.toThrow(
      /agent ucb1 cannot run on long-term-satisfaction-v0: it needs the candidates feature "topic"; the env's candidates features are clickbait/,
    );
    await expect(makeAgent('thompson-beta', { arms: 'item' }, { envId: 'interest-evolution-v0', seed: 0 })).rejects.toThrow(/arms "item" need catalogue item ids/);
    await expect(makeAgent('ucb1', { exploration: -1 }, { envId: 'retention-v0', seed: 0 })).rejects.toThrow(
      'agent ucb1: param "exploration" = -1 is out of range: allowed a number in [0, 100] (default 1)',
    );
  });
});
