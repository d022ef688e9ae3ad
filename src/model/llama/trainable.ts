// Llama / Qwen3 set up for training (CausalLM.training): the f32 master weights the optimizer updates, gradients
// laid out like them, and the loss with its backward. Under fp16 the forward and backward read a compute copy whose
// matrices and vocabulary tables are packed f16 (refreshed from the master by synced()); RMSNorm weights are shared.
import type { Gpu } from '../../gpu/runtime.ts';
import type { BackwardOptions, Batch, ParamTensor, Trainable, TrainingOptions } from '../causal-lm.ts';
import { LlamaForward } from './forward.ts';
import { lossAndBackward } from './backward.ts';
import { Grads } from '../common/backward.ts';
import type { LlamaWeights } from './weights.ts';
import type { F16Copy } from '../common/weights.ts';

export class LlamaTrainable implements Trainable {
  readonly params: readonly ParamTensor[];
  readonly grads: Grads;
  readonly fwd: LlamaForward;
  private readonly compute: F16Copy<LlamaWeights> | null;

  constructor(
    readonly gpu: Gpu,
    readonly weights: LlamaWeights,
    opts: TrainingOptions,
    private readonly onDestroy: () => void = () => {},
  ) {
    if (weights.dtype !== 'f32' || weights.int8w.size)
      throw new Error(
        `training needs f32 weights; this model is loaded as ${weights.int8w.size ? 'int8' : weights.dtype}: ` +
          'reload it with f32 weights',
      );
    if (opts.recompute) throw new Error(`--recompute is not implemented for ${weights.cfg.modelType} models`);
    this.compute = opts.fp16 ? weights.f16Copy() : null;
    this.fwd = new LlamaForward(gpu, this.compute ? this.compute.w : weights);
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
