import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExperiment } from '../../experiments/experiment.js';
import { makeAgent } from '../../agents/index.js';
import { evaluateAgent } from '../../experiments/evaluate.js';

// Its own file: the metric registered here stays out of the other files' runs.
describe('metrics are a registry of named definitions', () => {
  it('a registered metric collected from a named candidate feature appears in evaluations, cells, curves and the summary; built-ins keep their order', async () => {
    const { registerMetric, listMetrics, USER_COLUMNS } = await import('../../experiments/metrics.js');
    const { feature } = await import('../../envs/core.js');
    // Mean length (minutes) of the clicked items: needs the candidate feature "length" and the click.
    registerMetric({
      key: 'clickedLength',
      label: 'length of clicked items',
      description: 'mean candidate "length" of the clicked items',
      collect: (layout, B) => {
        const f = feature(layout.candidateFeatures, 'length');
        if (!f) return null;
        const { N, F, K } = layout;
        const sum = new Float64Array(B);
        const n = new Float64Array(B);
        const shown = new Float64Array(B * K);
        return {
          shown: ({ slot, obs, slate }) => {
            for (let j = 0; j < K; j++) shown[slot * K + j] = obs.candidates[(slot * N + slate[slot * K + j]!) * F + f.offset]!;
          },
          outcome: (slot, clicked) => {
            if (clicked >= 0) (sum[slot]! += shown[slot * K + clicked]!), (n[slot]! += 1);
          },
          end: (slot) => {
            const v = n[slot]! > 0 ? sum[slot]! / n[slot]! : NaN;
            sum[slot] = 0;
            n[slot] = 0;
            return v;
          },
        };
      },
    });
    expect(() => registerMetric({ key: 'clickedLength', label: 'x', description: 'x' })).toThrow(/already registered/);
    expect(() => registerMetric({ key: 'return', label: 'x', description: 'x', collect: () => null })).toThrow(/already registered/);
    expect(() => registerMetric({ key: 'bad key', label: 'x', description: 'x' })).toThrow(/must be an identifier/);
    expect(listMetrics().map((m) => m.key).slice(0, 4)).toEqual(['return', 'perStep', 'length', 'ctr']);
    expect(USER_COLUMNS).not.toContain('clickedLength');
    const a = await makeAgent('quality-estimate', {}, { envId: 'retention-v0', seed: 3 });
    const o = evaluateAgent('retention-v0', {}, a, { users: 40, seed: 11 });
    const v = Array.from(o.metrics.clickedLength!).filter(Number.isFinite);
    expect(v.length).toBeGreaterThan(30);
    for (const x of v) expect(x).toBeGreaterThanOrEqual(1), expect(x).toBeLessThanOrEqual(30);
    // An env without the feature gets no value (NaN), not a number read from another column.
    const b = await makeAgent('random', {}, { envId: 'interest-evolution-v0', seed: 3 });
    expect(Array.from(evaluateAgent('interest-evolution-v0', {}, b, { users: 5, seed: 1 }).metrics.clickedLength!).every(Number.isNaN)).toBe(true);
    // Through a run: stored per user, in the curve and in the summary with its own interval.
    const d = mkdtempSync(join(tmpdir(), 'egym-metric-'));
    const spec = { name: 'm', env: { id: 'retention-v0', params: { horizonDays: 3 } }, agents: [{ id: 'random' }, { id: 'quality-estimate' }], seeds: 2, train: { userSteps: 0 }, final: { users: 30 } };
    const r = await runExperiment(spec, { workers: 0, out: d });
    const g = r.summary!.groups.find((x) => x.label === 'quality-estimate')!;
    expect(r.summary!.metrics.map((m) => m.key)).toContain('clickedLength');
    expect(g.metrics.clickedLength!.mean).toBeGreaterThan(1);
    expect(g.vsBaseline!.clickedLength).toBeDefined();
  });
});

describe('discounted objectives (experiments/objectives.ts)', () => {
  it('J at gamma 1 and at a day discount of 1 are the lifetime return; discounting lowers them in order', async () => {
    const { discountedReturns } = await import('../../experiments/objectives.js');
    const envParams = { worldSeed: 0, horizonDays: 6 };
    const agent = await makeAgent('content-oracle', {}, { envId: 'retention-v1', envParams, seed: 0 });
    const j = discountedReturns('retention-v1', envParams, agent, { users: 30, seed: 5, gammas: [0.9, 0.99, 1], dayDiscounts: [0.5, 0.8, 1] });
    const ret = evaluateAgent('retention-v1', envParams, agent, { users: 30, seed: 5 }).return;
    const lifetime = Array.from(ret).reduce((a, b) => a + b, 0) / 30;
    expect(j.perStep['gamma 1']).toBeCloseTo(lifetime, 6);
    expect(j.perDay['day 1']).toBeCloseTo(lifetime, 6);
    expect(j.perStep['gamma 0.9']!).toBeLessThan(j.perStep['gamma 0.99']!);
    expect(j.perStep['gamma 0.99']!).toBeLessThan(lifetime);
    expect(j.perDay['day 0.5']!).toBeLessThan(j.perDay['day 0.8']!);
    expect(j.perDay['day 0.8']!).toBeLessThan(lifetime);
    await expect(makeAgent('random', {}, { envId: 'interest-evolution-v0', seed: 0 }).then((a) => discountedReturns('interest-evolution-v0', {}, a, { users: 2, seed: 0, gammas: [1], dayDiscounts: [1] }))).rejects.toThrow(/needs the user feature "day"/);
  });

  it('with explore, the exploring policy: its lifetime return is the evaluation\'s with explore, not the greedy one', async () => {
    const { discountedReturns } = await import('../../experiments/objectives.js');
    const envParams = { worldSeed: 0, horizonDays: 4 };
    const make = () => makeAgent('item-stat-rank', { stat: 'rewardPerLength' }, { envId: 'retention-v1', envParams, seed: 3 });
    const opts = { users: 40, seed: 5, gammas: [1], dayDiscounts: [1] };
    const lifetime = (r: Float64Array | number[]) => Array.from(r).reduce((a, b) => a + b, 0) / 40;
    const sampled = discountedReturns('retention-v1', envParams, await make(), { ...opts, explore: true }).perStep['gamma 1']!;
    const greedy = discountedReturns('retention-v1', envParams, await make(), opts).perStep['gamma 1']!;
    expect(sampled).toBeCloseTo(lifetime(evaluateAgent('retention-v1', envParams, await make(), { users: 40, seed: 5, explore: true }).return), 6);
    expect(greedy).toBeCloseTo(lifetime(evaluateAgent('retention-v1', envParams, await make(), { users: 40, seed: 5 }).return), 6);
    expect(sampled).not.toBeCloseTo(greedy, 1);
  });
});
