// rmsnorm.wgsl host side: the forward saves rstd per row for the backward.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid, subgroupDefines } from './grid.ts';
import { f16NormDefines } from './layernorm.ts';

/**
 * y = x·rsqrt(mean(x²) + eps)·γ over rows of C; rstd [R] is saved for rmsnormBackward. `f16` (an f16 model) selects
 * the F16 kernel where the policy has layernorm.f16: x̂ rounded to f16 times f16 γ, as HF's f16 RMSNorm.
 */
export function rmsnormForward(
  gpu: Gpu,
  x: Tensor,
  gamma: Tensor,
  y: Tensor,
  rstd: Tensor,
  R: number,
  C: number,
  eps: number,
  f16 = false,
): void {
  const d = { ...subgroupDefines(gpu), ...f16NormDefines(gpu, f16) };
  gpu.run('rmsnorm', 'rmsnorm_forward', { x, gamma, y, rstd }, { R, C, eps, flags: 0 }, grid(R), d);
}

/**
 * dx (= or += with accumulateDx) of the RMSNorm backward; dgamma is accumulated (across micro-batches). With `f16`
 * (and the policy's layernorm.f16) dx is f16 arithmetic on an f32 row sum; dγ stays an f32 sum.
 */
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
  f16 = false,
): void {
  const p = { R, C, eps: 0, flags: accumulateDx ? 4 : 0 };
  const d = { ...subgroupDefines(gpu), ...f16NormDefines(gpu, f16) };
  gpu.run('rmsnorm', 'rmsnorm_backward', { x, gamma, rstd, dy, dx }, p, grid(R), d);
  gpu.run('rmsnorm', 'rmsnorm_param_grad', { x, rstd, dy, dgamma }, { ...p, flags: 2 }, grid(Math.ceil(C / 64)));
}
