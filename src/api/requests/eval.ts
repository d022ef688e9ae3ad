// evaluate: the one place its options are declared — `instructalign eval` (flags, --help), the Node API's
// `evaluate(request)` and the browser worker's `evaluate(request)` (EVALUATE_ROWS: the data as rows or CSV text).
// How to add an option: see core.ts.
import * as v from 'valibot';
import { TASKS } from '../../eval/tasks.ts';
import { parseShard } from '../../eval/shard.ts';
import { choice, cliOnly, defineRequest, flag, int, list, num, show, text, type Schema } from './core.ts';

/** The label set's problem (a label twice, also in another case or Unicode form), or undefined. */
export function labelsProblem(labels: readonly string[]): string | undefined {
  const seen = new Map<string, string>();
  for (const l of labels) {
    const key = l.normalize('NFC').toLowerCase();
    const first = seen.get(key);
    if (first !== undefined)
      return first === l
        ? `has "${l}" twice (each label once)`
        : `has "${first}" and "${l}": labels that differ only in case are one label (each label once)`;
    seen.set(key, l);
  }
  return undefined;
}

const nfc = (s: string) => s.normalize('NFC');
const langList = v.union(
  [
    v.pipe(
      v.string(),
      v.transform((s) => [s]),
    ),
    v.array(v.string()),
  ],
  (i) => `must be a language code or a list of them, got ${show(i.input)}`,
);

/** Language groups: {"L1": ["eng", "ind"], ...} (a single code may be a string). */
const GROUPS: Schema<Record<string, string[]>> = v.record(v.string(), langList, (i) =>
  i.input !== null && typeof i.input === 'object'
    ? `: group ${show(i.issues?.[0]?.path?.[0]?.key)} must be a list of language codes`
    : `must be an object of groups, e.g. {"L1": ["eng"], "L2": ["jav"]}, got ${show(i.input)}`,
);

export const EVAL_FIELDS = {
  model: cliOnly(
    text({
      arg: 'DIR',
      required: true,
      help: 'HuggingFace-style BLOOM folder (config.json, model.safetensors, tokenizer.json)',
    }),
  ),
  out: text({
    arg: 'DIR',
    required: true,
    help: 'where results.json, predictions.jsonl, report.md and chart.svg go',
  }),
  overwrite: flag({
    help: "delete an earlier evaluation's files in --out and start afresh (needed when its model or settings differ)",
  }),
  data: text({
    arg: 'nusax|PATH',
    default: 'nusax',
    help: `nusax (default: NusaX sentiment test splits, 12 languages), a folder of <lang>/test.csv,
or one CSV, TSV or JSONL file with text,label and optionally id (default: the row number) and lang (groups the
rows; default: the file name)`,
  }),
  task: text({
    arg: 'NAME',
    help: `${TASKS.join(' | ')} (default sentiment; prompts EN1-EN3 of InstructAlign's nlu_prompt.py);
with --prompt/--prompts-file any name (default classification); translation: --data PAIRS --l1 eng --l2 tgl,
greedy translations both ways with the MT templates (--prompts 1-6, default 1), chrF++ and BLEU`,
    check: (v) => (/^[a-z][a-z0-9_-]*$/.test(v as string) ? undefined : `must be a lower-case name, got "${v}"`),
  }),
  labels: list({
    arg: 'a,b,c',
    nfc: true,
    help: 'label set in order (default for sentiment: negative,neutral,positive)',
    check: (v) => labelsProblem(v as string[]),
  }),
  langs: list({ arg: 'eng,ind,...', nfc: true, help: 'languages to evaluate (default: all found)' }),
  groups: text({
    arg: 'SPEC',
    help: 'language groups, e.g. "L1=eng,ind;L2=ace,ban;L3=mad" (default: the paper\'s L1/L2/L3)',
    api: GROUPS,
  }),
  prompts: list({
    arg: '1,2,3',
    default: ['1', '2', '3'],
    help: 'which built-in English prompts',
    check: (v) =>
      (v as string[]).every((x) => Number.isInteger(Number(x))) ? undefined : 'takes prompt numbers, e.g. 1,2,3',
    api: v.pipe(
      v.array(
        v.pipe(
          v.number((i) => `is not a prompt number: ${show(i.input)}`),
          v.integer((i) => `is not a prompt number: ${show(i.input)}`),
          v.minValue(1, (i) => `is not a prompt number: ${show(i.input)}`),
        ),
        (i) => `must be a list of prompt numbers, e.g. [1, 2, 3], got ${show(i.input)}`,
      ),
      v.minLength(1, 'needs at least one prompt number'),
      v.transform((ids) => [...new Set(ids)]),
    ),
    apiDefault: [1, 2, 3],
  }),
  templates: list({
    flag: 'prompt',
    arg: 'TEMPLATE',
    repeatable: true,
    nfc: true,
    help: `your own prompt (repeat the flag for several): [INPUT] = the text, [OPTIONS] = "a, b, or c",
[LABELS_CHOICE] = each label in turn; \\n and \\t are read as a line break and a tab`,
  }),
  promptsFile: cliOnly(
    text({
      arg: 'FILE',
      help: 'your own prompts, one per line (same placeholders and escapes; # comments)',
    }),
  ),
  l1: list({ arg: 'CODES', help: '--task translation: pivot language(s), e.g. eng' }),
  l2: list({ arg: 'CODES', help: '--task translation: the other language(s), e.g. tgl (both directions)' }),
  langNames: text({ arg: 'MAP', help: 'language names for the prompts, e.g. qaa=Zedish' }),
  columns: text({ arg: 'MAP', help: '--task translation: CSV/TSV headers, e.g. eng=english,tgl=tagalog' }),
  floresHeldOut: int({
    min: 1,
    help: '--task translation: evaluate on the N rows that train --flores-held-out N held out (same split)',
  }),
  maxNewTokens: int({
    min: 1,
    default: 64,
    help: '--task translation: greedy tokens per translation (the first line is kept)',
  }),
  limit: int({ min: 1, help: 'first N examples per language (default all)' }),
  batchSize: int({ arg: 'B', min: 1, default: 16, help: 'texts per scoring call' }),
  prefixSharing: choice(['auto', 'on', 'off'], {
    arg: 'M',
    default: 'auto',
    help: `auto|on|off: score each example's prompt once through the KV cache and then only the
labels (same scores within f32 rounding; default auto = on; off scores full texts)`,
    api: v.boolean((i) => `must be true or false, got ${show(i.input)}`),
    apiDefault: true,
  }),
  maxLength: int({ min: 2, default: 1024, help: 'tokens per text, truncated from the left' }),
  countFirstPad: cliOnly(
    flag({
      help: `reproduce a quirk of the official batched scorer (main_nlu_prompt_batch.py): the log-prob of the first pad
after a text is counted, as for its rows shorter than their batch. Off by default: the unbatched scorer, which
produced the paper's tables, has no pad (docs/paper-recipe.md)`,
    }),
  ),
  dtype: cliOnly(choice(['f32', 'f16'], { arg: 'f32|f16', help: "compute dtype (default: the runtime's)" })),
  int8: cliOnly(flag({ help: 'LLM.int8() weights (the official evaluation loads the model in 8 bit)' })),
  int8Threshold: cliOnly(num({ arg: 'T', min: 0, help: 'outlier threshold for --int8 (default 6)' })),
  shard: text({
    arg: 'i/n',
    help: `evaluate only shard i of n: a deterministic 1/n of the (language, prompt, example) items; the --out folders
of the n shards are combined with 'instructalign merge DIR… --out DIR' into the results of one run`,
    check: (s) => {
      try {
        parseShard(s as string);
        return undefined;
      } catch {
        return `must be i/n with 1 ≤ i ≤ n, e.g. 2/4, got "${s}"`;
      }
    },
  }),
  scoring: choice(['paper', 'label', 'label-norm'], {
    arg: 'RULE',
    default: 'paper',
    help: `which rule picks the label (all three are computed in the same pass and reported, this one first):
paper = mean token log-prob of the whole filled prompt (InstructAlign); label = sum of the label's token log-probs
given the prompt (lm-evaluation-harness acc); label-norm = that ÷ the label's UTF-8 bytes (acc_norm)`,
  }),
  quoteOptions: flag({
    help: 'write [OPTIONS] as "negative", "neutral", or "positive" (main_nlu_prompt.py\'s form)',
  }),
};

