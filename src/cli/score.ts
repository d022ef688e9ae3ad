// `instructalign score`: per-token log-probabilities of texts read from stdin (one JSON string per line).
import { SCORE } from '../api/requests/score.ts';
import { helpText, num, parseCommand, type CommandSpec } from './args.ts';
import { parseJSONLine, runtimeWithModel, stdinLines } from './common.ts';

export const spec: CommandSpec = {
  name: 'score',
  usage: 'instructalign score --model DIR [options] < texts.jsonl',
  about: `Reads one JSON string per line on stdin; writes one JSON object per line on stdout:
  {"ids":[...],"token_logprobs":[...],"mean_logprob":x}   token_logprobs[t] = log p(ids[t+1] | ids[..t])
mean_logprob is the label-scoring rule of InstructAlign's zero-shot evaluation.`,
  options: SCORE.options,
};
export const help = helpText(spec);

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const rt = await runtimeWithModel(a);
  try {
    // a blank input line gets a blank output line, so that output line i always answers input line i
    const lines: { text?: string; n: number }[] = [];
    for await (const { line, n } of stdinLines(true))
      lines.push({
        n,
        text: line.trim()
          ? parseJSONLine(line, n, 'a JSON string', (v): v is string => typeof v === 'string')
          : undefined,
      });
    const todo = lines.filter((l) => l.text !== undefined);
    const texts = todo.map((l) => l.text as string);
    // never print NaN (JSON null) as a score: too short a text has no log-prob to average (the API refuses it too;
    // the command names the stdin line first), a NaN is a model fault
    const tokens = texts.length ? await rt.tokenize(texts) : [];
    todo.forEach((l, i) => {
      if (tokens[i].length < 2)
        throw new Error(
          `stdin line ${l.n}: ${JSON.stringify((l.text as string).slice(0, 40))} is ${tokens[i].length} token(s): ` +
            'a text needs at least 2 tokens to have a log-probability (the first token is not predicted)',
        );
    });
    const res = texts.length
      ? await rt.score(texts, { maxLength: num(a, 'max-length'), batchSize: num(a, 'batch-size') })
      : [];
    res.forEach((r, i) => {
      if (!Number.isFinite(r.mean_logprob) || r.token_logprobs.some((x) => !Number.isFinite(x)))
        throw new Error(
          `stdin line ${todo[i].n}: the model produced a non-finite log-probability (an overflow in the forward pass; ` +
            'try --dtype f32 or a shorter --max-length)',
        );
    });
    let k = 0;
    const out = lines.map((l) => (l.text === undefined ? '\n' : JSON.stringify(res[k++]) + '\n'));
    process.stdout.write(out.join(''));
  } finally {
    await rt.dispose();
  }
  return 0;
}
