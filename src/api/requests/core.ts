// The request layer's machinery: a field table per command (eval.ts, train.ts, score.ts, generate.ts, tokenize.ts,
// compare.ts, model.ts in this folder) is the ONE place a command's options are declared. From a table come the
// CLI's option table (src/cli/args.ts parses argv with it and prints --help from it), the API's validation (the
// `parse` of a request: types, integers, ranges, choices, unknown keys with a suggestion, defaults) and the API's
// TypeScript types (RequestOf). Values are checked by valibot schemas (browser-safe, tree-shaken) in both doors:
// a CLI flag's value after its text is read as a number or a list, an API value as given. Errors are RequestErrors
// naming the field (and, on the command line, the flag).
//
// HOW TO ADD AN OPTION (a one-place change): add one entry to the command's table, keyed by its API name:
//     evalSplit: num({ min: 0, max: 1, default: 0.1, help: 'share of the pairs held out for eval_loss' }),
// The CLI flag is the key in kebab-case (--eval-split) unless `flag` names it. Constructors: int, num, text,
// choice, flag (boolean), list (comma-separated; repeatable: true for a flag given several times).
//   cliOnly(f) = not an API key; apiOnly(schema, help) = not a CLI flag; `api: <valibot schema>` when the API's
//   value has another shape than the flag's text (e.g. groups: a record instead of "L1=eng;L2=jav"), with
//   `apiDefault` when its default differs; required(f) = the API needs it too (the CLI's own is `required: true`).
// The CLI reads it with str/num/bool/list(a, 'eval-split') (src/cli/args.ts); the API gets `req.evalSplit` from
// `REQUEST.parse(req)`, defaults filled. Rules across fields (a % b === 0, ...) go in the table's `refine`.
import * as v from 'valibot';

/** A CLI flag: how its text is read, checked and shown in --help (see the constructors below). */
export interface OptionSpec {
  type: 'boolean' | 'string' | 'int' | 'number' | 'list';
  help: string;
  /** the value's placeholder in --help, e.g. 'DIR' (default: N for numbers, X for strings) */
  arg?: string;
  /** used when the flag is absent; shown in --help unless `help` already says "(default" */
  default?: string | number | boolean | readonly string[];
  /** inclusive bounds of a number; gt: an exclusive lower bound (e.g. --lr: gt 0) */
  min?: number;
  max?: number;
  gt?: number;
  /** the allowed values of a 'string' (or of each item of a 'list') */
  choices?: readonly string[];
  /** any other rule: an error message (the flag or field name is put in front) or undefined */
  check?: (v: Value) => string | undefined;
  /** the CLI flag must be given */
  required?: boolean;
  /** a 'string' flag that may be given several times: all values, in order */
  repeatable?: boolean;
  /** Unicode NFC normalisation of the text (of each item of a list), before `choices` and `check` */
  nfc?: boolean;
}
export type OptionTable = Record<string, OptionSpec>;
export type Value = string | number | boolean | string[];

/** A valibot schema from any input to T. */
export type Schema<T> = v.GenericSchema<unknown, T>;

/** One option of a request: a CLI flag and an API key, or only one of them. */
export interface Field<T = unknown> extends OptionSpec {
  /** the CLI flag when it is not the key in kebab-case */
  flag?: string;
  /** false: API only */
  cli?: boolean;
  /** false: CLI only; a schema: the API's value has this shape (else the flag's type, ranges and choices) */
  api?: Schema<any> | false;
  /** the API's default when it differs from the flag's (or the flag's is text, e.g. '1,2,3' → [1, 2, 3]) */
  apiDefault?: unknown;
  /** the API call needs it */
  apiRequired?: boolean;
  /** type carrier (never set) */
  readonly __type?: T;
}
export type Fields = Record<string, Field<any>>;

type FieldType<F> = F extends { api: Schema<infer T> } ? T : F extends { __type?: infer T } ? T : never;
type ApiKey<F extends Fields> = { [K in keyof F]: F[K] extends { api: false } ? never : K }[keyof F];
type RequiredKey<F extends Fields> = { [K in keyof F]: F[K] extends { apiRequired: true } ? K : never }[keyof F];
type DefaultKey<F extends Fields> = {
  [K in keyof F]: F[K] extends { apiDefault: unknown } | { default: unknown } ? K : never;
}[keyof F];

/** The API request of a table: every API key optional, except those marked required. */
export type RequestOf<F extends Fields> = {
  [K in keyof F as K extends Exclude<ApiKey<F>, RequiredKey<F>> ? K : never]?: FieldType<F[K]>;
} & { [K in keyof F as K extends RequiredKey<F> & ApiKey<F> ? K : never]: FieldType<F[K]> };

