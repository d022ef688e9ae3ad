// score: the one place its options are declared (CLI `instructalign score`, API `score(texts, options)`).
// How to add an option: see core.ts.
import * as v from 'valibot';
import { apiOnly, defineRequest, int, show } from './core.ts';
import { MODEL_FLAGS } from './model.ts';

export const SCORE = defineRequest('score', {
  ...MODEL_FLAGS,
  maxLength: int({ min: 2, default: 1024, help: 'truncate texts from the left to N tokens' }),
  batchSize: int({ min: 1, default: 8, help: 'texts per forward pass' }),
  // the browser worker's score documented it before the doors shared this table: kept, and now the Node API's too
  groupSize: apiOnly(
    v.pipe(
      v.number((i) => `must be a number, got ${show(i.input)}`),
      v.integer((i) => `must be a positive integer, got ${show(i.input)}`),
      v.minValue(1, (i) => `must be a positive integer, got ${show(i.input)}`),
    ),
    'consecutive texts come in groups of this size that share a prompt (e.g. one example with each label): ' +
      "a group's common prefix is computed once (the same scores within f32 rounding)",
  ),
});

/** score's texts: a non-empty array of strings (NFC-normalised, as the evaluation's texts). */
export const TEXTS = v.pipe(
  v.array(
    v.pipe(
      v.string((i) => `must be a string, got ${i.input === null ? 'null' : typeof i.input}`),
      v.transform((s) => s.normalize('NFC')),
    ),
    (i) => `must be an array of strings, got ${i.input === null ? 'null' : typeof i.input}`,
  ),
  v.minLength(1, 'needs at least one text'),
);
