// BLOOM backward graph: mean shifted cross-entropy (docs/bloom.md, Loss) through the tied LM head, ln_f, every block
// in reverse, word_embeddings_layernorm and the embedding scatter. Gradients accumulate until zero().
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import type { BloomWeights } from './weights.ts';
import type { Batch, BlockActs, BloomForward, ForwardActs } from './forward.ts';
import { bloomParameters } from './config.ts';
import { fp16, shiftLabels, type BackwardOptions, type Gradients, type ParamTensor } from '../causal-lm.ts';
import { matmul, linearBackwardInput, linearBackwardWeight } from '../../ops/matmul.ts';
import { layernormBackward } from '../../ops/layernorm.ts';
import { embeddingBackward } from '../../ops/embedding.ts';
import { attentionBackward, attentionBackwardScratch } from '../../ops/attention.ts';
import { ceBackward } from '../../ops/cross_entropy.ts';
import { fill, geluBackward } from '../../ops/elementwise.ts';

export interface GradShard {
  dw: Tensor;
  lo: number;
  hi: number;
}

/** f32 gradients with the weights' layout: one tensor per parameter, the embedding in the weights' shards. */
export class BloomGrads implements Gradients {
  readonly params = new Map<string, Tensor>();
  readonly emb: GradShard[] = [];
  /** every gradient tensor, in the order and with the keys of the weights' tensors() */
  readonly tensors: readonly ParamTensor[];
  constructor(
    readonly gpu: Gpu,
    readonly w: BloomWeights,
  ) {
    for (const [name, t] of w.params) this.params.set(name, gpu.tensor(t.numel, 'f32', `grad:${name}`));
    for (const s of w.emb)
      this.emb.push({ dw: gpu.tensor(s.w.numel, 'f32', `grad:word_embeddings[${s.lo}:${s.hi}]`), lo: s.lo, hi: s.hi });
    const grad = (p: ParamTensor) => (p.rows ? this.emb.find((s) => s.lo === p.rows!.lo)!.dw : this.get(p.name));
    this.tensors = w.tensors().map((p) => ({ ...p, tensor: grad(p) }));
    this.zero();
  }

  read(): Promise<Map<string, Float32Array>> {
    return this.toArrays();
  }

  get(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new Error(`no gradient for ${name}`);
    return t;
  }

  /** every tensor, the embedding shards under `word_embeddings[lo:hi]` */
  *all(): Generator<[string, Tensor]> {
    for (const e of this.params) yield e;
    for (const s of this.emb) yield [`word_embeddings[${s.lo}:${s.hi}]`, s.dw];
  }

  zero(): void {
    for (const [, t] of this.all()) fill(this.gpu, t, 0);
  }

  destroy(): void {
    for (const [, t] of this.all()) t.destroy();
    this.params.clear();
    this.emb.length = 0;
  }

  /** Host copies by canonical parameter name (word_embeddings.weight reassembled from its shards). */
  async toArrays(): Promise<Map<string, Float32Array>> {
    return readSharded(
      this.gpu,
      this.w,
      this.params,
      this.emb.map((s) => ({ t: s.dw, lo: s.lo, hi: s.hi })),
    );
  }
}

/** Reads a weights-shaped set of f32 tensors to the host, in the canonical parameter order. */
export async function readSharded(
  gpu: Gpu,
  w: BloomWeights,
  params: Map<string, Tensor>,
  emb: { t: Tensor; lo: number; hi: number }[],
): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  const H = w.cfg.hiddenSize;
  for (const { name } of bloomParameters(w.cfg)) {
    if (name === 'word_embeddings.weight') {
      const a = new Float32Array(w.cfg.vocabSize * H);
      for (const s of emb) a.set(await gpu.readF32(s.t), s.lo * H);
      out.set(name, a);
    } else out.set(name, await gpu.readF32(params.get(name)!));
  }
  return out;
}

export type { BackwardOptions } from '../causal-lm.ts';

/**
 * Forward (saving activations), the loss, and the backward into `grads` (accumulated).
 * Loss = Σ −log p(target) / (numItems ?? number of targets ≠ −100).
 */
