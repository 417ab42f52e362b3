/**
 * REINFORCE top-K's params and definition, apart from reinforce-topk.ts so that listing and validating them does not load
 * TensorFlow.js.
 */
import { defineParams, param, type ParamsOf } from '../envs/params.js';
import { BACKEND_CHOICES } from '../policies/backend-choices.js';
import { defineAgent, makeAgent } from './registry.js';

export const reinforceTopKParams = defineParams({
  behaviour: param.enum({ default: 'supervised', values: ['supervised', 'random', 'popularity', 'quality-estimate'], description: 'logging policy' }),
  behaviourEpsilon: param.number({ default: 0.2, min: 0, max: 1, description: 'share of uniform slates in the logging policy (support for off-policy learning)' }),
  logUsers: param.int({ default: 500, min: 1, max: 1e7, description: 'users logged' }),
  gamma: param.number({ default: 0.99, min: 0, max: 1, description: 'discount of the logged returns' }),
  topK: param.int({ default: 5, min: 1, max: 10000, description: 'K of the top-K correction' }),
  capWeight: param.number({ default: Math.exp(3), min: 1, max: 1e9, description: 'cap c on the importance weight pi / beta' }),
  epochs: param.int({ default: 5, min: 1, max: 10000, description: 'passes over the logged data' }),
  batchSize: param.int({ default: 256, min: 1, max: 65536, description: 'minibatch size' }),
  lr: param.number({ default: 1e-3, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate' }),
  hidden: param.int({ default: 64, min: 1, max: 4096, description: 'hidden units of pi and beta' }),
  backend: param.enum({ default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' }),
});
export type ReinforceTopKParams = ParamsOf<typeof reinforceTopKParams>;

export const reinforceTopKAgent = defineAgent({
  id: 'reinforce-topk',
  description: 'REINFORCE with top-K off-policy correction, trained offline on trajectories logged by a behaviour policy (the supervised baseline by default)',
  source: 'Chen, Beutel, Covington, Jain, Belletti and Chi, WSDM 2019; Williams 1992 (REINFORCE)',
  oracle: false,
  usesTf: true,
  // Its own logged users, and the 200 that the supervised behaviour policy logs to train first.
  setupUsers: (p) => p.logUsers + (p.behaviour === 'supervised' ? 200 : 0),
  params: reinforceTopKParams,
  create: async (p, env, seed) =>
    (await import('./reinforce-topk.js')).ReinforceTopKAgent.create(p, env, seed, (b, s) =>
      makeAgent(b, b === 'supervised' ? { logUsers: 200, epochs: 5 } : {}, { envId: env.envId, envParams: env.params, seed: s }),
    ),
});
