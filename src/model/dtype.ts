// 16-bit float <-> f32 conversion (IEEE half and bfloat16), bit-exact with PyTorch's CPU casts. The half
// conversions live with the f16 tensor packing in src/gpu/f16.ts (re-exported here); bfloat16 is a checkpoint
// format only. Works on raw bit patterns so NaN payloads and -0 survive. Assumes a little-endian host.
export { f16ArrayToF32, f16BitsToF32Bits, f16ToF32, f32ArrayToF16, f32BitsToF16Bits, f32ToF16 } from '../gpu/f16.ts';

/** bf16 nearest to an f32 bit pattern, round-to-nearest-even; NaN -> 0x7FC0 as torch's `.bfloat16()`. */
export function f32BitsToBf16Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16ArrayToF32(src: Uint16Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
  return out;
}

export function f32ArrayToBf16(src: Float32Array): Uint16Array<ArrayBuffer> {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToBf16Bits(bits[i]);
  return out;
}
