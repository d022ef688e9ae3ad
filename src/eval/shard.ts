// `eval --shard i/n`: a deterministic 1/n of an evaluation's work — the (language, prompt, example) items in
// evaluation order, item k going to shard (k mod n) + 1, each with all its labels (they are scored together). The same
// data, prompts and settings give every machine the same item list, so n shard runs cover it exactly once;
// `instructalign merge` (merge.ts) puts them back together. Browser-safe.
export interface ShardSpec {
  index: number; // 1-based
  count: number;
}

export const shardName = (s: ShardSpec) => `${s.index}/${s.count}`;

/** "i/n" with integers 1 ≤ i ≤ n; `where` names the flag or field in errors. */
export function parseShard(spec: string, where = '--shard'): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(String(spec));
  const index = m ? Number(m[1]) : NaN,
    count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index >= 1 && index <= count))
    throw new Error(`${where} must be i/n with 1 ≤ i ≤ n (e.g. 1/4 … 4/4), got "${spec}"`);
  return { index, count };
}

/** The items of shard `s` (round robin over the evaluation order: balanced to within one item). */
export function shardItems<T>(items: readonly T[], s: ShardSpec): T[] {
  return items.filter((_, k) => k % s.count === s.index - 1);
}
