// eval on your own classification data: CSV/TSV/JSONL with text,label (id and lang optional), your own prompt
// templates (--prompt, repeatable, with \n escapes; --prompts-file), groups of any language (fake model).
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ScorerFactory, runWith } from '../../src/cli/eval.ts';
import { parseClassificationText, parseGroups } from '../../src/eval/data-core.ts';
import type { ResultsJson } from '../../src/eval/results.ts';
import { customPrompts, parsePromptsFile, unescapePrompt } from '../../src/eval/tasks.ts';
import { type FakeScorer, fakeScorer } from './fake-scorer.ts';
import { tempDir } from './helpers.ts';

const LABELS = ['negatibo', 'positibo'];

describe('eval: your own data and prompts', () => {
  it('text,label,lang without id: ids are the row numbers, rows grouped by lang (codes normalised)', () => {
    const csv = 'text,label,lang\nMasaya ako.,positibo,tgl\nGood.,1,eng\n"Ayaw ko, pangit.",negatibo,tgl_Latn\n';
    const g = parseClassificationText(csv, 's.csv', LABELS, { defaultLang: 's' });
    assert.deepEqual(g, [
      {
        lang: 'tgl',
        rows: [
          { id: '1', text: 'Masaya ako.', label: 'positibo' },
          { id: '3', text: 'Ayaw ko, pangit.', label: 'negatibo' },
        ],
      },
      { lang: 'eng', rows: [{ id: '2', text: 'Good.', label: 'positibo' }] },
    ]);
    // without lang: one language, the default (the file name)
    assert.deepEqual(
      parseClassificationText('text\tlabel\nA\tpositibo\n', 's.tsv', LABELS, { defaultLang: 's' }).map((x) => x.lang),
      ['s'],
    );
  });

  it('JSONL rows (label as index or name); errors name file and line', () => {
    const jsonl = '{"text":"Masaya.","label":1,"lang":"tgl"}\n\n{"text":"Pangit.","label":"negatibo","lang":"tgl"}\n';
    const g = parseClassificationText(jsonl, 's.jsonl', LABELS, { defaultLang: 's' });
    assert.deepEqual(
      g[0].rows.map((r) => [r.id, r.label]),
      [
        ['1', 'positibo'],
        ['2', 'negatibo'],
      ],
    );
    const bad = (text: string, file: string) => () => parseClassificationText(text, file, LABELS, { defaultLang: 'x' });
    assert.throws(
      bad('{"text":"a","label":"x"}\n', 'a.jsonl'),
      /a\.jsonl:1: label "x" is not one of negatibo, positibo/,
    );
    assert.throws(bad('{"text":"a"}\n', 'a.jsonl'), /a\.jsonl:1: missing "label"/);
    assert.throws(bad('{"text":"a","label":0}\n{"text":', 'a.jsonl'), /a\.jsonl:2: bad JSON/);
    assert.throws(bad('sentence,label\na,positibo\n', 'a.csv'), /a\.csv:1: missing column "text"/);
    assert.throws(bad('text,label,lang\na,positibo,\n', 'a.csv'), /a\.csv:2: empty lang/);
    assert.throws(bad('id,text,label\n1,a,positibo\n1,b,negatibo\n', 'a.csv'), /a\.csv:3: duplicate id "1"/);
  });

  it('prompt templates: \\n escapes, [INPUT]/[LABELS_CHOICE] required, a prompts file with comments', () => {
    assert.equal(unescapePrompt('Teksto: [INPUT]\\nAno? \\\\n \\x'), 'Teksto: [INPUT]\nAno? \\n \\x');
    assert.deepEqual(customPrompts(['[INPUT] [LABELS_CHOICE]']), [
      { id: 1, name: 'P1', template: '[INPUT] [LABELS_CHOICE]' },
    ]);
    assert.throws(
      () => customPrompts(['[INPUT] [OPTIONS]'], ['p.txt:3']),
      /p\.txt:3: the template has no \[LABELS_CHOICE\]/,
    );
    assert.throws(() => customPrompts(['Sentiment? [LABELS_CHOICE]']), /--prompt 1: the template has no \[INPUT\]/);
    const f = parsePromptsFile('# mine\n\nA: [INPUT]\\nB: [LABELS_CHOICE]\n', 'p.txt');
    assert.deepEqual(f, { templates: ['A: [INPUT]\nB: [LABELS_CHOICE]'], where: ['p.txt:3'] });
    assert.deepEqual(parseGroups('L1=english;L2=tgl_Latn,qaa'), { L1: ['eng'], L2: ['tgl', 'qaa'] });
  });

  it('the CLI: --data senti.csv --labels --prompt with \\n --groups L2=tgl → predictions and results for tgl', async () => {
    const out = tempDir();
    let fake: FakeScorer | undefined;
    const factory: ScorerFactory = async () => {
      fake = fakeScorer();
      return { scorer: fake, dispose: () => undefined };
    };
    const template = 'Teksto: [INPUT]\\nAno ang damdamin ng teksto? [OPTIONS]: [LABELS_CHOICE]';
    const argv = ['--model', 'm', '--data', 'data/examples/tagalog/senti.csv', '--labels', 'negatibo,positibo'];
    const code = await runWith([...argv, '--prompt', template, '--groups', 'L2=tgl', '--out', out], factory, () => {});
    assert.equal(code, 0);
    const preds = readFileSync(join(out, 'predictions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(preds.length, 20);
    assert.ok(preds.every((p) => p.lang === 'tgl' && p.prompt === 1));
    assert.deepEqual(
      preds.map((p) => p.id).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => `${i + 1}`),
    );
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsJson;
    assert.equal(r.task, 'classification');
    assert.deepEqual(
      r.languages.map((l) => [l.lang, l.group, l.n]),
      [['tgl', 'L2', 20]],
    );
    assert.deepEqual(
      r.groups.map((g) => g.group),
      ['L2'],
    );
    assert.equal(r.prompts[0].template, 'Teksto: [INPUT]\nAno ang damdamin ng teksto? [OPTIONS]: [LABELS_CHOICE]');
    // the model saw the template with a real line break and both labels
    assert.ok(
      fake!.seen.has(
        'Teksto: Napakasarap ng pagkain dito.\nAno ang damdamin ng teksto? negatibo or positibo: positibo',
      ),
    );
  });

  it('the CLI: two --prompt flags, a --prompts-file; --prompts with your own prompts is an error', async () => {
    const dir = tempDir();
    const factory: ScorerFactory = async () => ({ scorer: fakeScorer(), dispose: () => undefined });
    const pf = join(dir, 'prompts.txt');
    writeFileSync(pf, '# a prompts file\n[INPUT]\\n[OPTIONS]? [LABELS_CHOICE]\n');
    const base = ['--model', 'm', '--data', 'data/examples/tagalog/senti.csv', '--labels', 'negatibo,positibo'];
    const twice = ['--prompt', 'A [INPUT] [LABELS_CHOICE]', '--prompt', 'B [INPUT] [LABELS_CHOICE]'];
    assert.equal(
      await runWith([...base, ...twice, '--prompts-file', pf, '--out', join(dir, 'a')], factory, () => {}),
      0,
    );
    const r = JSON.parse(readFileSync(join(dir, 'a', 'results.json'), 'utf8')) as ResultsJson;
    assert.deepEqual(
      r.prompts.map((p) => p.template),
      ['A [INPUT] [LABELS_CHOICE]', 'B [INPUT] [LABELS_CHOICE]', '[INPUT]\n[OPTIONS]? [LABELS_CHOICE]'],
    );
    await assert.rejects(
      runWith([...base, ...twice, '--prompts', '1', '--out', join(dir, 'b')], factory, () => {}),
      /--prompts picks built-in prompts/,
    );
    await assert.rejects(
      runWith([...base, '--prompt', 'no input [LABELS_CHOICE]', '--out', join(dir, 'c')], factory, () => {}),
      /--prompt 1: the template has no \[INPUT\]/,
    );
  });
});
