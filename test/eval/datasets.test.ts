// Data loading: NusaX codes ↔ folders, L1/L2/L3 groups, --data folders and single CSVs, label and id checks.
import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_GROUPS,
  groupOf,
  loadClassificationCsv,
  loadDataPath,
  loadNusax,
  parseGroups,
} from '../../src/eval/datasets.ts';
import { tempDir, writeTinyData } from './helpers.ts';

const LABELS = ['negative', 'neutral', 'positive'];

describe('eval/datasets', () => {
  it('NusaX: 12 languages × 400 test rows, in L1, L2, L3 order', () => {
    const d = loadNusax();
    assert.deepEqual(
      d.langs.map((l) => l.lang),
      ['eng', 'ind', 'ace', 'ban', 'bjn', 'bug', 'jav', 'min', 'sun', 'bbc', 'mad', 'nij'],
    );
    assert.ok(d.langs.every((l) => l.rows.length === 400));
    assert.deepEqual(d.labels, LABELS);
    assert.equal(d.langs.find((l) => l.lang === 'bbc')!.name, 'toba_batak');
    assert.deepEqual(
      loadNusax({ langs: ['mad', 'eng'], limit: 3 }).langs.map((l) => [l.lang, l.rows.length]),
      [
        ['mad', 3],
        ['eng', 3],
      ],
    );
    assert.throws(() => loadNusax({ langs: ['xxx'] }), /no data for xxx in NusaX/);
  });

  it('groups: defaults, parsing, unknown languages are "other"', () => {
    assert.equal(groupOf('nij', DEFAULT_GROUPS), 'L3');
    assert.equal(groupOf('jav', DEFAULT_GROUPS), 'L2');
    assert.equal(groupOf('fra', DEFAULT_GROUPS), 'other');
    assert.deepEqual(parseGroups('L1=eng, ind;L3=mad'), { L1: ['eng', 'ind'], L3: ['mad'] });
    assert.throws(() => parseGroups('eng,ind'), /expected NAME=lang/);
  });

  it('--data: a folder maps NusaX folder names to codes; a single CSV is one language', () => {
    const root = writeTinyData(tempDir(), 3);
    assert.deepEqual(
      loadDataPath(root, { task: 'sentiment', labels: LABELS }).langs.map((l) => l.lang),
      ['eng', 'mad'],
    );
    const one = loadDataPath(join(root, 'english', 'test.csv'), { task: 'sentiment', labels: LABELS });
    assert.deepEqual(
      one.langs.map((l) => [l.lang, l.rows.length]),
      [['test', 3]],
    );
    assert.throws(
      () => loadDataPath(join(root, 'nope'), { task: 'sentiment', labels: LABELS }),
      /no such file or folder/,
    );
  });

  it('labels may be indices into --labels; unknown labels, duplicate ids and missing columns name file and line', () => {
    const dir = tempDir();
    const f = join(dir, 'x.csv');
    writeFileSync(f, 'id,text,label\n1,a,2\n2,b,Neutral\n');
    assert.deepEqual(
      loadClassificationCsv(f, LABELS).map((r) => r.label),
      ['positive', 'neutral'],
    );
    writeFileSync(f, 'id,text,label\n1,a,positive\n2,"b\nc",happy\n');
    assert.throws(
      () => loadClassificationCsv(f, LABELS),
      /x\.csv:3: label "happy" is not one of negative, neutral, positive/,
    );
    writeFileSync(f, 'id,text,label\n1,a,positive\n1,b,negative\n');
    assert.throws(() => loadClassificationCsv(f, LABELS), /x\.csv:3: duplicate id "1" \(first on line 2\)/);
    writeFileSync(f, 'id,sentence,label\n1,a,positive\n');
    assert.throws(() => loadClassificationCsv(f, LABELS), /x\.csv:1: missing column "text"/);
  });
});
