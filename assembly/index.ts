// Entry of the wasm module: tokenizer (byte-level BPE) and sampler, exported to the TS host.
export function version(): i32 {
  return 1;
}
