// score and generate as the doors offer them: the Node API (src/api/node.ts) and the browser worker
// (src/host/worker.ts) check the same arguments with the same request definitions (src/api/requests/score.ts,
// generate.ts) and the same rules, so a bad call gets the same RequestError through either. Browser-safe. The
// runtime's own score/generate (src/host/runtime.ts) stay unchecked for internal callers (evaluation, benchmarks),
// which pass options a caller may not (groupSize, firstPad).
import * as v from 'valibot';
import type { Runtime, ScoreResult } from '../host/runtime.ts';
import { checkArgument, RequestError, show, type ParsedOf } from './requests/core.ts';
import { SCORE, TEXTS } from './requests/score.ts';
import { GENERATE } from './requests/generate.ts';
import { TOKEN_IDS } from './requests/tokenize.ts';

/** A text argument that must not be empty: 'a model folder path', 'an evaluation folder', … */
export const NON_EMPTY = (what: string) =>
  v.pipe(
    v.string((i) => `must be ${what}, got ${show(i.input)}`),
    v.minLength(1, `must be ${what}, got ""`),
  );

/** score's arguments checked before any GPU work (RequestError naming the argument or option). */
export function scoreArgs(
  texts: unknown,
  options: unknown = {},
): { texts: string[]; options: ParsedOf<typeof SCORE.fields> } {
  return { texts: checkArgument('score', 'texts', TEXTS, texts), options: SCORE.parse(options) };
}

/**
 * score on the loaded model, with scoreArgs' output: a text of fewer than 2 tokens is an error naming it (its first
 * token is not predicted: no log-prob to average), and a non-finite log-prob is an error, never a NaN score.
 */
export async function scoreChecked(
  rt: Runtime,
  { texts, options }: ReturnType<typeof scoreArgs>,
): Promise<ScoreResult[]> {
  rt.tokenize(texts).forEach((ids, i) => {
    if (ids.length < 2)
      throw new RequestError(
        'score',
        `texts[${i}]`,
        `(${show(texts[i])}) is ${ids.length} token(s): a text needs at least 2 tokens to have a log-probability`,
      );
  });
  const res = await rt.score(texts, options);
  res.forEach((r, i) => {
    if (!Number.isFinite(r.mean_logprob) || r.token_logprobs.some((x) => !Number.isFinite(x)))
      throw new Error(
        `score: texts[${i}]: the model produced a non-finite log-probability (an overflow in the forward pass; ` +
          "try dtype 'f32' or a shorter maxLength)",
      );
  });
  return res;
}

/**
 * generate's arguments checked before any GPU work: a non-empty text, or a non-empty array of token ids (each
 * id's bound is the loaded model's vocabulary: the runtime checks it, naming the element), and the options.
 */
export function generateArgs(
  prompt: unknown,
  options: unknown = {},
): { prompt: string | number[]; options: ParsedOf<typeof GENERATE.fields> } {
  let p: string | number[];
  if (Array.isArray(prompt)) {
    p = checkArgument('generate', 'prompt', TOKEN_IDS, prompt);
    if (!p.length) throw new RequestError('generate', 'prompt', 'needs at least one token id');
  } else p = checkArgument('generate', 'prompt', NON_EMPTY('a non-empty text (or an array of token ids)'), prompt);
  return { prompt: p, options: GENERATE.parse(options) };
}
