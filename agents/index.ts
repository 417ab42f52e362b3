/** The built-in agents, registered on import. */
import { registerAgent } from './registry.js';
import {
  BalancedAgent,
  CeilingOracleAgent,
  ContentOracleAgent,
  FeatureRankAgent,
  MyopicClickAgent,
  MyopicOracleAgent,
  PopularityAgent,
  QualityEstimateAgent,
  RandomAgent,
  TopicAffinityAgent,
  TopicRotationAgent,
} from './baselines.js';
import { TabularAgent, type TdRule, ValueIterationAgent } from './tabular.js';
import { BanditAgent, type BanditRule, LinUcbAgent } from './bandits.js';
import { epsilonParams, stepSizeParams } from '../policies/schedules.js';
import { validateStateSpec } from '../policies/discretize.js';
import type { ParamSpec } from '../envs/params.js';
import { BACKEND_CHOICES } from '../policies/backend-choices.js';
import { makeAgent } from './registry.js';
// The TensorFlow.js agents load (with TensorFlow.js) when the first one is made, not when agents are listed.

registerAgent({
  id: 'random',
  description: 'uniform slates without repetition',
  source: 'baseline',
  oracle: false,
  params: [],
  create: (p, env, seed) => new RandomAgent(p, env, seed),
});

registerAgent({
  id: 'myopic-oracle',
  description: 'the slate with the highest true expected immediate reward (hidden choice model); the upper bound of myopic policies',
  source: 'baseline; exact MNL slate by Dinkelbach (1967) fractional programming',
  oracle: true,
  params: [],
  create: (p, env, seed) => new MyopicOracleAgent(p, env, seed),
});

registerAgent({
  id: 'ceiling-oracle',
  description: 'exact MNL slate for expected minutes + satisfactionWeight x (true quality - satisfaction): the ceiling of multi-session envs',
  source: "engagement-gym's own; Dinkelbach (1967) slate as myopic-oracle, shaped by the hidden satisfaction dynamics",
  oracle: true,
  params: [
    { name: 'satisfactionWeight', kind: 'number', default: 20, min: 0, max: 1e6, description: 'lifetime minutes per unit of satisfaction gained (tuned on users disjoint from evaluation)' },
  ],
  create: (p, env, seed) => new CeilingOracleAgent(p, env, seed),
});

registerAgent({
  id: 'content-oracle',
  description: 'top-K by the part of true quality that observable content predicts (hidden contentQuality of retention-v1): the reference of feature-only rankers',
  source: "engagement-gym's own reference policy",
  oracle: true,
  params: [],
  create: (p, env, seed) => new ContentOracleAgent(p, env, seed),
});

registerAgent({
  id: 'topic-affinity',
  description: "observable heuristic: the user's smoothed mean watched fraction per topic (lifetime profile), minus a recent-repeat penalty; optionally one item per topic",
  source: 'baseline (content-based user profile, e.g. Lops et al. 2011; diversification after MMR, Carbonell and Goldstein 1998)',
  oracle: false,
  params: [
    { name: 'prior', kind: 'number', default: 2, min: 0, max: 1e6, minExclusive: true, description: 'pseudo-clicks at watched fraction 0.5 in the smoothing' },
    { name: 'repeatPenalty', kind: 'number', default: 0, min: 0, max: 100, description: 'score penalty per appearance of the topic among the last L interactions' },
    { name: 'diversify', kind: 'boolean', default: false, description: 'at most one item per topic while other topics remain' },
  ],
  create: (p, env, seed) => new TopicAffinityAgent(p, env, seed),
});

registerAgent({
  id: 'topic-rotation',
  description: 'observable diversity rule: the topics shown least over the lifetime first, one item per topic',
  source: 'baseline (diversity / round-robin exposure)',
  oracle: false,
  params: [],
  create: (p, env, seed) => new TopicRotationAgent(p, env, seed),
});

