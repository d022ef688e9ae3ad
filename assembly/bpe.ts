// Byte-level BPE of the BLOOM kind: split out added tokens, pre-tokenize (pretok.ts), merge each piece's
// bytes by rank exactly like HF tokenizers' word.rs, and decode ids back to text through the byte alphabet.
import { Buf } from './buf';
import { charByte, putUtf8, utf8ToUtf16Lossy } from './bytelevel';
import { MergeTable, NO_MERGE } from './merges';
import { MergeQueue } from './queue';
import { splitPieces } from './pretok';

// A symbol of the word being merged (HF word.rs `Symbol`), 16 bytes: id, prev, next, byte length (0 = merged away).
const C = 0, PREV = 4, NEXT = 8, LEN = 12;

export class Bpe {
  tokOff: usize;              // i32[nIds + 1]: where each id's decoded bytes start in tokBytes
  tokBytes: usize = 0;
  byteIds: usize;             // i32[256]: id of each single-byte token, -1 if absent
  merges: MergeTable | null = null;
  added: Buf = new Buf();          // i32 (offset, length, id) per added token, longest first
  addedBytes: Buf = new Buf();     // their UTF-8 contents
  nAdded: i32 = 0;
  firstByte: StaticArray<u8> = new StaticArray<u8>(256);   // 1 where some added token starts with this byte
  input: Buf = new Buf();          // host-written UTF-8 text or i32 ids
  output: Buf = new Buf();         // i32 ids or UTF-16 text for the host
  nOut: i32 = 0;
  pieces: Buf = new Buf();
  ext: Buf = new Buf();            // host-split pieces: i32 (start, end, id) triples
  syms: Buf = new Buf();
  queue: MergeQueue = new MergeQueue();
  scratch: Buf = new Buf();

  constructor(public nIds: i32, public unkId: i32, public fuseUnk: bool) {
    this.tokOff = heap.alloc(<usize>(nIds + 1) << 2);
    this.byteIds = heap.alloc(256 << 2);
    memory.fill(this.byteIds, 0xff, 256 << 2);
  }

  /**
   * Vocab strings as UTF-16 `chars` with i32 offsets `offs[nIds + 1]`, stored as the bytes HF's ByteLevel
   * decoder gives them: mapped char by char, or the whole token as UTF-8 when any char is outside the alphabet.
   */
  setVocab(chars: usize, offs: usize): void {
    const nChars = load<i32>(offs + (<usize>this.nIds << 2));
    this.tokBytes = heap.alloc(max<usize>(<usize>nChars * 3, 1));
    let w: usize = 0;
    for (let id = 0; id < this.nIds; id++) {
      const a = load<i32>(offs + (<usize>id << 2)), b = load<i32>(offs + (<usize>(id + 1) << 2));
      store<i32>(this.tokOff + (<usize>id << 2), <i32>w);
      let mapped = true;
      for (let i = a; i < b; i++) if (charByte(load<u16>(chars + (<usize>i << 1))) < 0) { mapped = false; break; }
      if (mapped) {
        for (let i = a; i < b; i++) store<u8>(this.tokBytes + w++, charByte(load<u16>(chars + (<usize>i << 1))));
      } else {
        w += utf16ToUtf8(chars + (<usize>a << 1), b - a, this.tokBytes + w);
      }
    }
    store<i32>(this.tokOff + (<usize>this.nIds << 2), <i32>w);
  }

  /** Added tokens: `meta` holds n (offset, length, id) i32 triples into `bytes`, sorted longest first. */
  setAdded(bytes: usize, nBytes: i32, meta: usize, n: i32): void {
    memory.copy(this.addedBytes.ensure(nBytes), bytes, nBytes);
    memory.copy(this.added.ensure(<usize>n * 12), meta, <usize>n * 12);
    this.nAdded = n;
    for (let k = 0; k < n; k++) {
      const off = load<i32>(meta + <usize>k * 12), len = load<i32>(meta + <usize>k * 12, 4);
      if (len > 0) this.firstByte[load<u8>(bytes + off)] = 1;
    }
  }

