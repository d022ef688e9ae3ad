// GPT-2/BLOOM ByteLevel alphabet (HF tokenizers `bytes_char`) and the lossy UTF-8 decoder of its decoder.

/** byte -> code point of the char that stands for it in vocab strings. */
const BYTE_CHAR = new StaticArray<i32>(256);
/** code point (< 0x144) -> byte, or -1 where the char is not part of the alphabet. */
const CHAR_BYTE = new StaticArray<i32>(0x144);

function printable(b: i32): bool {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

// Printable bytes stand for themselves; the other 68, ascending, take U+0100, U+0101, ...
let nextChar = 0x100;
for (let c = 0; c < 0x144; c++) CHAR_BYTE[c] = -1;
for (let b = 0; b < 256; b++) {
  const c = printable(b) ? b : nextChar++;
  BYTE_CHAR[b] = c;
  CHAR_BYTE[c] = b;
}

export function byteChar(b: i32): i32 {
  return BYTE_CHAR[b & 255];
}

/** The byte a vocab char stands for, or -1 (then HF's decoder passes the whole token through as UTF-8). */
// @ts-ignore: decorator
@inline
export function charByte(c: i32): i32 {
  return c >= 0 && c < 0x144 ? unchecked(CHAR_BYTE[c]) : -1;
}

/** Writes code point `cp` as UTF-8 at `dst`; returns the byte count. */
export function putUtf8(dst: usize, cp: i32): usize {
  if (cp < 0x80) { store<u8>(dst, cp); return 1; }
  if (cp < 0x800) { store<u8>(dst, 0xc0 | (cp >> 6)); store<u8>(dst + 1, 0x80 | (cp & 63)); return 2; }
  if (cp < 0x10000) {
    store<u8>(dst, 0xe0 | (cp >> 12)); store<u8>(dst + 1, 0x80 | ((cp >> 6) & 63)); store<u8>(dst + 2, 0x80 | (cp & 63));
    return 3;
  }
  store<u8>(dst, 0xf0 | (cp >> 18)); store<u8>(dst + 1, 0x80 | ((cp >> 12) & 63));
  store<u8>(dst + 2, 0x80 | ((cp >> 6) & 63)); store<u8>(dst + 3, 0x80 | (cp & 63));
  return 4;
}

function putUtf16(dst: usize, n: usize, cp: i32): usize {
  if (cp < 0x10000) { store<u16>(dst + (n << 1), cp); return n + 1; }
  cp -= 0x10000;
  store<u16>(dst + (n << 1), 0xd800 | (cp >> 10));
  store<u16>(dst + (n << 1) + 2, 0xdc00 | (cp & 0x3ff));
  return n + 2;
}

/**
 * Lossy UTF-8 -> UTF-16 (WHATWG decoder = Rust's from_utf8_lossy): each maximal invalid subpart becomes
 * one U+FFFD. `dst` needs room for 2*n bytes. Returns the number of UTF-16 units written.
 */
export function utf8ToUtf16Lossy(src: usize, n: usize, dst: usize): usize {
  let i: usize = 0, k: usize = 0;
  while (i < n) {
    const b = <i32>load<u8>(src + i);
    if (b < 0x80) { store<u16>(dst + (k << 1), b); k++; i++; continue; }
    let need = 0, lo = 0x80, hi = 0xbf, cp = 0;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; cp = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; cp = b & 0xf; if (b == 0xe0) lo = 0xa0; if (b == 0xed) hi = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; cp = b & 7; if (b == 0xf0) lo = 0x90; if (b == 0xf4) hi = 0x8f; }
    else { k = putUtf16(dst, k, 0xfffd); i++; continue; }
    let j = i + 1, ok = true;
    for (let m = 0; m < need; m++, j++) {
      const c = j < n ? <i32>load<u8>(src + j) : -1;
      if (c < lo || c > hi) { ok = false; break; }
      cp = (cp << 6) | (c & 0x3f);
      lo = 0x80; hi = 0xbf;
    }
    // A failed sequence is replaced once; the byte that broke it is read again as a fresh start.
    k = putUtf16(dst, k, ok ? cp : 0xfffd);
    i = j;
  }
  return k;
}
