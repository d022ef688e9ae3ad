// Resuming an evaluation folder only with what produced it: another model's files, --int8, --max-length or prompts
// are refused (the old predictions were reused under the new model's name); --overwrite starts afresh.
import { strict as assert } from 'node:assert';
import { appendFileSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
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

/**
 * A fake scorer that says it is the model in `dir` (with the given settings). `files`: the content hashes it says it
 * was loaded from (as the runtime's scorers do); without them the fingerprint hashes the folder as it is.
 */
function scorerFor(
  dir: string,
  extra: { int8?: boolean; dtype?: string; int8Threshold?: number; files?: Record<string, string> } = {},
) {
  const s = fakeScorer();
  const { dtype = 'f32', int8 = false, ...rest } = extra;
  return { ...s, describe: () => ({ model: dir, adapter: 'none', dtype, int8, ...rest }) };
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
    assert.match(fp.modelFiles['config.json'], /^xxh64:[0-9a-f]{16}$/);
    assert.match(fp.modelFiles['model.safetensors'], /^xxh64:[0-9a-f]{16}$/);
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
      /model file config\.json: xxh64:/,
    );
    assert.equal(readFileSync(join(out, 'predictions.jsonl'), 'utf8'), before, 'predictions untouched');

    const fresh = await evaluate({ ...base, scorer: scorerFor(model, { int8: true }), outDir: out, overwrite: true });
    assert.equal(fresh.resumed, 0);
    assert.equal(JSON.parse(readFileSync(join(out, 'fingerprint.json'), 'utf8')).int8, true);
    assert.equal(fresh.results.model.int8, true);
  });

  it('weights replaced by others of the same size and modification time are refused (audit E17)', async () => {
    const m = tempDir();
    writeFileSync(join(m, 'config.json'), '{"n_layer":2}');
    writeFileSync(join(m, 'tokenizer.json'), '{"model":{}}');
    writeFileSync(join(m, 'model.safetensors'), 'weights A');
    const out = tempDir();
    await evaluate({ ...base, scorer: scorerFor(m), outDir: out });
    const { atime, mtime } = statSync(join(m, 'model.safetensors'));
    writeFileSync(join(m, 'model.safetensors'), 'weights B'); // same size
    utimesSync(join(m, 'model.safetensors'), atime, mtime); // and the old time (cp -p, an archive restore)
    await assert.rejects(evaluate({ ...base, scorer: scorerFor(m), outDir: out }), /model file model\.safetensors: /);
  });

  it('the files as loaded count, not what the folder holds at evaluate time (audit A56)', async () => {
    const m = tempDir();
    writeFileSync(join(m, 'config.json'), '{"n_layer":2}');
    writeFileSync(join(m, 'tokenizer.json'), '{"model":{}}');
    writeFileSync(join(m, 'model.safetensors'), 'weights A');
    const asLoaded = { 'config.json': 'xxh64:1', 'tokenizer.json': 'xxh64:2', 'model.safetensors': 'xxh64:a' };
    const out = tempDir();
    // the scorer loaded A; the folder holds B by the time evaluate runs
    writeFileSync(join(m, 'model.safetensors'), 'weights B');
    await evaluate({ ...base, scorer: scorerFor(m, { files: asLoaded }), outDir: out });
    const fp = JSON.parse(readFileSync(join(out, 'fingerprint.json'), 'utf8'));
    assert.deepEqual(fp.modelFiles, asLoaded, 'the fingerprint names what was loaded');
    // a later evaluation of the folder (B) does not resume A's predictions
    await assert.rejects(
      evaluate({ ...base, scorer: scorerFor(m), outDir: out }),
      /model file model\.safetensors: xxh64:a → xxh64:[0-9a-f]{16}/,
    );
  });

  it('the int8 threshold the model was loaded with is part of it (audit A57)', async () => {
    const out = tempDir();
    await evaluate({ ...base, scorer: scorerFor(model, { int8: true, int8Threshold: 6 }), outDir: out });
    const again = await evaluate({ ...base, scorer: scorerFor(model, { int8: true, int8Threshold: 6 }), outDir: out });
    assert.equal(again.computed, 0);
    assert.equal(again.results.model.int8Threshold, 6, 'results.json records the threshold');
    await assert.rejects(
      evaluate({ ...base, scorer: scorerFor(model, { int8: true, int8Threshold: 0.05 }), outDir: out }),
      /int8Threshold: 6 → 0\.05/,
    );
  });

  it('an example whose text changed (same id and label) is scored again, not reused (audit E16)', async () => {
    const root = writeTinyData(tempDir(), 3);
    const load = () => loadDataPath(root, { task: 'sentiment', labels: LABELS });
    const out = tempDir();
    const first = await evaluate({ ...base, data: load(), scorer: scorerFor(model), outDir: out });
    assert.equal(first.computed, 12);
    const csv = join(root, 'english', 'test.csv');
    writeFileSync(csv, readFileSync(csv, 'utf8').replace('english sentence 1,', 'an edited sentence,'));
    const edited = load();
    const scorer = scorerFor(model);
    const second = await evaluate({ ...base, data: edited, scorer, outDir: out });
    assert.equal(second.textChanged, 2, 'one example × two prompts');
    assert.equal(second.computed, 2);
    assert.equal(second.resumed, 10);
    assert.ok(scorer.calls.flat().every((t) => t.includes('an edited sentence')));
    const fresh = await evaluate({ ...base, data: edited, scorer: scorerFor(model), outDir: tempDir() });
    assert.deepEqual(second.results.languages, fresh.results.languages, 'the same as a fresh evaluation');
    const lines = readFileSync(join(out, 'predictions.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 12, 'the old records of the edited texts left the file');
    const third = await evaluate({ ...base, data: edited, scorer: scorerFor(model), outDir: out });
    assert.equal(third.computed, 0, 'the rescored records are reused from then on');
  });

  it('a fingerprint written by an older version (weights by size and time) is refused, saying why', async () => {
    const out = tempDir();
    await evaluate({ ...base, scorer: scorerFor(model), outDir: out });
    const fp = JSON.parse(readFileSync(join(out, 'fingerprint.json'), 'utf8'));
    writeFileSync(join(out, 'fingerprint.json'), JSON.stringify({ ...fp, schema: 'instructalign.eval.fingerprint/1' }));
    await assert.rejects(
      evaluate({ ...base, scorer: scorerFor(model), outDir: out }),
      /fingerprint\.json is "instructalign\.eval\.fingerprint\/1", written by another version/,
    );
  });

  it('predictions without a fingerprint (an older version) are refused too', async () => {
    const out = tempDir();
    await evaluate({ ...base, scorer: scorerFor(model), outDir: out });
    rmSync(join(out, 'fingerprint.json'));
    await assert.rejects(evaluate({ ...base, scorer: scorerFor(model), outDir: out }), /no fingerprint\.json/);
  });
});
