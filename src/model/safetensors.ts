// safetensors reader/writer (docs/safetensors.md): lazy reads by byte offset from a file, Blob or buffer; strict
// header checks whose errors name the file, the tensor, the byte offset and the fix. Runs in Node and in a browser
// worker: node:fs is only reached through dynamic imports in fileSource / writeSafetensors (Node-only paths).
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from './dtype.ts';

/** Element size in bytes; key order is safetensors' Dtype enum order (ascending alignment), used when writing. */
const DTYPE_SIZE = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;
export type DType = keyof typeof DTYPE_SIZE;
const DTYPE_RANK = new Map(Object.keys(DTYPE_SIZE).map((k, i) => [k, i]));
/** Dtypes that f32() converts; the others are accepted in headers and readable with raw(). */
export const CONVERTIBLE_DTYPES: readonly DType[] = ['F32', 'F16', 'BF16', 'I8', 'I32', 'U8'];
const MAX_HEADER = 100_000_000;
const REFETCH = 're-download or re-save the checkpoint';

export function isDType(d: unknown): d is DType {
  return typeof d === 'string' && Object.hasOwn(DTYPE_SIZE, d);
}
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number /* absolute file offsets */;
}

/** Random-access bytes: a file (Node), a Blob/File (browser) or memory. `read` returns a fresh, unshared buffer. */
export interface ByteSource {
  size: number;
  read(begin: number, end: number): Promise<Uint8Array<ArrayBuffer>>;
  close?(): Promise<void>;
  name: string;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** Node only: positional reads through one file handle, never the whole file. */
export async function fileSource(path: string): Promise<ByteSource> {
  const fs = await import('node:fs/promises'); // Node path only (esbuild leaves it external for the browser)
  const fh = await fs.open(path, 'r');
  const { size } = await fh.stat();
  return {
    name: path,
    size,
    async read(begin, end) {
      checkRange(path, size, begin, end);
      const out = new Uint8Array(end - begin);
      // fh.read caps at 2 GiB and may return short counts: loop in 1 GiB steps.
      for (let off = 0; off < out.length; ) {
        const { bytesRead } = await fh.read(out, off, Math.min(out.length - off, 1 << 30), begin + off);
        if (bytesRead === 0)
          throw new SafetensorsError(
            `${path}: file shrank while reading byte ${begin + off} — was it modified during loading?`,
          );
        off += bytesRead;
      }
      return out;
    },
    close: () => fh.close(),
  };
}

/** Browser File/Blob (also works in Node ≥ 20): each read is a `slice().arrayBuffer()`. */
export function blobSource(b: Blob | File, name?: string): ByteSource {
  const n = name ?? ((b as File).name || 'blob');
  return {
    name: n,
    size: b.size,
    async read(begin, end) {
      checkRange(n, b.size, begin, end);
      return new Uint8Array(await b.slice(begin, end).arrayBuffer());
    },
  };
}

export function bufferSource(b: ArrayBuffer | Uint8Array, name = 'buffer'): ByteSource {
  const u8 = b instanceof Uint8Array ? b : new Uint8Array(b);
  return {
    name,
    size: u8.byteLength,
    // a copy with its own ArrayBuffer, also for a Node Buffer (whose slice() is a view into a shared pool)
    async read(begin, end) {
      checkRange(name, u8.byteLength, begin, end);
      return Uint8Array.prototype.slice.call(u8, begin, end);
    },
  };
}

function checkRange(name: string, size: number, begin: number, end: number): void {
  if (!(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && 0 <= begin && begin <= end && end <= size)) {
    throw new SafetensorsError(
      `${name}: read of bytes ${begin}..${end} outside the file (${size} bytes) — file truncated? ${REFETCH}`,
    );
  }
}

/** Parsed, validated header. `dataStart` is the absolute offset of the data buffer (8 + N). */
interface Header {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  dataStart: number;
}

async function readHeaderJSON(src: ByteSource): Promise<{ json: Record<string, unknown>; text: string; n: number }> {
  const fail = (m: string) => new SafetensorsError(`${src.name}: ${m}`);
  if (src.size < 8)
    throw fail(
      `file is ${src.size} bytes, shorter than the 8-byte header length at byte 0 — truncated or not a safetensors file; ${REFETCH}`,
    );
  const prefix = new DataView((await src.read(0, 8)).buffer);
  const n = prefix.getUint32(0, true) + prefix.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER)
    throw fail(
      `header length at byte 0 says ${n} bytes, over the 100 MB limit — not a safetensors file (a git-lfs pointer or a pytorch .bin?)`,
    );
  if (8 + n > src.size)
    throw fail(`file truncated: header needs bytes 8..${8 + n} but the file has ${src.size} bytes — ${REFETCH}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await src.read(8, 8 + n));
  } catch {
    throw fail(`header (bytes 8..${8 + n}) is not valid UTF-8 — corrupted file; ${REFETCH}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw fail(`header (bytes 8..${8 + n}) is not valid JSON (${(e as Error).message}) — corrupted file; ${REFETCH}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw fail(`header (bytes 8..${8 + n}) is not a JSON object`);
  return { json: json as Record<string, unknown>, text, n };
}

/** JSON.parse keeps the last of duplicate keys silently; scan the (already valid) text for top-level keys. */
function findDuplicateKey(text: string): { key: string; at: number } | undefined {
  const seen = new Set<string>();
  let depth = 0,
    expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return { key, at: i };
        seen.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return undefined;
}

function parseEntry(file: string, name: string, v: unknown, dataStart: number): TensorInfo {
  const fail = (m: string) =>
    new SafetensorsError(`${file}: tensor '${name}' (header): ${m} — corrupted header; ${REFETCH}`);
  if (typeof v !== 'object' || v === null) throw fail('entry is not an object');
  const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (e.dtype === undefined) throw fail('missing "dtype"');
  if (e.shape === undefined) throw fail('missing "shape"');
  if (e.data_offsets === undefined) throw fail('missing "data_offsets"');
  if (!isDType(e.dtype))
    throw fail(`unknown dtype ${JSON.stringify(e.dtype)} (known: ${Object.keys(DTYPE_SIZE).join(', ')})`);
  const isUint = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!Array.isArray(e.shape) || !e.shape.every(isUint))
    throw fail(`shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every(isUint) || off[0] > off[1]) {
    throw fail(`data_offsets ${JSON.stringify(off)} must be [begin, end] with 0 <= begin <= end`);
  }
  const info: TensorInfo = {
    name,
    dtype: e.dtype,
    shape: e.shape as number[],
    begin: dataStart + off[0],
    end: dataStart + off[1],
  };
  const want = numel(info.shape) * DTYPE_SIZE[info.dtype];
  if (want !== info.end - info.begin) {
    throw new SafetensorsError(
      `${file}: tensor '${name}' at bytes ${info.begin}..${info.end}: shape [${info.shape}] × ${info.dtype} ` +
        `(${DTYPE_SIZE[info.dtype]} B) needs ${want} bytes but data_offsets span ${info.end - info.begin} — corrupted header; ${REFETCH}`,
    );
  }
  return info;
}

/** Ranges must tile [dataStart, size) exactly: no gap, no overlap, nothing missing or left over. */
function checkLayout(src: ByteSource, infos: TensorInfo[], dataStart: number): void {
  const fail = (m: string) => new SafetensorsError(`${src.name}: ${m}`);
  const sorted = [...infos].sort((a, b) => a.begin - b.begin || a.end - b.end);
  const last = sorted.length ? sorted[sorted.length - 1] : undefined;
  const maxEnd = sorted.reduce((m, t) => Math.max(m, t.end), dataStart);
  if (maxEnd > src.size) {
    const t = sorted.find((x) => x.end === maxEnd)!;
    throw fail(
      `file truncated: expected ${maxEnd - dataStart} bytes of data, found ${src.size - dataStart} (tensor '${t.name}' ends at byte ${t.end}, file has ${src.size}) — ${REFETCH}`,
    );
  }
  let pos = dataStart,
    prev: TensorInfo | undefined;
  for (const t of sorted) {
    const where = prev ? `after tensor '${prev.name}'` : 'at the start of the data';
    if (t.begin < pos)
      throw fail(
        `tensors '${prev!.name}' (bytes ${prev!.begin}..${prev!.end}) and '${t.name}' (bytes ${t.begin}..${t.end}) overlap — corrupted header; ${REFETCH}`,
      );
    if (t.begin > pos)
      throw fail(
        `gap of ${t.begin - pos} bytes at byte ${pos} ${where}, before tensor '${t.name}' — data ranges must be contiguous; ${REFETCH}`,
      );
    pos = t.end;
    prev = t;
  }
  if (pos !== src.size) {
    throw fail(
      `${src.size - pos} bytes at ${pos}..${src.size} after ${last ? `the last tensor '${last.name}'` : 'the header'} are not described by the header — corrupted or appended-to file; ${REFETCH}`,
    );
  }
}

async function parseHeader(src: ByteSource): Promise<Header> {
  const { json, text, n } = await readHeaderJSON(src);
  const dup = findDuplicateKey(text);
  if (dup) {
    const at = 8 + new TextEncoder().encode(text.slice(0, dup.at)).length; // char index -> byte offset
    throw new SafetensorsError(
      `${src.name}: duplicate key '${dup.key}' in the header at byte ${at} — corrupted header; ${REFETCH}`,
    );
  }
  const dataStart = 8 + n;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) {
    if (k === '__metadata__') metadata = parseMetadata(src.name, v);
    else tensors.set(k, parseEntry(src.name, k, v, dataStart));
  }
  checkLayout(src, [...tensors.values()], dataStart);
  return { tensors, metadata, dataStart };
}

