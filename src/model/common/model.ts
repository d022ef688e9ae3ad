// What every family's CausalLM does the same way, written once: the bookkeeping of its KV caches and training set-ups
// (freed by destroy()), the full forward's log-probs and optional logits, the KV-cached step and stepLogprobs, and
// prefix-shared scoring (scoreGroups). A family (src/model/bloom/, src/model/llama/) extends DecoderModel with its
// block graph: the embedding and blocks over a cache's new rows, its final norm and its LM head.
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
  type KVCache,
  type ModelConfig,
  type ParamSpec,
  type ParamTensor,
  type PrefixGroup,
  type StorageDType,
  type Trainable,
  type TrainingOptions,
} from '../causal-lm.ts';
import { keyInfo } from '../../ops/attention.ts';
import { tuneMatmuls } from '../../ops/matmul-tune.ts';
import type { LmHead } from './head.ts';

/** A cache of a family whose attention reads one packed q/k/v buffer per layer ([B, Tmax, row] each). */
export interface LayerCache extends KVCache {
  qkv: Tensor[];
}

/** Queries [q0, q0 + Tq) of each of B sequences over a context of Tk keys, in buffers of Tmax rows. */
export interface Rows {
  B: number;
  Tq: number;
  Tk: number;
  q0: number;
  Tmax: number;
}

/** What DecoderModel uses of a family's forward graph: its LM head, and its own teardown. */
export interface HeadGraph {
  readonly head: LmHead;
  /** frees what the graph made for itself (slopes, rotary tables) */
  destroy(): void;
}

/** What DecoderModel uses of a family's weights. */
export interface ModelWeights {
  readonly cfg: ModelConfig;
  readonly dtype: StorageDType;
  readonly int8?: Int8Options;
  tensors(): ParamTensor[];
  parameterCount(): number;
  bytes(): number;
  destroy(): void;
}

/** Device tensors of one call, freed together. */
export interface Run {
  /** the last block's output (cachedBlocks) or the final norm's (finalNorm), [R, H] */
  x: Tensor;
  free(): void;
}

/** Frees every distinct tensor of `list` once (saved activations share tensors: a block's input is the last one's output). */
export function freeOnce(list: Iterable<Tensor | null | undefined>): void {
  for (const t of new Set(list)) t?.destroy();
}

/** Frees a block's activations but its input `x`, which belongs to the caller. */
export function freeBlockScratch(a: { x: Tensor }): void {
  for (const [k, t] of Object.entries(a)) if (k !== 'x') (t as Tensor | null | undefined)?.destroy();
}

