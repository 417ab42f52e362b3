/** The built-in agents, registered on import. */
import { registerAgent } from './registry.js';
import { BalancedAgent, MyopicClickAgent, MyopicOracleAgent, PopularityAgent, QualityEstimateAgent, RandomAgent } from './baselines.js';

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

export * from './api.js';
export * from './registry.js';
