// Llama / Qwen3 backward graph: mean shifted cross-entropy through the LM head (tied: into the embedding's gradient;
// the loss step and the head in src/model/common/), the final RMSNorm, every block in reverse (SwiGLU MLP, attention.wgsl's backward, RoPE's transpose with the
// grouped heads' key/value gradients summed, Qwen3's q/k norms) and the embedding scatter. Gradients accumulate
// until zero().
import type { Tensor } from '../../gpu/runtime.ts';
import { fp16, type BackwardOptions, type Batch } from '../causal-lm.ts';
import { lossAndBackward as common, type Grads, type LossGraph } from '../common/backward.ts';
import { linearBackwardInput, linearBackwardWeight } from '../../ops/matmul.ts';
import { rmsnormBackward } from '../../ops/rmsnorm.ts';
import { embeddingBackward } from '../../ops/embedding.ts';
import { attentionBackward, attentionBackwardScratch } from '../../ops/attention.ts';
import { ropeUnpack } from '../../ops/rope.ts';
import { swigluBackward } from '../../ops/swiglu.ts';
import type { BlockActs, ForwardActs, LlamaForward } from './forward.ts';
import type { Rows } from '../common/model.ts';
import { EMBED, LM_HEAD } from './weights.ts';

/** Forward (saving activations), the loss and the backward into `grads` (accumulated). */
export function lossAndBackward(
  fwd: LlamaForward,
  batch: Batch,
  labels: Int32Array,
  grads: Grads,
  opts: BackwardOptions = {},
): Promise<{ loss: number; nTokens: number }> {
  const graph: LossGraph<ForwardActs> = {
    gpu: fwd.gpu,
    head: fwd.head,
    forward: () => fwd.run(batch, true),
    final: (acts) => acts.hf,
    dHead: grads.shards(fwd.w.cfg.tieWordEmbeddings ? EMBED : LM_HEAD).map((s) => s.dw),
    f16: fp16(fwd),
    backward: (acts, dhf) => blocksBackward(fwd, acts, dhf, grads, batch),
    freeActs: (acts) => fwd.freeActs(acts),
  };
  return common(graph, batch, labels, opts);
}

function blocksBackward(fwd: LlamaForward, acts: ForwardActs, dhf: Tensor, grads: Grads, batch: Batch): void {
  const g = fwd.gpu,
    c = fwd.w.cfg,
    R = acts.R,
    H = fwd.H,
    QD = c.nHead * c.headDim,
    KD = c.nKVHead * c.headDim,
    I = c.intermediateSize;
  const dres = g.tensor(R * H, 'f32', 'grad:res');
  rmsnormBackward(
    g,
    acts.out,
    fwd.w.get('model.norm.weight'),
    acts.hfS,
    dhf,
    dres,
    grads.get('model.norm.weight'),
    R,
    H,
    false,
    fp16(fwd),
  );
  const s: Rows = { B: acts.B, Tq: acts.T, Tk: acts.T, q0: 0, Tmax: acts.T };
  const t = (n: number, name: string) => g.tensor(n, 'f32', `grad:${name}`);
  const scratch = {
    dm: t(R * I, 'm'),
    dg: t(R * I, 'g'),
    du: t(R * I, 'u'),
    dh: t(R * H, 'h'),
    dctx: t(R * QD, 'ctx'),
    dqkv: t(R * 3 * QD, 'qkv'),
    ds: t(attentionBackwardScratch(fwd.attnShape(s), !acts.blocks[0]?.probs), 'scores'),
    dq: t(R * QD, 'q'),
    dk: t(R * KD, 'k'),
    dv: t(R * KD, 'v'),
    dq0: t(R * QD, 'q0'),
    dk0: t(R * KD, 'k0'),
  };
  for (let l = c.nLayer - 1; l >= 0; l--) blockBackward(fwd, l, acts.blocks[l], acts, s, dres, grads, scratch);
  embeddingBackward(g, batch.ids, dres, grads.shards(EMBED), H);
  [dres, dhf, ...Object.values(scratch)].forEach((x) => x.destroy());
}

