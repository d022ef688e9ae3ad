// A raw, growable memory region outside the GC heap: hot loops use load/store on it, and the host
// writes inputs into it directly (no per-call allocation, nothing for the collector to trace).
export class Buf {
  ptr: usize = 0;
  cap: usize = 0;

  /** Makes room for `bytes`, keeping the contents; returns the (possibly moved) base pointer. */
  ensure(bytes: usize): usize {
    if (bytes > this.cap) {
      let c = max<usize>(bytes, this.cap << 1);
      c = max<usize>(c, 64);
      this.ptr = this.ptr ? heap.realloc(this.ptr, c) : heap.alloc(c);
      this.cap = c;
    }
    return this.ptr;
  }

  free(): void {
    if (this.ptr) heap.free(this.ptr);
    this.ptr = 0;
    this.cap = 0;
  }
}