function parseMetadata(file: string, v: unknown): Record<string, string> {
  const ok =
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  if (!ok)
    throw new SafetensorsError(
      `${file}: "__metadata__" must map strings to strings, got ${JSON.stringify(v).slice(0, 200)}`,
    );
  return v as Record<string, string>;
}

/** Typed view of `bytes` when aligned, else of a copy (a view needs offset % element size == 0). */
function typed<T>(
  bytes: Uint8Array,
  C: { new (b: ArrayBuffer, o: number, n: number): T; BYTES_PER_ELEMENT: number },
): T {
  // A SharedArrayBuffer-backed input is copied too, so results are always plain ArrayBuffer views.
  const b =
    bytes.byteOffset % C.BYTES_PER_ELEMENT === 0 && bytes.buffer instanceof ArrayBuffer
      ? (bytes as Uint8Array<ArrayBuffer>)
      : bytes.slice();
  return new C(b.buffer, b.byteOffset, b.byteLength / C.BYTES_PER_ELEMENT);
}

/** Convert raw little-endian tensor bytes to f32 values. */
export function bytesToF32(dtype: DType, bytes: Uint8Array, what = 'tensor'): Float32Array<ArrayBuffer> {
  switch (dtype) {
    case 'F32':
      return typed(bytes, Float32Array);
    case 'F16':
      return f16ArrayToF32(typed(bytes, Uint16Array));
    case 'BF16':
      return bf16ArrayToF32(typed(bytes, Uint16Array));
    case 'I8':
      return Float32Array.from(typed(bytes, Int8Array));
    case 'I32':
      return Float32Array.from(typed(bytes, Int32Array));
    case 'U8':
      return Float32Array.from(bytes);
    default:
      throw new SafetensorsError(
        `${what}: dtype ${dtype} has no f32 conversion (supported: ${CONVERTIBLE_DTYPES.join(', ')}); read it with raw()`,
      );
  }
}

