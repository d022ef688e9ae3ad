// `instructalign train`: InstructAlign continual crosslingual instruction tuning with experience replay.
import { resolveModelPath } from '../api/model-path.ts';
import { resolve } from 'node:path';
import {
  bool,
  helpText,
  list,
  num,
  parseCommand,
  required,
  str,
  UsageError,
  type CommandSpec,
  type ParsedArgs,
} from './args.ts';
import { Runtime } from '../host/runtime.ts';
import {
  ResumeConflictError,
  train,
  TRAIN_DEFAULTS,
  type StepLog,
  type TrainOptions,
  type TrainRequest,
} from '../train/trainer.ts';
import { dataPath, DEFAULT_PAIRS, DEFAULT_REPLAY } from '../train/data/paths.ts';
import { langCode, parseLangNames } from '../train/data/langs.ts';
import { applyRecipe, describeRecipe, RECIPES, type RecipeName } from '../train/recipe.ts';
import { parseColumnsSpec } from '../train/data/parallel.ts';

const D = TRAIN_DEFAULTS;
export const spec: CommandSpec = {
  name: 'train',
  usage: 'instructalign train --model DIR --out DIR [options]',
  about: `Continual crosslingual instruction tuning (InstructAlign): crosslingual instructions built from parallel data
(L1 pivot ↔ each L2, both directions), interleaved 1:1 with replayed instruction data, full fine-tuning with AdamW
(f32 master weights). Logs one JSON line per step to OUT/log.jsonl; checkpoints (HF-loadable model.safetensors +
config.json + tokenizer.json, optimizer state, data position) go to OUT/checkpoint atomically every --save-steps,
at the end and on Ctrl-C. --resume continues exactly where the checkpoint left off.`,
  options: {
    model: {
      type: 'string',
      arg: 'DIR',
      help: 'starting checkpoint (an instruction-tuned BLOOM, e.g. models/nano-bloomz)',
    },
    out: { type: 'string', arg: 'DIR', required: true, help: 'run folder' },
    recipe: {
      type: 'string',
      arg: 'NAME',
      choices: RECIPES,
      default: 'default',
      help: `default (this package's defaults: eng+ind ↔ 7 L2, f32) or paper (the official
InstructAlign setup: eng ↔ ind + 7 L2 both ways, lr 1e-5, batch 32, max length 128,
replay 1:1, --fp16, FLORES 1,000 held out; docs/paper-recipe.md). Explicit flags
override the recipe, and the log says so (default default)`,
    },
    pairs: {
      type: 'string',
      arg: 'SRC',
      help: `parallel data (default: bundled data/${DEFAULT_PAIRS}): CSV or TSV with a header of
language codes; JSONL {"eng":…,"tgl":…} or {"translation":{…}}; a FLORES-200 folder;
two line-aligned files corpus.eng,corpus.tgl (docs/data-formats.md)`,
    },
    l1: {
      type: 'list',
      arg: 'CODES',
      default: D.l1,
      help: 'pivot languages (ISO 639-3 codes; tgl_Latn style accepted)',
    },
    l2: { type: 'list', arg: 'CODES', default: D.l2, help: 'languages to align' },
    'lang-names': {
      type: 'string',
      arg: 'MAP',
      help: 'prompt names, e.g. tgl=Tagalog,qaa=Zedish (default: NusaX names, then ISO 639-3)',
    },
    columns: {
      type: 'string',
      arg: 'MAP',
      help: 'CSV/TSV headers to read, e.g. eng=english,tgl=tagalog (default: the header is language codes)',
    },
    objectives: {
      type: 'string',
      arg: 'LIST',
      default: D.objectives,
      help: 'tlm, xss, mlm, mt (or the official names: bilingual, pair, pair-xss, ...)',
    },
    replay: {
      type: 'string',
      arg: 'FILE|none',
      help: `past instruction data, JSONL {"inputs","targets"} (xP3 format); default: the bundled
data/${DEFAULT_REPLAY}; --replay none = no replay`,
    },
    'replay-size': { type: 'int', min: 0, help: 'replay rows sampled with the seed (default all)' },
    steps: { type: 'int', min: 1, default: D.steps, help: 'optimizer steps' },
    lr: {
      type: 'number',
      arg: 'X',
      gt: 0,
      default: D.lr,
      help: `peak learning rate, linear decay to 0 (default ${D.lr}, the paper's)`,
    },
    'warmup-steps': { type: 'int', min: 0, default: D.warmupSteps, help: 'linear warmup' },
    'batch-size': {
      type: 'int',
      min: 1,
      default: D.batchSize,
      help: `sequences per step (default ${D.batchSize}, the paper's effective batch)`,
    },
    'grad-accum': { type: 'int', arg: 'K', min: 1, default: D.gradAccum, help: 'micro-batches per step' },
    'max-length': { type: 'int', min: 2, default: D.maxLength, help: 'tokens per sequence, right truncation' },
    'weight-decay': {
      type: 'number',
      arg: 'X',
      min: 0,
      default: D.weightDecay,
      help: "AdamW weight decay (default 0, HF Trainer's)",
    },
    'max-grad-norm': { type: 'number', arg: 'X', gt: 0, default: D.maxGradNorm, help: 'gradient clipping' },
    'save-steps': { type: 'int', min: 1, default: D.saveSteps, help: 'checkpoint interval' },
    seed: { type: 'int', arg: 'S', default: D.seed, help: 'data order, objectives and noise' },
    fp16: { type: 'boolean', help: 'mixed precision: f16 matrices for forward/backward, f32 master weights for AdamW' },
    'no-fp16': { type: 'boolean', help: 'f32 training even where the recipe turns --fp16 on' },
    'flores-held-out': {
      type: 'int',
      min: 0,
      help: 'FLORES-200 folder: dev+devtest rows held out from training (default 0; --recipe paper: 1000)',
    },
    'loss-scale': {
      type: 'string',
      arg: 'MODE',
      help: `dynamic (GradScaler: 2^16, halve and skip on overflow, double after 2000 clean steps),
none, or a fixed number (default: dynamic with --fp16, none otherwise)`,
      check: (v) => {
        const n = Number(v);
        return v === 'dynamic' || v === 'none' || (n > 0 && Number.isFinite(n))
          ? undefined
          : `must be dynamic, none or a positive number, got "${v}"`;
      },
    },
    recompute: {
      type: 'boolean',
      help: 'activation recomputation per block: keep only block inputs, less GPU memory, ~1 extra forward',
    },
    resume: {
      type: 'boolean',
      help: `continue from OUT/checkpoint with the run's own saved options (steps, schedule, batch, data, seed):
give only --out; a flag that would change the run is refused, except --save-steps and --recompute`,
    },
    overwrite: {
      type: 'boolean',
      help: 'start afresh in an existing run folder, deleting its log and checkpoints (without it, an --out that is\nnot empty is refused unless --resume)',
    },
    'save-total-limit': {
      type: 'int',
      arg: 'N',
      min: 0,
      default: 0,
      help: 'also keep the last N checkpoints as OUT/checkpoint-<step> (HF layout; OUT/checkpoint is the latest)',
    },
    'official-tlm-lang-swap': { type: 'boolean', help: "reproduce the official code's swapped TLM language names" },
  },
};
export const help = helpText(spec);

