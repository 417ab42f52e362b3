/**
 * Progress of an agent's setup: the users a supervised or off-policy agent logs before it can act. Whoever builds
 * the agent (the experiment runner, experiments/run-cell.ts) listens with `withSetupProgress`; the logging code
 * reports the user-steps it runs. One listener at a time per thread (a worker runs one cell at a time). Counts
 * only: nothing here changes what the agent learns.
 */
interface Sink {
  steps(userSteps: number): void;
  fit(share: number): void;
}
let sink: Sink | null = null;

/** Report user-steps of setup work (no-op without a listener). */
export function reportSetupSteps(userSteps: number): void {
  sink?.steps(userSteps);
}

/** Report a share (of 1) of the setup's model fitting done: an epoch of a model, or the rest of it when it stops early. */
export function reportSetupFit(share: number): void {
  sink?.fit(share);
}

/** Run `build` with `onSteps` receiving the setup user-steps it reports, and `onFit` the fitting shares. */
export async function withSetupProgress<T>(onSteps: (userSteps: number) => void, build: () => Promise<T>, onFit: (share: number) => void = () => {}): Promise<T> {
  const prev = sink;
  sink = { steps: onSteps, fit: onFit };
  try {
    return await build();
  } finally {
    sink = prev;
  }
}
