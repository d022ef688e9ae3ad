// One switch for the kernel family of every op that has two (matmul, attention, LayerNorm, cross-entropy): `bench
// --family` and the tests that run the GPU kernels on SwiftShader.
import { matmulConfig } from './matmul.ts';
import { attentionConfig } from './attention.ts';
import { layernormConfig } from './layernorm.ts';
import { crossEntropyConfig } from './cross_entropy.ts';

/**
 * Runs every op's kernels of `family` whatever the adapter ('gpu': the tiled matmul and the workgroup-per-row
 * attention, LayerNorm and cross-entropy; 'swiftshader': the register-block matmul and the row-per-invocation
 * kernels). Returns a function that restores the previous settings.
 */
export function forceKernelFamily(family: 'gpu' | 'swiftshader'): () => void {
  const saved = {
    mm: matmulConfig.family,
    att: attentionConfig.rowwise,
    ln: layernormConfig.rowwise,
    ce: crossEntropyConfig.rowwise,
  };
  const rowwise = family === 'gpu' ? 'never' : 'always';
  matmulConfig.family = family;
  attentionConfig.rowwise = layernormConfig.rowwise = crossEntropyConfig.rowwise = rowwise;
  return () => {
    matmulConfig.family = saved.mm;
    attentionConfig.rowwise = saved.att;
    layernormConfig.rowwise = saved.ln;
    crossEntropyConfig.rowwise = saved.ce;
  };
}
