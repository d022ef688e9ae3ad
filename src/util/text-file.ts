// Reading a data file as UTF-8 text, refusing what would silently become U+FFFD: Node's 'utf8' decoding replaces
// invalid bytes (a Latin-1 "é", a UTF-16 file) without a word, and those texts were then scored or trained on.
import { readFileSync } from 'node:fs';

/** Offset of the first byte that is not part of a valid UTF-8 sequence, or -1. */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n >= b.length + (n ? 0 : 1)) return i;
    for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i;
    // overlong 3/4-byte forms, UTF-16 surrogates and code points past U+10FFFF
    if (n === 2 && ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] >= 0xa0))) return i;
    if (n === 3 && ((c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] >= 0x90))) return i;
    i += n + 1;
  }
  return -1;
}

/** The file's text (a UTF-8 BOM is kept for the parsers, which skip it); other encodings are an error. */
export function readUtf8File(path: string): string {
  const bytes = readFileSync(path);
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    throw new Error(`${path}: a UTF-16 file; re-save it as UTF-8`);
  const bad = invalidUtf8At(bytes);
  if (bad >= 0) {
    let line = 1;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) line++;
    throw new Error(
      `${path}:${line}: byte 0x${bytes[bad].toString(16).padStart(2, '0')} at offset ${bad} is not valid UTF-8 ` +
        '(a Latin-1 or Windows-1252 file?); re-save it as UTF-8',
    );
  }
  return bytes.toString('utf8');
}
