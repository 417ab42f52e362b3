/** Public entry of the env package: the API, spaces, registry, wrappers, checker and streams. */
export * from './core.js';
export * from './spaces.js';
export * from './errors.js';
export * from './params.js';
export * from './registry.js';
export * from './definition.js';
export * from './wrappers.js';
export * from './rng.js';

export { boredomMdpModel, boredomStateIndex, boredomStateOfObservation, type FiniteModel, boredomMdpEnv, boredomMdpParams, type BoredomMdpParams } from './boredom-mdp.js';
export { IEV_TOPIC_QUALITY_MEANS, IEV_TOPICS, interestEvolutionEnv, interestEvolutionParams, type InterestEvolutionParams } from './interest-evolution.js';
export { longTermSatisfactionEnv, longTermSatisfactionParams, type LongTermSatisfactionParams } from './long-term-satisfaction.js';
export { bernoulliBanditEnv, bernoulliBanditParams, type BernoulliBanditParams, linearBanditEnv, linearBanditParams, type LinearBanditParams } from './bandits.js';
export { RETENTION_USER_TYPES, makeCatalogue, makeCatalogueV1, type Catalogue, type ContentModel, retentionV0Env, retentionV1Env, retentionParams, retentionV1Params, type RetentionParams, type RetentionV1Params } from './retention.js';
export { checkEnv, type CheckReport } from './check-env.js';
