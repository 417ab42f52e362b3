import { readFileSync } from 'node:fs';
import type { Agent } from '../agents/api.js';
import { trainAgent } from '../agents/loop.js';
import { InvalidArgument } from '../envs/errors.js';
import { makeVec } from '../envs/registry.js';
import { TRAINING_POPULATION } from './run-cell.js';

/** The value after `--name` on the command line of an experiment script (tune-ceiling, the probes), or `d`. */
export function scriptArg(name: string, d: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : d;
}

/** A count `--name` of an experiment script (users, seeds, repetitions), `d` by default: an integer of at least 1, else an InvalidArgument. */
export function scriptCount(name: string, d: number): number {
  const raw = scriptArg(name, String(d));
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new InvalidArgument(`--${name} must be an integer of at least 1 (got ${raw})`);
  return v;
}

/** The parts of a shipped spec file that the probes read (as written, not resolved). */
export interface ScriptSpec {
  env: { id: string; params?: Record<string, unknown> };
  agents: { id: string; label?: string; params?: Record<string, unknown> }[];
  train: { userSteps: number; numEnvs: number };
  final: { seed: number; users?: number };
}

/** A shipped spec file read by a probe, and its agent row by label (the id where a row has no label). */
export function scriptSpec(path: string): { spec: ScriptSpec; agent(label: string): { id: string; params: Record<string, unknown> } } {
  const spec = JSON.parse(readFileSync(path, 'utf8')) as ScriptSpec;
  return {
    spec,
    agent(label) {
      const a = spec.agents.find((x) => (x.label ?? x.id) === label);
      if (!a) throw new InvalidArgument(`probe: ${path} has no agent labelled ${label}`);
      return { id: a.id, params: a.params ?? {} };
    },
  };
}

/**
 * Train `agent` as the runner trains the cell of `seed` (experiments/run-cell.ts, without its learning-curve
 * stops, which do not change the training): `train.numEnvs` users side by side for `train.userSteps` user-steps in
 * all, from the training population TRAINING_POPULATION + seed. A probe's agent made with agent seed `seed` then
 * ends as that cell's does.
 */
export function trainAsCell(agent: Agent, envId: string, envParams: Record<string, unknown>, train: { userSteps: number; numEnvs: number }, seed: number): void {
  const B = train.numEnvs;
  trainAgent(agent, makeVec(envId, envParams, { numEnvs: B, autoresetMode: 'same-step' }), { steps: train.userSteps / B, seed: TRAINING_POPULATION + seed });
}
