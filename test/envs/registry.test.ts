import { describe, expect, it } from 'vitest';
import { listEnvs, make, makeVec, register, resolveEnvParams, resolveEnvParamsOf } from '../../envs/registry.js';
import { NO_PARAMS } from '../../envs/params.js';
import { InvalidParam, UnknownEnv } from '../../envs/errors.js';
import { RetentionSim, retentionV0Env } from '../../envs/retention.js';
import { TimeLimit } from '../../envs/wrappers.js';

describe('registry', () => {
  it('lists the built-in envs with descriptions and sources', () => {
    const ids = listEnvs().map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining(['interest-evolution-v0', 'long-term-satisfaction-v0', 'retention-v0', 'boredom-mdp-v0']));
    for (const e of listEnvs()) {
      expect(e.description.length).toBeGreaterThan(20);
      expect(e.source.length).toBeGreaterThan(10);
    }
  });

  it('an unknown id lists the known ids; an unknown version lists the versions', () => {
    expect(() => make('no-such-env-v0')).toThrow(UnknownEnv);
    expect(() => make('no-such-env-v0')).toThrow(/known envs: .*retention-v0/);
    expect(() => make('retention-v7')).toThrow(/unknown env version "retention-v7"; available versions: retention-v0/);
  });

  it('an unknown param names it and lists the known ones', () => {
    expect(() => make('retention-v0', { numItem: 10 })).toThrow(InvalidParam);
    expect(() => make('retention-v0', { numItem: 10 })).toThrow(/unknown param "numItem"; known params: numItems, numTopics/);
  });

  it('an out-of-range or ill-typed param names the param, the allowed range and the default', () => {
    expect(() => make('interest-evolution-v0', { numCandidates: 0 })).toThrow(
      'interest-evolution-v0: param "numCandidates" = 0 is out of range: allowed an integer in [1, 10000] (default 10)',
    );
    expect(() => make('interest-evolution-v0', { numCandidates: 2.5 })).toThrow(/is not an integer/);
    expect(() => make('long-term-satisfaction-v0', { memoryDiscount: 1 })).toThrow(/memoryDiscount" = 1 is out of range: allowed a number in \[0, 1\)/);
    expect(() => make('retention-v0', { reward: 'clicks' })).toThrow(/allowed one of "engagement", "retention", "mix" \(default "engagement"\)/);
    expect(() => make('retention-v0', { churn: 'yes' })).toThrow(/param "churn" = "yes" is not a boolean/);
    expect(() => make('interest-evolution-v0', { timeBudget: Number.NaN })).toThrow(/is not a finite number/);
  });

  it('cross-param constraints are checked', () => {
    expect(() => make('interest-evolution-v0', { numCandidates: 3, slateSize: 4 })).toThrow(/"slateSize" = 4 must not exceed numCandidates = 3/);
    expect(() => make('retention-v0', { numItems: 10, numCandidates: 20 })).toThrow(/"numCandidates" = 20 must not exceed numItems = 10/);
    expect(() => make('boredom-mdp-v0', { leaveMin: 0.5, leaveMax: 0.1 })).toThrow(/leaveMin/);
  });

  it('fills defaults and keeps given values', () => {
    const p = resolveEnvParams('retention-v0', { numTopics: 4 });
    expect(p.numTopics).toBe(4);
    expect(p.numItems).toBe(1000);
    const env = make('retention-v0', { numTopics: 4, numCandidates: 8, slateSize: 3 });
    expect(env.layout).toMatchObject({ N: 8, K: 3, F: 7 });
  });

  it('refuses a second registration of an id and a malformed id', () => {
    const spec = {
      id: 'retention-v0',
      description: 'x',
      source: 'x',
      params: NO_PARAMS,
      multiSession: false,
      card: { models: '', observation: '', action: '', reward: '', episodeEnd: '' },
      createSim: (B: number) => new RetentionSim(B, resolveEnvParamsOf(retentionV0Env)),
      observationSpace: () => make('retention-v0').observationSpace,
    };
    expect(() => register(spec)).toThrow(/already registered/);
    expect(() => register({ ...spec, id: 'Retention' })).toThrow(/must look like name-vN/);
  });

  it('make wraps in TimeLimit on request; makeVec validates its options', () => {
    const env = make('long-term-satisfaction-v0', {}, { maxEpisodeSteps: 5 });
    expect(env).toBeInstanceOf(TimeLimit);
    env.reset({ seed: 1 });
    let r;
    for (let i = 0; i < 5; i++) r = env.step([0, 1]);
    expect(r!.truncated).toBe(true);
    expect(r!.terminated).toBe(false);
    expect(() => makeVec('retention-v0', {}, { numEnvs: 0 })).toThrow(/numEnvs must be an integer in \[1, 1000000\], got 0/);
    expect(() => makeVec('retention-v0', {}, { numEnvs: 2, autoresetMode: 'next-step' as never })).toThrow(/autoresetMode must be 'same-step' or 'off'/);
  });

  it('rejects bad seeds and user indices', () => {
    const env = make('boredom-mdp-v0');
    expect(() => env.reset({ seed: -1 })).toThrow(/seed must be a non-negative integer, got -1/);
    expect(() => env.reset({ seed: 1.5 })).toThrow(/seed must be a non-negative integer/);
    expect(() => env.reset({ options: { userIndex: -3 } })).toThrow(/userIndex must be a non-negative integer/);
  });
});

