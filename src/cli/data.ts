// `instructalign data`: preview the InstructAlign training texts a seed produces (objective kind + text).
import { bool, helpText, list, num, parseCommand, str, type CommandSpec } from './args.ts';
import { DEFAULT_L1, DEFAULT_L2, langCode } from '../train/data/langs.ts';
import { readParallel, readReplay } from '../train/data/node-io.ts';
import { OBJECTIVE_NAMES } from '../train/data/objectives.ts';
import { DEFAULT_PAIRS, dataPath } from '../train/data/paths.ts';
import { TrainingStream, pairsForObjectives } from '../train/data/stream.ts';

export const spec: CommandSpec = {
  name: 'data',
  usage: 'instructalign data --preview N [options]',
  about: 'Print N training texts (kind + text) exactly as the trainer would draw them for a seed.',
  options: {
    preview: { type: 'int', min: 0, required: true, help: 'how many texts' },
    pairs: {
      type: 'string',
      arg: 'PATH',
      help: `parallel data: NusaX-MT CSV, a FLORES-200 folder, or pairs JSONL
{"lang1","lang2","sentence1","sentence2"}   (default: bundled data/${DEFAULT_PAIRS})`,
    },
    l1: { type: 'list', arg: 'CODES', default: DEFAULT_L1, help: 'pivot languages' },
    l2: { type: 'list', arg: 'CODES', default: DEFAULT_L2, help: 'aligned languages' },
    objectives: {
      type: 'string',
      arg: 'LIST',
      default: 'tlm,xss',
      help: `comma list, drawn uniformly per example (default tlm,xss); names:
${OBJECTIVE_NAMES.join(', ')}`,
    },
    replay: {
      type: 'string',
      arg: 'PATH',
      help: 'replay JSONL {"inputs","targets"} (e.g. data/replay/nusax_l1_instruct.jsonl)',
    },
    'replay-size': { type: 'int', min: 0, help: 'replay rows sampled with the seed (default: all)' },
    'official-tlm-lang-swap': { type: 'boolean', help: 'name TLM languages as the official code does (swapped)' },
    seed: { type: 'int', arg: 'S', default: 42, help: 'data order, objectives and noise' },
    json: { type: 'boolean', help: 'one JSON object per line instead of text blocks' },
  },
};
export const help = helpText(spec);

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const n = num(a, 'preview') as number;
  const objectives = str(a, 'objectives') as string;
  const src = readParallel(str(a, 'pairs') ?? dataPath(DEFAULT_PAIRS));
  const l1 = list(a, 'l1')!.map(langCode);
  const l2 = list(a, 'l2')!.map(langCode);
  const pairs = src.kind === 'pairs' ? src.pairs : pairsForObjectives(src.corpus, l1, l2, objectives);
  const replayPath = str(a, 'replay');
  const stream = new TrainingStream({
    pairs,
    objectives,
    seed: num(a, 'seed') as number,
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
