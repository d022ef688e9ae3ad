// Entry of the wasm module: the byte-level BPE tokenizer (bpe.ts) and the sampler (sampler.ts), exported
// to the TS host (src/wasm/*.ts) as plain numbers and pointers into this module's memory.
import { Bpe } from './bpe';
import { byteChar as byteCharOf } from './bytelevel';
import { seedState } from './rng';
import { Buf } from './buf';
import { failure, resolveMerges } from './vocab';
export { sample } from './sampler';

export function version(): i32 {
  return 1;
}

/** Raw memory the host fills before handing it over (vocab strings, merges); freed with dealloc. */
export function alloc(bytes: usize): usize { return heap.alloc(max<usize>(bytes, 1)); }
export function dealloc(ptr: usize): void { heap.free(ptr); }

/** The char (code point) that stands for byte b in vocab strings. */
export function byteChar(b: i32): i32 { return byteCharOf(b); }

// Live tokenizers; a handle is an index here, so the GC keeps them alive while the host holds the number.
const live = new Array<Bpe | null>();

function get(h: i32): Bpe {
  assert(h >= 0 && h < live.length && live[h] != null, 'tokenizer handle is not live (already freed?)');
  return live[h]!;
}

export function bpeNew(nIds: i32, unkId: i32, fuseUnk: bool): i32 {
  live.push(new Bpe(nIds, unkId, fuseUnk));
  return live.length - 1;
}
/**
 * Vocab strings (UTF-16 `chars`, i32 `offs[nIds + 1]`) and merges (UTF-16 `mchars`, i32 triples `moffs`, see
 * vocab.ts). Returns -1, or the first bad merge as index * 4 + kind (vocab.ts) for the host's message.
 */
export function bpeLoad(h: i32, chars: usize, offs: usize, mchars: usize, moffs: usize, nMerges: i32): i32 {
  const t = get(h);
  t.setVocab(chars, offs);
  t.merges = resolveMerges(chars, offs, t.nIds, mchars, moffs, nMerges);
  return t.merges ? -1 : failure;
}
/** i32[256]: id of the token for each byte's char, -1 where model.vocab lacks it. */
export function bpeByteIds(h: i32, ids: usize): void { memory.copy(get(h).byteIds, ids, 256 << 2); }
export function bpeAdded(h: i32, bytes: usize, nBytes: i32, meta: usize, n: i32): void { get(h).setAdded(bytes, nBytes, meta, n); }
/** Room for `bytes` of input; the host writes the text (UTF-8) or the ids (i32) there. */
export function bpeInput(h: i32, bytes: i32): usize { return get(h).input.ensure(bytes); }
export function bpeEncode(h: i32, nBytes: i32): i32 { return get(h).encode(nBytes); }
/** Room for `n` (start, end, id) i32 triples of host-split pieces; then bpeEncodePieces(h, n). */
export function bpePieces(h: i32, n: i32): usize { return get(h).ext.ensure(<usize>max(n, 1) * 12); }
export function bpeEncodePieces(h: i32, n: i32): i32 { return get(h).encodePieces(n); }
export function bpeDecode(h: i32, nIds: i32): i32 { return get(h).decode(nIds); }
export function bpeOutput(h: i32): usize { return get(h).output.ptr; }
export function bpeFree(h: i32): void { get(h).free(); live[h] = null; }

// Sampler I/O: [state u32 x4][logits f32 x n][previous ids i32 x nPrev], reused by every call.
const io = new Buf();
export function samplerIO(n: i32, nPrev: i32): usize { return io.ensure(16 + (<usize>(n + nPrev) << 2)); }
export function samplerSeed(state: usize, lo: u32, hi: u32): void { seedState(state, lo, hi); }
