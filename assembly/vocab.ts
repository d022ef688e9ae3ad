// Resolves model.merges to ids inside wasm: a hash table over the vocab's UTF-16 strings, probed with
// "a", "b" and "a"+"b" per merge. Doing these 750k lookups here rather than on a JS object keeps the
// load of BLOOM's 250k-merge tokenizer.json far below a second.
import { MergeTable } from './merges';

/** How a merge failed, packed as index * 4 + kind in the status returned to the host. */
export const NOT_TWO_PARTS = 0, LEFT_MISSING = 1, RIGHT_MISSING = 2, MERGED_MISSING = 3;

class StrTable {
  slots: usize;   // i32[cap]: id, or -1 when free
  mask: u32;

  constructor(private chars: usize, private offs: usize, nIds: i32) {
    let bits: u32 = 4;
    while ((1 << bits) < nIds * 2) bits++;
    this.mask = (1 << bits) - 1;
    this.slots = heap.alloc(<usize>(this.mask + 1) << 2);
    memory.fill(this.slots, 0xff, <usize>(this.mask + 1) << 2);
    for (let id = 0; id < nIds; id++) {
      const a = this.start(id), n = this.start(id + 1) - a;
      if (n == 0) continue;
      let i = mix(fnv(2166136261, chars + (<usize>a << 1), n)) & this.mask;
      while (load<i32>(this.slots + (<usize>i << 2)) >= 0) i = (i + 1) & this.mask;
      store<i32>(this.slots + (<usize>i << 2), id);
    }
  }

  private start(id: i32): i32 { return load<i32>(this.offs + (<usize>id << 2)); }

  /** Id of the string p[0..n) + q[0..m) (UTF-16 units), or -1. */
  find(p: usize, n: i32, q: usize, m: i32): i32 {
    let i = mix(fnv(fnv(2166136261, p, n), q, m)) & this.mask;
    while (true) {
      const id = load<i32>(this.slots + (<usize>i << 2));
      if (id < 0) return -1;
      const a = this.start(id);
      if (this.start(id + 1) - a == n + m) {
        const s = this.chars + (<usize>a << 1);
        if (memory.compare(s, p, <usize>n << 1) == 0 && memory.compare(s + (<usize>n << 1), q, <usize>m << 1) == 0) return id;
      }
      i = (i + 1) & this.mask;
    }
  }

  free(): void { heap.free(this.slots); }
}

/** FNV-1a over UTF-16 units, continuing from h (so fnv(fnv(h, a), b) hashes a + b). */
function fnv(h: u32, p: usize, n: i32): u32 {
  for (let i = 0; i < n; i++) h = (h ^ load<u16>(p + (<usize>i << 1))) * 16777619;
  return h;
}

/** FNV's low bits are weak: fold the high ones in before masking. */
function mix(h: u32): u32 {
  return h ^ (h >>> 15);
}

/** The first bad merge of the last resolveMerges, as index * 4 + kind; -1 if none. */
export let failure: i32 = -1;

/**
 * Builds the merge table from merges as UTF-16 `mchars` with i32 triples `moffs` (start, split, end) per
 * merge: split is where "b" starts (pair format) or -1 for "a b" strings (split on their one space).
 * Returns the table, or null with `failure` set.
 */
export function resolveMerges(chars: usize, offs: usize, nIds: i32, mchars: usize, moffs: usize, n: i32): MergeTable | null {
  const table = new StrTable(chars, offs, nIds);
  const triples = heap.alloc(max<usize>(<usize>n * 12, 1));
  failure = -1;
  for (let r = 0; r < n && failure < 0; r++) {
    const o = moffs + <usize>r * 12;
    const s = load<i32>(o), e = load<i32>(o, 8);
    let sa = load<i32>(o, 4), sb = sa;
    if (sa < 0) {
      for (let i = s; i < e; i++) {
        if (load<u16>(mchars + (<usize>i << 1)) != 0x20) continue;
        if (sa >= 0) { sa = -1; break; }   // a second space: more than two parts
        sa = i; sb = i + 1;
      }
      if (sa < 0) { failure = r * 4 + NOT_TWO_PARTS; break; }
    }
    const pa = mchars + (<usize>s << 1), pb = mchars + (<usize>sb << 1);
    const a = table.find(pa, sa - s, 0, 0), b = table.find(pb, e - sb, 0, 0), c = table.find(pa, sa - s, pb, e - sb);
    if (a < 0) failure = r * 4 + LEFT_MISSING;
    else if (b < 0) failure = r * 4 + RIGHT_MISSING;
    else if (c < 0) failure = r * 4 + MERGED_MISSING;
    const t = triples + <usize>r * 12;
    store<i32>(t, a); store<i32>(t, b, 4); store<i32>(t, c, 8);
  }
  table.free();
  const merges = failure < 0 ? new MergeTable(triples, n) : null;
  heap.free(triples);
  return merges;
}