/** A request after `parse`: the keys with a default are always present. */
export type ParsedOf<F extends Fields> = RequestOf<F> & {
  [K in keyof F as K extends DefaultKey<F> & ApiKey<F> ? K : never]: FieldType<F[K]>;
};

/** A bad request: names the field (`steps`) and, on the command line, the flag (`--steps`). */
export class RequestError extends Error {
  override name = 'RequestError';
  constructor(
    /** the call or command, e.g. 'train' */
    readonly request: string,
    /** the API key (or argument) at fault, e.g. 'steps' or 'texts[2]' */
    readonly field: string,
    /** what is wrong, without the name: 'must be a positive integer, got 0' */
    readonly problem: string,
    /** the CLI flag of the field, when there is one */
    readonly flag?: string,
  ) {
    super(`${request}: ${field}${/^[:,]/.test(problem) ? '' : ' '}${problem}`);
  }
  /** Also true for a RequestError of another copy of this module (tsx may load a file twice). */
  static is(e: unknown): e is RequestError {
    return e instanceof RequestError || (e instanceof Error && e.name === 'RequestError');
  }
}

// ---- names and suggestions ----

/** saveSteps → save-steps */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length];
}

/** The known name nearest to `name` (edit distance, or a prefix/underscore variant), if any is close. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const norm = name.toLowerCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const initials = norm
      .split('-')
      .map((w) => w[0])
      .join('');
    // a prefix (--lim), a longer spelling (--limits) or the initials (--learning-rate for --lr) count as close
    const close = k.startsWith(norm) || norm.startsWith(k) || (norm.includes('-') && initials === k);
    const d = close ? Math.min(1, distance(norm, k)) : distance(norm, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(norm.length / 3)) ? best : undefined;
}

/** The nearest API key: learningRate → lr (compared in kebab-case, so the CLI's rules apply). */
function suggestKey(name: string, keys: readonly string[]): string | undefined {
  const near = suggest(kebab(name), keys.map(kebab));
  return near === undefined ? undefined : keys.find((k) => kebab(k) === near);
}

export function orList(xs: readonly string[]): string {
  return xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;
}

/** A value as an error message shows it: numbers as written, strings quoted, other kinds named. */
export function show(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 60 ? `${x.slice(0, 57)}...` : x);
  if (typeof x === 'number' || typeof x === 'boolean' || x === undefined || x === null) return String(x);
  if (Array.isArray(x)) return `an array`;
  if (typeof x === 'function') return 'a function';
  return 'an object';
}

/** For exported helpers called from plain JS: a text argument that is not a string is a RequestError naming it. */
export function needString(request: string, field: string, v: unknown): asserts v is string {
  if (typeof v !== 'string') throw new RequestError(request, field, `must be a string, got ${show(v)}`);
}

// ---- value schemas (both doors) ----

const cache = new WeakMap<OptionSpec, Schema<unknown>>();
const nfc = (s: string) => s.normalize('NFC');

function numberKind(o: OptionSpec): string {
  return o.type !== 'int'
    ? 'a number'
    : o.min === 1
      ? 'a positive integer'
      : o.min === 0
        ? 'a non-negative integer'
        : 'an integer';
}

