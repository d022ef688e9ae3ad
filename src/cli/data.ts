// `instructalign data`: preview the InstructAlign training texts a seed produces (objective kind + text).
import { all, bool, helpText, list, num, parseCommand, str, type CommandSpec } from './args.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_L1, DEFAULT_L2, langCode, parseLangNames } from '../train/data/langs.ts';
import { loadTrainingData, readReplay } from '../train/data/node-io.ts';
import { OBJECTIVE_NAMES } from '../train/data/objectives.ts';
import { parseColumnsSpec } from '../train/data/parallel.ts';
import { DEFAULT_PAIRS, DEFAULT_REPLAY, dataPath, packageRoot, resolveReplay } from '../train/data/paths.ts';
import { DEFAULT_MAX_LENGTH, truncationReport } from '../train/data/sequences.ts';
import { TrainingStream } from '../train/data/stream.ts';
import { Tokenizer } from '../wasm/tokenizer.ts';
import { applyRecipe, describeRecipe, RECIPES, settingsLines, type RecipeName } from '../train/recipe.ts';
import { TRAIN_DEFAULTS } from '../train/trainer.ts';

export const spec: CommandSpec = {
  name: 'data',
  usage: 'instructalign data --preview N [options]',
  about: 'Print N training texts (kind + text) exactly as the trainer would draw them for a seed.',
  options: {
    preview: { type: 'int', min: 0, required: true, help: 'how many texts' },
    pairs: {
      type: 'string',
      arg: 'PATH',
      repeatable: true,
      help: `parallel data (default: bundled data/${DEFAULT_PAIRS}): CSV/TSV with a header of
language codes, JSONL {"eng":…,"tgl":…} / {"translation":{…}} / {"lang1","lang2","sentence1","sentence2"},
a FLORES-200 folder, or corpus.eng,corpus.tgl (docs/data-formats.md); repeat to combine files`,
    },
    'flores-held-out': {
      type: 'int',
      min: 0,
      help: 'FLORES-200 folder: dev+devtest rows held out from training, as train (default 0; --recipe paper: 1000)',
    },
    'eval-split': {
      type: 'string',
      arg: 'N|P%',
      help: 'rows held out for validation, as train --eval-split (with --seed): the texts shown leave them out',
      check: (v) =>
        /^\d+$/.test(String(v)) || /^\d+(\.\d+)?%$/.test(String(v))
          ? undefined
          : `must be a row count (e.g. 20) or a share (e.g. 10%), got "${v}"`,
    },
    l1: {
      type: 'list',
      arg: 'CODES',
      default: DEFAULT_L1,
      help: 'pivot languages (ISO 639-3 codes; ISO 639-1/BCP-47 tags such as en, pt-BR accepted)',
    },
    l2: { type: 'list', arg: 'CODES', default: DEFAULT_L2, help: 'aligned languages' },
    'lang-names': { type: 'string', arg: 'MAP', help: 'prompt names, e.g. tgl=Tagalog,qaa=Zedish' },
    columns: {
      type: 'string',
      arg: 'MAP',
      help: 'CSV/TSV headers or JSONL keys to read, e.g. eng=english,tgl=tagalog',
    },
    objectives: {
      type: 'string',
      arg: 'LIST',
      default: 'tlm,xss',
      help: `comma list, drawn uniformly per example (default tlm,xss); names:
${OBJECTIVE_NAMES.join(', ')}`,
    },
    replay: {
      type: 'string',
      arg: 'PATH|none',
      help: `replay JSONL {"inputs","targets"} (default: the bundled data/${DEFAULT_REPLAY}, as train;
none = no replay)`,
    },
    'replay-size': { type: 'int', min: 0, help: 'replay rows sampled with the seed (default: all)' },
    'official-tlm-lang-swap': { type: 'boolean', help: 'name TLM languages as the official code does (swapped)' },
    seed: { type: 'int', arg: 'S', default: 42, help: 'data order, objectives and noise' },
    json: { type: 'boolean', help: 'one JSON object per line instead of text blocks' },
    recipe: {
      type: 'string',
      arg: 'NAME',
      choices: RECIPES,
      help: `default or paper (as train --recipe): print the resolved training settings
first (lines starting with "#"; --json: one {"recipe","settings"} object), then
the texts with the recipe's languages and replay`,
    },
    'max-length': {
      type: 'int',
      min: 1,
      default: DEFAULT_MAX_LENGTH,
      help: 'report how many texts lose their target to this cut (stderr)',
    },
    tokenizer: {
      type: 'string',
      arg: 'DIR',
      help: 'model folder whose tokenizer.json counts tokens (default: the bundled models/nano-bloomz)',
    },
  },
};
export const help = helpText(spec);

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const n = num(a, 'preview') as number;
  const json = bool(a, 'json');
  const langNames = parseLangNames(str(a, 'lang-names'));
  const columns = str(a, 'columns');
  const recipe = str(a, 'recipe') as RecipeName | undefined;
  const r = applyRecipe(
    {
      ...TRAIN_DEFAULTS,
      l1: list(a, 'l1')!.map((c) => langCode(c, langNames, '--l1')),
      l2: list(a, 'l2')!.map((c) => langCode(c, langNames, '--l2')),
      objectives: str(a, 'objectives') as string,
      replay: str(a, 'replay'),
      seed: num(a, 'seed') as number,
      floresHeldOut: num(a, 'flores-held-out') ?? 0,
    },
    recipe ?? 'default',
    a.given,
  );
  const o = r.options;
  if (o.replay === 'default') o.replay = dataPath(DEFAULT_REPLAY);
  if (recipe) {
    const lines = [...describeRecipe(r), ...settingsLines({ ...o, replay: resolveReplay(o.replay).path })];
    console.log(json ? JSON.stringify({ recipe, settings: o }) : lines.map((l) => `# ${l}`).join('\n'));
  }
  const given = all(a, 'pairs');
  const split = str(a, 'eval-split');
  const data = loadTrainingData({
    pairs: given.length ? given : dataPath(DEFAULT_PAIRS),
    l1: o.l1,
    l2: o.l2,
    objectives: o.objectives,
    langNames,
    columns: columns ? parseColumnsSpec(columns, langNames) : undefined,
    floresHeldOut: o.floresHeldOut,
    evalSplit: split === undefined ? undefined : /%$/.test(split) ? split : Number(split),
    seed: o.seed,
    recipe: o.recipe ?? recipe,
  });
  const pairs = data.pairs;
  const sm = data.summary;
  const replay = resolveReplay(o.replay);
  const maxLength = num(a, 'max-length') as number;
  const stream = new TrainingStream({
    pairs,
    objectives: o.objectives,
    seed: o.seed,
    langNames,
    replay: replay.path ? readReplay(replay.path) : undefined,
    replaySize: num(a, 'replay-size'),
    officialTlmLangSwap: bool(a, 'official-tlm-lang-swap'),
  });
  const texts = stream.take(n);
  texts.forEach(({ kind, text }, i) => {
    console.log(json ? JSON.stringify({ i, kind, text }) : `--- ${i} [${kind}]\n${text}`);
  });
  // Notes go to stderr so that stdout stays the texts (or JSON lines).
  console.error(
    `data: ${sm.rows} rows read, ${sm.skippedRows} skipped (no sentence pair for ${o.l1.join(',')} ↔ ` +
      `${o.l2.join(',')})${sm.evalRows ? `, ${sm.evalRows} held out for validation` : ''} → ${sm.pairs} training pairs`,
  );
  console.error(replay.note);
  const tokDir = str(a, 'tokenizer') ?? join(packageRoot(), 'models/nano-bloomz');
  const tok = await Tokenizer.fromJSON(readFileSync(join(tokDir, 'tokenizer.json'), 'utf8'));
  try {
    const r = truncationReport(
      tok,
      texts.map((t) => t.text),
      maxLength,
    );
    console.error(`${r.warn ? 'warning: ' : ''}${r.message} (tokenizer: ${tokDir})`);
  } finally {
    tok.free();
  }
  return 0;
}
