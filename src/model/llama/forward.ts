// Llama / Qwen3 forward graph (LlamaForCausalLM / Qwen3ForCausalLM as HF computes them) on the GPU: embedding →
// blocks (RMSNorm, q/k/v projections, Qwen3's per-head q/k RMSNorm, RoPE packed into attention.wgsl's qkv layout
// with grouped-query heads, causal attention, o_proj + residual, RMSNorm, SwiGLU MLP + residual) → final RMSNorm →
// LM head (tied or untied) in vocabulary chunks into log-softmax statistics.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import { fp16, type Batch } from '../causal-lm.ts';
import { embeddingForward } from '../../ops/embedding.ts';
import { rmsnormForward } from '../../ops/rmsnorm.ts';
import { linearForward } from '../../ops/matmul.ts';
import { int8Linear } from '../../ops/matmul_int8.ts';
import { addInPlace } from '../../ops/elementwise.ts';
import { attentionForward, attentionNeedsProbs, keyInfo, type AttnShape } from '../../ops/attention.ts';
import { ropePack, ropePositions, ropeTable } from '../../ops/rope.ts';
import { swigluForward } from '../../ops/swiglu.ts';
import { LmHead } from '../common/head.ts';
import { ropeInvFreq } from './config.ts';
import type { LlamaWeights } from './weights.ts';
import { freeBlockScratch, freeOnce, type Rows } from '../common/model.ts';

/** What a block saves for its backward (training), or the reused scratch of an inference pass. */
export interface BlockActs {
  x: Tensor;
  h1: Tensor;
  s1: Tensor;
  q: Tensor;
  k: Tensor;
  v: Tensor;
  /** Qwen3: q and k after their per-head RMSNorm, and the norms' rstd */
  qn?: Tensor;
  qs?: Tensor;
  kn?: Tensor;
  ks?: Tensor;
  qkv: Tensor;
  probs: Tensor | null;
  lse?: Tensor;
  ctx: Tensor;
  x1: Tensor;
  h2: Tensor;
  s2: Tensor;
  g: Tensor;
  u: Tensor;
  m: Tensor;
}

export interface ForwardActs {
  R: number;
  B: number;
  T: number;
  ids: Tensor;
  keyinfo: Tensor;
  pos: Tensor;
  x0: Tensor;
  blocks: BlockActs[];
  out: Tensor;
  hf: Tensor;
  hfS: Tensor;
}

export class LlamaForward {
  /** ALiBi slopes of attention.wgsl, all 0: plain causal attention */
  readonly slopes: Tensor;
  /** the LM head: lm_head.weight, or the embedding when tied */
  readonly head: LmHead;
  private readonly invFreq: Float32Array;
  private table: { t: Tensor; P: number } | null = null;

  constructor(
    readonly gpu: Gpu,
    readonly w: LlamaWeights,
  ) {
    this.slopes = gpu.fromF32(new Float32Array(w.cfg.nHead), 'llama:slopes');
    this.invFreq = ropeInvFreq(w.cfg);
    this.head = new LmHead(gpu, () => w.head, w.cfg.hiddenSize);
  }

  get H(): number {
    return this.w.cfg.hiddenSize;
  }

  /** The (cos, sin) table for positions below P (grown in steps of 256, kept until destroy()). */
  rope(P: number): Tensor {
    if (!this.table || this.table.P < P) {
      this.table?.t.destroy();
      const n = Math.ceil(P / 256) * 256;
      this.table = { t: this.gpu.fromF32(ropeTable(this.invFreq, n), 'llama:rope'), P: n };
    }
    return this.table.t;
  }

  attnShape(s: Rows): AttnShape {
    return { ...s, NH: this.w.cfg.nHead, D: this.w.cfg.headDim };
  }

  blockActs(R: number, s: Rows, tag: string, x: Tensor | undefined, keep: 'probs' | 'lse' | 'none'): BlockActs {
    const g = this.gpu,
      c = this.w.cfg,
      H = c.hiddenSize,
      QD = c.nHead * c.headDim,
      KD = c.nKVHead * c.headDim,
      I = c.intermediateSize;
    const t = (n: number, name: string) => g.tensor(n, 'f32', `${tag}:${name}`);
    return {
      x: x as Tensor,
      h1: t(R * H, 'h1'),
      s1: t(R, 's1'),
      q: t(R * QD, 'q'),
      k: t(R * KD, 'k'),
      v: t(R * KD, 'v'),
      ...(c.qkNorm
        ? { qn: t(R * QD, 'qn'), qs: t(R * c.nHead, 'qs'), kn: t(R * KD, 'kn'), ks: t(R * c.nKVHead, 'ks') }
        : {}),
      qkv: t(s.B * s.Tmax * 3 * QD, 'qkv'),
      probs: keep === 'probs' ? t(s.B * c.nHead * s.Tq * s.Tk, 'probs') : null,
      ...(keep === 'lse' ? { lse: t(s.B * c.nHead * s.Tq, 'lse') } : {}),
      ctx: t(R * QD, 'ctx'),
      x1: t(R * H, 'x1'),
      h2: t(R * H, 'h2'),
      s2: t(R, 's2'),
      g: t(R * I, 'g'),
      u: t(R * I, 'u'),
      m: t(R * I, 'm'),
    };
  }

