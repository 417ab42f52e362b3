import { describe, expect, it } from 'vitest';
import { ConsumedHistory, EpisodeHistory } from '../../policies/history.js';
import { InvalidArgument } from '../../envs/errors.js';

/** One observation of B slots with U = 2 user columns. */
function obs(rows: number[][], users: number[], first: number[], active?: number[]) {
  return {
    user: Float32Array.from(rows.flat()),
    userIndex: Float64Array.from(users),
    firstStep: Uint8Array.from(first),
    active: active ? Uint8Array.from(active) : undefined,
  };
}

describe('episode-history features', () => {
  it('append the running mean of the episode so far (current row included) and log(1 + steps taken)', () => {
    const h = new EpisodeHistory(2);
    expect(h.extra).toBe(3);
    const out = new Float32Array(2 * 5);
    h.augment(obs([[1, 2], [10, 20]], [0, 1], [1, 1]), 2, out, { commit: true });
    expect(Array.from(out)).toEqual([1, 2, 1, 2, 0, 10, 20, 10, 20, 0]);
    h.augment(obs([[3, 4], [30, 40]], [0, 1], [0, 0]), 2, out, { commit: true });
    expect(Array.from(out.subarray(0, 5))).toEqual([3, 4, 2, 3, Math.fround(Math.log(2))]);
    expect(Array.from(out.subarray(5, 10))).toEqual([30, 40, 20, 30, Math.fround(Math.log(2))]);
    h.augment(obs([[5, 6], [50, 60]], [0, 1], [0, 0]), 2, out, { commit: true });
    expect(Array.from(out.subarray(0, 5))).toEqual([5, 6, 3, 4, Math.fround(Math.log(3))]);
  });

  it('restart at a first step or when another user takes the slot; inactive slots and peeks commit nothing', () => {
    const h = new EpisodeHistory(1);
    const out = new Float32Array(3 * 3);
    h.augment(obs([[2], [4], [6]], [0, 1, 2], [1, 1, 1]), 3, out, { commit: true });
    // slot 0: a new episode; slot 1: another user without the flag; slot 2: inactive.
    h.augment(obs([[8], [8], [8]], [5, 7, 2], [1, 0, 0], [1, 1, 0]), 3, out, { commit: true });
    expect(Array.from(out)).toEqual([8, 8, 0, 8, 8, 0, 8, 7, Math.fround(Math.log(2))]);
    // Slot 2 did not commit its row of 8; a peek does not commit either.
    h.augment(obs([[0], [0], [0]], [5, 7, 2], [0, 0, 0]), 3, out, { commit: false });
    expect(out[2 * 3 + 1]).toBe(3);
    expect(out[2 * 3 + 2]).toBe(Math.fround(Math.log(2)));
    h.augment(obs([[0], [0], [0]], [5, 7, 2], [0, 0, 0]), 3, out, { commit: false });
    expect(out[2 * 3 + 1]).toBe(3);
    // keepOwner: a finished user's final row uses that user's history even though the slot now shows the next user.
    h.augment(obs([[2], [2], [2]], [9, 9, 9], [1, 1, 1]), 3, out, { commit: false, keepOwner: true });
    expect(Array.from(out.subarray(0, 3))).toEqual([2, 5, Math.fround(Math.log(2))]);
  });

  it('checkpoint state round-trips, and inconsistent state is a typed error', () => {
    const h = new EpisodeHistory(2);
    const out = new Float32Array(5);
    h.augment(obs([[1, 1]], [3], [1]), 1, out, { commit: true });
    const g = new EpisodeHistory(2);
    g.load(JSON.parse(JSON.stringify(h.state())));
    const a = new Float32Array(5);
    const b = new Float32Array(5);
    h.augment(obs([[3, 5]], [3], [0]), 1, a, { commit: true });
    g.augment(obs([[3, 5]], [3], [0]), 1, b, { commit: true });
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(() => g.load({ owners: [1], values: [1] })).toThrow(InvalidArgument);
    expect(() => h.augment(obs([[1, 1]], [3], [0]), 1, new Float32Array(4), { commit: false })).toThrow(/needs 5/);
  });
});

