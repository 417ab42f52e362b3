import { describe, expect, it } from 'vitest';
import { CTR_PRIOR, ItemFeedback, REWARD_PRIOR, writeItemFeatures } from '../../policies/item-feedback.js';
import { ItemStats } from '../../agents/supervised/preprocess.js';
import { InvalidArgument } from '../../envs/errors.js';

/** One step of 2 slots, N 3 candidates, K 2: slot 0 shows items [7, 2] and clicks position 1 (reward 6); slot 1 shows [2, 5] and clicks nothing. */
function step(f: ItemFeedback, stepped = Uint8Array.of(1, 1)) {
  const itemIds = Int32Array.of(7, 2, 9, 5, 1, 2);
  const slates = Int32Array.of(0, 1, 2, 0);
  f.record({ candidates: new Float32Array(6 * f.F).fill(2), itemIds }, 3, slates, 2, Int32Array.of(1, -1), Float64Array.of(6, 0), stepped, 2);
}

describe('per-item feedback statistics (ItemFeedback)', () => {
  it('counts shows, clicks and reward per item, and writes the shrunk features after the candidate rows', () => {
    const f = new ItemFeedback(10, 2);
    const cands = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i / 10);
    const ids = Int32Array.of(2, 7, 0, 5, 2, 9);
    const before = f.augment(cands, ids, 2, 3, new Float32Array(2 * 3 * 5));
    // Nothing counted: the features are the empty prior (population means 0).
    for (let r = 0; r < 6; r++) expect(Array.from(before.subarray(r * 5 + 2, r * 5 + 5))).toEqual([0, 0, 0]);
    step(f);
    const out = f.augment(cands, ids, 2, 3, new Float32Array(2 * 3 * 5));
    // 4 shows, 1 click, reward 6 in all: pbar 1/4, wbar 6. Item 2: 2 shows, 1 click, reward 6.
    const pbar = 1 / 4;
    const wbar = 6;
    const feat = (n: number, k: number, w: number) => [Math.fround((k + CTR_PRIOR * pbar) / (n + CTR_PRIOR)), Math.fround((w + REWARD_PRIOR * wbar) / (k + REWARD_PRIOR)), Math.fround(Math.log1p(n))];
    expect(Array.from(out.subarray(0, 5))).toEqual([...Array.from(cands.subarray(0, 2)), ...feat(2, 1, 6)]); // item 2
    expect(Array.from(out.subarray(5, 10))).toEqual([...Array.from(cands.subarray(2, 4)), ...feat(1, 0, 0)]); // item 7
    expect(Array.from(out.subarray(10, 15))).toEqual([...Array.from(cands.subarray(4, 6)), ...feat(0, 0, 0)]); // item 0, never shown
    expect(Array.from(out.subarray(15, 20))).toEqual([...Array.from(cands.subarray(6, 8)), ...feat(1, 0, 0)]); // item 5
    // Candidate 9 was a candidate but never in a slate: not shown.
    expect(Array.from(out.subarray(27, 30))).toEqual(feat(0, 0, 0));
  });

  it('with a length feature, a fourth column: the smoothed reward per click per unit of length', () => {
    // F 2, length in column 1. Slot 0 clicks item 3 (length 4, reward 2) then item 3 again (reward 4), slot 1 clicks item 1 (length 2, reward 3).
    const f = new ItemFeedback(5, 2, 1);
    expect(f.extra).toBe(4);
    const obs = { candidates: Float32Array.of(0, 4, 0, 2), itemIds: Int32Array.of(3, 1) };
    f.record(obs, 1, Int32Array.of(0, 0), 1, Int32Array.of(0, 0), Float64Array.of(2, 3), Uint8Array.of(1, 1), 2);
    f.record(obs, 1, Int32Array.of(0, 0), 1, Int32Array.of(0, -1), Float64Array.of(4, 0), Uint8Array.of(1, 1), 2);
    const out = f.augment(obs.candidates, obs.itemIds, 2, 1, new Float32Array(12));
    // Population: 3 clicks, rates 0.5, 1, 1.5: mean 1. Item 3: rate sum 1.5 over 2 clicks; item 1: 1.5 over 1.
    expect(out[5]).toBe(Math.fround((1.5 + REWARD_PRIOR * 1) / (2 + REWARD_PRIOR)));
    expect(out[11]).toBe(Math.fround((1.5 + REWARD_PRIOR * 1) / (1 + REWARD_PRIOR)));
    expect(Array.from(out.subarray(2, 5))).toEqual([Math.fround((2 + CTR_PRIOR * 0.75) / 22), Math.fround((6 + REWARD_PRIOR * 3) / 7), Math.fround(Math.log1p(2))]);
    expect(f.state().rate).toEqual([0, 1.5, 0, 1.5, 0]);
    expect(f.state().totals).toEqual([4, 3, 9, 3]);
  });

  it('ignores slots that did not step', () => {
    const f = new ItemFeedback(10, 1);
    step(f, Uint8Array.of(0, 1));
    const st = f.state();
    expect(st.shows[2]).toBe(1);
    expect(st.shows[5]).toBe(1);
    expect(st.shows[7]).toBe(0);
    expect(st.clicks.reduce((a, b) => a + b, 0)).toBe(0);
    expect(st.totals).toEqual([2, 0, 0]);
  });

  it('uses the supervised pipeline\'s item-statistics formula', () => {
    const stats = new ItemStats(Float64Array.of(40), Float64Array.of(9), Float64Array.of(31.5), 0.3, 4.2);
    const a = new Float32Array(3);
    const b = new Float32Array(3);
    stats.write(0, a, 0);
    writeItemFeatures(40, 9, 31.5, 0.3, 4.2, b, 0);
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('refuses ids outside the catalogue, missing ids, clicks past the slate and mismatched checkpoints', () => {
    const f = new ItemFeedback(4, 1);
    expect(() => f.augment(new Float32Array(2), Int32Array.of(0, 4), 1, 2, new Float32Array(8))).toThrow(new InvalidArgument('ItemFeedback: item id 4 is outside the catalogue [0, 4)'));
    expect(() => f.augment(new Float32Array(2), null, 1, 2, new Float32Array(8))).toThrow(/the observation has no item ids/);
    expect(() => f.augment(new Float32Array(2), Int32Array.of(0, 1), 1, 2, new Float32Array(7))).toThrow(/out holds 7 values, needs 8/);
    expect(() => f.record({ candidates: new Float32Array(2), itemIds: Int32Array.of(0, 1) }, 2, Int32Array.of(0), 1, Int32Array.of(1), Float64Array.of(1), Uint8Array.of(1), 1)).toThrow(/slot 0 clicked position 1, the slate holds 1/);
    expect(() => f.record({ candidates: new Float32Array(2), itemIds: null }, 2, Int32Array.of(0), 1, Int32Array.of(0), Float64Array.of(1), Uint8Array.of(1), 1)).toThrow(/the observation has no item ids/);
    const g = new ItemFeedback(4, 2, 1);
    expect(() => g.record({ candidates: Float32Array.of(0.5, 0, 0.5, 3), itemIds: Int32Array.of(0, 1) }, 2, Int32Array.of(0), 1, Int32Array.of(0), Float64Array.of(1), Uint8Array.of(1), 1)).toThrow(/item 0 has length 0; the reward per length needs lengths > 0/);
    expect(() => new ItemFeedback(4, 2, 2)).toThrow(/lengthOffset must be -1 or a column in \[0, 2\), got 2/);
    expect(() => g.load({ ...f.state() })).toThrow(/lack their 4 totals/);
    expect(() => g.load({ ...f.state(), totals: [0, 0, 0, 0] })).toThrow(/lack the reward per length of the catalogue's 4 items/);
    expect(() => new ItemFeedback(0, 1)).toThrow(/itemCount must be a positive integer, got 0/);
    expect(() => f.load({ shows: [0], clicks: [0], reward: [0], totals: [0, 0, 0] })).toThrow(/cover 1 items, the env's catalogue has 4/);
    expect(() => f.load({ shows: [0, 0, 0, 0], clicks: [0, 0, 0, 0], reward: [0, 0, 0, 0] } as never)).toThrow(/lack their 3 totals/);
  });

  it('a loaded copy continues exactly', () => {
    const a = new ItemFeedback(10, 1);
    step(a);
    const b = new ItemFeedback(10, 1);
    b.load(JSON.parse(JSON.stringify(a.state())));
    step(a);
    step(b);
    const ids = Int32Array.of(2, 7, 5);
    const c = new Float32Array(3);
    expect(Array.from(b.augment(c, ids, 1, 3, new Float32Array(12)))).toEqual(Array.from(a.augment(c, ids, 1, 3, new Float32Array(12))));
    expect(b.state()).toEqual(a.state());
  });
});
