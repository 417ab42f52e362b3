/**
 * Action abstraction for tabular agents on slate envs: an abstract action is turned into a slate by a
 * documented rule.
 *
 * - `candidate`: abstract action = a candidate index (A = N). Slate: that candidate first, then the rest in
 *   preference order. Natural when the candidates are fixed (boredom-mdp-v0, bernoulli-bandit-v0).
 * - `topic`: abstract action = a topic (A = T, needs a one-hot `topic` candidate block). Slate: the candidate
 *   of that topic with the highest preference first (if no candidate has the topic, the most preferred
 *   candidate), then the rest in preference order.
 * - `band`: abstract action = a band of a real candidate feature in [0, 1] (qualityEstimate, quality or
 *   clickbait), split into `bands` equal-width bands (A = bands). Slate: the candidates ordered by distance of
 *   the feature to the band's centre.
 * Preference order: descending qualityEstimate (or quality) when the env has it, else ascending index.
 *
 * Defaults: boredom-mdp-v0 and the bandit envs: candidate; envs with topics: topic; long-term-satisfaction-v0:
 * 5 clickbait bands.
 */
import type { FeatureSpec, Layout } from '../envs/core.js';
import { EgymError } from '../envs/errors.js';

export type AbstractionKind = 'auto' | 'candidate' | 'topic' | 'band';

export class ActionAbstraction {
  readonly kind: Exclude<AbstractionKind, 'auto'>;
  readonly numActions: number;
  private readonly topic: FeatureSpec | undefined;
  private readonly pref: FeatureSpec | undefined;
  private readonly band: FeatureSpec | undefined;
  private readonly bands: number;
  private readonly key: Float64Array;

  constructor(
    private readonly layout: Layout,
    kind: AbstractionKind,
    bands: number,
    envId: string,
    owner: string,
  ) {
    const c = layout.candidateFeatures;
    this.topic = c.find((f) => f.name === 'topic' && f.kind === 'onehot');
    this.pref = c.find((f) => f.name === 'qualityEstimate') ?? c.find((f) => f.name === 'quality');
    this.band = c.find((f) => f.name === 'qualityEstimate') ?? c.find((f) => f.name === 'quality') ?? c.find((f) => f.name === 'clickbait');
    this.bands = bands;
    if (kind === 'auto') {
      kind = envId === 'boredom-mdp-v0' || envId.includes('bandit') ? 'candidate' : this.topic ? 'topic' : this.band ? 'band' : 'candidate';
    }
    this.kind = kind;
    if (kind === 'topic' && !this.topic) throw new EgymError('AGENT_INCOMPATIBLE_ENV', `${owner}: action abstraction "topic" needs a one-hot topic candidate feature (the env has ${c.map((f) => f.name).join(', ')})`);
    if (kind === 'band' && !this.band) throw new EgymError('AGENT_INCOMPATIBLE_ENV', `${owner}: action abstraction "band" needs a qualityEstimate, quality or clickbait candidate feature (the env has ${c.map((f) => f.name).join(', ')})`);
    this.numActions = kind === 'candidate' ? layout.N : kind === 'topic' ? this.topic!.size : bands;
    this.key = new Float64Array(layout.N);
  }

  /** Write the slate of abstract action `a` for slot s into out[o .. o + K). */
  slate(a: number, cands: Float32Array, s: number, out: Int32Array, o: number): void {
    const { N, F, K } = this.layout;
    const base = s * N * F;
    const key = this.key;
    for (let i = 0; i < N; i++) key[i] = this.pref ? cands[base + i * F + this.pref.offset]! : -i;
    if (this.kind === 'band') {
      const centre = (a + 0.5) / this.bands;
      for (let i = 0; i < N; i++) key[i] = -Math.abs(cands[base + i * F + this.band!.offset]! - centre) - i * 1e-12;
    }
    let lead = -1;
    if (this.kind === 'candidate') lead = a;
    else if (this.kind === 'topic') {
      for (let i = 0; i < N; i++) {
        if (cands[base + i * F + this.topic!.offset + a] === 1 && (lead < 0 || key[i]! > key[lead]!)) lead = i;
      }
    }
    if (lead < 0) {
      lead = 0;
      for (let i = 1; i < N; i++) if (key[i]! > key[lead]!) lead = i;
    }
    out[o] = lead;
    // Fill the rest: selection of the K-1 best remaining by key.
    for (let j = 1; j < K; j++) {
      let best = -1;
      for (let i = 0; i < N; i++) {
        let used = false;
        for (let q = 0; q < j; q++) if (out[o + q] === i) used = true;
        if (!used && (best < 0 || key[i]! > key[best]!)) best = i;
      }
      out[o + j] = best;
    }
  }
}
