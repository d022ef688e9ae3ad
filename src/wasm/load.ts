// Instantiates the AssemblyScript module (tokenizer + sampler) once per thread, the same way in Node and in a
// browser worker: from the embedded base64 bytes (no fs, no fetch), through asc's raw bindings.
import { WASM_BASE64 } from '../generated/assets.ts';
import { instantiate } from '../generated/asc.js';

/** The module's exports (assembly/index.ts). Pointers are byte offsets into `memory`. */
export interface Wasm {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  dealloc(ptr: number): void;
  byteChar(b: number): number;
  bpeNew(nIds: number, unkId: number, fuseUnk: boolean): number;
  bpeLoad(h: number, chars: number, offs: number, mchars: number, moffs: number, nMerges: number): number;
  bpeByteIds(h: number, ids: number): void;
  bpeAdded(h: number, bytes: number, nBytes: number, meta: number, n: number): void;
  bpeInput(h: number, bytes: number): number;
  bpeEncode(h: number, nBytes: number): number;
  bpePieces(h: number, n: number): number;
  bpeEncodePieces(h: number, n: number): number;
  bpeDecode(h: number, nIds: number): number;
  bpeOutput(h: number): number;
  bpeFree(h: number): void;
  samplerIO(n: number, nPrev: number): number;
  samplerSeed(state: number, lo: number, hi: number): void;
  sample(
    state: number,
    logits: number,
    n: number,
    prev: number,
    nPrev: number,
    temperature: number,
    topK: number,
    topP: number,
    penalty: number,
  ): number;
}

let loading: Promise<Wasm> | undefined;
let loaded: Wasm | undefined;

/** Loads the module on first call; later calls share the same instance. */
export function loadWasm(): Promise<Wasm> {
  loading ??= (async () => {
    const bin = atob(WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    loaded = (await instantiate(await WebAssembly.compile(bytes), {})) as Wasm;
    return loaded;
  })();
  return loading;
}

/** The instance, for synchronous APIs (new Sampler): throws if loadWasm() has not finished yet. */
export function wasmSync(): Wasm {
  if (!loaded) throw new Error('the wasm module is not loaded yet: await loadWasm() (src/wasm/load.ts) once first');
  return loaded;
}

/** Copies `src` into fresh module memory; the caller deallocs the returned pointer. */
export function copyIn(w: Wasm, src: Uint8Array | Int32Array | Uint16Array): number {
  const ptr = w.alloc(src.byteLength);
  new Uint8Array(w.memory.buffer, ptr, src.byteLength).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  return ptr;
}
