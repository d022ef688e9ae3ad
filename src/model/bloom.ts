// A loaded BLOOM model: weights + forward graph, with the inference entry points (log-probs, full logits,
// hidden states, KV-cached generation). Training lives in backward.ts / src/train.
import type { Gpu, Tensor } from '../gpu/runtime.ts';
import type { BloomConfig } from './config.ts';
import { BloomWeights, type StorageDType } from './weights.ts';
import { BloomForward, type Batch } from './forward.ts';
import { keyInfo } from '../ops/attention.ts';
import { layernormForward } from '../ops/layernorm.ts';
import { embeddingForward } from '../ops/embedding.ts';

/** Next-token targets of a batch: ids[t+1] where both t and t+1 are real tokens, else −100. */
export function nextTokenTargets(b: Batch): Int32Array {
  const out = new Int32Array(b.B * b.T).fill(-100);
  for (let r = 0; r < b.B; r++) {
    for (let t = 0; t + 1 < b.T; t++) {
      const i = r * b.T + t;
      if (b.mask[i] && b.mask[i + 1]) out[i] = b.ids[i + 1];
    }
  }
  return out;
}

export class BloomModel {
  readonly fwd: BloomForward;
  constructor(readonly gpu: Gpu, readonly weights: BloomWeights) {
    this.fwd = new BloomForward(gpu, weights);
  }
  get cfg(): BloomConfig { return this.weights.cfg; }
  get dtype(): StorageDType { return this.weights.dtype; }

  /** log p(targets[r]) for every row (0 where the target is −100), plus optionally full logits and hidden states. */
  async forward(b: Batch, opts: { targets?: Int32Array; logits?: boolean; hidden?: boolean } = {}): Promise<{ logprobs: Float32Array; logits?: Float32Array; hidden?: Float32Array[] }> {
    const g = this.gpu, V = this.cfg.vocabSize;
    const hidden: Float32Array[] | null = opts.hidden ? [] : null;
    const acts = await this.fwd.run(b, false, hidden);
    const R = acts.R;
    const targets = g.fromI32(opts.targets ?? nextTokenTargets(b), 'batch:targets');
    const stats = g.tensor(R * 3, 'f32', 'ce:stats'), lp = g.tensor(R, 'f32', 'ce:logprob');
    let logits: Float32Array | undefined;
    const pending: Promise<void>[] = [];
    if (opts.logits) {
      if (R * V > 256 * 1024 * 1024) throw new Error(`full logits of ${R}×${V} would need ${(R * V * 4 / 2 ** 30).toFixed(1)} GiB on the host: use log-probs instead`);
      logits = new Float32Array(R * V);
    }
    this.fwd.logprobs(acts.lnf, targets, R, stats, lp, opts.logits ? (c, t) => {
      const copy = g.tensor(t.numel, 'f32', 'logits:copy');
      g.copy(t, copy);
      pending.push(g.readF32(copy).then((chunk) => {
        const w = c.hi - c.lo;
        for (let r = 0; r < R; r++) logits!.set(chunk.subarray(r * w, (r + 1) * w), r * V + c.lo);
        copy.destroy();
      }));
    } : undefined);
    const logprobs = await g.readF32(lp);
    await Promise.all(pending);
    [targets, stats, lp].forEach((t) => t.destroy());
    this.fwd.freeActs(acts);
    return { logprobs, logits, hidden: hidden ?? undefined };
  }

  /** A KV cache: one qkv buffer per layer holding `Tmax` rows of a single sequence. */
  newCache(Tmax: number): KVCache {
    const H = this.cfg.hiddenSize;
    return { Tmax, len: 0, qkv: Array.from({ length: this.cfg.nLayer }, (_, l) => this.gpu.tensor(Tmax * 3 * H, 'f32', `kv:h${l}`)) };
  }

  /**
   * Appends `ids` to the cached sequence and returns the logits of the last new position [V].
   * Every position of a single unpadded sequence is real, so ALiBi positions are 0..len−1.
   */
  async step(cache: KVCache, ids: number[]): Promise<Float32Array> {
    const g = this.gpu, cfg = this.cfg, H = cfg.hiddenSize, Tq = ids.length;
    const run = this.cachedBlocks(cache, ids);
    // only the last position's logits are needed
    // (a copy, not a view: storage-binding offsets must be 256-byte aligned)
    const last = g.tensor(H, 'f32', 'gen:last');
    g.copy(run.x, last, H, (Tq - 1) * H, 0);
    const lnf = g.tensor(H, 'f32', 'gen:lnf'), st = g.tensor(2, 'f32', 'gen:lnfstats');
    layernormForward(g, last, this.weights.get('ln_f.weight'), this.weights.get('ln_f.bias'), lnf, st, 1, H, cfg.layerNormEpsilon);
    const logits = new Float32Array(cfg.vocabSize);
    for (const c of this.fwd.headChunks(1)) {
      const t = g.tensor(c.hi - c.lo, 'f32', 'gen:logits');
      this.fwd.headChunk(lnf, 1, c, t);
      logits.set(await g.readF32(t), c.lo);
      t.destroy();
    }
    run.free();
    [last, lnf, st].forEach((t) => t.destroy());
    return logits;
  }

