// Tiny argument parser shared by every subcommand: --flag value, --flag=value, --bool, positionals.
export interface ParsedArgs {
  flags: Map<string, string | true>;
  positional: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], booleans: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (eq >= 0) flags.set(name, a.slice(eq + 1));
    else if (booleans.includes(name) || i + 1 >= argv.length || argv[i + 1].startsWith('--')) flags.set(name, true);
    else flags.set(name, argv[++i]);
  }
  return { flags, positional };
}

export function str(a: ParsedArgs, name: string): string | undefined;
export function str(a: ParsedArgs, name: string, def: string): string;
export function str(a: ParsedArgs, name: string, def?: string): string | undefined {
  const v = a.flags.get(name);
  if (v === undefined) return def;
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

export function required(a: ParsedArgs, name: string): string {
  const v = str(a, name);
  if (v === undefined) throw new UsageError(`missing --${name}`);
  return v;
}

export function num(a: ParsedArgs, name: string, def: number): number;
export function num(a: ParsedArgs, name: string): number | undefined;
export function num(a: ParsedArgs, name: string, def?: number): number | undefined {
  const v = str(a, name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`);
  return n;
}

export function bool(a: ParsedArgs, name: string): boolean {
  const v = a.flags.get(name);
  return v === true || v === 'true' || v === '1';
}

export function list(a: ParsedArgs, name: string, def?: string[]): string[] | undefined {
  const v = str(a, name);
  if (v === undefined) return def;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
