// Llama / Qwen3 set up for training (CausalLM.training; the bookkeeping in src/model/common/trainable.ts): LlamaForward
// on the master or the f16 compute copy (RMSNorm weights shared), and this family's loss step (backward.ts).
import type { Gpu } from '../../gpu/runtime.ts';
import type { BackwardOptions, Batch, TrainingOptions } from '../causal-lm.ts';
import { TrainableModel } from '../common/trainable.ts';
import { LlamaForward } from './forward.ts';
import { lossAndBackward } from './backward.ts';
import type { LlamaWeights } from './weights.ts';

export class LlamaTrainable extends TrainableModel<LlamaWeights, LlamaForward> {
  constructor(gpu: Gpu, weights: LlamaWeights, opts: TrainingOptions, onDestroy?: () => void) {
    const graph = (w: LlamaWeights) => {
      if (opts.recompute) throw new Error(`--recompute is not implemented for ${weights.cfg.modelType} models`);
      return new LlamaForward(gpu, w);
    };
    super(gpu, weights, opts, graph, onDestroy);
  }

  lossAndBackward(
    batch: Batch,
    labels: Int32Array,
    opts?: BackwardOptions,
  ): Promise<{ loss: number; nTokens: number }> {
    return lossAndBackward(this.fwd, batch, labels, this.grads, opts);
  }
}