registerAgent({
  id: 'feature-rank',
  description: 'observable one-column proxy: top-K by one candidate feature column',
  source: 'baseline',
  oracle: false,
  params: [
    { name: 'feature', kind: 'enum', default: 'length', values: ['length', 'embedding', 'appeal', 'qualityEstimate', 'quality', 'clickbait', 'topic'], description: 'candidate feature block' },
    { name: 'column', kind: 'int', default: 0, min: 0, max: 10000, description: 'column inside the block' },
    { name: 'descending', kind: 'boolean', default: true, description: 'highest first (false: lowest first)' },
  ],
  create: (p, env, seed) => new FeatureRankAgent(p, env, seed),
});

registerAgent({
  id: 'myopic-click',
  description: 'the K candidates with the highest true click propensity (clickbait-prone reference policy)',
  source: 'baseline',
  oracle: true,
  params: [],
  create: (p, env, seed) => new MyopicClickAgent(p, env, seed),
});

registerAgent({
  id: 'balanced',
  description: 'click propensity + quality estimate + topic variety (the long-term-aware reference policy of retention-v0)',
  source: 'baseline',
  oracle: true,
  params: [
    { name: 'qualityWeight', kind: 'number', default: 6, min: 0, max: 100, description: 'weight of the quality estimate (utility units)' },
    { name: 'repeatPenalty', kind: 'number', default: 0.5, min: 0, max: 100, description: 'penalty per recent interaction with the same topic' },
  ],
  create: (p, env, seed) => new BalancedAgent(p, env, seed),
});

registerAgent({
  id: 'quality-estimate',
  description: 'the K candidates with the highest observable quality estimate',
  source: 'baseline',
  oracle: false,
  params: [],
  create: (p, env, seed) => new QualityEstimateAgent(p, env, seed),
});

registerAgent({
  id: 'popularity',
  description: 'the K candidates with the highest smoothed click-through rate so far, per item or per topic',
  source: 'baseline (most-popular recommender)',
  oracle: false,
  params: [{ name: 'unit', kind: 'enum', default: 'auto', values: ['auto', 'item', 'topic'], description: 'count per catalogue item or per topic (auto: item when the env has item ids)' }],
  create: (p, env, seed) => new PopularityAgent(p, env, seed),
});

/** The same param specs with other defaults. */
function withDefaults(specs: readonly ParamSpec[], defaults: Record<string, unknown>): ParamSpec[] {
  return specs.map((p) => (p.name in defaults ? ({ ...p, default: defaults[p.name] } as ParamSpec) : p));
}

const tabularParams: readonly ParamSpec[] = [
  { name: 'gamma', kind: 'number', default: 0.9, min: 0, max: 1, description: 'discount factor' },
  { name: 'initialQ', kind: 'number', default: 0, min: -1e6, max: 1e6, description: 'initial action values' },
  {
    name: 'stateFeatures',
    kind: 'custom',
    default: 'auto',
    allowed: '"auto" or a list of {feature, index?, edges? | levels?} over user features (policies/discretize.ts)',
    validate: validateStateSpec,
    description: 'state abstraction',
  },
  { name: 'actionAbstraction', kind: 'enum', default: 'auto', values: ['auto', 'candidate', 'topic', 'band'], description: 'abstract actions (policies/abstract-actions.ts)' },
  { name: 'actionBands', kind: 'int', default: 5, min: 2, max: 100, description: 'bands of the band abstraction' },
  ...withDefaults(epsilonParams, { epsilonSchedule: 'exponential', epsilonEnd: 0.01, epsilonSteps: 200_000 }),
  ...stepSizeParams,
];

const TD_SOURCES: Record<TdRule, [string, string]> = {
  'q-learning': ['tabular Q-learning over a state and an action abstraction', 'Watkins 1989; Watkins and Dayan 1992, Machine Learning 8'],
  sarsa: ['tabular SARSA (on-policy TD control)', 'Rummery and Niranjan 1994; Sutton and Barto 2018, 6.4'],
  'expected-sarsa': ['tabular Expected SARSA', 'van Seijen, van Hasselt, Whiteson and Wiering 2009; Sutton and Barto 2018, 6.6'],
};
for (const rule of ['q-learning', 'sarsa', 'expected-sarsa'] as const) {
  registerAgent({
    id: rule,
    description: TD_SOURCES[rule][0],
    source: TD_SOURCES[rule][1],
    oracle: false,
    params: tabularParams,
    create: (p, env, seed) => new TabularAgent(rule, p, env, seed),
  });
}