describe('bad inputs are typed errors that name what was given', () => {
  it('seeds: NaN, BigInt and strings are named as given; makeVec without options, null autoreset, huge numEnvs, Map or Date params are typed errors', async () => {
    const { make, makeVec } = await import('../../envs/registry.js');
    const env = make('retention-v0');
    expect(() => env.reset({ seed: NaN })).toThrow(/seed must be a non-negative integer, got NaN/);
    expect(() => env.reset({ seed: 5n as unknown as number })).toThrow(/got 5n \(a BigInt\)/);
    expect(() => env.reset({ seed: '3' as unknown as number })).toThrow(/got "3"/);
    const { InvalidArgument, InvalidParam } = await import('../../envs/errors.js');
    expect(() => env.reset({ seed: NaN })).toThrow(InvalidArgument);
    expect(() => env.reset({ options: { userIndex: Symbol('u') as unknown as number } })).toThrow(/options.userIndex must be a non-negative integer, got symbol/);
    expect(() => makeVec('retention-v0', {}, null as never)).toThrow(InvalidArgument);
    // autoresetMode null is not 'same-step'; numEnvs beyond the documented maximum fails before allocating.
    expect(() => makeVec('retention-v0', {}, { numEnvs: 2, autoresetMode: null as never })).toThrow(/autoresetMode must be 'same-step' or 'off', got null/);
    expect(() => makeVec('retention-v0', {}, { numEnvs: 1e12 })).toThrow(/numEnvs must be an integer in \[1, 1000000\], got 1000000000000/);
    expect(() => makeVec('retention-v0', { numCandidates: 10000, numItems: 10000 }, { numEnvs: 100000 })).toThrow(/numEnvs = 100000 needs about \d+ MiB of observation buffers .* lower numEnvs to at most \d+/);
    // Params as a Map or a Date would be read as {}: rejected, not ignored.
    expect(() => make('retention-v0', new Map([['slateSize', 3]]) as never)).toThrow(InvalidParam);
    expect(() => make('retention-v0', new Map([['slateSize', 3]]) as never)).toThrow(/params must be a plain object of name -> value, got a Map/);
    expect(() => make('retention-v0', new Date(0) as never)).toThrow(/got a Date/);
    expect(make('retention-v0', Object.assign(Object.create(null), { slateSize: 3 })).layout.K).toBe(3);
    // linear-bandit-v0's catalogue features: at most 10^7 (its reset stays interactive).
    expect(() => make('linear-bandit-v0', { numItems: 1e6, dim: 100 })).toThrow(/numItems x dim = 1000000 x 100 = 100000000 catalogue features; at most 10,000,000/);
    expect(make('linear-bandit-v0', { numItems: 100000, dim: 100 }).layout.F).toBe(100);
    expect(() => make('bernoulli-bandit-v0', { means: new Array(6000).fill(0.5) })).toThrow(/means has 6000 arms; at most 1,000/);
    expect(make('bernoulli-bandit-v0', { means: new Array(1000).fill(0.5) }).layout.N).toBe(1000);
    expect(() => makeVec('retention-v0', {}, null as never)).toThrow(/options must be an object \{ numEnvs, autoresetMode\? \}, got null/);
  });
  it('a spec whose own seeds repeat is rejected with or without --quick; quick.train.numEnvs has the same maximum', async () => {
    const { resolveSpec } = await import('../../experiments/spec.js');
    const base = { name: 's', env: { id: 'retention-v0' }, agents: [{ id: 'random' }], train: { userSteps: 0 }, final: { users: 2 }, quick: { seeds: 1, train: { userSteps: 0 } } };
    expect(() => resolveSpec({ ...base, seeds: [0, 0] })).toThrow(/spec: seeds: seeds must be distinct/);
    expect(() => resolveSpec({ ...base, seeds: [0, 0] }, true)).toThrow(/spec: seeds: seeds must be distinct/);
    expect(() => resolveSpec({ ...base, seeds: 2, quick: { train: { userSteps: 0, numEnvs: 1e9 } } }, true)).toThrow(/spec: quick\.train\.numEnvs/);
  });
  it('users beyond the documented maximum (1,000,000 per evaluation) fail when the spec is resolved, quick section included', async () => {
    await import('../../agents/index.js');
    const { resolveSpec, MAX_USERS } = await import('../../experiments/spec.js');
    const base = { name: 's', env: { id: 'retention-v0' }, agents: [{ id: 'random' }], seeds: 1, train: { userSteps: 0 }, final: { users: 2 } };
    expect(MAX_USERS).toBe(1_000_000);
    expect(() => resolveSpec({ ...base, final: { users: 1e9 } })).toThrow(/spec: final\.users: .*1000000/);
    expect(() => resolveSpec({ ...base, quick: { final: { users: 1e9 } } }, true)).toThrow(/spec: quick\.final\.users: .*1000000/);
    expect(() => resolveSpec({ ...base, eval: { every: 1, users: 1e7 } })).toThrow(/spec: eval\.users/);
    expect(resolveSpec({ ...base, final: { users: MAX_USERS } }).final.users).toBe(MAX_USERS);
  });
});

