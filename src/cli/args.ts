// The strict, table-driven argument parser of every subcommand: each command declares its options once (an
// OptionTable); the same table parses argv, validates every value and generates the command's --help, so help and
// behaviour cannot drift. Unknown flags, missing values and out-of-range numbers are usage errors (exit 2).

// The option tables of the model commands come from their request definitions (src/api/requests/): see there for
// how to add a flag. A value flag takes the next argument as its value even when it starts with '-' (so `--lr -1`
// is range-checked, not mistaken for a flag), or `--flag=value`. A flag given twice keeps the last value.
import { checkOption, suggest, type OptionSpec, type OptionTable, type Value } from '../api/requests/core.ts';

export { suggest };
export type { OptionSpec, OptionTable, Value };

/** A command's whole interface: its usage line, a description, its options and how many positionals it takes. */
export interface CommandSpec {
  name: string;
  usage: string;
  about?: string;
  options: OptionTable;
  /** positional arguments: [min, max] (default [0, 0]: none) */
  positionals?: [number, number];
  /** text after the option list (examples, notes) */
  footer?: string;
}

export interface ParsedArgs {
  /** the converted, validated values of the flags given */
  values: Map<string, Value>;
  /** the flags given explicitly on the command line (for --resume: which options the user asked to change) */
  given: Set<string>;
  positional: string[];
  spec: CommandSpec;
}

export class UsageError extends Error {
  override name = 'UsageError';
  /** Also true for a UsageError of another copy of this module (tsx can load one file as CJS and as ESM). */
  static is(e: unknown): e is UsageError {
    return e instanceof UsageError || (e instanceof Error && e.name === 'UsageError');
  }
}

function convert(name: string, o: OptionSpec, raw: string): Value {
  const flag = `--${name}`;
  let v: Value;
  if (o.type === 'int' || o.type === 'number') {
    v = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(v)) throw new UsageError(`${flag} must be a number, got "${raw}"`);
  } else if (o.type === 'list') {
    v = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!v.length) throw new UsageError(`${flag} needs at least one value`);
  } else v = raw;
  // the same valibot schema checks the API's value of this option (src/api/requests/core.ts)
  const r = checkOption(o, o.repeatable ? [v as string] : v);
  if ('problem' in r) throw new UsageError(`${flag}${/^[:,]/.test(r.problem) ? '' : ' '}${r.problem}`);
  return o.repeatable ? (r.value as string[])[0] : r.value;
}

/** Parses argv against a command's table; throws UsageError naming the flag on anything not in it. */
export function parseCommand(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const table = spec.options;
  const known = Object.keys(table);
  const values = new Map<string, Value>();
  const given = new Set<string>();
  const positional: string[] = [];
  const unknown = (flag: string): never => {
    const near = suggest(flag.replace(/^-+/, ''), known);
    throw new UsageError(`unknown option ${flag}${near ? ` (did you mean --${near}?)` : ''}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-' || /^-\d/.test(a)) {
      positional.push(a);
      continue;
    }
    if (!a.startsWith('--')) unknown(a);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    const o = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!o) unknown(eq >= 0 ? a.slice(0, eq) : a);
    const opt = o as OptionSpec;
    let raw: string;
    if (opt.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value (got "${a.slice(eq + 1)}")`);
      values.set(name, true);
      given.add(name);
      continue;
    }
    if (eq >= 0) raw = a.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && Object.hasOwn(table, next.slice(2).split('=')[0])))
        throw new UsageError(`--${name} needs a value (${argPlaceholder(opt)})`);
      raw = next;
      i++;
    }
    const v = convert(name, opt, raw);
    values.set(name, opt.repeatable ? [...((values.get(name) as string[] | undefined) ?? []), v as string] : v);
    given.add(name);
  }
  for (const [name, o] of Object.entries(table))
    if (o.required && !values.has(name)) throw new UsageError(`missing --${name} ${argPlaceholder(o)}`);
  const [min, max] = spec.positionals ?? [0, 0];
  if (positional.length > max)
    throw new UsageError(
      max === 0
        ? `unexpected argument "${positional[0]}"`
        : `expected at most ${max} arguments, got ${positional.length}`,
    );
  if (positional.length < min) throw new UsageError(`expected ${min} arguments, got ${positional.length}`);
  return { values, given, positional, spec };
}

