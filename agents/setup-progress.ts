/**
 * Progress of an agent's setup: the users a supervised or off-policy agent logs before it can act. Whoever builds
 * the agent (the experiment runner, experiments/run-cell.ts) listens with `withSetupProgress`; the logging code
 * reports the user-steps it runs. One listener at a time per thread (a worker runs one cell at a time). Counts
 * only: nothing here changes what the agent learns.
 */
let sink: ((userSteps: number) => void) | null = null;

/** Report user-steps of setup work (no-op without a listener). */
export function reportSetupSteps(userSteps: number): void {
  sink?.(userSteps);
}

/** Run `build` with `onSteps` receiving the setup user-steps it reports. */
export async function withSetupProgress<T>(onSteps: (userSteps: number) => void, build: () => Promise<T>): Promise<T> {
  const prev = sink;
  sink = onSteps;
  try {
    return await build();
  } finally {
    sink = prev;
  }
}
