import { describe, expect, it } from 'vitest';
import { EpisodeHistory } from '../../policies/history.js';
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
