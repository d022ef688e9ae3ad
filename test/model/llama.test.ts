// The Llama / Qwen3 family (src/model/llama/) through the seam (CausalLM), on tiny random-weight models of both
// shapes: Qwen3 (q/k RMSNorm, tied head, head_dim ≠ hidden/heads, 4 query heads over 2 key/value heads) and Llama 3
// (untied head, one key/value head, rope_scaling "llama3"). Against the float64 reference of test/helpers/llama-ref.ts
// (written from the published formulas): the log-probs of a left-padded batch (tolerance 2e-5 + 2e-5·|v|), and every
// parameter's gradient on sampled elements against central finite differences of the reference loss (1e-4 +
// 3e-3·|g|). The KV-cached paths (step, stepLogprobs through scoreGroups) against the full forward (1e-5); int8 and
// f16 weights against f32 (loose: quantization); the GPU kernel family's attention paths (policy view) against the
// default ones; config.json parsing and its refusals.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import { rng } from '../helpers/rng.ts';
import {
  decoderLogprobs,
  decoderLoss,
  defaultInvFreq,
  fdGrad,
  llama3InvFreq,
  type RefConfig,
} from '../helpers/llama-ref.ts';
import { buildModel, parseModelConfig } from '../../src/model/families.ts';
import type { CausalLM } from '../../src/model/causal-lm.ts';
import { llamaParameters, ropeInvFreq, type LlamaConfig } from '../../src/model/llama/config.ts';

const QWEN3 = {
  model_type: 'qwen3',
  vocab_size: 64,
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 12,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  hidden_act: 'silu',
  eos_token_id: 1,
};
const LLAMA3 = {
  model_type: 'llama',
  vocab_size: 72,
  hidden_size: 32,
  intermediate_size: 40,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 1,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  rope_scaling: {
    rope_type: 'llama3',
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 256,
  },
  tie_word_embeddings: false,
  bos_token_id: 0,
  eos_token_id: [1, 2],
};

/** Random parameters with enough spread that attention is not uniform and every path carries gradient. */
function randomParams(cfg: LlamaConfig, seed: number): Map<string, Float32Array> {
  const r = rng(seed);
  const out = new Map<string, Float32Array>();
  for (const p of llamaParameters(cfg)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const scale = p.role === 'norm' ? 0.4 : p.role === 'embedding' ? 1 : 2 / Math.sqrt(p.shape[1]);
    out.set(
      p.name,
      Float32Array.from({ length: n }, () => (p.role === 'norm' ? 1 : 0) + scale * r()),
    );
  }
  return out;
}

function refConfig(cfg: LlamaConfig): RefConfig {
  return {
    vocab: cfg.vocabSize,
    hidden: cfg.hiddenSize,
    inter: cfg.intermediateSize,
    layers: cfg.nLayer,
    NH: cfg.nHead,
    NKV: cfg.nKVHead,
    D: cfg.headDim,
    eps: cfg.rmsNormEps,
    invFreq: ropeInvFreq(cfg),
    tied: cfg.tieWordEmbeddings,
    qkNorm: cfg.qkNorm,
  };
}

const B = 2,
  T = 7;
