// The model seam (src/model/causal-lm.ts) on BLOOM: loading dispatches by config.json's model_type, parameters carry
// their roles, read-back reassembles the vocabulary shards, and destroy() frees every tensor the model made; both
// families refuse a mis-sized parameter array.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, getGpu } from '../helpers/gpu.ts';
import { checkpointSource, openCheckpoint } from '../../src/model/checkpoint.ts';
import { buildModel, familyForType, parseModelConfig, randomParameters } from '../../src/model/families.ts';
import { randomArrays } from '../../src/model/causal-lm.ts';
import { TINY_QWEN3_CONFIG } from '../helpers/tiny-qwen3.ts';

describe('CausalLM seam', () => {
  it('dispatches by model_type; an unknown type is refused with the known ones named', () => {
    assert.equal(familyForType('bloom').name, 'bloom');
    assert.equal(familyForType(undefined).name, 'bloom'); // older BLOOM configs have no model_type
    assert.throws(() => familyForType('gpt2', 'x/config.json'), /x\/config\.json: model_type is "gpt2"; .*"bloom"/);
    assert.throws(() => parseModelConfig([], 'c.json'), /c\.json: expected a JSON object/);
  });

  it('loads bloom-tiny through the registry: roles travel with the tensors; read-back is the checkpoint', async () => {
    const gpu = await getGpu();
    const ck = await openCheckpoint(join(FIXTURES, 'bloom-tiny'));
    const before = gpu.bytesAllocated;
    const m = await buildModel(gpu, ck.config, checkpointSource(ck), { dtype: 'f32' });
    try {
      assert.equal(m.config.family, 'bloom');
      const roles = new Map<string, string>();
      for (const p of m.parameters()) roles.set(p.name, p.role);
      assert.equal(roles.get('word_embeddings.weight'), 'embedding');
      assert.equal(roles.get('h.1.mlp.dense_4h_to_h.weight'), 'matrix');
      assert.equal(roles.get('h.0.self_attention.dense.bias'), 'bias');
      assert.equal(roles.get('ln_f.bias'), 'norm');
      const back = await m.readParameters();
      for (const name of ['word_embeddings.weight', 'h.1.input_layernorm.weight', 'ln_f.bias'])
        assert.deepEqual(back.get(name), await ck.f32(name), name);
      // a cache and a training set-up left alive are freed by destroy() too
      m.newCache(8);
      m.training();
    } finally {
      await ck.close();
      m.destroy();
    }
    assert.equal(gpu.bytesAllocated, before, 'destroy() frees every tensor the model made');
  });

  it('random parameters: the table order and init (γ 1, β 0, zero biases, seeded normals)', async () => {
    const cfg = parseModelConfig({ model_type: 'bloom', vocab_size: 64, hidden_size: 8, n_layer: 1, n_head: 2 });
    const src = randomParameters(cfg, 5);
    assert.ok((await src('ln_f.weight')).every((x) => x === 1));
    assert.ok((await src('ln_f.bias')).every((x) => x === 0));
    assert.ok((await src('h.0.mlp.dense_h_to_4h.bias')).every((x) => x === 0));
    const w = await src('word_embeddings.weight');
    assert.ok(w.some((x) => x !== 0) && w.every((x) => Math.abs(x) < 0.2));
    assert.deepEqual(randomArrays([{ name: 'a', shape: [3], role: 'matrix' }], 5).get('a')?.length, 3);
    await assert.rejects(src('lm_head.weight'), /no parameter lm_head\.weight in the bloom table/);
  });

  // src/model/common/weights.ts checks every array against the table (BLOOM's own loader used to upload any length)
  it('a parameter array of the wrong size is refused naming it and its shape; nothing stays allocated', async () => {
    const gpu = await getGpu();
    const configs = [
      { model_type: 'bloom', vocab_size: 64, hidden_size: 8, n_layer: 1, n_head: 2 },
      { ...TINY_QWEN3_CONFIG, vocab_size: 64, num_hidden_layers: 1 },
    ];
    for (const [json, name] of [
      [configs[0], 'h.0.self_attention.dense.weight'],
      [configs[1], 'model.layers.0.mlp.up_proj.weight'],
    ] as const) {
      const cfg = parseModelConfig(json);
      const src = randomParameters(cfg);
      const before = gpu.bytesAllocated;
      const short = async (n: string) => (n === name ? (await src(n)).subarray(1) : src(n));
      await assert.rejects(
        buildModel(gpu, cfg, short),
        new RegExp(`${name.replaceAll('.', '\\.')}: \\d+ values, shape \\[\\d+,\\d+\\] needs`),
      );
      assert.equal(gpu.bytesAllocated, before, `${cfg.family}: the tensors loaded before the bad one are freed`);
    }
  });
});