  /**
   * Appends `ids` to the cached sequence and returns log p(targets[t]) at each new position t (0 where the target
   * is −100): scoring with a cached prefix (the label texts of one prompt share everything but the label).
   */
  async stepLogprobs(cache: KVCache, ids: number[], targets: number[]): Promise<Float32Array> {
    const g = this.gpu, cfg = this.cfg, H = cfg.hiddenSize, Tq = ids.length;
    if (targets.length !== Tq) throw new Error(`stepLogprobs: ${targets.length} targets for ${Tq} ids`);
    const run = this.cachedBlocks(cache, ids);
    const lnf = g.tensor(Tq * H, 'f32', 'score:lnf'), st = g.tensor(Tq * 2, 'f32', 'score:lnfstats');
    layernormForward(g, run.x, this.weights.get('ln_f.weight'), this.weights.get('ln_f.bias'), lnf, st, Tq, H, cfg.layerNormEpsilon);
    const tg = g.fromI32(Int32Array.from(targets), 'score:targets');
    const stats = g.tensor(Tq * 3, 'f32', 'score:ce'), lp = g.tensor(Tq, 'f32', 'score:logprob');
    this.fwd.logprobs(lnf, tg, Tq, stats, lp);
    const out = await g.readF32(lp);
    run.free();
    [lnf, st, tg, stats, lp].forEach((t) => t.destroy());
    return out;
  }

  /** The blocks over `ids` appended at cache.len (cache.len advances); x is the last block's output [Tq, H]. */
  private cachedBlocks(cache: KVCache, ids: number[]): { x: Tensor; free: () => void } {
    const g = this.gpu, cfg = this.cfg, H = cfg.hiddenSize, Tq = ids.length, q0 = cache.len, Tk = q0 + Tq;
    if (!Tq) throw new Error('a cached step needs at least one token');
    if (Tk > cache.Tmax) throw new Error(`KV cache holds ${cache.Tmax} positions; ${Tk} needed: raise maxLength`);
    const idsT = g.fromI32(Int32Array.from(ids), 'gen:ids');
    const keyinfo = g.fromF32(keyInfo(new Int32Array(Tk).fill(1), 1, Tk), 'gen:keyinfo');
    const emb = g.tensor(Tq * H, 'f32', 'gen:emb');
    let x = g.tensor(Tq * H, 'f32', 'gen:x');
    const st = g.tensor(Tq * 2, 'f32', 'gen:lnstats');
    embeddingForward(g, idsT, this.weights.emb, emb, Tq, H);
    layernormForward(g, emb, this.weights.get('word_embeddings_layernorm.weight'), this.weights.get('word_embeddings_layernorm.bias'), x, st, Tq, H, cfg.layerNormEpsilon);
    const a = this.fwd.blockActs(Tq, 1, Tq, Tk, 'gen', x);
    let out = g.tensor(Tq * H, 'f32', 'gen:out');
    for (let l = 0; l < cfg.nLayer; l++) {
      this.fwd.block(l, x, a, out, { B: 1, Tq, Tk, q0, Tmax: cache.Tmax }, keyinfo, cache.qkv[l], true);
      [x, out] = [out, x];
    }
    cache.len = Tk;
    const result = x;
    return {
      x: result,
      free: () => {
        for (const [k, t] of Object.entries(a)) if (k !== 'x') t.destroy();
        [idsT, keyinfo, emb, x, out, st].forEach((t) => t.destroy());
      },
    };
  }

  /**
   * Token log-probs of prefix+suffix for each suffix, computing the shared prefix once: the prefix (all but its last
   * token) goes through the KV cache one time, then each suffix is appended after it (with the prefix's last token
   * again, so its first target is scored) and rolled back. Same numbers as scoring each full text (within f32).
   */
  async scoreShared(prefix: number[], suffixes: number[][]): Promise<Float32Array[]> {
    if (prefix.length < 2) throw new Error('scoreShared needs a prefix of at least 2 tokens');
    if (suffixes.some((s) => !s.length)) throw new Error('scoreShared: every suffix needs at least one token');
    const P = prefix.length;
    const cache = this.newCache(P + Math.max(...suffixes.map((s) => s.length)));
    try {
      const head = await this.stepLogprobs(cache, prefix.slice(0, P - 1), prefix.slice(1));
      const out: Float32Array[] = [];
      for (const s of suffixes) {
        cache.len = P - 1;
        const tail = await this.stepLogprobs(cache, [prefix[P - 1], ...s], [...s, -100]);
        const lp = new Float32Array(P - 1 + s.length);
        lp.set(head, 0);
        lp.set(tail.subarray(0, s.length), P - 1);
        out.push(lp);
      }
      return out;
    } finally {
      this.freeCache(cache);
    }
  }

  freeCache(c: KVCache): void { c.qkv.forEach((t) => t.destroy()); }

  destroy(): void { this.weights.destroy(); this.fwd.slopes.destroy(); }
}

export interface KVCache { Tmax: number; len: number; qkv: Tensor[] }
