// Builds data/replay/nusax_l1_sentiment.jsonl: a small instruction-replay set standing in for xP3 (en).
// Rows: NusaX sentiment TRAIN split, English then Indonesian; each with one of the three English sentiment
// prompts (src/eval/tasks.ts), drawn with Rng seed 0: inputs = the prompt with [LABELS_CHOICE] removed (end
// trimmed), targets = the gold label. Run: node --import tsx scripts/make-replay.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LABELS, formatOptions, promptTemplates } from '../src/eval/tasks.ts';
import { parseCsvLite } from '../src/train/data/csv-lite.ts';
import { packageRoot } from '../src/train/data/paths.ts';
import { Rng } from '../src/train/rng.ts';

const root = packageRoot();
const labels = DEFAULT_LABELS.sentiment!;
const options = formatOptions(labels);
const templates = promptTemplates('sentiment').map((t) => t.template);
const rng = Rng.fromSeed(0);
const lines: string[] = [];
for (const [code, folder] of [
  ['eng', 'english'],
  ['ind', 'indonesian'],
]) {
  const file = join(root, 'data/nusax/sentiment', folder, 'train.csv');
  const [header, ...rows] = parseCsvLite(readFileSync(file, 'utf8'), file);
  if (header.fields.join(',') !== 'id,text,label') throw new Error(`${file}:1: expected header id,text,label`);
  for (const {
    fields: [id, text, label],
    line,
  } of rows) {
    if (!labels.includes(label)) throw new Error(`${file}:${line}: unknown label "${label}"`);
    const inputs = rng
      .pick(templates)
      .split('[INPUT]')
      .join(text)
      .split('[OPTIONS]')
      .join(options)
      .split('[LABELS_CHOICE]')
      .join('')
      .trimEnd();
    lines.push(JSON.stringify({ inputs, targets: label, lang: code, id }));
  }
}
mkdirSync(join(root, 'data/replay'), { recursive: true });
writeFileSync(join(root, 'data/replay/nusax_l1_sentiment.jsonl'), lines.join('\n') + '\n');
console.log(`wrote ${lines.length} rows to data/replay/nusax_l1_sentiment.jsonl`);
