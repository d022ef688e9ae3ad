// `instructalign generate`: KV-cached generation, greedy by default, sampled with a seed.
import { bool, num, parseArgs, required } from './args.ts';
import { MODEL_FLAGS, runtimeWithModel } from './common.ts';

export const help = `instructalign generate --model DIR --prompt TEXT [options]

Options:
${MODEL_FLAGS}
  --max-new-tokens N     tokens to generate (default 32)
  --temperature T        sampling temperature (default 0 = greedy)
  --top-k K              keep the K most likely tokens
  --top-p P              nucleus sampling
  --repetition-penalty R HF-style repetition penalty
  --seed S               sampler seed (default 0): the same seed gives the same text
  --no-stop              do not stop at </s>
  --json                 print {"ids":[...],"text":"..."}`;

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['int8', 'json', 'no-stop']);
  const prompt = required(a, 'prompt');
  const rt = await runtimeWithModel(a, bool(a, 'json'));
  try {
    const r = await rt.generate(prompt, {
      maxNewTokens: num(a, 'max-new-tokens', 32),
      temperature: num(a, 'temperature'),
      topK: num(a, 'top-k'),
      topP: num(a, 'top-p'),
      repetitionPenalty: num(a, 'repetition-penalty'),
      seed: num(a, 'seed', 0),
      stopAtEos: !bool(a, 'no-stop'),
    });
    process.stdout.write(
      bool(a, 'json') ? JSON.stringify({ ids: r.ids, text: r.text }) + '\n' : prompt + r.text + '\n',
    );
  } finally {
    rt.dispose();
  }
  return 0;
}
