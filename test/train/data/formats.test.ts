// The --pairs formats of parallel.ts / node-io.ts beyond NusaX: CSV/TSV with a code header or --columns, JSONL flat /
// HF translation / directional, FLORES-200 folders (+ the held-out split), two line-aligned files; errors name the
// file and line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readParallel, loadTrainingPairs } from '../../../src/train/data/node-io.ts';
import {
  floresSplit,
  parseAlignedTexts,
  parseColumnsSpec,
  parseFlores,
  parseParallelText,
  parsePairsJsonl,
  parsePairsTable,
} from '../../../src/train/data/parallel.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ia-fmt-'));
const aligned = (s: ReturnType<typeof parseParallelText>) => {
  assert.equal(s.kind, 'aligned');
  return s.kind === 'aligned' ? s.corpus.columns : {};
};

describe('train/data formats (--pairs)', () => {
  it('a JSONL sentence that is an array or a number is an error naming the line and key (audit P13: dropped)', () => {
    const arr = '{"translation": {"en": ["Hello.", "Hi."], "yo": "Bawo."}}\n';
    assert.throws(
      () => parseParallelText(arr, 'p.jsonl'),
      /p\.jsonl:1: key "en": the sentence must be a string, got an array/,
    );
    const num = '{"eng": "Good.", "tgl": 5}\n';
    assert.throws(() => parseParallelText(num, 'p.jsonl'), /p\.jsonl:1: key "tgl": .* got a number \(5\)/);
    const cols = '{"a": "Good.", "b": ["x"]}\n';
    assert.throws(() => parseParallelText(cols, 'p.jsonl', { columns: { eng: 'a', tgl: 'b' } }), /key "b"/);
    // other keys' non-string values (not languages) are still ignored
    assert.deepEqual(aligned(parseParallelText('{"eng": "Good.", "tgl": "Mabuti.", "score": 0.9}\n', 'p.jsonl')), {
      eng: ['Good.'],
      tgl: ['Mabuti.'],
    });
  });

  it('TSV and CSV with a header of codes (tgl_Latn style too); quoted commas and tabs', () => {
    const tsv = 'eng\ttgl_Latn\nGood morning.\tMagandang umaga.\n"Yes, sir."\t"Opo, ginoo."\n';
    assert.deepEqual(aligned(parseParallelText(tsv, 'p.tsv')), {
      eng: ['Good morning.', 'Yes, sir.'],
      tgl: ['Magandang umaga.', 'Opo, ginoo.'],
    });
    const csv = 'eng,tgl\n"Yes, sir.",Opo.\n';
    assert.deepEqual(aligned(parseParallelText(csv, 'p.csv')), { eng: ['Yes, sir.'], tgl: ['Opo.'] });
    // a .txt with tabs in the header is read as TSV
    assert.deepEqual(aligned(parseParallelText('eng\ttgl\na, b\tc\n', 'p.txt')), { eng: ['a, b'], tgl: ['c'] });
  });

  it('--columns maps other headers; unknown headers and bad rows name file:line', () => {
    const text = 'id,english,tagalog_text\n1,Hi.,Kumusta.\n';
    const columns = parseColumnsSpec('eng=english,tgl=tagalog_text');
    assert.deepEqual(parsePairsTable(text, 'p.csv', { columns }).columns, { eng: ['Hi.'], tgl: ['Kumusta.'] });
    // `id` is a row identifier (as in flat JSONL), skipped, not Indonesian (ISO 639-1 "id"): the next header is named
    assert.throws(
      () => parsePairsTable(text, 'p.csv'),
      /p\.csv:1: column 3 "tagalog_text" is not a language code.*--columns/,
    );
    assert.deepEqual(parsePairsTable('id,eng,tgl\n1,Hi.,Kumusta.\n', 'p.csv').columns, {
      eng: ['Hi.'],
      tgl: ['Kumusta.'],
    });
    assert.throws(
      () => parsePairsTable(text, 'p.csv', { columns: { eng: 'english', tgl: 'tl' } }),
      /p\.csv:1: --columns tgl=tl: no column "tl"/,
    );
    assert.throws(() => parseColumnsSpec('eng'), /--columns: bad entry "eng"/);
    assert.throws(
      () => parsePairsTable('eng\ttgl\na\tb\nc\n', 'p.tsv'),
      /p\.tsv:3: 1 fields, the header has 2 \(a missing column or a tab/,
    );
    assert.throws(() => parsePairsTable('eng,tgl\n"a,b\n', 'p.csv'), /p\.csv:2: unterminated quoted field/);
    assert.throws(() => parsePairsTable('', 'p.csv'), /p\.csv:1: empty file/);
    assert.throws(() => parsePairsTable('eng,tgl\n', 'p.csv'), /p\.csv:2: no data rows/);
    assert.throws(() => parsePairsTable('eng,eng_Latn\na,b\n', 'p.csv'), /p\.csv:1: two columns are language "eng"/);
  });

  it('JSONL: flat rows and the HF translation form give aligned columns; the old directional form is kept', () => {
    const flat = '{"eng":"Hi.","tgl":"Kumusta.","id":7}\n\n{"id":"r2","eng":"Yes.","tgl":"Oo."}\n';
    assert.deepEqual(aligned(parsePairsJsonl(flat, 'f.jsonl')), { eng: ['Hi.', 'Yes.'], tgl: ['Kumusta.', 'Oo.'] });
    const hf = '{"translation":{"eng":"Hi.","qaa":"Zed hi."}}\n{"translation":{"eng":"No.","qaa":"Zed no."}}\n';
    assert.deepEqual(aligned(parsePairsJsonl(hf, 'h.jsonl', { names: { qaa: 'Zedish' } })), {
      eng: ['Hi.', 'No.'],
      qaa: ['Zed hi.', 'Zed no.'],
    });
    const dir = parsePairsJsonl('{"lang1":"eng","lang2":"tgl","sentence1":"Hi.","sentence2":"Kumusta."}\n', 'd.jsonl');
    assert.deepEqual(dir, {
      kind: 'pairs',
      pairs: [{ lang1: 'eng', lang2: 'tgl', sentence1: 'Hi.', sentence2: 'Kumusta.' }],
    });
  });

  it('JSONL errors name file:line: bad JSON, unknown key, mixed forms, non-object translation, empty', () => {
    assert.throws(() => parsePairsJsonl('{"eng":"a","tgl":"b"}\n{"eng":', 'x.jsonl'), /x\.jsonl:2: bad JSON/);
    assert.throws(() => parsePairsJsonl('{"eng":"a","text":"b"}\n', 'x.jsonl'), /x\.jsonl:1: key "text": unknown lang/);
    assert.throws(
      () => parsePairsJsonl('{"eng":"a","tgl":"b"}\n{"translation":{"eng":"a"}}\n', 'x.jsonl'),
      /x\.jsonl:2: a translation row in a file of flat rows/,
    );
    assert.throws(() => parsePairsJsonl('{"translation":"a"}\n', 'x.jsonl'), /x\.jsonl:1: "translation" must be/);
    assert.throws(() => parsePairsJsonl('[1,2]\n', 'x.jsonl'), /x\.jsonl:1: expected a JSON object/);
    assert.throws(() => parsePairsJsonl('\n\n', 'x.jsonl'), /x\.jsonl:1: no pairs/);
  });

  it('two line-aligned files (Moses style): languages from the extensions; counts must match', () => {
    const d = tmp();
    writeFileSync(join(d, 'corpus.eng'), 'Hi.\nYes.\n');
    writeFileSync(join(d, 'corpus.tgl'), 'Kumusta.\nOo.\n');
    writeFileSync(join(d, 'short.tgl'), 'Kumusta.\n');
    writeFileSync(join(d, 'corpus.en1'), 'x\n');
    const both = `${join(d, 'corpus.eng')},${join(d, 'corpus.tgl')}`;
    assert.deepEqual(aligned(readParallel(both)), { eng: ['Hi.', 'Yes.'], tgl: ['Kumusta.', 'Oo.'] });
    assert.throws(
      () => readParallel(`${join(d, 'corpus.eng')},${join(d, 'short.tgl')}`),
      /corpus\.eng has 2 lines, .*short\.tgl has 1: the files are not line-aligned \(.*corpus\.eng:2 has no partner\)/,
    );
    assert.throws(() => readParallel(`${join(d, 'corpus.eng')},${join(d, 'corpus.en1')}`), /from its extension ".en1"/);
    assert.throws(() => readParallel(`${join(d, 'corpus.eng')},${join(d, 'nope.tgl')}`), /no such file .*nope\.tgl/);
    assert.throws(() => parseAlignedTexts({ eng: 'a\n' }), /need two files/);
  });

  it('FLORES-200 folder with any language; two files of one language are an error', () => {
    const d = tmp();
    mkdirSync(join(d, 'dev'));
    mkdirSync(join(d, 'devtest'));
    writeFileSync(join(d, 'dev/eng_Latn.dev'), 'A1\nA2\n');
    writeFileSync(join(d, 'dev/tgl_Latn.dev'), 'T1\nT2\n');
    writeFileSync(join(d, 'devtest/eng_Latn.devtest'), 'A3\n');
    writeFileSync(join(d, 'devtest/tgl_Latn.devtest'), 'T3\n');
    assert.deepEqual(aligned(readParallel(d)), { eng: ['A1', 'A2', 'A3'], tgl: ['T1', 'T2', 'T3'] });
    assert.throws(
      () => parseFlores({ 'zho_Hans.dev': 'a\n', 'zho_Hant.dev': 'b\n' }, 'fl'),
      /fl: zho_Hans\.dev and zho_Hant\.dev are both language "zho"/,
    );
    assert.throws(() => parseFlores({ 'xqz_Latn.dev': 'a\n' }, 'fl'), /fl\/xqz_Latn\.dev: unknown language/);
  });

  it('floresSplit: dev+devtest rows, `heldOut` of them held out, disjoint, aligned, seeded', () => {
    const n = 30;
    const corpus = {
      source: 'fl',
      columns: {
        eng: Array.from({ length: n }, (_, i) => `e${i}`),
        tgl: Array.from({ length: n }, (_, i) => `t${i}`),
      },
    };
    const { train, test } = floresSplit(corpus, { heldOut: 10 });
    assert.equal(test.columns.eng.length, 10);
    assert.equal(train.columns.eng.length, 20);
    assert.deepEqual(
      test.columns.tgl,
      test.columns.eng.map((e) => e.replace('e', 't')),
    );
    assert.deepEqual([...train.columns.eng, ...test.columns.eng].sort(), [...corpus.columns.eng].sort());
    assert.deepEqual(floresSplit(corpus, { heldOut: 10 }).test, test);
    assert.notDeepEqual(floresSplit(corpus, { heldOut: 10, seed: 1 }).test.columns.eng, test.columns.eng);
    assert.throws(() => floresSplit(corpus), /cannot hold out 1000 of 30 rows/);
  });

  it('loadTrainingPairs: --l1/--l2 pick the columns (a hint when they are missing); directional JSONL is filtered', () => {
    const d = tmp();
    const f = join(d, 'p.tsv');
    writeFileSync(f, 'eng\ttgl\nHi.\tKumusta.\n');
    const base = { pairs: f, objectives: 'tlm' };
    assert.deepEqual(loadTrainingPairs({ ...base, l1: ['eng'], l2: ['tgl'] }), [
      { lang1: 'eng', lang2: 'tgl', sentence1: 'Hi.', sentence2: 'Kumusta.' },
      { lang1: 'tgl', lang2: 'eng', sentence1: 'Kumusta.', sentence2: 'Hi.' },
    ]);
    assert.throws(
      () => loadTrainingPairs({ ...base, l1: ['eng'], l2: ['ace'] }),
      /no column for language "ace" \(have: eng, tgl\); pass --l1\/--l2 \(e\.g\. --l1 eng --l2 tgl\)/,
    );
    const j = join(d, 'd.jsonl');
    writeFileSync(j, '{"lang1":"eng","lang2":"jav","sentence1":"a","sentence2":"b"}\n');
    assert.throws(
      () => loadTrainingPairs({ ...base, pairs: j, l1: ['eng'], l2: ['sun'] }),
      /no pair in the data is between --l1 eng and --l2 sun \(have: eng, jav\)/,
    );
  });
});

describe('browser safety of the data code', () => {
  it('the pairs parsers, the training texts, the eval data and the translation metrics bundle for a browser (no node:)', async function () {
    this.timeout(60000);
    const esbuild = await import('esbuild');
    const r = await esbuild.build({
      entryPoints: ['src/train/data/index.ts', 'src/eval/data-core.ts', 'src/eval/translation.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      outdir: 'out',
      logLevel: 'silent',
    });
    for (const f of r.outputFiles) assert.doesNotMatch(f.text, /from ["']node:|require\(["']node:/, f.path);
    // the ISO 639-3 names travel only with the training-data code, not with the evaluation's data loader
    const size = (name: string) => r.outputFiles.find((f) => f.path.endsWith(name))!.text;
    assert.match(size('index.js'), /Ghotuo/);
    assert.doesNotMatch(size('data-core.js'), /Ghotuo/);
  });
});
