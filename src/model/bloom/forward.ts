// BLOOM forward graph (BloomForCausalLM as HF computes it, docs/bloom.md) on the GPU: embeddings → LN → blocks
// (LN, fused QKV, ALiBi attention, dense, residual, LN, MLP with GELU, residual) → ln_f → tied LM head,
// the head evaluated in vocabulary chunks into log-softmax statistics (full logits only on request).
import { fp16, type Batch } from '../causal-lm.ts';
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import type { BloomWeights } from './weights.ts';
import { embeddingForward } from '../../ops/embedding.ts';
import { layernormForward } from '../../ops/layernorm.ts';
import { linearForward, matmul } from '../../ops/matmul.ts';
import { int8Linear, type Int8Weight } from '../../ops/matmul_int8.ts';
import { addInPlace, geluForward } from '../../ops/elementwise.ts';
import { alibiSlopes, attentionForward, attentionNeedsProbs, keyInfo } from '../../ops/attention.ts';
import { LmHead } from '../common/head.ts';
import { freeBlockScratch, freeOnce } from '../common/model.ts';

/**
 * What one block saves for its backward (training) — or the reused scratch of an inference pass. Attention keeps
 * either its probabilities or (flash) each row's log-sum-exp, as attentionNeedsProbs decides; inference neither.
 */
export interface BlockActs {
  x: Tensor;
  ln1: Tensor;
  ln1s: Tensor;
  qkv: Tensor;
  probs: Tensor | null;
  lse?: Tensor;
  ctx: Tensor;
  x1: Tensor;
  ln2: Tensor;
  ln2s: Tensor;
  h4: Tensor;
  g: Tensor;
}

/** What a block's attention keeps: probs [B, NH, Tq, Tk], lse [B, NH, Tq] (training either way), or nothing (inference). */
export type AttnKeep = 'probs' | 'lse' | 'none';

export interface ForwardActs {
  R: number;
  B: number;
  T: number;
  ids: Tensor;
  keyinfo: Tensor;
  emb: Tensor;
  x0: Tensor;
  embS: Tensor;
  blocks: BlockActs[];
  out: Tensor;
  lnf: Tensor;
  lnfS: Tensor;
  /** activation recomputation: blocks[l] holds only its input x; the rest is one scratch set refilled by recompute() */
  recompute?: boolean;
}

export class BloomForward {
  readonly slopes: Tensor;
  /** the LM head, tied to the word embedding */
  readonly head: LmHead;
  /** training (save) keeps only each block's input and recomputes the block just before its backward (--recompute) */
  recompute = false;
  constructor(
    readonly gpu: Gpu,
    readonly w: BloomWeights,
  ) {
    this.slopes = gpu.fromF32(alibiSlopes(w.cfg.nHead), 'alibi:slopes');
    this.head = new LmHead(gpu, () => w.emb, w.cfg.hiddenSize);
  }

  get H(): number {
    return this.w.cfg.hiddenSize;
  }

  blockActs(R: number, B: number, Tq: number, Tk: number, tag: string, x?: Tensor, keep: AttnKeep = 'none'): BlockActs {
    const g = this.gpu,
      H = this.H,
      NH = this.w.cfg.nHead;
    return {
      x: x as Tensor,
      ln1: g.tensor(R * H, 'f32', `${tag}:ln1`),
      ln1s: g.tensor(R * 2, 'f32', `${tag}:ln1s`),
      qkv: g.tensor(R * 3 * H, 'f32', `${tag}:qkv`),
      probs: keep === 'probs' ? g.tensor(B * NH * Tq * Tk, 'f32', `${tag}:probs`) : null,
      ...(keep === 'lse' ? { lse: g.tensor(B * NH * Tq, 'f32', `${tag}:lse`) } : {}),
      ctx: g.tensor(R * H, 'f32', `${tag}:ctx`),
      x1: g.tensor(R * H, 'f32', `${tag}:x1`),
      ln2: g.tensor(R * H, 'f32', `${tag}:ln2`),
      ln2s: g.tensor(R * 2, 'f32', `${tag}:ln2s`),
      h4: g.tensor(R * 4 * H, 'f32', `${tag}:h4`),
      g: g.tensor(R * 4 * H, 'f32', `${tag}:g`),
    };
  }

