// BLOOM weights on the GPU (src/model/common/weights.ts with BLOOM's table): one tensor per parameter (f32 or packed
// f16), the word embedding split into vocabulary shards that each fit maxStorageBufferBindingSize (BLOOMZ-560M's
// 250,880×1024 table needs it), LLM.int8() for the block Linears on request.
import type { Gpu } from '../../gpu/runtime.ts';
import { bloomParameters, type BloomConfig } from './config.ts';
import { randomArrays, type Int8Options, type ParameterSource, type StorageDType } from '../causal-lm.ts';
import { checkpointSource, type Checkpoint } from '../checkpoint.ts';
import { Weights, type Shard } from '../common/weights.ts';

export type { Int8Options, StorageDType } from '../causal-lm.ts';

/** The Linear families LLM.int8() quantizes; the LM head (tied to the embedding), embeddings and LayerNorms stay 16/32-bit. */
export const INT8_LINEARS = [
  'self_attention.query_key_value',
  'self_attention.dense',
  'mlp.dense_h_to_4h',
  'mlp.dense_4h_to_h',
] as const;

const EMBED = 'word_embeddings.weight';

export class BloomWeights extends Weights<BloomConfig> {
  constructor(gpu: Gpu, cfg: BloomConfig, dtype: StorageDType, int8?: Int8Options) {
    super(gpu, cfg, dtype, int8, bloomParameters(cfg));
  }
  protected unknownParameter(name: string): string {
    return `"${name}" is not a BLOOM parameter name (see bloomParameters in src/model/bloom/config.ts)`;
  }
  protected blank(dtype: StorageDType): this {
    return new BloomWeights(this.gpu, this.cfg, dtype) as this;
  }

  /** the word embedding's vocabulary shards (also the tied LM head's) */
  get emb(): Shard[] {
    return this.shards.get(EMBED) ?? [];
  }

  /** Loads every parameter of the table from `source` (a checkpoint: checkpointSource), one tensor at a time. */
  static fromSource(
    gpu: Gpu,
    cfg: BloomConfig,
    source: ParameterSource,
    dtype: StorageDType,
    onProgress?: (done: number, total: number) => void,
    int8?: Int8Options,
  ): Promise<BloomWeights> {
    return new BloomWeights(gpu, cfg, dtype, int8).load(source, onProgress);
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

  /** Builds weights from host arrays (random-init models, tests); `shardCap` caps an embedding shard's bytes. */
  static fromArrays(
    gpu: Gpu,
    cfg: BloomConfig,
    arrays: Map<string, Float32Array>,
    dtype: StorageDType,
    shardCap?: number,
    int8?: Int8Options,
  ): BloomWeights {
    const w = new BloomWeights(gpu, cfg, dtype, int8);
    for (const { name, shape } of w.table) {
      const a = arrays.get(name);
      if (!a) throw new Error(`missing parameter ${name} ${JSON.stringify(shape)}`);
      w.upload(name, a, shardCap);
    }
    return w;
  }
}

/** Random BLOOM weights (normal(0, std) matrices, LayerNorm γ=1 β=0, zero biases): for shape benchmarks and tests. */
export function randomBloomArrays(cfg: BloomConfig, seed = 1, std = 0.02): Map<string, Float32Array> {
  return randomArrays(bloomParameters(cfg), seed, std);
}
