// A tiny random-weight Qwen3-shaped checkpoint built at test time (test/helpers/tiny-qwen3.ts: real Qwen3
// tokenizer.json, sharded safetensors with an index, one BF16 shard) loads by model_type through the family
// registry, and its tokenizer encodes text that the model scores: finite log-probs near a random model's
// log(1/151,936), and the prefix-shared cached scoring (scoreGroups) equal to the full forward (1e-4).
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { checkpointSource, checkTokenizerFits, openCheckpoint, type Checkpoint } from '../../src/model/checkpoint.ts';
import { buildModel } from '../../src/model/families.ts';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';
import { compare, getGpu } from '../helpers/gpu.ts';
import { makeTinyQwen3 } from '../helpers/tiny-qwen3.ts';

describe('llama family: a tiny Qwen3 checkpoint with the real tokenizer', function () {
  this.timeout(120_000);
  let dir: string, ck: Checkpoint;
  before(async () => {
    dir = await makeTinyQwen3();
    ck = await openCheckpoint(dir);
  });
  after(async () => {
    await ck?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens by model_type qwen3 from two shards and an index', () => {
    assert.equal(ck.config.family, 'llama');
    assert.equal(ck.tensors.size, 1 + 2 * 11 + 1); // embedding, 11 per block, final norm (tied head: none)
    assert.deepEqual(ck.warnings, []);
    assert.ok(Object.keys(ck.contentHashes).includes('model.safetensors.index.json'));
  });

  it('tokenizes with the real Qwen3 tokenizer and scores text; cached scoring = full forward', async () => {
    const tok = await Tokenizer.fromJSON(ck.tokenizerJSON, `${dir}/tokenizer.json`);
    checkTokenizerFits(tok.vocabSize, ck.config, dir);
    const ids = tok.encode('Saya suka makan nasi goreng di warung dekat rumah. 我喜欢吃炒饭。');
    tok.free();
    const gpu = await getGpu();
    const model = await buildModel(gpu, ck.config, checkpointSource(ck));
    try {
      const T = ids.length;
      const { logprobs } = await model.forward({ ids: Int32Array.from(ids), mask: new Int32Array(T).fill(1), B: 1, T });
      assert.ok(
        logprobs.subarray(0, T - 1).every((v) => Number.isFinite(v) && v < 0),
        'finite log-probs',
      );
      // random weights: about log(1/151936) per token, far from a peaked model
      const mean = logprobs.subarray(0, T - 1).reduce((a, b) => a + b, 0) / (T - 1);
      assert.ok(mean < -5, `mean log-prob ${mean}`);
      const [[lp]] = await model.scoreGroups([{ prefix: ids.slice(0, 5), suffixes: [ids.slice(5)] }]);
      const c = compare(lp, logprobs.subarray(0, T - 1), 1e-4, 1e-4);
      assert.ok(c.ok, `scoreGroups[${c.bad}]: ${c.got} vs ${c.want}`);
    } finally {
      model.destroy();
    }
  });
});
