/**
 * Property-based fuzzing (fast-check) of every input path: env params, reset options, single and vector
 * actions, spec parsing, agent construction and acting, and run folders. Each property family runs at least
 * 10,000 generated cases (seeded: the same cases on every run) and asserts: every rejection is one of the
 * project's typed errors (a `code`, not a bare TypeError or RangeError), nothing invalid is accepted, outputs are
 * finite, and a rejected call changes nothing. A case that once failed is kept below as a regular test.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envSpec, listEnvs, make, makeVec } from '../../envs/registry.js';
import type { Env } from '../../envs/core.js';
import { agentSpec, listAgents, makeAgent } from '../../agents/index.js';
import { resolveSpec } from '../../experiments/spec.js';
import { readCells } from '../../experiments/results.js';
import { runExperiment } from '../../experiments/experiment.js';

const SEED = 20261130;
/** Envs whose construction stays cheap at their default sizes (all registered ones). */
const ENVS = listEnvs().map((e) => e.id);

/** A typed project error: a stable string `code` and a name of its own. */
function expectTyped(e: unknown, where: string): void {
  const err = e as { code?: unknown; name?: string; message?: string };
  if (typeof err?.code !== 'string' || ['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError'].includes(err.name ?? '')) {
    throw new Error(`${where}: untyped error ${err?.name}: ${err?.message}`);
  }
}

/** Values of every JS kind, numbers biased to edges but bounded so that accepted sizes stay small. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 40 }),
  fc.double({ min: -50, max: 50 }),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0.5, 1e12, -1e12, 2 ** 53, Number.MIN_VALUE),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 4 }),
  fc.constantFrom({}, { a: 1 }, new Map([['slateSize', 3]]), new Date(0), 5n, Symbol('s')),
);

describe('fuzz: env params (10,000 cases over every env)', () => {
  it('make() accepts exactly the params inside the documented ranges and rejects the rest with InvalidParam', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ENVS), fc.array(fc.tuple(fc.nat({ max: 12 }), anyValue), { maxLength: 3 }), fc.boolean(), (id, pairs, junkKey) => {
        const specs = envSpec(id).params.specs;
        const params: Record<string, unknown> = {};
        for (const [k, v] of pairs) params[specs.length > 0 ? specs[k % specs.length]!.name : `p${k}`] = v;
        if (junkKey) params.notAParam = 1;
        let env: Env | null = null;
        try {
          env = make(id, params);
        } catch (e) {
          expectTyped(e, `make(${id}, ${String(Object.keys(params))})`);
          return;
        }
        // Accepted: no unknown key, and every given value is the resolved one.
        expect(junkKey).toBe(false);
        for (const [k, v] of Object.entries(params)) {
          if (v === undefined) continue;
          const got = env.params[k];
          if (typeof v === 'number') expect(got, `${id}.${k}`).toBe(v);
          else expect(JSON.stringify(got), `${id}.${k}`).toBe(JSON.stringify(v));
        }
      }),
      { numRuns: 10_000, seed: SEED },
    );
  });
});

describe('fuzz: params and vector options that are not what they seem (10,000 cases)', () => {
  it('params that are not a plain object are rejected (a Map or a Date is never read as {}); makeVec options are checked whole', () => {
    fc.assert(
      fc.property(anyValue, anyValue, anyValue, (params, numEnvs, autoresetMode) => {
        const plain = params === undefined || (params !== null && typeof params === 'object' && Object.getPrototypeOf(params) === Object.prototype && Object.keys(params).length === 0);
        try {
          make('retention-v0', params as never);
          expect(plain, show(params)).toBe(true);
        } catch (e) {
          expectTyped(e, `make(retention-v0, ${show(params)})`);
          expect(plain).toBe(false);
        }
        const okVec = typeof numEnvs === 'number' && Number.isInteger(numEnvs) && numEnvs >= 1 && numEnvs <= 1_000_000 && (autoresetMode === undefined || autoresetMode === 'same-step' || autoresetMode === 'off');
        try {
          const v = makeVec('bernoulli-bandit-v0', {}, { numEnvs, autoresetMode } as never);
          expect(okVec, `${show(numEnvs)} ${show(autoresetMode)}`).toBe(true);
          expect(v.numEnvs).toBe(numEnvs);
        } catch (e) {
          expectTyped(e, `makeVec(${show(numEnvs)}, ${show(autoresetMode)})`);
          expect(okVec).toBe(false);
        }
      }),
      { numRuns: 10_000, seed: SEED },
    );
  });

  it('found by fuzzing: a damaged run folder raises ResultFileError by name, not a bare Error', async () => {
    const { ResultFileError } = await import('../../experiments/results.js');
    const e = new ResultFileError('x');
    expect(e.name).toBe('ResultFileError');
    expect(e.code).toBe('RESULT_FILE_INVALID');
  });
});

describe('fuzz: reset options (10,000 cases)', () => {
  it('reset() takes a non-negative safe-integer seed and user index, and rejects anything else with InvalidArgument', () => {
    const env = make('retention-v0');
    fc.assert(
      fc.property(anyValue, anyValue, fc.boolean(), (seed, userIndex, withOptions) => {
        const opts = withOptions ? { seed, options: { userIndex } } : { seed };
        const ok = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
        const valid = ok(seed) && (!withOptions || ok(userIndex));
        try {
          const r = env.reset(opts as never);
          expect(valid, `accepted ${String(seed)} / ${String(userIndex)}`).toBe(true);
          for (const v of r.observation.user) expect(Number.isFinite(v)).toBe(true);
        } catch (e) {
          expectTyped(e, 'reset');
          expect(valid).toBe(false);
        }
      }),
      { numRuns: 10_000, seed: SEED },
    );
  });
});

/** An action: mostly near-valid slates (so that both branches are exercised), sometimes anything. */
const actionArb = (N: number, K: number) =>
  fc.oneof(
    fc.uniqueArray(fc.integer({ min: 0, max: N - 1 }), { minLength: K, maxLength: K }),
    fc.array(fc.integer({ min: -1, max: N }), { minLength: K - 1, maxLength: K + 1 }),
    fc.array(fc.oneof(fc.integer({ min: 0, max: N - 1 }), fc.constantFrom(NaN, 0.5, Infinity, -0)), { minLength: K, maxLength: K }),
    anyValue,
  );

