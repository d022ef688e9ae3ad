// Llama (model_type "llama": Llama 2/3.x shapes) and Qwen3 ("qwen3") as one model family of the seam
// (src/model/causal-lm.ts): config.json, the parameter table, checkpoint names (HF's, unchanged) and the loader.
import type { Gpu } from '../../gpu/runtime.ts';
import type { LoadModelOptions, ModelFamily, ParameterSource } from '../causal-lm.ts';
import { llamaParameters, parseLlamaConfig, toLlamaConfigJSON, type LlamaConfig } from './config.ts';
import { LlamaWeights } from './weights.ts';
import { LlamaModel } from './model.ts';

export const llamaFamily: ModelFamily<LlamaConfig> = Object.freeze({
  name: 'llama',
  modelTypes: Object.freeze(['llama', 'qwen3']),
  parseConfig: parseLlamaConfig,
  configJSON: toLlamaConfigJSON,
  parameters: llamaParameters,
  canonicalName: (name: string) => name,
  layerOf(name: string): number | undefined {
    const m = /^model\.layers\.(\d+)\./.exec(name);
    return m ? Number(m[1]) : undefined;
  },
  async load(gpu: Gpu, cfg: LlamaConfig, source: ParameterSource, opts: LoadModelOptions = {}): Promise<LlamaModel> {
    const w = await LlamaWeights.fromSource(gpu, cfg, source, opts.dtype ?? 'f32', opts.onProgress, opts.int8);
    return new LlamaModel(gpu, w);
  },
});
