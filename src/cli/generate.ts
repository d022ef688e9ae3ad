// `instructalign generate`: KV-cached generation, greedy by default, sampled with a seed.
import { GENERATE } from '../api/requests/generate.ts';
import { bool, helpText, num, parseCommand, required, type CommandSpec } from './args.ts';
import { runtimeWithModel } from './common.ts';

export const spec: CommandSpec = {
  name: 'generate',
  usage: 'instructalign generate --model DIR --prompt TEXT [options]',
  options: GENERATE.options,
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
