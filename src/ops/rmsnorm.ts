// rmsnorm.wgsl host side: the forward saves rstd per row for the backward.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

/** y = x·rsqrt(mean(x²) + eps)·γ over rows of C; rstd [R] is saved for rmsnormBackward. */
export function rmsnormForward(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  y: Tensor,
  rstd: Tensor,
  R: number,
  C: number,
  eps: number,
): void {
  gpu.run('rmsnorm', 'rmsnorm_forward', { x, gamma, y, rstd }, { R, C, eps, flags: 0 }, grid(R));
}

/** dx (= or += with accumulateDx) of the RMSNorm backward; dgamma is accumulated (across micro-batches). */
export function rmsnormBackward(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  rstd: Tensor,
  dy: Tensor,
  dx: Tensor,
  dgamma: Tensor,
  R: number,
  C: number,
  accumulateDx: boolean,
): void {
  const p = { R, C, eps: 0, flags: accumulateDx ? 4 : 0 };
  gpu.run('rmsnorm', 'rmsnorm_backward', { x, gamma, rstd, dy, dx }, p, grid(R));
  gpu.run('rmsnorm', 'rmsnorm_param_grad', { x, rstd, dy, dgamma }, { ...p, flags: 2 }, grid(Math.ceil(C / 64)));
}