/** An open safetensors file: header parsed and validated up front, tensor bytes read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly source: ByteSource,
    readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  static async open(src: ByteSource): Promise<SafetensorsFile> {
    try {
      const h = await parseHeader(src);
      return new SafetensorsFile(src, h.tensors, h.metadata);
    } catch (e) {
      await src.close?.();
      throw e;
    }
  }

  get name(): string {
    return this.source.name;
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) {
      const some = [...this.tensors.keys()].slice(0, 5).join(', ');
      throw new SafetensorsError(
        `${this.source.name}: no tensor '${name}' (the file has ${this.tensors.size}: ${some}${this.tensors.size > 5 ? ', …' : ''})`,
      );
    }
    return t;
  }

  raw(name: string): Promise<Uint8Array<ArrayBuffer>> {
    const t = this.info(name);
    return this.source.read(t.begin, t.end);
  }

  async f32(name: string): Promise<Float32Array<ArrayBuffer>> {
    const t = this.info(name);
    return bytesToF32(t.dtype, await this.source.read(t.begin, t.end), `${this.source.name}: tensor '${name}'`);
  }

  async close(): Promise<void> {
    await this.source.close?.();
  }
}

export interface TensorToWrite {
  name: string;
  dtype: DType;
  shape: number[];
  data: Uint8Array | Float32Array | Int32Array | Int8Array | Uint16Array;
}

/** The bytes of one tensor to write; a Float32Array given for F16/BF16 is converted (round-to-nearest-even). */
function tensorBytes(t: TensorToWrite): Uint8Array {
  let d = t.data;
  if (d instanceof Float32Array && t.dtype === 'F16') d = f32ArrayToF16(d);
  else if (d instanceof Float32Array && t.dtype === 'BF16') d = f32ArrayToBf16(d);
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  const want = numel(t.shape) * DTYPE_SIZE[t.dtype];
  if (bytes.byteLength !== want) {
    throw new SafetensorsError(
      `tensor '${t.name}': shape [${t.shape}] × ${t.dtype} needs ${want} bytes, data has ${bytes.byteLength} (${d.constructor.name} of ${d.length})`,
    );
  }
  return bytes;
}

