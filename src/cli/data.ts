// `instructalign data`: preview the InstructAlign training texts a seed produces (objective kind + text).
import { DATA } from '../api/requests/data.ts';
import { all, bool, helpText, list, num, parseCommand, str, type CommandSpec } from './args.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { langCode, parseLangNames } from '../train/data/langs.ts';
import { loadTrainingData, readReplay } from '../train/data/node-io.ts';
import { parseColumnsSpec } from '../train/data/parallel.ts';
import { DEFAULT_PAIRS, DEFAULT_REPLAY, dataPath, packageRoot, resolveReplay } from '../train/data/paths.ts';
import { truncationReport } from '../train/data/sequences.ts';
import { dataSummaryLine } from '../train/data/prepare.ts';
import { TrainingStream } from '../train/data/stream.ts';
import { Tokenizer } from '../wasm/tokenizer.ts';
import { applyRecipe, describeRecipe, settingsLines, type RecipeName } from '../train/recipe.ts';
import { TRAIN_DEFAULTS } from '../train/trainer.ts';

export const spec: CommandSpec = {
  name: 'data',
  usage: 'instructalign data --preview N [options]',
  about: 'Print N training texts (kind + text) exactly as the trainer would draw them for a seed.',
  options: DATA.options,
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
  console.error(dataSummaryLine(data.summary, { ...o, evalSplit: split }));
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
