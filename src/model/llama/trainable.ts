// Llama / Qwen3 set up for training (CausalLM.training): the f32 master weights the optimizer updates, gradients
// laid out like them, and the loss with its backward. Under fp16 the forward and backward read a compute copy whose
// matrices and vocabulary tables are packed f16 (refreshed from the master by synced()); RMSNorm weights are shared.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import type { BackwardOptions, Batch, ParamTensor, Trainable, TrainingOptions } from '../causal-lm.ts';
import { castF16 } from '../../ops/elementwise.ts';
import { LlamaForward } from './forward.ts';
import { LlamaGrads, lossAndBackward } from './backward.ts';
import { LlamaWeights } from './weights.ts';

export class LlamaTrainable implements Trainable {
  readonly params: readonly ParamTensor[];
  readonly grads: LlamaGrads;
  readonly fwd: LlamaForward;
  private readonly copies: { src: Tensor; dst: Tensor }[] = [];

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
    this.fwd = new LlamaForward(gpu, opts.fp16 ? this.f16Copy() : weights);
    this.params = weights.tensors();
    this.grads = new LlamaGrads(gpu, weights);
  }

  /** The compute copy: f16 matrices and vocabulary shards (same row ranges as the master), the master's norms. */
  private f16Copy(): LlamaWeights {
    const m = this.weights,
      w = new LlamaWeights(this.gpu, m.cfg, 'f16');
    const copy = (src: Tensor, label: string) => {
      const dst = this.gpu.tensor(src.numel, 'f16p', `weight16:${label}`);
      this.copies.push({ src, dst });
      return dst;
    };
    for (const [name, t] of m.params) w.params.set(name, w.kind(name) === 'f16p' ? copy(t, name) : t);
    for (const [name, list] of m.shards)
      w.shards.set(
        name,
        list.map((s) => ({ ...s, w: copy(s.w, `${name}[${s.lo}:${s.hi}]`) })),
      );
    this.synced();
    return w;
  }

  lossAndBackward(
    batch: Batch,
    labels: Int32Array,
    opts?: BackwardOptions,
  ): Promise<{ loss: number; nTokens: number }> {
    return lossAndBackward(this.fwd, batch, labels, this.grads, opts);
  }

  synced(): void {
    for (const { src, dst } of this.copies) castF16(this.gpu, src, dst);
  }

  destroy(): void {
    this.grads.destroy();
    for (const { dst } of this.copies) dst.destroy();
    this.copies.length = 0;
    this.fwd.destroy();
    this.onDestroy();
  }
}
