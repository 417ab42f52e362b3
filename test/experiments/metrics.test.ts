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
