/**
 * The one error type of engagement-gym: every error thrown by library code is an EgymError with a stable
 * `code` (the union below) and, where an input field is at fault, its `path` (e.g. "agents[1].params.lr").
 * Subclasses name the family (GymError for the env API, SpecError, ResultFileError, IncompatibleEnv, ...); the
 * CLI maps codes to exit codes (`exitCodeOf`).
 */
export type EgymErrorCode =
  | 'GYM_RESET_NEEDED'
  | 'GYM_INVALID_ACTION'
  | 'GYM_INVALID_PARAM'
  | 'GYM_INVALID_ARGUMENT'
  | 'GYM_UNKNOWN_ENV'
  | 'GYM_UNKNOWN_AGENT'
  | 'NON_FINITE_VALUE'
  | 'SPEC_INVALID'
  | 'USAGE'
  | 'RESULT_FILE_INVALID'
  | 'AGENT_INCOMPATIBLE_ENV'
  | 'AGENT_BAD_CHECKPOINT'
  | 'REGISTRY_CONFLICT'
  | 'BACKEND_UNAVAILABLE'
  | 'EMPTY_SPLIT'
  | 'ENV_CHECK_FAILED'
  | 'EVALUATION_LIMIT'
  | 'CELL_FAILED'
  | 'MEMORY_BUDGET';

const CODES: ReadonlySet<string> = new Set<EgymErrorCode>([
  'GYM_RESET_NEEDED',
  'GYM_INVALID_ACTION',
  'GYM_INVALID_PARAM',
  'GYM_INVALID_ARGUMENT',
  'GYM_UNKNOWN_ENV',
  'GYM_UNKNOWN_AGENT',
  'NON_FINITE_VALUE',
  'SPEC_INVALID',
  'USAGE',
  'RESULT_FILE_INVALID',
  'AGENT_INCOMPATIBLE_ENV',
  'AGENT_BAD_CHECKPOINT',
  'REGISTRY_CONFLICT',
  'BACKEND_UNAVAILABLE',
  'EMPTY_SPLIT',
  'ENV_CHECK_FAILED',
  'EVALUATION_LIMIT',
  'CELL_FAILED',
  'MEMORY_BUDGET',
]);

/** Whether a value is one of the error codes (errors crossing a thread boundary arrive as data). */
export function isCode(c: unknown): c is EgymErrorCode {
  return typeof c === 'string' && CODES.has(c);
}

export class EgymError extends Error {
  constructor(
    readonly code: EgymErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'EgymError';
  }
}

/** Codes that mean the caller asked for something invalid (CLI exit 2); every other code is a run-time error (1). */
export const USAGE_CODES: ReadonlySet<EgymErrorCode> = new Set<EgymErrorCode>([
  'USAGE',
  'SPEC_INVALID',
  'GYM_UNKNOWN_ENV',
  'GYM_UNKNOWN_AGENT',
  'GYM_INVALID_PARAM',
  'GYM_INVALID_ARGUMENT',
  'AGENT_INCOMPATIBLE_ENV',
  'MEMORY_BUDGET',
]);

/** The CLI's exit code for an error: 2 for usage, spec and input errors, 1 otherwise. */
export function exitCodeOf(e: unknown): 1 | 2 {
  return e instanceof EgymError && USAGE_CODES.has(e.code) ? 2 : 1;
}

/** Errors raised by the env API. */
export class GymError extends EgymError {
  constructor(code: EgymErrorCode, message: string, path?: string) {
    super(code, message, path);
    this.name = 'GymError';
  }
}

/** A name registered twice (env or agent registries). */
export class RegistryConflict extends EgymError {
  constructor(message: string) {
    super('REGISTRY_CONFLICT', message);
    this.name = 'RegistryConflict';
  }
}

/** No TensorFlow.js backend of the kind asked for could be started here. */
export class BackendUnavailable extends EgymError {
  constructor(message: string) {
    super('BACKEND_UNAVAILABLE', message);
    this.name = 'BackendUnavailable';
  }
}

/** An evaluation that did not finish within its step cap (a policy or env that never ends). */
export class EvaluationLimit extends EgymError {
  constructor(message: string) {
    super('EVALUATION_LIMIT', message);
    this.name = 'EvaluationLimit';
  }
}

/** step() before reset(), or after the episode ended. */
export class ResetNeeded extends GymError {
  constructor(message: string) {
    super('GYM_RESET_NEEDED', message);
    this.name = 'ResetNeeded';
  }
}

/** An action outside the action space. */
export class InvalidAction extends GymError {
  constructor(message: string) {
    super('GYM_INVALID_ACTION', message);
    this.name = 'InvalidAction';
  }
}

/** An unknown or out-of-range env parameter. */
export class InvalidParam extends GymError {
  constructor(message: string) {
    super('GYM_INVALID_PARAM', message);
    this.name = 'InvalidParam';
  }
}

/** A bad argument to the env API (seed, reset options, vector-env options), naming the field and what is allowed. */
export class InvalidArgument extends GymError {
  constructor(message: string) {
    super('GYM_INVALID_ARGUMENT', message);
    this.name = 'InvalidArgument';
  }
}

/**
 * A NaN or infinity where only finite numbers are allowed: an observation or reward handed to a learner, a
 * gradient of a learning update (the weights are left as they were), or an agent's state being saved or loaded.
 */
export class NonFiniteValue extends GymError {
  constructor(message: string) {
    super('NON_FINITE_VALUE', message);
    this.name = 'NonFiniteValue';
  }
}

/** An unknown env id or version. */
export class UnknownEnv extends GymError {
  constructor(message: string) {
    super('GYM_UNKNOWN_ENV', message);
    this.name = 'UnknownEnv';
  }
}

/** An agent id that is not registered (raised by the agent registry). */
export class UnknownAgent extends GymError {
  constructor(message: string) {
    super('GYM_UNKNOWN_AGENT', message);
    this.name = 'UnknownAgent';
  }
}