/** dres: the gradient of the block's output in, of its input out. */
function blockBackward(
  fwd: LlamaForward,
  l: number,
  a: BlockActs,
  acts: ForwardActs,
  s: Rows,
  dres: Tensor,
  grads: Grads,
  x: Record<'dm' | 'dg' | 'du' | 'dh' | 'dctx' | 'dqkv' | 'ds' | 'dq' | 'dk' | 'dv' | 'dq0' | 'dk0', Tensor>,
): void {
  const g = fwd.gpu,
    c = fwd.w.cfg,
    R = acts.R,
    H = fwd.H,
    D = c.headDim,
    QD = c.nHead * D,
    KD = c.nKVHead * D,
    I = c.intermediateSize,
    p = `model.layers.${l}.`;
  const w = (n: string) => fwd.w.get(p + n),
    dw = (n: string) => grads.get(p + n);
  // MLP: out = x1 + Wd·(silu(Wg·h2) ⊙ Wu·h2)
  linearBackwardInput(g, dres, w('mlp.down_proj.weight'), x.dm, R, H, I);
  linearBackwardWeight(g, dres, a.m, dw('mlp.down_proj.weight'), undefined, R, H, I, true, fp16(fwd));
  swigluBackward(g, a.g, a.u, x.dm, x.dg, x.du, R * I);
  linearBackwardWeight(g, x.dg, a.h2, dw('mlp.gate_proj.weight'), undefined, R, I, H, true, fp16(fwd));
  linearBackwardWeight(g, x.du, a.h2, dw('mlp.up_proj.weight'), undefined, R, I, H, true, fp16(fwd));
  linearBackwardInput(g, x.dg, w('mlp.gate_proj.weight'), x.dh, R, I, H);
  linearBackwardInput(g, x.du, w('mlp.up_proj.weight'), x.dh, R, I, H, true);
  rmsnormBackward(
    g,
    a.x1,
    w('post_attention_layernorm.weight'),
    a.s2,
    x.dh,
    dres,
    dw('post_attention_layernorm.weight'),
    R,
    H,
    true,
    fp16(fwd),
  );
  // attention: x1 = x + Wo·Attn(rope(norm(Wq·h1)), rope(norm(Wk·h1)), Wv·h1)
  linearBackwardInput(g, dres, w('self_attn.o_proj.weight'), x.dctx, R, H, QD);
  linearBackwardWeight(g, dres, a.ctx, dw('self_attn.o_proj.weight'), undefined, R, H, QD, true, fp16(fwd));
  attentionBackward(
    g,
    a.qkv,
    a.probs,
    x.dctx,
    x.dqkv,
    x.ds,
    fwd.attnShape(s),
    a.probs ? undefined : { lse: a.lse!, ctx: a.ctx, keyinfo: acts.keyinfo, slopes: fwd.slopes },
    { f16: fp16(fwd) },
  );
  const shape = { ...s, NH: c.nHead, NKV: c.nKVHead, D };
  const dq = x.dq,
    dk = x.dk;
  if (c.qkNorm) {
    ropeUnpack(g, x.dqkv, fwd.rope(s.Tmax), acts.pos, x.dq0, x.dk0, x.dv, shape);
    rmsnormBackward(
      g,
      a.q,
      w('self_attn.q_norm.weight'),
      a.qs!,
      x.dq0,
      x.dq,
      dw('self_attn.q_norm.weight'),
      R * c.nHead,
      D,
      false,
      fp16(fwd),
    );
    rmsnormBackward(
      g,
      a.k,
      w('self_attn.k_norm.weight'),
      a.ks!,
      x.dk0,
      x.dk,
      dw('self_attn.k_norm.weight'),
      R * c.nKVHead,
      D,
      false,
      fp16(fwd),
    );
  } else {
    ropeUnpack(g, x.dqkv, fwd.rope(s.Tmax), acts.pos, x.dq, x.dk, x.dv, shape);
  }
  linearBackwardWeight(g, dq, a.h1, dw('self_attn.q_proj.weight'), undefined, R, QD, H, true, fp16(fwd));
  linearBackwardWeight(g, dk, a.h1, dw('self_attn.k_proj.weight'), undefined, R, KD, H, true, fp16(fwd));
  linearBackwardWeight(g, x.dv, a.h1, dw('self_attn.v_proj.weight'), undefined, R, KD, H, true, fp16(fwd));
  linearBackwardInput(g, dq, w('self_attn.q_proj.weight'), x.dh, R, QD, H);
  linearBackwardInput(g, dk, w('self_attn.k_proj.weight'), x.dh, R, KD, H, true);
  linearBackwardInput(g, x.dv, w('self_attn.v_proj.weight'), x.dh, R, KD, H, true);
  rmsnormBackward(
    g,
    a.x,
    w('input_layernorm.weight'),
    a.s1,
    x.dh,
    dres,
    dw('input_layernorm.weight'),
    R,
    H,
    true,
    fp16(fwd),
  );
}
