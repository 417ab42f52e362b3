import { describe, expect, it } from 'vitest';
import { listEnvs, make, makeVec } from '../../envs/registry.js';
import { type Rng, sampleDistinct, streamFromString } from '../../envs/rng.js';
import type { VectorEnv } from '../../envs/core.js';

/** A per-user action stream: user u gets the same slates whether alone or in a batch. */
const actionStream = (u: number): Rng => streamFromString(`test-actions|${u}`);

interface Trace {
  rewards: number[];
  users: number[][];
  cands: number[][];
  ended: 'terminated' | 'truncated' | null;
}

function singleTrace(id: string, seed: number, user: number, maxSteps: number): Trace {
  const env = make(id);
  const r0 = env.reset({ seed, options: { userIndex: user } });
  const rng = actionStream(user);
  const a = new Int32Array(env.layout.K);
  const tr: Trace = { rewards: [], users: [Array.from(r0.observation.user)], cands: [Array.from(r0.observation.candidates)], ended: null };
  for (let t = 0; t < maxSteps; t++) {
    sampleDistinct(rng, env.layout.N, env.layout.K, a);
    const r = env.step(a);
    tr.rewards.push(r.reward);
    tr.users.push(Array.from(r.observation.user));
    tr.cands.push(Array.from(r.observation.candidates));
    if (r.terminated || r.truncated) {
      tr.ended = r.terminated ? 'terminated' : 'truncated';
      break;
    }
  }
  return tr;
}

/** Run B users in a vector env (autoreset off) and record the traces of the watched slots. */
function vectorTraces(env: VectorEnv, seed: number, watch: number[], maxSteps: number): Map<number, Trace> {
  const B = env.numEnvs;
  const { N, K, U, F } = env.layout;
  const r0 = env.reset({ seed });
  const rngs = Array.from({ length: B }, (_, s) => actionStream(r0.userIndex[s]!));
  const traces = new Map<number, Trace>();
  for (const s of watch) {
    traces.set(s, {
      rewards: [],
      users: [Array.from(r0.observation.user.subarray(s * U, (s + 1) * U))],
      cands: [Array.from(r0.observation.candidates.subarray(s * N * F, (s + 1) * N * F))],
      ended: null,
    });
  }
  const actions = new Int32Array(B * K);
  const active = new Uint8Array(B).fill(1);
  for (let t = 0; t < maxSteps; t++) {
    for (let s = 0; s < B; s++) if (active[s]) sampleDistinct(rngs[s]!, N, K, actions, s * K);
    const r = env.step(actions);
    for (const s of watch) {
      if (!active[s]) continue;
      const tr = traces.get(s)!;
      tr.rewards.push(r.rewards[s]!);
      tr.users.push(Array.from(r.observation.user.subarray(s * U, (s + 1) * U)));
      tr.cands.push(Array.from(r.observation.candidates.subarray(s * N * F, (s + 1) * N * F)));
      if (r.terminated[s] || r.truncated[s]) tr.ended = r.terminated[s] ? 'terminated' : 'truncated';
    }
    for (let s = 0; s < B; s++) if (!r.active[s]) active[s] = 0;
    if (r.allDone) break;
  }
  return traces;
}

describe('single-user env and vector env are the same simulator', () => {
  for (const { id } of listEnvs()) {
    it(`${id}: users 0, 517 and 1023 behave identically alone and in a batch of 1,024`, () => {
      const seed = 42;
      const maxSteps = 400;
      const vec = makeVec(id, {}, { numEnvs: 1024, autoresetMode: 'off' });
      const traces = vectorTraces(vec, seed, [0, 517, 1023], maxSteps);
      for (const [slot, tr] of traces) {
        const single = singleTrace(id, seed, slot, maxSteps);
        expect(tr.ended).toBe(single.ended);
        expect(tr.rewards).toEqual(single.rewards);
        expect(tr.users).toEqual(single.users);
        expect(tr.cands).toEqual(single.cands);
      }
    });
  }

  it('batch size does not change a user: batches of 1, 7 and 64 give the same returns', () => {
    const id = 'retention-v0';
    const returns = (B: number) => {
      const env = makeVec(id, {}, { numEnvs: B, autoresetMode: 'off' });
      const out: number[] = [];
      for (let first = 0; first < 14; first += B) {
        const r0 = env.reset({ seed: 3, options: { firstUser: first } });
        const rngs = Array.from({ length: B }, (_, s) => actionStream(r0.userIndex[s]!));
        const acts = new Int32Array(B * env.layout.K);
        for (;;) {
          for (let s = 0; s < B; s++) sampleDistinct(rngs[s]!, env.layout.N, env.layout.K, acts, s * env.layout.K);
          const r = env.step(acts);
          for (let s = 0; s < B; s++) if (r.final.mask[s]) out[r.final.userIndex[s]!] = r.final.stats.return![s]!;
          if (r.allDone) break;
        }
      }
      return out.slice(0, 14);
    };
    const r1 = returns(1);
    expect(returns(7)).toEqual(r1);
    expect(returns(14)).toEqual(r1);
    expect(new Set(r1).size).toBeGreaterThan(10);
  });
});

