// A loaded Llama / Qwen3 model as the seam's CausalLM (src/model/causal-lm.ts): DecoderModel
// (src/model/common/model.ts) with this family's graph: embedding → blocks (rotary positions follow the mask) → the
// final RMSNorm. Training through LlamaTrainable.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import type { PolicyOverrides } from '../../gpu/policy.ts';
import type { Batch, TrainingOptions } from '../causal-lm.ts';
import { DecoderModel, freeBlockScratch, type LayerCache, type Rows, type Run } from '../common/model.ts';
import { embeddingForward } from '../../ops/embedding.ts';
import { ropePositions } from '../../ops/rope.ts';
import { llamaParameters } from './config.ts';
import { LlamaForward } from './forward.ts';
import { LlamaTrainable } from './trainable.ts';
import type { LlamaWeights } from './weights.ts';

export class LlamaModel extends DecoderModel<LlamaWeights, LlamaForward, LlamaTrainable> {
  constructor(gpu: Gpu, weights: LlamaWeights, owner = true) {
    super(gpu, weights, new LlamaForward(gpu, weights), owner);
  }
  /** one position of one layer's cache: q, k and v packed per query head (key/value heads repeated), f32 */
  get cacheRowBytes(): number {
    return 3 * this.config.nHead * this.config.headDim * 4;
  }
  protected parameterTable() {
    return llamaParameters(this.config);
  }
  withPolicy(overrides: PolicyOverrides): LlamaModel {
    return new LlamaModel(this.gpu.withPolicy(overrides), this.weights, false);
  }
  protected makeTrainable(opts: TrainingOptions, onDestroy: () => void): LlamaTrainable {
    return new LlamaTrainable(this.gpu, this.weights, opts, onDestroy);
  }

  protected async runForward(b: Batch, hidden: Float32Array[] | null): Promise<Run> {
    if (hidden) throw new Error(`forward: hidden states are not implemented for ${this.config.modelType}`);
    const acts = this.fwd.run(b, false);
    return { x: acts.hf, free: () => this.fwd.freeActs(acts) };
  }

  protected finalNorm(x: Tensor, R: number): Run {
    const { hf, hfS } = this.fwd.finalNorm(x, R);
    return { x: hf, free: () => [hf, hfS].forEach((t) => t.destroy()) };
  }

  protected cachedBlocks(cache: LayerCache, ids: Tensor, keyinfo: Tensor, mask: Int32Array, s: Rows): Run {
    const g = this.gpu,
      c = this.config,
      H = c.hiddenSize,
      R = s.B * s.Tq;
    const pos = g.fromU32(ropePositions(mask, s.B, s.Tk, s.q0, s.Tq), 'gen:positions');
    let x = g.tensor(R * H, 'f32', 'gen:x'),
      out = g.tensor(R * H, 'f32', 'gen:out');
    embeddingForward(g, ids, this.weights.emb, x, R, H);
    const a = this.fwd.blockActs(R, { ...s, Tmax: 1 }, 'gen', x, 'none'); // its own qkv unused: the cache's
    for (let l = 0; l < c.nLayer; l++) {
      this.fwd.block(l, x, a, out, s, keyinfo, pos, cache.qkv[l]);
      [x, out] = [out, x];
    }
    return {
      x,
      free: () => {
        freeBlockScratch(a);
        [pos, x, out].forEach((t) => t.destroy());
      },
    };
  }
}
