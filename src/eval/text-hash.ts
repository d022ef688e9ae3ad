// A short, browser-safe identity for an example's text: 64-bit FNV-1a of its UTF-8 bytes, 16 hex digits. It lets
// `compare` and `merge` tell the same example (same id AND same text) from a changed one; it is not a security hash.
const PRIME = 0x100000001b3n,
  MASK = (1n << 64n) - 1n;

export function textHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) h = ((h ^ BigInt(b)) * PRIME) & MASK;
  return h.toString(16).padStart(16, '0');
}