/** `instructalign eval` and the Node API's evaluate (data: 'nusax' or a path; out: optional in the API). */
export const EVALUATE = defineRequest('evaluate', EVAL_FIELDS);

/** One language's rows: objects (id, text, label) or the text of a CSV/TSV/JSONL file. */
const ROWS = v.union(
  [
    v.string(),
    v.array(
      v.object({
        id: v.union([v.string(), v.number()]),
        text: v.pipe(
          v.union([v.string(), v.number()]),
          v.transform((t) => nfc(String(t))),
        ),
        label: v.union([v.string(), v.number()]),
      }),
    ),
  ],
  (i) => `must be a CSV text or an array of {id, text, label} rows, got ${show(i.input)}`,
);
export type LangRows = v.InferInput<typeof ROWS>;

/** The browser worker's evaluate: the data as rows or CSV text (a page has no file paths). */
export const EVALUATE_ROWS = EVALUATE.extend({
  out: cliOnly(EVAL_FIELDS.out),
  // translation is evaluated through the Node API and the CLI only (the page has its own translation views)
  l1: cliOnly(EVAL_FIELDS.l1),
  l2: cliOnly(EVAL_FIELDS.l2),
  langNames: cliOnly(EVAL_FIELDS.langNames),
  columns: cliOnly(EVAL_FIELDS.columns),
  floresHeldOut: cliOnly(EVAL_FIELDS.floresHeldOut),
  maxNewTokens: cliOnly(EVAL_FIELDS.maxNewTokens),
  data: {
    type: 'string',
    cli: false,
    help: `rows by language code, or the text of one CSV/TSV/JSONL file (its lang column groups the rows; without one
its language is \`name\`, default "csv")`,
    api: v.union(
      [v.string(), v.record(v.string(), ROWS)],
      (i) => `must be a CSV text or an object of rows by language, got ${show(i.input)}`,
    ) as Schema<string | Record<string, LangRows>>,
    apiRequired: true as const,
  },
  name: {
    type: 'string',
    cli: false,
    help: 'the language (and file name) of a single CSV text without a lang column (default "csv")',
    api: v.string() as Schema<string>,
  },
  source: {
    type: 'string',
    cli: false,
    help: '"nusax" when `data` holds NusaX test splits by ISO code (the default when every key is a NusaX code)',
    api: v.string() as Schema<string>,
  },
  fileName: {
    type: 'string',
    cli: false,
    help: "a single data text's file name: its extension picks CSV, TSV or JSONL (default data.csv)",
    api: v.string() as Schema<string>,
  },
});
