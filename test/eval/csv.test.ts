// RFC 4180 edge cases for src/util/csv.ts, the papaparse-based reader (here because test/eval was its first user).
import { strict as assert } from 'node:assert';
import { parseCsv, parseCsvRecords, parseCsvTable, readCsvTable, CsvError, delimiterFor } from '../../src/util/csv.ts';

describe('util/csv', () => {
  it('plain fields, LF and CRLF, with and without a final line break', () => {
    assert.deepEqual(parseCsv('a,b\n1,2\n'), [
      ['a', 'b'],
      ['1', '2'],
    ]);
    assert.deepEqual(parseCsv('a,b\r\n1,2\r\n'), [
      ['a', 'b'],
      ['1', '2'],
    ]);
    assert.deepEqual(parseCsv('a,b\r\n1,2'), [
      ['a', 'b'],
      ['1', '2'],
    ]);
    assert.deepEqual(parseCsv('a\r1\r'), [['a'], ['1']]); // bare CR
  });

  it('quoted fields: commas, doubled quotes, line breaks inside, empty quoted', () => {
    assert.deepEqual(parseCsv('"x, y","say ""hi""",""\n'), [['x, y', 'say "hi"', '']]);
    assert.deepEqual(parseCsv('id,text\n1,"line one\nline two"\n2,"crlf\r\ninside"\r\n'), [
      ['id', 'text'],
      ['1', 'line one\nline two'],
      ['2', 'crlf\r\ninside'],
    ]);
    assert.deepEqual(parseCsv('""'), [['']]);
    assert.deepEqual(parseCsv('a,""'), [['a', '']]);
  });

  it('empty fields and a trailing comma', () => {
    assert.deepEqual(parseCsv('a,,c\n,\n'), [
      ['a', '', 'c'],
      ['', ''],
    ]);
    assert.deepEqual(parseCsv('a,'), [['a', '']]);
  });

  it('skips a UTF-8 BOM and keeps non-ASCII text', () => {
    assert.deepEqual(parseCsv('\ufeffid,text\n1,Bagus sekali 😀\n'), [
      ['id', 'text'],
      ['1', 'Bagus sekali 😀'],
    ]);
  });

  it('records know their starting line, counting breaks inside quotes', () => {
    const recs = parseCsvRecords('h\n"a\nb"\nc\nd\n');
    assert.deepEqual(
      recs.map((r) => r.line),
      [1, 2, 4, 5],
    );
  });

  it('errors name the file and the line', () => {
    assert.throws(
      () => parseCsv('a,b\n1,"open\nstill open\n', 'x.csv'),
      (e: unknown) => e instanceof CsvError && e.line === 2 && /x\.csv:2: unterminated quoted field/.test(e.message),
    );
    assert.throws(() => parseCsv('a\n"b"c\n', 'z.csv'), /z\.csv:2: text after a closing quote/);
    // A quote inside an unquoted field is kept as written (papaparse, like Python's csv module).
    assert.deepEqual(parseCsv('a\nb"c\n', 'y.csv'), [['a'], ['b"c']]);
  });

  it('TSV: tab-delimited records with quoted tabs; the delimiter from the file name or the header line', () => {
    assert.deepEqual(parseCsv('eng\ttgl\nA, b\t"x\ty"\n', 'p.tsv', '\t'), [
      ['eng', 'tgl'],
      ['A, b', 'x\ty'],
    ]);
    assert.equal(delimiterFor('p.tsv'), '\t');
    assert.equal(delimiterFor('p.csv', 'a\tb\n'), ',');
    assert.equal(delimiterFor('p.txt', 'eng\ttgl\nx,y\ta\n'), '\t');
    assert.equal(delimiterFor('p.txt', 'eng,tgl\n'), ',');
    const t = parseCsvTable('text\tlabel\nHi, you\tpos\n', 's.tsv');
    assert.deepEqual(t.rows, [{ text: 'Hi, you', label: 'pos' }]);
    assert.throws(() => parseCsvTable('a\tb\n1\n', 's.tsv'), /s\.tsv:2: 1 fields, but the header has 2 .*a tab/);
  });

  it('tables: header columns, field-count errors with the right line, blank lines skipped', () => {
    const t = parseCsvTable('id,text,label\n1,"two\nlines",pos\n\n2,x,neg\n', 't.csv');
    assert.deepEqual(t.rows, [
      { id: '1', text: 'two\nlines', label: 'pos' },
      { id: '2', text: 'x', label: 'neg' },
    ]);
    assert.deepEqual(t.lines, [2, 5]);
    assert.throws(
      () => parseCsvTable('id,text,label\n1,"a\nb",pos\n2,x\n', 'u.csv'),
      /u\.csv:4: 2 fields, but the header has 3/,
    );
    assert.throws(() => parseCsvTable('', 'e.csv'), /e\.csv:1: empty file/);
  });

  it('reads NusaX Toba Batak test: 400 rows (README), 16 of them with line breaks inside quotes', () => {
    const t = readCsvTable('data/nusax/sentiment/toba_batak/test.csv');
    assert.deepEqual(t.header, ['id', 'text', 'label']);
    assert.equal(t.rows.length, 400);
    assert.equal(t.rows.filter((r) => r.text.includes('\n')).length, 16);
    assert.ok(t.rows.every((r) => ['negative', 'neutral', 'positive'].includes(r.label)));
  });
});