export abstract class DecoderModel<W extends ModelWeights, F extends HeadGraph, T extends Trainable = Trainable>
  implements CausalLM
{
  private readonly caches = new Set<LayerCache>();
  private readonly trainables = new Set<T>();

  /**
   * `owner`: destroy() frees the weights; a policy view (withPolicy) shares its parent's weights and frees only what
   * it made.
   */
  constructor(
    readonly gpu: Gpu,
    readonly weights: W,
    readonly fwd: F,
    private readonly owner: boolean,
  ) {}

  get config(): W['cfg'] {
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

  /** bytes of one position of one layer's cache (f32) */
  abstract readonly cacheRowBytes: number;
  /** the family's parameter table (checkpoint order) */
  protected abstract parameterTable(): ParamSpec[];
  /** a view of this model with other kernel choices: the family's constructor with owner false */
  abstract withPolicy(overrides: PolicyOverrides): CausalLM;
  /** the family's training set-up; it calls `onDestroy` from its destroy() */
  protected abstract makeTrainable(opts: TrainingOptions, onDestroy: () => void): T;
  /** embedding and blocks over a batch, without saving activations; x is the final norm's output [B·T, H] */
  protected abstract runForward(b: Batch, hidden: Float32Array[] | null): Promise<Run>;
  /** embedding and blocks over the cache's new rows (ids [B·Tq] on the device, keyinfo of the whole context) */
  protected abstract cachedBlocks(cache: LayerCache, ids: Tensor, keyinfo: Tensor, mask: Int32Array, s: Rows): Run;
  /** the final norm over R rows of x */
  protected abstract finalNorm(x: Tensor, R: number): Run;

  training(opts: TrainingOptions = {}): T {
    const t: T = this.makeTrainable(opts, () => this.trainables.delete(t));
    this.trainables.add(t);
    return t;
  }

  readParameters(): Promise<Map<string, Float32Array>> {
    return readParamTensors(this.gpu, this.weights.tensors(), this.parameterTable());
  }

  /** log p(targets[r]) for every row (0 where the target is −100), plus optionally full logits and hidden states. */
  async forward(b: Batch, opts: ForwardOptions = {}): Promise<ForwardResult> {
    const g = this.gpu,
      V = this.config.vocabSize,
      R = b.B * b.T;
    if (opts.logits && R * V > 256 * 1024 * 1024)
      throw new Error(
        `full logits of ${R}×${V} would need ${((R * V * 4) / 2 ** 30).toFixed(1)} GiB on the host: use log-probs instead`,
      );
    const hidden: Float32Array[] | null = opts.hidden ? [] : null;
    const run = await this.runForward(b, hidden);
    const logits = opts.logits ? new Float32Array(R * V) : undefined;
    const targets = g.fromI32(opts.targets ?? nextTokenTargets(b), 'batch:targets');
    const stats = g.tensor(R * 3, 'f32', 'ce:stats'),
      lp = g.tensor(R, 'f32', 'ce:logprob');
    const pending: Promise<void>[] = [];
    this.fwd.head.logprobs(
      run.x,
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
    run.free();
    await tuneMatmuls(g); // shape classes this call met for the first time (GPU family only; see ops/matmul.ts)
    return { logprobs, logits, hidden: hidden ?? undefined };
  }

  /** A KV cache: one packed qkv buffer per layer holding `Tmax` rows for each of B sequences (generation: B = 1). */
  newCache(Tmax: number, B = 1): LayerCache {
    const n = (B * Tmax * this.cacheRowBytes) / 4;
    const c: LayerCache = {
      B,
      Tmax,
      len: 0,
      qkv: Array.from({ length: this.config.nLayer }, (_, l) => this.gpu.tensor(n, 'f32', `kv:layer${l}`)),
    };
    this.caches.add(c);
    return c;
  }

  freeCache(c: KVCache): void {
    const k = c as LayerCache;
    if (!this.caches.delete(k)) return;
    k.qkv.forEach((t) => t.destroy());
  }

  /** The blocks over ids [B, Tq] appended at cache.len (which advances); x is the last block's output [B·Tq, H]. */
  private cached(c: KVCache, ids: Int32Array, mask: Int32Array, Tq: number): Run {
    const cache = c as LayerCache,
      g = this.gpu,
      B = cache.B,
      q0 = cache.len,
      Tk = q0 + Tq,
      R = B * Tq;
    if (!Tq) throw new Error('a cached step needs at least one token');
    if (Tk > cache.Tmax) throw new Error(`KV cache holds ${cache.Tmax} positions; ${Tk} needed: raise maxLength`);
    if (ids.length !== R || mask.length !== B * Tk)
      throw new Error(`cached step: ids ${ids.length} (want ${R}), mask ${mask.length} (want ${B * Tk})`);
    const idsT = g.fromI32(ids, 'gen:ids'),
      keyinfo = g.fromF32(keyInfo(mask, B, Tk), 'gen:keyinfo');
    const run = this.cachedBlocks(cache, idsT, keyinfo, mask, { B, Tq, Tk, q0, Tmax: cache.Tmax });
    cache.len = Tk;
    return {
      x: run.x,
      free: () => {
        run.free();
        idsT.destroy();
        keyinfo.destroy();
      },
    };
  }

  /** Appends `ids` to a B = 1 cache (every position real) and returns the logits of the last new position [V]. */
  async step(cache: KVCache, ids: number[]): Promise<Float32Array> {
    const g = this.gpu,
      H = this.config.hiddenSize,
      Tq = ids.length;
    if (cache.B !== 1) throw new Error('step() generates one sequence: use a cache made with B = 1');
    const run = this.cached(cache, Int32Array.from(ids), new Int32Array(cache.len + Tq).fill(1), Tq);
    // only the last position's logits are needed
    // (a copy, not a view: storage-binding offsets must be 256-byte aligned)
    const last = g.tensor(H, 'f32', 'gen:last');
    g.copy(run.x, last, H, (Tq - 1) * H, 0);
    const norm = this.finalNorm(last, 1);
    const logits = new Float32Array(this.config.vocabSize);
    for (const c of this.fwd.head.chunks(1)) {
      const t = g.tensor(c.hi - c.lo, 'f32', 'gen:logits');
      this.fwd.head.chunk(norm.x, 1, c, t);
      logits.set(await g.readF32(t), c.lo);
      t.destroy();
    }
    run.free();
    norm.free();
    last.destroy();
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
      R = cache.B * Tq;
    if (targets.length !== R) throw new Error(`stepLogprobs: ${targets.length} targets for ${R} positions`);
    const run = this.cached(cache, ids, mask, Tq);
    const norm = this.finalNorm(run.x, R);
    const tg = g.fromI32(targets, 'score:targets'),
      stats = g.tensor(R * 3, 'f32', 'score:ce'),
      lp = g.tensor(R, 'f32', 'score:logprob');
    this.fwd.head.logprobs(norm.x, tg, R, stats, lp);
    const out = await g.readF32(lp);
    run.free();
    norm.free();
    [tg, stats, lp].forEach((t) => t.destroy());
    await tuneMatmuls(g);
    return out;
  }

  /**
   * Token log-probs of prefix+suffix for every suffix of every group, each prefix computed once: (1) the groups'
   * prefixes but their last token, batched (right-padded), through a KV cache; (2) that cache copied once per suffix,
   * and every suffix, led by its prefix's last token (so its first target is scored), appended in one batched step.
   * Padding keys are masked and positions follow the mask, so the numbers are those of scoring each full text (within
   * f32 rounding). Returns, per group, per suffix, its n−1 token log-probs.
   */
  async scoreGroups(groups: PrefixGroup[], padId = this.config.padTokenId): Promise<Float32Array[][]> {
    for (const gr of groups) {
      if (gr.prefix.length < 2) throw new Error('scoreGroups: every prefix needs at least 2 tokens');
      if (!gr.suffixes.length || gr.suffixes.some((x) => !x.length))
        throw new Error('scoreGroups: every group needs suffixes of at least one token');
    }
    const g = this.gpu,
      row = this.cacheRowBytes / 4,
      E = groups.length;
    const T1 = Math.max(...groups.map((x) => x.prefix.length)) - 1; // prefix positions but the last
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
      c2 = this.newCache(Tmax, S); // the prefix cache needs only the prefix rows
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

  /** Frees the caches and training set-ups still alive, the graph's own tensors and (unless a view) the weights. */
  destroy(): void {
    for (const c of [...this.caches]) this.freeCache(c);
    for (const t of [...this.trainables]) t.destroy();
    this.fwd.destroy();
    if (this.owner) this.weights.destroy();
  }
}
