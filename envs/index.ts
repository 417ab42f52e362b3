/** Public entry of the env package: the API, spaces, registry, wrappers, checker and streams. */
export * from './core.js';
export * from './spaces.js';
export * from './errors.js';
export * from './params.js';
export * from './registry.js';
export * from './wrappers.js';
export * from './rng.js';

export { boredomMdpModel, boredomStateIndex, boredomStateOfObservation, type FiniteModel } from './boredom-mdp.js';
export { IEV_TOPIC_QUALITY_MEANS, IEV_TOPICS } from './interest-evolution.js';
export { RETENTION_USER_TYPES, makeCatalogue, makeCatalogueV1, type Catalogue, type ContentModel } from './retention.js';
export { checkEnv, type CheckReport } from './check-env.js';