  /** Embedding and every block over a padded batch; with `save`, each block keeps its activations (backward). */
  run(batch: Batch, save: boolean): ForwardActs {
    const { B, T } = batch;
    const g = this.gpu,
      c = this.w.cfg,
      H = this.H,
      R = B * T;
    const ids = g.fromI32(batch.ids, 'batch:ids');
    const keyinfo = g.fromF32(keyInfo(batch.mask, B, T), 'batch:keyinfo');
    const pos = g.fromU32(ropePositions(batch.mask, B, T), 'batch:positions');
    const x0 = g.tensor(R * H, 'f32', 'x0');
    embeddingForward(g, ids, this.w.emb, x0, R, H);
    const s: Rows = { B, Tq: T, Tk: T, q0: 0, Tmax: T };
    const keep = !save ? 'none' : attentionNeedsProbs(g, this.attnShape(s)) ? 'probs' : 'lse';
    const shared = save ? null : this.blockActs(R, s, 'block', undefined, keep);
    const ping = save ? [] : [g.tensor(R * H, 'f32', 'ping'), g.tensor(R * H, 'f32', 'pong')];
    const blocks: BlockActs[] = [];
    let x = x0;
    for (let l = 0; l < c.nLayer; l++) {
      const a = shared ? { ...shared, x } : this.blockActs(R, s, `layers.${l}`, x, keep);
      const out = save ? g.tensor(R * H, 'f32', `layers.${l}:out`) : ping[l % 2];
      this.block(l, x, a, out, s, keyinfo, pos);
      if (save) blocks.push(a);
      x = out;
    }
    const { hf, hfS } = this.finalNorm(x, R);
    if (shared) freeBlockScratch(shared);
    for (const t of ping) if (t !== x) t.destroy();
    return { R, B, T, ids, keyinfo, pos, x0, blocks, out: x, hf, hfS };
  }

  finalNorm(x: Tensor, R: number): { hf: Tensor; hfS: Tensor } {
    const hf = this.gpu.tensor(R * this.H, 'f32', 'norm'),
      hfS = this.gpu.tensor(R, 'f32', 'norm:rstd');
    rmsnormForward(this.gpu, x, this.w.get('model.norm.weight'), hf, hfS, R, this.H, this.w.cfg.rmsNormEps, fp16(this));
    return { hf, hfS };
  }

  /**
   * One block: x → out. `pos` [B·Tq] holds the rows' positions; the packed q/k/v go to `qkvCache` rows
   * [q0, q0 + Tq) when given (KV-cached decoding), else to a.qkv.
   */
  block(l: number, x: Tensor, a: BlockActs, out: Tensor, s: Rows, keyinfo: Tensor, pos: Tensor, qkvCache?: Tensor) {
    const g = this.gpu,
      c = this.w.cfg,
      H = c.hiddenSize,
      D = c.headDim,
      R = s.B * s.Tq,
      eps = c.rmsNormEps,
      p = `model.layers.${l}.`;
    const w = (n: string) => this.w.get(p + n);
    rmsnormForward(g, x, w('input_layernorm.weight'), a.h1, a.s1, R, H, eps, fp16(this));
    this.linear(a.h1, `${p}self_attn.q_proj.weight`, a.q, R, c.nHead * D, H);
    this.linear(a.h1, `${p}self_attn.k_proj.weight`, a.k, R, c.nKVHead * D, H);
    this.linear(a.h1, `${p}self_attn.v_proj.weight`, a.v, R, c.nKVHead * D, H);
    let q = a.q,
      k = a.k;
    if (c.qkNorm) {
      rmsnormForward(g, a.q, w('self_attn.q_norm.weight'), a.qn!, a.qs!, R * c.nHead, D, eps, fp16(this));
      rmsnormForward(g, a.k, w('self_attn.k_norm.weight'), a.kn!, a.ks!, R * c.nKVHead, D, eps, fp16(this));
      q = a.qn!;
      k = a.kn!;
    }
    const qkv = qkvCache ?? a.qkv;
    ropePack(g, q, k, a.v, this.rope(s.Tmax), pos, qkv, { ...s, NH: c.nHead, NKV: c.nKVHead, D });
    // f16 matrices: attention in f16 arithmetic where the device has it (attentionF16Applies; training: trainF16)
    const f16 = this.w.dtype === 'f16';
    attentionForward(g, qkv, keyinfo, this.slopes, a.probs, a.ctx, this.attnShape(s), a.lse, { f16 });
    this.linear(a.ctx, `${p}self_attn.o_proj.weight`, a.x1, R, H, c.nHead * D, x); // x1 = x + attention
    rmsnormForward(g, a.x1, w('post_attention_layernorm.weight'), a.h2, a.s2, R, H, eps, fp16(this));
    this.linear(a.h2, `${p}mlp.gate_proj.weight`, a.g, R, c.intermediateSize, H);
    this.linear(a.h2, `${p}mlp.up_proj.weight`, a.u, R, c.intermediateSize, H);
    swigluForward(g, a.g, a.u, a.m, R * c.intermediateSize);
    this.linear(a.m, `${p}mlp.down_proj.weight`, out, R, H, c.intermediateSize, a.x1); // out = x1 + MLP
  }

  /** Y[M,N] = X·Wᵀ (+ residual): the int8 kernels where the weight is quantized, else the float matmul. */
  private linear(X: Tensor, name: string, Y: Tensor, M: number, N: number, K: number, residual?: Tensor): void {
    const q8 = this.w.int8Weight(name);
    if (q8) {
      int8Linear(this.gpu, { X, w: q8, Y, M, threshold: this.w.int8!.threshold });
      if (residual) addInPlace(this.gpu, Y, residual, M * N);
    } else linearForward(this.gpu, X, this.w.get(name), undefined, Y, M, N, K, false, residual);
  }

  freeActs(a: ForwardActs): void {
    freeOnce([a.ids, a.keyinfo, a.pos, a.x0, a.out, a.hf, a.hfS, ...a.blocks.flatMap((b) => Object.values(b))]);
  }

  destroy(): void {
    this.slopes.destroy();
    this.table?.t.destroy();
    this.table = null;
  }
}