/** The valibot schema of a flag's value (after its text is read as a number or a list). Messages have no name. */
export function optionSchema(o: OptionSpec): Schema<unknown> {
  const hit = cache.get(o);
  if (hit) return hit;
  const got = (i: { input: unknown }) => `, got ${show(i.input)}`;
  let s: Schema<unknown>;
  if (o.type === 'int' || o.type === 'number') {
    const kind = numberKind(o);
    const steps: v.PipeItem<number, number, v.BaseIssue<unknown>>[] = [v.finite((i) => `must be a number${got(i)}`)];
    if (o.type === 'int') steps.push(v.integer((i) => `must be ${kind}${got(i)}`));
    if (o.min !== undefined)
      steps.push(
        v.minValue(
          o.min,
          (i) => `must be ${o.type === 'int' && (o.min === 0 || o.min === 1) ? kind : `≥ ${o.min}`}${got(i)}`,
        ),
      );
    if (o.max !== undefined) steps.push(v.maxValue(o.max, (i) => `must be ≤ ${o.max}${got(i)}`));
    if (o.gt !== undefined) steps.push(v.gtValue(o.gt, (i) => `must be > ${o.gt}${got(i)}`));
    s = v.pipe(
      v.number((i) => `must be a number${got(i)}`),
      ...steps,
    );
  } else if (o.type === 'boolean') {
    s = v.boolean((i) => `must be true or false${got(i)}`);
  } else if (o.type === 'list' || o.repeatable) {
    const item = o.choices
      ? v.picklist(o.choices, (i) => `: ${show(i.input)} is not ${orList(o.choices!)}`)
      : v.string((i) => `must hold strings${got(i)}`);
    s = v.pipe(
      v.array(
        o.nfc
          ? v.pipe(
              v.string((i) => `must hold strings${got(i)}`),
              v.transform(nfc),
            )
          : item,
        (i) => (o.type === 'list' ? `must be a list${got(i)}` : `must be a list of strings${got(i)}`),
      ),
      v.minLength(1, () => 'needs at least one value'),
    );
    if (o.nfc && o.choices) s = v.pipe(s, v.array(item));
  } else if (o.nfc) {
    s = v.pipe(
      v.string((i) => `must be a string${got(i)}`),
      v.transform(nfc),
    );
    if (o.choices)
      s = v.pipe(
        s,
        v.picklist(o.choices, (i) => `must be ${orList(o.choices!)}${got(i)}`),
      );
  } else {
    s = o.choices
      ? v.picklist(o.choices, (i) => `must be ${orList(o.choices!)}${got(i)}`)
      : v.string((i) => `must be a string${got(i)}`);
  }
  if (o.check) {
    const check = o.check;
    s = v.pipe(
      s,
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const msg = check(dataset.value as Value);
        if (msg) addIssue({ message: msg });
      }),
    );
  }
  cache.set(o, s);
  return s;
}

/** A value checked by a schema: the value (transformed, e.g. NFC) or the first problem, with its path. */
export function check<T>(s: Schema<T>, value: unknown): { value: T } | { problem: string; path: string } {
  const r = v.safeParse(s, value, { abortEarly: true });
  if (r.success) return { value: r.output };
  const issue = r.issues[0];
  const path = (v.getDotPath(issue) ?? '')
    .split('.')
    .filter(Boolean)
    .map((p, k) => (/^\d+$/.test(p) ? `[${p}]` : k ? `.${p}` : p))
    .join('');
  return { problem: issue.message, path };
}

/** A flag's value (from argv, already read as a number or list): its problem, or the checked value. */
export function checkOption(o: OptionSpec, value: Value): { value: Value } | { problem: string } {
  const r = check(optionSchema(o), value);
  return 'value' in r ? { value: r.value as Value } : { problem: r.problem };
}

// ---- constructors ----

type Opts<T> = Omit<Field<T>, 'type' | '__type'>;
type Keep<O> = Pick<O, Extract<keyof O, 'default' | 'apiDefault' | 'api' | 'apiRequired'>>;
/** A field of type T, with the parts of its options that its request type depends on. */
type Made<T, O> = Omit<Field<T>, keyof Keep<O>> & Keep<O>;

/** An integer flag/key. */
export function int<const O extends Opts<number>>(o: O): Made<number, O> {
  return { type: 'int', ...o } as never;
}
/** A number flag/key. */
export function num<const O extends Opts<number>>(o: O): Made<number, O> {
  return { type: 'number', ...o } as never;
}
/** A text flag/key. */
export function text<const O extends Opts<string>>(o: O): Made<string, O> {
  return { type: 'string', ...o } as never;
}
/** One of fixed names. */
export function choice<const C extends string, const O extends Opts<C>>(choices: readonly C[], o: O): Made<C, O> {
  return { type: 'string', choices, ...o } as never;
}
/** A switch (no value on the command line). */
export function flag<const O extends Opts<boolean>>(o: O): Made<boolean, O> {
  return { type: 'boolean', ...o } as never;
}
/** A list: comma-separated on the command line (or the values of a repeatable flag), an array in the API. */
export function list<const O extends Opts<string[]>>(o: O): Made<string[], O> {
  return { type: o.repeatable ? 'string' : 'list', ...o } as never;
}
/** Not an API key. */
export function cliOnly<F extends Field<any>>(f: F): F & { api: false } {
  return { ...f, api: false };
}
/** Not a CLI flag: the API's value and its schema. */
export function apiOnly<T>(schema: Schema<T>, help: string): Field<T> & { cli: false; api: Schema<T> } {
  return { type: 'string', help, cli: false, api: schema };
}
/** The API call must give it. */
export function required<F extends Field<any>>(f: F): F & { apiRequired: true } {
  return { ...f, apiRequired: true };
}

// ---- requests ----

