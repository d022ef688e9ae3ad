// `instructalign eval` through its argument parsing with a fake model, and (when it exists) with the real runtime.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runWith, type ScorerFactory } from '../../src/cli/eval.ts';
import { UsageError } from '../../src/cli/args.ts';
import type { ResultsJson } from '../../src/eval/results.ts';
import { fakeScorer } from './fake-scorer.ts';
import { tempDir } from './helpers.ts';

describe('cli/eval', () => {
  it('runs NusaX with a fake model: --langs, --limit, --prompts, summary table, four files', async () => {
    const out = tempDir();
    let opened: unknown;
    let disposed = false;
    const factory: ScorerFactory = async (o) => {
      opened = o;
      return {
        scorer: fakeScorer(),
        dispose: () => {
          disposed = true;
        },
      };
    };
    const printed: string[] = [];
    const code = await runWith(
      [
        '--model',
        'some/dir',
        '--langs',
        'eng,jav,mad',
        '--limit',
        '4',
        '--prompts',
        '1,3',
        '--int8',
        '--dtype',
        'f16',
        '--batch-size',
        '6',
        '--prefix-sharing',
        'off',
        '--out',
        out,
      ],
      factory,
      (s) => printed.push(s),
    );
    assert.equal(code, 0);
    assert.deepEqual(opened, {
      path: 'some/dir',
      dtype: 'f16',
      int8: true,
      int8Threshold: undefined,
      batchSize: 6,
      prefixSharing: 'off',
      log: (opened as { log: unknown }).log,
    });
    assert.ok(disposed);
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsJson;
    assert.deepEqual(
      r.languages.map((l) => [l.lang, l.group, l.n, l.prompts.map((p) => p.prompt)]),
      [
        ['eng', 'L1', 4, [1, 3]],
        ['jav', 'L2', 4, [1, 3]],
        ['mad', 'L3', 4, [1, 3]],
      ],
    );
    assert.equal(r.limit, 4);
    const text = printed.join('\n');
    assert.match(text, /group\s+languages\s+accuracy\s+weighted F1\s+macro F1/);
    assert.match(text, /^L3\s+mad\s/m);
    assert.match(text, /scored 24 new, reused 0; wrote .*results\.json/);
    for (const f of ['results.json', 'predictions.jsonl', 'report.md', 'chart.svg'])
      assert.ok(existsSync(join(out, f)));
  });

  it('usage errors: missing --out, bad --dtype, bad --prefix-sharing, --task without --labels, NusaX with another task', async () => {
    const f: ScorerFactory = async () => ({ scorer: fakeScorer(), dispose: () => {} });
    await assert.rejects(
      runWith(['--model', 'm'], f),
      (e) => e instanceof UsageError && /missing --out/.test(e.message),
    );
    await assert.rejects(runWith(['--model', 'm', '--out', 'o', '--dtype', 'bf16'], f), /--dtype must be f32 or f16/);
    await assert.rejects(
      runWith(['--model', 'm', '--out', 'o', '--prefix-sharing', 'yes'], f),
      /--prefix-sharing must be auto, on or off/,
    );
    await assert.rejects(
      runWith(['--model', 'm', '--out', 'o', '--batch-size', '0'], f),
      /--batch-size must be a positive integer/,
    );
    await assert.rejects(
      runWith(['--model', 'm', '--out', 'o', '--task', 'emotion', '--data', 'data/nusax/sentiment'], f),
      /--task emotion needs --labels/,
    );
    await assert.rejects(
      runWith(['--model', 'm', '--out', 'o', '--task', 'topic'], f),
      /NusaX is a sentiment data set/,
    );
  });

  it('with the real runtime on the bloom-tiny fixture', async () => {
    const out = tempDir();
    const code = await run([
      '--model',
      'test/fixtures/bloom-tiny',
      '--langs',
      'eng',
      '--limit',
      '2',
      '--prompts',
      '1',
      '--out',
      out,
    ]);
    assert.equal(code, 0);
    const preds = readFileSync(join(out, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(preds.length, 2);
    for (const p of preds) assert.ok(p.scores.every((s: number) => Number.isFinite(s) && s < 0));
  });
});
