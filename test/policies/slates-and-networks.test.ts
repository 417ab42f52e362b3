import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { addRelu, columnSum, dense, denseData, initBackend, lastColumns, matMulData, product, relu, runOwnWasmKernel, sumMiddle, tf, transpose2d, weightGrad } from '../../policies/backend.js';
import { gumbelTopK, logSoftmaxLast, plLogProb, plLogProbTf } from '../../policies/plackett-luce.js';
import { Adam, clipScale, orthogonal, RunningNorm } from '../../policies/nn.js';
import { SlateScorer } from '../../policies/scorer.js';
import { TensorAdam } from '../../experiments/tensor-adam.js';
import { streamFromString } from '../../envs/rng.js';

await initBackend('wasm');

/**
 * Two arrays of bits are the same, element for element; a failure names the first element that differs (a diff of
 * millions of elements, as toEqual prints it, takes minutes).
 */
function expectSame(got: number[], want: number[], label = ''): void {
  expect(got.length, label).toBe(want.length);
  const i = got.findIndex((v, k) => v !== want[k]);
  expect(i === -1 ? 'all equal' : `element ${i}: bits ${got[i]} against ${want[i]}`, label).toBe('all equal');
}

/** A float32 tensor's values as their bit patterns (so that -0, NaN payloads and the last bit count). */
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

