// train: the one place its options are declared — `instructalign train` (flags, --help), the Node API's
// `train(request)` (TrainRequest) and the browser worker's `align(request)` (ALIGN: the loop's options, with the
// data as text). How to add an option: see core.ts.
import * as v from 'valibot';
import { RECIPES } from '../../train/recipe.ts';
import { parseObjectives } from '../../train/data/objectives.ts';
import { DEFAULT_PAIRS, DEFAULT_REPLAY } from '../../train/data/bundled.ts';
import { LOOP_DEFAULTS } from '../../train/loop.ts';
import type { LossScalerOptions } from '../../train/loss-scale.ts';
import {
  apiOnly,
  cliOnly,
  defineRequest,
  flag,
  int,
  list,
  num,
  required,
  show,
  text,
  type ParsedOf,
  type RequestOf,
  type Schema,
} from './core.ts';

const D = LOOP_DEFAULTS;

/** "CODE=Name" pairs in the API: an object of strings. */
const STRING_MAP = (what: string): Schema<Record<string, string>> =>
  v.record(
    v.string(),
    v.string((i) => `: each ${what} must be a string, got ${show(i.input)}`),
    (i) => `must be an object of ${what}s by language code, got ${show(i.input)}`,
  );

/** --eval-split's rule, both doors: a row count (20) or a share of the rows (10%) */
const evalSplitProblem = (x: unknown) =>
  (typeof x === 'number' && Number.isInteger(x) && x >= 0) ||
  (typeof x === 'string' && (/^\d+$/.test(x) || /^\d+(\.\d+)?%$/.test(x)))
    ? undefined
    : `must be a row count (e.g. 20) or a share (e.g. 10%), got ${show(x)}`;

/** --objectives' rule, both doors: known objective names (checked with the flags, before any data or GPU work) */
const objectivesProblem = (x: unknown) => {
  try {
    parseObjectives(String(x));
    return undefined;
  } catch (e) {
    return `: ${(e as Error).message}`;
  }
};

/** --loss-scale's rule, both doors: dynamic, none or a positive number */
const lossScaleProblem = (v: unknown) => {
  const n = Number(v);
  return v === 'dynamic' || v === 'none' || (v !== '' && n > 0 && Number.isFinite(n))
    ? undefined
    : `must be dynamic, none or a positive number, got ${show(v)}`;
};

