import { makeAgent } from './agents/index.js';
import { PpoAgent } from './agents/ppo.js';
import { trainAgent } from './agents/loop.js';
import { makeVec } from './envs/registry.js';
import { valueIteration, startValue } from './agents/planning.js';
import { evaluateAgent } from './experiments/evaluate.js';
const envId = process.env.ENV ?? 'boredom-mdp-v0';
const envParams = JSON.parse(process.env.EP ?? '{}');
const steps = Number(process.argv[2] ?? 100);
for (const seed of [0,1,2]) {
  const agent = await makeAgent('ppo', JSON.parse(process.argv[3] ?? '{}'), { envId, envParams, seed }) as PpoAgent;
  const env = makeVec(envId, envParams, { numEnvs: Number(process.env.NE ?? 16) });
  const t0 = performance.now();
  const r = trainAgent(agent, env, { steps, seed });
  const dt = performance.now() - t0;
  const ev = evaluateAgent(envId, envParams, agent, { users: 1000, seed: 77 });
  let m = 0; for (const x of ev.return) m += x; m /= ev.return.length;
  let opt = NaN;
  if (agent.env.model) opt = startValue(agent.env.model, valueIteration(agent.env.model, 1).V);
  console.log(seed, 'eval', m.toFixed(3), 'opt', opt.toFixed(3), 'ratio', (m/opt).toFixed(3), 'sps', ((steps*env.numEnvs)/dt*1000).toFixed(0), JSON.stringify(r.metrics).slice(0, 300));
  agent.dispose();
}