describe('the README shows the plugins that the tests run', () => {
  it('its custom agent and custom env are test/fixtures/my-agent.mjs and my-env.mjs, verbatim', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const f of ['my-agent.mjs', 'my-env.mjs']) expect(readme).toContain('```js\n' + readFileSync(new URL(`../fixtures/${f}`, import.meta.url), 'utf8').trimEnd() + '\n```');
  });

  it('params are typed by their zod schema: defaults filled, the first bad param named with what is allowed', async () => {
    const { defineParams, param, resolveParams } = await import('../../envs/params.js');
    const s = defineParams({ n: param.int({ default: 3, min: 1, max: 9, description: 'n' }), mode: param.enum({ default: 'a', values: ['a', 'b'], description: 'm' }), w: param.numbers({ default: [0.5, 0.5], min: 0, max: 1, simplex: true, description: 'w' }) });
    const p = resolveParams('x', s, { mode: 'b' });
    const n: number = p.n;
    const mode: 'a' | 'b' = p.mode;
    expect([n, mode, p.w]).toEqual([3, 'b', [0.5, 0.5]]);
    expect(() => resolveParams('x', s, { n: 2.5 })).toThrow('x: param "n" = 2.5 is not an integer: allowed an integer in [1, 9] (default 3)');
    expect(() => resolveParams('x', s, { n: 10 })).toThrow('x: param "n" = 10 is out of range: allowed an integer in [1, 9] (default 3)');
    expect(() => resolveParams('x', s, { mode: 'c' })).toThrow(/param "mode" = "c" is not an allowed value: allowed one of "a", "b"/);
    expect(() => resolveParams('x', s, { w: [0.5, 0.6] })).toThrow(/param "w" = \[0\.5, 0\.6\] does not sum to 1/);
    expect(() => resolveParams('x', s, { n: Infinity })).toThrow(/param "n" = Infinity is not a finite number/);
    expect(() => resolveParams('x', s, { nn: 1 })).toThrow('x: unknown param "nn"; known params: n, mode, w');
    // A default is a fresh copy each time: mutating one resolved list never changes the next.
    (p.w as number[])[0] = 9;
    expect(resolveParams('x', s, {}).w).toEqual([0.5, 0.5]);
  });
});