  /** Encodes the `n` UTF-8 bytes the host wrote to `input`; the ids land in `output`. */
  encode(n: i32): i32 {
    this.nOut = 0;
    const base = this.input.ptr;
    let seg = 0, i = 0;
    // Added tokens come out of the raw text first (leftmost, then longest, like HF's aho-corasick split).
    if (this.nAdded > 0) {
      while (i < n) {
        const k = unchecked(this.firstByte[load<u8>(base + i)]) ? this.matchAdded(base + i, n - i) : -1;
        if (k < 0) { i++; continue; }
        this.encodeSegment(seg, i);
        const meta = this.added.ptr + <usize>k * 12;
        this.emit(load<i32>(meta, 8));
        i += load<i32>(meta, 4);
        seg = i;
      }
    }
    this.encodeSegment(seg, n);
    return this.nOut;
  }

  /**
   * Encodes pieces the host has split already (pre-tokenizers given as a regex, e.g. Qwen3's and Llama 3's): the
   * UTF-8 text is in `input`, `n` i32 triples (start, end, id) in `ext`; id ≥ 0 is emitted as is (an added token, or
   * with ignore_merges a piece found whole in the vocab), id < 0 merges the piece's bytes [start, end).
   */
  encodePieces(n: i32): i32 {
    this.nOut = 0;
    for (let k = 0; k < n; k++) {
      const p = this.ext.ptr + <usize>k * 12;
      const id = load<i32>(p, 8);
      if (id >= 0) this.emit(id);
      else this.mergeWord(load<i32>(p), load<i32>(p, 4));
    }
    return this.nOut;
  }

  private matchAdded(p: usize, room: i32): i32 {
    for (let k = 0; k < this.nAdded; k++) {
      const meta = this.added.ptr + <usize>k * 12;
      const len = load<i32>(meta, 4);
      if (len > 0 && len <= room && memory.compare(p, this.addedBytes.ptr + load<i32>(meta), len) == 0) return k;
    }
    return -1;
  }

  private encodeSegment(s: i32, e: i32): void {
    if (s >= e) return;
    const n = splitPieces(this.input.ptr, s, e, this.pieces, 0);
    for (let k = 0; k < n; k++) {
      const p = this.pieces.ptr + (<usize>k << 3);
      this.mergeWord(load<i32>(p), load<i32>(p, 4));
    }
  }

  private emit(id: i32): void {
    store<i32>(this.output.ensure(<usize>(this.nOut + 1) << 2) + (<usize>this.nOut << 2), id);
    this.nOut++;
  }

  /** HF BPE::merge_word + Word::merge_all on bytes [a, b) of the input. */
  private mergeWord(a: i32, b: i32): void {
    const base = this.input.ptr;
    const sy = this.syms.ensure(<usize>(b - a) << 4);
    let ns = 0, prevUnk = false;
    for (let i = a; i < b; i++) {
      let id = load<i32>(this.byteIds + (<usize>load<u8>(base + i) << 2));
      const unk = id < 0;
      if (unk) {
        if (this.unkId < 0) continue;                    // no unk token: HF drops the byte
        id = this.unkId;
        if (this.fuseUnk && prevUnk) { const q = sy + (<usize>(ns - 1) << 4); store<i32>(q, load<i32>(q, LEN) + 1, LEN); continue; }
      }
      prevUnk = unk;
      const q = sy + (<usize>ns << 4);
      store<i32>(q, id, C); store<i32>(q, ns - 1, PREV); store<i32>(q, -1, NEXT); store<i32>(q, 1, LEN);
      if (ns > 0) store<i32>(q - 16, ns, NEXT);
      ns++;
    }
    if (ns > 1) this.mergeAll(sy, ns);
    for (let i = 0; i < ns; i++) {
      const q = sy + (<usize>i << 4);
      if (load<i32>(q, LEN) != 0) this.emit(load<i32>(q, C));
    }
  }

