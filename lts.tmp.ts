import { makeAgent } from './agents/index.js';
import { trainAgent } from './agents/loop.js';
import { makeVec } from './envs/registry.js';
import { evaluateAgent } from './experiments/evaluate.js';
const envParams = { sensitivity: 0.3 };
const id = process.argv[2]!; const steps = Number(process.argv[3]);
const myo = await makeAgent('myopic-oracle', {}, { envId: 'long-term-satisfaction-v0', envParams, seed: 0 });
const m = evaluateAgent('long-term-satisfaction-v0', envParams, myo, { users: 200, seed: 5 });
for (const seed of [0, 1]) {
  const agent = await makeAgent(id, JSON.parse(process.argv[4] ?? '{}'), { envId: 'long-term-satisfaction-v0', envParams, seed });
  const t0 = performance.now();
  const r = trainAgent(agent, makeVec('long-term-satisfaction-v0', envParams, { numEnvs: Number(process.env.NE ?? 32) }), { steps, seed });
  const a = evaluateAgent('long-term-satisfaction-v0', envParams, agent, { users: 200, seed: 5 });
  const d = Array.from(a.return, (v, i) => v - m.return[i]!);
  const mean = d.reduce((x, y) => x + y, 0) / d.length;
  const sd = Math.sqrt(d.reduce((x, y) => x + (y - mean) ** 2, 0) / (d.length - 1));
  console.log(id, seed, 'agent', (a.return.reduce((x, y) => x + y, 0) / 200).toFixed(1), 'myopic', (m.return.reduce((x, y) => x + y, 0) / 200).toFixed(1), 'diff', mean.toFixed(1), '+-', (1.96 * sd / Math.sqrt(200)).toFixed(1), 'ms', (performance.now() - t0).toFixed(0));
}
