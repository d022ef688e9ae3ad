// BLOOM's pre-tokenizer, by hand (docs/tokenizer.md): Split(Regex(" ?[^(\s|[.,!?…。，、।۔،])]+"), Isolated).
// Oniguruma reads the bracket as ONE negated class, so a match is an optional U+0020 and then a run of
// "word" code points (none of: \s, ( ) |, . , ! ?, … 。 ， 、 । ۔ ،); every gap between matches is a piece too.
import { Buf } from './buf';

/** Oniguruma's Unicode \s (White_Space: U+0009–000D, U+0085, Zs, Zl, Zp). */
export function isSpace(c: i32): bool {
  if (c < 0x80) return c == 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x1680) return c == 0x85 || c == 0xa0;
  return c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
    c == 0x202f || c == 0x205f || c == 0x3000;
}

/** True for code points the regex's class accepts. */
export function isWord(c: i32): bool {
  if (isSpace(c)) return false;
  switch (c) {
    case 0x28: case 0x29: case 0x7c:                 // ( ) |  (read as members of the class, not grouping)
    case 0x2e: case 0x2c: case 0x21: case 0x3f:      // . , ! ?
    case 0x2026: case 0x3002: case 0xff0c: case 0x3001: // … 。 ， 、
    case 0x0964: case 0x06d4: case 0x060c:           // । ۔ ،
      return false;
  }
  return true;
}

// ASCII is most text: one table lookup instead of the branches above.
const ASCII_WORD = new StaticArray<u8>(128);
for (let c = 0; c < 128; c++) ASCII_WORD[c] = isWord(c) ? 1 : 0;

/** Decodes the (valid, from TextEncoder) UTF-8 code point at p: returns cp | (byteLength << 24). */
// @ts-ignore: decorator
@inline function decodeAt(p: usize): i32 {
  const b = <i32>load<u8>(p);
  if (b < 0x80) return b | (1 << 24);
  if (b < 0xe0) return (((b & 0x1f) << 6) | (load<u8>(p + 1) & 0x3f)) | (2 << 24);
  if (b < 0xf0) return (((b & 0xf) << 12) | ((load<u8>(p + 1) & 0x3f) << 6) | (load<u8>(p + 2) & 0x3f)) | (3 << 24);
  return (((b & 7) << 18) | ((load<u8>(p + 1) & 0x3f) << 12) | ((load<u8>(p + 2) & 0x3f) << 6) | (load<u8>(p + 3) & 0x3f)) | (4 << 24);
}

/** Byte length of the code point at p if it is a word char, else 0. */
// @ts-ignore: decorator
@inline function wordLen(p: usize): i32 {
  const b = <i32>load<u8>(p);
  if (b < 0x80) return <i32>unchecked(ASCII_WORD[b]);
  const d = decodeAt(p);
  return isWord(d & 0xffffff) ? d >>> 24 : 0;
}

/**
 * Splits bytes [s, e) of `base` into pieces, appending (start, end) i32 pairs to `out` after the first
 * `n` pairs; returns the new pair count. Leftmost-first search: a match starts at the first word char,
 * or at the U+0020 right before it.
 */
export function splitPieces(base: usize, s: i32, e: i32, out: Buf, n: i32): i32 {
  let gap = s, i = s;
  while (i < e) {
    let w = wordLen(base + i);
    if (w == 0) { i += (decodeAt(base + i) >>> 24); continue; }
    // The previous match ended on a word char, so a space just before i can only be in the gap.
    const start = i > gap && load<u8>(base + i - 1) == 0x20 ? i - 1 : i;
    let j = i + w;
    while (j < e && (w = wordLen(base + j)) != 0) j += w;
    if (start > gap) n = push(out, n, gap, start);
    n = push(out, n, start, j);
    gap = i = j;
  }
  if (gap < e) n = push(out, n, gap, e);
  return n;
}

function push(out: Buf, n: i32, a: i32, b: i32): i32 {
  const p = out.ensure(<usize>(n + 1) << 3) + (<usize>n << 3);
  store<i32>(p, a);
  store<i32>(p, b, 4);
  return n + 1;
}
