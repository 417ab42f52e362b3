/**
 * engagement-gym: simulators of long-horizon engagement (envs), agents, and the experiment runner. Subpaths
 * `engagement-gym/envs`, `/agents` and `/experiments` export each part alone.
 */
export * from './envs/index.js';
export * from './agents/index.js';
export * from './experiments/index.js';
