// tokenize / decode: the one place their options are declared (CLI `instructalign tokenize`, API
// `tokenize(texts)`, `decode(ids)`). How to add an option: see core.ts.
import * as v from 'valibot';
import { cliOnly, defineRequest, flag, RequestError, show, text } from './core.ts';

export const TOKENIZE = defineRequest('tokenize', {
  tokenizer: cliOnly(
    text({ arg: 'FILE', required: true, help: 'a BLOOM-kind tokenizer.json, or a model folder holding one' }),
  ),
  decode: cliOnly(flag({ help: 'decode id arrays instead of encoding strings' })),
});

/** Token ids: an array of non-negative integers (the vocabulary's bound is checked by tokenIds). */
export const TOKEN_IDS = v.array(
  v.pipe(
    v.number((i) => `is not a token id: ${show(i.input)}`),
    v.integer((i) => `is not a token id: ${show(i.input)}`),
    v.minValue(0, (i) => `is not a token id: ${show(i.input)}`),
  ),
  (i) => `must be an array of token ids, got ${show(i.input)}`,
);

/** `ids` checked against a vocabulary of `vocab` ids: RequestError naming the first bad element. */
export function checkTokenIds(request: string, field: string, ids: unknown, vocab: number): number[] {
  const r = v.safeParse(TOKEN_IDS, ids, { abortEarly: true });
  if (!r.success) {
    const at = v.getDotPath(r.issues[0]);
    throw new RequestError(request, at ? `${field}[${at}]` : field, r.issues[0].message);
  }
  const bad = r.output.findIndex((x) => x >= vocab);
  if (bad >= 0)
    throw new RequestError(
      request,
      `${field}[${bad}]`,
      `= ${r.output[bad]} is past the vocabulary (ids 0..${vocab - 1})`,
    );
  return r.output;
}
