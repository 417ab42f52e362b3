import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../policies/backend.js';
import { type AgentCheckpoint, BadCheckpoint, decodeCheckpoint, encodeCheckpoint, makeAgent, readCheckpointFile, sameState } from '../../agents/index.js';
import { checkpointFromMessage, checkpointToMessage } from '../../agents/checkpoint-file.js';
import type { SlateQAgent } from '../../agents/slateq.js';
import { trainAgent } from '../../agents/loop.js';
import { makeVec } from '../../envs/registry.js';

await initBackend('wasm');

const envelope = (state: unknown): AgentCheckpoint => ({ format: 'engagement-gym/agent', version: 1, agent: 'x', envId: 'retention-v0', params: { a: 1 }, seed: 3, rng: { s: [1, 2, 3, 4] } as never, state });

describe('checkpoint files (agents/checkpoint-file.ts)', () => {
  it('writes a state without typed arrays as the JSON text it always was', () => {
    const c = envelope({ w: [[0.5, -1]], n: 3, s: 'x' });
    const buf = encodeCheckpoint(c);
    expect(JSON.parse(buf.toString('utf8'))).toEqual(c);
    expect(decodeCheckpoint(buf, 'f')).toEqual(c);
  });

  it('writes typed arrays as their bytes, 4 per float32, and reads back every value: NaN, -0, the extremes', () => {
    const f32 = Float32Array.of(1.5, NaN, -0, 3.4028234663852886e38, 1e-45);
    const big = new Float32Array(250_000).map((_, i) => Math.fround(Math.sin(i) * 1e-3));
    const state = { rb: { f32, big, i32: Int32Array.of(-1, 2 ** 31 - 1), u8: Uint8Array.of(0, 255, 7), f64: Float64Array.of(Math.PI, -Infinity) }, nested: [{ t: Int16Array.of(-5) }], plain: [1, 2] };
    const buf = encodeCheckpoint(envelope(state));
    expect(buf.subarray(0, 8).toString('latin1')).toBe('EGYMCKPT');
    // The data: 4 bytes a float32, a short header.
    expect(buf.length).toBeLessThan(250_000 * 4 + 2000);
    const back = decodeCheckpoint(buf, 'f');
    const st = back.state as typeof state;
    expect(st.rb.f32).toBeInstanceOf(Float32Array);
    expect(Array.from(st.rb.f32)).toEqual(Array.from(f32));
    expect(Object.is(st.rb.f32[2], -0)).toBe(true);
    expect(st.rb.big).toEqual(big);
    expect(Array.from(st.rb.i32)).toEqual([-1, 2 ** 31 - 1]);
    expect(Array.from(st.rb.u8)).toEqual([0, 255, 7]);
    expect(Array.from(st.rb.f64)).toEqual([Math.PI, -Infinity]);
    expect(st.nested[0]!.t).toEqual(Int16Array.of(-5));
    expect(st.plain).toEqual([1, 2]);
    expect(sameState(back.state, state)).toBe(true);
    expect(back.params).toEqual({ a: 1 });
    // The key that marks typed arrays is reserved: a state using it is refused rather than read back as an array.
    expect(() => encodeCheckpoint(envelope({ t: Float32Array.of(1), x: { $typed: 'Float32Array', offset: 0, length: 1 } }))).toThrow(/cannot use the key "\$typed"/);
  });

  it('sameState compares states as saved: key order aside, undefined keys absent, typed arrays by type and bytes', () => {
    expect(sameState({ a: 1, b: [2, { c: 3 }] }, { b: [2, { c: 3 }], a: 1 })).toBe(true);
    expect(sameState({ a: 1, u: undefined }, { a: 1 })).toBe(true);
    expect(sameState({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameState([1, 2], [1, 2, 3])).toBe(false);
    expect(sameState(Float32Array.of(1, NaN), Float32Array.of(1, NaN))).toBe(true);
    expect(sameState(Float32Array.of(1, 2), Float64Array.of(1, 2))).toBe(false);
    expect(sameState(Float32Array.of(1, 2), [1, 2])).toBe(false);
    expect(sameState(Float32Array.of(0), Float32Array.of(-0))).toBe(false);
    expect(sameState(null, 0)).toBe(false);
    expect(sameState(NaN, NaN)).toBe(true);
  });

  it('a truncated, padded, foreign or newer file is a BadCheckpoint error naming it', () => {
    const d = mkdtempSync(join(tmpdir(), 'egym-ck-'));
    const buf = encodeCheckpoint(envelope({ a: Float32Array.of(1, 2, 3) }));
    const at = (name: string, b: Buffer) => {
      const f = join(d, name);
      writeFileSync(f, b);
      return () => readCheckpointFile(f);
    };
    expect(at('cut.ckpt', buf.subarray(0, buf.length - 4))).toThrow(BadCheckpoint);
    expect(at('cut2.ckpt', buf.subarray(0, buf.length - 4))).toThrow(/cut2\.ckpt: truncated/);
    expect(at('head.ckpt', buf.subarray(0, 30))).toThrow(/head\.ckpt: truncated checkpoint container/);
    expect(at('pad.ckpt', Buffer.concat([buf, Buffer.alloc(8)]))).toThrow(/pad\.ckpt: truncated or padded checkpoint container/);
    const v2 = Buffer.from(buf);
    v2.writeUInt32LE(2, 8);
    expect(at('v2.ckpt', v2)).toThrow(/v2\.ckpt: checkpoint container version 2; this engagement-gym reads version 1/);
    expect(at('junk.json', Buffer.from('{"not json'))).toThrow(/junk\.json: neither JSON nor an engagement-gym checkpoint container/);
    expect(() => readCheckpointFile(join(d, 'missing.ckpt'))).toThrow(/missing\.ckpt: cannot read the checkpoint/);
    const text = buf.toString('latin1').replace('"Float32Array"', '"Float99Array"');
    expect(at('ref.ckpt', Buffer.from(text, 'latin1'))).toThrow(/ref\.ckpt: malformed typed-array reference/);
  });

  it('through the queue: a JSON-safe message that decodes to the same checkpoint, refused with its size past the limit', () => {
    const c = envelope({ a: new Float32Array(1000).fill(0.25), b: [1] });
    const m = checkpointToMessage(c);
    const back = checkpointFromMessage(JSON.parse(JSON.stringify(m)), 'msg');
    expect(sameState(back.state, c.state)).toBe(true);
    const plain = envelope({ b: [1] });
    expect(checkpointToMessage(plain)).toBe(plain);
    expect(() => checkpointToMessage(c, 1000)).toThrow(/^x: a checkpoint of 0 MB cannot travel through the queue \(at most 0 MB\); run without --queue, or lower the agent's replaySize/);
  });
});

describe("SlateQ's replay buffer in a checkpoint", () => {
  const SHORT = { worldSeed: 0, horizonDays: 3, maxSessionSteps: 10 };
  const build = (replaySize: number) => makeAgent('slateq', { hidden: 8, learningStarts: 1e6, replaySize, noClickValue: 'learned', dayDiscount: 0.8, gamma: 1, nSteps: 3, backend: 'cpu' }, { envId: 'retention-v1', envParams: SHORT, seed: 4 }) as Promise<SlateQAgent>;
  const train = async (replaySize: number, steps: number) => {
    const a = await build(replaySize);
    trainAgent(a, makeVec('retention-v1', SHORT, { numEnvs: 4 }), { steps, seed: 2 });
    return a;
  };

  it('keeps the filled rows only, as typed arrays; a full, wrapped buffer loads back exactly', async () => {
    const half = await train(1000, 100);
    const st = half.save().state as { size: number; rb: { cand: Float32Array; nextW0: Float32Array } };
    expect(st.size).toBe(400);
    const N = 20;
    expect(st.rb.cand.length).toBe(400 * N * (st.rb.cand.length / (400 * N)));
    const full = await train(150, 100);
    const c = decodeCheckpoint(encodeCheckpoint(full.save()), 'f');
    expect((c.state as { size: number }).size).toBe(150);
    const copy = await build(150);
    copy.load(c);
    expect(sameState(copy.save().state, full.save().state)).toBe(true);
    half.dispose();
    full.dispose();
    copy.dispose();
  });

  it('reads a checkpoint written before: whole JSON arrays, NaN as null', async () => {
    const a = await train(1000, 100);
    const now = a.save();
    const st = now.state as { size: number; rb: Record<string, Float32Array> };
    // The old form: every field a JSON array of the whole capacity, NaN written as null (unknown next no-click weights).
    const old = structuredClone(now) as AgentCheckpoint & { state: { rb: Record<string, unknown> } };
    let unknown = 0;
    for (const [k, v] of Object.entries(st.rb)) {
      const whole = new Array((v.length / st.size) * 1000).fill(0);
      v.forEach((x, i) => (whole[i] = k === 'nextW0' && x === -1 ? (unknown++, null) : x));
      old.state.rb[k] = whole;
    }
    expect(unknown).toBeGreaterThan(0);
    const b = await build(1000);
    b.load(JSON.parse(JSON.stringify(old)));
    expect(sameState(b.save().state, now.state)).toBe(true);
    // A checkpoint of another replay size is refused, and the agent is left as it was.
    const c = await build(300);
    const fresh = c.save().state;
    expect(() => c.load(JSON.parse(JSON.stringify(old)))).toThrow(/slateq: the checkpoint's replay size 400 does not fit a buffer of 300/);
    expect(() => c.load(now)).toThrow(/slateq: the checkpoint's replay size 400 does not fit a buffer of 300/);
    expect(sameState(c.save().state, fresh)).toBe(true);
    const d = await build(500);
    expect(() => d.load(JSON.parse(JSON.stringify(old)))).toThrow(/slateq: the checkpoint's replay buffer field \w+ does not fit this agent/);
    // The new form fits any buffer that holds its rows: 400 rows, the next slot 400.
    d.load(now);
    expect(sameState(d.save().state, now.state)).toBe(true);
    d.dispose();
    a.dispose();
    b.dispose();
    c.dispose();
  });
});