  private mergeAll(sy: usize, ns: i32): void {
    const merges = this.merges!;
    const queue = this.queue;
    queue.reset(ns * 3);   // n-1 initial pairs + at most 2 per merge (n-1 merges)
    for (let i = 0; i < ns - 1; i++) {
      const m = merges.get(load<i32>(sy + (<usize>i << 4)), load<i32>(sy + (<usize>(i + 1) << 4)));
      if (m != NO_MERGE) queue.push(m, i);
    }
    while (queue.n > 0) {
      const newId = queue.topId(), pos = queue.pop();
      const q = sy + (<usize>pos << 4);
      if (load<i32>(q, LEN) == 0) continue;
      const nx = load<i32>(q, NEXT);
      if (nx < 0) continue;
      const r = sy + (<usize>nx << 4);
      // A stale entry: the pair at pos changed since it was queued (HF compares the merged id).
      const cur = merges.get(load<i32>(q, C), load<i32>(r, C));
      if (cur == NO_MERGE || <i32>cur != newId) continue;
      store<i32>(q, newId, C);
      store<i32>(q, load<i32>(q, LEN) + load<i32>(r, LEN), LEN);
      const rn = load<i32>(r, NEXT);
      store<i32>(q, rn, NEXT);
      store<i32>(r, 0, LEN);
      if (rn >= 0) store<i32>(sy + (<usize>rn << 4), pos, PREV);
      const pv = load<i32>(q, PREV);
      if (pv >= 0) {
        const m = merges.get(load<i32>(sy + (<usize>pv << 4), C), newId);
        if (m != NO_MERGE) queue.push(m, pv);
      }
      if (rn >= 0) {
        const m = merges.get(newId, load<i32>(sy + (<usize>rn << 4), C));
        if (m != NO_MERGE) queue.push(m, pos);
      }
    }
  }

  /** Decodes the `n` i32 ids in `input` into UTF-16 in `output`; returns the unit count. Unknown ids are skipped, as HF does. */
  decode(n: i32): i32 {
    const ids = this.input.ptr;
    let total: usize = 0;
    for (let k = 0; k < n; k++) {
      const id = load<i32>(ids + (<usize>k << 2));
      if (<u32>id < <u32>this.nIds) total += this.tokLen(id);
    }
    const bytes = this.scratch.ensure(total);
    let w: usize = 0;
    for (let k = 0; k < n; k++) {
      const id = load<i32>(ids + (<usize>k << 2));
      if (<u32>id >= <u32>this.nIds) continue;
      const len = this.tokLen(id);
      memory.copy(bytes + w, this.tokBytes + load<i32>(this.tokOff + (<usize>id << 2)), len);
      w += len;
    }
    return <i32>utf8ToUtf16Lossy(bytes, w, this.output.ensure(w << 1));
  }

  private tokLen(id: i32): usize {
    const p = this.tokOff + (<usize>id << 2);
    return <usize>(load<i32>(p, 4) - load<i32>(p));
  }

  free(): void {
    heap.free(this.tokOff);
    if (this.tokBytes) heap.free(this.tokBytes);
    heap.free(this.byteIds);
    if (this.merges) this.merges!.free();
    this.added.free(); this.addedBytes.free(); this.input.free(); this.output.free();
    this.pieces.free(); this.ext.free(); this.syms.free(); this.queue.free(); this.scratch.free();
  }
}

/** UTF-16 -> UTF-8 (a lone surrogate becomes U+FFFD, as in a Rust String); returns bytes written. */
function utf16ToUtf8(src: usize, n: i32, dst: usize): usize {
  let w: usize = 0;
  for (let i = 0; i < n; i++) {
    let c = <i32>load<u16>(src + (<usize>i << 1));
    if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < n ? <i32>load<u16>(src + (<usize>(i + 1) << 1)) : 0;
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      else c = 0xfffd;
    }
    w += putUtf8(dst + w, c);
  }
  return w;
}
