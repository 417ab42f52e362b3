/**
 * What a learner's slates hold that `item-watch-rank`'s would not (experiments/probe-retention-v1-stats.ts and
 * probe-retention-v1-budget.ts): a learner wrapped so that, as it acts, the ranker reading the same per-item
 * statistics ranks the same candidates, and the items only one of them shows are averaged column by column.
 */
import type { Agent, AgentContext, AgentObservation } from '../agents/api.js';
import type { Layout } from '../envs/core.js';
import { InvalidArgument } from '../envs/errors.js';
import { mean, pairedDifference } from './stats.js';
import type { ItemFeedback } from '../policies/item-feedback.js';

/** The item statistics an agent with `itemFeedback` (or item-stat-rank) keeps. */
export const statsOf = (a: Agent): ItemFeedback => {
  const items = (a as unknown as { items: ItemFeedback | null }).items;
  if (!items) throw new InvalidArgument('probe: the agent keeps no item statistics');
  return items;
};

/** The columns `picks` averages, in this order. */
export const PICK_COLUMNS = ['clickRate', 'rewardPerClick', 'logShows', 'watchedFraction', 'length', 'quality', 'watchedFractionRank'] as const;
export type PickMeans = Record<(typeof PICK_COLUMNS)[number], number>;
export interface Picks {
  /** Share of the learner's slate items that the ranker would not show. */
  learnerOnlyShare: number;
  learnerOnly: PickMeans;
  rankerOnly: PickMeans;
  all: PickMeans;
}

/**
 * The learner, acting as itself, counting how many of its slate's items the ranker would also show, and, over
 * the same steps, averaging for the items only the learner shows, the items only the ranker would show and all
 * candidates: the item columns of `stats` (click rate, reward per click, log(1 + shows), reward per length, i.e.
 * the watched fraction), the length, the hidden true quality (read through `observation.hidden`, as the oracles
 * read it; no learner sees it) and the rank by the watched-fraction column (0 the highest). `stats` are the
 * statistics the ranker reads (the learner's own, loaded into it); the layout is the env's (a length column).
 */
export function withOverlap(learner: Agent, ranker: Agent, stats: ItemFeedback, layout: Layout): { agent: Agent; overlap: () => number; picks: () => Picks } {
  let same = 0;
  let shown = 0;
  const C = PICK_COLUMNS.length;
  const sums = { learnerOnly: new Float64Array(C), rankerOnly: new Float64Array(C), all: new Float64Array(C) };
  const counts = { learnerOnly: 0, rankerOnly: 0, all: 0 };
  const { N, F } = layout;
  const W = F + stats.extra;
  const length = layout.candidateFeatures.find((c) => c.name === 'length' && c.size === 1);
  if (!length || stats.extra < 4) throw new InvalidArgument('picks: the candidates need a one-column length feature and the statistics a reward-per-length column (retention-v0, retention-v1)');
  const lengthAt = length.offset;
  let rows = new Float32Array(0);
  const agent = new Proxy(learner, {
    get(target, prop, receiver) {
      if (prop !== 'act') return Reflect.get(target, prop, receiver) as unknown;
      return (obs: AgentObservation, ctx: AgentContext) => {
        const a = target.act(obs, ctx);
        const K = a.length / obs.B;
        const r = ranker.act(obs, ctx);
        if (rows.length < obs.B * N * W) rows = new Float32Array(obs.B * N * W);
        stats.augment(obs.candidates, obs.itemIds, obs.B, N, rows);
        const quality = obs.hidden!(['quality']).quality!.data;
        for (let s = 0; s < obs.B; s++) {
          if (!obs.active[s]) continue;
          for (let k = 0; k < K; k++) {
            for (let j = 0; j < K; j++) if (r[s * K + j] === a[s * K + k]) same++;
          }
          shown += K;
          const at = (i: number) => (s * N + i) * W + F;
          const rank = new Int32Array(N);
          for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (rows[at(j) + 3]! > rows[at(i) + 3]! || (rows[at(j) + 3] === rows[at(i) + 3] && j < i)) rank[i]!++;
          const add = (into: keyof typeof counts, i: number) => {
            const v = [rows[at(i)]!, rows[at(i) + 1]!, rows[at(i) + 2]!, rows[at(i) + 3]!, obs.candidates[(s * N + i) * F + lengthAt]!, quality[s * N + i]!, rank[i]!];
            for (let c = 0; c < C; c++) sums[into][c]! += v[c]!;
            counts[into]++;
          };
          const mine = new Set(a.subarray(s * K, (s + 1) * K));
          const theirs = new Set(r.subarray(s * K, (s + 1) * K));
          for (const i of mine) if (!theirs.has(i)) add('learnerOnly', i);
          for (const i of theirs) if (!mine.has(i)) add('rankerOnly', i);
          for (let i = 0; i < N; i++) add('all', i);
        }
        return a;
      };
    },
  });
  const means = (k: keyof typeof counts) => Object.fromEntries(PICK_COLUMNS.map((c, j) => [c, sums[k][j]! / counts[k]])) as PickMeans;
  return { agent, overlap: () => same / shown, picks: () => ({ learnerOnlyShare: counts.learnerOnly / shown, learnerOnly: means('learnerOnly'), rankerOnly: means('rankerOnly'), all: means('all') }) };
}

/** Over seeds: the mean of each column's per-seed means, and learner-only minus ranker-only paired by seed. */
export function summarizePicks(perSeed: Picks[]) {
  const col = (f: (p: Picks) => number) => perSeed.map(f);
  return Object.fromEntries(
    PICK_COLUMNS.map((c) => [c, { learnerOnly: mean(col((p) => p.learnerOnly[c])), rankerOnly: mean(col((p) => p.rankerOnly[c])), all: mean(col((p) => p.all[c])), difference: pairedDifference(col((p) => p.learnerOnly[c]), col((p) => p.rankerOnly[c])) }]),
  );
}