export interface TrainCli {
  o: TrainRequest; // a fresh run: every option; --resume: only the flags given (and --out)
  resume: boolean;
  args: ParsedArgs;
  recipeLog: string[]; // what --recipe set and which explicit flags overrode it
}

/**
 * The run the command line asks for. A fresh run: every option (flags over the recipe over the table's defaults).
 * --resume: only the flags given (and --out), since the run's own options come from its checkpoint
 * (trainer.ts: resumeOptions).
 */
export function trainOptions(argv: string[]): TrainCli {
  const a = parseCommand(argv, spec);
  const resume = bool(a, 'resume');
  if (bool(a, 'fp16') && bool(a, 'no-fp16')) throw new UsageError('--fp16 and --no-fp16 contradict each other');
  const given = new Set(a.given);
  if (given.has('no-fp16')) given.add('fp16');
  const r = applyRecipe(flagOptions(a, resume), str(a, 'recipe', 'default') as RecipeName, given);
  const full = r.options;
  if (full.replay === 'default') full.replay = dataPath(DEFAULT_REPLAY);
  full.recipe = r.recipe;
  if (resume && full.overwrite) throw new UsageError('--resume and --overwrite contradict each other: pass one');
  if (!resume) {
    if (full.batchSize % full.gradAccum !== 0)
      throw new UsageError(`--batch-size ${full.batchSize} must be a multiple of --grad-accum ${full.gradAccum}`);
    return { o: full, resume, args: a, recipeLog: describeRecipe(r) };
  }
  const o: TrainRequest = { out: full.out };
  for (const flag of given) {
    if (flag === 'resume' || flag === 'no-fp16') continue; // --no-fp16 is recorded as fp16 (added to `given`)
    const key = flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as keyof TrainOptions;
    (o as Record<string, unknown>)[key] = full[key];
  }
  return { o, resume, args: a, recipeLog: [] };
}

