// A BLOOMZ-560M-shaped model (random weights, the real config's sizes) loads and runs a forward within WebGPU's
// DEFAULT limits (128 MiB per binding, 256 MiB per buffer): the 250,880×1024 embedding must be sharded.
import assert from 'node:assert/strict';
import { Gpu } from '../../src/gpu/runtime.ts';
import { bloomConfigFor, countParameters } from '../../src/model/bloom/config.ts';
import { BloomWeights, randomBloomArrays } from '../../src/model/bloom/weights.ts';
import { BloomModel } from '../../src/model/bloom/model.ts';

describe('BLOOMZ-560M shape within default WebGPU limits', function () {
  this.timeout(900000);
  it('shards the embedding under maxStorageBufferBindingSize and runs a forward (f16 storage)', async () => {
    const gpu = await Gpu.open({ log: () => {}, defaultLimits: true });
    const cfg = bloomConfigFor('bloomz-560m');
    assert.equal(countParameters(cfg), 559_214_592);
    assert.ok(gpu.maxBinding <= 128 * 1024 * 1024, `expected default limits, got ${gpu.maxBinding}`);
    let arrays: Map<string, Float32Array> | null = randomBloomArrays(cfg, 3);
    const w = BloomWeights.fromArrays(gpu, cfg, arrays, 'f16');
    arrays = null;
    try {
      assert.ok(w.emb.length > 1, 'the embedding is split into vocabulary shards');
      for (const s of w.emb)
        assert.ok(s.w.byteLength <= gpu.maxBinding, `shard [${s.lo}, ${s.hi}) is ${s.w.byteLength} bytes`);
      assert.equal(w.emb[w.emb.length - 1].hi, cfg.vocabSize);
      const model = new BloomModel(gpu, w);
      const T = 4,
        ids = Int32Array.from([59414, 8876, 17, 250679]);
      const { logprobs } = await model.forward({ ids, mask: new Int32Array(T).fill(1), B: 1, T });
      for (let t = 0; t < T - 1; t++)
        assert.ok(Number.isFinite(logprobs[t]) && logprobs[t] < 0, `logprob ${t} = ${logprobs[t]}`);
      // random weights (std 0.02) give a near-uniform next-token distribution: log p ≈ −log V
      assert.ok(
        Math.abs(logprobs[0] + Math.log(cfg.vocabSize)) < 2,
        `log p = ${logprobs[0]}, −log V = ${-Math.log(cfg.vocabSize)}`,
      );
      console.log(
        `      560M: ${w.emb.length} embedding shards, ${(w.bytes() / 2 ** 20).toFixed(0)} MiB of weights on the GPU, peak ${(gpu.peakBytes / 2 ** 20).toFixed(0)} MiB`,
      );
    } finally {
      w.destroy();
      gpu.destroy();
    }
  });
});
