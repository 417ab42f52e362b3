/**
 * The built-in agents, registered on import. Each agent module exports its definitions (params schema,
 * description, source, oracle flag, factory); this file only registers them. The TensorFlow.js agents'
 * definitions live apart from their code, so that listing agents and validating params does not load
 * TensorFlow.js: it loads when the first such agent is made.
 */
import { type AgentSpec, registerAgent } from './registry.js';
import { baselineAgents } from './baselines.js';
import { tabularAgents } from './tabular.js';
import { banditAgents } from './bandits.js';
import { supervisedAgents } from './supervised/definition.js';
import { ppoAgent } from './ppo-definition.js';
import { slateqAgent } from './slateq-definition.js';
import { reinforceTopKAgent } from './reinforce-topk-definition.js';
import { ltsOracleAgent } from './lts-oracle.js';

for (const spec of [...baselineAgents, ...tabularAgents, ...banditAgents, ...supervisedAgents, ppoAgent, slateqAgent, reinforceTopKAgent, ltsOracleAgent] as AgentSpec[]) registerAgent(spec);

export * from './api.js';
export * from './registry.js';
export { checkpointFile, decodeCheckpoint, encodeCheckpoint, findCheckpointFile, readCheckpointFile } from './checkpoint-file.js';
