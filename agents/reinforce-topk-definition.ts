/**
 * REINFORCE top-K's params and definition, apart from reinforce-topk.ts so that listing and validating them does not load
 * TensorFlow.js.
 */
import { defineParams, param, paramConstraint, type ParamsOf } from '../envs/params.js';
import { BACKEND_CHOICES } from '../policies/backend-choices.js';
import { defineAgent, makeAgent } from './registry.js';
import { checkWideParams } from './wide-params.js';

export const reinforceTopKParams = defineParams({
  mode: param.enum({ default: 'offline', values: ['offline', 'online'], description: "offline: from trajectories a behaviour policy logged before training (the paper's setting); online: from the trajectories of the agent's own sampled slates, each finished user's trajectory joining the next update, the sampling probabilities kept as beta" }),
  behaviour: param.enum({ default: 'supervised', values: ['supervised', 'random', 'popularity', 'quality-estimate'], description: 'offline: the logging policy' }),
  behaviourEpsilon: param.number({ default: 0.2, min: 0, max: 1, description: 'offline: share of uniform slates in the logging policy (support for off-policy learning)' }),
  logUsers: param.int({ default: 500, min: 1, max: 1e7, description: 'offline: users logged' }),
  gamma: param.number({ default: 0.99, min: 0, max: 1, description: 'discount per step of the returns' }),
  dayDiscount: param.number({ default: 1, min: 0, max: 1, minExclusive: true, description: 'online: discount per calendar day elapsed (multi-session envs with a "day" user feature): a step is discounted by gamma x dayDiscount^(days elapsed); 1: per-step discounting only' }),
  itemFeedback: param.boolean({ default: false, description: "online: append to each candidate's features the item's smoothed click rate, reward per click, log(1 + shows) and (candidates with a length) reward per click per unit of length, counted from the agent's own training steps and frozen in evaluation (catalogue envs; policies/item-feedback.ts)" }),
  baseline: param.enum({ default: 'none', values: ['none', 'value'], description: "online: none (the paper's loss: returns normalized over the update) or value: a learned state value of the normalized return subtracted from it (REINFORCE with baseline, Williams 1992; Sutton & Barto 2018, 13.4)" }),
  entCoef: param.number({ default: 0, min: 0, max: 100, description: 'online: weight of the entropy of pi over the candidates, added to the objective (0: the paper\'s loss)' }),
  updateSteps: param.int({ default: 4096, min: 1, max: 1e9, description: 'online: user-steps of finished trajectories gathered before each update (epochs passes over them, then they are dropped)' }),
  topK: param.int({ default: 5, min: 1, max: 10000, description: 'K of the top-K correction' }),
  capWeight: param.number({ default: Math.exp(3), min: 1, max: 1e9, description: 'cap c on the importance weight pi / beta' }),
  epochs: param.int({ default: 5, min: 1, max: 10000, description: 'passes over the logged data (online: over each update\'s trajectories)' }),
  batchSize: param.int({ default: 256, min: 1, max: 65536, description: 'minibatch size' }),
  lr: param.number({ default: 1e-3, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate' }),
  hidden: param.int({ default: 64, min: 1, max: 4096, description: 'hidden units of pi and beta' }),
  wide: param.boolean({ default: false, description: "pi's scores: add a linear term in the candidate features to every candidate's score (the wide part of Wide & Deep, Cheng et al. 2016; zero at init)" }),
  wideColumns: param.enum({ default: 'all', values: ['all', 'itemFeedback'], description: "with wide: the candidate columns of the linear term. all: every column pi sees; itemFeedback: only the per-item statistic columns itemFeedback appends (smoothed click rate, reward per click, log(1 + shows), reward per unit of length), the memorization features a Wide & Deep model's wide part is for, as PPO's option" }),
  wideLrScale: param.number({ default: 1, min: 0, max: 1e4, minExclusive: true, description: "with wide: the wide part's Adam learning rate as a multiple of lr (Wide & Deep trains its wide part with its own optimizer and rate), as PPO's option. 1: one learning rate" }),
  backend: param.enum({ default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' }),
});
export type ReinforceTopKParams = ParamsOf<typeof reinforceTopKParams>;

/** Params that only the offline mode reads (the logging of trajectories before training). */
const OFFLINE_ONLY = ['behaviour', 'behaviourEpsilon', 'logUsers'] as const;
/** Params that only the online mode reads (its own trajectories, their returns, its updates). */
const ONLINE_ONLY = ['dayDiscount', 'itemFeedback', 'baseline', 'entCoef', 'updateSteps'] as const;

export const reinforceTopKAgent = defineAgent({
  id: 'reinforce-topk',
  description: 'REINFORCE with top-K off-policy correction, trained offline on trajectories logged by a behaviour policy (the supervised baseline by default), or online on its own',
  source: 'Chen, Beutel, Covington, Jain, Belletti and Chi, WSDM 2019; Williams 1992 (REINFORCE); Sutton & Barto 2018, 13.4 (REINFORCE with baseline); Cheng et al. 2016 (Wide & Deep: the wide option)',
  oracle: false,
  usesTf: true,
  // Offline: its own logged users, and the 200 that the supervised behaviour policy logs to train first.
  setupUsers: (p) => (p.mode === 'online' ? 0 : p.logUsers + (p.behaviour === 'supervised' ? 200 : 0)),
  check: (p) => {
    // A param of the other mode would be silently ignored: refuse it when it is set away from its default. (Only
    // the value can tell: resolved params, which the runner resolves again, hold every name.)
    const wrongMode = (p.mode === 'online' ? OFFLINE_ONLY : ONLINE_ONLY).filter((k) => p[k] !== reinforceTopKParams.shape[k].meta.default);
    paramConstraint(
      'agent reinforce-topk',
      wrongMode.length === 0,
      `${wrongMode.map((k) => `${k} ${JSON.stringify(p[k])}`).join(', ')}: only mode "${p.mode === 'online' ? 'offline' : 'online'}" reads ${wrongMode.length === 1 ? 'it' : 'them'}, and this agent has mode "${p.mode}"; leave ${wrongMode.length === 1 ? 'it' : 'them'} at the default or change the mode (offline-only: ${OFFLINE_ONLY.join(', ')}; online-only: ${ONLINE_ONLY.join(', ')})`,
    );
    // The wide part's options are only read with it (and its item columns only exist with itemFeedback): set
    // otherwise, they would be ignored.
    checkWideParams('reinforce-topk', p);
  },
  params: reinforceTopKParams,
  create: async (p, env, seed) =>
    (await import('./reinforce-topk.js')).ReinforceTopKAgent.create(p, env, seed, (b, s) =>
      makeAgent(b, b === 'supervised' ? { logUsers: 200, epochs: 5 } : {}, { envId: env.envId, envParams: env.params, seed: s }),
    ),
});
