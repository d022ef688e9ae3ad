// langs.ts: any ISO 639-3 code (with a FLORES script subtag, local-use qaa–qtz), names from the iso-639-3 table and
// --lang-names; the NusaX codes and names, and the texts built from NusaX for a seed, exactly as before the table.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { checkLangNames, langCode, langName, parseLangNames } from '../../../src/train/data/langs.ts';
import { readParallel } from '../../../src/train/data/node-io.ts';
import { DEFAULT_PAIRS, dataPath } from '../../../src/train/data/paths.ts';
import { TrainingStream, pairsForObjectives } from '../../../src/train/data/stream.ts';

describe('train/data/langs', () => {
  it('codes: ISO 639-3, FLORES subtags, local use, English names, ISO 639-1 not guessed', () => {
    assert.equal(langCode('tgl'), 'tgl');
    assert.equal(langCode('tgl_Latn'), 'tgl');
    assert.equal(langCode('ceb_Latn'), 'ceb');
    assert.equal(langCode('TGL'), 'tgl');
    assert.equal(langCode('qaa'), 'qaa');
    assert.equal(langCode('qtz_Latn'), 'qtz');
    assert.equal(langCode('Tagalog'), 'tgl'); // an English name from the table, as a header might say
    assert.equal(langCode('toba_batak'), 'bbc'); // NusaX folder names keep working
    assert.throws(() => langCode('xqz'), /unknown language "xqz".*--lang-names/);
    assert.throws(() => langCode('tgl_Latin'), /unknown language "tgl_Latin"/);
    assert.equal(langCode('en'), 'eng'); // ISO 639-1 (issue 25 item 5; refused before)
    assert.throws(() => langCode('qq'), /unknown language "qq".*BCP-47/);
    assert.equal(langCode('xqz', { xqz: 'Newlang' }), 'xqz'); // a code outside ISO 639-3, named by the user
    assert.throws(() => langCode('xqz', {}, 'p.tsv:1'), /^Error: p\.tsv:1: unknown language/);
  });

  it('ISO 639 special codes (und, mis, mul, zxx) are not languages unless --lang-names names them (audit L8)', () => {
    for (const c of ['und', 'mis', 'mul', 'zxx'])
      assert.throws(() => langCode(c, {}, '--l2'), new RegExp(`--l2: "${c}" is ISO 639's special code for`));
    assert.equal(langCode('mis', { mis: 'My language' }), 'mis');
  });

  it('names: the ISO 639-3 table (iso-639-3 package), NusaX names kept, --lang-names overrides', () => {
    assert.deepEqual(
      ['tgl', 'ceb', 'fra', 'swh', 'msa', 'ell'].map((c) => langName(c)),
      ['Tagalog', 'Cebuano', 'French', 'Swahili (individual language)', 'Malay', 'Modern Greek (1453-)'],
    );
    // NusaX: the official lang_map names, not the ISO ones (ISO says Achinese, Banjar, Batak Toba).
    assert.deepEqual(
      ['ace', 'bjn', 'bbc'].map((c) => langName(c)),
      ['Acehnese', 'Banjarese', 'Toba Batak'],
    );
    const names = parseLangNames('tgl=Filipino, qaa_Latn=Zedish');
    assert.deepEqual(names, { tgl: 'Filipino', qaa: 'Zedish' });
    assert.equal(langName('tgl_Latn', names), 'Filipino');
    assert.equal(langName('qaa', names), 'Zedish');
    assert.throws(() => langName('qaa'), /local-use code.*--lang-names qaa=Name/);
    assert.throws(() => checkLangNames(['eng', 'qab'], names), /qab/);
    assert.throws(() => parseLangNames('tgl'), /--lang-names: bad entry "tgl" \(expected CODE=Name/);
    assert.throws(() => parseLangNames('tagalog=Tagalog'), /bad entry/);
  });

  it('NusaX texts for a seed are the ones built before the ISO table (pinned)', () => {
    const src = readParallel(dataPath(DEFAULT_PAIRS));
    const objectives = 'tlm,xss,mlm,mt';
    const l2 = ['ace', 'ban', 'bjn', 'bug', 'jav', 'min', 'sun', 'mad', 'nij', 'bbc'];
    const pairs = pairsForObjectives(src, ['eng', 'ind'], l2, objectives);
    assert.equal(pairs.length, 20000);
    const texts = new TrainingStream({ pairs, objectives, seed: 1 }).take(40).map((t) => t.text);
    // Made with the code of commit dfdfbec (hard-coded table of 12 languages), same pairs, seed and objectives.
    assert.equal(
      createHash('sha256').update(texts.join('\u0000')).digest('hex'),
      '2d770332e7a0490021f28b828f1942ddc2bc686016473ef8659d97c6a71082cb',
    );
    assert.equal(
      texts[1],
      'Input text: ___ talks ___ empty vessels that make the most noises , says ___ of value .\n' +
        'How would you fix the sentence to make a correct English sentence? ' +
        'A talks like empty vessels that make the most noises, says nothing of value.',
    );
  });
});