// Code-point order equals Rust's byte-wise UTF-8 string order (JS `<` compares UTF-16 units).
function cmpNames(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!),
    y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Header bytes and write order, as HF's `prepare`: by dtype alignment (descending), then name. Sizes come from
 *  shapes, so tensor data is not touched until it is written (a streamed writer plans before reading any data). */
export function planSafetensors<T extends Pick<TensorToWrite, 'name' | 'dtype' | 'shape'>>(
  tensors: T[],
  metadata?: Record<string, string>,
): { header: Uint8Array; order: T[]; dataBytes: number } {
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name) || t.name === '__metadata__')
      throw new SafetensorsError(`tensor name '${t.name}' is duplicated or reserved`);
    if (!isDType(t.dtype)) throw new SafetensorsError(`tensor '${t.name}': unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!t.shape.every((s) => Number.isSafeInteger(s) && s >= 0))
      throw new SafetensorsError(`tensor '${t.name}': bad shape [${t.shape}]`);
    names.add(t.name);
  }
  const order = [...tensors].sort(
    (a, b) => DTYPE_RANK.get(b.dtype)! - DTYPE_RANK.get(a.dtype)! || cmpNames(a.name, b.name),
  );
  const head: Record<string, unknown> = {};
  if (metadata) head.__metadata__ = metadata;
  let off = 0;
  for (const t of order) {
    const n = numel(t.shape) * DTYPE_SIZE[t.dtype];
    head[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  const json = new TextEncoder().encode(JSON.stringify(head));
  const padded = Math.ceil(json.length / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, order, dataBytes: off };
}

/** Whole file in memory (small files, browser downloads). */
export function encodeSafetensors(
  tensors: TensorToWrite[],
  metadata?: Record<string, string>,
): Uint8Array<ArrayBuffer> {
  const { header, order, dataBytes } = planSafetensors(tensors, metadata);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let off = header.length;
  for (const t of order) {
    const b = tensorBytes(t);
    out.set(b, off);
    off += b.length;
  }
  return out;
}

/** Node only: stream header then each tensor into a temp file, fsync, rename onto `path` (util/atomic.ts). */
export async function writeSafetensors(
  path: string,
  tensors: TensorToWrite[],
  metadata?: Record<string, string>,
): Promise<void> {
  const { atomicWrite } = await import('../util/atomic.ts'); // Node path only
  const { header, order } = planSafetensors(tensors, metadata);
  await atomicWrite(path, async (sink) => {
    await sink.write(header);
    for (const t of order) await sink.write(tensorBytes(t));
  });
}
