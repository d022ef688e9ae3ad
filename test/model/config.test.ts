// BLOOM config parsing, size table and parameter list, against HF-written config.json files and the published
// parameter counts of bloom-560m / bloom-1b1 (docs/bloom.md) and nano-bloomz (its README).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  BLOOM_SIZES,
  bloomConfigFor,
  bloomParameters,
  countParameters,
  parameterRole,
  parseBloomConfig,
  toHFConfigJSON,
} from '../../src/model/bloom/config.ts';

const json = (rel: string) =>
  JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')) as Record<string, unknown>;
const TINY = json('../fixtures/bloom-tiny/config.json');
const H6 = json('../fixtures/bloom-tiny-h6-f16/config.json');
const NANO = json('../../models/nano-bloomz/config.json');

describe('parseBloomConfig', () => {
  it('reads the HF-written fixture configs (torch_dtype next to a null dtype)', () => {
    const c = parseBloomConfig(H6, 'h6/config.json');
    assert.deepEqual(
      { ...c, raw: undefined },
      {
        family: 'bloom',
        vocabSize: 700,
        hiddenSize: 48,
        nLayer: 2,
        nHead: 6,
        headDim: 8,
        layerNormEpsilon: 1e-5,
        applyResidualConnectionPostLayernorm: false,
        bosTokenId: 1,
        eosTokenId: 2,
        padTokenId: 3,
        unkTokenId: 0,
        torchDtype: 'float16',
        raw: undefined,
      },
    );
    assert.equal(parseBloomConfig(TINY).torchDtype, 'float32');
  });

  it("reads transformers 5's `dtype` key (nano-bloomz) and matches the size table", () => {
    const c = parseBloomConfig(NANO);
    assert.equal(c.torchDtype, 'float16');
    const s = BLOOM_SIZES['nano-bloomz'];
    assert.deepEqual([c.vocabSize, c.hiddenSize, c.nLayer, c.nHead], [s.vocabSize, s.hiddenSize, s.nLayer, s.nHead]);
  });

  it('accepts the HF aliases num_hidden_layers, num_attention_heads, n_embed', () => {
    const c = parseBloomConfig({
      model_type: 'bloom',
      vocab_size: 10,
      n_embed: 12,
      num_hidden_layers: 3,
      num_attention_heads: 4,
    });
    assert.deepEqual([c.hiddenSize, c.nLayer, c.nHead, c.headDim], [12, 3, 4, 3]);
    assert.equal(c.layerNormEpsilon, 1e-5);
  });

  it('rejects other models, indivisible heads, missing keys and conflicting aliases with the key and the file', () => {
    const base = { model_type: 'bloom', vocab_size: 10, hidden_size: 12, n_layer: 1, n_head: 4 };
    assert.throws(
      () => parseBloomConfig({ ...base, model_type: 'gpt2' }, 'x/config.json'),
      /x\/config\.json: model_type is "gpt2", not "bloom"/,
    );
    assert.throws(
      () => parseBloomConfig({ ...base, n_head: 5 }, 'c.json'),
      /c\.json: hidden_size 12 is not divisible by n_head 5/,
    );
    assert.throws(
      () => parseBloomConfig({ ...base, hidden_size: undefined }, 'c.json'),
      /c\.json: missing "hidden_size" \(or "n_embed"\)/,
    );
    assert.throws(() => parseBloomConfig({ ...base, vocab_size: undefined }), /missing "vocab_size"/);
    assert.throws(
      () => parseBloomConfig({ ...base, num_hidden_layers: 2 }),
      /"n_layer": 1 and "num_hidden_layers": 2 disagree/,
    );
    assert.throws(() => parseBloomConfig({ ...base, n_layer: 1.5 }), /"n_layer" must be an integer >= 1, got 1\.5/);
    assert.throws(
      () => parseBloomConfig({ ...base, pad_token_id: 10 }),
      /pad_token_id 10 is outside the vocabulary \(vocab_size 10\)/,
    );
    assert.throws(() => parseBloomConfig('nope', 'c.json'), /c\.json: expected a JSON object/);
  });

  it('keeps apply_residual_connection_post_layernorm=true as a flag, explains a non-boolean value', () => {
    const base = { model_type: 'bloom', vocab_size: 10, hidden_size: 12, n_layer: 1, n_head: 4 };
    assert.equal(
      parseBloomConfig({ ...base, apply_residual_connection_post_layernorm: true })
        .applyResidualConnectionPostLayernorm,
      true,
    );
    assert.throws(
      () => parseBloomConfig({ ...base, apply_residual_connection_post_layernorm: 'yes' }),
      /apply_residual_connection_post_layernorm must be true or false.*LayerNorm output/,
    );
  });
});