export const TRAIN_FIELDS = {
  model: text({
    arg: 'DIR',
    help: 'starting checkpoint (an instruction-tuned BLOOM, e.g. models/nano-bloomz)',
  }),
  out: required(text({ arg: 'DIR', required: true, help: 'run folder' })),
  recipe: text({
    choices: RECIPES,
    arg: 'NAME',
    default: 'default',
    help: `default (this package's defaults: eng+ind ↔ 7 L2, f32) or paper (the official
InstructAlign setup: eng ↔ ind + 7 L2 both ways, lr 1e-5, batch 32, max length 128,
replay 1:1, --fp16, FLORES 1,000 held out; docs/paper-recipe.md). Explicit flags
override the recipe, and the log says so (default default)`,
  }),
  pairs: text({
    arg: 'SRC',
    repeatable: true,
    help: `parallel data (default: bundled data/${DEFAULT_PAIRS}): CSV or TSV with a header of
language codes; JSONL {"eng":…,"tgl":…}, {"translation":{…}} or
{"lang1","lang2","sentence1","sentence2"}; a FLORES-200 folder; two line-aligned
files corpus.eng,corpus.tgl (docs/data-formats.md). Repeat --pairs to combine files
(each gives the pairs of the --l1/--l2 languages it has)`,
    api: v.union(
      [
        v.string(),
        v.pipe(
          v.array(v.string()),
          v.minLength(1, () => 'needs at least one path'),
        ),
      ],
      (i) => `must be a path or a list of paths, got ${show(i.input)}`,
    ) as Schema<string | string[]>,
  }),
  l1: list({
    arg: 'CODES',
    default: D.l1,
    help: 'pivot languages (ISO 639-3 codes; tgl_Latn, ISO 639-1 and BCP-47 tags such as en, pt-BR accepted)',
  }),
  l2: list({ arg: 'CODES', default: D.l2, help: 'languages to align' }),
  langNames: text({
    arg: 'MAP',
    help: 'prompt names, e.g. tgl=Tagalog,qaa=Zedish (default: NusaX names, then ISO 639-3)',
    api: STRING_MAP('name'),
  }),
  columns: text({
    arg: 'MAP',
    help: `CSV/TSV headers or JSONL keys to read, e.g. eng=english,tgl=tagalog (default: the header
or keys are language codes)`,
    api: STRING_MAP('header'),
  }),
  evalSplit: text({
    arg: 'N|P%',
    help: `hold out N rows (or P % of the usable rows) of the pairs for validation, never trained on
(a seeded sample of whole rows: both directions of a held-out sentence stay out)`,
    check: evalSplitProblem,
    api: v.pipe(
      v.union([v.string(), v.number()], (i) => evalSplitProblem(i.input)!),
      v.check(
        (x) => evalSplitProblem(x) === undefined,
        (i) => evalSplitProblem(i.input)!,
      ),
    ) as Schema<number | string>,
  }),
  evalSteps: int({
    arg: 'K',
    min: 1,
    help: `validation loss (eval_loss, eval_perplexity in log.jsonl and the progress line) every K steps
and at the end (default with --eval-split: at each --save-steps)`,
  }),
  saveBest: flag({
    help: 'keep the weights with the lowest eval_loss in OUT/best (HF folder + eval.json; needs --eval-split)',
  }),
  objectives: text({
    arg: 'LIST',
    default: D.objectives,
    help: 'tlm, xss, mlm, mt (or the official names: bilingual, pair, pair-xss, ...)',
    check: objectivesProblem,
  }),
  replay: text({
    arg: 'FILE|none',
    help: `past instruction data, JSONL {"inputs","targets"} (xP3 format); default: the bundled
data/${DEFAULT_REPLAY}; --replay none = no replay`,
  }),
  replaySize: int({ min: 0, help: 'replay rows sampled with the seed (default all)' }),
  steps: int({ min: 1, default: D.steps, help: 'optimizer steps' }),
  lr: num({
    arg: 'X',
    gt: 0,
    default: D.lr,
    help: `peak learning rate, linear decay to 0 (default ${D.lr}, the paper's)`,
  }),
  warmupSteps: int({ min: 0, default: D.warmupSteps, help: 'linear warmup' }),
  batchSize: int({
    min: 1,
    default: D.batchSize,
    help: `sequences per step (default ${D.batchSize}, the paper's effective batch)`,
  }),
  gradAccum: int({ arg: 'K', min: 1, default: D.gradAccum, help: 'micro-batches per step' }),
  maxLength: int({ min: 2, default: D.maxLength, help: 'tokens per sequence, right truncation' }),
  weightDecay: num({
    arg: 'X',
    min: 0,
    default: D.weightDecay,
    help: "AdamW weight decay (default 0, HF Trainer's)",
  }),
  maxGradNorm: num({ arg: 'X', gt: 0, default: D.maxGradNorm, help: 'gradient clipping' }),
  decayAll: apiOnly(v.boolean(), 'weight decay on biases and LayerNorm weights too (default false)'),
  saveSteps: int({ min: 1, default: 500, help: 'checkpoint interval' }),
  seed: int({ arg: 'S', default: D.seed, help: 'data order, objectives and noise' }),
  fp16: flag({
    help: 'mixed precision: f16 matrices (f16 arithmetic where the adapter has shader-f16) for forward/backward, f32 master weights for AdamW',
  }),
  noFp16: cliOnly(flag({ help: 'f32 training even where the recipe turns --fp16 on' })),
  floresHeldOut: int({
    min: 0,
    help: 'FLORES-200 folder: dev+devtest rows held out from training (default 0; --recipe paper: 1000)',
  }),
  lossScale: text({
    arg: 'MODE',
    help: `dynamic (GradScaler: 2^16, halve and skip on overflow, double after 2000 clean steps),
none, or a fixed number (default: dynamic with --fp16, none otherwise)`,
    check: lossScaleProblem,
    api: v.pipe(
      v.union([v.literal('dynamic'), v.literal('none'), v.number()], (i) => lossScaleProblem(i.input)!),
      v.check(
        (x) => lossScaleProblem(x) === undefined,
        (i) => lossScaleProblem(i.input)!,
      ),
    ) as Schema<'dynamic' | 'none' | number>,
  }),
  lossScaler: apiOnly(
    v.custom<LossScalerOptions>(
      (x) => typeof x === 'object' && x !== null,
      (i) => `must be an object (init, growthFactor, backoffFactor, growthInterval, dynamic), got ${show(i.input)}`,
    ),
    'GradScaler settings for dynamic loss scaling',
  ),
  recompute: flag({
    help: 'activation recomputation per block: keep only block inputs, less GPU memory, ~1 extra forward',
  }),
  resume: flag({
    help: `continue from OUT/checkpoint with the run's own saved options (steps, schedule, batch, data, seed):
give only --out; a flag that would change the run is refused, except --save-steps and --recompute`,
  }),
  overwrite: flag({
    help: 'start afresh in an existing run folder, deleting its log and checkpoints (without it, an --out that is\nnot empty is refused unless --resume)',
  }),
  saveTotalLimit: int({
    arg: 'N',
    min: 0,
    default: 0,
    help: 'also keep the last N checkpoints as OUT/checkpoint-<step> (HF layout; OUT/checkpoint is the latest)',
  }),
  officialTlmLangSwap: flag({ help: "reproduce the official code's swapped TLM language names" }),
};

