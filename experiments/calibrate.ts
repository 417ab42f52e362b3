/**
 * The calibration of a multi-session env (retention-v1 by default): every reference policy, the observable
 * non-learning heuristics and the untrained tabular agents on the same held-out users (paired), with the
 * targets of the flagship env checked. `egym calibrate` prints it and writes results/bench/calibration-<env>.json;
 * test/retention-v1.test.ts asserts the same targets through the same function.
 *
 * Targets (issue "An honest flagship", on >= 1,500 users): under random, mean session length in [5, 30]
 * steps, mean return gap in [1, 4] days, 30-day churn in [20%, 60%]; the myopic click maximizer earns less
 * than random (paired 95% CI); myopic-oracle's normalized score at most 0.5; the best observable non-learning
 * heuristic's at most 0.4; the ceiling at least 1.5 x random (paired 95% CI); untrained Q-learning and SARSA
 * within noise of random (paired 95% CI covers 0). Normalized score: (policy - random) / (ceiling - random).
 */
import { normalMeanCi } from './stats.js';
import { evaluateAgent, type UserOutcomes } from './evaluate.js';
import { agentEnvInfo, makeAgent } from '../agents/index.js';
import { make } from '../envs/registry.js';

export type CalibrationRole = 'floor' | 'oracle' | 'ceiling' | 'heuristic' | 'untrained';

export interface CalibrationRow {
  label: string;
  agent: string;
  params: Record<string, unknown>;
  role: CalibrationRole;
  return: { mean: number; lo: number; hi: number };
  normalized: number;
  vsRandom: { mean: number; lo: number; hi: number };
  activeDays: number;
  churn: number;
  firstSessionCtr: number;
  sessionLength: number;
  returnGap: number;
}

export interface CalibrationTarget {
  name: string;
  value: number;
  allowed: string;
  pass: boolean;
}

export interface Calibration {
  env: string;
  envParams: Record<string, unknown>;
  users: number;
  population: number;
  rows: CalibrationRow[];
  bestHeuristic: string;
  targets: CalibrationTarget[];
}

/** The policies of the calibration: label, agent id, params, role. */
export function calibrationPolicies(envId: string, envParams: Record<string, unknown> = {}): [string, string, Record<string, unknown>, CalibrationRole][] {
  const layout = make(envId, envParams).layout;
  const emb = layout.candidateFeatures.find((f) => f.name === 'embedding');
  const list: [string, string, Record<string, unknown>, CalibrationRole][] = [
    ['random', 'random', {}, 'floor'],
    ['myopic-click', 'myopic-click', {}, 'oracle'],
    ['myopic-oracle', 'myopic-oracle', {}, 'oracle'],
    ['ceiling-oracle', 'ceiling-oracle', {}, 'ceiling'],
    ...(agentEnvInfo(envId, envParams).hiddenNames.includes('contentQuality') ? [['content-oracle', 'content-oracle', {}, 'oracle'] as [string, string, Record<string, unknown>, CalibrationRole]] : []),
    ['topic-affinity', 'topic-affinity', {}, 'heuristic'],
    ['topic-affinity-diverse', 'topic-affinity', { diversify: true, repeatPenalty: 0.2 }, 'heuristic'],
    ['topic-rotation', 'topic-rotation', {}, 'heuristic'],
    ['popularity (untrained)', 'popularity', {}, 'heuristic'],
    ['longest-first', 'feature-rank', { feature: 'length', descending: true }, 'heuristic'],
    ['shortest-first', 'feature-rank', { feature: 'length', descending: false }, 'heuristic'],
  ];
  if (emb) {
    for (let k = 0; k < emb.size; k++) {
      list.push([`embedding${k}-highest`, 'feature-rank', { feature: 'embedding', column: k, descending: true }, 'heuristic']);
      list.push([`embedding${k}-lowest`, 'feature-rank', { feature: 'embedding', column: k, descending: false }, 'heuristic']);
    }
  }
  if (layout.candidateFeatures.some((f) => f.name === 'qualityEstimate')) list.push(['quality-estimate', 'quality-estimate', {}, 'heuristic']);
  list.push(['q-learning (untrained)', 'q-learning', {}, 'untrained'], ['sarsa (untrained)', 'sarsa', {}, 'untrained']);
  return list;
}