// element 1 left-padded by two positions
const MASK = Int32Array.from([1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
function batch(V: number) {
  const pick = rng(77);
  const ids = Int32Array.from({ length: B * T }, (_, i) => (MASK[i] ? Math.floor((pick() + 0.5) * V) : 1));
  // next real token after a real token (CausalLM.forward's default targets)
  const labels = Int32Array.from({ length: B * T }, (_, i) => (i % T > 0 && MASK[i] && MASK[i - 1] ? ids[i] : -100));
  return { ids, mask: MASK, B, T, labels };
}

const load = (cfg: LlamaConfig, params: Map<string, Float32Array>, opts = {}) =>
  getGpu().then((gpu) => buildModel(gpu, cfg, async (n) => params.get(n)!, opts));

describe('llama family: config.json', () => {
  it('qwen3 and llama model_types parse into the family, with HF defaults', () => {
    const q = parseModelConfig(QWEN3) as LlamaConfig;
    assert.equal(q.family, 'llama');
    assert.deepEqual([q.headDim, q.nKVHead, q.qkNorm, q.tieWordEmbeddings], [12, 2, true, true]);
    const l = parseModelConfig(LLAMA3) as LlamaConfig;
    assert.deepEqual([l.headDim, l.nKVHead, l.qkNorm, l.tieWordEmbeddings, l.eosTokenId], [8, 1, false, false, 1]);
    assert.ok(llamaParameters(l).some((p) => p.name === 'lm_head.weight'));
    assert.ok(!llamaParameters(q).some((p) => p.name === 'lm_head.weight'));
  });

  it('inv_freq: 1/θ^(2d/D), and the llama3 scaling from its published formula', () => {
    const q = parseModelConfig(QWEN3) as LlamaConfig;
    const c1 = compare(ropeInvFreq(q), defaultInvFreq(1e6, 12), 0, 1e-6);
    assert.ok(c1.ok, `default inv_freq[${c1.bad}]: ${c1.got} vs ${c1.want}`);
    const l = parseModelConfig(LLAMA3) as LlamaConfig;
    const want = llama3InvFreq(defaultInvFreq(500000, 8), 8, 1, 4, 256);
    const c2 = compare(ropeInvFreq(l), want, 0, 1e-6);
    assert.ok(c2.ok, `llama3 inv_freq[${c2.bad}]: ${c2.got} vs ${c2.want}`);
    // the test's frequencies fall in all three bands: kept, interpolated, divided
    const base = defaultInvFreq(500000, 8);
    assert.deepEqual(
      [...want].map((f, d) => (f === base[d] ? 'kept' : Math.abs(f - base[d] / 8) < 1e-12 ? 'divided' : 'blended')),
      ['kept', 'blended', 'divided', 'divided'],
    );
  });

  it('refuses what it does not implement, naming the field', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...QWEN3, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling: rope_type "yarn" is not supported/],
      [{ ...LLAMA3, attention_bias: true }, /"attention_bias": true is not supported/],
      [{ ...QWEN3, num_key_value_heads: 3 }, /num_attention_heads 4 is not a multiple of num_key_value_heads 3/],
      [{ ...QWEN3, hidden_act: 'gelu' }, /"hidden_act": "gelu" is not supported/],
      [{ ...QWEN3, use_sliding_window: true }, /"use_sliding_window": true/],
      [{ ...QWEN3, model_type: 'qwen2' }, /model_type is "qwen2"; this runtime loads "bloom", "llama", "qwen3"/],
    ];
    for (const [json, re] of bad) assert.throws(() => parseModelConfig(json, 'x/config.json'), re);
  });
});

