/**
 * What a policy selects (used by the probes): wraps an agent and, for every slate it serves in evaluation,
 * accumulates the mean of each named candidate feature over the slate minus its mean over the N candidates, in
 * units of the candidates' standard deviation (a selection differential), averaged over all served steps.
 */
import { type Agent, type AgentContext, type AgentEnvInfo, type AgentObservation, requireFeature } from '../agents/api.js';

export interface SelectedFeature {
  /** Name in the report. */
  name: string;
  /** Candidate feature it reads. */
  feature: string;
  /** Read as ln(x). */
  log?: boolean;
}

/** retention-v0's three observable levers: the quality estimate, ln(length) and appeal. */
export const QUALITY_LENGTH_APPEAL: readonly SelectedFeature[] = [{ name: 'qualityEstimate', feature: 'qualityEstimate' }, { name: 'logLength', feature: 'length', log: true }, { name: 'appeal', feature: 'appeal' }];

export class SelectionWatch implements Agent {
  private readonly sums: Float64Array;
  private readonly offsets: number[];
  steps = 0;
  constructor(
    private readonly inner: Agent,
    private readonly features: readonly SelectedFeature[],
  ) {
    this.sums = new Float64Array(features.length);
    this.offsets = features.map((f) => requireFeature('selection', inner.env as AgentEnvInfo, 'candidates', [f.feature]).offset);
  }
  get id() {
    return this.inner.id;
  }
  get oracle() {
    return this.inner.oracle;
  }
  get params() {
    return this.inner.params;
  }
  get env() {
    return this.inner.env;
  }
  context(training: boolean, explore?: boolean) {
    return this.inner.context(training, explore);
  }
  act(obs: AgentObservation, ctx: AgentContext): Int32Array {
    const out = this.inner.act(obs, ctx);
    const { N, K, F } = this.inner.env.layout;
    const c = obs.candidates;
    for (let s = 0; s < obs.B; s++) {
      if (!obs.active[s]) continue;
      this.steps++;
      this.features.forEach((f, j) => {
        const at = (i: number) => {
          const x = c[(s * N + i) * F + this.offsets[j]!]!;
          return f.log ? Math.log(x) : x;
        };
        let m = 0;
        let q = 0;
        for (let i = 0; i < N; i++) {
          const x = at(i);
          m += x;
          q += x * x;
        }
        m /= N;
        const sd = Math.sqrt(Math.max(1e-12, q / N - m * m));
        let sel = 0;
        for (let k = 0; k < K; k++) sel += at(out[s * K + k]!);
        this.sums[j] += (sel / K - m) / sd;
      });
    }
    return out;
  }
  feedback(clicked: Int32Array, stepped: Uint8Array, ctx: AgentContext): void {
    this.inner.feedback?.(clicked, stepped, ctx);
  }
  save() {
    return this.inner.save();
  }
  load(c: ReturnType<Agent['save']>) {
    this.inner.load(c);
  }
  /** The selection differential of each feature, by name. */
  result(): Record<string, number> {
    return Object.fromEntries(this.features.map((f, j) => [f.name, this.sums[j]! / this.steps]));
  }
}