export async function runCalibration(opts: { env?: string; envParams?: Record<string, unknown>; users?: number; seed?: number; onRow?: (r: CalibrationRow) => void } = {}): Promise<Calibration> {
  const env = opts.env ?? 'retention-v1';
  const envParams = opts.envParams ?? {};
  const users = opts.users ?? 1500;
  const population = opts.seed ?? 2024;
  const outs = new Map<string, UserOutcomes>();
  const policies = calibrationPolicies(env, envParams);
  for (const [label, id, params] of policies) {
    const a = await makeAgent(id, params, { envId: env, envParams, seed: 1 });
    outs.set(label, evaluateAgent(env, envParams, a, { users, seed: population }));
  }
  const rnd = outs.get('random')!;
  const ceil = outs.get('ceiling-oracle')!;
  const rMean = normalMeanCi(rnd.return).mean;
  const cMean = normalMeanCi(ceil.return).mean;
  const rows: CalibrationRow[] = policies.map(([label, agent, params, role]) => {
    const o = outs.get(label)!;
    const r = normalMeanCi(o.return);
    const row: CalibrationRow = {
      label,
      agent,
      params,
      role,
      return: r,
      normalized: (r.mean - rMean) / (cMean - rMean),
      vsRandom: normalMeanCi(Array.from(o.return, (v, i) => v - rnd.return[i]!)),
      activeDays: normalMeanCi(o.activeDays).mean,
      churn: normalMeanCi(o.churned).mean,
      firstSessionCtr: normalMeanCi(o.firstSessionCtr).mean,
      sessionLength: normalMeanCi(o.sessionLengths).mean,
      returnGap: normalMeanCi(o.returnGaps).mean,
    };
    opts.onRow?.(row);
    return row;
  });
  const row = (l: string) => rows.find((r) => r.label === l)!;
  const heur = rows.filter((r) => r.role === 'heuristic');
  const best = heur.reduce((a, b) => (b.normalized > a.normalized ? b : a));
  const ceilVs15 = normalMeanCi(Array.from(ceil.return, (v, i) => v - 1.5 * rnd.return[i]!));
  const t = (name: string, value: number, allowed: string, pass: boolean): CalibrationTarget => ({ name, value, allowed, pass });
  const targets = [
    t('random: mean session length (steps)', row('random').sessionLength, '[5, 30]', row('random').sessionLength >= 5 && row('random').sessionLength <= 30),
    t('random: mean return gap (days)', row('random').returnGap, '[1, 4]', row('random').returnGap >= 1 && row('random').returnGap <= 4),
    t('random: 30-day churn', row('random').churn, '[0.2, 0.6]', row('random').churn >= 0.2 && row('random').churn <= 0.6),
    t('myopic-click - random: upper end of the paired 95% CI', row('myopic-click').vsRandom.hi, '< 0', row('myopic-click').vsRandom.hi < 0),
    t('myopic-oracle: normalized score', row('myopic-oracle').normalized, '<= 0.5', row('myopic-oracle').normalized <= 0.5),
    t(`best observable heuristic (${best.label}): normalized score`, best.normalized, '<= 0.4', best.normalized <= 0.4),
    t('ceiling - 1.5 x random: lower end of the paired 95% CI', ceilVs15.lo, '> 0', ceilVs15.lo > 0),
  ];
  for (const l of ['q-learning (untrained)', 'sarsa (untrained)']) {
    const v = row(l).vsRandom;
    targets.push(t(`${l} - random: paired 95% CI covers 0`, v.mean, `CI [${v.lo.toFixed(1)}, ${v.hi.toFixed(1)}] covers 0`, v.lo <= 0 && v.hi >= 0));
  }
  return { env, envParams, users, population, rows, bestHeuristic: best.label, targets };
}

export function formatCalibration(c: Calibration): string {
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const head = ['policy', 'role', 'lifetime minutes [95% CI]', 'normalized', 'vs random (paired) [95% CI]', 'active days', '30-day churn', '1st-session CTR', 'session steps', 'return gap (d)'];
  const rows = [head];
  for (const r of c.rows) {
    rows.push([
      r.label,
      r.role,
      `${f(r.return.mean)} [${f(r.return.lo)}, ${f(r.return.hi)}]`,
      f(r.normalized, 3),
      r.label === 'random' ? '-' : `${r.vsRandom.mean >= 0 ? '+' : ''}${f(r.vsRandom.mean)} [${f(r.vsRandom.lo)}, ${f(r.vsRandom.hi)}]`,
      f(r.activeDays, 2),
      `${f(100 * r.churn)}%`,
      f(r.firstSessionCtr, 3),
      f(r.sessionLength),
      f(r.returnGap, 2),
    ]);
  }
  const w = head.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  const lines = [`${c.env}, ${c.users} held-out users of population ${c.population} (the same users for every policy), normalized score = (policy - random) / (ceiling-oracle - random)`, ''];
  for (const r of rows) lines.push(r.map((v, j) => (j < 2 ? v.padEnd(w[j]!) : v.padStart(w[j]!))).join('  '));
  lines.push('', 'targets:');
  for (const t of c.targets) lines.push(`  ${t.pass ? 'ok  ' : 'FAIL'} ${t.name}: ${f(t.value, 3)} (allowed ${t.allowed})`);
  return lines.join('\n');
}
