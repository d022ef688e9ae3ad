// Whole-corpus exactness: every text cell of NusaX (sentiment and mt, all 12 languages) must tokenize to the
// same ids as @huggingface/tokenizers (the reference, written by others) for three BLOOM-kind tokenizer.json
// files, and decode back to the same string.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';

/** RFC 4180 CSV (quoted fields may hold commas, "" and newlines). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [],
    field = '',
    i = 0,
    quoted = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** Every text cell: the `text` column of sentiment/<lang>/*.csv and every language column of mt/*.csv. */
export function nusaxTexts(root = 'data/nusax'): string[] {
  const files: string[] = [];
  const walk = (d: string) =>
    readdirSync(d)
      .sort()
      .forEach((f) => {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (f.endsWith('.csv')) files.push(p);
      });
  walk(root);
  const texts: string[] = [];
  for (const f of files) {
    const [head, ...rows] = parseCsv(readFileSync(f, 'utf8'));
    const cols = head.flatMap((h, i) => (h === 'text' || (h !== '' && h !== 'id' && h !== 'label') ? [i] : []));
    for (const r of rows) for (const c of cols) texts.push(r[c]);
  }
  return texts;
}

const TOKENIZERS = [
  'models/nano-bloomz/tokenizer.json',
  'test/fixtures/bloom-tiny/tokenizer.json',
  'test/fixtures/bloom-tiny-h6-f16/tokenizer.json',
];
// BLOOM's tokenizer_config.json: decode must not "clean up" spaces before punctuation.
const HF_CONFIG = { clean_up_tokenization_spaces: false };

describe('tokenizer: NusaX corpus vs @huggingface/tokenizers', () => {
  const texts = nusaxTexts();

  it('reads every CSV: 12 languages x 1000 sentiment rows + 1000 mt rows x 12 languages', () => {
    assert.equal(texts.length, 24000);
    assert.ok(texts.every((t) => typeof t === 'string' && t.length > 0));
  });

  for (const file of TOKENIZERS) {
    it(`${file}: same ids and same decode for every text`, async () => {
      const json = readFileSync(file, 'utf8');
      const ours = await Tokenizer.fromJSON(json, file);
      const ref = new HFTokenizer(JSON.parse(json), HF_CONFIG);
      let tokens = 0;
      for (const t of texts) {
        const want = ref.encode(t).ids;
        const got = ours.encode(t);
        if (got.length !== want.length || got.some((x, i) => x !== want[i])) {
          assert.deepEqual(got, want, `encode(${JSON.stringify(t)})`);
        }
        assert.equal(ours.decode(got), ref.decode(want), `decode of ${JSON.stringify(t)}`);
        tokens += got.length;
      }
      console.log(`      compared ${texts.length} texts (${tokens} tokens) with ${file}`);
      ours.free();
    });
  }
});
