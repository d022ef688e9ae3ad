// cross_entropy.wgsl host side: per-chunk statistics, final log-probs, and the chunk's logits gradient.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid } from './grid.ts';

export function ceStats(gpu: Gpu, logits: Tensor, targets: Tensor, stats: Tensor, R: number, Vc: number, lo: number, first: boolean): void {
  gpu.run('cross_entropy', 'ce_stats', { logits, targets, stats }, { R, Vc, lo, first: first ? 1 : 0, scale: 0 }, grid(R));
}
export function ceFinalize(gpu: Gpu, targets: Tensor, stats: Tensor, logprob: Tensor, R: number): void {
  gpu.run('cross_entropy', 'ce_finalize', { targets, stats, logprob }, { R, Vc: 0, lo: 0, first: 0, scale: 0 }, grid(Math.ceil(R / 64)));
}
export function ceBackward(gpu: Gpu, logits: Tensor, targets: Tensor, stats: Tensor, dlogits: Tensor, R: number, Vc: number, lo: number, scale: number): void {
  gpu.run('cross_entropy', 'ce_backward', { logits, targets, stats, dlogits }, { R, Vc, lo, first: 0, scale }, grid(R));
}