describe('vector env autoreset modes', () => {
  it('same-step: a finished user is replaced at once by the next user, with its final observation and statistics', () => {
    const B = 4;
    const env = makeVec('long-term-satisfaction-v0', { timeBudget: 3 }, { numEnvs: B, autoresetMode: 'same-step' });
    expect(env.metadata.autoresetMode).toBe('same-step');
    env.reset({ seed: 5 });
    const acts = new Int32Array(B * 2);
    for (let s = 0; s < B; s++) acts.set([0, 1], s * 2);
    let r = env.step(acts);
    r = env.step(acts);
    expect(r.numFinished).toBe(0);
    r = env.step(acts);
    expect(r.numFinished).toBe(B);
    expect(Array.from(r.terminated)).toEqual([1, 1, 1, 1]);
    expect(Array.from(r.final.mask)).toEqual([1, 1, 1, 1]);
    expect(Array.from(r.final.userIndex)).toEqual([0, 1, 2, 3]);
    expect(Array.from(r.userIndex)).toEqual([4, 5, 6, 7]);
    expect(Array.from(r.final.stats.length!)).toEqual([3, 3, 3, 3]);
    // The final observation is user 0's third-step observation; the returned one is user 4's first.
    const single = make('long-term-satisfaction-v0', { timeBudget: 3 });
    single.reset({ seed: 5 });
    let sr;
    let ret = 0;
    for (let i = 0; i < 3; i++) {
      sr = single.step([0, 1]);
      ret += sr.reward;
    }
    expect(Array.from(r.final.observation.user.subarray(0, 4))).toEqual(Array.from(sr!.observation.user));
    expect(r.final.stats.return![0]).toBe(ret);
    const u4 = single.reset({ options: { userIndex: 4 } });
    expect(Array.from(r.observation.candidates.subarray(0, 10))).toEqual(Array.from(u4.observation.candidates));
    expect(Array.from(r.active)).toEqual([1, 1, 1, 1]);
  });

  it('off: finished users stay done under the active mask, their actions are ignored, until reset', () => {
    const env = makeVec('boredom-mdp-v0', {}, { numEnvs: 64, autoresetMode: 'off' });
    env.reset({ seed: 9 });
    const acts = new Int32Array(64);
    let sawPartial = false;
    let finishedTotal = 0;
    for (let t = 0; t < 5000; t++) {
      const r = env.step(acts);
      finishedTotal += r.numFinished;
      // Out-of-range actions in finished slots must be ignored (not validated, not applied).
      for (let s = 0; s < 64; s++) if (!r.active[s]) acts[s] = 99;
      if (!r.allDone && r.active.includes(0)) sawPartial = true;
      for (let s = 0; s < 64; s++) if (!r.active[s] && !r.final.mask[s]) expect(r.rewards[s]).toBe(0);
      if (r.allDone) break;
    }
    expect(sawPartial).toBe(true);
    expect(finishedTotal).toBe(64);
    const again = env.reset();
    expect(again.userIndex[0]).toBe(64);
  });

  it('rejects malformed action batches with errors naming the env and the slot', () => {
    const env = makeVec('interest-evolution-v0', {}, { numEnvs: 3 });
    expect(() => env.step(new Int32Array(6))).toThrow(/step\(\) called before reset\(\)/);
    env.reset({ seed: 1 });
    expect(() => env.step(new Int32Array(5))).toThrow(/interest-evolution-v0 \(vector\): actions must hold B x K = 3 x 2 = 6 indices, got 5/);
    expect(() => env.step([0, 1, 0, 1, 0, 1] as unknown as Int32Array)).toThrow(/must be an Int32Array/);
    expect(() => env.step(new Int32Array([0, 1, 2, 2, 0, 1]))).toThrow(/slot 1: index 2 appears twice/);
    expect(() => env.step(new Int32Array([0, 1, 0, 10, 0, 1]))).toThrow(/slot 1: slate\[1\] = 10 is out of range \[0, 9\]/);
  });

  it('a rejected batch moves no slot: the env continues exactly like a twin that never saw it', () => {
    const a = makeVec('retention-v0', {}, { numEnvs: 2 });
    const b = makeVec('retention-v0', {}, { numEnvs: 2 });
    a.reset({ seed: 5 });
    b.reset({ seed: 5 });
    // Slot 0 is valid, slot 1 repeats an index: nothing may move, slot 0 included.
    expect(() => a.step(new Int32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 8]))).toThrow(/slot 1: index 8 appears twice .*no slot was stepped/);
    expect(() => a.step(new Int32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 99]))).toThrow(/slot 1: slate\[4\] = 99 is out of range .*no slot was stepped/);
    const good = new Int32Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let t = 0; t < 20; t++) {
      const ra = a.step(good);
      const rb = b.step(good);
      expect(Array.from(ra.rewards)).toEqual(Array.from(rb.rewards));
      expect(Array.from(ra.observation.user)).toEqual(Array.from(rb.observation.user));
    }
  });

  it('slate validation is linear: a slate of 10,000 distinct indices validates quickly, and a late duplicate is found', async () => {
    const { Slate } = await import('../../envs/spaces.js');
    const sp = new Slate(20000, 10000);
    const x = Int32Array.from({ length: 10000 }, (_, i) => i);
    expect(sp.validate(x)).toBeNull();
    x[9999] = 17;
    expect(sp.validate(x)).toMatch(/index 17 appears twice \(slate positions 17 and 9999\)/);
  });

  it('same seed gives bit-identical batches across runs', () => {
    const run = () => {
      const env = makeVec('retention-v0', {}, { numEnvs: 32 });
      env.reset({ seed: 11 });
      const acts = new Int32Array(32 * 5);
      const rng = streamFromString('same');
      let h = 0;
      for (let t = 0; t < 300; t++) {
        for (let s = 0; s < 32; s++) sampleDistinct(rng, 20, 5, acts, s * 5);
        const r = env.step(acts);
        for (let s = 0; s < 32; s++) h = (h * 31 + r.rewards[s]! * 1000 + r.observation.user[s * 19]!) % 1e12;
      }
      return h;
    };
    expect(run()).toBe(run());
  });
});
