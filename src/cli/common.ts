// Helpers shared by the model commands: runtime setup from common flags, stdin lines, JSON output.
import { createRuntime } from '../api/node.ts';
import type { InstructAlignRuntime } from '../api/types.ts';
import { bool, num, str, UsageError, type ParsedArgs } from './args.ts';
import type { StorageDType } from '../model/bloom/weights.ts';

export function dtypeFlag(a: ParsedArgs): StorageDType {
  const d = str(a, 'dtype', 'f32');
  if (d !== 'f32' && d !== 'f16') throw new UsageError(`--dtype must be f32 or f16, got "${d}"`);
  return d;
}

/** The public API's runtime (src/api/node.ts) with --model loaded: score and generate are thin callers of it. */
export async function runtimeWithModel(a: ParsedArgs, quiet = false): Promise<InstructAlignRuntime> {
  const model = str(a, 'model');
  if (!model) throw new UsageError('missing --model DIR');
  const rt = await createRuntime(quiet ? { log: () => {} } : {});
  try {
    await rt.loadModel(model, {
      dtype: dtypeFlag(a),
      int8: bool(a, 'int8'),
      int8Threshold: num(a, 'int8-threshold', 6),
    });
  } catch (e) {
    await rt.dispose();
    throw e;
  }
  return rt;
}

/** stdin's lines, numbered from 1; blank ones are skipped unless `keepBlank` (score answers them in place). */
export async function* stdinLines(keepBlank = false): AsyncGenerator<{ line: string; n: number }> {
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) {
    n++;
    if (keepBlank || line.trim()) yield { line, n };
  }
}

export function parseJSONLine<T>(line: string, n: number, what: string, check: (v: unknown) => v is T): T {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`stdin line ${n}: not JSON (expected ${what})`);
  }
  if (!check(v)) throw new Error(`stdin line ${n}: expected ${what}`);
  return v;
}
