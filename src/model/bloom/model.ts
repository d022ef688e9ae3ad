// A loaded BLOOM model: weights + forward graph, with the inference entry points (log-probs, full logits,
// hidden states, KV-cached generation). Training lives in backward.ts / src/train.
import type { Gpu, Tensor } from '../../gpu/runtime.ts';
import type { PolicyOverrides } from '../../gpu/policy.ts';
import { bloomParameters, type BloomConfig } from './config.ts';
import type { BloomWeights, StorageDType } from './weights.ts';
import { BloomForward, type Batch } from './forward.ts';
import { BloomTrainable } from './trainable.ts';
import {
  nextTokenTargets,
  readParamTensors,
  type CausalLM,
  type Int8Options,
  type KVCache as SeamCache,
  type ParamTensor,
  type PrefixGroup,
  type TrainingOptions,
} from '../causal-lm.ts';
import { keyInfo } from '../../ops/attention.ts';
import { layernormForward } from '../../ops/layernorm.ts';
import { embeddingForward } from '../../ops/embedding.ts';
import { tuneMatmuls } from '../../ops/matmul-tune.ts';

export class BloomModel implements CausalLM {
  readonly fwd: BloomForward;
  private readonly caches = new Set<KVCache>();
  private readonly trainables = new Set<BloomTrainable>();
  /**
   * `owner`: this model frees the weights on destroy(); a policy view (withPolicy) shares its parent's and frees
   * only what it made.
   */
  constructor(
    readonly gpu: Gpu,
    readonly weights: BloomWeights,
    private readonly owner = true,
  ) {
    this.fwd = new BloomForward(gpu, weights);
  }
  get cfg(): BloomConfig {
    return this.weights.cfg;
  }
  get config(): BloomConfig {
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
  /** one position of one layer's cache: its fused q, k and v rows (f32) */
  get cacheRowBytes(): number {
    return 3 * this.cfg.hiddenSize * 4;
  }

  training(opts: TrainingOptions = {}): BloomTrainable {
    const t: BloomTrainable = new BloomTrainable(this.gpu, this.weights, opts, () => this.trainables.delete(t));
    this.trainables.add(t);
    return t;
  }

  readParameters(): Promise<Map<string, Float32Array>> {
    return readParamTensors(this.gpu, this.weights.tensors(), bloomParameters(this.cfg));
  }

  withPolicy(overrides: PolicyOverrides): BloomModel {
    return new BloomModel(this.gpu.withPolicy(overrides), this.weights, false);
  }

  /** log p(targets[r]) for every row (0 where the target is −100), plus optionally full logits and hidden states. */
  async forward(
    b: Batch,
    opts: { targets?: Int32Array; logits?: boolean; hidden?: boolean } = {},
  ): Promise<{ logprobs: Float32Array; logits?: Float32Array; hidden?: Float32Array[] }> {
    const g = this.gpu,
      V = this.cfg.vocabSize;
    const hidden: Float32Array[] | null = opts.hidden ? [] : null;
    const acts = await this.fwd.run(b, false, hidden);
    const R = acts.R;
    const targets = g.fromI32(opts.targets ?? nextTokenTargets(b), 'batch:targets');
    const stats = g.tensor(R * 3, 'f32', 'ce:stats'),
      lp = g.tensor(R, 'f32', 'ce:logprob');
    let logits: Float32Array | undefined;
    const pending: Promise<void>[] = [];
    if (opts.logits) {
      if (R * V > 256 * 1024 * 1024)
        throw new Error(
          `full logits of ${R}×${V} would need ${((R * V * 4) / 2 ** 30).toFixed(1)} GiB on the host: use log-probs instead`,
        );
      logits = new Float32Array(R * V);
    }
    this.fwd.logprobs(
      acts.lnf,
      targets,
      R,
      stats,
      lp,
      opts.logits
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
    await tuneMatmuls(g); // shape classes this call met for the first time (GPU family only; see ops/matmul.ts)
    return { logprobs, logits, hidden: hidden ?? undefined };
  }

  /** A KV cache: one qkv buffer per layer holding `Tmax` rows for each of B sequences (generation: B = 1). */
  newCache(Tmax: number, B = 1): KVCache {
    const H = this.cfg.hiddenSize;
    const c: KVCache = {
      B,
      Tmax,
      len: 0,
      qkv: Array.from({ length: this.cfg.nLayer }, (_, l) => this.gpu.tensor(B * Tmax * 3 * H, 'f32', `kv:h${l}`)),
    };
    this.caches.add(c);
    return c;
  }

  /**
   * Appends `ids` to the cached sequence and returns the logits of the last new position [V].
   * Every position of a single unpadded sequence is real, so ALiBi positions are 0..len−1.
   */
  async step(cache: KVCache, ids: number[]): Promise<Float32Array> {
    const g = this.gpu,
      cfg = this.cfg,
      H = cfg.hiddenSize,
      Tq = ids.length;
    if (cache.B !== 1) throw new Error('step() generates one sequence: use a cache made with B = 1');
    const run = this.cachedBlocks(cache, Int32Array.from(ids), new Int32Array(cache.len + Tq).fill(1), Tq);
    // only the last position's logits are needed
    // (a copy, not a view: storage-binding offsets must be 256-byte aligned)
    const last = g.tensor(H, 'f32', 'gen:last');
    g.copy(run.x, last, H, (Tq - 1) * H, 0);
    const lnf = g.tensor(H, 'f32', 'gen:lnf'),
      st = g.tensor(2, 'f32', 'gen:lnfstats');
    layernormForward(
      g,
      last,
      this.weights.get('ln_f.weight'),
      this.weights.get('ln_f.bias'),
      lnf,
      st,
      1,
      H,
      cfg.layerNormEpsilon,
    );
    const logits = new Float32Array(cfg.vocabSize);
    for (const c of this.fwd.headChunks(1)) {
      const t = g.tensor(c.hi - c.lo, 'f32', 'gen:logits');
      this.fwd.headChunk(lnf, 1, c, t);
      logits.set(await g.readF32(t), c.lo);
      t.destroy();
    }
    run.free();
    [last, lnf, st].forEach((t) => t.destroy());
    await tuneMatmuls(g);
    return logits;
  }

  /**
   * Appends Tq tokens to each of the cache's B sequences (ids [B, Tq]; mask [B, len+Tq] marks real positions of the
   * whole context, padding 0) and returns log p(targets) per new position [B·Tq] (0 where a target is −100).
   */
  async stepLogprobs(
    cache: KVCache,
    ids: Int32Array,
    mask: Int32Array,
    targets: Int32Array,
    Tq: number,
  ): Promise<Float32Array> {
    const g = this.gpu,
      cfg = this.cfg,
      H = cfg.hiddenSize,
      R = cache.B * Tq;
    if (targets.length !== R) throw new Error(`stepLogprobs: ${targets.length} targets for ${R} positions`);
    const run = this.cachedBlocks(cache, ids, mask, Tq);
    const lnf = g.tensor(R * H, 'f32', 'score:lnf'),
      st = g.tensor(R * 2, 'f32', 'score:lnfstats');
    layernormForward(
      g,
      run.x,
      this.weights.get('ln_f.weight'),
      this.weights.get('ln_f.bias'),
      lnf,
      st,
      R,
      H,
      cfg.layerNormEpsilon,
    );
    const tg = g.fromI32(targets, 'score:targets');
    const stats = g.tensor(R * 3, 'f32', 'score:ce'),
      lp = g.tensor(R, 'f32', 'score:logprob');
    this.fwd.logprobs(lnf, tg, R, stats, lp);
    const out = await g.readF32(lp);
    run.free();
    [lnf, st, tg, stats, lp].forEach((t) => t.destroy());
    await tuneMatmuls(g);
    return out;
  }

  /** The blocks over ids [B, Tq] appended at cache.len (which advances); x is the last block's output [B·Tq, H]. */
  private cachedBlocks(cache: KVCache, ids: Int32Array, mask: Int32Array, Tq: number): { x: Tensor; free: () => void } {
    const g = this.gpu,
      cfg = this.cfg,
      H = cfg.hiddenSize,
      B = cache.B,
      q0 = cache.len,
      Tk = q0 + Tq,
      R = B * Tq;
    if (!Tq) throw new Error('a cached step needs at least one token');
    if (Tk > cache.Tmax) throw new Error(`KV cache holds ${cache.Tmax} positions; ${Tk} needed: raise maxLength`);
    if (ids.length !== R || mask.length !== B * Tk)
      throw new Error(`cached step: ids ${ids.length} (want ${R}), mask ${mask.length} (want ${B * Tk})`);
    const idsT = g.fromI32(ids, 'gen:ids');
    const keyinfo = g.fromF32(keyInfo(mask, B, Tk), 'gen:keyinfo');
    const emb = g.tensor(R * H, 'f32', 'gen:emb');
    let x = g.tensor(R * H, 'f32', 'gen:x');
    const st = g.tensor(R * 2, 'f32', 'gen:lnstats');
    embeddingForward(g, idsT, this.weights.emb, emb, R, H);
    layernormForward(
      g,
      emb,
      this.weights.get('word_embeddings_layernorm.weight'),
      this.weights.get('word_embeddings_layernorm.bias'),
      x,
      st,
      R,
      H,
      cfg.layerNormEpsilon,
    );
    const a = this.fwd.blockActs(R, B, Tq, Tk, 'gen', x);
    let out = g.tensor(R * H, 'f32', 'gen:out');
    for (let l = 0; l < cfg.nLayer; l++) {
      this.fwd.block(l, x, a, out, { B, Tq, Tk, q0, Tmax: cache.Tmax }, keyinfo, cache.qkv[l], true);
      [x, out] = [out, x];
    }
    cache.len = Tk;
    return {
      x,
      free: () => {
        for (const [k, t] of Object.entries(a)) if (k !== 'x') t?.destroy();
        [idsT, keyinfo, emb, x, out, st].forEach((t) => t.destroy());
      },
    };
  }

  /**
   * Token log-probs of prefix+suffix for every suffix of every group, each prefix computed once: (1) the groups'
   * prefixes but their last token, batched (right-padded), through a KV cache; (2) that cache copied once per suffix,
   * and every suffix, led by its prefix's last token (so its first target is scored), appended in one batched step.
   * Padding keys are masked and ALiBi positions follow the mask, so the numbers are those of scoring each full
   * text (within f32 rounding). Returns, per group, per suffix, its n−1 token log-probs.
   */
  async scoreGroups(groups: PrefixGroup[], padId = 0): Promise<Float32Array[][]> {
    for (const gr of groups) {
      if (gr.prefix.length < 2) throw new Error('scoreGroups: every prefix needs at least 2 tokens');
      if (!gr.suffixes.length || gr.suffixes.some((x) => !x.length))
        throw new Error('scoreGroups: every group needs suffixes of at least one token');
    }
    const g = this.gpu,
      H = this.cfg.hiddenSize,
      E = groups.length;
    const T1 = Math.max(...groups.map((x) => x.prefix.length)) - 1; // prefix positions but the last
    const T2 = 1 + Math.max(...groups.flatMap((x) => x.suffixes.map((s) => s.length)));
    const Tmax = T1 + T2;
    const ids1 = new Int32Array(E * T1).fill(padId),
      mask1 = new Int32Array(E * T1),
      tg1 = new Int32Array(E * T1).fill(-100);
    groups.forEach((gr, e) => {
      const n = gr.prefix.length - 1;
      for (let t = 0; t < n; t++) {
        ids1[e * T1 + t] = gr.prefix[t];
        mask1[e * T1 + t] = 1;
        tg1[e * T1 + t] = gr.prefix[t + 1];
      }
    });
    const rows = groups.flatMap((gr, e) => gr.suffixes.map((s) => ({ e, s })));
    const S = rows.length;
    const c1 = this.newCache(T1, E),
      c2 = this.newCache(Tmax, S); // the prefix cache needs only the prefix rows
    try {
      const head = await this.stepLogprobs(c1, ids1, mask1, tg1, T1);
      for (let l = 0; l < c1.qkv.length; l++) {
        rows.forEach((r, k) => g.copy(c1.qkv[l], c2.qkv[l], T1 * 3 * H, r.e * T1 * 3 * H, k * Tmax * 3 * H));
      }
      c2.len = T1;
      const ids2 = new Int32Array(S * T2).fill(padId),
        mask2 = new Int32Array(S * Tmax),
        tg2 = new Int32Array(S * T2).fill(-100);
      rows.forEach((r, k) => {
        const pre = groups[r.e].prefix;
        mask2.set(mask1.subarray(r.e * T1, (r.e + 1) * T1), k * Tmax);
        const seq = [pre[pre.length - 1], ...r.s];
        seq.forEach((id, t) => {
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

  freeCache(c: KVCache): void {
    if (!this.caches.delete(c)) return;
    c.qkv.forEach((t) => t.destroy());
  }

  /** Frees the caches and training set-ups still alive, the ALiBi slopes and (unless a policy view) the weights. */
  destroy(): void {
    for (const c of [...this.caches]) this.freeCache(c);
    for (const t of [...this.trainables]) t.destroy();
    this.fwd.slopes.destroy();
    if (this.owner) this.weights.destroy();
  }
}

/** BLOOM's cache: one fused qkv buffer per layer holding Tmax rows for each of B sequences. */
export interface KVCache extends SeamCache {
  qkv: Tensor[];
}

export type { PrefixGroup } from '../causal-lm.ts';