export async function lossAndBackward(
  fwd: BloomForward,
  batch: Batch,
  labels: Int32Array,
  grads: BloomGrads,
  opts: BackwardOptions = {},
): Promise<{ loss: number; nTokens: number }> {
  const { B, T } = batch;
  if (labels.length !== B * T)
    throw new Error(`lossAndBackward: labels has ${labels.length} entries, batch is ${B}×${T}`);
  const g = fwd.gpu,
    R = B * T;
  const targetsHost = shiftLabels(labels, B, T);
  const nTokens = targetsHost.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0);
  const denom = opts.numItems ?? nTokens;
  const acts = await fwd.run(batch, true);
  const targets = g.fromI32(targetsHost, 'batch:targets');
  const stats = g.tensor(R * 3, 'f32', 'ce:stats'),
    lp = g.tensor(R, 'f32', 'ce:logprob');
  // a vocabulary that fits one chunk keeps its logits for the backward (no second LM-head matmul)
  const kept = fwd.logprobs(acts.lnf, targets, R, stats, lp, undefined, true);
  // the loss is read while the backward is recorded and runs (awaiting it first would idle the GPU meanwhile)
  const lpRead = g.readF32(lp);
  lpRead.catch(() => {}); // awaited below; a throw while recording the backward must not leave it unhandled
  if (nTokens > 0) {
    const dlnf = headBackward(fwd, acts, targets, stats, grads, (opts.lossScale ?? 1) / denom, kept);
    blocksBackward(fwd, acts, dlnf, grads, batch);
  }
  [targets, stats, lp, kept].forEach((t) => t?.destroy());
  fwd.freeActs(acts);
  g.flush();
  const lpHost = await lpRead;
  let sum = 0;
  for (let r = 0; r < R; r++) if (targetsHost[r] >= 0) sum -= lpHost[r];
  const loss = sum / denom;
  // no wait for the GPU here: the optimizer's work queues right behind the backward (errors still surface)
  g.flush();
  await g.check();
  return { loss, nTokens };
}

