/**
 * What the README claims about issue 9's targets, held against the committed reference runs it quotes: where a
 * target is called met, the run meets it (seed-level intervals, paired by seed on the same held-out users); where
 * the README says a simple ranker still beats the deep agents, the run shows that too. A rerun that changed either
 * way fails here until the README's words are changed with it.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compareGroups } from '../../experiments/compare.js';
import type { Summary } from '../../experiments/summary.js';

const reference = (name: string) => {
  const dir = new URL(`../../results/reference/${name}/`, import.meta.url);
  return {
    summary: JSON.parse(readFileSync(new URL('summary.json', dir), 'utf8')) as Summary,
    spec: JSON.parse(readFileSync(new URL('spec.json', dir), 'utf8')) as { env: { id: string; params: Record<string, unknown> }; seeds: number[]; final: { users: number } },
  };
};
const group = (s: Summary, label: string) => {
  const g = s.groups.find((x) => x.label === label);
  if (!g) throw new Error(`no agent ${label} in ${s.experiment}`);
  return g;
};
/** The paired difference a - b over seeds, and its interval. */
const paired = (s: Summary, a: string, b: string) => compareGroups(s, a, b);

describe("issue 9's targets in the committed reference runs", () => {
  it('interest-evolution-v0 with 10 candidates and slates of 3: PPO (with history) at least 250, its whole interval over 5 seeds too', () => {
    const { summary, spec } = reference('recsim-ppo');
    expect(spec.env.id).toBe('interest-evolution-v0');
    expect([spec.env.params.numCandidates, spec.env.params.slateSize]).toEqual([10, 3]);
    expect(spec.seeds.length).toBeGreaterThanOrEqual(3);
    const r = group(summary, 'ppo-history').metrics.return!;
    expect(r.lo).toBeGreaterThanOrEqual(250);
    // ... and, as the README says, the observable heuristic is level with it (an interval that includes 0).
    const h = paired(summary, 'ppo-history', 'revealed-quality');
    expect(h.lo).toBeLessThan(0);
    expect(h.hi).toBeGreaterThan(0);
  });

  it('retention-v1 (the flagship): PPO (two settings) and REINFORCE top-K reach 0.7 normalized and beat the supervised baseline, the best observable heuristic and the tabular agents, paired intervals excluding 0', () => {
    const { summary, spec } = reference('flagship');
    expect(spec.env.id).toBe('retention-v1');
    expect(spec.seeds.length).toBeGreaterThanOrEqual(3);
    for (const deep of ['ppo-items-tuned', 'reinforce-items', 'ppo-items-wide']) {
      expect(group(summary, deep).normalized!.mean).toBeGreaterThanOrEqual(0.7);
      for (const other of ['supervised', 'embedding2-lowest', 'q-learning', 'sarsa']) {
        const d = paired(summary, deep, other);
        expect(d.lo, `${deep} - ${other}`).toBeGreaterThan(0);
      }
    }
    // ... and the wide part on the item columns is a gain over ppo-items-tuned, paired by seed (README).
    expect(paired(summary, 'ppo-items-wide', 'ppo-items-tuned').lo).toBeGreaterThan(0);
    // embedding2-lowest is the best observable non-learning heuristic of the table.
    const heuristics = ['topic-affinity', 'topic-affinity-diverse', 'topic-rotation', 'longest-first', 'embedding2-lowest', 'popularity'];
    const best = heuristics.reduce((a, b) => (group(summary, a).metrics.return!.mean >= group(summary, b).metrics.return!.mean ? a : b));
    expect(best).toBe('embedding2-lowest');
  });

  it('retention-v1: and the one-statistic ranker is still above every deep agent, on every seed (what the README says plainly)', () => {
    const { summary } = reference('flagship');
    for (const deep of ['ppo-items-tuned', 'reinforce-items', 'ppo-items', 'ppo-items-wide']) {
      const d = paired(summary, 'item-watch-rank', deep);
      // For ppo-items-wide the interval includes 0 (-21.5 [-43.9, 1.0]); what the README says is below on every seed.
      if (deep === 'ppo-items-wide') expect(d.lo, `item-watch-rank - ${deep}`).toBeLessThan(0);
      else expect(d.lo, `item-watch-rank - ${deep}`).toBeGreaterThan(0);
      expect(d.aValues.every((v, i) => v > d.bValues[i]!)).toBe(true);
    }
  });

  it('retention-v0: PPO (per-day discount) and SlateQ (dueling, item statistics) level with quality-estimate: paired intervals that include 0', () => {
    const { summary, spec } = reference('retention-v0-deep');
    expect(spec.env.id).toBe('retention-v0');
    expect(spec.seeds.length).toBeGreaterThanOrEqual(3);
    for (const deep of ['ppo-day', 'slateq-day-dueling-items']) {
      const d = paired(summary, deep, 'quality-estimate');
      expect(d.lo, deep).toBeLessThan(0);
      expect(d.hi, deep).toBeGreaterThan(0);
    }
    // ... and the best observable heuristic found, quality-length-appeal, is above every learner there.
    const learners = summary.groups.filter((g) => !g.oracle && !['quality-estimate', 'quality-length-appeal', 'random'].includes(g.label)).map((g) => g.label);
    expect(learners.length).toBeGreaterThanOrEqual(10);
    for (const l of learners) expect(paired(summary, 'quality-length-appeal', l).diff, l).toBeGreaterThan(0);
  });
});
