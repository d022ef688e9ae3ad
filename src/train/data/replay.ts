// Experience replay (official `--continual_type rehearsal`): a seeded sample of instruction rows in xP3's
// {"inputs","targets"} format, mixed with the new data by HuggingFace interleave_datasets(all_exhausted).
import type { Rng } from '../rng.ts';

export interface ReplayRow {
  inputs: string;
  targets: string;
}

/** JSONL, one `{"inputs": string, "targets": string}` per line (other fields ignored); blank lines skipped. */
export function parseReplayJsonl(text: string, source = '<replay.jsonl>'): ReplayRow[] {
  const rows: ReplayRow[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new Error(`${source}:${i + 1}: bad JSON (${(e as Error).message})`);
    }
    if (typeof o?.inputs !== 'string' || typeof o?.targets !== 'string') {
      throw new Error(`${source}:${i + 1}: expected {"inputs": string, "targets": string}`);
    }
    rows.push({ inputs: o.inputs, targets: o.targets });
  });
  if (rows.length === 0) throw new Error(`${source}:1: no rows (empty file)`);
  return rows;
}

/** The decoder-only training text of a replay row, as the official preprocess_fn: f"{inputs} {targets}". */
export function replayText(r: ReplayRow): string {
  return `${r.inputs} ${r.targets}`;
}

/** `size` rows drawn without replacement in random order (the official shuffle(seed).take(size));
 *  all rows, shuffled, when size ≥ the row count. */
export function sampleReplay<T>(rows: readonly T[], size: number, rng: Rng): T[] {
  if (!Number.isInteger(size) || size < 0) throw new Error(`replay size must be a non-negative integer, got ${size}`);
  return rng.shuffle([...rows]).slice(0, size);
}

/** Round-robin over the sources, HuggingFace `interleave_datasets(sources, stopping_strategy='all_exhausted')`
 *  with no probabilities: L = the longest source's length; for i = 0..L-1, for each source j in order, item
 *  sources[j][i mod len_j]. So the output has (number of sources)·L items, every source is seen whole at least once,
 *  and a shorter source restarts from its beginning (recycled) until the longest is exhausted.
 *  Example from the datasets source: lengths [3,4,5] → indices 0,3,7, 1,4,8, 2,5,9, 0,6,10, 1,3,11. */
export function interleaveAllExhausted<T>(sources: readonly (readonly T[])[]): T[] {
  const empty = sources.findIndex((s) => s.length === 0);
  if (empty >= 0) throw new Error(`interleave: source ${empty} is empty`);
  const L = Math.max(0, ...sources.map((s) => s.length));
  const out: T[] = [];
  for (let i = 0; i < L; i++) for (const s of sources) out.push(s[i % s.length]);
  return out;
}