describe('toHFConfigJSON', () => {
  it('writes canonical keys, keeps unknown ones, drops aliases, and parses back to the same config', () => {
    const c = parseBloomConfig({ ...H6, num_attention_heads: 6, my_extra: { a: 1 } });
    const out = JSON.parse(toHFConfigJSON(c)) as Record<string, unknown>;
    assert.equal(out.num_attention_heads, undefined);
    assert.deepEqual(out.my_extra, { a: 1 });
    assert.equal(out.n_head, 6);
    assert.equal(out.torch_dtype, 'float16');
    assert.equal(out.dtype, 'float16'); // the key transformers 5 reads, filled instead of null
    assert.deepEqual(Object.keys(out), Object.keys(out).sort());
    const again = parseBloomConfig(out);
    assert.deepEqual({ ...again, raw: 0 }, { ...c, raw: 0 });
    for (const [k, v] of Object.entries(H6)) if (k !== 'dtype') assert.deepEqual(out[k], v, k);
  });
});

describe('size table and parameter list', () => {
  it('counts the published parameters (tied LM head)', () => {
    assert.equal(countParameters(bloomConfigFor('bloomz-560m')), 559_214_592);
    assert.equal(countParameters(bloomConfigFor('bigscience/bloom-560m')), 559_214_592);
    assert.equal(countParameters(bloomConfigFor('bloomz-1b1')), 1_065_314_304);
    assert.equal(countParameters(bloomConfigFor('bloom-1b1')), 1_065_314_304);
    assert.equal(countParameters(bloomConfigFor('nano-bloomz')), 4_208_640);
    assert.throws(() => bloomConfigFor('bloom-176b'), /unknown model size 'bloom-176b' — known: bloom-560m/);
  });

  it('bloomConfigFor gives BLOOM common values and head_dim 64 / 96', () => {
    const c = bloomConfigFor('bloomz-560m');
    assert.deepEqual(
      [c.headDim, c.layerNormEpsilon, c.bosTokenId, c.eosTokenId, c.padTokenId, c.unkTokenId],
      [64, 1e-5, 1, 2, 3, 0],
    );
    assert.equal(bloomConfigFor('bloomz-1b1').headDim, 96);
  });

  it('lists parameters in BloomModel order with HF names and shapes', () => {
    const ps = bloomParameters(parseBloomConfig(TINY));
    assert.equal(ps.length, 3 + 12 * 2 + 2);
    assert.deepEqual(
      ps.slice(0, 5).map((p) => `${p.name}:${p.shape}`),
      [
        'word_embeddings.weight:1024,64',
        'word_embeddings_layernorm.weight:64',
        'word_embeddings_layernorm.bias:64',
        'h.0.input_layernorm.weight:64',
        'h.0.input_layernorm.bias:64',
      ],
    );
    const byName = new Map(ps.map((p) => [p.name, p.shape]));
    assert.deepEqual(byName.get('h.1.self_attention.query_key_value.weight'), [192, 64]);
    assert.deepEqual(byName.get('h.1.mlp.dense_4h_to_h.weight'), [64, 256]);
    assert.deepEqual(
      ps.slice(-2).map((p) => p.name),
      ['ln_f.weight', 'ln_f.bias'],
    );
  });
});

describe('parameter roles (declared in the parameter table; storage, decay and int8 follow them)', () => {
  it('each block has 4 matrices, 4 biases and 4 LayerNorm tensors; embedding and final norms around them', () => {
    const ps = bloomParameters(bloomConfigFor('nano-bloomz'));
    const count = (role: string, pre = '') => ps.filter((p) => p.role === role && p.name.startsWith(pre)).length;
    assert.deepEqual([count('matrix', 'h.0.'), count('bias', 'h.0.'), count('norm', 'h.0.')], [4, 4, 4]);
    assert.deepEqual(
      ps.filter((p) => !p.name.startsWith('h.')).map((p) => `${p.name}:${p.role}`),
      [
        'word_embeddings.weight:embedding',
        'word_embeddings_layernorm.weight:norm',
        'word_embeddings_layernorm.bias:norm',
        'ln_f.weight:norm',
        'ln_f.bias:norm',
      ],
    );
    for (const p of ps) assert.equal(parameterRole(p.name), p.role, p.name);
  });

  it('looks up any block index and an untied LM head; an unknown name is an error naming it', () => {
    assert.equal(parameterRole('h.23.mlp.dense_4h_to_h.weight'), 'matrix');
    assert.equal(parameterRole('h.5.self_attention.query_key_value.bias'), 'bias');
    assert.equal(parameterRole('lm_head.weight'), 'embedding');
    assert.throws(() => parameterRole('h.0.mlp.gate_proj.weight'), /"h\.0\.mlp\.gate_proj\.weight" is not a BLOOM/);
  });
});