/** A printable form of any generated value (BigInt and Symbol included). */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' || typeof x === 'symbol' ? String(x) : x)) ?? String(v);
}

function isValidSlate(a: unknown, N: number, K: number): boolean {
  if (!Array.isArray(a) || a.length !== K) return false;
  const seen = new Set<number>();
  for (const x of a) {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= N || seen.has(x)) return false;
    seen.add(x);
  }
  return true;
}

describe('fuzz: actions (10,000 single-env steps and 2,000 vector batches)', () => {
  it('step() accepts exactly the valid slates; a rejected step leaves the env as its twin that never saw it', () => {
    for (const id of ['retention-v1', 'interest-evolution-v0', 'long-term-satisfaction-v0', 'bernoulli-bandit-v0']) {
      const a = make(id);
      const b = make(id);
      const { N, K } = a.layout;
      a.reset({ seed: 1 });
      b.reset({ seed: 1 });
      const valid = Array.from({ length: K }, (_, i) => i);
      fc.assert(
        fc.property(actionArb(N, K), (act) => {
          let ok = true;
          try {
            const r = a.step(act as number[]);
            for (const v of r.observation.user) expect(Number.isFinite(v)).toBe(true);
            expect(Number.isFinite(r.reward)).toBe(true);
            b.step(act as number[]);
            if (r.terminated || r.truncated) {
              a.reset();
              b.reset();
            }
          } catch (e) {
            ok = false;
            expectTyped(e, `${id}.step`);
          }
          expect(ok, `${id}: ${show(act)}`).toBe(isValidSlate(act, N, K));
          if (!ok) {
            // The twins must still agree on the next valid step.
            const ra = a.step(valid);
            const rb = b.step(valid);
            expect(ra.reward).toBe(rb.reward);
            expect(Array.from(ra.observation.user)).toEqual(Array.from(rb.observation.user));
            if (ra.terminated || ra.truncated) {
              a.reset();
              b.reset();
            }
          }
        }),
        { numRuns: 2_500, seed: SEED },
      );
    }
  });

  it('a vector step with any invalid slot is rejected as a whole: no slot moves', () => {
    const a = makeVec('retention-v1', {}, { numEnvs: 3 });
    const b = makeVec('retention-v1', {}, { numEnvs: 3 });
    const { N, K } = a.layout;
    a.reset({ seed: 4 });
    b.reset({ seed: 4 });
    const good = Int32Array.from({ length: 3 * K }, (_, i) => i % K);
    fc.assert(
      fc.property(fc.array(actionArb(N, K), { minLength: 3, maxLength: 3 }), (slots) => {
        const valid = slots.every((s) => isValidSlate(s, N, K));
        const flat = valid ? Int32Array.from(slots.flat() as number[]) : null;
        let ok = true;
        try {
          if (flat) a.step(flat);
          else a.step(slots.flat() as never);
          if (flat) b.step(flat);
        } catch (e) {
          ok = false;
          expectTyped(e, 'vector step');
        }
        expect(ok).toBe(valid);
        const ra = a.step(good);
        const rb = b.step(good);
        expect(Array.from(ra.rewards)).toEqual(Array.from(rb.rewards));
        expect(Array.from(a.sim.user)).toEqual(Array.from(b.sim.user));
      }),
      { numRuns: 2_000, seed: SEED },
    );
  });
});