  /**
   * Runs embeddings and every block. With `save`, each block keeps its own activations (for backward);
   * otherwise one scratch set is reused. `hidden` collects copies of HF's hidden_states when given.
   */
  run(batch: Batch, save: boolean, hidden?: Float32Array[] | null): Promise<ForwardActs> | ForwardActs {
    const { B, T } = batch;
    const g = this.gpu,
      cfg = this.w.cfg,
      H = this.H,
      R = B * T;
    const ids = g.fromI32(batch.ids, 'batch:ids');
    const keyinfo = g.fromF32(keyInfo(batch.mask, B, T), 'batch:keyinfo');
    const emb = g.tensor(R * H, 'f32', 'emb'),
      x0 = g.tensor(R * H, 'f32', 'x0'),
      embS = g.tensor(R * 2, 'f32', 'emb:ln');
    embeddingForward(g, ids, this.w.emb, emb, R, H);
    layernormForward(
      g,
      emb,
      this.w.get('word_embeddings_layernorm.weight'),
      this.w.get('word_embeddings_layernorm.bias'),
      x0,
      embS,
      R,
      H,
      cfg.layerNormEpsilon,
      fp16(this),
    );
    const blocks: BlockActs[] = [];
    const recompute = save && this.recompute;
    // training keeps attention probs or lse for the backward (by size: attentionNeedsProbs); inference neither
    const keep: AttnKeep = !save
      ? 'none'
      : attentionNeedsProbs(g, { B, Tq: T, Tk: T, q0: 0, Tmax: T, NH: cfg.nHead, D: cfg.headDim })
        ? 'probs'
        : 'lse';
    const shared = save && !recompute ? null : this.blockActs(R, B, T, T, 'block', undefined, keep);
    // inference ping-pongs two residual buffers; training keeps every block's input
    const ping = save ? [] : [g.tensor(R * H, 'f32', 'ping'), g.tensor(R * H, 'f32', 'pong')];
    let x = x0;
    const snaps: Tensor[] = [];
    if (hidden) snaps.push(this.snapshot(x0));
    for (let l = 0; l < cfg.nLayer; l++) {
      const a = shared ? { ...shared, x } : this.blockActs(R, B, T, T, `h${l}`, x, keep);
      const out = save ? g.tensor(R * H, 'f32', `h${l}:out`) : ping[l % 2];
      this.block(l, x, a, out, { B, Tq: T, Tk: T, q0: 0, Tmax: T }, keyinfo, undefined, !save);
      if (save) blocks.push(a);
      if (hidden && l + 1 < cfg.nLayer) snaps.push(this.snapshot(out));
      x = out;
    }
    const lnf = g.tensor(R * H, 'f32', 'lnf'),
      lnfS = g.tensor(R * 2, 'f32', 'lnf:stats');
    layernormForward(
      g,
      x,
      this.w.get('ln_f.weight'),
      this.w.get('ln_f.bias'),
      lnf,
      lnfS,
      R,
      H,
      cfg.layerNormEpsilon,
      fp16(this),
    );
    if (shared && !recompute) freeBlockScratch(shared);
    for (const t of ping) if (t !== x) t.destroy();
    const acts: ForwardActs = { R, B, T, ids, keyinfo, emb, x0, embS, blocks, out: x, lnf, lnfS, recompute };
    if (!hidden) return acts;
    snaps.push(this.snapshot(lnf));
    return (async () => {
      for (const s of snaps) {
        hidden.push(await g.readF32(s));
        s.destroy();
      }
      return acts;
    })();
  }

  /** Refills block l's activations (the shared scratch of a recompute forward) from its saved input; `out` is scratch. */
  recomputeBlock(l: number, acts: ForwardActs, out: Tensor): void {
    const a = acts.blocks[l];
    this.block(l, a.x, a, out, { B: acts.B, Tq: acts.T, Tk: acts.T, q0: 0, Tmax: acts.T }, acts.keyinfo);
  }

  private snapshot(t: Tensor): Tensor {
    const c = this.gpu.tensor(t.numel, 'f32', `snapshot:${t.label}`);
    this.gpu.copy(t, c);
    return c;
  }

