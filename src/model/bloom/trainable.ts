// BLOOM set up for training (CausalLM.training; the bookkeeping in src/model/common/trainable.ts): BloomForward on the
// master or the f16 compute copy, --recompute, and BLOOM's loss step (backward.ts).
import type { BackwardOptions, Batch, TrainingOptions } from '../causal-lm.ts';
import type { BloomWeights } from './weights.ts';
import { BloomForward } from './forward.ts';
import { lossAndBackward } from './backward.ts';
import { TrainableModel } from '../common/trainable.ts';
import type { Gpu } from '../../gpu/runtime.ts';

export class BloomTrainable extends TrainableModel<BloomWeights, BloomForward> {
  constructor(gpu: Gpu, weights: BloomWeights, opts: TrainingOptions, onDestroy?: () => void) {
    const graph = (w: BloomWeights) => {
      const fwd = new BloomForward(gpu, w);
      fwd.recompute = opts.recompute ?? false;
      return fwd;
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
