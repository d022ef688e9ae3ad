// `instructalign demo` (npm start): the embedded default job, with nothing downloaded and nothing outside the
// package: InstructAlign (TLM+XSS with replay) on the bundled NusaX-MT data starting from the bundled nano-bloomz
// (a 4.2M-parameter BLOOM that knows sentiment in English/Indonesian only), the zero-shot NusaX sentiment
// evaluation of the base model and of the tuned checkpoint, grouped L1/L2/L3, and their compare (Δ per language and
// group, how the predicted labels moved). Sized for 2 CPU cores (SwiftShader); --steps/--limit scale it up on a GPU.
import { join, resolve } from 'node:path';
import { DEFAULT_REPLAY, dataPath, packageRoot } from '../train/data/paths.ts';
import { bool, helpText, num, parseCommand, str, type CommandSpec } from './args.ts';
import { run as runCompare } from './compare.ts';
import { run as runEval } from './eval.ts';
import { run as runTrain } from './train.ts';

export const spec: CommandSpec = {
  name: 'demo',
  usage: 'instructalign demo [--out DIR] [--steps N] [--batch-size N] [--limit N] [--langs a,b,c] [--prompts 1,2,3]',
  about: `Runs the embedded default job:
  1. instructalign eval of the base model (models/nano-bloomz) on the NusaX sentiment test split, one language per
     group by default (eng = L1, jav = L2, mad = L3), --limit rows each; OUT/base/
  2. instructalign train: models/nano-bloomz, TLM+XSS on the bundled NusaX-MT train pairs (eng,ind ↔ 7 L2s)
     interleaved 1:1 with the bundled replay data, --steps steps of --batch-size (default 16 × 8, lr 2e-4);
     checkpoint in OUT/train/checkpoint, log in OUT/train/log.jsonl
  3. the same evaluation of the tuned checkpoint: OUT/eval/{results.json,predictions.jsonl,report.md,chart.svg}
  4. instructalign compare OUT/base OUT/eval: Δ accuracy and weighted F1 per group and language, and how the
     predicted labels moved; OUT/compare/{compare.md,compare.json}
Defaults finish in under 2 minutes on 2 CPU cores through SwiftShader. The paper-scale run of this recipe
(1,200 steps × 32, all languages) takes ~5 minutes on one H200: see docs/method-results.md.`,
  options: {
    out: {
      type: 'string',
      arg: 'DIR',
      help: 'run folder (train/ and eval/ go inside; default: a new runs/demo-<date>-<time> per run)',
    },
    overwrite: {
      type: 'boolean',
      help: 'start afresh in an existing --out (its train/ and eval/ results are deleted)',
    },
    steps: { type: 'int', min: 1, default: 16, help: 'training steps' },
    'batch-size': { type: 'int', min: 1, default: 8, help: 'sequences per training step' },
    limit: { type: 'int', min: 1, default: 10, help: 'test examples per language' },
    langs: { type: 'string', arg: 'a,b,c', default: 'eng,jav,mad', help: 'languages to evaluate' },
    prompts: { type: 'string', arg: '1,2,3', default: '1', help: 'which English prompts' },
  },
};
export const help = helpText(spec);

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const root = packageRoot();
  // a fresh folder per run: a second demo neither trains over the first one nor reuses its predictions
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const out = resolve(str(a, 'out') ?? `runs/demo-${stamp}`);
  const overwrite = bool(a, 'overwrite') ? ['--overwrite'] : [];
  const started = Date.now();
  const secs = () => ((Date.now() - started) / 1000).toFixed(0);
  const base = join(root, 'models/nano-bloomz');
  // the same zero-shot evaluation of a model folder into OUT/<name>
  const evaluate = (model: string, name: string) =>
    runEval([
      '--model',
      model,
      '--data',
      'nusax',
      '--langs',
      str(a, 'langs') as string,
      '--limit',
      String(num(a, 'limit')),
      '--prompts',
      str(a, 'prompts') as string,
      '--out',
      join(out, name),
      ...overwrite,
    ]);
  console.log(`instructalign demo → ${out}\n[1/4] zero-shot NusaX sentiment evaluation of the base model ${base}`);
  let code = await evaluate(base, 'base');
  if (code !== 0) return code;
  console.log(`[2/4] InstructAlign (TLM+XSS + replay) from ${base} (${secs()} s so far)`);
  code = await runTrain([
    '--model',
    base,
    '--out',
    join(out, 'train'),
    '--pairs',
    join(root, 'data/nusax/mt/train.csv'),
    '--replay',
    dataPath(DEFAULT_REPLAY),
    '--objectives',
    'tlm,xss',
    '--steps',
    String(num(a, 'steps')),
    '--batch-size',
    String(num(a, 'batch-size')),
    '--max-length',
    '64',
    '--lr',
    '2e-4',
    '--save-steps',
    String(num(a, 'steps')),
    '--seed',
    '42',
    ...overwrite,
  ]);
  if (code !== 0) return code;
  console.log(`[3/4] the same evaluation of the tuned checkpoint (${secs()} s so far)`);
  code = await evaluate(join(out, 'train', 'checkpoint'), 'eval');
  if (code !== 0) return code;
  console.log(`[4/4] base → tuned (Δ = tuned − base, percentage points)`);
  code = await runCompare([join(out, 'base'), join(out, 'eval'), '--out', join(out, 'compare')]);
  console.log(
    `demo finished in ${secs()} s\n  checkpoint: ${join(out, 'train', 'checkpoint')} (HF format)\n` +
      `  training log: ${join(out, 'train', 'log.jsonl')}\n` +
      `  reports: ${join(out, 'base', 'report.md')} (base), ${join(out, 'eval', 'report.md')} (tuned), ` +
      `${join(out, 'compare', 'compare.md')} (the difference)`,
  );
  return code;
}
