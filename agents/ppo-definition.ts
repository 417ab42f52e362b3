/**
 * PPO's params and definition, apart from ppo.ts so that listing and validating them does not load
 * TensorFlow.js.
 */
import { defineParams, param, paramConstraint, type ParamsOf } from '../envs/params.js';
import { BACKEND_CHOICES } from '../policies/backend-choices.js';
import { checkConsumedParams, consumedParams } from './consumed-params.js';
import { checkWideParams } from './wide-params.js';
import { defineAgent } from './registry.js';

export const ppoParams = defineParams({
  lr: param.number({ default: 2.5e-4, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate (epsilon 1e-5)' }),
  annealLr: param.boolean({ default: true, description: 'linear learning-rate annealing to 0 over totalSteps' }),
  totalSteps: param.int({ default: 1_000_000, min: 1, max: 1e13, description: 'planned user-steps (for the annealing)' }),
  numSteps: param.int({ default: 128, min: 1, max: 1e6, description: 'rollout length per env' }),
  gamma: param.number({ default: 0.99, min: 0, max: 1, description: 'discount factor' }),
  dayDiscount: param.number({ default: 1, min: 0, max: 1, minExclusive: true, description: 'discount per calendar day elapsed (multi-session envs with a "day" user feature): between two steps the discount is gamma x dayDiscount^(days elapsed); 1: per-step discounting only' }),
  gaeLambda: param.number({ default: 0.95, min: 0, max: 1, description: 'GAE lambda' }),
  numMinibatches: param.int({ default: 4, min: 1, max: 1e6, description: 'minibatches per epoch' }),
  updateEpochs: param.int({ default: 4, min: 1, max: 1000, description: 'epochs per rollout' }),
  normAdv: param.boolean({ default: true, description: 'normalize advantages per minibatch' }),
  clipCoef: param.number({ default: 0.2, min: 0, max: 10, description: 'surrogate (and value) clipping' }),
  clipVloss: param.boolean({ default: true, description: 'clipped value loss' }),
  entCoef: param.number({ default: 0.01, min: 0, max: 10, description: 'entropy coefficient' }),
  vfCoef: param.number({ default: 0.5, min: 0, max: 100, description: 'value loss coefficient' }),
  maxGradNorm: param.number({ default: 0.5, min: 0, max: 1e6, minExclusive: true, description: 'global gradient norm clip' }),
  greedyServe: param.number({ default: 0, min: 0, max: 1, maxExclusive: true, description: "training: the share of users' steps served the policy's greedy top-K instead of a sampled slate (drawn per user and step); the policy gradient uses the sampled steps only, whose advantages then follow the mostly greedy policy after them; the critic learns from every step. 0: every step sampled (PPO)" }),
  temperatureEnd: param.number({ default: 1, min: 0.01, max: 1, description: "training: sample slates (and score their log-probabilities) over logits / T, T annealed linearly from 1 to temperatureEnd over totalSteps, so that the sampled policy sharpens on a schedule; exploring evaluation uses the current T; greedy slates are unchanged. 1: no temperature (PPO)" }),
  hidden: param.int({ default: 64, min: 1, max: 4096, description: 'hidden units of the actor and critic' }),
  hidden2: param.int({ default: 0, min: 0, max: 4096, description: 'second per-candidate layer of the scorer (0: thin head)' }),
  wide: param.boolean({ default: false, description: "the actor's scores: add a linear term in the candidate features to every candidate's score (the wide part of Wide & Deep, Cheng et al. 2016; zero at init)" }),
  wideSgdLr: param.number({ default: 0, min: 0, max: 100, description: "with wide: train the wide weights by plain gradient descent at this rate (annealed with lr, after the global-norm clip) instead of Adam, so that they move with the mean of their noisy gradients rather than about one rate per step in the direction of their sign. 0: Adam, as every other weight" }),
  wideColumns: param.enum({ default: 'all', values: ['all', 'itemFeedback'], description: "with wide: the candidate columns of the linear term. all: every column the actor sees; itemFeedback: only the per-item statistic columns itemFeedback appends (smoothed click rate, reward per click, log(1 + shows), reward per unit of length), the memorization features a Wide & Deep model's wide part is for, so that a larger wideLrScale moves those few weights and not the content columns' too" }),
  wideLrScale: param.number({ default: 1, min: 0, max: 1e4, minExclusive: true, description: "with wide: the wide part's learning rate as a multiple of lr (Wide & Deep trains its wide part with its own optimizer and rate); the few wide weights then move as far as that rate lets them while the deep part keeps lr. 1: one learning rate" }),
  episodeHistory: param.boolean({ default: false, description: 'append to the user features their running mean over the episode so far and log(1 + steps) (policies/history.ts)' }),
  ...consumedParams,
  normalizeObs: param.boolean({ default: true, description: 'running mean/std observation normalization' }),
  normalizeReward: param.boolean({ default: true, description: 'scale rewards by the running std of discounted returns' }),
  backend: param.enum({ default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' }),
});
export type PpoParams = ParamsOf<typeof ppoParams>;

export const ppoAgent = defineAgent({
  id: 'ppo',
  description: 'PPO with a permutation-equivariant slate policy (Gumbel top-K, Plackett-Luce log-probabilities), CleanRL details',
  source: 'Schulman et al. 2017 (PPO); Huang et al. 2022 (37 implementation details, CleanRL ppo.py); Schulman et al. 2016 (GAE); Cheng et al. 2016 (Wide & Deep: the wide option)',
  oracle: false,
  usesTf: true,
  check: (p) => {
    checkConsumedParams('ppo', p);
    // The wide part's options are only read with it: set without it, they would be ignored.
    checkWideParams('ppo', p);
    paramConstraint('agent ppo', p.wide || p.wideSgdLr === 0, `wideSgdLr ${p.wideSgdLr} trains the wide part by gradient descent: it needs wide true (got false)`);
    paramConstraint('agent ppo', p.wideSgdLr === 0 || p.wideLrScale === 1, `wideSgdLr ${p.wideSgdLr} takes the wide part out of Adam, so wideLrScale ${p.wideLrScale} (its Adam rate) would be ignored: set one of them`);
  },
  params: ppoParams,
  create: async (p, env, seed) => (await import('./ppo.js')).PpoAgent.create(p, env, seed),
});
