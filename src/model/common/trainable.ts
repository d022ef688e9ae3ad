// A model set up for training (CausalLM.training), whatever the family: the f32 master weights the optimizer updates,
// gradients laid out like them, and the family's forward graph on the master or, under --fp16, on its f16 compute
// copy (refreshed by synced()). The family supplies its graph and its loss step (backward.ts).
import type { Gpu } from '../../gpu/runtime.ts';
import type { BackwardOptions, Batch, ParamTensor, Trainable, TrainingOptions } from '../causal-lm.ts';
import { Grads } from './backward.ts';
import type { F16Copy, Weights } from './weights.ts';

export abstract class TrainableModel<W extends Weights, F extends { destroy(): void }> implements Trainable {
  readonly params: readonly ParamTensor[];
  readonly grads: Grads;
  /** the forward graph the loss runs: on the master weights, or on the f16 compute copy under fp16 */
  readonly fwd: F;
  private readonly compute: F16Copy<W> | null;

  /** `graph` builds the family's forward on the weights it is given; `onDestroy` tells the model it is freed */
  constructor(
    gpu: Gpu,
    readonly weights: W,
    opts: TrainingOptions,
    graph: (w: W) => F,
    private readonly onDestroy: () => void = () => {},
  ) {
    if (weights.dtype !== 'f32' || weights.int8w.size)
      throw new Error(
        `training needs f32 weights; this model is loaded as ${weights.int8w.size ? 'int8' : weights.dtype}: ` +
          'reload it with f32 weights',
      );
    this.compute = opts.fp16 ? weights.f16Copy() : null;
    try {
      this.fwd = graph(this.compute ? this.compute.w : weights);
    } catch (e) {
      this.compute?.destroy();
      throw e;
    }
    this.params = weights.tensors();
    this.grads = new Grads(gpu, weights);
  }

  abstract lossAndBackward(
    batch: Batch,
    labels: Int32Array,
    opts?: BackwardOptions,
  ): Promise<{ loss: number; nTokens: number }>;

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
