// BLOOM set up for training (CausalLM.training): the f32 master weights the optimizer updates, gradients laid out like
// them, and the forward (on the f16 compute copy under fp16) whose loss and backward fill them.
import type { BackwardOptions, Batch, TrainingOptions, Trainable, ParamTensor } from '../causal-lm.ts';
import type { BloomWeights } from './weights.ts';
import type { F16Copy } from '../common/weights.ts';
import { BloomForward } from './forward.ts';
import { lossAndBackward } from './backward.ts';
import { Grads } from '../common/backward.ts';
import type { Gpu } from '../../gpu/runtime.ts';

export class BloomTrainable implements Trainable {
  readonly params: readonly ParamTensor[];
  readonly grads: Grads;
  readonly fwd: BloomForward;
  private readonly compute: F16Copy<BloomWeights> | null;

  constructor(
    gpu: Gpu,
    readonly weights: BloomWeights,
    opts: TrainingOptions,
    private readonly onDestroy: () => void = () => {},
  ) {
    if (weights.dtype !== 'f32' || weights.int8w.size)
      throw new Error(
        `training needs f32 weights; this model is loaded as ${weights.int8w.size ? 'int8' : weights.dtype}: ` +
          'reload it with f32 weights',
      );
    // --fp16: forward/backward read the f16 compute copy; the optimizer and checkpoints use the f32 master
    this.compute = opts.fp16 ? weights.f16Copy() : null;
    this.fwd = new BloomForward(gpu, this.compute ? this.compute.w : weights);
    this.fwd.recompute = opts.recompute ?? false;
    this.params = weights.tensors();
    this.grads = new Grads(gpu, weights);
  }

  lossAndBackward(
    batch: Batch,
    labels: Int32Array,
    opts?: BackwardOptions,
  ): Promise<{ loss: number; nTokens: number }> {
    return lossAndBackward(this.fwd, batch, labels, this.grads, opts);
  }

  synced(): void {
    this.compute?.sync();
  }

  destroy(): void {
    this.grads.destroy();
    this.compute?.destroy();
    this.fwd.destroy();
    this.onDestroy();
  }
}