  /** One block: x → out. `s` gives the query rows (KV cache: qkv rows [q0, q0+Tq) of a Tmax-row buffer). */
  block(
    l: number,
    x: Tensor,
    a: BlockActs,
    out: Tensor,
    s: { B: number; Tq: number; Tk: number; q0: number; Tmax: number },
    keyinfo: Tensor,
    qkvCache?: Tensor,
    fuseGelu = false,
  ): void {
    const g = this.gpu,
      cfg = this.w.cfg,
      H = this.H,
      R = s.B * s.Tq,
      p = `h.${l}.`,
      w = (n: string) => this.w.get(p + n);
    layernormForward(
      g,
      x,
      w('input_layernorm.weight'),
      w('input_layernorm.bias'),
      a.ln1,
      a.ln1s,
      R,
      H,
      cfg.layerNormEpsilon,
      fp16(this),
    );
    const qkv = qkvCache ?? a.qkv;
    if (qkvCache && s.B > 1 && !this.int8(p + 'self_attention.query_key_value')) {
      // several cached sequences: one matmul over all rows, then each sequence's rows go to its cache slot
      this.linear(a.ln1, p + 'self_attention.query_key_value', a.qkv, R, 3 * H, H);
      for (let b = 0; b < s.B; b++)
        g.copy(a.qkv, qkvCache, s.Tq * 3 * H, b * s.Tq * 3 * H, (b * s.Tmax + s.q0) * 3 * H);
    } else if (qkvCache) {
      // write this step's rows into the cache at rows q0.. of each batch element
      for (let b = 0; b < s.B; b++) {
        const q8 = this.int8(p + 'self_attention.query_key_value');
        if (q8)
          int8Linear(g, {
            ...q8,
            X: a.ln1,
            Y: qkvCache,
            M: s.Tq,
            xOff: b * s.Tq * H,
            yOff: (b * s.Tmax + s.q0) * 3 * H,
          });
        else
          linearForwardRows(
            g,
            a.ln1,
            w('self_attention.query_key_value.weight'),
            w('self_attention.query_key_value.bias'),
            qkvCache,
            s.Tq,
            3 * H,
            H,
            b * s.Tq * H,
            (b * s.Tmax + s.q0) * 3 * H,
          );
      }
    } else this.linear(a.ln1, p + 'self_attention.query_key_value', qkv, R, 3 * H, H);
    // f16 matrices: attention in f16 arithmetic where the device has it (attentionF16Applies; training: trainF16)
    const f16 = this.w.dtype === 'f16';
    attentionForward(g, qkv, keyinfo, this.slopes, a.probs, a.ctx, { ...s, NH: cfg.nHead, D: cfg.headDim }, a.lse, {
      f16,
    });
    this.linear(a.ctx, p + 'self_attention.dense', a.x1, R, H, H, x); // x1 = x + attention (residual fused)
    layernormForward(
      g,
      a.x1,
      w('post_attention_layernorm.weight'),
      w('post_attention_layernorm.bias'),
      a.ln2,
      a.ln2s,
      R,
      H,
      cfg.layerNormEpsilon,
      fp16(this),
    );
    if (fuseGelu && !this.int8(p + 'mlp.dense_h_to_4h')) {
      // inference: GELU in the matmul's epilogue (the pre-activation is only kept for a backward)
      linearForward(g, a.ln2, w('mlp.dense_h_to_4h.weight'), w('mlp.dense_h_to_4h.bias'), a.g, R, 4 * H, H, true);
    } else {
      this.linear(a.ln2, p + 'mlp.dense_h_to_4h', a.h4, R, 4 * H, H);
      geluForward(g, a.h4, a.g, R * 4 * H, fp16(this));
    }
    this.linear(a.g, p + 'mlp.dense_4h_to_h', out, R, H, 4 * H, a.x1); // out = x1 + MLP (residual fused)
  }

  /** The int8 arguments of a block Linear stored quantized (LLM.int8(), docs/int8.md), else undefined. */
  private int8(linear: string): { w: Int8Weight; bias: Tensor; threshold: number } | undefined {
    const q = this.w.int8Weight(`${linear}.weight`);
    return q && { w: q, bias: this.w.get(`${linear}.bias`), threshold: this.w.int8!.threshold };
  }

  /**
   * Y[M,N] = X[M,K]·Wᵀ + b (+ residual) for the block Linear `linear` (a parameter-name prefix): int8 kernels or
   * the float matmul, whose epilogue adds the residual (the int8 path adds it after).
   */
  private linear(X: Tensor, linear: string, Y: Tensor, M: number, N: number, K: number, residual?: Tensor): void {
    const q8 = this.int8(linear);
    if (q8) {
      int8Linear(this.gpu, { ...q8, X, Y, M });
      if (residual) addInPlace(this.gpu, Y, residual, M * N);
    } else
      linearForward(
        this.gpu,
        X,
        this.w.get(`${linear}.weight`),
        this.w.get(`${linear}.bias`),
        Y,
        M,
        N,
        K,
        false,
        residual,
      );
  }

  /** Frees the ALiBi slopes (the graph's only tensor of its own). */
  destroy(): void {
    this.slopes.destroy();
  }

  freeActs(a: ForwardActs): void {
    freeOnce([
      a.ids,
      a.keyinfo,
      a.emb,
      a.x0,
      a.embS,
      a.out,
      a.lnf,
      a.lnfS,
      ...a.blocks.flatMap((b) => Object.values(b)),
    ]);
  }
}

/** X rows → Y rows with explicit element offsets (used for cache writes and LM-head chunks). */
export function linearForwardRows(
  gpu: Gpu,
  X: Tensor,
  W: Tensor,
  bias: Tensor | undefined,
  Y: Tensor,
  M: number,
  N: number,
  K: number,
  xOff: number,
  yOff: number,
  wOff = 0,
): void {
  matmul(gpu, {
    a: X,
    b: W,
    bias,
    c: Y,
    M,
    N,
    K,
    aSm: K,
    aSk: 1,
    bSk: 1,
    bSn: K,
    cSm: N,
    aOff: xOff,
    bOff: wOff,
    cOff: yOff,
  });
}
