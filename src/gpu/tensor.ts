// Tensors: labelled ranges of GPU buffers with an element type; a view shares its parent's buffer.
import type { Gpu } from './runtime.ts';

/** f32: float32; f16p: f16 values packed two per u32 (element i lives in word i>>1, half i&1); u32/i32: 32-bit ints */
export type TDType = 'f32' | 'f16p' | 'u32' | 'i32';

export class Tensor {
  constructor(
    readonly gpu: Gpu,
    readonly buffer: GPUBuffer,
    readonly numel: number,
    readonly dtype: TDType,
    readonly label: string,
    readonly byteOffset = 0,
    private owned = true,
  ) {}
  get byteLength(): number {
    return bytesFor(this.dtype, this.numel);
  }
  /** a view of `numel` elements starting at element `start` (offset must respect storage alignment) */
  view(start: number, numel: number, label = this.label): Tensor {
    if (start + numel > this.numel)
      throw new Error(`view [${start}, ${start + numel}) outside tensor ${this.label} of ${this.numel} elements`);
    return new Tensor(
      this.gpu,
      this.buffer,
      numel,
      this.dtype,
      label,
      this.byteOffset + bytesFor(this.dtype, start),
      false,
    );
  }
  destroy(): void {
    if (!this.owned) return;
    this.owned = false;
    this.gpu.release(this);
  }
}

export function bytesFor(dtype: TDType, numel: number): number {
  return dtype === 'f16p' ? Math.ceil(numel / 2) * 4 : numel * 4;
}
