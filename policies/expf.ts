/**
 * e^x for float32 values, bit for bit as the wasm backend's Exp kernel computes it, in JS over whole arrays.
 *
 * The backend runs the C library's expf element by element (Emscripten's musl, whose expf is the ARM
 * optimized-routines one): in double precision, x N / ln 2 = k + r with k the nearest integer (found by adding
 * and subtracting 1.5 x 2^52) and |r| <= 1/2, N = 32; then 2^(k / N) = 2^(k mod N / N) x 2^floor(k / N), the first
 * factor from a table of 32 doubles, and 2^(r / N) ~= 1 + C2 r + C1 r^2 + C0 r^3, evaluated as
 * (C0 r + C1) r^2 + (C2 r + 1), times 2^(k / N), rounded once to float32. |x| >= 88 takes the special cases:
 * -Infinity -> 0, NaN and +Infinity -> x + x, above ln(2^128) -> Infinity, below ln(2^-150) -> 0.
 * JS doubles round as C's (WebAssembly has no fused multiply-add, so neither side fuses), so every result is the
 * backend's to the bit: on every one of the 2^32 float32 inputs, NaN payloads included (`npx tsx
 * experiments/probe-expf.ts`, 85 s here), and on 4 million of them spread over the range plus the special values
 * in test/policies/slates-and-networks.test.ts. The point is speed: the backend calls expf once per element, which
 * on the [2048, 5, 20] Plackett-Luce arrays of a PPO minibatch (two such Exps in every minibatch) took 1.43 to 1.79
 * ms per Exp, this loop 0.80 to 1.53 ms (experiments/probe-adam-exp.ts, three runs).
 *
 * The table is 2^(i / 32) rounded to the nearest double, computed here exactly with integer 32nd roots; the
 * constants are the library's (the polynomial's minimax coefficients, published with it).
 */

import { InvalidArgument } from '../envs/errors.js';

/** A hexadecimal floating-point literal (C's 0x1.8p+52) as a number: exact for up to 53 significant bits. */
function hexFloat(s: string): number {
  const m = /^0x([0-9a-f])\.([0-9a-f]+)p([-+]?\d+)$/.exec(s);
  if (!m) throw new InvalidArgument(`not a hexadecimal float: ${s}`);
  return Number(BigInt(`0x${m[1]}${m[2]}`)) * 2 ** (Number(m[3]) - 4 * m[2]!.length);
}

/** floor(n^(1/32)) for a positive BigInt (Newton's method on integers). */
function root32(n: bigint): bigint {
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 32) + 1);
  for (;;) {
    const y = (31n * x + n / x ** 31n) / 32n;
    if (y >= x) break;
    x = y;
  }
  while ((x + 1n) ** 32n <= n) x++;
  while (x ** 32n > n) x--;
  return x;
}

const N = 32;
/**
 * 2^(i / N), i = 0..31, each the nearest double: round(2^(52 + i/32 + 30)) / 2^30 as an integer mantissa. Built
 * on the first Exp (about 20 ms of BigInt roots), not when the backend module loads.
 */
let table: Float64Array | null = null;
function expTable(): Float64Array {
  table ??= Float64Array.from({ length: N }, (_, i) => {
    const r = root32(1n << (BigInt(52 + 30) * 32n + BigInt(i)));
    return Number((r + (1n << 29n)) >> 30n) / 2 ** 52;
  });
  return table;
}
/** 2^e for integer e in [-200, 200), exact (powers of two by repeated doubling and halving). */
const POW2 = new Float64Array(400);
for (let e = 0, v = 1; e < 200; e++, v *= 2) POW2[200 + e] = v;
for (let e = 0, v = 1; e <= 200; e++, v /= 2) POW2[200 - e] = v;
const C0 = hexFloat('0x1.c6af84b912394p-5') / N / N / N;
const C1 = hexFloat('0x1.ebfce50fac4f3p-3') / N / N;
const C2 = hexFloat('0x1.62e42ff0c52d6p-1') / N;
const INV_LN2_N = hexFloat('0x1.71547652b82fep+0') * N;
const SHIFT = hexFloat('0x1.8p+52');
const OVERFLOW = hexFloat('0x1.62e42ep+6'); // the largest float32 below ln(2^128)
const UNDERFLOW = -hexFloat('0x1.9fe368p+6'); // the float32 next to ln(2^-150)

/** e^x for one float32 value x, rounded to float32 as the wasm backend's Exp rounds it. */
export function expf(x: number): number {
  return expfWith(expTable(), x);
}

function expfWith(TABLE: Float64Array, x: number): number {
  if (!(x < 88 && x > -88)) {
    if (x === -Infinity) return 0;
    if (x !== x || x === Infinity) return x + x;
    if (x > OVERFLOW) return Infinity;
    if (x < UNDERFLOW) return 0;
  }
  const z = INV_LN2_N * x;
  const kd = z + SHIFT - SHIFT;
  const r = z - kd;
  const k = kd | 0;
  const s = TABLE[k & 31]! * POW2[200 + (k >> 5)]!;
  const y = (C0 * r + C1) * (r * r) + (C2 * r + 1);
  return Math.fround(y * s);
}

/** out[i] = expf(x[i]) for i < n (out may be x). */
export function expfArray(x: Float32Array, out: Float32Array, n: number): void {
  const t = expTable();
  for (let i = 0; i < n; i++) out[i] = expfWith(t, x[i]!);
}
