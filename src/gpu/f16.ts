// IEEE half <-> f32 conversion and the packing of f16 tensors (two halves per u32), bit-exact with PyTorch's CPU
// casts. Works on raw bit patterns (Uint16Array / Uint32Array views) so NaN payloads and -0 survive: a JS number
// read from a Float32Array may have its NaN canonicalized, a Uint32 never is. Assumes a little-endian host (every
// WebGPU platform is), so a typed-array view of f16 bytes is the packed tensor itself.

let f16Table: Uint32Array | undefined;

/** f32 bit pattern of one IEEE half bit pattern (exact: every half is representable in f32). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / NaN, payload kept
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  // Subnormal half: normalize the mantissa into an f32 exponent.
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

/** Half bit pattern nearest to an f32 bit pattern: round-to-nearest-even, overflow -> inf, NaN -> sign|0x7E00
 *  (what torch `.half()` gives). */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | (mant !== 0 ? 0x7e00 : 0x7c00);
  if (exp > 142) return sign | 0x7c00; // |x| >= 2^16: beyond half range
  if (exp >= 113) {
    // Normal half; adding the carry to the packed bits rolls over into the exponent (and into inf) correctly.
    const packed = ((exp - 112) << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    const up = rem > 0x1000 || (rem === 0x1000 && (packed & 1) === 1);
    return sign | (packed + (up ? 1 : 0));
  }
  // Subnormal half (unit 2^-24): value = m24 * 2^(exp-150) = (m24 >> shift) units.
  const shift = 126 - exp;
  if (exp === 0 || shift > 24) return sign; // below half of the smallest subnormal
  const m24 = mant | 0x800000;
  let h = m24 >>> shift;
  const rem = m24 & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && (h & 1) === 1)) h++;
  return sign | h;
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** Number conveniences for tests and scalars (NaN payloads are not guaranteed through a JS number). */
export function f16ToF32(h: number): number {
  scratchBits[0] = f16BitsToF32Bits(h);
  return scratch[0];
}
export function f32ToF16(f: number): number {
  scratch[0] = f;
  return f32BitsToF16Bits(scratchBits[0]);
}

/** Whole-array f16 -> f32 through a 64 K-entry table (256 KB, built on first use). */
export function f16ArrayToF32(src: Uint16Array): Float32Array<ArrayBuffer> {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  const t = f16Table;
  for (let i = 0; i < src.length; i++) bits[i] = t[src[i]];
  return out;
}

export function f32ArrayToF16(src: Float32Array): Uint16Array<ArrayBuffer> {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}
