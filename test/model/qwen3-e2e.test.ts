// A tiny random-weight Qwen3-shaped checkpoint (test/helpers/tiny-qwen3.ts: built now, with the original Qwen3
// tokenizer.json and sharded safetensors) through the public Node API like any model, by its config.json's
// model_type only: it trains a few InstructAlign steps (NusaX eng↔jav pairs + replay) and the loss goes down, the
// tuned checkpoint is saved as a qwen3 folder and loads back, and it evaluates NusaX sentiment with every scoring
// rule, in f32 and with LLM.int8() weights (same predictions as f32 on this model is not required: only that each
// rule yields metrics in [0, 1] from finite scores).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from '../../src/api/node.ts';
import type { InstructAlignRuntime } from '../../src/api/types.ts';
import { REPO } from '../helpers/gpu.ts';
import { makeTinyQwen3 } from '../helpers/tiny-qwen3.ts';

describe('a tiny Qwen3 checkpoint through the Node API: train, save, load, evaluate', function () {
  this.timeout(600_000);
  let work: string, model: string, rt: InstructAlignRuntime;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ia-qwen3-'));
    model = await makeTinyQwen3(work);
    rt = await createRuntime({ log: () => {} });
  });
  after(async () => {
    await rt?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  let tuned = '';
  it('trains: the loss of the last steps is below the first steps', async () => {
    const res = await rt.train({
      model,
      out: join(work, 'run'),
      pairs: join(REPO, 'data/nusax/mt/train.csv'),
      l1: ['eng'],
      l2: ['jav'],
      replay: join(REPO, 'data/replay/nusax_l1_sentiment.jsonl'),
      replaySize: 4,
      steps: 6,
      lr: 1e-2,
      batchSize: 2,
      maxLength: 16,
      seed: 3,
    });
    const loss = res.logs.map((l) => l.loss);
    assert.equal(loss.length, 6);
    assert.ok(loss.every(Number.isFinite), `losses ${loss}`);
    const first = (loss[0] + loss[1]) / 2,
      last = (loss[4] + loss[5]) / 2;
    assert.ok(last < 0.95 * first, `loss ${first.toFixed(3)} → ${last.toFixed(3)}: ${loss.map((x) => x.toFixed(2))}`);
    const cfg = JSON.parse(readFileSync(join(res.checkpoint, 'config.json'), 'utf8'));
    assert.equal(cfg.model_type, 'qwen3');
    tuned = res.checkpoint;
  });

  for (const int8 of [false, true])
    it(`evaluates the tuned model on NusaX with every scoring rule${int8 ? ' (int8 weights)' : ''}`, async () => {
      assert.ok(tuned, 'the training test ran first');
      const info = await rt.loadModel(tuned, int8 ? { int8: true } : {});
      assert.equal(info.config.family, 'llama');
      const res = await rt.evaluate({ data: 'nusax', langs: ['eng', 'jav'], limit: 2, prompts: [1], batchSize: 12 });
      assert.deepEqual(
        res.languages.map((l) => l.lang),
        ['eng', 'jav'],
      );
      assert.deepEqual(res.scorings?.map((s) => s.rule).sort(), ['label', 'label-norm', 'paper']);
      for (const s of res.scorings ?? [])
        for (const l of s.languages ?? [])
          assert.ok(l.mean.accuracy >= 0 && l.mean.accuracy <= 1, `${s.rule} ${l.lang}: ${l.mean.accuracy}`);
      assert.equal(res.model.int8, int8);
    });
});
