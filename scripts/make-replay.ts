// Builds the two bundled replay sets standing in for xP3 (en), deterministically:
// - data/replay/nusax_l1_instruct.jsonl (the default): NusaX sentiment TRAIN (eng, ind) in the project's own
//   xP3-style sentiment templates plus eng↔ind translation instructions from NusaX-MT TRAIN
//   (src/train/data/replay-templates.ts), none of them an evaluation prompt;
// - data/replay/nusax_l1_sentiment.jsonl (the old set, kept selectable): the same sentiment rows in the three
//   evaluation prompts (src/eval/tasks.ts): inputs = the prompt without [LABELS_CHOICE], end trimmed.
// Run: node --import tsx scripts/make-replay.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_LABELS, formatOptions, promptTemplates } from '../src/eval/tasks.ts';
import { parseNusaxMT } from '../src/train/data/parallel.ts';
import { parseCsvRecords } from '../src/util/csv-parse.ts';
import { packageRoot } from '../src/train/data/paths.ts';
import { SENTIMENT_TEMPLATES, TRANSLATION_TEMPLATES } from '../src/train/data/replay-templates.ts';
import { Rng } from '../src/train/rng.ts';

const root = packageRoot();
const labels = DEFAULT_LABELS.sentiment!;
type Label = 'negative' | 'neutral' | 'positive';

/** NusaX sentiment train rows of one L1 language. */
function sentimentTrain(folder: string): { id: string; text: string; label: Label }[] {
  const file = join(root, 'data/nusax/sentiment', folder, 'train.csv');
  const [header, ...rows] = parseCsvRecords(readFileSync(file, 'utf8'), file);
  if (header.fields.join(',') !== 'id,text,label') throw new Error(`${file}:1: expected header id,text,label`);
  return rows.map(({ fields: [id, text, label], line }) => {
    if (!labels.includes(label)) throw new Error(`${file}:${line}: unknown label "${label}"`);
    return { id, text, label: label as Label };
  });
}

const L1 = [
  ['eng', 'english'],
  ['ind', 'indonesian'],
] as const;

function oldSet(): string[] {
  const options = formatOptions(labels);
  const templates = promptTemplates('sentiment').map((t) => t.template);
  const rng = Rng.fromSeed(0);
  const lines: string[] = [];
  for (const [code, folder] of L1) {
    for (const { id, text, label } of sentimentTrain(folder)) {
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
  return lines;
}

function instructSet(): string[] {
  const rng = Rng.fromSeed(0);
  const lines: string[] = [];
  for (const [code, folder] of L1) {
    for (const { id, text, label } of sentimentTrain(folder)) {
      const t = rng.pick(SENTIMENT_TEMPLATES);
      lines.push(
        JSON.stringify({ inputs: t.inputs.replace('{text}', () => text), targets: t.answers[label], lang: code, id }),
      );
    }
  }
  const mtFile = join(root, 'data/nusax/mt/train.csv');
  const mt = parseNusaxMT(readFileSync(mtFile, 'utf8'), mtFile).columns;
  mt.eng.forEach((eng, i) => {
    const s = { eng, ind: mt.ind[i] };
    const t = rng.pick(TRANSLATION_TEMPLATES);
    if (!s.eng || !s.ind) return;
    const inputs = t.inputs.replace('{src}', () => s[t.from]);
    lines.push(JSON.stringify({ inputs, targets: s[t.to], lang: `${t.from}-${t.to}`, id: `mt-${i}` }));
  });
  return lines;
}

mkdirSync(join(root, 'data/replay'), { recursive: true });
for (const [name, lines] of [
  ['nusax_l1_instruct.jsonl', instructSet()],
  ['nusax_l1_sentiment.jsonl', oldSet()],
] as const) {
  writeFileSync(join(root, 'data/replay', name), lines.join('\n') + '\n');
  console.log(`wrote ${lines.length} rows to data/replay/${name}`);
}