/** Second pass over the vocabulary chunks: dlogits → d(lnf) and the tied head's embedding gradient. */
function headBackward(
  fwd: BloomForward,
  acts: ForwardActs,
  targets: Tensor,
  stats: Tensor,
  grads: BloomGrads,
  scale: number,
  kept: Tensor | null = null,
): Tensor {
  const g = fwd.gpu,
    R = acts.R,
    H = fwd.H;
  const dlnf = g.tensor(R * H, 'f32', 'grad:lnf');
  fill(g, dlnf, 0);
  for (const c of fwd.headChunks(R)) {
    const Vc = c.hi - c.lo,
      off = (c.lo - fwd.w.emb[c.shard].lo) * H;
    // the forward's logits when it kept them (one chunk), else computed again
    const logits = kept ?? g.tensor(R * Vc, 'f32', `logits[${c.lo}:${c.hi}]`),
      dlogits = g.tensor(R * Vc, 'f32', `dlogits[${c.lo}:${c.hi}]`);
    if (!kept) fwd.headChunk(acts.lnf, R, c, logits);
    ceBackward(g, logits, targets, stats, dlogits, R, Vc, c.lo, scale);
    // d(lnf)[R,H] += dlogits[R,Vc] · W[lo:hi][Vc,H]
    matmul(g, {
      a: dlogits,
      b: fwd.w.emb[c.shard].w,
      c: dlnf,
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
    // dW[lo:hi][Vc,H] += dlogitsᵀ · lnf
    matmul(g, {
      a: dlogits,
      b: acts.lnf,
      c: grads.emb[c.shard].dw,
      M: Vc,
      N: H,
      K: R,
      aSm: 1,
      aSk: Vc,
      bSk: H,
      bSn: 1,
      cOff: off,
      accumulate: true,
      f16: fp16(fwd),
    });
    if (!kept) logits.destroy();
    dlogits.destroy();
  }
  return dlnf;
}

/** ln_f, the blocks in reverse, word_embeddings_layernorm and the embedding scatter. Consumes `dlnf`. */
function blocksBackward(fwd: BloomForward, acts: ForwardActs, dlnf: Tensor, grads: BloomGrads, batch: Batch): void {
  const g = fwd.gpu,
    R = acts.R,
    H = fwd.H,
    cfg = fwd.w.cfg;
  const dres = g.tensor(R * H, 'f32', 'grad:res');
  layernormBackward(
    g,
    acts.out,
    fwd.w.get('ln_f.weight'),
    acts.lnfS,
    dlnf,
    dres,
    grads.get('ln_f.weight'),
    grads.get('ln_f.bias'),
    R,
    H,
    false,
  );
  const s = {
    dg: g.tensor(R * 4 * H, 'f32', 'grad:g'),
    dh4: g.tensor(R * 4 * H, 'f32', 'grad:h4'),
    dln: g.tensor(R * H, 'f32', 'grad:ln'),
    dctx: g.tensor(R * H, 'f32', 'grad:ctx'),
    dqkv: g.tensor(R * 3 * H, 'f32', 'grad:qkv'),
    // the score gradients [B, NH, T, T], or with flash (the blocks kept lse, not probs) delta [B, NH, T]
    ds: g.tensor(
      attentionBackwardScratch(
        { B: acts.B, Tq: acts.T, Tk: acts.T, q0: 0, Tmax: acts.T, NH: cfg.nHead, D: cfg.headDim },
        !acts.blocks[0].probs,
      ),
      'f32',
      'grad:scores',
    ),
  };
  // --recompute: the block's activations are rebuilt from its saved input just before its backward
  const scratchOut = acts.recompute ? g.tensor(R * H, 'f32', 'recompute:out') : null;
  for (let l = cfg.nLayer - 1; l >= 0; l--) {
    if (scratchOut) fwd.recomputeBlock(l, acts, scratchOut);
    blockBackward(fwd, l, acts.blocks[l], acts, dres, grads, s);
  }
  scratchOut?.destroy();
  // dres is now d(x0)
  const demb = dlnf; // reuse: same shape, no longer needed
  layernormBackward(
    g,
    acts.emb,
    fwd.w.get('word_embeddings_layernorm.weight'),
    acts.embS,
    dres,
    demb,
    grads.get('word_embeddings_layernorm.weight'),
    grads.get('word_embeddings_layernorm.bias'),
    R,
    H,
    false,
  );
  embeddingBackward(g, batch.ids, demb, grads.emb, H);
  [dres, dlnf, ...Object.values(s)].forEach((t) => t.destroy());
}

interface Scratch {
  dg: Tensor;
  dh4: Tensor;
  dln: Tensor;
  dctx: Tensor;
  dqkv: Tensor;
  ds: Tensor;
}

/** dres: gradient of the block output in, of the block input out (R = B·T rows, H hidden). */
function blockBackward(
  fwd: BloomForward,
  l: number,
  a: BlockActs,
  acts: ForwardActs,
  dres: Tensor,
  grads: BloomGrads,
  s: Scratch,
): void {
  const g = fwd.gpu,
    R = acts.R,
    H = fwd.H,
    cfg = fwd.w.cfg,
    p = `h.${l}.`;
  const w = (n: string) => fwd.w.get(p + n),
    dw = (n: string) => grads.get(p + n);
  // MLP: out = x1 + W4·gelu(W3·ln2 + b3) + b4
  linearBackwardInput(g, dres, w('mlp.dense_4h_to_h.weight'), s.dg, R, H, 4 * H);
  linearBackwardWeight(
    g,
    dres,
    a.g,
    dw('mlp.dense_4h_to_h.weight'),
    dw('mlp.dense_4h_to_h.bias'),
    R,
    H,
    4 * H,
    true,
    fp16(fwd),
  );
  geluBackward(g, a.h4, s.dg, s.dh4, R * 4 * H);
  linearBackwardWeight(
    g,
    s.dh4,
    a.ln2,
    dw('mlp.dense_h_to_4h.weight'),
    dw('mlp.dense_h_to_4h.bias'),
    R,
    4 * H,
    H,
    true,
    fp16(fwd),
  );
  linearBackwardInput(g, s.dh4, w('mlp.dense_h_to_4h.weight'), s.dln, R, 4 * H, H);
  layernormBackward(
    g,
    a.x1,
    w('post_attention_layernorm.weight'),
    a.ln2s,
    s.dln,
    dres,
    dw('post_attention_layernorm.weight'),
    dw('post_attention_layernorm.bias'),
    R,
    H,
    true,
  );
  // attention: x1 = x + Wd·Attn(Wqkv·ln1 + bqkv) + bd
  linearBackwardInput(g, dres, w('self_attention.dense.weight'), s.dctx, R, H, H);
  linearBackwardWeight(
    g,
    dres,
    a.ctx,
    dw('self_attention.dense.weight'),
    dw('self_attention.dense.bias'),
    R,
    H,
    H,
    true,
    fp16(fwd),
  );
  attentionBackward(
    g,
    a.qkv,
    a.probs,
    s.dctx,
    s.dqkv,
    s.ds,
    { B: acts.B, Tq: acts.T, Tk: acts.T, q0: 0, Tmax: acts.T, NH: cfg.nHead, D: cfg.headDim },
    a.probs ? undefined : { lse: a.lse!, ctx: a.ctx, keyinfo: acts.keyinfo, slopes: fwd.slopes },
  );
  linearBackwardWeight(
    g,
    s.dqkv,
    a.ln1,
    dw('self_attention.query_key_value.weight'),
    dw('self_attention.query_key_value.bias'),
    R,
    3 * H,
    H,
    true,
    fp16(fwd),
  );
  linearBackwardInput(g, s.dqkv, w('self_attention.query_key_value.weight'), s.dln, R, 3 * H, H);
  layernormBackward(
    g,
    a.x,
    w('input_layernorm.weight'),
    a.ln1s,
    s.dln,
    dres,
    dw('input_layernorm.weight'),
    dw('input_layernorm.bias'),
    R,
    H,
    true,
  );
}
