// loadModel's options (and the --model/--dtype/--int8 flags of score and generate): the one place they are declared.
// How to add an option: see core.ts.
import * as v from 'valibot';
import { apiOnly, choice, cliOnly, defineRequest, flag, num, text } from './core.ts';

/** loadModel(path, options): how the weights go to the GPU. */
export const LOAD_MODEL = defineRequest('loadModel', {
  model: cliOnly(
    text({
      arg: 'DIR',
      required: true,
      help: 'BLOOM checkpoint folder (config.json, tokenizer.json, model.safetensors or shards)',
    }),
  ),
  dtype: choice(['f32', 'f16'], {
    arg: 'f32|f16',
    default: 'f32',
    help: 'weight storage on the GPU (default f32; f16 is packed; math in f32, or f16 where the adapter has shader-f16)',
  }),
  int8: flag({
    help: 'LLM.int8(): block Linears stored as int8 (quantized at load), outliers in f32 (docs/int8.md)',
  }),
  int8Threshold: num({
    arg: 'T',
    min: 0,
    default: 6,
    help: 'activation outlier threshold for --int8 (default 6 as bitsandbytes; 0 = int8 only)',
  }),
  onProgress: apiOnly(
    v.custom<(done: number, total: number) => void>(
      (f) => typeof f === 'function',
      (i) => `must be a function (done, total), got ${typeof i.input}`,
    ),
    'called as tensors reach the GPU',
  ),
});

/** The model flags of a command whose API call works on the loaded model (score, generate): CLI only there. */
export const MODEL_FLAGS = {
  model: LOAD_MODEL.fields.model,
  dtype: cliOnly(LOAD_MODEL.fields.dtype),
  int8: cliOnly(LOAD_MODEL.fields.int8),
  int8Threshold: cliOnly(LOAD_MODEL.fields.int8Threshold),
};
