// The BPE merge table: (left id, right id) -> (rank, merged id), open addressing with linear probing.
// Like HF's MergeMap it is built from model.merges in order, so a repeated pair keeps its LAST rank.

const EMPTY: u64 = u64.MAX_VALUE;
export const NO_MERGE: u64 = u64.MAX_VALUE;

export class MergeTable {
  keys: usize;   // u64[cap]: (a << 32) | b, EMPTY when free
  vals: usize;   // u64[cap]: (rank << 32) | newId
  mask: u32;
  shift: u64;

  /** `triples` holds n (a, b, newId) i32 triples; rank = index. */
  constructor(triples: usize, n: i32) {
    let bits: u32 = 4;
    while ((1 << bits) < n * 2) bits++;   // load factor <= 1/2 keeps probe chains short
    const cap: usize = 1 << bits;
    this.mask = <u32>cap - 1;
    this.shift = 64 - bits;
    this.keys = heap.alloc(cap << 3);
    this.vals = heap.alloc(cap << 3);
    memory.fill(this.keys, 0xff, cap << 3);
    for (let r = 0; r < n; r++) {
      const t = triples + (<usize>r * 12);
      this.put(load<u32>(t), load<u32>(t, 4), (<u64>r << 32) | <u64>load<u32>(t, 8));
    }
  }

  // @ts-ignore: decorator
  @inline slot(key: u64): u32 {
    return <u32>((key * 0x9e3779b97f4a7c15) >> this.shift);   // Fibonacci hashing: top bits
  }

  put(a: u32, b: u32, val: u64): void {
    const key = (<u64>a << 32) | b;
    let i = this.slot(key);
    while (true) {
      const k = load<u64>(this.keys + (<usize>i << 3));
      if (k == EMPTY || k == key) break;
      i = (i + 1) & this.mask;
    }
    store<u64>(this.keys + (<usize>i << 3), key);
    store<u64>(this.vals + (<usize>i << 3), val);
  }

  /** (rank << 32) | newId, or NO_MERGE. */
  get(a: i32, b: i32): u64 {
    const key = (<u64><u32>a << 32) | <u32>b;
    let i = this.slot(key);
    while (true) {
      const k = load<u64>(this.keys + (<usize>i << 3));
      if (k == key) return load<u64>(this.vals + (<usize>i << 3));
      if (k == EMPTY) return NO_MERGE;
      i = (i + 1) & this.mask;
    }
  }

  free(): void {
    heap.free(this.keys);
    heap.free(this.vals);
  }
}
