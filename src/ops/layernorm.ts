// layernorm.wgsl host side: forward saves (mean, rstd) per row for the backward.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

export function layernormForward(gpu: Gpu, x: Tensor, gamma: Tensor, beta: Tensor, y: Tensor, stats: Tensor, R: number, C: number, eps: number): void {
  gpu.run('layernorm', 'layernorm_forward', { x, gamma, beta, y, stats }, { R, C, eps, flags: 0 }, grid(R));
}

/** dx (= or +=) LN backward; dgamma/dbeta are accumulated (gradient accumulation across micro-batches). */
export function layernormBackward(gpu: Gpu, x: Tensor, gamma: Tensor, stats: Tensor, dy: Tensor, dx: Tensor,
  dgamma: Tensor, dbeta: Tensor, R: number, C: number, accumulateDx: boolean): void {
  gpu.run('layernorm', 'layernorm_backward', { x, gamma, stats, dy, dx }, { R, C, eps: 0, flags: accumulateDx ? 4 : 0 }, grid(R));
  gpu.run('layernorm', 'layernorm_param_grad', { x, stats, dy, dgamma, dbeta }, { R, C, eps: 0, flags: 2 }, grid(Math.ceil(C / 64)));
}
