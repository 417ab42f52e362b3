/**
 * Typed parameter schemas. Every env and agent declares its parameters once, in its own module, with
 * `defineParams({ name: param.int({ default, min, max, description }), ... })`. The declaration is a zod schema
 * (the one validator: defaults, ranges, enums, lists, structured values and unknown names are all checked by
 * zod), and the TypeScript type of the resolved params is inferred from it (`ParamsOf<typeof schema>`), so
 * code reads `p.lr` as a number with no cast. The declaration also keeps each param's kind, range and
 * description for `egym info`, the README and the fuzz tests.
 *
 * `resolveParams` fills defaults and turns the first zod issue into one `InvalidParam` that names the
 * parameter, what was given, what is allowed and the default.
 */
import { z } from 'zod';
import { InvalidParam } from './errors.js';
import { describeValue } from './spaces.js';

interface MetaBase {
  description: string;
}
export interface NumberMeta extends MetaBase {
  kind: 'int' | 'number';
  default: number;
  min: number;
  max: number;
  /** Bounds excluded from the allowed range. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
}
export interface BooleanMeta extends MetaBase {
  kind: 'boolean';
  default: boolean;
}
export interface EnumMeta extends MetaBase {
  kind: 'enum';
  default: string;
  values: readonly string[];
}
export interface NumberListMeta extends MetaBase {
  kind: 'numbers';
  default: readonly number[];
  min: number;
  max: number;
  /** Required length, if fixed. */
  length?: number;
  /** The entries must sum to 1 (within 1e-6): a probability vector. */
  simplex?: boolean;
}
/** A structured parameter (a list of objects, a config record): checked by its own function inside zod. */
export interface CustomMeta extends MetaBase {
  kind: 'custom';
  default: unknown;
  /** What is allowed, in words (shown in errors and --help). */
  allowed: string;
  /** Why `v` is not allowed, or null when it is. */
  validate(v: unknown): string | null;
}
export type ParamMeta = NumberMeta | BooleanMeta | EnumMeta | NumberListMeta | CustomMeta;
/** One declared param with its name (for help tables, docs and fuzzing). */
export type ParamSpec = ParamMeta & { name: string };

