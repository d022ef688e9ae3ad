// Llama / Qwen3 weights on the GPU (src/model/common/weights.ts with this family's table): one tensor per parameter
// (f32 or packed f16; matrices LLM.int8() on request), the token embedding and an untied LM head split into vocabulary
// shards that each fit one storage binding.
import type { Gpu } from '../../gpu/runtime.ts';
import type { Int8Options, ParameterSource, StorageDType } from '../causal-lm.ts';
import { Weights, type Shard } from '../common/weights.ts';
import { llamaParameters, type LlamaConfig } from './config.ts';

export const EMBED = 'model.embed_tokens.weight';
export const LM_HEAD = 'lm_head.weight';

export class LlamaWeights extends Weights<LlamaConfig> {
  constructor(gpu: Gpu, cfg: LlamaConfig, dtype: StorageDType, int8?: Int8Options) {
    super(gpu, cfg, dtype, int8, llamaParameters(cfg));
  }
  protected unknownParameter(name: string): string {
    return `"${name}" is not a parameter of this ${this.cfg.modelType} model (src/model/llama/config.ts)`;
  }
  protected blank(dtype: StorageDType): this {
    return new LlamaWeights(this.gpu, this.cfg, dtype) as this;
  }

  get emb(): Shard[] {
    return this.shards.get(EMBED) ?? [];
  }
  /** the LM head's shards: lm_head.weight, or the embedding when tied */
  get head(): Shard[] {
    return this.shards.get(this.cfg.tieWordEmbeddings ? EMBED : LM_HEAD) ?? [];
  }

  static fromSource(
    gpu: Gpu,
    cfg: LlamaConfig,
    source: ParameterSource,
    dtype: StorageDType,
    onProgress?: (done: number, total: number) => void,
    int8?: Int8Options,
    shardCap?: number,
  ): Promise<LlamaWeights> {
    return new LlamaWeights(gpu, cfg, dtype, int8).load(source, onProgress, shardCap);
  }
}