describe('Plackett-Luce slates', () => {
  const logits = [0.3, -1.2, 0.8, 0.1, -0.4];
  const N = 5;

  it('log-probabilities of all ordered slates sum to one (N 5, K 1..3)', () => {
    for (let K = 1; K <= 3; K++) {
      let total = 0;
      const rec = (prefix: number[]) => {
        if (prefix.length === K) {
          total += Math.exp(plLogProb(logits, 0, N, prefix, 0, K));
          return;
        }
        for (let i = 0; i < N; i++) if (!prefix.includes(i)) rec([...prefix, i]);
      };
      rec([]);
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('Gumbel top-K sampling frequencies match the Plackett-Luce probabilities', () => {
    const K = 2;
    const rng = streamFromString('gumbel');
    const out = new Int32Array(K);
    const work = new Float64Array(N);
    const counts = new Map<string, number>();
    const draws = 40000;
    for (let i = 0; i < draws; i++) {
      gumbelTopK(logits, 0, N, K, rng, out, 0, work);
      const k = `${out[0]},${out[1]}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let chi2 = 0;
    let cells = 0;
    for (let a = 0; a < N; a++) {
      for (let b = 0; b < N; b++) {
        if (a === b) continue;
        const p = Math.exp(plLogProb(logits, 0, N, [a, b], 0, K));
        const o = counts.get(`${a},${b}`) ?? 0;
        chi2 += (o - draws * p) ** 2 / (draws * p);
        cells++;
      }
    }
    expect(cells).toBe(20);
    expect(chi2).toBeLessThan(43.82); // chi-square(19) at p = 0.001
  });

  it('the differentiable log-probability matches the plain one and masks invalid candidates', () => {
    const slates = Int32Array.from([2, 0, 4, 1]);
    const t = plLogProbTf(tf.tensor2d([...logits, ...logits], [2, N]), slates, 2);
    const lp = t.logp.dataSync();
    expect(lp[0]).toBeCloseTo(plLogProb(logits, 0, N, [2, 0], 0, 2), 5);
    expect(lp[1]).toBeCloseTo(plLogProb(logits, 0, N, [4, 1], 0, 2), 5);
    t.logp.dispose();
    t.entropy.dispose();
    const rng = streamFromString('mask');
    const out = new Int32Array(2);
    for (let i = 0; i < 200; i++) {
      gumbelTopK(logits, 0, N, 2, rng, out, 0, new Float64Array(N), [1, 0, 1, 1, 0]);
      expect([1, 4]).not.toContain(out[0]);
      expect([1, 4]).not.toContain(out[1]);
    }
  });

  it('stays exact and finite, gradient included, when the policy is peaked (no cancellation in the remaining mass)', () => {
    // One dominant candidate: Z minus the placed items would cancel in float32 at the later positions.
    const peaked = [40, 0, -3, -25, 5, -60, 12, 1];
    const n = peaked.length;
    const slates = Int32Array.from([0, 6, 4, 7, 1]);
    const x = tf.tensor2d(peaked, [1, n]);
    const v = tf.variable(x, true, 'peaked');
    const { value, grads } = tf.variableGrads(() => {
      const t = plLogProbTf(v as unknown as tf.Tensor2D, slates, 5);
      return tf.add(tf.sum(t.logp), tf.sum(t.entropy)) as tf.Scalar;
    }, [v]);
    expect(Number.isFinite(value.dataSync()[0]!)).toBe(true);
    for (const g of Object.values(grads)) for (const v of g.dataSync()) expect(Number.isFinite(v)).toBe(true);
    const t = plLogProbTf(x, slates, 5);
    expect(t.logp.dataSync()[0]).toBeCloseTo(plLogProb(peaked, 0, n, slates, 0, 5), 3);
    // The entropy of a slate whose later positions are nearly uniform among small logits is positive and finite.
    expect(t.entropy.dataSync()[0]).toBeGreaterThan(0);
    expect(Number.isFinite(t.entropy.dataSync()[0]!)).toBe(true);
    tf.dispose([x, v, value, ...Object.values(grads), t.logp, t.entropy]);
  });
  it('z - logsumexp(z) without the broadcast Equal is tf.logSumExp to the bit, values and gradients, ties, masks and peaks included', () => {
    const shapes: [number, number, number][] = [[1, 1, 1], [3, 2, 7], [64, 5, 20]];
    for (const [M, K, N] of shapes) {
      for (const kind of ['normal', 'ties', 'peaked'] as const) {
        const base = tf.randomNormal([M, K, N], 0, kind === 'peaked' ? 30 : 1, 'float32', M * 7 + N) as tf.Tensor3D;
        // Ties: values rounded to a coarse grid, so the max is often shared; masked-like entries 1e9 below.
        const z0 = kind === 'ties' ? tf.add(tf.round(base), tf.mul(tf.cast(tf.less(base, -0.8), 'float32'), -1e9)) : base;
        const w = tf.randomNormal([M, K, N], 0, 1, 'float32', 99); // a loss that weights every output differently
        const ref = (z: tf.Tensor) => tf.sub(z, tf.logSumExp(z, 2, true));
        const loss = (f: (z: tf.Tensor) => tf.Tensor) => (z: tf.Tensor) => {
          const y = f(z); // once: z's gradients from several calls would add up in another order
          return tf.sum(tf.add(tf.mul(y, w), tf.mul(tf.exp(y), y)));
        };
        const got = tf.valueAndGrad(loss((z) => logSoftmaxLast(z as tf.Tensor3D)))(z0);
        const want = tf.valueAndGrad(loss(ref))(z0);
        expect(bits(got.value)).toEqual(bits(want.value));
        expect(bits(got.grad)).toEqual(bits(want.grad));
        expect(bits(logSoftmaxLast(z0 as tf.Tensor3D))).toEqual(bits(ref(z0)));
        tf.dispose([base, z0, w, got.value, got.grad, want.value, want.grad]);
      }
    }
    // The gradient through the whole Plackett-Luce log-probability and entropy, against the same built on tf.logSumExp.
    const logitsT = tf.randomNormal([256, 20], 0, 2, 'float32', 5) as tf.Tensor2D;
    const slates = new Int32Array(256 * 5);
    const rng = streamFromString('pl-grad');
    const out = new Int32Array(5);
    const lg = logitsT.dataSync();
    for (let m = 0; m < 256; m++) {
      gumbelTopK(lg, m * 20, 20, 5, rng, out, 0, new Float64Array(20));
      slates.set(out, m * 5);
    }
    // The slate constants (one-hot rows, the placed items) as tf.oneHot and tf.cumsum make them, and the sums as tf.sum.
    const oldPl = (logits: tf.Tensor2D, mask?: tf.Tensor2D) => {
      const masked = mask ? tf.add(logits, tf.mul(tf.sub(1, mask), -1e9)) : logits;
      const oh = tf.oneHot(tf.tensor1d(slates, 'int32'), 20).toFloat().reshape([256, 5, 20]);
      const zk = tf.add(tf.reshape(masked, [256, 1, 20]), tf.mul(tf.cumsum(oh, 1, true), -1e9));
      const logpk = tf.sub(zk, tf.logSumExp(zk, 2, true));
      return { logp: tf.sum(tf.mul(oh, logpk), [1, 2]), entropy: tf.neg(tf.sum(tf.mul(tf.exp(logpk), logpk), [1, 2])) };
    };
    const objective = (pl: (l: tf.Tensor2D) => { logp: tf.Tensor; entropy: tf.Tensor }) => (l: tf.Tensor) => {
      const { logp, entropy } = pl(l as tf.Tensor2D);
      return tf.add(tf.mean(tf.mul(tf.exp(logp), tf.range(0, 256).div(256))), tf.mul(tf.mean(entropy), 0.01)) as tf.Scalar;
    };
    const compare = (mask?: tf.Tensor2D) => {
      const a = tf.valueAndGrad(objective((l) => plLogProbTf(l, slates, 5, mask)))(logitsT);
      const b = tf.valueAndGrad(objective((l) => oldPl(l, mask)))(logitsT);
      expect(bits(a.value)).toEqual(bits(b.value));
      expect(bits(a.grad)).toEqual(bits(b.grad));
      const na = plLogProbTf(logitsT, slates, 5, mask);
      const nb = oldPl(logitsT, mask);
      expect(bits(na.logp)).toEqual(bits(nb.logp));
      expect(bits(na.entropy)).toEqual(bits(nb.entropy));
      tf.dispose([a.value, a.grad, b.value, b.grad, na.logp, na.entropy, nb.logp, nb.entropy]);
    };
    compare();
    // A mask over every fourth candidate (the slates were sampled without it, so most hold masked candidates), two
    // slate entries outside [0, N) (rows of zeros, as tf.oneHot gives), and an item placed twice and one three times
    // (later positions see it placed 2 and 3 times). The second call also reuses the first call's arrays on wasm.
    const maskT = tf.tensor2d(Float32Array.from({ length: 256 * 20 }, (_, i) => ((i * 7) % 4 === 0 ? 0 : 1)), [256, 20]);
    slates[3] = -1;
    slates[9] = 20;
    slates[12] = slates[11]!;
    slates[16] = slates[15]!;
    slates[18] = slates[15]!;
    compare(maskT);
    tf.dispose([logitsT, maskT]);
  });
});

describe('network plumbing', () => {
  it('the weight gradient (x^T) dy is the backend\'s matMul(transpose(x), dy) bit for bit, on the shapes in use and odd ones', () => {
    expect(tf.getBackend()).toBe('wasm');
    // [R, C, H]: PPO's candidate tower (13 features) and head (one column) over a retention-v0 minibatch, its user
    // tower, the supervised models' first layer, and shapes with H not a multiple of 4, one row, one column.
    const shapes: [number, number, number][] = [[40960, 13, 64], [40960, 64, 1], [2048, 49, 64], [1024, 63, 64], [3, 64, 1], [1000, 64, 3], [7, 3, 5], [33, 2, 6], [1, 1, 1], [5, 1, 7], [64, 64, 64]];
    for (const [R, C, H] of shapes) {
      const x = tf.randomNormal([R, C], 0, 1, 'float32', R + C) as tf.Tensor2D;
      // Exact zeros and negative zeros in dy too (ReLU gradients), where a fused or reordered sum would show.
      const dy = tf.mul(tf.randomNormal([R, H], 0, 1, 'float32', R + H), tf.cast(tf.greater(tf.randomUniform([R, H], 0, 1, 'float32', 3), 0.3), 'float32')) as tf.Tensor2D;
      const want = tf.matMul(tf.transpose(x), dy);
      const got = weightGrad(x, dy);
      expect(got.shape).toEqual([C, H]);
      expectSame(bits(got), bits(want), `R ${R} C ${C} H ${H}`);
      tf.dispose([x, dy, want, got]);
    }
  });

  it('on wasm, Identity and a same-type Cast share their input\'s data instead of copying it; other casts still convert', () => {
    expect(tf.getBackend()).toBe('wasm');
    const x = tf.tensor2d([1.5, -0, 3, Number.NaN], [2, 2]);
    const buffers = () => (tf.memory() as { numDataBuffers: number }).numDataBuffers;
    const before = buffers();
    const c = tf.clone(x);
    const k = tf.cast(x, 'float32');
    expect(buffers()).toBe(before); // no new buffer
    x.dispose(); // the shares keep the data alive
    expect(Array.from(c.dataSync())).toEqual([1.5, -0, 3, Number.NaN]);
    expect(Array.from(k.dataSync())).toEqual([1.5, -0, 3, Number.NaN]);
    const i = tf.cast(c, 'int32');
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.dataSync())).toEqual([1, 0, 3, 0]);
    const b = tf.tidy(() => tf.cast(tf.equal(tf.tensor1d([0, 2, 0]), 0), 'float32'));
    expect(b.dtype).toBe('float32');
    expect(Array.from(b.dataSync())).toEqual([1, 0, 1]);
    const s = tf.tidy(() => tf.clone(tf.tensor1d(['a', 'b'], 'string')));
    expect(s.dataSync()).toEqual(['a', 'b']);
    tf.dispose([c, k, i, b, s]);
    expect(buffers()).toBe(before - 1);
  });

  it("on wasm, Exp of float32 (policies/expf.ts) is the backend's own Exp to the bit: special values and 4 million inputs spread over every float32", () => {
    expect(tf.getBackend()).toBe('wasm');
    const n = 1 << 22;
    const x = new Float32Array(n + 64);
    const u = new Uint32Array(x.buffer);
    for (let i = 0; i < n; i++) u[i] = (i * 1031 + 7) % 2 ** 32; // 1031 apart: every sign and exponent, NaNs included
    const f = Math.fround;
    const next = (v: number, d: number) => {
      const a = new Float32Array([v]);
      new Int32Array(a.buffer)[0]! += d;
      return a[0]!;
    };
    const special = [0, -0, 1, -1, 88, -88, f(88.72), next(88, -1), next(-88, 1), f(88.7228394), next(f(88.7228394), 1), f(-103.972076), next(f(-103.972076), 1), next(f(-103.972076), -1), -104, -1e9, 1e-45, -1e-45, 1.2e-38, Infinity, -Infinity, NaN, f(0.5), f(-0.5), f(1e-8)];
    x.set(special, n);
    const xt = tf.tensor1d(x);
    const ours = tf.exp(xt);
    const theirs = runOwnWasmKernel('Exp', xt);
    const a = ours.dataSync() as Float32Array;
    const b = theirs.dataSync() as Float32Array;
    const ab = new Uint32Array(a.buffer, a.byteOffset, a.length);
    const bb = new Uint32Array(b.buffer, b.byteOffset, b.length);
    let diffs = 0;
    let nans = 0;
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(b[i]!)) {
        nans++;
        if (!Number.isNaN(a[i]!)) diffs++;
      } else if (ab[i] !== bb[i]) diffs++;
    }
    expect(diffs).toBe(0);
    expect(nans).toBeGreaterThan(0); // NaN inputs are among them, and give NaN
    expect(Array.from(a.subarray(n, n + 3))).toEqual([1, 1, f(Math.E)]);
    // Not float32: the backend's kernel.
    const e = tf.exp(tf.tensor1d([0, 1, 2], 'int32'));
    expect(e.dtype).toBe('float32');
    expect(Array.from(e.dataSync())).toEqual([1, f(Math.E), f(Math.exp(2))]);
    tf.dispose([xt, ours, theirs, e]);
  });

  it('policies/wasm-kernels.ts is the assembly of policies/kernels.wat', () => {
    // Exits 1, naming the fix, when the committed bytes are not the source's assembly.
    const out = execFileSync(process.execPath, ['scripts/build-wasm-kernels.mjs', '--check'], { encoding: 'utf8' });
    expect(out).toContain('is the assembly of policies/kernels.wat');
  });

  it('transpose2d and columnSum on wasm equal the backend\'s Transpose and Sum bit for bit', () => {
    expect(tf.getBackend()).toBe('wasm');
    for (const [R, C, seed] of [
      [1024, 63, 1],
      [1024, 128, 2],
      [37, 5, 3],
      [1, 7, 4],
      [300, 33, 5],
      [2048, 64, 6],
      [65, 20, 7],
    ] as const) {
      // Magnitudes spread over six decades, so that the order of float32 additions shows in the sums.
      const x = tf.tidy(() => tf.mul(tf.randomNormal([R, C], 0, 1, 'float32', seed), tf.pow(10, tf.randomUniform([R, C], -3, 3, 'float32', seed + 100)))) as tf.Tensor2D;
      const t = transpose2d(x);
      expect(t.shape).toEqual([C, R]);
      expect(Array.from(t.dataSync())).toEqual(Array.from(tf.transpose(x).dataSync()));
      const s = columnSum(x);
      expect(s.shape).toEqual([C]);
      expect(Array.from(s.dataSync())).toEqual(Array.from(tf.sum(x, 0).dataSync()));
      tf.dispose([x, t, s]);
    }
    // The dense layer's gradients are those of the backend's kernels: dW = matMul(transpose(x), dy), db = sum(dy, 0).
    const x = tf.randomNormal([200, 9], 0, 1, 'float32', 11) as tf.Tensor2D;
    const W = tf.variable(tf.randomNormal([9, 16], 0, 1, 'float32', 12));
    const b = tf.variable(tf.randomNormal([16], 0, 1, 'float32', 13));
    const dy = tf.randomNormal([200, 16], 0, 1, 'float32', 14) as tf.Tensor2D;
    const g = tf.variableGrads(() => tf.sum(tf.mul(denseData(x, W, b), dy)) as tf.Scalar, [W, b]);
    expect(Array.from(g.grads[W.name]!.dataSync())).toEqual(Array.from(tf.matMul(tf.transpose(x), dy).dataSync()));
    expect(Array.from(g.grads[b.name]!.dataSync())).toEqual(Array.from(tf.sum(dy, 0).dataSync()));
    tf.dispose([x, W, b, dy, g.value, ...Object.values(g.grads)]);
  });

  it('lastColumns on wasm equals the backend\'s Slice bit for bit, and leaves its input as it was', () => {
    expect(tf.getBackend()).toBe('wasm');
    // [R, C, from]: PPO's wide input over a vector step's and a minibatch's candidates (17 columns, the last 4),
    // one column, all but the first, a single row.
    for (const [R, C, from] of [[640, 17, 13], [40960, 17, 13], [100, 9, 8], [33, 6, 1], [1, 5, 2]] as const) {
      const x = tf.randomNormal([R, C], 0, 1, 'float32', R + C) as tf.Tensor2D;
      const before = bits(x);
      const y = lastColumns(x, from);
      expect(y.shape).toEqual([R, C - from]);
      const ref = tf.slice(x, [0, from], [R, C - from]);
      expect(bits(y)).toEqual(bits(ref));
      expect(bits(x)).toEqual(before);
      tf.dispose([x, y, ref]);
    }
    // From column 0 it is the input itself (no copy).
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 9) as tf.Tensor2D;
    expect(lastColumns(x, 0)).toBe(x);
    x.dispose();
  });

  it('x W for a one-column W (amv on wasm) is the backend\'s matMul bit for bit, on the shapes in use and odd ones', () => {
    expect(tf.getBackend()).toBe('wasm');
    // [R, C]: PPO's score head over a retention-v0 minibatch and over one vector step's candidates, its critic's
    // output layer, the supervised models' output layer, rows and columns left over from the blocks of 4, one of each.
    const shapes: [number, number][] = [[40960, 64], [1280, 64], [2048, 64], [1024, 128], [7, 13], [6, 5], [5, 3], [3, 4], [1, 1], [2, 9], [9, 2]];
    for (const [R, C] of shapes) {
      // ReLU-like rows (exact zeros, whole rows of them) against weights of both signs: products of -0, and sums of
      // -0 only, where a sum started from the first product instead of +0 would show.
      const x = tf.tidy(() => {
        const h = tf.relu(tf.randomNormal([R, C], 0, 1, 'float32', R + C)) as tf.Tensor2D;
        const dead = tf.cast(tf.greater(tf.randomUniform([R, 1], 0, 1, 'float32', R), 0.1), 'float32');
        return tf.mul(h, dead) as tf.Tensor2D;
      });
      const W = tf.mul(tf.randomNormal([C, 1], 0, 1, 'float32', C), tf.pow(10, tf.randomUniform([C, 1], -3, 3, 'float32', C + 1))) as tf.Tensor2D;
      const got = product(x, W);
      const want = tf.matMul(x, W);
      expect(got.shape).toEqual([R, 1]);
      expectSame(bits(got), bits(want), `R ${R} C ${C}`);
      tf.dispose([x, W, got, want]);
    }
    // All-negative weights on a zero row: matMul gives +0 (its sum starts from +0), not -0.
    const z = product(tf.zeros([5, 3]) as tf.Tensor2D, tf.fill([3, 1], -2) as tf.Tensor2D);
    expect(Array.from(z.dataSync()).every((v) => Object.is(v, 0))).toBe(true);
    // The dense layer with a one-column W: value and gradients as before, bit for bit.
    const x = tf.randomNormal([300, 9], 0, 1, 'float32', 21) as tf.Tensor2D;
    const W = tf.variable(tf.randomNormal([9, 1], 0, 1, 'float32', 22));
    const b = tf.variable(tf.randomNormal([1], 0, 1, 'float32', 23));
    const dy = tf.randomNormal([300, 1], 0, 1, 'float32', 24) as tf.Tensor2D;
    expect(bits(dense(x, W, b))).toEqual(bits(tf.add(tf.matMul(x, W), b)));
    const g = tf.variableGrads(() => tf.sum(tf.mul(dense(x, W, b), dy)) as tf.Scalar, [W, b]);
    expect(bits(g.grads[W.name]!)).toEqual(bits(tf.matMul(tf.transpose(x), dy)));
    expect(bits(g.grads[b.name]!)).toEqual(bits(tf.sum(dy, 0)));
    tf.dispose([z, x, W, b, dy, g.value, ...Object.values(g.grads)]);
  });

  it('the sum over the middle axis (colsums on wasm), and relu of the broadcast add (addrelu) with its gradient, are the backend\'s, bit for bit', () => {
    expect(tf.getBackend()).toBe('wasm');
    // [B, N, H]: a PPO minibatch on retention-v0, one vector step, odd ones (a block past 64 rows, one row, one column).
    for (const [B, N, H] of [[2048, 20, 64], [64, 20, 64], [3, 7, 5], [2, 1, 3], [5, 65, 6], [4, 3, 1]] as const) {
      // Magnitudes over six decades and exact zeros of both signs, where another order or start would show.
      const x = tf.tidy(() => {
        const v = tf.mul(tf.randomNormal([B, N, H], 0, 1, 'float32', B + N), tf.pow(10, tf.randomUniform([B, N, H], -3, 3, 'float32', H)));
        return tf.mul(v, tf.cast(tf.greater(tf.randomUniform([B, N, H], 0, 1, 'float32', 9), 0.2), 'float32')) as tf.Tensor3D;
      });
      const got = sumMiddle(x);
      expect(got.shape).toEqual([B, H]);
      expectSame(bits(got), bits(tf.sum(x, 1)), `B ${B} N ${N} H ${H}`);
      // addRelu against tf.relu(tf.add(u, c)): value, and both gradients under an upstream gradient x. u's first
      // column is -0 and c holds -0 there in its first row (a sum of -0), the negation of u in its second row (+0),
      // and NaN and both infinities after that (NaN compared as one pattern: a multiply does not fix its payload).
      const u = tf.tidy(() => {
        const v = tf.randomNormal([B, 1, H], 0, 1, 'float32', 3).dataSync().slice();
        v[0] = -0;
        return tf.tensor3d(v, [B, 1, H]);
      });
      const c = tf.tidy(() => {
        const v = tf.randomNormal([B, N, H], 0, 1, 'float32', 4).dataSync().slice();
        const uv = u.dataSync();
        v[0] = -0;
        for (let j = 0; N > 1 && j < H; j++) v[H + j] = -uv[j]!;
        for (let i = 2 * H, q = 0; i < v.length && q < 3; i += 5, q++) v[i] = [NaN, Infinity, -Infinity][q]!;
        return tf.tensor3d(v, [B, N, H]);
      });
      const nanBits = (t: tf.Tensor) => bits(t).map((b) => ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0 ? 0x7fc00000 : b));
      const f = (op: (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor) => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor3D, b as tf.Tensor3D), x)));
      const [ga, gb] = f(addRelu)([u, c]);
      const [wa, wb] = f((a, b) => tf.relu(tf.add(a, b)))([u, c]);
      expectSame(nanBits(addRelu(u, c)), nanBits(tf.relu(tf.add(u, c))), `value, B ${B} N ${N} H ${H}`);
      expect(ga!.shape).toEqual([B, 1, H]);
      expectSame(nanBits(ga!), nanBits(wa!), `du, B ${B} N ${N} H ${H}`);
      expectSame(nanBits(gb!), nanBits(wb!), `dc, B ${B} N ${N} H ${H}`);
      tf.dispose([x, got, u, c, ga!, gb!, wa!, wb!]);
    }
    // One row: nothing is broadcast and u's gradient is the upstream gradient as it is, -0 included.
    const dy = tf.tensor3d([-0, 1.5, -2], [1, 1, 3]);
    const [g1] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(addRelu(a as tf.Tensor3D, b as tf.Tensor3D), dy)))([tf.ones([1, 1, 3]), tf.ones([1, 1, 3])]);
    expect(Object.is(g1!.dataSync()[0], -0)).toBe(true);
    expect(Array.from(g1!.dataSync())).toEqual([-0, 1.5, -2]);
  });

  it('relu has tf.relu\'s value and gradient (relugrad on wasm), bit for bit, zeros of both signs, infinities and NaN included', () => {
    expect(tf.getBackend()).toBe('wasm');
    // Every NaN as one pattern (the float32 multiply does not fix a NaN's payload); every other value by its bits.
    const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer)).map((b) => ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0 ? 0x7fc00000 : b));
    const special = [0, -0, 1, -1, Infinity, -Infinity, NaN, 1e-45, -1e-45, 3.4e38];
    for (const shape of [[40960, 64], [2048, 64], [7], [3, 5], [1], [10, 10]] as const) {
      const n = shape.reduce((a: number, b: number) => a * b, 1);
      const x = tf.tidy(() => {
        const v = tf.randomNormal([n], 0, 1, 'float32', n).dataSync().slice();
        // The special values, against every special value of dy below, at the start (and in the four-wide part).
        for (let i = 0; i < Math.min(n, 100); i++) v[i] = special[i % 10]!;
        // And the last ones (the one-at-a-time tail where n is not a multiple of 4) against dy -1.5.
        for (let i = n - 1; i >= Math.max(0, n - 10); i--) v[i] = special[n - 1 - i]!;
        return tf.tensor(v, [...shape]);
      });
      const dy = tf.tidy(() => {
        const v = tf.randomNormal([n], 0, 1, 'float32', n + 1).dataSync().slice();
        for (let i = 0; i < Math.min(n, 100); i++) v[i] = special[Math.floor(i / 10)]!;
        for (let i = n - 1; i >= Math.max(0, n - 10); i--) v[i] = -1.5;
        return tf.tensor(v, [...shape]);
      });
      const got = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(relu(a), dy)))(x);
      const want = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))(x);
      expectSame(bits(relu(x)), bits(tf.relu(x)), `value, shape ${shape.join('x')}`);
      expectSame(bits(got), bits(want), `gradient, shape ${shape.join('x')}`);
      tf.dispose([x, dy, got, want]);
    }
  });

  it('matMulData is x W with the gradient of a zero-bias dense layer, bit for bit', () => {
    const x = tf.randomNormal([500, 13], 0, 1, 'float32', 7) as tf.Tensor2D;
    const W = tf.variable(tf.randomNormal([13, 64], 0, 1, 'float32', 8));
    const dy = tf.randomNormal([500, 64], 0, 1, 'float32', 9);
    const zero = tf.zeros([64]);
    const a = tf.variableGrads(() => tf.sum(tf.mul(matMulData(x, W), dy)) as tf.Scalar, [W]);
    const b = tf.variableGrads(() => tf.sum(tf.mul(denseData(x, W, zero), dy)) as tf.Scalar, [W]);
    expect(Array.from(a.grads[W.name]!.dataSync())).toEqual(Array.from(b.grads[W.name]!.dataSync()));
    expect(Array.from(matMulData(x, W).dataSync())).toEqual(Array.from(tf.matMul(x, W).dataSync()));
    tf.dispose([x, W, dy, zero, a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
  });

  it('the wide scorer adds w . c_i to each score: zero at init (same scores, same init of the rest), then the gradient reaches w', () => {
    const [B, N, U, F, H] = [3, 4, 5, 6, 8];
    const rngA = streamFromString('egym|test|wide');
    const rngB = streamFromString('egym|test|wide');
    const deep = new SlateScorer(U, F, H, 0, 0.5, rngA, 'a');
    const wide = new SlateScorer(U, F, H, 0, 0.5, rngB, 'b', true);
    expect(wide.params.vars.length).toBe(deep.params.vars.length + 1);
    deep.params.vars.forEach((v, i) => expect(wide.params.vars[i]!.dataSync()).toEqual(v.dataSync()));
    const u = tf.tensor2d(Float32Array.from({ length: B * U }, (_, i) => Math.sin(i)), [B, U]);
    const c = tf.tensor2d(Float32Array.from({ length: B * N * F }, (_, i) => Math.cos(i)), [B * N, F]);
    expect(wide.scores(u, c, N).dataSync()).toEqual(deep.scores(u, c, N).dataSync());
    // With w set, the scores move by exactly c_i . w.
    const w = Float32Array.from({ length: F }, (_, j) => 0.25 * (j - 2));
    wide.params.vars.at(-1)!.assign(tf.tensor2d(w, [F, 1]));
    const got = wide.scores(u, c, N).dataSync();
    const base = deep.scores(u, c, N).dataSync();
    const cv = c.dataSync();
    for (let i = 0; i < B * N; i++) {
      let lin = 0;
      for (let j = 0; j < F; j++) lin += cv[i * F + j]! * w[j]!;
      expect(got[i]!).toBeCloseTo(base[i]! + lin, 5);
    }
    // d(sum of scores)/dw = sum_i c_i.
    const g = tf.variableGrads(() => tf.sum(wide.scores(u, c, N)) as tf.Scalar, [wide.params.vars.at(-1)!]).grads;
    const gw = Object.values(g)[0]!.dataSync();
    for (let j = 0; j < F; j++) {
      let sum = 0;
      for (let i = 0; i < B * N; i++) sum += cv[i * F + j]!;
      expect(gw[j]!).toBeCloseTo(sum, 4);
    }
    expect(wide.flops(B, N) - deep.flops(B, N)).toBe(2 * B * N * F);
  });

  it('RunningNorm keeps the mean and variance of every row seen and normalizes by them, clipped to [-10, 10]', () => {
    // The parallel (Chan et al.) update as first written, one statement at a time: the reference, to the bit.
    const ref = { mean: new Float64Array(3), varr: new Float64Array(3).fill(1), count: 1e-4 };
    const refUpdate = (x: ArrayLike<number>, n: number) => {
      if (n === 0) return;
      const d = 3;
      const bm = new Float64Array(d);
      const bv = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) bm[j]! += x[i * d + j]!;
      for (let j = 0; j < d; j++) bm[j]! /= n;
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) bv[j]! += (x[i * d + j]! - bm[j]!) ** 2;
      for (let j = 0; j < d; j++) bv[j]! /= n;
      const tot = ref.count + n;
      for (let j = 0; j < d; j++) {
        const delta = bm[j]! - ref.mean[j]!;
        const m2 = ref.varr[j]! * ref.count + bv[j]! * n + (delta * delta * ref.count * n) / tot;
        ref.mean[j] = ref.mean[j]! + (delta * n) / tot;
        ref.varr[j] = m2 / tot;
      }
      ref.count = tot;
    };
    const norm = new RunningNorm(3);
    const rng = streamFromString('running-norm');
    const all: number[][] = [[], [], []];
    for (const n of [5, 1, 40, 0, 17, 300]) {
      // Columns with different means and scales, as float32 rows and as float64 rows.
      const rows = Array.from({ length: n * 3 }, (_, i) => (rng() - 0.5) * 10 ** (i % 3) + 3 * (i % 3));
      const x = n % 2 === 0 ? Float32Array.from(rows) : Float64Array.from(rows);
      norm.update(x, n);
      refUpdate(x, n);
      for (let i = 0; i < n * 3; i++) all[i % 3]!.push(x[i]!);
      expect(Array.from(norm.mean)).toEqual(Array.from(ref.mean));
      expect(Array.from(norm.varr)).toEqual(Array.from(ref.varr));
      expect(norm.count).toBe(ref.count);
    }
    // The statistics are those of every row seen (the prior of count 1e-4 aside).
    for (let j = 0; j < 3; j++) {
      const m = all[j]!.reduce((a, b) => a + b, 0) / all[j]!.length;
      const v = all[j]!.reduce((a, b) => a + (b - m) ** 2, 0) / all[j]!.length;
      expect(Math.abs(norm.mean[j]! - m)).toBeLessThan(1e-5 * (1 + Math.abs(m)));
      expect(Math.abs(norm.varr[j]! - v)).toBeLessThan(1e-5 * (1 + v));
    }
    // apply: float32 of (x - mean) / sqrt(var + 1e-8), clipped, in place too.
    const x = Float32Array.from([0, 1, 2, 1e6, -1e6, 3, -0.5, 100, 4.25]);
    const out = norm.apply(x, 3, new Float32Array(9));
    for (let i = 0; i < 9; i++) {
      const z = (x[i]! - norm.mean[i % 3]!) / Math.sqrt(norm.varr[i % 3]! + 1e-8);
      expect(out[i]).toBe(Math.fround(Math.max(-10, Math.min(10, z))));
    }
    expect(out[3]).toBe(10);
    expect(out[4]).toBe(-10);
    const inPlace = Float32Array.from(x);
    expect(Array.from(norm.apply(inPlace, 3, inPlace))).toEqual(Array.from(out));
  });

  it('orthogonal init has orthonormal columns times the gain', () => {
    const w = orthogonal(streamFromString('o'), 6, 4, 2);
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        let d = 0;
        for (let r = 0; r < 6; r++) d += w[r * 4 + a]! * w[r * 4 + b]!;
        expect(d).toBeCloseTo(a === b ? 4 : 0, 4);
      }
    }
  });

  it('global-norm clipping scales the gradients to the maximum norm', () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
    const { scale, norm } = clipScale(g, 0.5);
    expect(norm).toBeCloseTo(5, 5);
    expect(scale).toBeCloseTo(0.5 / 5, 6);
    expect(clipScale(g, 10).scale).toBe(1);
    g.forEach((x) => x.dispose());
  });

  it('Adam (one JS pass per parameter) gives the tensor-op Adam with clipping its weights and state to the bit, on wasm and cpu', async () => {
    // The reference: the update as TensorFlow.js operations (experiments/tensor-adam.ts, what Adam.apply ran before).
    const bits = (x: tf.Tensor | Float32Array | number[]) => Array.from(new Uint32Array(Float32Array.from(x instanceof tf.Tensor ? (x.dataSync() as Float32Array) : x).buffer));
    try {
      for (const backend of ['cpu', 'wasm'] as const) {
        await initBackend(backend);
        const rng = streamFromString(`adam-${backend}`);
        const shapes = [[7, 5], [5], [5, 1], [1], [40]];
        const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);
        const init = shapes.map((s) => Float32Array.from({ length: sizeOf(s) }, () => 2 * rng() - 1));
        const ref = init.map((x, i) => tf.variable(tf.tensor(x, shapes[i]!)));
        const reference = new TensorAdam(ref, 1e-3, 1e-5);
        const ours = init.map((x, i) => tf.variable(tf.tensor(x, shapes[i]!)));
        const opt = new Adam(ours, 1e-3, 1e-5);
        // Gradients from subnormal to huge, some exactly 0, clipped on every third step, the rate changing.
        for (let t = 1; t <= 120; t++) {
          const mag = [1e-40, 1e-30, 1e-6, 1e-2, 1, 1e4, 1e9][t % 7]!;
          const g = shapes.map((s) => Float32Array.from({ length: sizeOf(s) }, () => (rng() < 0.1 ? 0 : (2 * rng() - 1) * mag)));
          const lr = t % 10 === 0 ? 0.5 : 1e-3 * (1 - t / 200);
          const maxNorm = t % 3 === 0 ? 0.5 : 1e30;
          reference.lr = lr;
          reference.applyClipped(g.map((x, i) => tf.tensor(x, shapes[i]!)), maxNorm);
          opt.lr = lr;
          opt.applyClipped(g.map((x, i) => tf.tensor(x, shapes[i]!)), maxNorm);
          ref.forEach((x, i) => expect(bits(ours[i]!), `${backend} step ${t} parameter ${i}`).toEqual(bits(x)));
        }
        const st = opt.state();
        reference.m.forEach((x, i) => expect(bits(st.m[i]!)).toEqual(bits(x)));
        reference.v.forEach((x, i) => expect(bits(st.v[i]!)).toEqual(bits(x)));
        // save -> load into a fresh optimizer -> the same next step.
        const again = ours.map((x) => tf.variable(x.clone()));
        const opt2 = new Adam(again, opt.lr, 1e-5);
        opt2.load(JSON.parse(JSON.stringify(st)) as typeof st);
        const g = shapes.map((s) => Float32Array.from({ length: sizeOf(s) }, () => 2 * rng() - 1));
        opt.applyClipped(g.map((x, i) => tf.tensor(x, shapes[i]!)), 0.5);
        opt2.applyClipped(g.map((x, i) => tf.tensor(x, shapes[i]!)), 0.5);
        again.forEach((x, i) => expect(bits(x)).toEqual(bits(ours[i]!)));
        expect(() => opt2.load({ ...st, m: st.m.slice(1) })).toThrow(/expected 5 arrays in m/);
        tf.tidy(() => {
          expect(() => opt2.apply([tf.tensor1d([1])])).toThrow(/1 gradients for 5 parameters/);
          expect(() => opt2.apply(shapes.map((s, i) => tf.zeros(i === 4 ? [39] : s)))).toThrow(/gradient 4 has 39 values, its parameter 40/);
        });
        expect(opt2.state().t).toBe(st.t + 1); // the refused calls changed nothing
        expect(() => opt2.load({ ...st, v: [...st.v.slice(0, 4), [1, 2]] })).toThrow(/v\[4\] should hold 40 values/);
        reference.dispose();
        [...ref, ...ours, ...again].forEach((x) => x.dispose());
      }
    } finally {
      await initBackend('wasm');
    }
  });

  it("Adam's learning rate is settable (annealing takes effect) and epsilon is explicit", () => {
    const v = tf.variable(tf.tensor1d([1]));
    const opt = new Adam([v], 0.1, 1e-5);
    expect(opt.eps).toBe(1e-5);
    const step = (lr: number) => {
      opt.lr = lr;
      const before = v.dataSync()[0]!;
      const g = tf.tensor1d([1]);
      opt.apply([g]);
      g.dispose();
      return before - v.dataSync()[0]!;
    };
    const big = step(0.1);
    const small = step(0.01);
    expect(big).toBeCloseTo(0.1, 3);
    expect(small).toBeCloseTo(0.01, 3);
    opt.dispose();
    v.dispose();
  });
});