describe('fuzz: spec parsing (10,000 mutated specs)', () => {
  const base = {
    name: 'fz',
    env: { id: 'retention-v0', params: { numItems: 50 } },
    agents: [{ id: 'random' }, { id: 'quality-estimate', label: 'qe' }],
    seeds: 2,
    train: { userSteps: 40, numEnvs: 4 },
    eval: { every: 0, users: 5 },
    final: { users: 10, seed: 3 },
    quick: { seeds: 1, train: { userSteps: 4 }, final: { users: 4 } },
  };
  const paths = ['name', 'env.id', 'env.params', 'env.params.numItems', 'agents', 'agents.0.id', 'agents.1.params', 'seeds', 'train.steps', 'train.numEnvs', 'eval.users', 'final.users', 'quick.final.users', 'quick.seeds', 'baseline', 'extra'];
  it('resolveSpec either resolves (and the resolved spec is within its documented bounds) or throws SpecError naming a path', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...paths), anyValue), { minLength: 1, maxLength: 3 }), fc.boolean(), (edits, quick) => {
        const raw = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
        for (const [p, v] of edits) {
          const keys = p.split('.');
          let o = raw as Record<string, unknown>;
          for (const k of keys.slice(0, -1)) {
            if (o[k] === null || typeof o[k] !== 'object') o[k] = {};
            o = o[k] as Record<string, unknown>;
          }
          o[keys[keys.length - 1]!] = v;
        }
        try {
          const s = resolveSpec(raw, quick);
          expect(s.final.users).toBeGreaterThanOrEqual(2);
          expect(s.final.users).toBeLessThanOrEqual(1_000_000);
          expect(new Set(s.seeds).size).toBe(s.seeds.length);
          for (const x of s.seeds) expect(Number.isSafeInteger(x) && x >= 0).toBe(true);
          expect(Number.isInteger(s.train.numEnvs) && s.train.numEnvs >= 1).toBe(true);
        } catch (e) {
          expectTyped(e, `resolveSpec ${JSON.stringify(edits.map(([p]) => p))}`);
        }
      }),
      { numRuns: 10_000, seed: SEED },
    );
  });
});