describe('consumed-item features', () => {
  const N = 3;
  const F = 2;
  const K = 2;
  // Candidates of 2 slots: slot 0 rows [1,10],[2,20],[3,30]; slot 1 rows [4,40],[5,50],[6,60].
  const cands = Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60]);
  const ids = (users: number[], first: number[]) => ({ userIndex: Float64Array.from(users), firstStep: Uint8Array.from(first) });
  const rows = Float32Array.from([7, 8]);

  it('append the mean and the bias-corrected moving average of the clicked items, and log(1 + clicks)', () => {
    const h = new ConsumedHistory(F, K, 0.5);
    expect(h.extra).toBe(5);
    const out = new Float32Array(2 * 6);
    h.augment(rows, 1, ids([0, 1], [1, 1]), 2, out, {});
    expect(Array.from(out)).toEqual([7, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
    // Slot 0 served [2, 0] and clicked position 1 (candidate 0: [1, 10]); slot 1 served [1, 2] and did not click.
    h.serve(cands, N, Int32Array.from([2, 0, 1, 2]), 2, Uint8Array.from([1, 1]));
    h.consume(Int32Array.from([1, -1]), 2, Uint8Array.from([1, 1]));
    h.augment(rows, 1, ids([0, 1], [0, 0]), 2, out, {});
    // The first click's moving average is that click's row (bias correction), as is the mean.
    expect(Array.from(out)).toEqual([7, 1, 10, 1, 10, Math.fround(Math.log(2)), 8, 0, 0, 0, 0, 0]);
    // Slot 0 clicks candidate 2 ([3, 30]): mean [2, 20]; moving average (0.25 [1, 10] + 0.5 [3, 30]) / 0.75.
    h.serve(cands, N, Int32Array.from([2, 1, 0, 1]), 2, Uint8Array.from([1, 1]));
    h.consume(Int32Array.from([0, -1]), 2, Uint8Array.from([1, 1]));
    h.augment(rows, 1, ids([0, 1], [0, 0]), 2, out, {});
    expect(Array.from(out.subarray(0, 6))).toEqual([7, 2, 20, Math.fround(7 / 3), Math.fround(70 / 3), Math.fround(Math.log(3))]);
  });

  it('restart with a new user, keep a finished user\'s block with keepOwner, skip slots that did not step', () => {
    const h = new ConsumedHistory(F, K, 0.1);
    const out = new Float32Array(2 * 6);
    h.augment(rows, 1, ids([0, 1], [1, 1]), 2, out, {});
    h.serve(cands, N, Int32Array.from([0, 1, 0, 1]), 2, Uint8Array.from([1, 1]));
    // Slot 1 did not step: its click is ignored.
    h.consume(Int32Array.from([0, 0]), 2, Uint8Array.from([1, 0]));
    const kept = h.augment(rows, 1, ids([5, 1], [1, 0]), 2, new Float32Array(12), { keepOwner: true });
    expect(Array.from(kept.subarray(0, 6))).toEqual([7, 1, 10, 1, 10, Math.fround(Math.log(2))]);
    expect(Array.from(kept.subarray(6, 12))).toEqual([8, 0, 0, 0, 0, 0]);
    // Without keepOwner the slot's new user (first step) starts empty.
    h.augment(rows, 1, ids([5, 1], [1, 0]), 2, out, {});
    expect(Array.from(out.subarray(0, 6))).toEqual([7, 0, 0, 0, 0, 0]);
  });

  it('checkpoint state round-trips; bad rates, positions and buffers are typed errors', () => {
    const h = new ConsumedHistory(F, K, 0.3);
    h.augment(rows, 1, ids([0, 1], [1, 1]), 2, new Float32Array(12), {});
    h.serve(cands, N, Int32Array.from([2, 1, 0, 1]), 2, Uint8Array.from([1, 1]));
    h.consume(Int32Array.from([0, 1]), 2, Uint8Array.from([1, 1]));
    const g = new ConsumedHistory(F, K, 0.3);
    g.load(JSON.parse(JSON.stringify(h.state())));
    const a = h.augment(rows, 1, ids([0, 1], [0, 0]), 2, new Float32Array(12), {});
    const b = g.augment(rows, 1, ids([0, 1], [0, 0]), 2, new Float32Array(12), {});
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(() => new ConsumedHistory(F, K, 0)).toThrow(InvalidArgument);
    expect(() => new ConsumedHistory(F, K, 0.5).consume(Int32Array.from([0]), 1, Uint8Array.from([1]))).toThrow(/no slate was served to 1 slots \(serve before consume\)/);
    expect(() => new ConsumedHistory(F, K, 1.5)).toThrow(/rate must be in \(0, 1\]/);
    expect(() => h.consume(Int32Array.from([2, -1]), 2, Uint8Array.from([1, 1]))).toThrow(/clicked position 2, the slate holds 2/);
    expect(() => h.augment(rows, 1, ids([0, 1], [0, 0]), 2, new Float32Array(11), {})).toThrow(/needs 12/);
    expect(() => g.load({ owners: [1], values: [1] })).toThrow(InvalidArgument);
  });
});
