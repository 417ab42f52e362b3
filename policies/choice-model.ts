/**
 * A conditional-logit choice model learned from logged clicks (McFadden 1974): for a slate A,
 *   P(i | s, A) = exp(v_i) / (exp(v_0) + sum_{j in A} exp(v_j)),  v_i = w . [c_i, u, 1],  v_0 = b_0,
 * with c_i and u the (normalized) candidate and user features; fitted by stochastic gradient descent on the
 * log-likelihood of the observed outcome (the clicked item or no click). Plain JS: tiny and sync.
 */
export class LearnedChoiceModel {
  w: Float64Array;
  b0 = 0;
  steps = 0;
  private readonly z: Float64Array;

  constructor(
    readonly F: number,
    readonly U: number,
    readonly K: number,
    readonly lr: number,
  ) {
    this.w = new Float64Array(F + U + 1);
    this.z = new Float64Array(K + 1);
  }

  /** The unnormalized weight exp(v_i) of candidate features c (at co) for user features u (at uo). */
  weight(c: ArrayLike<number>, co: number, u: ArrayLike<number>, uo: number): number {
    return Math.exp(Math.min(50, this.logit(c, co, u, uo)));
  }

  noClickWeight(): number {
    return Math.exp(Math.min(50, this.b0));
  }

  private logit(c: ArrayLike<number>, co: number, u: ArrayLike<number>, uo: number): number {
    const { F, U } = this;
    let v = this.w[F + U]!;
    for (let j = 0; j < F; j++) v += this.w[j]! * c[co + j]!;
    for (let j = 0; j < U; j++) v += this.w[F + j]! * u[uo + j]!;
    return v;
  }

  /**
   * One SGD step on one observed slate: candidates `cands` (N x F at base), slate indices, user features,
   * clicked slate position (-1: no click).
   */
  fit(cands: ArrayLike<number>, base: number, slate: ArrayLike<number>, so: number, u: ArrayLike<number>, uo: number, clicked: number): void {
    const { F, U, K } = this;
    let mx = this.b0;
    for (let j = 0; j < K; j++) {
      this.z[j] = this.logit(cands, base + slate[so + j]! * F, u, uo);
      mx = Math.max(mx, this.z[j]!);
    }
    this.z[K] = this.b0;
    let tot = 0;
    for (let j = 0; j <= K; j++) tot += Math.exp(this.z[j]! - mx);
    // gradient of -log p(outcome): (p_j - y_j) x_j
    for (let j = 0; j <= K; j++) {
      const p = Math.exp(this.z[j]! - mx) / tot;
      const y = (clicked < 0 ? j === K : j === clicked) ? 1 : 0;
      const g = this.lr * (p - y);
      if (j === K) {
        this.b0 -= g;
        continue;
      }
      const co = base + slate[so + j]! * F;
      for (let q = 0; q < F; q++) this.w[q]! -= g * cands[co + q]!;
      for (let q = 0; q < U; q++) this.w[F + q]! -= g * u[uo + q]!;
      this.w[F + U]! -= g;
    }
    this.steps++;
  }

  state(): { w: number[]; b0: number; steps: number } {
    return { w: Array.from(this.w), b0: this.b0, steps: this.steps };
  }
  load(s: { w: number[]; b0: number; steps: number }): void {
    this.w = Float64Array.from(s.w);
    this.b0 = s.b0;
    this.steps = s.steps;
  }
}
