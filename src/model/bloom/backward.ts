// BLOOM backward graph: mean shifted cross-entropy (docs/bloom.md, Loss) through the tied LM head (the loss step and
// the head in src/model/common/), ln_f, every block in reverse, word_embeddings_layernorm and the embedding scatter.
// Gradients accumulate until zero().
import type { Tensor } from '../../gpu/runtime.ts';
import type { BlockActs, BloomForward, ForwardActs } from './forward.ts';
import { fp16, type BackwardOptions, type Batch } from '../causal-lm.ts';
import { lossAndBackward as common, type Grads, type LossGraph } from '../common/backward.ts';
import { linearBackwardInput, linearBackwardWeight } from '../../ops/matmul.ts';
import { layernormBackward } from '../../ops/layernorm.ts';
import { embeddingBackward } from '../../ops/embedding.ts';
import { attentionBackward, attentionBackwardScratch } from '../../ops/attention.ts';
import { geluBackward } from '../../ops/elementwise.ts';

const EMBED = 'word_embeddings.weight';

/**
 * Forward (saving activations), the loss, and the backward into `grads` (accumulated).
 * Loss = Σ −log p(target) / (numItems ?? number of targets ≠ −100).
 */
export function lossAndBackward(
  fwd: BloomForward,
  batch: Batch,
  labels: Int32Array,
  grads: Grads,
  opts: BackwardOptions = {},
): Promise<{ loss: number; nTokens: number }> {
  const graph: LossGraph<ForwardActs> = {
    gpu: fwd.gpu,
    head: fwd.head,
    forward: () => fwd.run(batch, true),
    final: (acts) => acts.lnf,
    dHead: grads.shards(EMBED).map((s) => s.dw),
    f16: fp16(fwd),
    backward: (acts, dlnf) => blocksBackward(fwd, acts, dlnf, grads, batch),
    freeActs: (acts) => fwd.freeActs(acts),
  };
  return common(graph, batch, labels, opts);
}

/** ln_f, the blocks in reverse, word_embeddings_layernorm and the embedding scatter. Consumes `dlnf`. */
function blocksBackward(fwd: BloomForward, acts: ForwardActs, dlnf: Tensor, grads: Grads, batch: Batch): void {
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
    fp16(fwd),
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
    fp16(fwd),
  );
  embeddingBackward(g, batch.ids, demb, grads.shards(EMBED), H);
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
  grads: Grads,
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
  geluBackward(g, a.h4, s.dg, s.dh4, R * 4 * H, false, fp16(fwd));
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
    fp16(fwd),
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
    { f16: fp16(fwd) },
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
    fp16(fwd),
  );
}