/** One param: what it is (for people) and its zod schema (for the validator). */
export interface ParamDef<T> {
  readonly meta: ParamMeta;
  readonly schema: z.ZodType<T>;
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

function numberSchema(m: NumberMeta): z.ZodType<number> {
  // zod's number rejects NaN and +-Infinity.
  let s = z.number({ error: 'is not a finite number' });
  if (m.kind === 'int') s = s.int({ error: 'is not an integer' });
  s = m.minExclusive ? s.gt(m.min, { error: 'is out of range' }) : s.gte(m.min, { error: 'is out of range' });
  s = m.maxExclusive ? s.lt(m.max, { error: 'is out of range' }) : s.lte(m.max, { error: 'is out of range' });
  return s;
}

function def<T>(meta: ParamMeta, schema: z.ZodType<T>): ParamDef<T> {
  return { meta, schema };
}

/** Builders of typed params. */
export const param = {
  int(o: Omit<NumberMeta, 'kind' | 'minExclusive' | 'maxExclusive'>): ParamDef<number> {
    const meta: NumberMeta = { kind: 'int', ...o };
    return def(meta, numberSchema(meta));
  },
  number(o: Omit<NumberMeta, 'kind'>): ParamDef<number> {
    const meta: NumberMeta = { kind: 'number', ...o };
    return def(meta, numberSchema(meta));
  },
  boolean(o: Omit<BooleanMeta, 'kind'>): ParamDef<boolean> {
    return def({ kind: 'boolean', ...o }, z.boolean({ error: 'is not a boolean' }));
  },
  enum<const V extends readonly [string, ...string[]]>(o: { values: V; default: V[number]; description: string }): ParamDef<V[number]> {
    return def({ kind: 'enum', ...o }, z.enum(o.values as unknown as [V[number], ...V[number][]], { error: 'is not an allowed value' }) as unknown as z.ZodType<V[number]>);
  },
  numbers(o: Omit<NumberListMeta, 'kind'>): ParamDef<number[]> {
    const meta: NumberListMeta = { kind: 'numbers', ...o };
    const schema = z
      .array(z.number({ error: 'is not a list of finite numbers' }), { error: 'is not a list of finite numbers' })
      .check((ctx) => {
        const v = ctx.value;
        const why =
          meta.length !== undefined && v.length !== meta.length
            ? `has ${v.length} entries`
            : v.length === 0
              ? 'is empty'
              : v.some((x) => x < meta.min || x > meta.max)
                ? 'has an entry out of range'
                : meta.simplex && Math.abs(v.reduce((a, b) => a + b, 0) - 1) > 1e-6
                  ? 'does not sum to 1'
                  : null;
        if (why !== null) ctx.issues.push({ code: 'custom', message: why, input: v });
      });
    return def(meta, schema);
  },
  custom<T>(o: { default: T; allowed: string; validate(v: unknown): string | null; description: string }): ParamDef<T> {
    const schema = z
      .unknown()
      .check((ctx) => {
        const why = o.validate(ctx.value);
        if (why !== null) ctx.issues.push({ code: 'custom', message: why, input: ctx.value });
      })
      .transform((v) => clone(v) as T);
    return def({ kind: 'custom', ...o }, schema as unknown as z.ZodType<T>);
  },
};

/** The same param with another default (shared param groups whose defaults differ per agent). */
export function withDefault<T>(p: ParamDef<T>, value: T): ParamDef<T> {
  const meta = { ...p.meta, default: value } as ParamMeta;
  return { meta, schema: p.schema };
}

export type ParamShape = Record<string, ParamDef<any>>;
/** The resolved params of a shape: every name present, with its inferred type. */
export type ParamsOf<S> = S extends ParamSchema<infer Sh> ? { readonly [K in keyof Sh]: Sh[K] extends ParamDef<infer T> ? T : never } : never;
type ResolvedOf<Sh extends ParamShape> = { readonly [K in keyof Sh]: Sh[K] extends ParamDef<infer T> ? T : never };

export interface ParamSchema<Sh extends ParamShape = ParamShape> {
  readonly shape: Sh;
  /** The params in declaration order, with names. */
  readonly specs: readonly ParamSpec[];
  /** The zod schema of the whole params object (strict: unknown names are errors; defaults filled in). */
  readonly zod: z.ZodType<ResolvedOf<Sh>>;
  has(name: string): boolean;
}

/** A params schema from named params; the TypeScript type of the resolved params is `ParamsOf<typeof schema>`. */
export function defineParams<Sh extends ParamShape>(shape: Sh): ParamSchema<Sh> {
  const fields: Record<string, z.ZodType> = {};
  for (const [name, p] of Object.entries(shape)) {
    const d = p.meta.default;
    fields[name] = p.schema.default(() => clone(d));
  }
  const specs = Object.entries(shape).map(([name, p]) => ({ name, ...p.meta }) as ParamSpec);
  return {
    shape,
    specs,
    zod: z.strictObject(fields) as unknown as z.ZodType<ResolvedOf<Sh>>,
    has: (name) => Object.prototype.hasOwnProperty.call(shape, name),
  };
}

/** A schema with no params. */
export const NO_PARAMS = defineParams({});

/** Resolved params whose schema is not known statically (generic code, plugins). */
export type ResolvedParams = Readonly<Record<string, unknown>>;

export function describeAllowed(p: ParamMeta): string {
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

/**
 * Fill defaults and validate with the schema's zod object. `given` may be undefined. Unknown names are errors (a
 * typo must not be silently ignored); the error names the first bad param.
 */
export function resolveParams<S extends ParamSchema<ParamShape>>(owner: string, schema: S, given: unknown): ParamsOf<S> {
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
  const r = schema.zod.safeParse(given ?? {});
  if (r.success) return r.data as ParamsOf<S>;
  const issues = r.error.issues;
  const unknown = issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    throw new InvalidParam(`${owner}: unknown param "${unknown.keys[0]}"; known params: ${schema.specs.map((p) => p.name).join(', ') || '(none)'}`);
  }
  // The first bad param in declaration order.
  const bad = new Map(issues.map((i) => [String(i.path[0]), i] as const));
  const p = schema.specs.find((s) => bad.has(s.name))!;
  const v = (given as Record<string, unknown>)[p.name];
  throw new InvalidParam(`${owner}: param "${p.name}" = ${describeValue(v)} ${bad.get(p.name)!.message}: allowed ${describeAllowed(p)} (default ${JSON.stringify(p.default)})`);
}

/** Throw an InvalidParam about a constraint between params. */
export function paramConstraint(owner: string, ok: boolean, message: string): void {
  if (!ok) throw new InvalidParam(`${owner}: ${message}`);
}
