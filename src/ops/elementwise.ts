// elementwise.wgsl host side.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

const wg = (n: number) => grid(Math.ceil(n / 256));

export function addInPlace(gpu: Gpu, out: Tensor, a: Tensor, n = out.numel): void {
  gpu.run('elementwise', 'add_inplace', { a, out }, { n, alpha: 0, flags: 0 }, wg(n));
}
const geluDefines = (gpu: Gpu, f16: boolean): { F16?: true } => (f16 && gpu.policy.gelu.f16 ? { F16: true } : {});

/** GELU; `f16` (an f16 model) selects f16 arithmetic where the policy has gelu.f16 (shader-f16 devices). */
export function geluForward(gpu: Gpu, x: Tensor, out: Tensor, n = out.numel, f16 = false): void {
  const d = geluDefines(gpu, f16);
  gpu.run('elementwise', 'gelu_forward', { a: x, out }, { n, alpha: 0, flags: 0 }, wg(n), d);
}
/** dx (= or +=) gelu'(x)·dy; with `f16` (and the policy's gelu.f16) gelu'(x) in f16 arithmetic, the product in f32. */
export function geluBackward(
  gpu: Gpu,
  x: Tensor,
  dy: Tensor,
  dx: Tensor,
  n = dx.numel,
  accumulate = false,
  f16 = false,
): void {
  const p = { n, alpha: 0, flags: accumulate ? 2 : 0 };
  gpu.run('elementwise', 'gelu_backward', { a: x, b: dy, out: dx }, p, wg(n), geluDefines(gpu, f16));
}
export function fill(gpu: Gpu, out: Tensor, value: number, n = out.numel): void {
  gpu.run('elementwise', 'fill', { out }, { n, alpha: value, flags: 0 }, wg(n));
}
/** out (f16p) = f16(a) for n f32 elements: refreshes a mixed-precision compute copy from its master weight. */
export function castF16(gpu: Gpu, a: Tensor, out: Tensor, n = a.numel): void {
  if (a.dtype !== 'f32' || out.dtype !== 'f16p' || out.numel < n)
    throw new Error(
      `castF16: ${a.label} (${a.dtype}) → ${out.label} (${out.dtype}, ${out.numel}) needs f32 → f16p with ≥ ${n} elements`,
    );
  gpu.run('elementwise', 'cast_f16', { a, packed: out }, { n, alpha: 0, flags: 0 }, wg(Math.ceil(n / 2)));
}
