// What every family's backward does the same way, written once: f32 gradients laid out as the weights' tensors (same
// keys, same row shards), and the loss step around a family's graph: HF's label shift, the forward saving
// activations, log-probs through the LM head, the head's backward, the family's blocks in reverse, the mean loss.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import {
  readParamTensors,
  shiftLabels,
  type BackwardOptions,
  type Batch,
  type Gradients,
  type ParamTensor,
} from '../causal-lm.ts';
import { fill } from '../../ops/elementwise.ts';
import type { LmHead } from './head.ts';
import type { Weights } from './weights.ts';

/** f32 gradients laid out as the weights' tensors (same keys and row shards); they accumulate until zero(). */
export class Grads implements Gradients {
  readonly tensors: readonly ParamTensor[];
  private readonly byKey = new Map<string, Tensor>();
  constructor(
    readonly gpu: Gpu,
    readonly w: Weights,
  ) {
    this.tensors = w.tensors().map((p) => {
      const t = gpu.tensor(p.tensor.numel, 'f32', `grad:${p.key}`);
      this.byKey.set(p.key, t);
      return { ...p, tensor: t };
    });
    this.zero();
  }

  /** the gradient of a parameter that is one tensor (by name), or of one row shard (`name[lo:hi]`) */
  get(key: string): Tensor {
    const t = this.byKey.get(key);
    if (!t) throw new Error(`no gradient for ${key}`);
    return t;
  }

  /** the gradient shards of a vocabulary table, aligned with the weights' shards */
  shards(name: string): { dw: Tensor; lo: number; hi: number }[] {
    return (this.w.shards.get(name) ?? []).map((s) => ({
      dw: this.get(`${name}[${s.lo}:${s.hi}]`),
      lo: s.lo,
      hi: s.hi,
    }));
  }

  zero(): void {
    for (const p of this.tensors) fill(this.gpu, p.tensor, 0);
  }

  /** host copies by canonical parameter name (row shards reassembled), in table order */
  read(): Promise<Map<string, Float32Array>> {
    return readParamTensors(this.gpu, this.tensors, this.w.table);
  }

  destroy(): void {
    for (const p of this.tensors) p.tensor.destroy();
    this.byKey.clear();
  }
}

/** What lossAndBackward needs of a family's graph for one batch. */
export interface LossGraph<A extends { R: number }> {
  gpu: Gpu;
  head: LmHead;
  /** the forward over the batch, saving every block's activations */
  forward(): A | Promise<A>;
  /** the final norm's output in `acts` (the head's input) */
  final(acts: A): Tensor;
  /** the gradient of the head's weight, in its row shards */
  dHead: readonly Tensor[];
  /** the weight gradients' products in f16 arithmetic (--fp16's compute copy) */
  f16: boolean;
  /** the final norm, the blocks in reverse and the embedding, from d(final); consumes `dFinal` */
  backward(acts: A, dFinal: Tensor): void;
  freeActs(acts: A): void;
}

/**
 * Forward (saving activations), the loss, and the backward into the gradients (accumulated).
 * Loss = Σ −log p(target) / (numItems ?? number of targets ≠ −100), targets being HF's shift of `labels`.
 */
export async function lossAndBackward<A extends { R: number }>(
  graph: LossGraph<A>,
  batch: Batch,
  labels: Int32Array,
  opts: BackwardOptions = {},
): Promise<{ loss: number; nTokens: number }> {
  const { B, T } = batch;
  if (labels.length !== B * T)
    throw new Error(`lossAndBackward: labels has ${labels.length} entries, batch is ${B}×${T}`);
  const g = graph.gpu,
    R = B * T;
  const targetsHost = shiftLabels(labels, B, T);
  const nTokens = targetsHost.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0);
  const denom = opts.numItems ?? nTokens;
  const acts = await graph.forward();
  const x = graph.final(acts);
  const targets = g.fromI32(targetsHost, 'batch:targets');
  const stats = g.tensor(R * 3, 'f32', 'ce:stats'),
    lp = g.tensor(R, 'f32', 'ce:logprob');
  // a vocabulary that fits one chunk keeps its logits for the backward (no second LM-head matmul)
  const kept = graph.head.logprobs(x, targets, R, stats, lp, undefined, true);
  // the loss is read while the backward is recorded and runs (awaiting it first would idle the GPU meanwhile)
  const lpRead = g.readF32(lp);
  lpRead.catch(() => {}); // awaited below; a throw while recording the backward must not leave it unhandled
  if (nTokens > 0) {
    const scale = (opts.lossScale ?? 1) / denom;
    graph.backward(acts, graph.head.backward(x, R, targets, stats, graph.dHead, scale, graph.f16, kept));
  }
  [targets, stats, lp, kept].forEach((t) => t?.destroy());
  graph.freeActs(acts);
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
