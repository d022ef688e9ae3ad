// The priority queue of HF word.rs's merge loop: a binary min-heap of candidate merges keyed by
// (rank, position), so the lowest-ranked pair merges first and, among equal ranks, the leftmost.
import { Buf } from './buf';

export class MergeQueue {
  keys: Buf = new Buf();   // u64 (rank << 32) | position
  ids: Buf = new Buf();    // i32 merged id, parallel to keys
  n: i32 = 0;

  /** Empties the queue and makes room for `cap` entries. */
  reset(cap: i32): void {
    this.keys.ensure(<usize>cap << 3);
    this.ids.ensure(<usize>cap << 2);
    this.n = 0;
  }

  /** Queues a merge from the merge table's value ((rank << 32) | merged id) at symbol position `pos`. */
  push(merge: u64, pos: i32): void {
    const K = this.keys.ptr, I = this.ids.ptr;
    const key = (merge & 0xffffffff00000000) | <u64><u32>pos, id = <i32>merge;
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pk = load<u64>(K + (<usize>p << 3));
      if (pk <= key) break;
      store<u64>(K + (<usize>i << 3), pk);
      store<i32>(I + (<usize>i << 2), load<i32>(I + (<usize>p << 2)));
      i = p;
    }
    store<u64>(K + (<usize>i << 3), key);
    store<i32>(I + (<usize>i << 2), id);
  }

  /** Merged id of the top entry. */
  topId(): i32 { return load<i32>(this.ids.ptr); }

  /** Removes the top entry; returns its position. */
  pop(): i32 {
    const K = this.keys.ptr, I = this.ids.ptr;
    const top = <i32>load<u64>(K);
    const n = --this.n;
    const key = load<u64>(K + (<usize>n << 3)), id = load<i32>(I + (<usize>n << 2));
    let i = 0;
    while (true) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && load<u64>(K + (<usize>(c + 1) << 3)) < load<u64>(K + (<usize>c << 3))) c++;
      const ck = load<u64>(K + (<usize>c << 3));
      if (key <= ck) break;
      store<u64>(K + (<usize>i << 3), ck);
      store<i32>(I + (<usize>i << 2), load<i32>(I + (<usize>c << 2)));
      i = c;
    }
    store<u64>(K + (<usize>i << 3), key);
    store<i32>(I + (<usize>i << 2), id);
    return top;
  }

  free(): void {
    this.keys.free();
    this.ids.free();
  }
}