for (const [name, json] of [
  ['Qwen3-shaped', QWEN3],
  ['Llama-3-shaped', LLAMA3],
] as const) {
  describe(`llama family: ${name} tiny model vs float64 reference`, function () {
    this.timeout(120_000);
    const cfg = parseModelConfig(json) as LlamaConfig;
    const params = randomParams(cfg, 5);
    const b = batch(cfg.vocabSize);
    let model: CausalLM;
    before(async () => {
      model = await load(cfg, params);
    });
    after(() => model?.destroy());

    it('forward log-probs of a left-padded batch', async () => {
      const { logprobs } = await model.forward(b);
      const want = decoderLogprobs(refConfig(cfg), params, b.ids, b.mask, b.labels, B, T);
      const c = compare(logprobs, want, 2e-5, 2e-5);
      assert.ok(c.ok, `logprob[${c.bad}]: ${c.got} vs ${c.want} (max abs ${c.maxAbs})`);
    });

    it('gradients of every parameter vs finite differences of the float64 loss', async () => {
      const tr = model.training();
      const { loss } = await tr.lossAndBackward(b, b.labels);
      const p64 = new Map([...params].map(([k, v]) => [k, Float64Array.from(v)]));
      const rc = refConfig(cfg);
      const L = () => decoderLoss(rc, p64, b.ids, b.mask, b.labels, B, T);
      assert.ok(Math.abs(loss - L()) < 1e-5 * Math.max(1, L()), `loss ${loss} vs ${L()}`);
      const grads = await tr.grads.read();
      const pick = rng(123);
      for (const [pname, x] of p64) {
        // four elements per parameter (the embedding: rows of tokens in the batch, where its gradient lives)
        const n = x.length,
          W = cfg.hiddenSize;
        const at =
          pname === 'model.embed_tokens.weight'
            ? [0, 1, 2, 3].map((k) => b.ids[(k * 3) % (B * T)] * W + Math.floor((pick() + 0.5) * W))
            : [0, 1, 2, 3].map(() => Math.floor((pick() + 0.5) * n));
        const fd = fdGrad(L, x, new Set(at), 1e-5);
        const got = [...fd.keys()].map((i) => grads.get(pname)![i]);
        const c = compare(got, [...fd.values()], 1e-4, 3e-3);
        assert.ok(c.ok, `d loss / d ${pname}[${[...fd.keys()][c.bad]}]: ${c.got} vs ${c.want}`);
      }
      tr.destroy();
    });

    it('KV-cached paths: step() and scoreGroups() match the full forward', async () => {
      const { logprobs } = await model.forward(b);
      // element 0 unpadded: the prefix [0, 3) and suffixes [3, 7) and [3, 5)
      const seq = [...b.ids.subarray(0, T)];
      const [[full, short]] = await model.scoreGroups([
        { prefix: seq.slice(0, 3), suffixes: [seq.slice(3), seq.slice(3, 5)] },
      ]);
      const c1 = compare(full, logprobs.subarray(0, T - 1), 1e-5, 1e-5);
      assert.ok(c1.ok, `scoreGroups[${c1.bad}]: ${c1.got} vs ${c1.want}`);
      const c2 = compare(short, logprobs.subarray(0, 4), 1e-5, 1e-5);
      assert.ok(c2.ok, `scoreGroups (short)[${c2.bad}]: ${c2.got} vs ${c2.want}`);
      // step: the logits of the last position, fed in two pieces
      const cache = model.newCache(T);
      await model.step(cache, seq.slice(0, 4));
      const logits = await model.step(cache, seq.slice(4));
      model.freeCache(cache);
      const { logits: all } = await model.forward(
        { ids: b.ids.slice(0, T), mask: b.mask.slice(0, T), B: 1, T },
        { logits: true },
      );
      const V = cfg.vocabSize;
      const c3 = compare(logits, all!.subarray((T - 1) * V, T * V), 1e-5, 1e-5);
      assert.ok(c3.ok, `step logits[${c3.bad}]: ${c3.got} vs ${c3.want}`);
    });

    // one shape only: compiling the GPU family's kernels on SwiftShader takes most of a minute
    if (name === 'Llama-3-shaped')
      it("the GPU kernel family's paths (workgroup attention, flash backward) give the same loss and gradients", async () => {
        const base = model.training();
        const want = await base.lossAndBackward(b, b.labels);
        const wantG = await base.grads.read();
        base.destroy();
        for (const flash of ['always', 'never'] as const) {
          const view = model.withPolicy({ family: 'gpu', attention: { flash } });
          const tr = view.training();
          const got = await tr.lossAndBackward(b, b.labels);
          const gotG = await tr.grads.read();
          tr.destroy();
          view.destroy();
          assert.ok(Math.abs(got.loss - want.loss) < 1e-5, `flash ${flash}: loss ${got.loss} vs ${want.loss}`);
          for (const [n, g] of wantG) {
            const c = compare(gotG.get(n)!, g, 1e-5, 1e-3);
            assert.ok(c.ok, `flash ${flash}: grad ${n}[${c.bad}] ${c.got} vs ${c.want}`);
          }
        }
      });

    it('int8 (LLM.int8()) and f16 weights score close to f32', async () => {
      const { logprobs } = await model.forward(b);
      for (const opts of [{ int8: { threshold: 6 } }, { dtype: 'f16' as const }]) {
        const m = await load(cfg, params, opts);
        const got = (await m.forward(b)).logprobs;
        m.destroy();
        const c = compare(got, logprobs, 0.05, 0.05);
        assert.ok(c.ok, `${JSON.stringify(opts)}: logprob[${c.bad}] ${c.got} vs ${c.want}`);
        assert.ok(c.maxAbs > 0, 'the quantized model is a different model');
      }
    });
  });
}
