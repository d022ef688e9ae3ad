// A loaded Llama / Qwen3 model as the seam's CausalLM (src/model/causal-lm.ts): weights + forward graph, log-probs,
// full logits, KV-cached steps and prefix-shared scoring; training through LlamaTrainable.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import type { PolicyOverrides } from '../../gpu/policy.ts';
import {
  nextTokenTargets,
  readParamTensors,
  type Batch,
  type CausalLM,
  type ForwardOptions,
  type ForwardResult,
  type Int8Options,
  type KVCache as SeamCache,
  type ParamTensor,
  type PrefixGroup,
  type StorageDType,
  type TrainingOptions,
} from '../causal-lm.ts';
import { keyInfo } from '../../ops/attention.ts';
import { embeddingForward } from '../../ops/embedding.ts';
import { ropePositions } from '../../ops/rope.ts';
import { tuneMatmuls } from '../../ops/matmul-tune.ts';
import { llamaParameters, type LlamaConfig } from './config.ts';
import { LlamaForward } from './forward.ts';
import { LlamaTrainable } from './trainable.ts';
import type { LlamaWeights } from './weights.ts';

/** Llama's cache: one packed qkv buffer per layer ([B, Tmax, NH, 3, D], key/value heads repeated per query head). */
export interface KVCache extends SeamCache {
  qkv: Tensor[];
}

export class LlamaModel implements CausalLM {
  readonly fwd: LlamaForward;
  private readonly caches = new Set<KVCache>();
  private readonly trainables = new Set<LlamaTrainable>();

  /** `owner`: destroy() frees the weights (a withPolicy view shares them and frees only what it made) */
  constructor(
    readonly gpu: Gpu,
    readonly weights: LlamaWeights,
    private readonly owner = true,
  ) {
    this.fwd = new LlamaForward(gpu, weights);
  }
  get config(): LlamaConfig {
    return this.weights.cfg;
  }
  get dtype(): StorageDType {
    return this.weights.dtype;
  }
  get int8(): Int8Options | null {
    return this.weights.int8 ?? null;
  }
  parameters(): readonly ParamTensor[] {
    return this.weights.tensors();
  }
  parameterCount(): number {
    return this.weights.parameterCount();
  }
  bytes(): number {
    return this.weights.bytes();
  }
  get cacheRowBytes(): number {
    return 3 * this.config.nHead * this.config.headDim * 4;
  }

  training(opts: TrainingOptions = {}): LlamaTrainable {
    const t: LlamaTrainable = new LlamaTrainable(this.gpu, this.weights, opts, () => this.trainables.delete(t));
    this.trainables.add(t);
    return t;
  }

  readParameters(): Promise<Map<string, Float32Array>> {
    return readParamTensors(this.gpu, this.weights.tensors(), llamaParameters(this.config));
  }

  withPolicy(overrides: PolicyOverrides): LlamaModel {
    return new LlamaModel(this.gpu.withPolicy(overrides), this.weights, false);
  }

  async forward(b: Batch, opts: ForwardOptions = {}): Promise<ForwardResult> {
    if (opts.hidden) throw new Error(`forward: hidden states are not implemented for ${this.config.modelType}`);
    const g = this.gpu,
      V = this.config.vocabSize;
    const acts = this.fwd.run(b, false);
    const R = acts.R;
    let logits: Float32Array | undefined;
    if (opts.logits) {
      if (R * V > 256 * 1024 * 1024)
        throw new Error(`full logits of ${R}×${V} would need ${((R * V * 4) / 2 ** 30).toFixed(1)} GiB: use log-probs`);
      logits = new Float32Array(R * V);
    }
    const targets = g.fromI32(opts.targets ?? nextTokenTargets(b), 'batch:targets');
    const stats = g.tensor(R * 3, 'f32', 'ce:stats'),
      lp = g.tensor(R, 'f32', 'ce:logprob');
    const pending: Promise<void>[] = [];
    this.fwd.logprobs(
      acts.hf,
      targets,
      R,
      stats,
      lp,
      logits
        ? (c, t) => {
            const copy = g.tensor(t.numel, 'f32', 'logits:copy');
            g.copy(t, copy);
            pending.push(
              g.readF32(copy).then((chunk) => {
                const w = c.hi - c.lo;
                for (let r = 0; r < R; r++) logits!.set(chunk.subarray(r * w, (r + 1) * w), r * V + c.lo);
                copy.destroy();
              }),
            );
          }
        : undefined,
    );
    const logprobs = await g.readF32(lp);
    await Promise.all(pending);
    [targets, stats, lp].forEach((t) => t.destroy());
    this.fwd.freeActs(acts);
    await tuneMatmuls(g);
    return { logprobs, logits };
  }

