// BLOOM/BLOOMZ as a model family of the seam (src/model/causal-lm.ts): config.json, the parameter table, checkpoint
// names (`transformer.` prefix dropped, blocks `h.{i}.`) and the loader.
import type { Gpu } from '../../gpu/runtime.ts';
import type { LoadModelOptions, ModelFamily, ParameterSource } from '../causal-lm.ts';
import {
  BLOOM_SIZES,
  bloomConfigFor,
  bloomParameters,
  parseBloomConfig,
  toHFConfigJSON,
  type BloomConfig,
} from './config.ts';
import { BloomWeights } from './weights.ts';
import { BloomModel } from './model.ts';

export const bloomFamily: ModelFamily<BloomConfig> = Object.freeze({
  name: 'bloom',
  modelTypes: Object.freeze(['bloom']),
  parseConfig: parseBloomConfig,
  configJSON: toHFConfigJSON,
  parameters: bloomParameters,
  canonicalName: (name: string) => (name.startsWith('transformer.') ? name.slice('transformer.'.length) : name),
  layerOf(name: string): number | undefined {
    const m = /^h\.(\d+)\./.exec(name);
    return m ? Number(m[1]) : undefined;
  },
  namedConfig: (name: string) => (BLOOM_SIZES[name.replace(/^bigscience\//, '')] ? bloomConfigFor(name) : undefined),
  async load(gpu: Gpu, cfg: BloomConfig, source: ParameterSource, opts: LoadModelOptions = {}): Promise<BloomModel> {
    const w = await BloomWeights.fromSource(gpu, cfg, source, opts.dtype ?? 'f32', opts.onProgress, opts.int8);
    return new BloomModel(gpu, w);
  },
});