describe('fuzz: agents (10,000 constructions and acts)', () => {
  // Agents without TensorFlow.js models (the tf agents are covered by the agent matrix and the deep tests).
  const cheap = listAgents()
    .map((a) => a.id)
    .filter((id) => !agentSpec(id).usesTf);
  it('makeAgent with generated params succeeds or throws a typed error; act on generated finite observations returns valid slates', async () => {
    const envId = 'retention-v1';
    const env = make(envId);
    const { U, N, F, K } = env.layout;
    const cases = fc.sample(
      fc.tuple(
        fc.constantFrom(...cheap),
        fc.array(fc.tuple(fc.nat({ max: 20 }), anyValue), { maxLength: 2 }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: U, maxLength: U }),
        fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: N * F, maxLength: N * F }),
      ),
      { numRuns: 10_000, seed: SEED },
    );
    let built = 0;
    for (const [id, pairs, user, cands] of cases) {
      const specs = agentSpec(id).params.specs;
      const params: Record<string, unknown> = {};
      for (const [k, v] of pairs) if (specs.length > 0) params[specs[k % specs.length]!.name] = v;
      let agent;
      try {
        agent = await makeAgent(id, params, { envId, seed: 1 });
      } catch (e) {
        expectTyped(e, `makeAgent(${id}, ${show(params)})`);
        continue;
      }
      built++;
      if (agent.oracle) continue;
      const obs = {
        user: Float32Array.from(user),
        candidates: Float32Array.from(cands),
        itemIds: Int32Array.from({ length: N }, (_, i) => i),
        B: 1,
        active: new Uint8Array([1]),
        userIndex: new Float64Array([0]),
        firstStep: new Uint8Array([1]),
      };
      const slate = Array.from(agent.act(obs, agent.context(false)));
      expect(isValidSlate(slate, N, K), `${id} ${show(params)} -> ${show(slate)}`).toBe(true);
    }
    expect(built).toBeGreaterThan(1000);
  });
});

describe('fuzz: run folders (10,000 damaged cell files)', () => {
  it('a cell file with any bytes changed, cut or appended is refused with ResultFileError naming it; never read as valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'egym-fuzz-run-'));
    await runExperiment(
      { name: 'fz', env: { id: 'bernoulli-bandit-v0' }, agents: [{ id: 'random' }], seeds: 1, train: { userSteps: 0 }, final: { users: 3 } },
      { workers: 0, out: dir },
    );
    const file = join(dir, 'cells', readdirSync(join(dir, 'cells'))[0]!);
    const original = readFileSync(file);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constant('flip' as const), fc.nat({ max: original.length - 1 }), fc.integer({ min: 1, max: 255 })),
          fc.tuple(fc.constant('cut' as const), fc.nat({ max: original.length - 1 }), fc.constant(0)),
          fc.tuple(fc.constant('append' as const), fc.nat({ max: 5 }), fc.integer({ min: 0, max: 255 })),
        ),
        ([kind, at, x]) => {
          let bytes: Buffer;
          if (kind === 'flip') {
            bytes = Buffer.from(original);
            bytes[at] = bytes[at]! ^ x;
          } else if (kind === 'cut') bytes = original.subarray(0, at);
          else bytes = Buffer.concat([original, Buffer.alloc(at + 1, x)]);
          writeFileSync(file, bytes);
          try {
            readCells(dir);
            // Only a change invisible to the content (whitespace after the integrity line) may pass.
            expect(bytes.toString('latin1').trimEnd()).toBe(original.toString('latin1').trimEnd());
          } catch (e) {
            expectTyped(e, `readCells after ${kind} at ${at}`);
            expect((e as Error).message).toContain(file);
          }
        },
      ),
      { numRuns: 10_000, seed: SEED },
    );
    writeFileSync(file, original);
    expect(readCells(dir).size).toBe(1);
  });
});
