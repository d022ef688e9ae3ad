// Mixed-precision training (--fp16): AdamW updates the f32 master weights; the forward and backward read a compute
// copy whose matrices are packed f16 (the matmul's B_F16 path), refreshed from the master on the GPU after each step.
// LayerNorm parameters and biases stay f32 in both, so the copy shares those tensors with the master.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import { BloomWeights } from './weights.ts';
import { castF16 } from '../../ops/elementwise.ts';

export class F16ComputeWeights {
  /** the weights BloomForward reads: f16 matrices, the master's f32 LayerNorms and biases */
  readonly w: BloomWeights;
  private pairs: { src: Tensor; dst: Tensor }[] = [];

  constructor(
    readonly gpu: Gpu,
    readonly master: BloomWeights,
  ) {
    if (master.dtype !== 'f32' || master.int8w.size)
      throw new Error(`--fp16 needs f32 master weights (got ${master.dtype}${master.int8w.size ? ', int8' : ''})`);
    const w = (this.w = new BloomWeights(gpu, master.cfg, 'f16'));
    for (const [name, t] of master.params) {
      if (w.kind(name) === 'f16p') {
        const dst = gpu.tensor(t.numel, 'f16p', `weight16:${name}`);
        this.pairs.push({ src: t, dst });
        w.params.set(name, dst);
      } else w.params.set(name, t);
    }
    // the same vocabulary shards as the master, so that BloomGrads (built on the master) lines up with the head chunks
    for (const s of master.emb) {
      const dst = gpu.tensor(s.w.numel, 'f16p', `weight16:word_embeddings[${s.lo}:${s.hi}]`);
      this.pairs.push({ src: s.w, dst });
      w.emb.push({ w: dst, lo: s.lo, hi: s.hi });
    }
    this.sync();
  }

  /** compute copy ← f16(master); call after every optimizer step that changed the master */
  sync(): void {
    for (const { src, dst } of this.pairs) castF16(this.gpu, src, dst);
  }

  /** Frees the f16 copies only (shared tensors belong to the master). */
  destroy(): void {
    for (const { dst } of this.pairs) dst.destroy();
    this.pairs = [];
    this.w.params.clear();
    this.w.emb.length = 0;
  }
}