  newCache(Tmax: number, B = 1): KVCache {
    const n = B * Tmax * 3 * this.config.nHead * this.config.headDim;
    const c: KVCache = {
      B,
      Tmax,
      len: 0,
      qkv: Array.from({ length: this.config.nLayer }, (_, l) => this.gpu.tensor(n, 'f32', `kv:layers.${l}`)),
    };
    this.caches.add(c);
    return c;
  }

  freeCache(c: SeamCache): void {
    const k = c as KVCache;
    if (!this.caches.delete(k)) return;
    k.qkv.forEach((t) => t.destroy());
  }

  /** The blocks over ids [B, Tq] appended at cache.len (which advances): the final norm's output [B·Tq, H]. */
  private cached(cache: KVCache, ids: Int32Array, mask: Int32Array, Tq: number): { hf: Tensor; free: () => void } {
    const g = this.gpu,
      c = this.config,
      H = c.hiddenSize,
      B = cache.B,
      q0 = cache.len,
      Tk = q0 + Tq,
      R = B * Tq;
    if (!Tq) throw new Error('a cached step needs at least one token');
    if (Tk > cache.Tmax) throw new Error(`KV cache holds ${cache.Tmax} positions; ${Tk} needed: raise maxLength`);
    if (ids.length !== R || mask.length !== B * Tk)
      throw new Error(`cached step: ids ${ids.length} (want ${R}), mask ${mask.length} (want ${B * Tk})`);
    const idsT = g.fromI32(ids, 'gen:ids'),
      keyinfo = g.fromF32(keyInfo(mask, B, Tk), 'gen:keyinfo'),
      pos = g.fromU32(ropePositions(mask, B, Tk, q0, Tq), 'gen:positions');
    let x = g.tensor(R * H, 'f32', 'gen:x'),
      out = g.tensor(R * H, 'f32', 'gen:out');
    embeddingForward(g, idsT, this.weights.emb, x, R, H);
    const s = { B, Tq, Tk, q0, Tmax: cache.Tmax };
    const a = this.fwd.blockActs(R, { ...s, Tmax: 1 }, 'gen', x, 'none'); // its own qkv unused: the cache's
    for (let l = 0; l < c.nLayer; l++) {
      this.fwd.block(l, x, a, out, s, keyinfo, pos, cache.qkv[l]);
      [x, out] = [out, x];
    }
    cache.len = Tk;
    const { hf, hfS } = this.fwd.finalNorm(x, R);
    return {
      hf,
      free: () => {
        for (const [k, t] of Object.entries(a)) if (k !== 'x') t?.destroy();
        [idsT, keyinfo, pos, x, out, hf, hfS].forEach((t) => t.destroy());
      },
    };
  }

  async step(cache: SeamCache, ids: number[]): Promise<Float32Array> {
    const k = cache as KVCache,
      g = this.gpu,
      H = this.config.hiddenSize,
      Tq = ids.length;
    if (k.B !== 1) throw new Error('step() generates one sequence: use a cache made with B = 1');
    const run = this.cached(k, Int32Array.from(ids), new Int32Array(k.len + Tq).fill(1), Tq);
    const last = g.tensor(H, 'f32', 'gen:last');
    g.copy(run.hf, last, H, (Tq - 1) * H, 0);
    const logits = new Float32Array(this.config.vocabSize);
    for (const c of this.fwd.headChunks(1)) {
      const t = g.tensor(c.hi - c.lo, 'f32', 'gen:logits');
      this.fwd.headChunk(last, 1, c, t);
      logits.set(await g.readF32(t), c.lo);
      t.destroy();
    }
    run.free();
    last.destroy();
    await tuneMatmuls(g);
    return logits;
  }

