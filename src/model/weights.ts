// BLOOM weights on the GPU: one tensor per parameter (f32 or packed f16), the word embedding split into
// vocabulary shards that each fit maxStorageBufferBindingSize (BLOOMZ-560M's 250,880×1024 table needs it).
import type { Gpu, Tensor, TDType } from '../gpu/runtime.ts';
import { bloomParameters, parameterRole, type BloomConfig } from './config.ts';
import { f32ArrayToF16, bf16ArrayToF32 } from './dtype.ts';
import type { Checkpoint } from './checkpoint.ts';
import { quantizeWeight } from './int8.ts';
import type { Int8Weight } from '../ops/matmul_int8.ts';
import { xorshift32 } from '../util/random.ts';

export type StorageDType = 'f32' | 'f16';

export interface EmbShard {
  w: Tensor;
  lo: number;
  hi: number;
}

/** LLM.int8() storage (docs/int8.md): threshold is the activation outlier threshold (bitsandbytes: 6; 0 = int8 only). */
export interface Int8Options {
  threshold: number;
}

/** The Linear families LLM.int8() quantizes; the LM head (tied to the embedding), embeddings and LayerNorms stay 16/32-bit. */
export const INT8_LINEARS = [
  'self_attention.query_key_value',
  'self_attention.dense',
  'mlp.dense_h_to_4h',
  'mlp.dense_4h_to_h',
] as const;
// the block Linears' weights, which are exactly BLOOM's `matrix` parameters (INT8_LINEARS names them for tests)
const isInt8Linear = (name: string) => parameterRole(name) === 'matrix';

export class BloomWeights {
  readonly params = new Map<string, Tensor>();
  readonly emb: EmbShard[] = [];
  /** quantized Linear weights (with int8), by parameter name; these names are absent from `params` */
  readonly int8w = new Map<string, Int8Weight>();
  constructor(
    readonly gpu: Gpu,
    readonly cfg: BloomConfig,
    readonly dtype: StorageDType,
    readonly int8?: Int8Options,
  ) {
    if (int8 && !(int8.threshold >= 0 && Number.isFinite(int8.threshold)))
      throw new Error(`--int8-threshold must be a finite number ≥ 0, got ${int8.threshold}`);
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
    const role = parameterRole(name);
    return this.dtype === 'f16' && (role === 'matrix' || role === 'embedding') ? 'f16p' : 'f32';
  }

  upload(name: string, data: Float32Array): void {
    if (name === 'word_embeddings.weight') {
      this.uploadEmbedding(data);
      return;
    }
    if (this.int8 && isInt8Linear(name)) {
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
    const H = this.cfg.hiddenSize;
    const K = name.endsWith('dense_4h_to_h.weight') ? 4 * H : H,
      N = data.length / K;
    if (!Number.isInteger(N)) throw new Error(`int8 weight ${name}: ${data.length} values are not [N, ${K}]`);
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

  /** Loads every parameter of the checkpoint (validated by openCheckpoint), one tensor at a time. */
  static async fromCheckpoint(
    gpu: Gpu,
    ck: Checkpoint,
    dtype: StorageDType,
    onProgress?: (done: number, total: number) => void,
    int8?: Int8Options,
  ): Promise<BloomWeights> {
    const w = new BloomWeights(gpu, ck.config, dtype, int8);
    const specs = bloomParameters(ck.config);
    for (let i = 0; i < specs.length; i++) {
      const name = specs[i].name;
      const raw = await ck.raw(name);
      let data: Float32Array;
      if (raw.dtype === 'F32')
        data = new Float32Array(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength / 4);
      else if (raw.dtype === 'BF16')
        data = bf16ArrayToF32(new Uint16Array(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength / 2));
      else data = await ck.f32(name);
      refuseNonFinite(data, name, ck.dir);
      w.upload(name, data);
      onProgress?.(i + 1, specs.length);
    }
    return w;
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
  const rnd = xorshift32(seed);
  const out = new Map<string, Float32Array>();
  for (const { name, shape, role } of bloomParameters(cfg)) {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    if (role === 'norm') {
      if (name.endsWith('weight')) a.fill(1);
    } else if (role !== 'bias') {
      for (let i = 0; i < a.length; i += 2) {
        const u = Math.max(rnd(), 1e-12),
          v = rnd();
        const r = Math.sqrt(-2 * Math.log(u)) * std;
        a[i] = r * Math.cos(2 * Math.PI * v);
        if (i + 1 < a.length) a[i + 1] = r * Math.sin(2 * Math.PI * v);
      }
    }
    out.set(name, a);
  }
  return out;
}

/**
 * A NaN or ±Inf weight makes every score NaN (printed as null) and every generated token <unk>, and int8
 * quantization would hide it in finite wrong numbers, so a checkpoint holding one is refused at load. The scan runs
 * on the host copy that is converted and uploaded anyway: one pass, a small fraction of the load time.
 */
export function refuseNonFinite(data: Float32Array, name: string, dir: string): void {
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0)
      throw new Error(
        `${dir}: tensor '${name}' holds ${x} at element ${i}: these weights are not usable (a diverged training run ` +
          'or a corrupted file); use an earlier checkpoint or re-download the model',
      );
  }
}
