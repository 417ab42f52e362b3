/** Errors raised by envs, with a stable `code` so callers can tell them apart. */
export class GymError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'GymError';
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