  async stepLogprobs(
    cache: SeamCache,
    ids: Int32Array,
    mask: Int32Array,
    targets: Int32Array,
    Tq: number,
  ): Promise<Float32Array> {
    const k = cache as KVCache,
      g = this.gpu,
      R = k.B * Tq;
    if (targets.length !== R) throw new Error(`stepLogprobs: ${targets.length} targets for ${R} positions`);
    const run = this.cached(k, ids, mask, Tq);
    const tg = g.fromI32(targets, 'score:targets'),
      stats = g.tensor(R * 3, 'f32', 'score:ce'),
      lp = g.tensor(R, 'f32', 'score:logprob');
    this.fwd.logprobs(run.hf, tg, R, stats, lp);
    const out = await g.readF32(lp);
    run.free();
    [tg, stats, lp].forEach((t) => t.destroy());
    await tuneMatmuls(g);
    return out;
  }

  /**
   * Token log-probs of prefix+suffix for every suffix of every group, each prefix computed once: the prefixes but
   * their last token through a batched cache, that cache copied once per suffix, then every suffix (led by its
   * prefix's last token) in one batched step. Padding is masked and rotary positions follow the mask, so the numbers
   * are those of scoring each full text.
   */
  async scoreGroups(groups: PrefixGroup[], padId = this.config.padTokenId): Promise<Float32Array[][]> {
    for (const gr of groups) {
      if (gr.prefix.length < 2) throw new Error('scoreGroups: every prefix needs at least 2 tokens');
      if (!gr.suffixes.length || gr.suffixes.some((x) => !x.length))
        throw new Error('scoreGroups: every group needs suffixes of at least one token');
    }
    const g = this.gpu,
      row = 3 * this.config.nHead * this.config.headDim,
      E = groups.length;
    const T1 = Math.max(...groups.map((x) => x.prefix.length)) - 1;
    const T2 = 1 + Math.max(...groups.flatMap((x) => x.suffixes.map((s) => s.length)));
    const Tmax = T1 + T2;
    const ids1 = new Int32Array(E * T1).fill(padId),
      mask1 = new Int32Array(E * T1),
      tg1 = new Int32Array(E * T1).fill(-100);
    groups.forEach((gr, e) => {
      for (let t = 0; t < gr.prefix.length - 1; t++) {
        ids1[e * T1 + t] = gr.prefix[t];
        mask1[e * T1 + t] = 1;
        tg1[e * T1 + t] = gr.prefix[t + 1];
      }
    });
    const rows = groups.flatMap((gr, e) => gr.suffixes.map((s) => ({ e, s })));
    const S = rows.length;
    const c1 = this.newCache(T1, E),
      c2 = this.newCache(Tmax, S);
    try {
      const head = await this.stepLogprobs(c1, ids1, mask1, tg1, T1);
      for (let l = 0; l < c1.qkv.length; l++)
        rows.forEach((r, k) => g.copy(c1.qkv[l], c2.qkv[l], T1 * row, r.e * T1 * row, k * Tmax * row));
      c2.len = T1;
      const ids2 = new Int32Array(S * T2).fill(padId),
        mask2 = new Int32Array(S * Tmax),
        tg2 = new Int32Array(S * T2).fill(-100);
      rows.forEach((r, k) => {
        const pre = groups[r.e].prefix;
        mask2.set(mask1.subarray(r.e * T1, (r.e + 1) * T1), k * Tmax);
        [pre[pre.length - 1], ...r.s].forEach((id, t) => {
          ids2[k * T2 + t] = id;
          mask2[k * Tmax + T1 + t] = 1;
        });
        r.s.forEach((id, t) => {
          tg2[k * T2 + t] = id;
        });
      });
      const tail = await this.stepLogprobs(c2, ids2, mask2, tg2, T2);
      const out: Float32Array[][] = groups.map(() => []);
      rows.forEach((r, k) => {
        const n = groups[r.e].prefix.length - 1;
        const lp = new Float32Array(n + r.s.length);
        lp.set(head.subarray(r.e * T1, r.e * T1 + n), 0);
        lp.set(tail.subarray(k * T2, k * T2 + r.s.length), n);
        out[r.e].push(lp);
      });
      return out;
    } finally {
      this.freeCache(c1);
      this.freeCache(c2);
    }
  }

  destroy(): void {
    for (const c of [...this.caches]) this.freeCache(c);
    for (const t of [...this.trainables]) t.destroy();
    this.fwd.destroy();
    if (this.owner) this.weights.destroy();
  }
}
