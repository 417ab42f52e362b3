/**
 * Spaces: the sets observations and actions live in (Gymnasium 1.x semantics, TypeScript shape).
 *
 * Every space has `sample(rng)` (with an explicit seeded generator, never `Math.random`), `contains(x)`, // rng-ok
 * `shape`, `toJSON()` and `describe()` (a short text used in error messages). Arrays are typed arrays:
 * `Box` holds Float32Array values (or Float64Array), the integer spaces Int32Array.
 */
import { type Rng, sampleDistinct } from './rng.js';
import { InvalidArgument } from './errors.js';

export type SpaceJSON =
  | { type: 'Box'; low: number | number[]; high: number | number[]; shape: number[]; dtype: 'float32' }
  | { type: 'Discrete'; n: number; start: number }
  | { type: 'MultiDiscrete'; nvec: number[] }
  | { type: 'Slate'; n: number; k: number }
  | { type: 'Dict'; spaces: Record<string, SpaceJSON> };

export interface Space<T> {
  readonly kind: SpaceJSON['type'];
  /** The array shape of a value ([] for a scalar, null for a Dict). */
  readonly shape: readonly number[] | null;
  sample(rng: Rng): T;
  contains(x: unknown): x is T;
  toJSON(): SpaceJSON;
  describe(): string;
}

function isNumericArray(x: unknown): x is ArrayLike<number> {
  return (
    ArrayBuffer.isView(x) && !(x instanceof DataView) ? true : Array.isArray(x) && x.every((v) => typeof v === 'number')
  );
}

function prod(shape: readonly number[]): number {
  let p = 1;
  for (const s of shape) p *= s;
  return p;
}

function checkShape(shape: readonly number[], what: string): void {
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0) throw new InvalidArgument(`${what}: shape entries must be non-negative integers, got [${shape.join(', ')}]`);
  }
}

/** A box in R^shape with element-wise bounds (possibly infinite). Values are Float32Array. */
export class Box implements Space<Float32Array> {
  readonly kind = 'Box' as const;
  readonly shape: readonly number[];
  readonly size: number;
  readonly low: Float64Array;
  readonly high: Float64Array;

  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape: readonly number[]) {
    checkShape(shape, 'Box');
    this.shape = [...shape];
    this.size = prod(shape);
    this.low = broadcast(low, this.size, 'Box low');
    this.high = broadcast(high, this.size, 'Box high');
    for (let i = 0; i < this.size; i++) {
      if (!(this.low[i]! <= this.high[i]!)) throw new InvalidArgument(`Box: low[${i}] = ${this.low[i]} is above high[${i}] = ${this.high[i]}`);
    }
  }

  sample(rng: Rng): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      let v: number;
      if (Number.isFinite(lo) && Number.isFinite(hi)) v = lo + (hi - lo) * rng();
      else if (Number.isFinite(lo)) v = lo - Math.log(1 - rng());
      else if (Number.isFinite(hi)) v = hi + Math.log(1 - rng());
      else v = Math.tan(Math.PI * (rng() - 0.5));
      out[i] = Math.fround(Math.min(hi, Math.max(lo, v)));
    }
    return out;
  }

  contains(x: unknown): x is Float32Array {
    if (!isNumericArray(x) || x.length !== this.size) return false;
    for (let i = 0; i < this.size; i++) {
      const v = x[i]!;
      // Float32 rounding may move a bound-valued number by one ulp: compare against the rounded bounds.
      if (Number.isNaN(v) || v < Math.fround(this.low[i]!) || v > Math.fround(this.high[i]!)) return false;
    }
    return true;
  }

  toJSON(): SpaceJSON {
    const uniform = (a: Float64Array) => (a.every((v) => v === a[0]) ? jsonNum(a[0] ?? 0) : Array.from(a, jsonNum));
    return { type: 'Box', low: uniform(this.low), high: uniform(this.high), shape: [...this.shape], dtype: 'float32' };
  }

  describe(): string {
    const j = this.toJSON() as { low: unknown; high: unknown };
    const b = (v: unknown) => (Array.isArray(v) ? 'per-element' : String(v));
    return `Box(low=${b(j.low)}, high=${b(j.high)}, shape=[${this.shape.join(', ')}])`;
  }
}

