import { describe, expect, it } from 'vitest';
import { Box, Dict, Discrete, MultiDiscrete, Slate, spaceFromJSON } from '../../envs/spaces.js';
import { sampleDistinct, streamFromString } from '../../envs/rng.js';

describe('spaces', () => {
  const rng = streamFromString('spaces');

  it('Box samples inside its bounds, rejects values outside, and round-trips through JSON', () => {
    const b = new Box([0, -1], [1, Infinity], [2]);
    for (let i = 0; i < 200; i++) expect(b.contains(b.sample(rng))).toBe(true);
    expect(b.contains(new Float32Array([1.5, 0]))).toBe(false);
    expect(b.contains(new Float32Array([0.5, -2]))).toBe(false);
    expect(b.contains(new Float32Array([NaN, 0]))).toBe(false);
    expect(b.contains(new Float32Array([0.5]))).toBe(false);
    const back = spaceFromJSON(JSON.parse(JSON.stringify(b.toJSON())));
    expect(back.contains(new Float32Array([0.5, 1e30]))).toBe(true);
    expect(back.toJSON()).toEqual(b.toJSON());
    expect(() => new Box(1, 0, [1])).toThrow(/low\[0\] = 1 is above high\[0\] = 0/);
  });

  it('Discrete and MultiDiscrete sample uniformly in range', () => {
    const d = new Discrete(4, 1);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[d.sample(rng) - 1]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(4 * Math.sqrt(1000 * 0.75));
    expect(d.contains(0)).toBe(false);
    expect(d.contains(4)).toBe(true);
    expect(d.contains(1.5)).toBe(false);
    const m = new MultiDiscrete([2, 3]);
    expect(m.contains(new Int32Array([1, 2]))).toBe(true);
    expect(m.contains(new Int32Array([2, 0]))).toBe(false);
    expect(() => new MultiDiscrete([0])).toThrow(/nvec\[0\]/);
  });

  it('Slate holds k distinct indices and explains why a value is not a slate', () => {
    const s = new Slate(5, 3);
    for (let i = 0; i < 200; i++) {
      const x = s.sample(rng);
      expect(s.contains(x)).toBe(true);
      expect(new Set(x).size).toBe(3);
    }
    expect(s.validate([0, 1])).toMatch(/expected 3 indices, got 2/);
    expect(s.validate([0, 1, 5])).toMatch(/slate\[2\] = 5 is out of range \[0, 4\]/);
    expect(s.validate([0, 1, 1])).toMatch(/index 1 appears twice/);
    expect(s.validate([0, 1, 0.5])).toMatch(/not an integer/);
    expect(s.validate([0, 1, NaN])).toMatch(/not an integer/);
    expect(s.validate('abc')).toMatch(/expected an array/);
    expect(() => new Slate(3, 4)).toThrow(/k must be an integer in \[1, n = 3\]/);
  });

  it('Dict checks every key and nothing more', () => {
    const d = new Dict({ a: new Discrete(2), b: new Box(0, 1, [2]) });
    expect(d.contains(d.sample(rng))).toBe(true);
    expect(d.contains({ a: 0 })).toBe(false);
    expect(d.contains({ a: 0, b: new Float32Array(2), c: 1 })).toBe(false);
    expect(spaceFromJSON(d.toJSON()).toJSON()).toEqual(d.toJSON());
  });

  it('Floyd sampling gives every k-subset with equal probability', () => {
    // n = 5, k = 2: 10 subsets, each with probability 1/10.
    const counts = new Map<string, number>();
    const out = new Int32Array(2);
    const draws = 20000;
    for (let i = 0; i < draws; i++) {
      sampleDistinct(rng, 5, 2, out);
      const key = [...out].sort().join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(10);
    let chi2 = 0;
    for (const c of counts.values()) chi2 += (c - draws / 10) ** 2 / (draws / 10);
    expect(chi2).toBeLessThan(27.88); // chi-square(9) at p = 0.001
  });
});
