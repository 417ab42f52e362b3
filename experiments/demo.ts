/**
 * The short demo behind `npm start` (until the experiment runner exists): three reference policies on
 * retention-v0, evaluated on the same held-out users (paired), with lifetime engagement, active days,
 * 30-day churn and first-session CTR, and each policy's paired difference against random.
 */
import { normalMeanCi } from './stats.js';
import { evaluateAgent, type UserOutcomes } from './evaluate.js';
import { makeAgent } from '../agents/index.js';

export interface DemoRow {
  policy: string;
  oracle: boolean;
  engagement: number;
  engagementCi: [number, number];
  activeDays: number;
  churn: number;
  firstSessionCtr: number;
  sessionLength: number;
  returnGap: number;
  vsRandom: { diff: number; lo: number; hi: number };
}

export async function runDemo(users = 500, seed = 2026): Promise<DemoRow[]> {
  const policies = await Promise.all(['random', 'myopic-click', 'balanced'].map((id) => makeAgent(id, {}, { envId: 'retention-v0', seed })));
  const outs: UserOutcomes[] = policies.map((p) => evaluateAgent('retention-v0', {}, p, { users, seed }));
  const base = outs[0]!;
  return policies.map((p, k) => {
    const o = outs[k]!;
    const e = normalMeanCi(o.return);
    const d = normalMeanCi(Array.from(o.return, (v, i) => v - base.return[i]!));
    return {
      policy: p.id,
      oracle: p.oracle,
      engagement: e.mean,
      engagementCi: [e.lo, e.hi],
      activeDays: normalMeanCi(o.activeDays).mean,
      churn: normalMeanCi(o.churned).mean,
      firstSessionCtr: normalMeanCi(o.firstSessionCtr).mean,
      sessionLength: normalMeanCi(o.sessionLengths).mean,
      returnGap: normalMeanCi(o.returnGaps).mean,
      vsRandom: { diff: d.mean, lo: d.lo, hi: d.hi },
    };
  });
}

export function formatDemo(rows: DemoRow[], users: number): string {
  const f = (x: number, d = 1) => x.toFixed(d);
  const lines = [
    `retention-v0, ${users} held-out users (the same users for every policy), 30-day horizon`,
    '',
    'policy          lifetime minutes (95% CI)   active days   30-day churn   1st-session CTR   session steps   return gap (d)   vs random (paired, 95% CI)',
  ];
  for (const r of rows) {
    const name = r.policy + (r.oracle ? ' *' : '');
    const vs = r.policy === 'random' ? '-' : `${r.vsRandom.diff >= 0 ? '+' : ''}${f(r.vsRandom.diff)} [${f(r.vsRandom.lo)}, ${f(r.vsRandom.hi)}]`;
    lines.push(
      `${name.padEnd(16)}${`${f(r.engagement)} [${f(r.engagementCi[0])}, ${f(r.engagementCi[1])}]`.padEnd(28)}${f(r.activeDays, 2).padEnd(14)}${`${f(100 * r.churn)}%`.padEnd(15)}${f(r.firstSessionCtr, 3).padEnd(18)}${f(r.sessionLength).padEnd(16)}${f(r.returnGap, 2).padEnd(17)}${vs}`,
    );
  }
  lines.push('', '* oracle: reads the hidden choice model. The myopic click maximizer wins the first session and loses the month.');
  return lines.join('\n');
}
