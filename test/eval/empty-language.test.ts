// A header-only CSV is an error naming the file, not a language reported at 0 % and averaged into the means.
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataPath } from '../../src/eval/datasets.ts';
import { tempDir } from './helpers.ts';

describe('eval data: a language without rows', () => {
  it('a header-only test.csv in a --data folder is an error naming the file', () => {
    const dir = tempDir();
    for (const [lang, body] of [
      ['english', 'id,text,label\n1,good,positive\n2,bad,negative\n3,ok,neutral\n'],
      ['javanese', 'id,text,label\n'],
    ]) {
      mkdirSync(join(dir, lang));
      writeFileSync(join(dir, lang, 'test.csv'), body);
    }
    const labels = ['negative', 'neutral', 'positive'];
    assert.throws(
      () => loadDataPath(dir, { task: 'sentiment', labels }),
      /javanese[/\\]test\.csv:2: no data rows after the header/,
    );
    assert.equal(loadDataPath(dir, { task: 'sentiment', labels, langs: ['eng'] }).langs[0].rows.length, 3);
  });
});

describe('eval data: encodings', () => {
  const labels = ['negative', 'neutral', 'positive'];
  it('a Latin-1 byte is an error naming the file, line and byte (it became U+FFFD silently)', () => {
    const f = join(tempDir(), 'latin1.csv');
    writeFileSync(
      f,
      Buffer.concat([
        Buffer.from('id,text,label\n1,good,positive\n2,caf'),
        Buffer.from([0xe9]),
        Buffer.from(',neutral\n'),
      ]),
    );
    assert.throws(
      () => loadDataPath(f, { task: 'sentiment', labels }),
      /latin1\.csv:3: byte 0xe9 at offset 35 is not valid UTF-8/,
    );
  });
  it('a UTF-16 file is named as such; a UTF-8 BOM is fine', () => {
    const f = join(tempDir(), 'u16.csv');
    writeFileSync(
      f,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,text,label\n1,a,positive\n', 'utf16le')]),
    );
    assert.throws(() => loadDataPath(f, { task: 'sentiment', labels }), /u16\.csv: a UTF-16 file; re-save it as UTF-8/);
    const g = join(tempDir(), 'bom.csv');
    writeFileSync(g, '\ufeffid,text,label\n1,café,positive\n');
    assert.equal(loadDataPath(g, { task: 'sentiment', labels }).langs[0].rows[0].text, 'café');
  });
});
