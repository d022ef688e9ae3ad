// `instructalign data`: preview the InstructAlign training texts a seed produces (objective kind + text).
import { UsageError, bool, list, num, parseArgs, str } from './args.ts';
import { DEFAULT_L1, DEFAULT_L2, langCode } from '../train/data/langs.ts';
import { readParallel, readReplay } from '../train/data/node-io.ts';
import { OBJECTIVE_NAMES } from '../train/data/objectives.ts';
import { DEFAULT_PAIRS, dataPath } from '../train/data/paths.ts';
import { TrainingStream, pairsForObjectives } from '../train/data/stream.ts';

export const help = `instructalign data --preview N [options]

Print N training texts (kind + text) exactly as the trainer would draw them for a seed.

  --preview N          how many texts (required)
  --pairs PATH         parallel data: NusaX-MT CSV, a FLORES-200 folder, or pairs JSONL
                       {"lang1","lang2","sentence1","sentence2"}   (default: bundled data/${DEFAULT_PAIRS})
  --l1 CODES           pivot languages (default ${DEFAULT_L1.join(',')})
  --l2 CODES           aligned languages (default ${DEFAULT_L2.join(',')})
  --objectives LIST    comma list, drawn uniformly per example (default tlm,xss); names:
                       ${OBJECTIVE_NAMES.join(', ')}
  --replay PATH        replay JSONL {"inputs","targets"} (e.g. data/replay/nusax_l1_instruct.jsonl)
  --replay-size N      replay rows sampled with the seed (default: all)
  --official-tlm-lang-swap   name TLM languages as the official code does (swapped)
  --seed S             (default 42)
  --json               one JSON object per line instead of text blocks`;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['json', 'official-tlm-lang-swap']);
  const n = num(a, 'preview');
  if (n === undefined || !Number.isInteger(n) || n < 0)
    throw new UsageError('--preview N is required (a non-negative integer)');
  const objectives = str(a, 'objectives', 'tlm,xss');
  const src = readParallel(str(a, 'pairs') ?? dataPath(DEFAULT_PAIRS));
  const l1 = list(a, 'l1', [...DEFAULT_L1])!.map(langCode);
  const l2 = list(a, 'l2', [...DEFAULT_L2])!.map(langCode);
  const pairs = src.kind === 'pairs' ? src.pairs : pairsForObjectives(src.corpus, l1, l2, objectives);
  const replayPath = str(a, 'replay');
  const stream = new TrainingStream({
    pairs,
    objectives,
    seed: num(a, 'seed', 42),
    replay: replayPath ? readReplay(replayPath) : undefined,
    replaySize: num(a, 'replay-size'),
    officialTlmLangSwap: bool(a, 'official-tlm-lang-swap'),
  });
  const json = bool(a, 'json');
  for (let i = 0; i < n; i++) {
    const { kind, text } = stream.next();
    console.log(json ? JSON.stringify({ i, kind, text }) : `--- ${i} [${kind}]\n${text}`);
  }
  return 0;
}
