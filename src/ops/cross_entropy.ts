// cross_entropy.wgsl host side: per-chunk statistics, final log-probs, and the chunk's logits gradient.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import { grid, subgroupDefines } from './grid.ts';

function rowwise(gpu: Gpu, Vc: number, tensors: Tensor[]): boolean {
  // the ROWWISE kernels (one invocation per row, vec4, no barriers): SwiftShader's family by default
  if (!gpu.policy.crossEntropy.rowwise) return false;
  // array<vec4f> bindings need whole vec4s (16 bytes)
  return Vc % 4 === 0 && tensors.every((t) => t.byteLength % 16 === 0);
}

export function ceStats(
  gpu: Gpu,
  logits: Tensor,
  targets: Tensor,
  stats: Tensor,
  R: number,
  Vc: number,
  lo: number,
  first: boolean,
): void {
  const p = { R, Vc, lo, first: first ? 1 : 0, scale: 0 };
  if (rowwise(gpu, Vc, [logits]))
    gpu.run('cross_entropy', 'ce_stats', { logits, targets, stats }, p, [Math.ceil(R / 16)], { ROWWISE: true });
  else gpu.run('cross_entropy', 'ce_stats', { logits, targets, stats }, p, grid(R), subgroupDefines(gpu));
}
export function ceFinalize(gpu: Gpu, targets: Tensor, stats: Tensor, logprob: Tensor, R: number): void {
  gpu.run(
    'cross_entropy',
    'ce_finalize',
    { targets, stats, logprob },
    { R, Vc: 0, lo: 0, first: 0, scale: 0 },
    grid(Math.ceil(R / 64)),
  );
}
export function ceBackward(
  gpu: Gpu,
  logits: Tensor,
  targets: Tensor,
  stats: Tensor,
  dlogits: Tensor,
  R: number,
  Vc: number,
  lo: number,
  scale: number,
): void {
  const p = { R, Vc, lo, first: 0, scale };
  if (rowwise(gpu, Vc, [logits, dlogits]))
    gpu.run('cross_entropy', 'ce_backward', { logits, targets, stats, dlogits }, p, [Math.ceil(R / 16)], {
      ROWWISE: true,
    });
  else gpu.run('cross_entropy', 'ce_backward', { logits, targets, stats, dlogits }, p, grid(R));
}
