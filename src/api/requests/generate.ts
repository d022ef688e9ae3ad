// generate: the one place its options are declared (CLI `instructalign generate`, API `generate(prompt, options)`).
// How to add an option: see core.ts.
import * as v from 'valibot';
import { apiOnly, cliOnly, defineRequest, flag, int, num, text } from './core.ts';
import { MODEL_FLAGS } from './model.ts';

export const GENERATE = defineRequest('generate', {
  ...MODEL_FLAGS,
  prompt: cliOnly(text({ arg: 'TEXT', required: true, help: 'the text to continue' })),
  maxNewTokens: int({ min: 1, default: 32, help: 'tokens to generate' }),
  temperature: num({ arg: 'T', min: 0, help: 'sampling temperature (default 0 = greedy)' }),
  topK: int({ arg: 'K', min: 0, help: 'keep the K most likely tokens (0 = all)' }),
  topP: num({ arg: 'P', gt: 0, max: 1, help: 'nucleus sampling: keep the top tokens of mass P' }),
  repetitionPenalty: num({ arg: 'R', gt: 0, help: 'HF-style repetition penalty' }),
  seed: int({ arg: 'S', min: 0, default: 0, help: 'sampler seed: the same seed gives the same text' }),
  noStop: cliOnly(flag({ help: 'do not stop at </s>' })),
  stopAtEos: apiOnly(
    v.boolean((i) => `must be true or false, got ${typeof i.input}`),
    'stop at </s> (default true)',
  ),
  json: cliOnly(flag({ help: 'print {"ids":[...],"text":"..."}' })),
});
