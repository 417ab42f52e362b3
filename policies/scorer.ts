/**
 * Slate policy and value networks that scale to any number of candidates N.
 *
 * SlateScorer: a shared network scores every candidate from [user/context features, candidate features], so
 * the scores are permutation-equivariant in the candidates. It is a two-tower factorization of an MLP on the
 * concatenation: the first layer splits into a user part (computed once per user-step) and a candidate part,
 *   h1_i = relu(W_u u + W_c c_i + b1),  h2_i = relu(W_2 h1_i + b2),  score_i = w_3 . h2_i + b3,
 * which costs U H per user plus N (F H + H H2 + H2) per user-step instead of N (U + F) H for the full MLP.
 * With hidden2 = 0 the head is thin: score_i = w_3 . h1_i + b3 (N (F H + H) per user-step), the default of the
 * deep agents (measured: the second per-candidate layer dominated the cost of a PPO update).
 * With `wide` the score also has a linear term in the candidate features, score_i += w_c . c_i (zero at init),
 * the wide part of Wide & Deep (Cheng et al. 2016): a ranking by a weighted sum of candidate columns is then a
 * direct path for the gradient instead of something the ReLU layer has to build. With `wideFrom` > 0 the linear term
 * reads only the columns from that one on (PPO's `wideColumns: itemFeedback`: the per-item statistic columns that
 * itemFeedback appends after the env's own), score_i += w . c_i[wideFrom..F).
 * ValueNet: an MLP on [user features, mean of the candidate features] -> a scalar.
 * Init: orthogonal, hidden gain sqrt(2), heads 0.01 (policy) / 1 (value, Q), zero biases (CleanRL).
 */
import { addRelu, dense, denseData, lastColumns, matMulData, relu, tf } from './backend.js';
import type { Rng } from '../envs/rng.js';
import { Mlp, orthogonal, ParamSet } from './nn.js';
import { InvalidArgument } from '../envs/errors.js';

export class SlateScorer {
  readonly params = new ParamSet();
  /** The wide part's weights [F, 1] (with `wide`), else null. */
  readonly wideWeights: tf.Variable | null;
  constructor(
    readonly U: number,
    readonly F: number,
    readonly hidden: number,
    readonly hidden2: number,
    headGain: number,
    rng: Rng,
    prefix: string,
    readonly wide = false,
    /** The first candidate column of the wide part (with `wide`): 0, every column. */
    readonly wideFrom = 0,
  ) {
    if (!(Number.isInteger(wideFrom) && wideFrom >= 0 && wideFrom < F)) throw new InvalidArgument(`SlateScorer: wideFrom must be an integer in [0, ${F}), got ${wideFrom}`);
    const H = hidden;
    const H2 = hidden2;
    this.params.add(`${prefix}Wu`, [U, H], orthogonal(rng, U, H, Math.SQRT2));
    this.params.add(`${prefix}Wc`, [F, H], orthogonal(rng, F, H, Math.SQRT2));
    this.params.add(`${prefix}b1`, [H], null);
    if (H2 > 0) {
      this.params.add(`${prefix}W2`, [H, H2], orthogonal(rng, H, H2, Math.SQRT2));
      this.params.add(`${prefix}b2`, [H2], null);
    }
    this.params.add(`${prefix}W3`, [H2 > 0 ? H2 : H, 1], orthogonal(rng, H2 > 0 ? H2 : H, 1, headGain));
    this.params.add(`${prefix}b3`, [1], null);
    // Last, so that without it the params (and the random init before them) are what they always were.
    this.wideWeights = wide ? this.params.add(`${prefix}Ww`, [F - wideFrom, 1], null) : null;
  }

  /** Scores [B, N] from user [B, U] and candidates [B * N, F]. */
  scores(user: tf.Tensor2D, cands: tf.Tensor2D, N: number): tf.Tensor2D {
    return tf.tidy(() => {
      const v = this.params.vars;
      const [Wu, Wc, b1] = v as [tf.Variable, tf.Variable, tf.Variable];
      const B = user.shape[0];
      const H = this.hidden;
      const pu = tf.reshape(denseData(user, Wu, b1), [B, 1, H]);
      const pc = tf.reshape(matMulData(cands, Wc), [B, N, H]);
      let h = tf.reshape(addRelu(pu as tf.Tensor3D, pc as tf.Tensor3D), [B * N, H]) as tf.Tensor2D;
      if (this.hidden2 > 0) h = relu(dense(h, v[3]!, v[4]!));
      const head = this.hidden2 > 0 ? 5 : 3;
      const deep = dense(h, v[head]!, v[head + 1]!);
      if (!this.wide) return tf.reshape(deep, [B, N]) as tf.Tensor2D;
      const wideIn = lastColumns(cands, this.wideFrom);
      return tf.reshape(tf.add(deep, matMulData(wideIn, v[head + 2]!)), [B, N]) as tf.Tensor2D;
    });
  }

  /** Multiply-adds of one forward call for B users (for FLOP accounting). */
  flops(B: number, N: number): number {
    const head = this.hidden2 > 0 ? this.hidden * this.hidden2 + this.hidden2 : this.hidden;
    return 2 * (B * this.U * this.hidden + B * N * (this.F * this.hidden + head + (this.wide ? this.F - this.wideFrom : 0)));
  }
}

export class ValueNet {
  readonly mlp: Mlp;
  constructor(
    readonly U: number,
    readonly F: number,
    hidden: number,
    rng: Rng,
    prefix: string,
  ) {
    this.mlp = new Mlp([U + F, hidden, hidden, 1], 1, rng, prefix);
  }
  get params(): ParamSet {
    return this.mlp.params;
  }
  /** Values [B] from user [B, U] and candidates [B * N, F]. */
  values(user: tf.Tensor2D, cands: tf.Tensor2D, N: number): tf.Tensor1D {
    return tf.tidy(() => {
      const B = user.shape[0];
      const pooled = tf.mean(tf.reshape(cands, [B, N, this.F]), 1) as tf.Tensor2D;
      return tf.reshape(this.mlp.apply(tf.concat([user, pooled], 1) as tf.Tensor2D), [B]) as tf.Tensor1D;
    });
  }
  flops(B: number): number {
    const s = this.mlp.sizes;
    let f = 0;
    for (let l = 0; l + 1 < s.length; l++) f += 2 * B * s[l]! * s[l + 1]!;
    return f;
  }
}
