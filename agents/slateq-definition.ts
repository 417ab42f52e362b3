/**
 * SlateQ's params and definition, apart from slateq.ts so that listing and validating them does not load
 * TensorFlow.js.
 */
import { defineParams, param, type ParamsOf, withDefault } from '../envs/params.js';
import { BACKEND_CHOICES } from '../policies/backend-choices.js';
import { epsilonShape } from '../policies/schedules.js';
import { checkConsumedParams, consumedParams } from './consumed-params.js';
import { defineAgent } from './registry.js';

/** Slate rules: TS, GS, OS (Ie et al. 2019), or top-K by the item values alone. */
const SERVING_RULES = ['topk', 'greedy', 'optimal', 'value'] as const;

export const slateqParams = defineParams({
  choiceModel: param.enum({ default: 'auto', values: ['auto', 'env', 'learned', 'position0'], description: 'choice model (env: the true one, makes the agent an oracle)' }),
  serving: param.enum({ default: 'topk', values: SERVING_RULES, description: 'slate construction: TS, GS, OS, or top-K by the item values alone (value: the choice model unused in serving)' }),
  evalServing: param.enum({
    default: 'same',
    values: ['same', ...SERVING_RULES],
    description: "slate construction in evaluation only (same: as serving); training, exploration and SARSA's next slates keep serving",
  }),
  target: param.enum({ default: 'sarsa', values: ['sarsa', 'topk', 'greedy', 'optimal'], description: 'SARSA on the served next slate, or Q-learning with the TS / GS / OS next slate' }),
  gamma: param.number({ default: 0.99, min: 0, max: 1, description: 'discount factor' }),
  dayDiscount: param.number({ default: 1, min: 0, max: 1, minExclusive: true, description: 'discount per calendar day elapsed (multi-session envs with a "day" user feature): a transition is discounted by gamma x dayDiscount^(days elapsed); 1: per-step discounting only' }),
  nSteps: param.int({ default: 1, min: 1, max: 1000, description: "n-step targets: the discounted sum of the same user's next n rewards (fewer where the user's episode ends or its next transitions are not stored yet), then the bootstrap at the state after the last (n-step SARSA or uncorrected n-step Q-learning); needs every transition stored: a learned no-click value or a position-0 choice" }),
  lr: param.number({ default: 1e-3, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate' }),
  hidden: param.int({ default: 64, min: 1, max: 4096, description: 'hidden units of the Q network' }),
  hidden2: param.int({ default: 0, min: 0, max: 4096, description: 'second per-candidate layer of the Q network (0: thin head)' }),
  wide: param.boolean({ default: false, description: "Q(s, i): add a linear term in the candidate features to every candidate's score (the wide part of Wide & Deep, Cheng et al. 2016; zero at init)" }),
  noClickValue: param.enum({
    default: 'auto',
    values: ['auto', 'zero', 'learned'],
    description: "value of not clicking: zero (the paper's decomposition, click transitions only) or a learned state value trained on the no-click transitions (auto: learned on multi-session envs)",
  }),
  dueling: param.boolean({ default: false, description: 'with a learned no-click value: the item network outputs the advantage A(s, i) = Q(s, i) - Q0(s) of a click on i over not clicking, Q(s, i) = Q0(s) + A(s, i), so Q0 trains on every transition (the dueling split of Wang et al. 2016, with the no-click value as the state value)' }),
  ...consumedParams,
  replaySize: param.int({ default: 100_000, min: 10, max: 1e8, description: 'replay buffer capacity (transitions: clicks only with noClickValue zero)' }),
  batchSize: param.int({ default: 64, min: 1, max: 65536, description: 'minibatch size' }),
  learningStarts: param.int({ default: 1000, min: 0, max: 1e12, description: 'user-steps before learning starts' }),
  gradientSteps: param.int({ default: 1, min: 1, max: 1000, description: 'gradient steps per vector step' }),
  targetUpdate: param.int({ default: 2000, min: 1, max: 1e12, description: 'user-steps between target-network copies' }),
  maxGradNorm: param.number({ default: 10, min: 0, max: 1e6, minExclusive: true, description: 'global gradient norm clip' }),
  rewardScale: param.number({ default: 1, min: 0, max: 1e6, minExclusive: true, description: 'rewards are multiplied by this before learning (Q values in scaled units)' }),
  ...epsilonShape,
  epsilonSteps: withDefault(epsilonShape.epsilonSteps, 20_000),
  backend: param.enum({ default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' }),
});
export type SlateQParams = ParamsOf<typeof slateqParams>;

export const slateqAgent = defineAgent({
  id: 'slateq',
  description: 'SlateQ: item-wise Q(s, i) combined under a conditional choice model (env, learned or position-0), TS / GS / OS serving or top-K by item value, SARSA or Q-learning targets',
  source: 'Ie et al., IJCAI 2019 (SlateQ); Mnih et al. 2015 (replay, target network); Sutton & Barto 2018, 7.2, and Hessel et al. 2018 (n-step targets); Cheng et al. 2016 (Wide & Deep: the wide option)',
  oracle: false,
  // With the env's own choice model it reads hidden state.
  oracleFor: (p) => p.choiceModel === 'env',
  usesTf: true,
  check: (p) => {
    checkConsumedParams('slateq', p);
  },
  params: slateqParams,
  create: async (p, env, seed) => (await import('./slateq.js')).SlateQAgent.create(p, env, seed),
});
