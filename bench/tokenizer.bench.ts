// Tokenizer throughput: our wasm BLOOM tokenizer vs @huggingface/tokenizers (pure JS), same process, on the
// whole NusaX corpus (every text cell) with nano-bloomz's tokenizer.json. Warm-up excluded, median of 5 runs.
//   node --import tsx bench/tokenizer.bench.ts
import { cpus, platform, release } from 'node:os';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { Tokenizer } from '../src/wasm/tokenizer.ts';

const RUNS = 5;
const TOKENIZER = 'models/nano-bloomz/tokenizer.json';

/** RFC 4180 fields of a NusaX CSV (same reader as test/tokenizer/nusax.test.ts, which a bench cannot import). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [],
    field = '',
    quoted = false;
  for (let i = 0; i < text.length; i++) {
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

function nusaxTexts(dir = 'data/nusax'): string[] {
  const texts: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) {
      texts.push(...nusaxTexts(p));
      continue;
    }
    if (!f.endsWith('.csv')) continue;
    const [head, ...rows] = parseCsv(readFileSync(p, 'utf8'));
    const cols = head.flatMap((h, i) => (h === 'text' || (h !== '' && h !== 'id' && h !== 'label') ? [i] : []));
    for (const r of rows) for (const c of cols) texts.push(r[c]);
  }
  return texts;
}

/** Median seconds of RUNS timed passes over all texts, after one untimed warm-up pass; returns [s, tokens]. */
function time(encode: (t: string) => number[], texts: string[]): [number, number] {
  let tokens = 0;
  for (const t of texts) tokens += encode(t).length;
  const secs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (const t of texts) encode(t);
    secs.push((performance.now() - t0) / 1000);
  }
  return [secs.sort((a, b) => a - b)[RUNS >> 1], tokens];
}

const json = readFileSync(TOKENIZER, 'utf8');
const texts = nusaxTexts();
const chars = texts.reduce((s, t) => s + t.length, 0);
const ours = await Tokenizer.fromJSON(json, TOKENIZER);
const hf = new HFTokenizer(JSON.parse(json), { clean_up_tokenization_spaces: false });

const [oursS, oursTok] = time((t) => ours.encode(t), texts);
const [hfS, hfTok] = time((t) => hf.encode(t).ids, texts);
if (oursTok !== hfTok) throw new Error(`token counts differ: ours ${oursTok}, HF ${hfTok}`);

console.log(
  `machine: ${cpus()[0].model} (${cpus().length} cores), ${platform()} ${release()}, node ${process.version}`,
);
console.log(`corpus: NusaX, ${texts.length} texts, ${chars} chars, ${oursTok} tokens (${TOKENIZER})`);
console.log(`median of ${RUNS} runs after warm-up:`);
console.log(
  `  ours (wasm)               ${(oursTok / oursS / 1e6).toFixed(2)} M tokens/s  (${(oursS * 1000).toFixed(0)} ms)`,
);
console.log(
  `  @huggingface/tokenizers   ${(hfTok / hfS / 1e6).toFixed(2)} M tokens/s  (${(hfS * 1000).toFixed(0)} ms)`,
);
console.log(`  ratio ours / HF: ${(hfS / oursS).toFixed(2)}x`);
ours.free();
