// Content hashes for fingerprints (eval folders, run identity): xxHash64 (xxhash-wasm, the same code in Node, browsers
// and workers), streamed in pieces so a multi-GB weight file is never held whole. xxHash64 is not a cryptographic
// hash: it detects changed files and texts (accidents, restores, edits), not a forger. Written "xxh64:<16 hex>".
import xxhash, { type XXHashAPI } from 'xxhash-wasm';

let api: Promise<XXHashAPI> | undefined;
/** The hash functions (the WebAssembly module is instantiated once, on first use). */
export function hashApi(): Promise<XXHashAPI> {
  api ??= xxhash();
  return api;
}

const hex = (h: bigint) => `xxh64:${h.toString(16).padStart(16, '0')}`;

/** The hash of a string (its UTF-8 bytes) or of bytes. */
export async function hashOf(data: string | Uint8Array): Promise<string> {
  const h = await hashApi();
  return hex(typeof data === 'string' ? h.h64(data) : h.h64Raw(data));
}

/** Bytes read piece by piece: a file (Node), a Blob (browser) or memory. */
export interface HashableSource {
  size: number;
  read(begin: number, end: number): Promise<Uint8Array>;
}

/** Streams `src` through the hash in pieces of `chunk` bytes (default 8 MiB). */
export async function hashSource(src: HashableSource, chunk = 8 << 20): Promise<string> {
  const h = (await hashApi()).create64();
  for (let at = 0; at < src.size; at += chunk) h.update(await src.read(at, Math.min(src.size, at + chunk)));
  return hex(h.digest());
}
