// parallel.ts / node-io.ts: NusaX-MT, FLORES-200, JSONL readers; pair directions; errors name file and line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { langCode, langName } from '../../../src/train/data/langs.ts';
import { readFlores, readNusaxMT, readPairsJsonl } from '../../../src/train/data/node-io.ts';
import { buildPairs, parseFlores, parseNusaxMT, parsePairsJsonl } from '../../../src/train/data/parallel.ts';
import { dataPath } from '../../../src/train/data/paths.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'ia-data-'));

describe('train/data/parallel', () => {
  it('language codes and prompt names (official lang_map + NusaX-only)', () => {
    assert.deepEqual(
      ['eng', 'ind', 'sun', 'jav', 'bug', 'ace', 'bjn', 'ban', 'min'].map((c) => langName(c)),
      [
        'English',
        'Indonesian',
        'Sundanese',
        'Javanese',
        'Buginese',
        'Acehnese',
        'Banjarese',
        'Balinese',
        'Minangkabau',
      ],
    );
    assert.deepEqual(
      ['mad', 'nij', 'bbc'].map((c) => langName(c)),
      ['Madurese', 'Ngaju', 'Toba Batak'],
    );
    assert.deepEqual(
      ['sun_Latn', 'toba_batak', 'Toba Batak', 'acehnese'].map((c) => langCode(c)),
      ['sun', 'bbc', 'bbc', 'ace'],
    );
    assert.throws(() => langCode('elvish'), /unknown language "elvish"/);
  });

  it('reads the bundled NusaX-MT train split: 12 languages, 500 rows', () => {
    const c = readNusaxMT(dataPath('nusax/mt/train.csv'));
    assert.deepEqual(Object.keys(c.columns).sort(), [
      'ace',
      'ban',
      'bbc',
      'bjn',
      'bug',
      'eng',
      'ind',
      'jav',
      'mad',
      'min',
      'nij',
      'sun',
    ]);
    for (const col of Object.values(c.columns)) assert.equal(col.length, 500);
    assert.ok(c.columns.eng[0].startsWith('Enjoy 0% instalment'));
  });

  it('pairs go both directions (sentence1/lang1 = source), empty cells skipped', () => {
    const c = parseNusaxMT(',english,sundanese,javanese\n0,Hello.,Halo.,\n1,Good.,Sae.,Apik.\n', 'mini.csv');
    const pairs = buildPairs(c, { l1: ['eng'], l2: ['sun', 'jav'] });
    const dirs = pairs.map((p) => `${p.lang1}>${p.lang2}:${p.sentence1}`);
    assert.deepEqual(dirs, [
      'eng>sun:Hello.',
      'eng>sun:Good.',
      'sun>eng:Halo.',
      'sun>eng:Sae.',
      'eng>jav:Good.',
      'jav>eng:Apik.',
    ]);
    const all = buildPairs(readNusaxMT(dataPath('nusax/mt/train.csv')), { l1: ['eng', 'ind'], l2: ['ace', 'sun'] });
    for (const d of ['eng>ace', 'ace>eng', 'ind>ace', 'ace>ind', 'eng>sun', 'sun>eng', 'ind>sun', 'sun>ind']) {
      assert.equal(all.filter((p) => `${p.lang1}>${p.lang2}` === d).length, 500, d);
    }
  });

  it('monolingual pairing: each pivot once as sentence1, plus every L2→pivot (official load_flores_datasets)', () => {
    const c = parseNusaxMT(',english,indonesian,sundanese\n0,E,I,S\n', 'mini.csv');
    const p = buildPairs(c, { l1: ['eng', 'ind'], l2: ['sun'], monolingual: true }).map(
      (x) => `${x.lang1}:${x.sentence1}`,
    );
    assert.deepEqual(p, ['eng:E', 'sun:S', 'ind:I', 'sun:S']);
  });

  it('NusaX-MT errors name the file and line', () => {
    assert.throws(() => parseNusaxMT('', 'a.csv'), /a\.csv:1: empty file/);
    assert.throws(() => parseNusaxMT(',english\n', 'a.csv'), /a\.csv:2: no data rows/);
    assert.throws(
      () => parseNusaxMT(',english,sundanese\n0,a,b\n1,c\n', 'a.csv'),
      /a\.csv:3: 2 fields, the header has 3/,
    );
    assert.throws(
      () => parseNusaxMT(',english,elvish\n0,a,b\n', 'a.csv'),
      /a\.csv:1: column 3 "elvish" is not a language/,
    );
    assert.throws(() => parseNusaxMT(',english\n0,"open\n', 'a.csv'), /a\.csv:2: unterminated quoted field/);
    assert.throws(
      () => buildPairs(parseNusaxMT(',english\n0,a\n', 'a.csv'), { l1: ['eng'], l2: ['sun'] }),
      /a\.csv: no column for language "sun"/,
    );
  });

  it('FLORES-200 folder: dev then devtest, line-aligned', () => {
    const d = tmp();
    mkdirSync(join(d, 'dev'));
    mkdirSync(join(d, 'devtest'));
    writeFileSync(join(d, 'dev/eng_Latn.dev'), 'A1\nA2\n');
    writeFileSync(join(d, 'dev/sun_Latn.dev'), 'S1\nS2\n');
    writeFileSync(join(d, 'devtest/eng_Latn.devtest'), 'A3\n');
    writeFileSync(join(d, 'devtest/sun_Latn.devtest'), 'S3\n');
    const c = readFlores(d);
    assert.deepEqual(c.columns, { eng: ['A1', 'A2', 'A3'], sun: ['S1', 'S2', 'S3'] });
  });

  it('FLORES errors: ragged line counts name the files and counts; empty file and blank line name file:line', () => {
    assert.throws(
      () => parseFlores({ 'eng_Latn.dev': 'a\nb\n', 'sun_Latn.dev': 'x\n' }, 'fl'),
      /fl: dev files are not line-aligned \(eng_Latn\.dev: 2 lines, sun_Latn\.dev: 1 lines\)/,
    );
    assert.throws(() => parseFlores({ 'eng_Latn.dev': '' }, 'fl'), /fl\/eng_Latn\.dev:1: empty file/);
    assert.throws(() => parseFlores({ 'eng_Latn.dev': 'a\n\nc\n' }, 'fl'), /fl\/eng_Latn\.dev:2: empty line/);
    assert.throws(() => parseFlores({ README: 'x' }, 'fl'), /no FLORES files/);
  });

  it('JSONL pairs: used as given; bad JSON / missing field / empty file name file:line', () => {
    const d = tmp();
    const f = join(d, 'p.jsonl');
    writeFileSync(f, '{"lang1":"eng_Latn","lang2":"Sundanese","sentence1":"Hi.","sentence2":"Halo."}\n\n');
    assert.deepEqual(readPairsJsonl(f), [{ lang1: 'eng', lang2: 'sun', sentence1: 'Hi.', sentence2: 'Halo.' }]);
    const ok = '{"lang1":"eng","lang2":"sun","sentence1":"a","sentence2":"b"}';
    assert.throws(() => parsePairsJsonl(`${ok}\n${ok}\n{"lang1": "eng",\n`, 'p.jsonl'), /p\.jsonl:3: bad JSON/);
    assert.throws(
      () => parsePairsJsonl(`${ok}\n{"lang1":"eng","lang2":"sun","sentence1":"a"}\n`, 'p.jsonl'),
      /p\.jsonl:2: missing string field "sentence2"/,
    );
    assert.throws(() => parsePairsJsonl('\n', 'p.jsonl'), /p\.jsonl:1: no pairs/);
  });
});
