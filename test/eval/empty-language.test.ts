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
