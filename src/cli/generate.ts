// `instructalign generate`: KV-cached generation, greedy by default, sampled with a seed.
import { bool, helpText, num, parseCommand, required, type CommandSpec } from './args.ts';
import { MODEL_OPTIONS, runtimeWithModel } from './common.ts';

export const spec: CommandSpec = {
  name: 'generate',
  usage: 'instructalign generate --model DIR --prompt TEXT [options]',
  options: {
    ...MODEL_OPTIONS,
    prompt: { type: 'string', arg: 'TEXT', required: true, help: 'the text to continue' },
    'max-new-tokens': { type: 'int', min: 1, default: 32, help: 'tokens to generate' },
    temperature: { type: 'number', arg: 'T', min: 0, help: 'sampling temperature (default 0 = greedy)' },
    'top-k': { type: 'int', arg: 'K', min: 0, help: 'keep the K most likely tokens (0 = all)' },
    'top-p': { type: 'number', arg: 'P', gt: 0, max: 1, help: 'nucleus sampling: keep the top tokens of mass P' },
    'repetition-penalty': { type: 'number', arg: 'R', gt: 0, help: 'HF-style repetition penalty' },
    seed: { type: 'int', arg: 'S', default: 0, help: 'sampler seed: the same seed gives the same text' },
    'no-stop': { type: 'boolean', help: 'do not stop at </s>' },
    json: { type: 'boolean', help: 'print {"ids":[...],"text":"..."}' },
  },
};
export const help = helpText(spec);

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const prompt = required(a, 'prompt');
  const rt = await runtimeWithModel(a, bool(a, 'json'));
  try {
    const r = await rt.generate(prompt, {
      maxNewTokens: num(a, 'max-new-tokens'),
      temperature: num(a, 'temperature'),
      topK: num(a, 'top-k'),
      topP: num(a, 'top-p'),
      repetitionPenalty: num(a, 'repetition-penalty'),
      seed: num(a, 'seed'),
      stopAtEos: !bool(a, 'no-stop'),
    });
    process.stdout.write(
      bool(a, 'json') ? JSON.stringify({ ids: r.ids, text: r.text }) + '\n' : prompt + r.text + '\n',
    );
  } finally {
    await rt.dispose();
  }
  return 0;
}