/** JSON has no infinities: they are written as the strings-free sentinels ±1e308. */
function jsonNum(v: number): number {
  if (v === Infinity) return 1e308;
  if (v === -Infinity) return -1e308;
  return v;
}

function broadcast(v: number | ArrayLike<number>, size: number, what: string): Float64Array {
  if (typeof v === 'number') return new Float64Array(size).fill(v);
  if (v.length !== size) throw new InvalidArgument(`${what}: expected ${size} values, got ${v.length}`);
  return Float64Array.from(v as ArrayLike<number>);
}

/** {start, ..., start + n - 1}. Values are plain integers. */
export class Discrete implements Space<number> {
  readonly kind = 'Discrete' as const;
  readonly shape: readonly number[] = [];
  constructor(
    readonly n: number,
    readonly start = 0,
  ) {
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgument(`Discrete: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(start)) throw new InvalidArgument(`Discrete: start must be an integer, got ${start}`);
  }
  sample(rng: Rng): number {
    return this.start + Math.floor(rng() * this.n);
  }
  contains(x: unknown): x is number {
    return typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n;
  }
  toJSON(): SpaceJSON {
    return { type: 'Discrete', n: this.n, start: this.start };
  }
  describe(): string {
    return this.start === 0 ? `Discrete(${this.n}) (an integer in [0, ${this.n - 1}])` : `Discrete(${this.n}, start=${this.start})`;
  }
}

/** A vector of independent integers, entry i in [0, nvec[i]). Values are Int32Array. */
export class MultiDiscrete implements Space<Int32Array> {
  readonly kind = 'MultiDiscrete' as const;
  readonly shape: readonly number[];
  readonly nvec: Int32Array;
  constructor(nvec: ArrayLike<number>) {
    for (let i = 0; i < nvec.length; i++) {
      const n = nvec[i]!;
      if (!Number.isInteger(n) || n <= 0) throw new InvalidArgument(`MultiDiscrete: nvec[${i}] must be a positive integer, got ${n}`);
    }
    this.nvec = Int32Array.from(nvec as ArrayLike<number>);
    this.shape = [this.nvec.length];
  }
  sample(rng: Rng): Int32Array {
    const out = new Int32Array(this.nvec.length);
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(rng() * this.nvec[i]!);
    return out;
  }
  contains(x: unknown): x is Int32Array {
    if (!isNumericArray(x) || x.length !== this.nvec.length) return false;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.nvec[i]!) return false;
    }
    return true;
  }
  toJSON(): SpaceJSON {
    return { type: 'MultiDiscrete', nvec: Array.from(this.nvec) };
  }
  describe(): string {
    return `MultiDiscrete([${Array.from(this.nvec).join(', ')}])`;
  }
}

/** A slate: k distinct indices in [0, n), in order (position 0 first). Values are Int32Array of length k. */
export class Slate implements Space<Int32Array> {
  readonly kind = 'Slate' as const;
  readonly shape: readonly number[];
  constructor(
    readonly n: number,
    readonly k: number,
  ) {
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgument(`Slate: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(k) || k <= 0 || k > n) throw new InvalidArgument(`Slate: k must be an integer in [1, n = ${n}], got ${k}`);
    this.shape = [k];
  }
  sample(rng: Rng): Int32Array {
    const out = new Int32Array(this.k);
    sampleDistinct(rng, this.n, this.k, out);
    return out;
  }
  contains(x: unknown): x is Int32Array {
    return this.validate(x) === null;
  }
  /** Why `x` is not a valid slate, or null when it is. */
  validate(x: unknown): string | null {
    if (!isNumericArray(x)) return `expected an array of ${this.k} integers, got ${describeValue(x)}`;
    if (x.length !== this.k) return `expected ${this.k} indices, got ${x.length}`;
    // Linear time: small slates compare pairwise (cheaper than a set), large ones remember first positions.
    const first = x.length > 32 ? new Map<number, number>() : null;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!Number.isInteger(v)) return `slate[${i}] = ${v} is not an integer`;
      if (v < 0 || v >= this.n) return `slate[${i}] = ${v} is out of range [0, ${this.n - 1}]`;
      if (first) {
        const j = first.get(v);
        if (j !== undefined) return `index ${v} appears twice (slate positions ${j} and ${i}); a slate holds distinct candidates`;
        first.set(v, i);
      } else for (let j = 0; j < i; j++) if (x[j] === v) return `index ${v} appears twice (slate positions ${j} and ${i}); a slate holds distinct candidates`;
    }
    return null;
  }
  toJSON(): SpaceJSON {
    return { type: 'Slate', n: this.n, k: this.k };
  }
  describe(): string {
    return `Slate(n=${this.n}, k=${this.k}) (${this.k} distinct integers in [0, ${this.n - 1}])`;
  }
}