function argPlaceholder(o: OptionSpec): string {
  return o.arg ?? (o.type === 'int' || o.type === 'number' ? 'N' : o.type === 'list' ? 'A,B' : 'X');
}

function showDefault(v: OptionSpec['default']): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** --help text generated from the table: usage, description, one row per option, footer. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const left = `--${name}${o.type === 'boolean' ? '' : ` ${argPlaceholder(o)}`}`;
    let text = o.help;
    if (o.default !== undefined && o.type !== 'boolean' && !/\(default/.test(text))
      text += ` (default ${showDefault(o.default)})`;
    return [left, text] as const;
  });
  const w = Math.min(26, Math.max(0, ...rows.map(([l]) => l.length)) + 2);
  const lines = rows.map(([l, t]) => {
    const [first, ...rest] = t.split('\n');
    const head = l.length + 2 > w ? `  ${l}\n  ${' '.repeat(w)}${first}` : `  ${l.padEnd(w)}${first}`;
    return [head, ...rest.map((r) => `  ${' '.repeat(w)}${r}`)].join('\n');
  });
  return [
    spec.usage,
    spec.about ? `\n${spec.about}` : '',
    lines.length ? `\nOptions:\n${lines.join('\n')}` : '',
    spec.footer ? `\n${spec.footer}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}

function entry(a: ParsedArgs, name: string): OptionSpec {
  const o = a.spec.options[name];
  // a command reading a flag its table does not declare is a programming error: the table is the single truth
  if (!o) throw new Error(`instructalign ${a.spec.name}: option --${name} is read but not declared in its table`);
  return o;
}

function value(a: ParsedArgs, name: string): Value | undefined {
  const o = entry(a, name);
  if (a.values.has(name)) return a.values.get(name);
  const d = o.default;
  return d === undefined ? undefined : Array.isArray(d) ? [...d] : (d as Value);
}

/** A string flag: its value, else `def`, else the table's default. */
export function str(a: ParsedArgs, name: string): string | undefined;
export function str(a: ParsedArgs, name: string, def: string): string;
export function str(a: ParsedArgs, name: string, def?: string): string | undefined {
  entry(a, name);
  if (!a.values.has(name) && def !== undefined) return def;
  const v = value(a, name);
  return v === undefined ? undefined : String(v);
}

export function required(a: ParsedArgs, name: string): string {
  const v = str(a, name);
  if (v === undefined) throw new UsageError(`missing --${name} ${argPlaceholder(entry(a, name))}`);
  return v;
}

/** A number flag (validated by the parser): its value, else `def`, else the table's default. */
export function num(a: ParsedArgs, name: string, def: number): number;
export function num(a: ParsedArgs, name: string): number | undefined;
export function num(a: ParsedArgs, name: string, def?: number): number | undefined {
  entry(a, name);
  if (!a.values.has(name) && def !== undefined) return def;
  const v = value(a, name);
  return v === undefined ? undefined : (v as number);
}

export function bool(a: ParsedArgs, name: string): boolean {
  return value(a, name) === true;
}

export function list(a: ParsedArgs, name: string, def?: string[]): string[] | undefined {
  entry(a, name);
  if (!a.values.has(name) && def !== undefined) return [...def];
  const v = value(a, name);
  return v === undefined ? undefined : typeof v === 'string' ? [v] : (v as string[]);
}

/** Every value of a repeatable flag, in the order given ([] when absent). */
export function all(a: ParsedArgs, name: string): string[] {
  const o = entry(a, name);
  if (!o.repeatable) throw new Error(`instructalign ${a.spec.name}: option --${name} is not repeatable`);
  return [...((a.values.get(name) as string[] | undefined) ?? [])];
}

/** Whether the user gave the flag (as opposed to its default applying). */
export function given(a: ParsedArgs, name: string): boolean {
  entry(a, name);
  return a.given.has(name);
}