registerAgent({
  id: 'value-iteration',
  description: 'the optimal policy of a finite MDP from its exact model (boredom-mdp-v0)',
  source: 'Bellman 1957; Sutton and Barto 2018, 4.4',
  oracle: true,
  params: [{ name: 'gamma', kind: 'number', default: 0.9, min: 0, max: 1, description: 'discount factor' }],
  create: (p, env, seed) => new ValueIterationAgent(p, env, seed),
});

const armParams: readonly ParamSpec[] = [
  { name: 'arms', kind: 'enum', default: 'auto', values: ['auto', 'topic', 'item'], description: 'arms are topics or catalogue items (auto: items when the env has item ids)' },
  { name: 'feedback', kind: 'enum', default: 'reward', values: ['reward', 'click'], description: "a shown item's reward: the step's reward if clicked, or 1 per click" },
];
const BANDITS: Record<BanditRule, { description: string; source: string; params: readonly ParamSpec[] }> = {
  'epsilon-greedy': {
    description: 'epsilon-greedy bandit over topics or items, top-K slates by mean reward',
    source: 'Sutton and Barto 2018, Reinforcement Learning, 2.2-2.4',
    params: [...armParams, ...withDefaults(epsilonParams, { epsilonSchedule: 'constant', epsilonStart: 0.1 })],
  },
  ucb1: {
    description: 'UCB1 bandit over topics or items',
    source: 'Auer, Cesa-Bianchi and Fischer 2002, Machine Learning 47',
    params: [...armParams, { name: 'exploration', kind: 'number', default: 1, min: 0, max: 100, description: 'scale c of the confidence bonus' }],
  },
  'thompson-beta': {
    description: 'Beta-Bernoulli Thompson sampling over topics or items',
    source: 'Thompson 1933; Chapelle and Li, NeurIPS 2011; Agrawal and Goyal, COLT 2012',
    params: withDefaults(armParams, { feedback: 'click' }),
  },
  'thompson-gaussian': {
    description: 'Gaussian Thompson sampling over topics or items',
    source: 'Agrawal and Goyal, AISTATS 2013',
    params: [
      ...armParams,
      { name: 'noiseStd', kind: 'number', default: 1, min: 0, max: 1e6, minExclusive: true, description: 'assumed reward noise std' },
      { name: 'priorStd', kind: 'number', default: 10, min: 0, max: 1e6, minExclusive: true, description: 'std of the Normal(0, .) prior on arm means' },
    ],
  },
};
for (const [rule, b] of Object.entries(BANDITS) as [BanditRule, (typeof BANDITS)[BanditRule]][]) {
  registerAgent({ id: rule, description: b.description, source: b.source, oracle: false, params: b.params, create: (p, env, seed) => new BanditAgent(rule, p, env, seed) });
}

registerAgent({
  id: 'linucb',
  description: 'disjoint LinUCB over candidate features (one ridge model per topic, or shared)',
  source: 'Li, Chu, Langford and Schapire, WWW 2010',
  oracle: false,
  params: [
    { name: 'arms', kind: 'enum', default: 'auto', values: ['auto', 'topic', 'shared'], description: 'one model per topic, or one shared model (auto: per topic when the env has topics)' },
    { name: 'context', kind: 'enum', default: 'candidate', values: ['candidate', 'candidate+user'], description: 'context features' },
    { name: 'alpha', kind: 'number', default: 1, min: 0, max: 100, description: 'exploration bonus scale' },
    { name: 'ridge', kind: 'number', default: 1, min: 0, max: 1e6, minExclusive: true, description: 'ridge lambda' },
    { name: 'feedback', kind: 'enum', default: 'reward', values: ['reward', 'click'], description: "a shown item's reward: the step's reward if clicked, or 1 per click" },
  ],
  create: (p, env, seed) => new LinUcbAgent(p, env, seed),
});

