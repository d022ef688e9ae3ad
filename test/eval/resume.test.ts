// Resumability: interrupt after K items (AbortSignal), rerun, and compare with one uninterrupted run.
import { strict as assert } from 'node:assert';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/eval/evaluate.ts';
import { DEFAULT_GROUPS, loadDataPath } from '../../src/eval/datasets.ts';
import { labelTexts, selectPrompts } from '../../src/eval/tasks.ts';
import type { PredictionRecord } from '../../src/eval/predictions.ts';
import { fakeScorer } from './fake-scorer.ts';
import { tempDir, writeTinyData } from './helpers.ts';

const LABELS = ['negative', 'neutral', 'positive'];
const prompts = selectPrompts('sentiment', [1, 2, 3]);
const data = loadDataPath(writeTinyData(tempDir(), 5), { task: 'sentiment', labels: LABELS }); // 2 × 3 × 5 = 30 items
const base = { data, prompts, groups: DEFAULT_GROUPS, batchSize: 3 }; // one item (3 label texts) per call
const readLines = (dir: string) => readFileSync(join(dir, 'predictions.jsonl'), 'utf8');

async function interrupted(k: number): Promise<string> {
  const out = tempDir();
  const ctrl = new AbortController();
  const scorer = fakeScorer({
    onCall: (n) => {
      if (n === k) ctrl.abort(new Error('stop'));
    },
  });
  await assert.rejects(evaluate({ ...base, scorer, outDir: out, signal: ctrl.signal }), /stop/);
  assert.equal(scorer.calls.length, k);
  assert.equal(readLines(out).trim().split('\n').length, k); // the batch in flight was still saved
  return out;
}

describe('eval/runner resume', () => {
  let reference = '';
  before(async () => {
    const out = tempDir();
    await evaluate({ ...base, scorer: fakeScorer(), outDir: out });
    reference = readLines(out);
  });

  it('does not rescore finished items and ends with the same predictions as an uninterrupted run', async () => {
    const K = 11;
    const out = await interrupted(K);
    const done = readLines(out)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as PredictionRecord);
    const finishedTexts = new Set(
      done.flatMap((r) => {
        const row = data.langs.find((l) => l.lang === r.lang)!.rows.find((x) => x.id === r.id)!;
        return labelTexts(prompts.find((p) => p.id === r.prompt)!.template, row.text, LABELS);
      }),
    );
    const second = fakeScorer();
    const res = await evaluate({ ...base, scorer: second, outDir: out });
    assert.equal(res.resumed, K);
    assert.equal(res.computed, 30 - K);
    assert.equal(second.calls.length, 30 - K);
    for (const t of second.seen) assert.ok(!finishedTexts.has(t), `rescored ${JSON.stringify(t)}`);
    assert.equal(readLines(out), reference);
  });

  it('ignores a torn last line', async () => {
    const out = await interrupted(4);
    appendFileSync(join(out, 'predictions.jsonl'), '{"id":"104","lang":"en');
    const res = await evaluate({ ...base, scorer: fakeScorer(), outDir: out });
    assert.equal(res.droppedTornLine, true);
    assert.equal(res.resumed, 4);
    assert.equal(readLines(out), reference);
  });

  it('a second run over finished output scores nothing; a corrupt middle line or other data is an error', async () => {
    const out = tempDir();
    await evaluate({ ...base, scorer: fakeScorer(), outDir: out });
    const again = fakeScorer();
    const res = await evaluate({ ...base, scorer: again, outDir: out });
    assert.equal(again.calls.length, 0);
    assert.equal(res.resumed, 30);

    const bad = await interrupted(3);
    const lines = readLines(bad).split('\n');
    lines[1] = 'garbage';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(bad, 'predictions.jsonl'), lines.join('\n'));
    await assert.rejects(
      evaluate({ ...base, scorer: fakeScorer(), outDir: bad }),
      /predictions\.jsonl:2: not a prediction record/,
    );

    const other = await interrupted(2);
    const relabelled = loadDataPath(writeTinyData(tempDir(), 5), {
      task: 'sentiment',
      labels: ['neutral', 'negative', 'positive'],
    });
    for (const l of relabelled.langs)
      for (const r of l.rows) r.label = r.label === 'negative' ? 'positive' : 'negative';
    await assert.rejects(
      evaluate({ ...base, data: relabelled, scorer: fakeScorer(), outDir: other }),
      /another model or setting[^\n]*\n {2}labels: \["negative","neutral","positive"\] → \["neutral","negative","positive"\]/,
    );
  });
});
