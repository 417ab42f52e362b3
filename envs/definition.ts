/**
 * An env's definition: its id, documentation, typed params schema, cross-param checks, the simulator factory,
 * observation bounds and (for finite MDPs) the exact model. Each env module exports its definition
 * (`defineEnv({...})`); the registry imports and registers them. A plugin registers its own the same way.
 */
import type { BatchSim } from './core.js';
import type { Dict } from './spaces.js';
import type { FiniteModel } from './boredom-mdp.js';
import { paramConstraint, type ParamSchema, type ParamShape, type ParamsOf } from './params.js';

/** What the README's env table shows, one field per column. */
export interface EnvCard {
  models: string;
  observation: string;
  action: string;
  reward: string;
  episodeEnd: string;
}

export interface EnvSpec<S extends ParamSchema<ParamShape> = ParamSchema<any>> {
  /** Versioned id, e.g. `retention-v0`. */
  id: string;
  /** One line. */
  description: string;
  /** Paper / code the env reproduces or follows. */
  source: string;
  params: S;
  multiSession: boolean;
  card: EnvCard;
  /** Cross-param checks, run after each param is validated on its own (throw InvalidParam). */
  check?(p: ParamsOf<S>): void;
  createSim(B: number, p: ParamsOf<S>): BatchSim;
  observationSpace(p: ParamsOf<S>, layout: BatchSim['layout']): Dict;
  model?(p: ParamsOf<S>): FiniteModel;
}

/** An env definition, its params typed by its schema. */
export function defineEnv<S extends ParamSchema<ParamShape>>(spec: EnvSpec<S>): EnvSpec<S> {
  return spec;
}

/** A check that each pair [small, large] of numeric params has small <= large. */
export function atMost<K extends string>(id: string, ...pairs: [K, K][]): (p: Readonly<Record<K, number>>) => void {
  return (p) => {
    for (const [a, b] of pairs) paramConstraint(id, p[a] <= p[b], `param "${a}" = ${p[a]} must not exceed ${b} = ${p[b]}`);
  };
}
