// A loaded BLOOM model as the seam's CausalLM (src/model/causal-lm.ts): DecoderModel (src/model/common/model.ts)
// with BLOOM's graph: embeddings → word_embeddings_layernorm → blocks (ALiBi positions follow the mask) → ln_f.
// Training lives in trainable.ts / backward.ts.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import type { PolicyOverrides } from '../../gpu/policy.ts';
import { bloomParameters } from './config.ts';
import type { BloomWeights } from './weights.ts';
import { BloomForward } from './forward.ts';
import { BloomTrainable } from './trainable.ts';
import { fp16, type Batch, type TrainingOptions } from '../causal-lm.ts';
import { DecoderModel, freeBlockScratch, type LayerCache, type Rows, type Run } from '../common/model.ts';
import { layernormForward } from '../../ops/layernorm.ts';
import { embeddingForward } from '../../ops/embedding.ts';

export class BloomModel extends DecoderModel<BloomWeights, BloomForward, BloomTrainable> {
  constructor(gpu: Gpu, weights: BloomWeights, owner = true) {
    super(gpu, weights, new BloomForward(gpu, weights), owner);
  }
  /** one position of one layer's cache: its fused q, k and v rows (f32) */
  get cacheRowBytes(): number {
    return 3 * this.config.hiddenSize * 4;
  }
  protected parameterTable() {
    return bloomParameters(this.config);
  }
  withPolicy(overrides: PolicyOverrides): BloomModel {
    return new BloomModel(this.gpu.withPolicy(overrides), this.weights, false);
  }
  protected makeTrainable(opts: TrainingOptions, onDestroy: () => void): BloomTrainable {
    return new BloomTrainable(this.gpu, this.weights, opts, onDestroy);
  }

  protected async runForward(b: Batch, hidden: Float32Array[] | null): Promise<Run> {
    const acts = await this.fwd.run(b, false, hidden);
    return { x: acts.lnf, free: () => this.fwd.freeActs(acts) };
  }

  protected finalNorm(x: Tensor, R: number): Run {
    const g = this.gpu,
      H = this.config.hiddenSize;
    const lnf = g.tensor(R * H, 'f32', 'gen:lnf'),
      st = g.tensor(R * 2, 'f32', 'gen:lnfstats');
    const w = this.weights;
    const eps = this.config.layerNormEpsilon;
    layernormForward(g, x, w.get('ln_f.weight'), w.get('ln_f.bias'), lnf, st, R, H, eps, fp16(this.fwd));
    return { x: lnf, free: () => [lnf, st].forEach((t) => t.destroy()) };
  }

  protected cachedBlocks(cache: LayerCache, ids: Tensor, keyinfo: Tensor, _mask: Int32Array, s: Rows): Run {
    const g = this.gpu,
      cfg = this.config,
      H = cfg.hiddenSize,
      R = s.B * s.Tq,
      w = this.weights;
    const emb = g.tensor(R * H, 'f32', 'gen:emb');
    let x = g.tensor(R * H, 'f32', 'gen:x');
    const st = g.tensor(R * 2, 'f32', 'gen:lnstats');
    embeddingForward(g, ids, w.emb, emb, R, H);
    const [lnW, lnB] = ['weight', 'bias'].map((k) => w.get(`word_embeddings_layernorm.${k}`));
    layernormForward(g, emb, lnW, lnB, x, st, R, H, cfg.layerNormEpsilon, fp16(this.fwd));
    const a = this.fwd.blockActs(R, s.B, s.Tq, s.Tk, 'gen', x);
    let out = g.tensor(R * H, 'f32', 'gen:out');
    for (let l = 0; l < cfg.nLayer; l++) {
      this.fwd.block(l, x, a, out, s, keyinfo, cache.qkv[l], true);
      [x, out] = [out, x];
    }
    return {
      x,
      free: () => {
        freeBlockScratch(a);
        [emb, x, out, st].forEach((t) => t.destroy());
      },
    };
  }
}