type DictValue<S extends Record<string, Space<unknown>>> = { [K in keyof S]: S[K] extends Space<infer T> ? T : never };

/** An ordered record of named sub-spaces. */
export class Dict<S extends Record<string, Space<unknown>> = Record<string, Space<unknown>>> implements Space<DictValue<S>> {
  readonly kind = 'Dict' as const;
  readonly shape = null;
  constructor(readonly spaces: S) {
    if (Object.keys(spaces).length === 0) throw new InvalidArgument('Dict: needs at least one sub-space');
  }
  sample(rng: Rng): DictValue<S> {
    const out: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(this.spaces)) out[k] = s.sample(rng);
    return out as DictValue<S>;
  }
  contains(x: unknown): x is DictValue<S> {
    if (typeof x !== 'object' || x === null) return false;
    const keys = Object.keys(this.spaces);
    if (Object.keys(x).length !== keys.length) return false;
    for (const k of keys) if (!this.spaces[k]!.contains((x as Record<string, unknown>)[k])) return false;
    return true;
  }
  toJSON(): SpaceJSON {
    const spaces: Record<string, SpaceJSON> = {};
    for (const [k, s] of Object.entries(this.spaces)) spaces[k] = s.toJSON();
    return { type: 'Dict', spaces };
  }
  describe(): string {
    return `Dict(${Object.entries(this.spaces)
      .map(([k, s]) => `${k}: ${s.describe()}`)
      .join(', ')})`;
  }
}

/** Rebuild a space from its JSON form. */
export function spaceFromJSON(j: SpaceJSON): Space<unknown> {
  const inf = (v: number) => (v >= 1e308 ? Infinity : v <= -1e308 ? -Infinity : v);
  switch (j.type) {
    case 'Box':
      return new Box(
        Array.isArray(j.low) ? j.low.map(inf) : inf(j.low),
        Array.isArray(j.high) ? j.high.map(inf) : inf(j.high),
        j.shape,
      );
    case 'Discrete':
      return new Discrete(j.n, j.start);
    case 'MultiDiscrete':
      return new MultiDiscrete(j.nvec);
    case 'Slate':
      return new Slate(j.n, j.k);
    case 'Dict': {
      const spaces: Record<string, Space<unknown>> = {};
      for (const [k, s] of Object.entries(j.spaces)) spaces[k] = spaceFromJSON(s);
      return new Dict(spaces);
    }
  }
}

/** A short, safe description of an arbitrary value for error messages. */
export function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (x === undefined) return 'undefined';
  if (ArrayBuffer.isView(x)) return `${x.constructor.name}(${(x as unknown as ArrayLike<number>).length})`;
  if (Array.isArray(x)) return `[${x.slice(0, 8).map((v) => (typeof v === 'number' ? String(v) : typeof v)).join(', ')}${x.length > 8 ? ', ...' : ''}]`;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? x.slice(0, 40) + '...' : x);
  return typeof x;
}