const supervisedParams: readonly ParamSpec[] = [
  { name: 'model', kind: 'enum', default: 'mlp', values: ['logistic', 'mlp', 'gru'], description: 'prediction model' },
  { name: 'target', kind: 'enum', default: 'engagement', values: ['engagement', 'click', 'watch'], description: 'ranking target: pCTR x E[watch | click], pCTR, or E[watch | click]' },
  { name: 'itemStats', kind: 'boolean', default: false, description: "per-item features fitted on the training split: smoothed click rate, watch per click, log impressions (catalogue envs)" },
  {
    name: 'serving',
    kind: 'enum',
    default: 'topk',
    values: ['topk', 'mnl'],
    description: 'topk: the K best by the target; mnl (engagement target): the exact slate for predicted click odds as MNL attractions and predicted watch time as value (Dinkelbach)',
  },
  { name: 'logUsers', kind: 'int', default: 600, min: 10, max: 1e7, description: 'users logged for training' },
  { name: 'logPopulation', kind: 'int', default: -1, min: -1, max: 2 ** 52, description: 'population seed of the logged users (-1: 1,000,000 + agent seed)' },
  { name: 'behaviour', kind: 'enum', default: 'random', values: ['random', 'popularity', 'quality-estimate', 'myopic-oracle'], description: 'logging policy (random: uniform slates)' },
  { name: 'behaviourEpsilon', kind: 'number', default: 1, min: 0, max: 1, description: 'share of uniform random slates in the logging policy' },
  { name: 'hidden', kind: 'int', default: 128, min: 1, max: 4096, description: 'hidden units of the MLP / GRU head' },
  { name: 'gruUnits', kind: 'int', default: 32, min: 1, max: 1024, description: 'GRU state size' },
  { name: 'epochs', kind: 'int', default: 20, min: 1, max: 10000, description: 'maximum training epochs' },
  { name: 'batchSize', kind: 'int', default: 128, min: 1, max: 65536, description: 'minibatch size' },
  { name: 'lr', kind: 'number', default: 1e-3, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate' },
  { name: 'patience', kind: 'int', default: 3, min: 1, max: 1000, description: 'early stopping patience (epochs without a better validation loss)' },
  { name: 'backend', kind: 'enum', default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' },
];
const adaptiveParams: readonly ParamSpec[] = [
  ...supervisedParams,
  { name: 'retrainEvery', kind: 'int', default: 20000, min: 1, max: 1e12, description: 'user-steps between retrainings' },
  { name: 'window', kind: 'int', default: 200000, min: 100, max: 1e9, description: 'most recent impressions used for retraining' },
  { name: 'retrainEpochs', kind: 'int', default: 5, min: 1, max: 10000, description: 'maximum epochs per retraining' },
  { name: 'exploreEpsilon', kind: 'number', default: 0.1, min: 0, max: 1, description: 'share of uniform random slates served while training' },
];
for (const id of ['supervised', 'adaptive-supervised'] as const) {
  registerAgent({
    id,
    description:
      id === 'supervised'
        ? 'the industry pipeline: click and watch-time models (logistic / MLP / GRU on TensorFlow.js) trained on logged data, ranking by predicted engagement'
        : 'the supervised pipeline with continual learning: periodic retraining on the most recent logged window',
    source: 'McMahan et al. 2013 (ad click prediction); Covington et al. 2016 (YouTube DNN ranking); Hidasi et al. 2016 (GRU4Rec)',
    oracle: false,
    usesTf: true,
    params: id === 'supervised' ? supervisedParams : adaptiveParams,
    create: async (p, env, seed) => {
      const { SupervisedAgent } = await import('./supervised/agent.js');
      return new SupervisedAgent(id, p, env, seed).init({ makeBehaviour: (b, s) => makeAgent(b, {}, { envId: env.envId, envParams: env.params as Record<string, unknown>, seed: s }) });
    },
  });
}

registerAgent({
  id: 'ppo',
  description: 'PPO with a permutation-equivariant slate policy (Gumbel top-K, Plackett-Luce log-probabilities), CleanRL details',
  source: 'Schulman et al. 2017 (PPO); Huang et al. 2022 (37 implementation details, CleanRL ppo.py); Schulman et al. 2016 (GAE)',
  oracle: false,
  usesTf: true,
  params: [
    { name: 'lr', kind: 'number', default: 2.5e-4, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate (epsilon 1e-5)' },
    { name: 'annealLr', kind: 'boolean', default: true, description: 'linear learning-rate annealing to 0 over totalSteps' },
    { name: 'totalSteps', kind: 'int', default: 1_000_000, min: 1, max: 1e13, description: 'planned user-steps (for the annealing)' },
    { name: 'numSteps', kind: 'int', default: 128, min: 1, max: 1e6, description: 'rollout length per env' },
    { name: 'gamma', kind: 'number', default: 0.99, min: 0, max: 1, description: 'discount factor' },
    { name: 'gaeLambda', kind: 'number', default: 0.95, min: 0, max: 1, description: 'GAE lambda' },
    { name: 'numMinibatches', kind: 'int', default: 4, min: 1, max: 1e6, description: 'minibatches per epoch' },
    { name: 'updateEpochs', kind: 'int', default: 4, min: 1, max: 1000, description: 'epochs per rollout' },
    { name: 'normAdv', kind: 'boolean', default: true, description: 'normalize advantages per minibatch' },
    { name: 'clipCoef', kind: 'number', default: 0.2, min: 0, max: 10, description: 'surrogate (and value) clipping' },
    { name: 'clipVloss', kind: 'boolean', default: true, description: 'clipped value loss' },
    { name: 'entCoef', kind: 'number', default: 0.01, min: 0, max: 10, description: 'entropy coefficient' },
    { name: 'vfCoef', kind: 'number', default: 0.5, min: 0, max: 100, description: 'value loss coefficient' },
    { name: 'maxGradNorm', kind: 'number', default: 0.5, min: 0, max: 1e6, minExclusive: true, description: 'global gradient norm clip' },
    { name: 'hidden', kind: 'int', default: 64, min: 1, max: 4096, description: 'hidden units of the actor and critic' },
    { name: 'hidden2', kind: 'int', default: 0, min: 0, max: 4096, description: 'second per-candidate layer of the scorer (0: thin head)' },
    { name: 'normalizeObs', kind: 'boolean', default: true, description: 'running mean/std observation normalization' },
    { name: 'normalizeReward', kind: 'boolean', default: true, description: 'scale rewards by the running std of discounted returns' },
    { name: 'backend', kind: 'enum', default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' },
  ],
  create: async (p, env, seed) => (await import('./ppo.js')).PpoAgent.create(p, env, seed),
});

registerAgent({
  id: 'slateq',
  description: 'SlateQ: item-wise Q(s, i) combined under a conditional choice model (env, learned or position-0), TS / GS / OS serving, SARSA or Q-learning targets',
  source: 'Ie et al., IJCAI 2019 (SlateQ); Mnih et al. 2015 (replay, target network)',
  oracle: false,
  // With the env's own choice model it reads hidden state.
  oracleFor: (p) => p.choiceModel === 'env',
  usesTf: true,
  params: [
    { name: 'choiceModel', kind: 'enum', default: 'auto', values: ['auto', 'env', 'learned', 'position0'], description: 'choice model (env: the true one, makes the agent an oracle)' },
    { name: 'serving', kind: 'enum', default: 'topk', values: ['topk', 'greedy', 'optimal'], description: 'slate construction (TS, GS, OS)' },
    { name: 'target', kind: 'enum', default: 'sarsa', values: ['sarsa', 'topk', 'greedy', 'optimal'], description: 'SARSA on the served next slate, or Q-learning with the TS / GS / OS next slate' },
    { name: 'gamma', kind: 'number', default: 0.99, min: 0, max: 1, description: 'discount factor' },
    { name: 'lr', kind: 'number', default: 1e-3, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate' },
    { name: 'hidden', kind: 'int', default: 64, min: 1, max: 4096, description: 'hidden units of the Q network' },
    { name: 'hidden2', kind: 'int', default: 0, min: 0, max: 4096, description: 'second per-candidate layer of the Q network (0: thin head)' },
    {
      name: 'noClickValue',
      kind: 'enum',
      default: 'auto',
      values: ['auto', 'zero', 'learned'],
      description: "value of not clicking: zero (the paper's decomposition, click transitions only) or a learned state value trained on the no-click transitions (auto: learned on multi-session envs)",
    },
    { name: 'replaySize', kind: 'int', default: 100_000, min: 10, max: 1e8, description: 'replay buffer capacity (transitions: clicks only with noClickValue zero)' },
    { name: 'batchSize', kind: 'int', default: 64, min: 1, max: 65536, description: 'minibatch size' },
    { name: 'learningStarts', kind: 'int', default: 1000, min: 0, max: 1e12, description: 'user-steps before learning starts' },
    { name: 'gradientSteps', kind: 'int', default: 1, min: 1, max: 1000, description: 'gradient steps per vector step' },
    { name: 'targetUpdate', kind: 'int', default: 2000, min: 1, max: 1e12, description: 'user-steps between target-network copies' },
    { name: 'maxGradNorm', kind: 'number', default: 10, min: 0, max: 1e6, minExclusive: true, description: 'global gradient norm clip' },
    { name: 'rewardScale', kind: 'number', default: 1, min: 0, max: 1e6, minExclusive: true, description: 'rewards are multiplied by this before learning (Q values in scaled units)' },
    ...withDefaults(epsilonParams, { epsilonSchedule: 'linear', epsilonStart: 1, epsilonEnd: 0.05, epsilonSteps: 20_000 }),
    { name: 'backend', kind: 'enum', default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' },
  ],
  create: async (p, env, seed) => (await import('./slateq.js')).SlateQAgent.create(p, env, seed),
});

registerAgent({
  id: 'reinforce-topk',
  description: 'REINFORCE with top-K off-policy correction, trained offline on trajectories logged by a behaviour policy (the supervised baseline by default)',
  source: 'Chen, Beutel, Covington, Jain, Belletti and Chi, WSDM 2019; Williams 1992 (REINFORCE)',
  oracle: false,
  usesTf: true,
  params: [
    { name: 'behaviour', kind: 'enum', default: 'supervised', values: ['supervised', 'random', 'popularity', 'quality-estimate'], description: 'logging policy' },
    { name: 'behaviourEpsilon', kind: 'number', default: 0.2, min: 0, max: 1, description: 'share of uniform slates in the logging policy (support for off-policy learning)' },
    { name: 'logUsers', kind: 'int', default: 500, min: 1, max: 1e7, description: 'users logged' },
    { name: 'gamma', kind: 'number', default: 0.99, min: 0, max: 1, description: 'discount of the logged returns' },
    { name: 'topK', kind: 'int', default: 5, min: 1, max: 10000, description: 'K of the top-K correction' },
    { name: 'capWeight', kind: 'number', default: Math.exp(3), min: 1, max: 1e9, description: 'cap c on the importance weight pi / beta' },
    { name: 'epochs', kind: 'int', default: 5, min: 1, max: 10000, description: 'passes over the logged data' },
    { name: 'batchSize', kind: 'int', default: 256, min: 1, max: 65536, description: 'minibatch size' },
    { name: 'lr', kind: 'number', default: 1e-3, min: 0, max: 1, minExclusive: true, description: 'Adam learning rate' },
    { name: 'hidden', kind: 'int', default: 64, min: 1, max: 4096, description: 'hidden units of pi and beta' },
    { name: 'backend', kind: 'enum', default: 'auto', values: BACKEND_CHOICES, description: 'TensorFlow.js backend' },
  ],
  create: async (p, env, seed) =>
    (await import('./reinforce-topk.js')).ReinforceTopKAgent.create(p, env, seed, (b, s) =>
      makeAgent(b, b === 'supervised' ? { logUsers: 200, epochs: 5 } : {}, { envId: env.envId, envParams: env.params as Record<string, unknown>, seed: s }),
    ),
});

export * from './api.js';
export * from './registry.js';
