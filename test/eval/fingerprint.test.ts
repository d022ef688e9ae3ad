// Resuming an evaluation folder only with what produced it: another model's files, --int8, --max-length or prompts
// are refused (the old predictions were reused under the new model's name); --overwrite starts afresh.
import { strict as assert } from 'node:assert';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/eval/evaluate.ts';
import { DEFAULT_GROUPS, loadDataPath } from '../../src/eval/datasets.ts';
import { selectPrompts } from '../../src/eval/tasks.ts';
import { fakeScorer } from './fake-scorer.ts';
import { tempDir, writeTinyData } from './helpers.ts';

const LABELS = ['negative', 'neutral', 'positive'];
const data = loadDataPath(writeTinyData(tempDir(), 2), { task: 'sentiment', labels: LABELS });
const prompts = selectPrompts('sentiment', [1, 2]);
const base = { data, prompts, groups: DEFAULT_GROUPS, batchSize: 3 };

/** A fake scorer that says it is the model in `dir` (with the given settings). */
function scorerFor(dir: string, extra: { int8?: boolean; dtype?: string } = {}) {
  const s = fakeScorer();
  return { ...s, describe: () => ({ model: dir, adapter: 'none', dtype: extra.dtype ?? 'f32', int8: !!extra.int8 }) };
}

describe('eval fingerprint (resume only the same model and settings)', () => {
  const model = tempDir();
  writeFileSync(join(model, 'config.json'), '{"n_layer":2}');
  writeFileSync(join(model, 'tokenizer.json'), '{"model":{}}');
  writeFileSync(join(model, 'model.safetensors'), 'weights');

  it('the same model and settings resume; another model, --int8, --max-length or prompts are refused', async () => {
    const out = tempDir();
    const first = await evaluate({ ...base, scorer: scorerFor(model), outDir: out });
    assert.equal(first.resumed, 0);
    const fp = JSON.parse(readFileSync(join(out, 'fingerprint.json'), 'utf8'));
    assert.equal(fp.model, model);
    assert.match(fp.modelFiles['config.json'], /^sha256 [0-9a-f]{64}$/);
    assert.match(fp.modelFiles['model.safetensors'], /^7 bytes, modified /);
    const again = await evaluate({ ...base, scorer: scorerFor(model), outDir: out });
    assert.equal(again.computed, 0, 'nothing rescored');
    const before = readFileSync(join(out, 'predictions.jsonl'), 'utf8');

    const refused = [
      [{ scorer: scorerFor(model, { int8: true }) }, /int8: false → true/],
      [{ scorer: scorerFor(model, { dtype: 'f16' }) }, /dtype: "f32" → "f16"/],
      [{ scorer: scorerFor(model), maxLength: 64 }, /maxLength: 1024 → 64/],
      [{ scorer: scorerFor(model), prompts: selectPrompts('sentiment', [1, 3]) }, /prompts: /],
      [{ scorer: scorerFor(tempDir()) }, /model: /],
    ] as const;
    for (const [o, msg] of refused)
      await assert.rejects(evaluate({ ...base, ...o, outDir: out }), (e: Error) => {
        assert.match(e.message, /holds predictions made with another model or setting/);
        assert.match(e.message, msg);
        assert.match(e.message, /--overwrite/);
        return true;
      });
    appendFileSync(join(model, 'config.json'), ' ');
    await assert.rejects(
      evaluate({ ...base, scorer: scorerFor(model), outDir: out }),
      /model file config\.json: sha256/,
    );
    assert.equal(readFileSync(join(out, 'predictions.jsonl'), 'utf8'), before, 'predictions untouched');

    const fresh = await evaluate({ ...base, scorer: scorerFor(model, { int8: true }), outDir: out, overwrite: true });
    assert.equal(fresh.resumed, 0);
    assert.equal(JSON.parse(readFileSync(join(out, 'fingerprint.json'), 'utf8')).int8, true);
    assert.equal(fresh.results.model.int8, true);
  });

  it('predictions without a fingerprint (an older version) are refused too', async () => {
    const out = tempDir();
    await evaluate({ ...base, scorer: scorerFor(model), outDir: out });
    rmSync(join(out, 'fingerprint.json'));
    await assert.rejects(evaluate({ ...base, scorer: scorerFor(model), outDir: out }), /no fingerprint\.json/);
  });
});
