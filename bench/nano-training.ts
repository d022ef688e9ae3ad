// The set-up the training benches share: nano-bloomz with random f32 weights, in training form, and AdamW (lr 1e-5,
// gradients clipped at norm 1).
import type { Gpu } from '../src/gpu/runtime.ts';
import { Scope } from '../src/gpu/scope.ts';
import { bloomConfigFor } from '../src/model/bloom/config.ts';
import { BloomModel } from '../src/model/bloom/model.ts';
import { BloomWeights, randomBloomArrays } from '../src/model/bloom/weights.ts';
import { AdamW } from '../src/train/optimizer.ts';

export function nanoTraining(gpu: Gpu) {
  const cfg = bloomConfigFor('nano-bloomz');
  const lm = new BloomModel(gpu, BloomWeights.fromArrays(gpu, cfg, randomBloomArrays(cfg), 'f32'));
  const model = lm.training();
  const opt = new AdamW(new Scope(gpu), model.params, {
    lr: 1e-5,
    betas: [0.9, 0.999],
    eps: 1e-8,
    weightDecay: 0,
    maxGradNorm: 1,
  });
  return { cfg, model, opt };
}