/** The options from the flags and the table's defaults, before a recipe is applied. */
function flagOptions(a: ParsedArgs, resume: boolean): TrainOptions {
  const langNames = parseLangNames(str(a, 'lang-names'));
  const columns = str(a, 'columns');
  return {
    model: resume ? (str(a, 'model') as string) : resolveModelPath(required(a, 'model')),
    out: resolve(required(a, 'out')),
    pairs: str(a, 'pairs') ?? dataPath(DEFAULT_PAIRS),
    l1: list(a, 'l1')!.map((c) => langCode(c, langNames, '--l1')),
    l2: list(a, 'l2')!.map((c) => langCode(c, langNames, '--l2')),
    langNames,
    columns: columns ? parseColumnsSpec(columns, langNames) : undefined,
    objectives: str(a, 'objectives') as string,
    replay: str(a, 'replay'),
    replaySize: num(a, 'replay-size'),
    steps: num(a, 'steps') as number,
    lr: num(a, 'lr') as number,
    warmupSteps: num(a, 'warmup-steps') as number,
    batchSize: num(a, 'batch-size') as number,
    gradAccum: num(a, 'grad-accum') as number,
    maxLength: num(a, 'max-length') as number,
    weightDecay: num(a, 'weight-decay') as number,
    maxGradNorm: num(a, 'max-grad-norm') as number,
    decayAll: false,
    seed: num(a, 'seed') as number,
    saveSteps: num(a, 'save-steps') as number,
    officialTlmLangSwap: bool(a, 'official-tlm-lang-swap'),
    fp16: bool(a, 'fp16'),
    recompute: bool(a, 'recompute'),
    lossScale: lossScaleFlag(str(a, 'loss-scale')),
    floresHeldOut: num(a, 'flores-held-out') ?? 0,
    overwrite: bool(a, 'overwrite'),
    saveTotalLimit: num(a, 'save-total-limit') as number,
  };
}

/** --loss-scale dynamic|none|N (undefined: the default for the precision); validated by the table's check */
function lossScaleFlag(v: string | undefined): TrainOptions['lossScale'] {
  if (v === undefined || v === 'dynamic' || v === 'none') return v;
  return Number(v);
}

export async function run(argv: string[]): Promise<number> {
  const { o, resume, recipeLog } = trainOptions(argv);
  for (const line of recipeLog) console.error(line);
  const rt = await Runtime.create();
  // SIGTERM (schedulers, docker stop, kill) is handled like Ctrl-C: finish the step, save, exit 128 + signal
  let stop: 'SIGINT' | 'SIGTERM' | undefined;
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => {
    if (stop) process.exit(sig === 'SIGINT' ? 130 : 143);
    stop = sig;
    console.error(
      `\n${sig === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}: finishing this step and saving a checkpoint (send it again to quit without saving)`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const banner = (o: TrainOptions) =>
      console.error(
        `train: ${o.objectives} on ${o.l1.join(',')} ↔ ${o.l2.join(',')}${o.replay === 'none' ? ' (no replay)' : ' + replay'}, ${o.steps} steps × ${o.batchSize} on ${rt.adapterInfo} → ${o.out}`,
      );
    let logs: StepLog[];
    try {
      logs = await train(rt.gpu, o, resume, { progress: true, shouldStop: () => stop !== undefined, onStart: banner });
    } catch (e) {
      if (e instanceof ResumeConflictError) throw new UsageError(e.message);
      throw e;
    }
    if (logs.length) {
      const f = logs[0],
        l = logs[logs.length - 1];
      console.error(
        `train: steps ${f.step}..${l.step}, loss ${f.loss.toFixed(4)} → ${l.loss.toFixed(4)}; checkpoint ${o.out}/checkpoint, log ${o.out}/log.jsonl`,
      );
    }
    return stop === 'SIGINT' ? 130 : stop === 'SIGTERM' ? 143 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rt.dispose();
  }
}
