// score: the one place its options are declared (CLI `instructalign score`, API `score(texts, options)`).
// How to add an option: see core.ts.
import * as v from 'valibot';
import { defineRequest, int } from './core.ts';
import { MODEL_FLAGS } from './model.ts';

export const SCORE = defineRequest('score', {
  ...MODEL_FLAGS,
  maxLength: int({ min: 2, default: 1024, help: 'truncate texts from the left to N tokens' }),
  batchSize: int({ min: 1, default: 8, help: 'texts per forward pass' }),
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
