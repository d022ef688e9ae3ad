// BLOOM weights on the GPU: one tensor per parameter (f32 or packed f16), the word embedding split into
// vocabulary shards that each fit maxStorageBufferBindingSize (BLOOMZ-560M's 250,880×1024 table needs it).
import type { Gpu, Tensor, TDType } from '../../gpu/runtime.ts';
import { bloomParameters, type BloomConfig } from './config.ts';
import { randomArrays, type Int8Options, type ParamSpec, type ParamTensor, type StorageDType } from '../causal-lm.ts';
import type { ParameterSource } from '../causal-lm.ts';
import { f32ArrayToF16 } from '../dtype.ts';
import { checkpointSource, type Checkpoint } from '../checkpoint.ts';
import { quantizeWeight } from '../int8.ts';
import type { Int8Weight } from '../../ops/matmul_int8.ts';

export type { Int8Options, StorageDType } from '../causal-lm.ts';

export interface EmbShard {
  w: Tensor;
  lo: number;
  hi: number;
}

/** The Linear families LLM.int8() quantizes; the LM head (tied to the embedding), embeddings and LayerNorms stay 16/32-bit. */
export const INT8_LINEARS = [
  'self_attention.query_key_value',
  'self_attention.dense',
  'mlp.dense_h_to_4h',
  'mlp.dense_4h_to_h',
] as const;

export class BloomWeights {
  readonly params = new Map<string, Tensor>();
  readonly emb: EmbShard[] = [];
  /** quantized Linear weights (with int8), by parameter name; these names are absent from `params` */
  readonly int8w = new Map<string, Int8Weight>();
  /** the parameter table by name: each tensor's shape and role */
  readonly specs: Map<string, ParamSpec>;
  constructor(
    readonly gpu: Gpu,
    readonly cfg: BloomConfig,
    readonly dtype: StorageDType,
    readonly int8?: Int8Options,
  ) {
    if (int8 && !(int8.threshold >= 0 && Number.isFinite(int8.threshold)))
      throw new Error(`--int8-threshold must be a finite number ≥ 0, got ${int8.threshold}`);
    this.specs = new Map(bloomParameters(cfg).map((p) => [p.name, p]));
    // an untied LM head (tie_word_embeddings false) is the output embedding
    this.specs.set('lm_head.weight', {
      name: 'lm_head.weight',
      shape: [cfg.vocabSize, cfg.hiddenSize],
      role: 'embedding',
    });
  }

  private spec(name: string): ParamSpec {
    const p = this.specs.get(name);
    if (!p)
      throw new Error(`"${name}" is not a BLOOM parameter name (see bloomParameters in src/model/bloom/config.ts)`);
    return p;
  }

  /** Every parameter tensor with its role: the table's order but the embedding, then the embedding's row shards. */
  tensors(): ParamTensor[] {
    const out: ParamTensor[] = [];
    for (const [name, tensor] of this.params) out.push({ key: name, name, role: this.spec(name).role, tensor });
    const V = this.cfg.vocabSize,
      H = this.cfg.hiddenSize;
    for (const s of this.emb)
      out.push({
        key: `word_embeddings.weight[${s.lo}:${s.hi}]`,
        name: 'word_embeddings.weight',
        role: 'embedding',
        tensor: s.w,
        rows: { lo: s.lo, hi: s.hi, total: V, width: H },
      });
    return out;
  }

  get(name: string): Tensor {
    const t = this.params.get(name);
    if (!t)
      throw new Error(
        this.int8w.has(name)
          ? `weight ${name} is stored as int8 (LLM.int8()): use int8Weight()`
          : `weight ${name} is not loaded`,
      );
    return t;
  }

  /** The quantized weight of a Linear stored as int8, else undefined. */
  int8Weight(name: string): Int8Weight | undefined {
    return this.int8w.get(name);
  }

  /** Rows per embedding shard so that one shard (f32 or f16) stays under the binding and buffer limits. */
  static shardRows(gpu: Gpu, cfg: BloomConfig, bytesPerElem: number, cap = Infinity): number {
    const limit = Math.min(gpu.maxBinding, gpu.maxBuffer, cap);
    const rows = Math.floor(limit / (cfg.hiddenSize * bytesPerElem));
    // multiples of 64 rows keep LM-head chunks aligned; never more than the vocabulary
    return Math.max(1, Math.min(cfg.vocabSize, rows >= 64 ? rows - (rows % 64) : rows));
  }

  /** Matrices use the storage dtype; LayerNorm parameters and biases stay f32 (tiny, and precision-sensitive). */
  kind(name: string): TDType {
    const role = this.spec(name).role;
    return this.dtype === 'f16' && (role === 'matrix' || role === 'embedding') ? 'f16p' : 'f32';
  }

  upload(name: string, data: Float32Array): void {
    if (name === 'word_embeddings.weight') {
      this.uploadEmbedding(data);
      return;
    }
    // LLM.int8() quantizes the block Linears' weights: exactly the `matrix` parameters
    if (this.int8 && this.spec(name).role === 'matrix') {
      this.uploadInt8(name, data);
      return;
    }
    const kind = this.kind(name);
    const t = this.gpu.tensor(data.length, kind, `weight:${name}`);
    this.gpu.upload(t, kind === 'f16p' ? f32ArrayToF16(data) : data);
    this.params.set(name, t);
  }

