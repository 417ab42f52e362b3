/**
 * The supervised agents' params and definitions, apart from agent.ts so that listing and validating them does
 * not load TensorFlow.js.
 */
import { defineParams, param, type ParamsOf } from '../../envs/params.js';
import { BACKEND_CHOICES } from '../../policies/backend-choices.js';
import { defineAgent, makeAgent } from '../registry.js';
const supervisedShape = {
  model: param.enum({ default: 'mlp', values: ['logistic', 'mlp', 'gru'], description: 'prediction model' }),
  target: param.enum({ default: 'engagement', values: ['engagement', 'click', 'watch'], description: 'ranking target: pCTR x E[watch | click], pCTR, or E[watch | click]' }),
  itemStats: param.boolean({ default: false, description: "per-item features fitted on the training split: smoothed click rate, watch per click, log impressions (catalogue envs)" }),
  serving: param.enum({
    default: 'topk',
    values: ['topk', 'mnl'],
    description: 'topk: the K best by the target; mnl (engagement target): the exact slate for predicted click odds as MNL attractions and predicted watch time as value (Dinkelbach)',
  }),
  logUsers: param.int({ default: 600, min: 10, max: 1e7, description: 'users logged for training' }),
  logPopulation: param.int({ default: -1, min: -1, max: 2 ** 52, description: 'population seed of the logged users (-1: 1,000,000 + agent seed)' }),
  behaviour: param.enum({ default: 'random', values: ['random', 'popularity', 'quality-estimate', 'myopic-oracle'], description: 'logging policy (random: uniform slates)' }),
  behaviourEpsilon: param.number({ default: 1, min: 0, max: 1, description: 'share of uniform random slates in the logging policy' }),
  hidden: param.int({ default: 128, min: 1, max: 4096, description: 'hidden units of the MLP / GRU head' }),
  gruUnits: param.int({ default: 32, min: 1, max: 1024, description: 'GRU state size' }),
  epochs: param.int({ default: 20, min: 1, max: 10000, description: 'maximum training epochs' }),
  batchSize: param.int({ default: 128, min: 1, max: 65536, description: 'minibatch size' }),
  lr: param.number({ default: 1e-3, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate' }),
  patience: param.int({ default: 3, min: 1, max: 1000, description: 'early stopping patience (epochs without a better validation loss)' }),
  backend: param.enum({ default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' }),
};
export const supervisedParams = defineParams(supervisedShape);
export const adaptiveSupervisedParams = defineParams({
  ...supervisedShape,
  retrainEvery: param.int({ default: 20000, min: 1, max: 1e12, description: 'user-steps between retrainings' }),
  window: param.int({ default: 200000, min: 100, max: 1e9, description: 'most recent impressions used for retraining' }),
  retrainEpochs: param.int({ default: 5, min: 1, max: 10000, description: 'maximum epochs per retraining' }),
  exploreEpsilon: param.number({ default: 0.1, min: 0, max: 1, description: 'share of uniform random slates served while training' }),
});
export type SupervisedParams = ParamsOf<typeof supervisedParams> | ParamsOf<typeof adaptiveSupervisedParams>;

/** The supervised agents' definitions (registered by agents/index.ts); the agent loads with TensorFlow.js when made. */
export const supervisedAgents = (['supervised', 'adaptive-supervised'] as const).map((id) =>
  defineAgent({
    id,
    description:
      id === 'supervised'
        ? 'the industry pipeline: click and watch-time models (logistic / MLP / GRU on TensorFlow.js) trained on logged data, ranking by predicted engagement'
        : 'the supervised pipeline with continual learning: periodic retraining on the most recent logged window',
    source: 'McMahan et al. 2013 (ad click prediction); Covington et al. 2016 (YouTube DNN ranking); Hidasi et al. 2016 (GRU4Rec)',
    oracle: false,
    usesTf: true,
    setupUsers: (p) => p.logUsers,
    // Fitting the click and watch models takes about 3 times as long as logging (flagship: about 30 s and 10 s).
    setupFitWeight: 3,
    params: (id === 'supervised' ? supervisedParams : adaptiveSupervisedParams) as typeof supervisedParams | typeof adaptiveSupervisedParams,
    create: async (p, env, seed) => {
      const { SupervisedAgent } = await import('./agent.js');
      return new SupervisedAgent(id, p, env, seed).init({ makeBehaviour: (b, s) => makeAgent(b, {}, { envId: env.envId, envParams: env.params, seed: s }) });
    },
  }),
);
