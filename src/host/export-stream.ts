// The loaded (tuned) model leaves the browser as streams, never as one buffer: model.safetensors is produced piece by
// piece straight from the GPU (each tensor read back in slices of at most `chunkBytes`), the zip is streamed around
// those pieces (fflate's Zip, entries stored), and the sinks write each piece as it comes: an OPFS sync access handle,
// a FileSystemWritableFileStream (showSaveFilePicker) or a Blob made of parts. A 560M model (2.2 GB of f32) so never
// needs a 2 GB ArrayBuffer, a 2 GB postMessage or a 2 GB write() — the three limits the single-buffer export hit.
import { Zip, ZipPassThrough } from 'fflate';
import type { Runtime } from './runtime.ts';
import { familyOf } from '../model/families.ts';
import { planSafetensors } from '../model/safetensors.ts';
import { TORCH_DTYPE } from '../model/checkpoint.ts';
import { f32ArrayToF16 } from '../gpu/f16.ts';
import type { Tensor } from '../gpu/tensor.ts';
import type { StreamedFile } from './stream-sinks.ts';

export type { StreamedFile } from './stream-sinks.ts';

export interface ExportOptions {
  /** the weights' dtype in model.safetensors (default F32, what training keeps) */
  dtype?: 'F32' | 'F16';
  /** the largest piece read back from the GPU and handed to a sink (default 64 MiB) */
  chunkBytes?: number;
}

export const DEFAULT_CHUNK_BYTES = 64 * 2 ** 20;

const small = (name: string, bytes: Uint8Array): StreamedFile => ({
  name,
  size: bytes.length,
  async *chunks() {
    yield bytes;
  },
});

/**
 * The loaded model as a HuggingFace folder (config.json, tokenizer.json, model.safetensors), streamed: the
 * safetensors header comes from the shapes, then each tensor's data in the header's order, read from the GPU in slices.
 */
export function checkpointStream(r: Runtime, tokenizerJSON: string, opts: ExportOptions = {}): StreamedFile[] {
  const m = r.loaded;
  const cfg = m.config,
    family = familyOf(cfg);
  const dtype = opts.dtype ?? 'F32';
  // whole f32 elements per slice, even (an f16-packed tensor holds two per 4-byte word), at least one row of 1024
  const perChunk = Math.max(1024, Math.floor((opts.chunkBytes ?? DEFAULT_CHUNK_BYTES) / 4 / 2) * 2);
  const specs = family.parameters(cfg).map((p) => ({ name: p.name, dtype, shape: p.shape }));
  const { header, order, dataBytes } = planSafetensors(specs, { format: 'pt' });
  const enc = new TextEncoder();
  // the GPU pieces of one parameter, in order: a vocabulary table lives in row shards, the rest in one tensor each
  const params = m.parameters();
  const pieces = (name: string): Tensor[] => {
    const parts = params.filter((p) => p.name === name).sort((a, b) => (a.rows?.lo ?? 0) - (b.rows?.lo ?? 0));
    return parts.length ? parts.map((p) => p.tensor) : missing(name);
  };
  const missing = (name: string): never => {
    throw new Error(`export: the loaded model has no parameter ${name} (int8-quantized weights cannot be exported)`);
  };
  async function* tensorBytes(): AsyncGenerator<Uint8Array> {
    yield header;
    for (const p of order) {
      let n = 0;
      for (const t of pieces(p.name)) {
        for (let at = 0; at < t.numel; at += perChunk) {
          const f32 = await r.gpu.readF32(t.view(at, Math.min(perChunk, t.numel - at)));
          const out = dtype === 'F16' ? f32ArrayToF16(f32) : f32;
          n += f32.length;
          yield new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
        }
      }
      const want = p.shape.reduce((a, b) => a * b, 1);
      if (n !== want) throw new Error(`export: ${p.name} gave ${n} values, its shape [${p.shape}] needs ${want}`);
    }
  }
  return [
    small('config.json', enc.encode(family.configJSON({ ...cfg, torchDtype: TORCH_DTYPE[dtype] }))),
    small('tokenizer.json', enc.encode(tokenizerJSON)),
    { name: 'model.safetensors', size: header.length + dataBytes, chunks: tensorBytes },
  ];
}

/** A zip (no zip64) cannot hold 4 GiB or more; say so before anything is written. */
export const ZIP_LIMIT = 2 ** 32 - 1;

/** The folder as a stored zip, streamed: entries `<folder>/<file>`, each file's pieces passed through as they come. */
export async function* zipStream(folder: string, files: StreamedFile[]): AsyncGenerator<Uint8Array> {
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total >= ZIP_LIMIT)
    throw new Error(
      `the model is ${(total / 2 ** 30).toFixed(2)} GiB: a zip holds less than 4 GiB (no zip64); ` +
        'export it as f16, or save it in this browser and copy the folder',
    );
  const out: Uint8Array[] = [];
  let failed: Error | null = null;
  const zip = new Zip((err, data) => {
    if (err) failed = err;
    else out.push(data);
  });
  const drain = function* (): Generator<Uint8Array> {
    if (failed) throw failed;
    while (out.length) yield out.shift()!;
  };
  for (const f of files) {
    const entry = new ZipPassThrough(`${folder}/${f.name}`);
    entry.mtime = Date.now();
    zip.add(entry);
    for await (const c of f.chunks()) {
      entry.push(c as Uint8Array<ArrayBuffer>);
      yield* drain();
    }
    entry.push(new Uint8Array(0), true);
    yield* drain();
  }
  zip.end();
  yield* drain();
}