/** A request definition: its fields, a parser for API requests and the CLI table of the same fields. */
export interface RequestDef<F extends Fields> {
  readonly name: string;
  readonly fields: F;
  /**
   * Checks an API request: an object, known keys only (an unknown key names the nearest known one), each value
   * by its field's schema; fills the defaults; then the cross-field rules. Throws RequestError.
   */
  parse(input: unknown, opts?: { defaults?: boolean }): ParsedOf<F>;
  /** Only the keys given, checked (no defaults: e.g. a resumed run compares what was given with its saved run). */
  given(input: unknown): RequestOf<F>;
  /** The CLI's option table: flag → spec, in the table's order. */
  readonly options: OptionTable;
  /** flag → key, for reading the parsed argv as a request */
  readonly keyOfFlag: Readonly<Record<string, string>>;
  /** The same request with fields added or replaced (e.g. the browser's data: rows instead of a path). */
  extend<G extends Fields>(more: G, refine?: (r: any) => void): RequestDef<Omit<F, keyof G> & G>;
  /** The same request with some fields only. */
  pick<K extends keyof F & string>(keys: readonly K[]): RequestDef<Pick<F, K>>;
}

function apiSchema(f: Field<any>): Schema<unknown> {
  return f.api ? f.api : optionSchema(f);
}

/** Defines a request: `name` is what errors start with ('train: steps must be …'). */
export function defineRequest<F extends Fields>(
  name: string,
  fields: F,
  refine?: (r: ParsedOf<F>, fail: (field: string, problem: string) => never) => void,
): RequestDef<F> {
  const apiKeys = Object.keys(fields).filter((k) => fields[k].api !== false);
  const options: OptionTable = {};
  const keyOfFlag: Record<string, string> = {};
  for (const [key, f] of Object.entries(fields)) {
    if (f.cli === false) continue;
    const fl = f.flag ?? kebab(key);
    const { flag: _f, cli: _c, api: _a, apiDefault: _d, apiRequired: _r, ...spec } = f;
    options[fl] = spec;
    keyOfFlag[fl] = key;
  }
  const flagOf = (key: string) => {
    const f = fields[key.replace(/\[.*$/, '').split('.')[0]];
    return f && f.cli !== false ? `--${f.flag ?? kebab(key.replace(/\[.*$/, '').split('.')[0])}` : undefined;
  };
  const fail = (field: string, problem: string): never => {
    throw new RequestError(name, field, problem, flagOf(field));
  };
  const read = (input: unknown, defaults: boolean): Record<string, unknown> => {
    if (input === undefined) input = {};
    if (typeof input !== 'object' || input === null || Array.isArray(input))
      throw new RequestError(name, 'the request', `must be an object of options, got ${show(input)}`);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      if (!apiKeys.includes(key)) {
        const near = suggestKey(key, apiKeys);
        fail(key, `is not an option of ${name}${near ? ` (did you mean ${near}?)` : ''}`);
      }
      if (value === undefined) continue;
      const r = check(apiSchema(fields[key]), value);
      if ('problem' in r) fail(`${key}${r.path && !r.path.startsWith('[') ? '.' : ''}${r.path}`, r.problem);
      else out[key] = r.value;
    }
    for (const key of apiKeys) {
      const f = fields[key];
      if (out[key] !== undefined) continue;
      if (f.apiRequired) fail(key, 'is required');
      if (!defaults) continue;
      const d = f.apiDefault !== undefined ? f.apiDefault : f.api ? undefined : f.default;
      if (d !== undefined) out[key] = Array.isArray(d) ? [...d] : d;
    }
    return out;
  };
  const def: RequestDef<F> = {
    name,
    fields,
    options,
    keyOfFlag,
    parse(input, opts = {}) {
      const r = read(input, opts.defaults ?? true) as ParsedOf<F>;
      refine?.(r, fail);
      return r;
    },
    given(input) {
      const r = read(input, false) as ParsedOf<F>;
      refine?.(r, fail);
      return r;
    },
    extend(more, refine2) {
      return defineRequest(name, { ...fields, ...more } as Omit<F, keyof typeof more> & typeof more, (r, f) => {
        refine?.(r as never, f);
        refine2?.(r);
      });
    },
    pick(keys) {
      const picked = Object.fromEntries(keys.map((k) => [k, fields[k]])) as Pick<F, (typeof keys)[number]>;
      return defineRequest(name, picked);
    },
  };
  return def;
}

/** The positional argument of an API call checked by a schema (e.g. score's texts): its value, or RequestError. */
export function checkArgument<T>(request: string, field: string, s: Schema<T>, value: unknown): T {
  const r = check(s, value);
  if ('problem' in r) {
    throw new RequestError(request, `${field}${r.path && !r.path.startsWith('[') ? '.' : ''}${r.path}`, r.problem);
  }
  return r.value;
}
