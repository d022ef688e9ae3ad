// eval --task translation with a fake model: prompts from the MT templates, both directions, chrF++/BLEU per
// direction, files, and compare of two runs (Δ per direction).
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GeneratorFactory, runWith } from '../../src/cli/eval.ts';
import { run as compare } from '../../src/cli/compare.ts';
import { loadTrainingPairs } from '../../src/train/data/node-io.ts';
import { corpusBleu, corpusChrf } from '../../src/eval/mt-metrics.ts';
import { type Generator, firstLine, translationPrompt, type TranslationResults } from '../../src/eval/translation.ts';
import { tempDir } from './helpers.ts';

const PAIRS = 'data/examples/tagalog/pairs.tsv';
const pairs = readFileSync(PAIRS, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'));

/** Answers with the reference for the first `good` rows of each direction and "..." otherwise. */
function fakeGenerator(good: number, seen: string[] = []): GeneratorFactory {
  const g: Generator = {
    async generate(prompts) {
      return prompts.map((p) => {
        seen.push(p);
        const eng = pairs.findIndex(([e, t]) => p.includes(`Text: ${e}\n`) || p.includes(`Text: ${t}\n`));
        const toTgl = p.includes('to Tagalog.');
        return eng >= 0 && eng < good ? ` ${toTgl ? pairs[eng][1] : pairs[eng][0]}\nmore text` : ' ...';
      });
    },
    describe: () => ({ model: `fake-${good}`, adapter: 'none', dtype: 'f32', int8: false }),
  };
  return async () => ({ generator: g, dispose: () => undefined });
}

const argv = (out: string, ...more: string[]) => [
  '--model',
  'm',
  '--task',
  'translation',
  '--data',
  PAIRS,
  '--l1',
  'eng',
  '--l2',
  'tgl',
  '--limit',
  '4',
  '--out',
  out,
  ...more,
];
const noScorer = async () => {
  throw new Error('no scorer for translation');
};

describe('eval --task translation', () => {
  it('prompts: the official MT template cut before the target; the first line of the continuation is kept', () => {
    assert.equal(
      translationPrompt(1, 'English', 'Tagalog', 'Good morning.'),
      'Translate the following text from English to Tagalog.\nText: Good morning.\nTranslation:',
    );
    assert.equal(
      translationPrompt(3, 'Tagalog', 'English', 'Magandang umaga.'),
      'Text in Tagalog: Magandang umaga.\nHow would you translate that in English?',
    );
    assert.throws(() => translationPrompt(7, 'a', 'b', 'c'), /unknown translation prompt 7/);
    assert.equal(firstLine('\n  Magandang umaga. \nTranslate…'), 'Magandang umaga.');
  });

  it('both directions, chrF++ and BLEU of the first lines against the references, three files', async () => {
    const out = tempDir();
    const seen: string[] = [];
    const printed: string[] = [];
    assert.equal(await runWith(argv(out), noScorer, (s) => printed.push(s), fakeGenerator(2, seen)), 0);
    assert.equal(seen.length, 8); // 4 rows × 2 directions × 1 prompt
    assert.ok(
      seen.includes('Translate the following text from English to Tagalog.\nText: Good morning.\nTranslation:'),
    );
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as TranslationResults;
    assert.equal(r.schema, 'instructalign.eval.translation/1');
    assert.deepEqual(
      r.directions.map((d) => [d.src, d.tgt, d.n]),
      [
        ['eng', 'tgl', 4],
        ['tgl', 'eng', 4],
      ],
    );
    const hyps = ['Magandang umaga.', 'Maraming salamat.', '...', '...'];
    const refs = pairs.slice(0, 4).map((p) => p[1]);
    assert.equal(r.directions[0].chrf, corpusChrf(hyps, refs));
    assert.equal(r.directions[0].bleu, corpusBleu(hyps, [refs]).score);
    assert.ok(r.directions[0].chrf > 0 && r.directions[0].chrf < 100);
    const preds = readFileSync(join(out, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(preds[0], {
      src: 'eng',
      tgt: 'tgl',
      prompt: 1,
      id: 1,
      source: 'Good morning.',
      reference: 'Magandang umaga.',
      hypothesis: 'Magandang umaga.',
    });
    assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /eng → tgl/);
    assert.ok(printed.some((s) => /chrF\+\+/.test(s)));
    // the folder is not overwritten
    await assert.rejects(
      runWith(argv(out), noScorer, () => {}, fakeGenerator(2)),
      /results\.json exists/,
    );
  });

  it('compare: Δ chrF++ and Δ BLEU per direction between two runs', async () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    await runWith(argv(a), noScorer, () => {}, fakeGenerator(0));
    await runWith(argv(b), noScorer, () => {}, fakeGenerator(4));
    const printed: string[] = [];
    assert.equal(await compare([a, b, '--out', c], (s) => printed.push(s)), 0);
    const cj = JSON.parse(readFileSync(join(c, 'compare.json'), 'utf8'));
    assert.equal(cj.directions.length, 2);
    assert.equal(cj.directions[0].chrf.b, 100);
    assert.ok(cj.directions[0].chrf.delta > 50);
    assert.match(printed.join('\n'), /eng → tgl/);
  });

  it('compare like with like: the same model on 4 vs 2 rows gives Δ 0 on the 2 common rows, the rest counted', async () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    await runWith(argv(a), noScorer, () => {}, fakeGenerator(1));
    await runWith([...argv(b), '--limit', '2'], noScorer, () => {}, fakeGenerator(1));
    const printed: string[] = [];
    assert.equal(await compare([a, b, '--out', c], (s) => printed.push(s)), 0);
    const cj = JSON.parse(readFileSync(join(c, 'compare.json'), 'utf8'));
    assert.deepEqual(cj.sentences, { common: 4, onlyInA: 4, onlyInB: 0, changed: 0 });
    for (const d of cj.directions)
      for (const k of ['chrf', 'bleu']) {
        assert.equal(d[k].delta, 0);
        assert.deepEqual(d[k].ci95, [0, 0]);
        assert.equal(d[k].excludesZero, false);
      }
    assert.match(printed.join('\n'), /sentences left out: 4 only in A, 0 only in B/);
    // a better model: the interval holds Δ
    const better = tempDir();
    await runWith(argv(better), noScorer, () => {}, fakeGenerator(4));
    await compare([a, better, '--out', c], () => {});
    const cj2 = JSON.parse(readFileSync(join(c, 'compare.json'), 'utf8'));
    for (const d of cj2.directions) assert.ok(d.chrf.ci95[0] <= d.chrf.delta && d.chrf.delta <= d.chrf.ci95[1]);
  });

  it('--flores-held-out N: exactly the rows train --flores-held-out N left out of training', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'fl', 'dev'), { recursive: true });
    const rows = Array.from({ length: 8 }, (_, i) => i);
    writeFileSync(join(d, 'fl', 'dev', 'eng_Latn.dev'), rows.map((i) => `English ${i}.`).join('\n') + '\n');
    writeFileSync(join(d, 'fl', 'dev', 'tgl_Latn.dev'), rows.map((i) => `Tagalog ${i}.`).join('\n') + '\n');
    const seen: string[] = [];
    const out = join(d, 'out');
    const args = ['--model', 'm', '--task', 'translation', '--data', join(d, 'fl'), '--l1', 'eng', '--l2', 'tgl'];
    assert.equal(
      await runWith([...args, '--flores-held-out', '3', '--out', out], noScorer, () => {}, fakeGenerator(0, seen)),
      0,
    );
    const preds = readFileSync(join(out, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const evaluated = new Set(preds.filter((p) => p.src === 'eng').map((p) => p.source));
    assert.equal(evaluated.size, 3);
    const trained = loadTrainingPairs({
      pairs: join(d, 'fl'),
      l1: ['eng'],
      l2: ['tgl'],
      objectives: 'mt',
      floresHeldOut: 3,
    });
    assert.equal(new Set(trained.map((p) => p.sentence1)).size, 10); // 5 rows × 2 languages
    assert.ok(trained.every((p) => !evaluated.has(p.sentence1) && !evaluated.has(p.sentence2)));
  });

  it('flag errors: --data, --l1/--l2, custom prompts, prompt numbers', async () => {
    const out = tempDir();
    const base = ['--model', 'm', '--task', 'translation', '--out', out];
    await assert.rejects(
      runWith(base, noScorer, () => {}, fakeGenerator(0)),
      /needs --data PAIRS/,
    );
    await assert.rejects(
      runWith([...base, '--data', PAIRS], noScorer, () => {}, fakeGenerator(0)),
      /needs --l1/,
    );
    await assert.rejects(
      runWith([...argv(out), '--prompts', '9'], noScorer, () => {}, fakeGenerator(0)),
      /translation prompts are 1-6, got 9/,
    );
    await assert.rejects(
      runWith(['--model', 'm', '--l1', 'eng', '--out', out], noScorer, () => {}, fakeGenerator(0)),
      /--l1 is for --task translation/,
    );
    // classification flags were ignored by --task translation without a word (audit E5)
    for (const flag of [
      ['--labels', 'a,b'],
      ['--groups', 'L2=tgl'],
      ['--shard', '1/2'],
    ])
      await assert.rejects(
        runWith([...argv(out), ...flag], noScorer, () => {}, fakeGenerator(0)),
        new RegExp(`${flag[0]} is for classification, not --task translation`),
      );
  });
});