  /** Quantizes on the host and uploads only CB and SCB: the full-precision matrix never reaches the GPU. */
  private uploadInt8(name: string, data: Float32Array): void {
    const [N, K] = this.spec(name).shape;
    if (data.length !== N * K) throw new Error(`int8 weight ${name}: ${data.length} values are not [${N}, ${K}]`);
    const q = quantizeWeight(data, N, K);
    const cb = this.gpu.tensor(q.packed.length, 'u32', `weight:${name}:int8`),
      scb = this.gpu.tensor(N, 'f32', `weight:${name}:scb`);
    this.gpu.upload(cb, q.packed);
    this.gpu.upload(scb, q.scb);
    this.int8w.set(name, { cb, scb, N, K });
  }

  private uploadEmbedding(data: Float32Array, shardCap?: number): void {
    const H = this.cfg.hiddenSize,
      V = this.cfg.vocabSize;
    const kind: TDType = this.dtype === 'f16' ? 'f16p' : 'f32';
    const rows = BloomWeights.shardRows(this.gpu, this.cfg, kind === 'f16p' ? 2 : 4, shardCap);
    for (let lo = 0; lo < V; lo += rows) {
      const hi = Math.min(V, lo + rows);
      const part = data.subarray(lo * H, hi * H);
      const w = this.gpu.tensor(part.length, kind, `weight:word_embeddings[${lo}:${hi}]`);
      this.gpu.upload(w, kind === 'f16p' ? f32ArrayToF16(part) : part);
      this.emb.push({ w, lo, hi });
    }
  }

  /** Loads every parameter of the table from `source` (a checkpoint: checkpointSource), one tensor at a time. */
  static async fromSource(
    gpu: Gpu,
    cfg: BloomConfig,
    source: ParameterSource,
    dtype: StorageDType,
    onProgress?: (done: number, total: number) => void,
    int8?: Int8Options,
  ): Promise<BloomWeights> {
    const w = new BloomWeights(gpu, cfg, dtype, int8);
    const specs = bloomParameters(cfg);
    try {
      for (let i = 0; i < specs.length; i++) {
        w.upload(specs[i].name, await source(specs[i].name));
        onProgress?.(i + 1, specs.length);
      }
    } catch (e) {
      w.destroy();
      throw e;
    }
    return w;
  }

  /** Loads every parameter of the checkpoint (validated by openCheckpoint), one tensor at a time. */
  static fromCheckpoint(
    gpu: Gpu,
    ck: Checkpoint,
    dtype: StorageDType,
    onProgress?: (done: number, total: number) => void,
    int8?: Int8Options,
  ): Promise<BloomWeights> {
    if (ck.config.family !== 'bloom') throw new Error(`${ck.dir}: a ${ck.config.family} checkpoint, not BLOOM`);
    return BloomWeights.fromSource(gpu, ck.config as BloomConfig, checkpointSource(ck), dtype, onProgress, int8);
  }

  /** Builds weights from host arrays (random-init models, tests). */
  static fromArrays(
    gpu: Gpu,
    cfg: BloomConfig,
    arrays: Map<string, Float32Array>,
    dtype: StorageDType,
    shardCap?: number,
    int8?: Int8Options,
  ): BloomWeights {
    const w = new BloomWeights(gpu, cfg, dtype, int8);
    for (const { name, shape } of bloomParameters(cfg)) {
      const a = arrays.get(name);
      if (!a) throw new Error(`missing parameter ${name} ${JSON.stringify(shape)}`);
      if (name === 'word_embeddings.weight') w.uploadEmbedding(a, shardCap);
      else w.upload(name, a);
    }
    return w;
  }

  bytes(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.byteLength;
    for (const s of this.emb) n += s.w.byteLength;
    for (const q of this.int8w.values()) n += q.cb.byteLength + q.scb.byteLength;
    return n;
  }

  /** Parameter count (a quantized matrix counts its N·K weights). */
  parameterCount(): number {
    let n = 0;
    for (const t of this.params.values()) n += t.numel;
    for (const s of this.emb) n += s.w.numel;
    for (const q of this.int8w.values()) n += q.N * q.K;
    return n;
  }

  destroy(): void {
    for (const t of this.params.values()) t.destroy();
    for (const s of this.emb) s.w.destroy();
    for (const q of this.int8w.values()) {
      q.cb.destroy();
      q.scb.destroy();
    }
    this.int8w.clear();
    this.params.clear();
    this.emb.length = 0;
  }
}

/** Random BLOOM weights (normal(0, std) matrices, LayerNorm γ=1 β=0, zero biases): for shape benchmarks and tests. */
export function randomBloomArrays(cfg: BloomConfig, seed = 1, std = 0.02): Map<string, Float32Array> {
  return randomArrays(bloomParameters(cfg), seed, std);
}
