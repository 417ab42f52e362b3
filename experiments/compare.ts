/**
 * Paired comparison of any two agents of a run over seeds, from its summary.json: the unit of replication is
 * the seed, and every agent of a run is evaluated on the same final users for a seed, so the two agents'
 * per-seed values pair by seed. Per seed the difference of the two per-seed means; over the seeds both have,
 * its mean with a 95% t-interval, the paired t-test's p-value (S - 1 df; not corrected for multiplicity) and
 * P(a > b) over seeds (rliable's probability of improvement) with its bootstrap interval.
 *
 * Where both agents have a value for every user (the return, and every metric defined for all users), the
 * difference of the per-seed means equals the per-seed mean of the per-user differences, which is what the
 * summary's comparisons with the baseline use; for metrics undefined for some users (the return gap of a user
 * who never returned, say) it is the difference of the two means over each agent's own users.
 */
import { InvalidArgument } from '../envs/errors.js';
import { pairedDifference, probabilityOfImprovementCi } from './stats.js';
import type { GroupSummary, Summary } from './summary.js';

export interface SeedComparison {
  metric: string;
  a: string;
  b: string;
  pointIndex: number;
  /** The seeds both agents have a value for, and the values. */
  seeds: number[];
  aValues: number[];
  bValues: number[];
  diff: number;
  lo: number;
  hi: number;
  /** 100 x diff / |mean of b|. */
  relative: number;
  p: number;
  poi: number;
  poiLo: number;
  poiHi: number;
}

/** The metric's per-seed values of a group; `normalized` is the normalized score. */
function perSeedOf(g: GroupSummary, metric: string): number[] | undefined {
  if (metric === 'normalized') return g.normalized?.perSeed;
  return g.metrics[metric]?.perSeed;
}

export function compareGroups(s: Summary, a: string, b: string, opts: { metric?: string; point?: number } = {}): SeedComparison {
  const metric = opts.metric ?? 'return';
  const point = opts.point ?? 0;
  const points = [...new Set(s.groups.map((g) => g.pointIndex))];
  if (!points.includes(point)) throw new InvalidArgument(`point: the run has sweep points ${points.join(', ')}; got ${point}`);
  const labels = s.groups.filter((g) => g.pointIndex === point).map((g) => g.label);
  const find = (label: string, field: string) => {
    const g = s.groups.find((x) => x.pointIndex === point && x.label === label);
    if (!g) throw new InvalidArgument(`${field}: no agent labelled "${label}" in experiment ${s.experiment}${points.length > 1 ? ` at point ${point}` : ''}; its labels: ${labels.join(', ')}`);
    return g;
  };
  const ga = find(a, 'a');
  const gb = find(b, 'b');
  if (a === b) throw new InvalidArgument(`b: compare an agent with another one; both are "${a}"`);
  const metrics = ['normalized', ...s.metrics.map((m) => m.key)];
  if (!metrics.includes(metric)) throw new InvalidArgument(`metric: "${metric}" is not in this summary; allowed: ${metrics.join(', ')}`);
  for (const g of [ga, gb]) {
    if (Object.values(g.metrics).some((m) => !Array.isArray(m.perSeed))) throw new InvalidArgument(`a, b: the summary of ${s.experiment} has no per-seed values (written before summaries kept them); rebuild it with egym report <run folder> where the run's cells are kept, or rerun the spec`);
  }
  const va = perSeedOf(ga, metric);
  const vb = perSeedOf(gb, metric);
  if (va === undefined || vb === undefined) throw new InvalidArgument(`metric: ${va === undefined ? a : b} has no ${metric} values in this summary${metric === 'normalized' ? ' (the spec names no floor and ceiling, or a seed lacks them)' : ''}`);
  const seeds: number[] = [];
  const x: number[] = [];
  const y: number[] = [];
  ga.seeds.forEach((seed, i) => {
    const j = gb.seeds.indexOf(seed);
    const u = va[i];
    const v = j < 0 ? undefined : vb[j];
    // summary.json writes NaN as null.
    if (typeof u === 'number' && typeof v === 'number' && Number.isFinite(u) && Number.isFinite(v)) {
      seeds.push(seed);
      x.push(u);
      y.push(v);
    }
  });
  if (seeds.length === 0) throw new InvalidArgument(`a, b: ${a} (seeds ${ga.seeds.join(', ')}) and ${b} (seeds ${gb.seeds.join(', ')}) share no seed with a ${metric} value for both`);
  const d = pairedDifference(x, y);
  const poi = probabilityOfImprovementCi(x, y, { seed: 11 });
  return { metric, a, b, pointIndex: point, seeds, aValues: x, bValues: y, diff: d.mean, lo: d.lo, hi: d.hi, relative: d.relative, p: d.p, poi: poi.p, poiLo: poi.lo, poiHi: poi.hi };
}

/** The comparison as text: per seed, then the paired summary. */
export function comparisonText(c: SeedComparison): string {
  const f = (v: number, dgt = 1) => (Number.isFinite(v) ? v.toFixed(dgt) : '-');
  const dg = c.metric === 'normalized' || Math.max(...c.aValues.map(Math.abs), ...c.bValues.map(Math.abs)) < 10 ? 3 : 1;
  const sgn = (v: number) => (v >= 0 ? '+' : '') + f(v, dg);
  const lines = [`${c.metric}: ${c.a} vs ${c.b}, paired over ${c.seeds.length} seed${c.seeds.length === 1 ? '' : 's'}`, `seed  ${c.a}  ${c.b}  difference`];
  c.seeds.forEach((s, i) => lines.push(`${s}  ${f(c.aValues[i]!, dg)}  ${f(c.bValues[i]!, dg)}  ${sgn(c.aValues[i]! - c.bValues[i]!)}`));
  lines.push(`mean difference ${sgn(c.diff)} [${f(c.lo, dg)}, ${f(c.hi, dg)}] (95% t-interval over seeds), ${f(c.relative, 1)}% of ${c.b}; paired t-test p = ${c.p < 1e-4 ? c.p.toExponential(1) : f(c.p, 4)}; P(${c.a} > ${c.b}) = ${f(c.poi, 2)} [${f(c.poiLo, 2)}, ${f(c.poiHi, 2)}]`);
  return lines.join('\n');
}
