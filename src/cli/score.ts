// `instructalign score`: per-token log-probabilities of texts read from stdin (one JSON string per line).
import { num, parseArgs } from './args.ts';
import { MODEL_FLAGS, parseJSONLine, runtimeWithModel, stdinLines } from './common.ts';

export const help = `instructalign score --model DIR [options] < texts.jsonl

Reads one JSON string per line on stdin; writes one JSON object per line on stdout:
  {"ids":[...],"token_logprobs":[...],"mean_logprob":x}   token_logprobs[t] = log p(ids[t+1] | ids[..t])
mean_logprob is the label-scoring rule of InstructAlign's zero-shot evaluation.

Options:
${MODEL_FLAGS}
  --max-length N         truncate texts from the left to N tokens (default 1024)
  --batch-size N         texts per forward pass (default 8)`;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['int8']);
  const rt = await runtimeWithModel(a);
  try {
    const texts: string[] = [];
    for await (const { line, n } of stdinLines())
      texts.push(parseJSONLine(line, n, 'a JSON string', (v): v is string => typeof v === 'string'));
    const res = await rt.score(texts, { maxLength: num(a, 'max-length', 1024), batchSize: num(a, 'batch-size', 8) });
    for (const r of res) process.stdout.write(JSON.stringify(r) + '\n');
  } finally {
    rt.dispose();
  }
  return 0;
}