/** The rules across train's options, both doors (a fresh run's complete options, or a request's given ones). */
export function trainProblem(o: {
  batchSize?: number;
  gradAccum?: number;
  resume?: boolean;
  overwrite?: boolean;
  evalSplit?: number | string;
  evalSteps?: number;
  saveBest?: boolean;
}): { field: string; problem: string } | undefined {
  if (o.resume && o.overwrite) return { field: 'resume', problem: 'and overwrite contradict each other: pass one' };
  // a resumed run has its own split (the request gives only what changes)
  if (!o.resume && o.evalSplit === undefined && o.evalSteps !== undefined)
    return { field: 'evalSteps', problem: 'needs a validation split: add evalSplit (rows, or a share such as 10%)' };
  if (!o.resume && o.evalSplit === undefined && o.saveBest)
    return { field: 'saveBest', problem: 'keeps the lowest eval loss: add evalSplit (rows, or a share such as 10%)' };
  const b = o.batchSize ?? D.batchSize,
    k = o.gradAccum ?? D.gradAccum;
  if (b % k !== 0) return { field: 'batchSize', problem: `${b} must be a multiple of gradAccum ${k}` };
  return undefined;
}

/** `instructalign train` and the Node API's train. */
export const TRAIN = defineRequest('train', TRAIN_FIELDS, (r, fail) => {
  const p = trainProblem(r);
  if (p) fail(p.field, p.problem);
});

/** `instructalign train` as a call: every option may be left out (the defaults, or the resumed run's, apply). */
export type TrainRequest = RequestOf<typeof TRAIN_FIELDS>;
export type ParsedTrainRequest = ParsedOf<typeof TRAIN_FIELDS>;

/** The options of one alignment loop (the browser worker's align): train's, less the run folder's. */
export const LOOP_KEYS = [
  'l1',
  'l2',
  'langNames',
  'objectives',
  'replaySize',
  'steps',
  'lr',
  'warmupSteps',
  'batchSize',
  'gradAccum',
  'maxLength',
  'weightDecay',
  'maxGradNorm',
  'decayAll',
  'seed',
  'officialTlmLangSwap',
  'fp16',
  'lossScale',
  'lossScaler',
] as const;

/** The browser worker's align(): the loop's options of train, with the data as text. */
export const ALIGN = defineRequest(
  'align',
  {
    ...(Object.fromEntries(LOOP_KEYS.map((k) => [k, TRAIN_FIELDS[k]])) as Pick<
      typeof TRAIN_FIELDS,
      (typeof LOOP_KEYS)[number]
    >),
    pairs: required(
      apiOnly(
        v.string((i) => `must be the parallel data file's text, got ${show(i.input)}`),
        "the parallel data file's text: NusaX-MT-style CSV/TSV (a column per language) or JSONL pairs, as --pairs",
      ),
    ),
    pairsName: required(
      apiOnly(
        v.string((i) => `must be a file name, got ${show(i.input)}`),
        "the data file's name: the format follows its extension, as the CLI's",
      ),
    ),
    replay: apiOnly(v.string(), 'past instruction data, JSONL {"inputs","targets"} (as --replay); absent: no replay'),
    replayName: apiOnly(v.string(), 'its file name (default replay.jsonl)'),
    columns: TRAIN_FIELDS.columns,
    evalSplit: TRAIN_FIELDS.evalSplit,
    evalSteps: int({
      min: 1,
      help: 'the validation loss every K steps and at the end (default with evalSplit: at the end only)',
    }),
  },
  (r, fail) => {
    const p = trainProblem(r);
    if (p) fail(p.field, p.problem);
  },
);
export type AlignRequest = RequestOf<typeof ALIGN.fields>;
