// The LM head of every family, written once: logits = x · Wᵀ over the vocabulary in chunks (each inside one row shard
// of W and under a byte cap), folded into log-softmax statistics (cross_entropy.wgsl) so the full [R, V] logits never
// exist unless asked for; and its backward: d(x) and dW from the same chunks. W is the embedding (tied) or lm_head.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import { matmul } from '../../ops/matmul.ts';
import { ceBackward, ceFinalize, ceStats } from '../../ops/cross_entropy.ts';
import { fill } from '../../ops/elementwise.ts';
import type { Shard } from './weights.ts';

/** One vocabulary chunk [lo, hi) of the LM head, inside its row shard `shard`. */
export interface HeadChunk {
  shard: number;
  lo: number;
  hi: number;
}

export class LmHead {
  /** `shards`: W's row shards (read at each call: a graph's weights may be reloaded) */
  constructor(
    readonly gpu: Gpu,
    private readonly shards: () => readonly Shard[],
    readonly H: number,
  ) {}

  /** Vocabulary chunks [lo, hi), each inside one shard and under `maxBytes` of logits. */
  *chunks(R: number, maxBytes = 64 * 1024 * 1024): Generator<HeadChunk> {
    const cols = Math.max(64, Math.floor(Math.min(maxBytes, this.gpu.maxBinding) / (R * 4)));
    const head = this.shards();
    for (let s = 0; s < head.length; s++)
      for (let lo = head[s].lo; lo < head[s].hi; lo += cols)
        yield { shard: s, lo, hi: Math.min(head[s].hi, lo + cols) };
  }

  /** logits[:, lo:hi] = x · W[lo:hi]ᵀ into `out` ([R, hi − lo]). */
  chunk(x: Tensor, R: number, c: HeadChunk, out: Tensor): void {
    const sh = this.shards()[c.shard],
      H = this.H;
    matmul(this.gpu, {
      a: x,
      b: sh.w,
      c: out,
      M: R,
      N: c.hi - c.lo,
      K: H,
      aSm: H,
      aSk: 1,
      bSk: 1,
      bSn: H,
      cSm: c.hi - c.lo,
      bOff: (c.lo - sh.lo) * H,
    });
  }

  /**
   * log p(target) per row over the whole vocabulary; stats [R,3] are kept for a backward pass. With `keep`, when the
   * whole vocabulary is one chunk, that chunk's logits [R, V] are returned (the caller owns them) so that a backward
   * need not compute them again; else null.
   */
  logprobs(
    x: Tensor,
    targets: Tensor,
    R: number,
    stats: Tensor,
    logprob: Tensor,
    onChunk?: (c: HeadChunk, logits: Tensor) => void,
    keep = false,
  ): Tensor | null {
    let first = true,
      kept: Tensor | null = null;
    const chunks = [...this.chunks(R)];
    for (const c of chunks) {
      const logits = this.gpu.tensor(R * (c.hi - c.lo), 'f32', `logits[${c.lo}:${c.hi}]`);
      this.chunk(x, R, c, logits);
      ceStats(this.gpu, logits, targets, stats, R, c.hi - c.lo, c.lo, first);
      onChunk?.(c, logits);
      if (keep && chunks.length === 1) kept = logits;
      else logits.destroy();
      first = false;
    }
    ceFinalize(this.gpu, targets, stats, logprob, R);
    return kept;
  }

  /**
   * The second pass over the vocabulary chunks: dlogits (scaled by `scale`) → d(x) [R, H], returned, and dW
   * accumulated into `dW` (W's gradient, in W's row shards). `kept`: the forward's logits when it kept them (one
   * chunk), else each chunk is computed again. `f16`: the weight gradient's product in f16 arithmetic (--fp16).
   */
  backward(
    x: Tensor,
    R: number,
    targets: Tensor,
    stats: Tensor,
    dW: readonly Tensor[],
    scale: number,
    f16: boolean,
    kept: Tensor | null = null,
  ): Tensor {
    const g = this.gpu,
      H = this.H,
      head = this.shards();
    const dx = g.tensor(R * H, 'f32', 'grad:head');
    fill(g, dx, 0);
    for (const c of this.chunks(R)) {
      const Vc = c.hi - c.lo,
        off = (c.lo - head[c.shard].lo) * H;
      const logits = kept ?? g.tensor(R * Vc, 'f32', `logits[${c.lo}:${c.hi}]`),
        dlogits = g.tensor(R * Vc, 'f32', `dlogits[${c.lo}:${c.hi}]`);
      if (!kept) this.chunk(x, R, c, logits);
      ceBackward(g, logits, targets, stats, dlogits, R, Vc, c.lo, scale);
      // d(x)[R,H] += dlogits[R,Vc] · W[lo:hi][Vc,H]
      matmul(g, {
        a: dlogits,
        b: head[c.shard].w,
        c: dx,
        M: R,
        N: H,
        K: Vc,
        aSm: Vc,
        aSk: 1,
        bSk: H,
        bSn: 1,
        bOff: off,
        accumulate: true,
      });
      // dW[lo:hi][Vc,H] += dlogitsᵀ · x
      matmul(g, {
        a: dlogits,
        b: x,
        c: dW[c.shard],
        M: Vc,
        N: H,
        K: R,
        aSm: 1,
        aSk: Vc,
        bSk: H,
        bSn: 1,
        cOff: off,
        accumulate: true,
        f16,
      });
      if (!kept) logits.destroy();
      dlogits.destroy();
    }
    return dx;
  }
}
