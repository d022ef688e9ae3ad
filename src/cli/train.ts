// `instructalign train`: InstructAlign continual crosslingual instruction tuning with experience replay.
import { TRAIN, trainProblem, type TrainRequest } from '../api/requests/train.ts';
import { resolveModelPath } from '../api/model-path.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  all,
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
import { BEST, ResumeConflictError, flagName, train, type StepLog, type TrainOptions } from '../train/trainer.ts';
import { dataPath, DEFAULT_PAIRS, DEFAULT_REPLAY } from '../train/data/paths.ts';
import { langCode, parseLangNames } from '../train/data/langs.ts';
import { applyRecipe, describeRecipe, type RecipeName } from '../train/recipe.ts';
import { parseColumnsSpec } from '../train/data/parallel.ts';

export const spec: CommandSpec = {
  name: 'train',
  usage: 'instructalign train --model DIR --out DIR [options]',
  about: `Continual crosslingual instruction tuning (InstructAlign): crosslingual instructions built from parallel data
(L1 pivot ↔ each L2, both directions), interleaved 1:1 with replayed instruction data, full fine-tuning with AdamW
(f32 master weights). Logs one JSON line per step to OUT/log.jsonl; checkpoints (HF-loadable model.safetensors +
config.json + tokenizer.json, optimizer state, data position) go to OUT/checkpoint atomically every --save-steps,
at the end and on Ctrl-C. --resume continues exactly where the checkpoint left off.`,
  options: TRAIN.options,
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
    // the rules across options of the request definition (src/api/requests/train.ts), named by their flags
    const p = trainProblem(full);
    if (p)
      throw new UsageError(
        `${flagName(p.field)} ${p.problem.replace(/gradAccum/, '--grad-accum').replace(/evalSplit/, '--eval-split')}`,
      );
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
    pairs: pairsFlag(all(a, 'pairs')),
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
    evalSplit: evalSplitFlag(str(a, 'eval-split')),
    evalSteps: num(a, 'eval-steps'),
    saveBest: bool(a, 'save-best'),
  };
}

/** --pairs given once: that path; several times: all of them; never: the bundled NusaX-MT pairs. */
function pairsFlag(paths: string[]): string | string[] {
  return paths.length === 0 ? dataPath(DEFAULT_PAIRS) : paths.length === 1 ? paths[0] : paths;
}

/** --eval-split 20 → 20; 10% → '10%' (validated by the table's check). */
function evalSplitFlag(v: string | undefined): number | string | undefined {
  return v === undefined ? undefined : /%$/.test(v) ? v : Number(v);
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
  // SIGTERM (schedulers, docker stop, kill) and SIGHUP (the terminal or ssh session closed) are handled like Ctrl-C:
  // finish the step, save, exit 128 + signal (130, 143, 129; docs/reliability.md)
  type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
  const EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  let stop: StopSignal | undefined;
  const onSignal = (sig: StopSignal) => {
    if (stop) process.exit(EXIT[sig]);
    stop = sig;
    // after a hang-up the terminal is gone: a failed write to it must not end the run before its save
    if (sig === 'SIGHUP') for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
    console.error(
      `\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: finishing this step and saving a checkpoint (send it again to quit without saving)`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    const banner = (o: TrainOptions) =>
      console.error(
        `train: ${o.objectives} on ${o.l1.join(',')} ↔ ${o.l2.join(',')}${o.replay === 'none' ? ' (no replay)' : ' + replay'}, ${o.steps} steps × ${o.batchSize} on ${rt.adapterInfo} → ${o.out}`,
      );
    let logs: StepLog[];
    try {
      logs = await train(rt, o, resume, { progress: true, shouldStop: () => stop !== undefined, onStart: banner });
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
      const evals = logs.filter((e) => e.eval_loss !== undefined);
      if (evals.length) {
        const last = evals[evals.length - 1];
        const best = readBest(o.out);
        console.error(
          `validation: eval_loss ${evals[0].eval_loss!.toFixed(4)} (step ${evals[0].step}) → ` +
            `${last.eval_loss!.toFixed(4)} (step ${last.step}), perplexity ${last.eval_perplexity!.toFixed(1)}` +
            (best ? `; best ${best.eval_loss.toFixed(4)} at step ${best.step} in ${join(o.out, BEST)}` : ''),
        );
      }
    }
    return stop ? EXIT[stop] : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    rt.dispose();
  }
}

/** OUT/best/eval.json (--save-best), if any. */
function readBest(out: string): { step: number; eval_loss: number } | undefined {
  const f = join(out, BEST, 'eval.json');
  try {
    return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}
