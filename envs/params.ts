/**
 * Declarative parameter specs with validation. Every env (and later every agent) declares its parameters
 * here: name, kind, default, allowed range, one-line description. `resolveParams` fills defaults and rejects
 * unknown names and out-of-range values with an error that names the parameter, what was given, what is
 * allowed and the default.
 */
import { InvalidParam } from './errors.js';
import { describeValue } from './spaces.js';

interface ParamBase {
  name: string;
  description: string;
}
export interface NumberParam extends ParamBase {
  kind: 'int' | 'number';
  default: number;
  min: number;
  max: number;
  /** Bounds excluded from the allowed range. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}
export interface BooleanParam extends ParamBase {
  kind: 'boolean';
  default: boolean;
}
export interface EnumParam extends ParamBase {
  kind: 'enum';
  default: string;
  values: readonly string[];
}
export interface NumberListParam extends ParamBase {
  kind: 'numbers';
  default: readonly number[];
  min: number;
  max: number;
  /** Required length, if fixed. */
  length?: number;
  /** The entries must sum to 1 (within 1e-6): a probability vector. */
  simplex?: boolean;
}
/** A structured parameter (a list of objects, a config record): validated by its own function. */
export interface CustomParam extends ParamBase {
  kind: 'custom';
  default: unknown;
  /** What is allowed, in words (shown in errors and --help). */
  allowed: string;
  /** Why `v` is not allowed, or null when it is. */
  validate(v: unknown): string | null;
}
export type ParamSpec = NumberParam | BooleanParam | EnumParam | NumberListParam | CustomParam;
export type ParamValue = number | boolean | string | readonly number[] | unknown;
export type ResolvedParams = Record<string, ParamValue>;

export function describeAllowed(p: ParamSpec): string {
  switch (p.kind) {
    case 'int':
    case 'number': {
      const lo = p.minExclusive ? '(' : '[';
      const hi = p.maxExclusive ? ')' : ']';
      return `${p.kind === 'int' ? 'an integer' : 'a number'} in ${lo}${p.min}, ${p.max}${hi}`;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${p.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'numbers':
      return `a list of ${p.length !== undefined ? p.length + ' ' : ''}numbers in [${p.min}, ${p.max}]${p.simplex ? ' summing to 1' : ''}`;
    case 'custom':
      return p.allowed;
  }
}

function defaultText(p: ParamSpec): string {
  return JSON.stringify(p.default);
}

function checkOne(owner: string, p: ParamSpec, v: unknown): ParamValue {
  const bad = (why: string) =>
    new InvalidParam(`${owner}: param "${p.name}" = ${describeValue(v)} ${why}: allowed ${describeAllowed(p)} (default ${defaultText(p)})`);
  switch (p.kind) {
    case 'int':
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad('is not a finite number');
      if (p.kind === 'int' && !Number.isInteger(v)) throw bad('is not an integer');
      const below = p.minExclusive ? v <= p.min : v < p.min;
      const above = p.maxExclusive ? v >= p.max : v > p.max;
      if (below || above) throw bad('is out of range');
      return v;
    }
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('is not a boolean');
      return v;
    case 'enum':
      if (typeof v !== 'string' || !p.values.includes(v)) throw bad('is not an allowed value');
      return v;
    case 'numbers': {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad('is not a list of finite numbers');
      if (p.length !== undefined && v.length !== p.length) throw bad(`has ${v.length} entries`);
      if (v.length === 0) throw bad('is empty');
      if (v.some((x: number) => x < p.min || x > p.max)) throw bad('has an entry out of range');
      if (p.simplex && Math.abs(v.reduce((a: number, b: number) => a + b, 0) - 1) > 1e-6) throw bad('does not sum to 1');
      return [...v] as number[];
    }
    case 'custom': {
      const why = p.validate(v);
      if (why !== null) throw bad(why);
      return JSON.parse(JSON.stringify(v));
    }
  }
}

/**
 * Fill defaults and validate. `given` may be undefined. Unknown keys are errors (a typo must not be
 * silently ignored).
 */
export function resolveParams(owner: string, specs: readonly ParamSpec[], given: Record<string, unknown> | undefined): ResolvedParams {
  const out: ResolvedParams = {};
  const byName = new Map(specs.map((p) => [p.name, p]));
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new InvalidParam(`${owner}: params must be an object of name -> value, got ${describeValue(given)}`);
  }
  // A Map, Date or class instance has no own enumerable params: reading it as an empty object would silently
  // drop what the caller meant to set.
  if (given !== undefined) {
    const proto = Object.getPrototypeOf(given);
    if (proto !== Object.prototype && proto !== null) {
      throw new InvalidParam(`${owner}: params must be a plain object of name -> value, got a ${(given as object).constructor?.name ?? 'non-plain object'} (for a Map use Object.fromEntries(map))`);
    }
  }
  for (const key of Object.keys(given ?? {})) {
    if (!byName.has(key)) {
      throw new InvalidParam(`${owner}: unknown param "${key}"; known params: ${specs.map((p) => p.name).join(', ') || '(none)'}`);
    }
  }
  for (const p of specs) {
    const v = given?.[p.name];
    out[p.name] = v === undefined ? (p.kind === 'numbers' ? [...p.default] : p.kind === 'custom' ? JSON.parse(JSON.stringify(p.default)) : p.default) : checkOne(owner, p, v);
  }
  return out;
}

/** Throw an InvalidParam about a constraint between params. */
export function paramConstraint(owner: string, ok: boolean, message: string): void {
  if (!ok) throw new InvalidParam(`${owner}: ${message}`);
}

/** A one-line-per-param text table (for --help and the README). */
export function paramTable(specs: readonly ParamSpec[]): string {
  return specs.map((p) => `  ${p.name} (${describeAllowed(p)}, default ${defaultText(p)}): ${p.description}`).join('\n');
}
