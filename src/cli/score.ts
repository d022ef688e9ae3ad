// `instructalign score`: per-token log-probabilities of texts read from stdin (one JSON string per line).
import { helpText, num, parseCommand, type CommandSpec } from './args.ts';
import { MODEL_OPTIONS, parseJSONLine, runtimeWithModel, stdinLines } from './common.ts';

export const spec: CommandSpec = {
  name: 'score',
  usage: 'instructalign score --model DIR [options] < texts.jsonl',
  about: `Reads one JSON string per line on stdin; writes one JSON object per line on stdout:
  {"ids":[...],"token_logprobs":[...],"mean_logprob":x}   token_logprobs[t] = log p(ids[t+1] | ids[..t])
mean_logprob is the label-scoring rule of InstructAlign's zero-shot evaluation.`,
  options: {
    ...MODEL_OPTIONS,
    'max-length': { type: 'int', min: 2, default: 1024, help: 'truncate texts from the left to N tokens' },
    'batch-size': { type: 'int', min: 1, default: 8, help: 'texts per forward pass' },
  },
};
export const help = helpText(spec);

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const rt = await runtimeWithModel(a);
  try {
    const texts: string[] = [];
    for await (const { line, n } of stdinLines())
      texts.push(parseJSONLine(line, n, 'a JSON string', (v): v is string => typeof v === 'string'));
    const res = await rt.score(texts, { maxLength: num(a, 'max-length'), batchSize: num(a, 'batch-size') });
    for (const r of res) process.stdout.write(JSON.stringify(r) + '\n');
  } finally {
    rt.dispose();
  }
  return 0;
}
