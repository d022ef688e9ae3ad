// swiglu.wgsl host side: h = silu(g)·u elementwise, and its backward.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

const wg = (n: number) => grid(Math.ceil(n / 256));

/** h = silu(g)·u for n elements. */
export function swigluForward(gpu: Gpu, g: Tensor, u: Tensor, h: Tensor, n = h.numel): void {
  gpu.run('swiglu', 'swiglu_forward', { g, u, h }, { n, flags: 0 }, wg(n));
}

/** dg = dh·u·silu'(g), du = dh·silu(g) (both overwritten). */
export function swigluBackward(gpu: Gpu, g: Tensor, u: Tensor, dh: Tensor, dg: Tensor, du: Tensor, n = dh.numel): void {
  gpu.run('swiglu', 'swiglu_backward', { g, u, dh, dg, du }, { n, flags: 0 }, wg(n));
}
