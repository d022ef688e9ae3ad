// Issue 25 item 5: ISO 639-1 / BCP-47 tags, --columns for JSONL keys, several --pairs files, the seeded validation
// split (--eval-split), language names recorded, and errors that name the flag that fixes them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBcp47, langCode, langName, normalizeLangNames, parseLangNames } from '../../../src/train/data/langs.ts';
import { parsePairsJsonl, parsePairsTable, type PairsSource } from '../../../src/train/data/parallel.ts';
import { dataSummaryLine, evalSplitRows, evalTexts, prepareData } from '../../../src/train/data/prepare.ts';
import { checkpointLangNames, loadTrainingData } from '../../../src/train/data/node-io.ts';

const EN = ['Good morning.', 'My name is Ade.', 'Where is the market?', 'The rain is falling.', 'Thank you.', 'Come.'];
const YO = ['Ẹ káàárọ̀.', 'Orúkọ mi ni Adé.', 'Níbo ni ọjà wà?', 'Òjò ń rọ̀.', 'Ẹ ṣé.', 'Wá.'];
const hfIso1 = EN.map((e, i) => JSON.stringify({ translation: { en: e, yo: YO[i] } })).join('\n') + '\n';

describe('language tags and data loading (issue 25 item 5)', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'ia-prep-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('ISO 639-1 and BCP-47 tags map to ISO 639-3; the region is dropped, a script is kept', () => {
    assert.equal(langCode('en'), 'eng');
    assert.equal(langCode('yo'), 'yor');
    assert.equal(langCode('pt-BR'), 'por');
    assert.equal(langCode('pt_BR'), 'por');
    assert.equal(langCode('zh'), 'zho'); // a macrolanguage's own code
    assert.equal(langCode('zh-Hant'), 'zho-Hant');
    assert.equal(langCode('zh-hans-CN'), 'zho-Hans');
    assert.equal(langCode('sr-Latn-RS'), 'srp-Latn');
    assert.equal(langCode('yor-NG'), 'yor');
    assert.equal(langCode('tgl_Latn'), 'tgl', 'the FLORES form keeps its meaning: the base code');
    assert.equal(fromBcp47('xx'), undefined);
    assert.equal(langName('zho-Hant'), 'Chinese (Traditional)');
    assert.equal(langName('srp-Latn'), 'Serbian (Latin script)');
    assert.deepEqual(parseLangNames('en=English,yo=Yorùbá,zh-Hant=Chinese (Taiwan),qaa=Zedish'), {
      eng: 'English',
      yor: 'Yorùbá',
      'zho-Hant': 'Chinese (Taiwan)',
      qaa: 'Zedish',
    });
    assert.equal(langName('zho-Hant', parseLangNames('zh-Hant=Chinese (Taiwan)')), 'Chinese (Taiwan)');
    // the API's object form normalises its keys the same way (a name may hold a comma)
    assert.deepEqual(normalizeLangNames({ yo: 'Yorùbá, Standard', 'zh-Hant': 'Chinese', xqz: 'New' }), {
      yor: 'Yorùbá, Standard',
      'zho-Hant': 'Chinese',
      xqz: 'New',
    });
  });

  it('HF translation JSONL with ISO 639-1 keys loads, under --l1 eng --l2 yor and under --l1 en --l2 yo', () => {
    const src = parsePairsJsonl(hfIso1, 'hf.jsonl');
    assert.equal(src.kind, 'aligned');
    for (const [l1, l2] of [
      ['eng', 'yor'],
      [langCode('en'), langCode('yo')],
    ]) {
      const d = prepareData([src], { l1: [l1], l2: [l2], objectives: 'tlm,xss', seed: 1 });
      assert.equal(d.pairs.length, 12);
      assert.deepEqual(d.pairs[0], { lang1: 'eng', lang2: 'yor', sentence1: EN[0], sentence2: YO[0] });
    }
  });

  it('--columns maps JSONL keys (flat and HF), and names a key no row has', () => {
    const flat = EN.map((e, i) => JSON.stringify({ id: i, src: e, tgt: YO[i] })).join('\n');
    const src = parsePairsJsonl(flat, 'flat.jsonl', { columns: { eng: 'src', yor: 'tgt' } });
    assert.equal(src.kind, 'aligned');
    if (src.kind === 'aligned') assert.deepEqual(src.corpus.columns.yor, YO);
    const hf = parsePairsJsonl(hfIso1, 'hf.jsonl', { columns: { eng: 'en', yor: 'yo' } });
    if (hf.kind === 'aligned') assert.deepEqual(Object.keys(hf.corpus.columns), ['eng', 'yor']);
    assert.throws(
      () => parsePairsJsonl(flat, 'flat.jsonl', { columns: { eng: 'source', yor: 'tgt' } }),
      /flat\.jsonl: --columns eng=source: no row has the key "source"/,
    );
    // an unknown key names both fixes
    assert.throws(
      () => parsePairsJsonl('{"english": "a", "foo": "b"}\n', 'k.jsonl'),
      /k\.jsonl:1: key "foo": unknown language.*--lang-names.*--columns/,
    );
  });

  it('several --pairs files combine; each gives the pairs of the languages it has', () => {
    const d = tmp();
    writeFileSync(join(d, 'a.tsv'), `eng\tyor\n${EN.map((e, i) => `${e}\t${YO[i]}`).join('\n')}\n`);
    writeFileSync(join(d, 'b.jsonl'), hfIso1.split('\n').slice(0, 2).join('\n'));
    writeFileSync(join(d, 'c.tsv'), 'eng\tibo\nGood morning.\tỤtụtụ ọma.\n');
    const r = loadTrainingData({
      pairs: [join(d, 'a.tsv'), join(d, 'b.jsonl'), join(d, 'c.tsv')],
      l1: ['eng'],
      l2: ['yor', 'ibo'],
      objectives: 'tlm',
    });
    assert.equal(r.summary.rows, 6 + 2 + 1);
    assert.equal(r.pairs.length, 2 * (6 + 2 + 1));
    assert.ok(r.pairs.some((p) => p.lang2 === 'ibo' && p.sentence2 === 'Ụtụtụ ọma.'));
    // a comma between two tables is the line-aligned form: the error says to repeat --pairs
    assert.throws(
      () =>
        loadTrainingData({
          pairs: `${join(d, 'a.tsv')},${join(d, 'c.tsv')}`,
          l1: ['eng'],
          l2: ['yor'],
          objectives: 'tlm',
        }),
      /repeat --pairs \(--pairs a\.tsv --pairs c\.tsv\)/,
    );
    // a language no file has
    assert.throws(
      () =>
        loadTrainingData({
          pairs: [join(d, 'a.tsv'), join(d, 'b.jsonl')],
          l1: ['eng'],
          l2: ['yor', 'hau'],
          objectives: 'tlm',
        }),
      /no --pairs file has language "hau"/,
    );
  });

  it('rows with no usable pair are counted as skipped', () => {
    const jsonl = '{"eng": "a b", "yor": "c d"}\n{"eng": "only english"}\n{"eng": "e f", "yor": ""}\n';
    const d = prepareData([parsePairsJsonl(jsonl, 'm.jsonl')], {
      l1: ['eng'],
      l2: ['yor'],
      objectives: 'tlm',
      seed: 0,
    });
    assert.deepEqual([d.summary.rows, d.summary.skippedRows, d.summary.pairs], [3, 2, 2]);
  });

  it('--eval-split holds out whole rows, seeded and deterministic; none of them is trained on', () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ e: `english sentence ${i}`, y: `yoruba gbolohun ${i}` }));
    const src: PairsSource = {
      kind: 'aligned',
      corpus: { source: 's', columns: { eng: rows.map((r) => r.e), yor: rows.map((r) => r.y) } },
    };
    const o = { l1: ['eng'], l2: ['yor'], objectives: 'tlm,xss', seed: 3 };
    const a = prepareData([src], { ...o, evalSplit: '10%' });
    const b = prepareData([src], { ...o, evalSplit: '10%' });
    assert.equal(a.summary.evalRows, 4);
    assert.equal(a.evalPairs.length, 8, 'both directions of each held-out row');
    assert.deepEqual(a.evalPairs, b.evalPairs, 'the same seed holds out the same rows');
    const trained = new Set(a.pairs.flatMap((p) => [p.sentence1, p.sentence2]));
    assert.ok(a.evalPairs.every((p) => !trained.has(p.sentence1) && !trained.has(p.sentence2)));
    assert.equal(a.pairs.length + a.evalPairs.length, 80);
    const c = prepareData([src], { ...o, seed: 4, evalSplit: 4 });
    assert.notDeepEqual(c.evalPairs, a.evalPairs, 'another seed, another sample');
    // the validation texts are fixed for a seed
    assert.deepEqual(evalTexts(a.evalPairs, o), evalTexts(b.evalPairs, o));
    assert.equal(evalTexts(a.evalPairs, o).length, 8);
    // counts and shares; too many names the flag
    assert.equal(evalSplitRows('25%', 40), 10);
    assert.equal(evalSplitRows(0, 40), 0);
    assert.throws(() => evalSplitRows(40, 40), /--eval-split 40: cannot hold out 40 of 40 usable rows/);
    assert.throws(() => evalSplitRows('abc', 40), /--eval-split must be a row count/);
  });

  it('errors name the flag: same language on both sides; --recipe paper on a small FLORES folder', () => {
    const src = parsePairsJsonl(hfIso1, 'hf.jsonl');
    assert.throws(
      () => prepareData([src], { l1: ['eng'], l2: ['eng'], objectives: 'tlm', seed: 0 }),
      /--l1 eng and --l2 eng are the same language/,
    );
    const d = tmp();
    mkdirSync(join(d, 'dev'));
    writeFileSync(join(d, 'dev/eng_Latn.dev'), 'a\nb\nc\n');
    writeFileSync(join(d, 'dev/yor_Latn.dev'), 'x\ny\nz\n');
    assert.throws(
      () =>
        loadTrainingData({
          pairs: d,
          l1: ['eng'],
          l2: ['yor'],
          objectives: 'tlm',
          floresHeldOut: 1000,
          recipe: 'paper',
        }),
      /cannot hold out 1000 of its 3 FLORES rows \(--recipe paper holds out 1000\): pass --flores-held-out N/,
    );
    assert.equal(
      loadTrainingData({ pairs: d, l1: ['eng'], l2: ['yor'], objectives: 'tlm', floresHeldOut: 1 }).pairs.length,
      4,
    );
  });

  it('checkpointLangNames reads a checkpoint folder’s languages.json ({} without one)', () => {
    const d = tmp();
    assert.deepEqual(checkpointLangNames(d), {});
    writeFileSync(
      join(d, 'languages.json'),
      JSON.stringify({ l1: ['eng'], l2: ['qaa'], lang_names: { qaa: 'Ìjẹ̀bú' } }),
    );
    assert.deepEqual(checkpointLangNames(d), { qaa: 'Ìjẹ̀bú' });
  });

  it('the data line (train, data --preview) gives a reason only for rows it skipped, and the right one', () => {
    // "0 skipped (no sentence pair for …)" read as if the data had no pairs; with mlm alone a row needs no pair
    const table = (text: string): PairsSource => ({ kind: 'aligned', corpus: parsePairsTable(text, 'p.tsv') });
    const o = { l1: ['eng'], l2: ['yor'], seed: 1 };
    const full = table(`eng\tyor\n${EN.map((e, i) => `${e}\t${YO[i]}`).join('\n')}\n`);
    const line = (src: PairsSource, more: { objectives: string; evalSplit?: number }) =>
      dataSummaryLine(prepareData([src], { ...o, ...more }).summary, { ...o, ...more });
    assert.equal(line(full, { objectives: 'mt' }), 'data: 6 rows read from p.tsv → 12 training pairs (directional)');
    assert.equal(
      line(full, { objectives: 'mt', evalSplit: 2 }),
      'data: 6 rows read from p.tsv, 2 held out for validation (--eval-split 2) → 8 training pairs (directional), ' +
        '4 validation pairs',
    );
    // row 2 lacks its Yoruba sentence, row 3 its English one
    const gaps = table(`eng\tyor\n${EN[0]}\t${YO[0]}\n${EN[1]}\t\n\t${YO[2]}\n`);
    assert.equal(
      line(gaps, { objectives: 'mt' }),
      'data: 3 rows read from p.tsv, 2 skipped (no sentence pair for eng ↔ yor) → 2 training pairs (directional)',
    );
    // mlm alone uses every row with an English sentence: only row 3 is skipped, for want of that sentence
    assert.match(line(gaps, { objectives: 'mlm' }), /^data: 3 rows read from p\.tsv, 1 skipped \(no eng sentence\) → /);
  });
});
