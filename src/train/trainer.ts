// The InstructAlign trainer: a deterministic stream of crosslingual instructions (+ replay) → token batches →
// forward/backward on the GPU → AdamW, with JSONL logs, atomic checkpoints (HF-loadable model + optimizer, data
// position and config) and exact resume: a resumed run reproduces the uninterrupted loss curve.
import { readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TRAIN_FIELDS, type TrainRequest } from '../api/requests/train.ts';
import { openCheckpoint, saveCheckpoint } from '../model/checkpoint.ts';
import type { CausalLM, Gradients } from '../model/causal-lm.ts';
import { familyOf } from '../model/families.ts';
import type { AdamW } from './optimizer.ts';
import { Scope } from '../gpu/scope.ts';
import type { LossScalerOptions, LossScalerState } from './loss-scale.ts';
import type { Tokenizer } from '../wasm/tokenizer.ts';
import { fileSource, SafetensorsFile, writeSafetensors, type TensorToWrite } from '../model/safetensors.ts';
import { loadTrainingData, readReplay } from './data/node-io.ts';
import { dataSummaryLine, evalTexts, type PreparedData } from './data/prepare.ts';
import { langName } from './data/langs.ts';
import type { ReplayRow } from './data/replay.ts';
import { resolveReplay } from './data/paths.ts';
import type { TrainingStream, TrainingStreamState } from './data/stream.ts';
import { truncationReport } from './data/sequences.ts';
import { LOOP_DEFAULTS, TrainLoop, TrainMeter, trainingStream, type StepLog } from './loop.ts';
import { Progress } from '../util/progress.ts';
import { atomicWriteFile, completeDir, replaceDir } from '../util/atomic.ts';
import { makeDir } from '../util/mkdir.ts';
import {
  checkSameRun,
  configRunId,
  differingFiles,
  newRunId,
  saveFailure,
  type BaseModel,
  type RunIdentity,
} from './run-identity.ts';
import {
  numberedCheckpoints,
  firstNonFinite,
  MAX_CONSECUTIVE_SKIPPED,
  prepareRunFolder,
  snapshotCheckpoint,
  TrainingDivergedError,
  truncateLog,
} from './run-folder.ts';

export interface TrainOptions {
  model: string; // starting checkpoint folder (resume takes the weights from out/checkpoint instead)
  out: string; // run folder: train_config.json, log.jsonl, checkpoint/
  pairs: string | string[]; // parallel data: CSV/TSV, JSONL, FLORES folder or `a.eng,b.tgl`; several: combined
  l1: string[]; // pivot languages (codes)
  l2: string[]; // languages to align (codes)
  langNames?: Record<string, string>; // prompt names overriding the built-in ones (--lang-names)
  columns?: Record<string, string>; // language code → CSV/TSV header or JSONL key (--columns)
  objectives: string; // e.g. "tlm,xss"
  replay?: string; // JSONL {"inputs","targets"} of past instruction data; absent = the bundled set, 'none' = no replay
  replaySize?: number; // replay rows sampled (default: all)
  steps: number; // optimizer steps
  lr: number; // peak learning rate (linear decay to 0 at `steps`)
  warmupSteps: number; // linear warmup steps
  batchSize: number; // sequences per optimizer step (effective batch)
  gradAccum: number; // micro-batches per step (batchSize must divide by it)
  maxLength: number; // tokens per sequence (right truncation, as the official code)
  weightDecay: number; // AdamW decoupled decay
  maxGradNorm: number; // global gradient clipping
  decayAll: boolean; // decay biases and LayerNorm weights too
  seed: number; // data order, objectives, noise
  saveSteps: number; // checkpoint every N steps (and at the end)
  officialTlmLangSwap?: boolean;
  fp16?: boolean; // mixed precision: f16 matrices (f16 arithmetic with shader-f16) for forward/backward, f32 masters
  lossScale?: 'dynamic' | 'none' | number; // loss scaling (default: dynamic with fp16, none otherwise)
  lossScaler?: LossScalerOptions; // GradScaler settings for dynamic scaling (init 2^16, ×2 every 2000 clean steps)
  recompute?: boolean; // activation recomputation: keep block inputs only, recompute each block before its backward
  recipe?: string; // the --recipe the settings came from (recorded in train_config.json; see recipe.ts)
  floresHeldOut?: number; // FLORES-200 folder: dev+devtest rows held out from training (official: 1000); 0 = none
  overwrite?: boolean; // start afresh in an existing run folder (its log and checkpoints are deleted)
  saveTotalLimit?: number; // numbered checkpoints (checkpoint-<step>) kept besides checkpoint/ (default 0: none)
  evalSplit?: number | string; // rows held out for validation: a count (20) or a share ('10%'); never trained on
  evalSteps?: number; // validation loss every K steps and at the end (default with evalSplit: each saveSteps)
  saveBest?: boolean; // keep the weights of the lowest eval loss in out/best (needs evalSplit)
}

/** A fresh run's defaults; frozen (its language lists too): copy it, as completeOptions does, to change a value. */
export const TRAIN_DEFAULTS: Readonly<Omit<TrainOptions, 'model' | 'out' | 'pairs'>> = Object.freeze({
  ...LOOP_DEFAULTS,
  saveSteps: TRAIN_FIELDS.saveSteps.default,
});

// What train() takes is the request layer's TrainRequest (src/api/requests/train.ts): every option may be left out.
// A fresh run fills the gaps with TRAIN_DEFAULTS (and the bundled NusaX-MT pairs); a resumed run with the options
// saved in its checkpoint, and the options given are compared with those: resume means resume (see resumeOptions).

/**
 * Options that may differ when a run is resumed: where it came from and how often it saves change no number of
 * the run (recomputation gives the same gradients). Any other option given that differs from the saved one is
 * refused (ResumeConflictError): the schedule, batch, data and seed are the run's own.
 */
export const RESUME_MAY_CHANGE: readonly (keyof TrainOptions)[] = [
  'out',
  'model',
  'saveSteps',
  'saveTotalLimit',
  'recompute',
  'evalSteps',
  'saveBest',
];

export class ResumeConflictError extends Error {
  override name = 'ResumeConflictError';
  constructor(readonly conflicts: { option: string; saved: unknown; given: unknown }[]) {
    super(
      `--resume continues the saved run with its own options; these differ from it: ${conflicts
        .map((c) => `${flagName(c.option)} ${fmt(c.given)} (the run has ${fmt(c.saved)})`)
        .join(', ')}. Leave them out to resume, or start a new run in another --out. Options that may change on ` +
        `resume: ${RESUME_MAY_CHANGE.map(flagName).join(', ')}`,
    );
  }
}

/** saveSteps → --save-steps (the CLI's name of an option). */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function fmt(v: unknown): string {
  return v === undefined ? '(unset)' : Array.isArray(v) ? v.join(',') : String(v);
}

function sameOption(key: string, a: unknown, b: unknown): boolean {
  if (key === 'pairs' || key === 'replay') {
    const paths = (x: unknown) => (typeof x === 'string' ? [x] : Array.isArray(x) ? x : null);
    const [pa, pb] = [paths(a), paths(b)];
    if (pa && pb) return pa.length === pb.length && pa.every((p, i) => resolve(String(p)) === resolve(String(pb[i])));
  }
  if ((a === undefined || a === false) && (b === undefined || b === false)) return true; // an unset switch is off
  return JSON.stringify(a) === JSON.stringify(b);
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A fresh run's options: the request over TRAIN_DEFAULTS. */
export function completeOptions(req: TrainRequest, defaultPairs?: string): TrainOptions {
  const o = { ...TRAIN_DEFAULTS, ...defined(req) } as TrainOptions;
  if (!o.model) throw new Error('train: no model (the starting checkpoint folder) given');
  if (!o.pairs) {
    if (!defaultPairs) throw new Error('train: no parallel data (pairs) given');
    o.pairs = defaultPairs;
  }
  return o;
}

/**
 * A resumed run's options: the saved ones, with the request's options that may change applied (listed in
 * `changed`); any other option in the request that differs from the saved run throws ResumeConflictError.
 */
export function resumeOptions(saved: TrainOptions, req: TrainRequest): { options: TrainOptions; changed: string[] } {
  const options = { ...saved };
  const changed: string[] = [];
  const conflicts: { option: string; saved: unknown; given: unknown }[] = [];
  for (const [key, given] of Object.entries(defined(req))) {
    const k = key as keyof TrainOptions;
    if (sameOption(key, saved[k], given)) continue;
    if (RESUME_MAY_CHANGE.includes(k)) {
      (options as Record<string, unknown>)[key] = given;
      if (key !== 'out' && key !== 'model') changed.push(`${flagName(key)} ${fmt(saved[k])} → ${fmt(given)}`);
    } else conflicts.push({ option: key, saved: saved[k], given });
  }
  if (conflicts.length) throw new ResumeConflictError(conflicts);
  return { options, changed };
}

export type { StepLog } from './loop.ts';

interface TrainerState {
  version: 1;
  step: number;
  stream: TrainingStreamState;
  adamStep: number;
  options: TrainOptions;
  scaler?: LossScalerState;
  run_id?: string; // the run this checkpoint belongs to (run-identity.ts; absent in checkpoints of older versions)
  base_model?: BaseModel; // what the run started from: --model and its files' content hashes
  /** --save-best: the lowest validation loss so far and its step (its weights are in out/best) */
  best?: { step: number; eval_loss: number };
}

/** --resume --model OTHER where OTHER is not the model the run started from (by content, not by path). */
export class BaseModelMismatchError extends ResumeConflictError {
  constructor(given: string, base: BaseModel | undefined, saved: string, differ: string[]) {
    super([{ option: 'model', saved, given }]);
    this.message = base
      ? `--resume --model ${given}: not the model this run started from (${base.path}): ${differ.join(', ')} ` +
        'differ (content hashes in trainer_state.json base_model). Leave --model out to resume; a moved copy of the ' +
        'same model is accepted'
      : `--resume --model ${given}: this checkpoint was written before base-model hashes were recorded, so another ` +
        `model folder than the run's own (${saved}) cannot be checked: leave --model out to resume`;
  }
}

/** The folder --save-best keeps the lowest-eval-loss weights in (an HF folder, plus eval.json). */
export const BEST = 'best';

/** The first line of log.jsonl (step 0): what the run trains on. */
export interface StartLog {
  event: 'start';
  step: 0;
  sources: string[];
  rows: number;
  skipped_rows: number;
  eval_rows: number;
  pairs: number;
  eval_pairs: number;
  eval_texts: number;
  replay_rows: number;
  steps: number;
  batch_size: number;
  texts: number;
  texts_per_epoch: number;
  epochs: number;
  /** texts per objective (and replay) among the run's texts; counted over the first `counted` texts */
  texts_per_objective: Record<string, number>;
  counted: number;
}

/** The texts a run draws (steps × batch) are counted per objective up to this many (a longer run: its first ones). */
const COUNT_TEXTS = 20000;

export interface TrainHooks {
  log?: (msg: string) => void;
  onStep?: (s: StepLog) => void; // after each step (tests use it to simulate a crash)
  shouldStop?: () => boolean; // checked after each step (Ctrl-C): save and return
  afterBackward?: (grads: Gradients, step: number) => void; // before the optimizer of step `step` (tests force an overflow)
  onStart?: (o: TrainOptions, step: number) => void; // the run's options (saved ones on resume) and its first step - 1
  progress?: boolean;
  defaultPairs?: string; // the parallel data of a fresh run that names none (the CLI: the bundled NusaX-MT pairs)
}

const CKPT = 'checkpoint';

/**
 * What the trainer needs from the runtime that holds the model (src/host/runtime.ts `Runtime`): it loads the run's
 * starting weights (the model folder, or on resume the run's checkpoint) as f32 and trains that loaded model in place.
 */
export interface ModelHost {
  loadModel(opts: { path: string; dtype: 'f32' }): Promise<unknown>;
  readonly loaded: CausalLM;
  readonly tokenizer: Tokenizer;
  /** the loaded model's tokenizer.json text (saved with every checkpoint) */
  readonly tokenizerJSON: string;
  /** the loaded files' content hashes (the run's base_model identity) */
  info(): { files: Record<string, string> };
}

/**
 * Runs (or resumes) training on the model `host` loads; returns the logs of the steps run now. The tuned weights stay
 * loaded in `host` afterwards.
 */
export async function train(
  host: ModelHost,
  req: TrainRequest,
  resume: boolean,
  hooks: TrainHooks = {},
): Promise<StepLog[]> {
  const log = hooks.log ?? ((m: string) => console.error(m));
  const ckDir = resume ? await findCheckpoint(req.out) : null;
  if (resume && !ckDir) throw new Error(noCheckpointMessage(req.out));
  const state: TrainerState | null = ckDir ? readTrainerState(ckDir) : null;
  if (state && ckDir) {
    checkSameRun(req.out, ckDir, state); // a checkpoint copied in from another run
    if (req.model !== undefined) await checkBaseModel(req.model, state);
  }
  let o: TrainOptions;
  if (state) {
    const r = resumeOptions(state.options, req);
    o = r.options;
    for (const c of r.changed) log(`resume: ${c} (allowed: it changes no number of the run)`);
  } else o = completeOptions(req, hooks.defaultPairs);
  if (o.batchSize % o.gradAccum)
    throw new Error(`--batch-size ${o.batchSize} must be a multiple of --grad-accum ${o.gradAccum}`);
  if (!resume) prepareRunFolder(o.out, o.overwrite ?? false);
  makeDir(o.out, '--out');
  hooks.onStart?.(o, state?.step ?? 0);

  await host.loadModel({ path: ckDir ?? o.model, dtype: 'f32' });
  const model = host.loaded,
    tok = host.tokenizer,
    tokenizerJSON = host.tokenizerJSON;
  const cfg = model.config;
  // who this run is (kept in train_config.json and every trainer_state.json); a resumed run keeps its own
  const identity: Partial<RunIdentity> = state
    ? { run_id: state.run_id ?? configRunId(o.out) ?? newRunId(), base_model: state.base_model }
    : { run_id: newRunId(), base_model: { path: o.model, files: { ...host.info().files } } };
  if (identity.base_model && state) identity.base_model = { ...identity.base_model, path: o.model };
  // --fp16: forward/backward read the model's f16 compute copy; AdamW and the checkpoints use the f32 master
  const data = runData(o);
  const mem = new Scope(model.gpu); // the run's gradients, f16 copy and optimizer state, freed at the end
  const loop = new TrainLoop(mem, model, tok, trainingStream(o, data.pairs, data.replay), o);
  const { opt, scaler, stream } = loop;
  log(resolveReplay(o.replay).note);
  // the run's texts from the start (up to COUNT_TEXTS): kinds counted, the first 1000 tokenized once to tell how
  // many lose their target to the cut
  const start = startLog(o, data, trainingStream(o, data.pairs, data.replay));
  const trunc = truncationReport(
    tok,
    start.scan.map((t) => t.text),
    o.maxLength,
  );
  for (const line of start.lines) log(line);
  log(trunc.warn ? `warning: ${trunc.message}` : trunc.message);
  const evalSet = data.evalTexts;
  const evalEvery = evalSet.length ? (o.evalSteps ?? o.saveSteps) : 0;
  let best = state?.best;
  let step = 0;
  if (state && ckDir) {
    step = state.step;
    stream.setState(state.stream);
    const adam = await readOptimizer(ckDir, state.adamStep);
    const bad = firstNonFinite(
      [...adam.m]
        .map(([k, a]) => [`m.${k}`, a] as [string, Float32Array])
        .concat([...adam.v].map(([k, a]) => [`v.${k}`, a])),
    );
    if (bad)
      throw new Error(
        `--resume: ${join(ckDir, 'optimizer.safetensors')}: ${bad} is not finite; the run diverged before this save ` +
          'or the file is corrupt: start again from an earlier checkpoint-<step> or without --resume',
      );
    try {
      opt.setState(adam);
    } catch (e) {
      throw new Error(
        `--resume: ${join(ckDir, 'optimizer.safetensors')} does not match the checkpoint's model: ${(e as Error).message}`,
      );
    }
    if (state.scaler) scaler.setState(state.scaler);
    truncateLog(join(o.out, 'log.jsonl'), step, log);
    log(`resumed from ${ckDir} at step ${step}`);
  } else {
    writeFileSync(join(o.out, 'log.jsonl'), JSON.stringify(start.log) + '\n');
  }
  await atomicWriteFile(
    join(o.out, 'train_config.json'),
    JSON.stringify(
      {
        ...identity,
        ...o,
        model_config: JSON.parse(familyOf(cfg).configJSON(cfg)),
        // what the log said about the data, kept with the run
        // the prompt name of every language of the run (a later eval of the checkpoint reads them too)
        lang_names: data.langNames,
        data_checks: {
          replay: resolveReplay(o.replay).path ?? 'none',
          truncation: { texts: trunc.texts, truncated: trunc.truncated, maxLength: trunc.maxLength, warn: trunc.warn },
          data: { ...start.log, event: undefined, step: undefined },
        },
      },
      null,
      2,
    ) + '\n',
  );

  const logs: StepLog[] = [];
  let skippedInARow = 0;
  const bar = hooks.progress ? new Progress({ total: o.steps, label: 'train ' }) : null;
  const meter = new TrainMeter();
  try {
    while (step < o.steps) {
      const entry = await loop.step(++step, {
        afterBackward: hooks.afterBackward,
        log: (m) => {
          bar?.clearLine();
          log(m);
        },
      });
      meter.add(entry);
      skippedInARow = entry.skipped || !Number.isFinite(entry.loss) ? skippedInARow + 1 : 0;
      // validation every evalEvery steps and at the end, on the fixed held-out texts
      if (evalEvery && (step % evalEvery === 0 || step === o.steps) && Number.isFinite(entry.loss)) {
        const ev = await loop.evalLoss(evalSet);
        entry.eval_loss = ev.loss;
        entry.eval_perplexity = Math.exp(ev.loss);
        meter.evalLoss = ev.loss;
        if (o.saveBest && Number.isFinite(ev.loss) && (!best || ev.loss < best.eval_loss)) {
          best = { step, eval_loss: ev.loss };
          await saveBestWeights(o, model, tokenizerJSON, data.langNames, entry);
        }
      }
      appendFileSync(join(o.out, 'log.jsonl'), JSON.stringify(entry) + '\n');
      logs.push(entry);
      divergenceCheck(entry, scaler.dynamic, skippedInARow, o.out);
      bar?.update(step, o.steps, meter.line(entry.lr));
      hooks.onStep?.(entry);
      const stop = hooks.shouldStop?.() ?? false;
      if (step % o.saveSteps === 0 || step === o.steps || stop) {
        await saveTrainCheckpoint(
          o,
          model,
          tokenizerJSON,
          opt,
          {
            version: 1,
            step,
            stream: stream.getState(),
            adamStep: opt.stepCount,
            options: o,
            scaler: scaler.getState(),
            ...identity,
            ...(best ? { best } : {}),
          },
          data.langNames,
        );
        if (o.saveTotalLimit) snapshotCheckpoint(o.out, join(o.out, CKPT), step, o.saveTotalLimit);
      }
      if (stop) {
        log(`stopped at step ${step}; checkpoint saved in ${join(o.out, CKPT)} (continue with --resume)`);
        break;
      }
    }
  } finally {
    bar?.finish();
    mem.destroy();
  }
  return logs;
}

/**
 * --resume --model OTHER: accepted only if OTHER holds the run's base model (config.json, tokenizer.json and weights
 * with the recorded content hashes: a moved or copied folder); otherwise the records would name another base model.
 */
async function checkBaseModel(given: string, state: TrainerState): Promise<void> {
  const saved = state.options.model;
  if (resolve(given) === resolve(saved) && !state.base_model) return;
  if (!state.base_model) throw new BaseModelMismatchError(given, undefined, saved, []);
  let files: Record<string, string>;
  try {
    const ck = await openCheckpoint(given);
    files = ck.contentHashes;
    await ck.close();
  } catch (e) {
    throw new Error(`--resume --model ${given}: ${(e as Error).message}`);
  }
  const differ = differingFiles(state.base_model.files, files);
  if (differ.length) throw new BaseModelMismatchError(given, state.base_model, saved, differ);
}

/** A run's data: training pairs, validation texts, replay rows, prompt names, and what the log says of them. */
export interface RunData extends PreparedData {
  replay?: ReplayRow[];
  evalTexts: string[];
  /** the prompt name of every language of the run (--lang-names, else the built-in names) */
  langNames: Record<string, string>;
}

export function runData(o: TrainOptions): RunData {
  const d = loadTrainingData(o);
  const replay = resolveReplay(o.replay).path;
  const langs = new Set([...o.l1, ...o.l2, ...d.pairs.flatMap((p) => [p.lang1, p.lang2])]);
  const langNames: Record<string, string> = {};
  for (const c of langs) {
    try {
      langNames[c] = langName(c, o.langNames);
    } catch {
      // a language without pairs and without a name (the stream names every language it uses)
    }
  }
  return {
    ...d,
    replay: replay ? readReplay(replay) : undefined,
    evalTexts: d.evalPairs.length ? evalTexts(d.evalPairs, o) : [],
    langNames,
  };
}

export function makeStream(o: TrainOptions): TrainingStream {
  const d = runData(o);
  return trainingStream(o, d.pairs, d.replay);
}

/** The start of the log: log.jsonl's first line and the console's lines; `scan` = the run's first texts. */
export function startLog(o: TrainOptions, d: RunData, fresh: TrainingStream) {
  const texts = o.steps * o.batchSize;
  const scan = fresh.take(Math.min(texts, COUNT_TEXTS));
  const perKind: Record<string, number> = {};
  for (const t of scan) perKind[t.kind] = (perKind[t.kind] ?? 0) + 1;
  const s = d.summary;
  const epochs = texts / fresh.epochLength;
  const entry: StartLog = {
    event: 'start',
    step: 0,
    sources: s.sources,
    rows: s.rows,
    skipped_rows: s.skippedRows,
    eval_rows: s.evalRows,
    pairs: s.pairs,
    eval_pairs: s.evalPairs,
    eval_texts: d.evalTexts.length,
    replay_rows: fresh.replayTexts.length,
    steps: o.steps,
    batch_size: o.batchSize,
    texts,
    texts_per_epoch: fresh.epochLength,
    epochs: Math.round(epochs * 1000) / 1000,
    texts_per_objective: perKind,
    counted: scan.length,
  };
  const kinds = Object.entries(perKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    dataSummaryLine(s, o, d.evalTexts.length),
    `plan: ${o.steps} steps × ${o.batchSize} = ${texts} texts = ${epochs < 0.1 ? epochs.toPrecision(2) : epochs.toFixed(2)} ` +
      `epochs of ${fresh.epochLength} ` +
      `(${s.pairs} pairs${fresh.replayTexts.length ? ` + ${fresh.replayTexts.length} replay rows, interleaved 1:1` : ', no replay'}); ` +
      `texts per objective: ${kinds}${scan.length < texts ? ` (the first ${scan.length} texts)` : ''}`,
  ];
  return { log: entry, lines, scan: scan.slice(0, 1000) };
}

function readTrainerState(ckDir: string): TrainerState {
  const file = join(ckDir, 'trainer_state.json');
  let s: TrainerState;
  try {
    s = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message} (a damaged checkpoint: start without --resume)`);
  }
  // a state this code did not write would resume wrongly (a step "three" trained nothing and reported success)
  const bad =
    s?.version !== 1
      ? `version ${JSON.stringify(s?.version)} (this instructalign writes 1)`
      : !(Number.isInteger(s.step) && s.step >= 0)
        ? `step ${JSON.stringify(s.step)} (not a step count)`
        : !(Number.isInteger(s.adamStep) && s.adamStep >= 0)
          ? `adamStep ${JSON.stringify(s.adamStep)} (not a step count)`
          : typeof s.options !== 'object' || s.options === null || typeof s.stream !== 'object'
            ? 'no options or data position'
            : undefined;
  if (bad) throw new Error(`${file}: ${bad}; not a checkpoint this trainer can resume (start without --resume)`);
  return s;
}

/** --resume without out/checkpoint: point at the numbered copies if there are any (--overwrite would delete them). */
function noCheckpointMessage(out: string): string {
  const numbered = numberedCheckpoints(out);
  const base = `--resume: no checkpoint in ${out} (expected ${join(out, CKPT)})`;
  if (!numbered.length) return `${base}; start without --resume`;
  const last = join(out, `checkpoint-${numbered[numbered.length - 1]}`);
  return (
    `${base}, but it holds ${numbered.map((n) => `checkpoint-${n}`).join(', ')}: to resume from the latest, copy it ` +
    `(cp -r ${last} ${join(out, CKPT)}) and --resume again (--overwrite would delete them)`
  );
}

/** out/checkpoint, or the previous one if a crash came between the two renames of a save. */
function findCheckpoint(out: string): Promise<string | null> {
  return completeDir(join(out, CKPT), 'trainer_state.json');
}

/**
 * A non-finite loss or gradient norm is divergence, not an fp16 overflow, unless dynamic loss scaling is on; with
 * it, more than MAX_CONSECUTIVE_SKIPPED skipped steps in a row is. The step's log line is already written.
 */
function divergenceCheck(e: StepLog, dynamic: boolean, inARow: number, out: string): void {
  const finite = Number.isFinite(e.loss) && Number.isFinite(e.grad_norm) && !e.skipped;
  if (finite || (dynamic && inARow <= MAX_CONSECUTIVE_SKIPPED)) return;
  const what = `loss ${e.loss}, gradient norm ${e.grad_norm}`;
  throw new TrainingDivergedError(
    (dynamic
      ? `training diverged: ${inARow} steps in a row up to step ${e.step} overflowed (${what}, loss scale ${e.loss_scale})`
      : `training diverged at step ${e.step}: ${what} (not finite)`) +
      `; nothing was saved for this step: the last checkpoint in ${out} holds finite weights. ` +
      'Lower --lr (or raise --warmup-steps) and start again (--overwrite, or a new --out): --resume continues with ' +
      "the run's own --lr and would diverge again",
  );
}

/** Writes the whole checkpoint into a temporary folder, then swaps it in (a crash never leaves a partial one). */
async function saveTrainCheckpoint(
  o: TrainOptions,
  model: CausalLM,
  tokenizerJSON: string,
  opt: AdamW,
  st: TrainerState,
  langNames: Record<string, string>,
): Promise<void> {
  const tmp = join(o.out, `.${CKPT}-tmp`),
    dst = join(o.out, CKPT);
  rmSync(tmp, { recursive: true, force: true });
  const params = await model.readParameters();
  const adam = await opt.getState();
  // never write NaN/Inf: a non-finite checkpoint would replace the last good one and resume into NaN
  const bad = firstNonFinite([
    ...params,
    ...[...adam.m].map(([k, a]): [string, Float32Array] => [`optimizer m.${k}`, a]),
    ...[...adam.v].map(([k, a]): [string, Float32Array] => [`optimizer v.${k}`, a]),
  ]);
  if (bad)
    throw new TrainingDivergedError(
      `training diverged at step ${st.step}: ${bad} is not finite; the checkpoint was not written (the last one in ` +
        `${o.out} is kept). Lower --lr (or raise --warmup-steps) and start again`,
    );
  const tensors: TensorToWrite[] = [];
  for (const [k, m] of [
    ['m', adam.m],
    ['v', adam.v],
  ] as const) {
    for (const [name, a] of m) tensors.push({ name: `${k}.${name}`, dtype: 'F32', shape: [a.length], data: a });
  }
  try {
    // F32 so that resuming continues from the exact weights (HF loads F32 checkpoints as well)
    await saveCheckpoint(tmp, model.config, tokenizerJSON, params, { dtype: 'F32' });
    await writeSafetensors(join(tmp, 'optimizer.safetensors'), tensors, { adam_step: String(adam.step) });
    await atomicWriteFile(join(tmp, 'trainer_state.json'), JSON.stringify(st, null, 1) + '\n');
    await writeLanguages(tmp, o, langNames);
  } catch (e) {
    // a full disk: the partial folder goes (it kept the disk full) and the error says what a save needs
    let floats = 0;
    for (const a of [...params.values(), ...adam.m.values(), ...adam.v.values()]) floats += a.length;
    const needBytes = 4 * floats + new TextEncoder().encode(tokenizerJSON).length + (64 << 10);
    throw saveFailure(e, { tmp, out: o.out, step: st.step, needBytes });
  }
  await replaceDir(tmp, dst);
}

/** LANGUAGES_FILE in a checkpoint: the run's languages and their prompt names, so later commands know them. */
export const LANGUAGES_FILE = 'languages.json';

async function writeLanguages(dir: string, o: TrainOptions, names: Record<string, string>): Promise<void> {
  await atomicWriteFile(
    join(dir, LANGUAGES_FILE),
    JSON.stringify({ l1: o.l1, l2: o.l2, lang_names: names }, null, 1) + '\n',
  );
}

/** --save-best: the current weights as an HF folder in out/best (written aside, then swapped in), with eval.json. */
async function saveBestWeights(
  o: TrainOptions,
  model: CausalLM,
  tokenizerJSON: string,
  langNames: Record<string, string>,
  e: StepLog,
): Promise<void> {
  const tmp = join(o.out, `.${BEST}-tmp`);
  rmSync(tmp, { recursive: true, force: true });
  const params = await model.readParameters();
  const bad = firstNonFinite(params);
  if (bad) return; // never keep non-finite weights as the best (the divergence check reports the run)
  await saveCheckpoint(tmp, model.config, tokenizerJSON, params, { dtype: 'F32' });
  await atomicWriteFile(
    join(tmp, 'eval.json'),
    JSON.stringify({ step: e.step, eval_loss: e.eval_loss, eval_perplexity: e.eval_perplexity }, null, 1) + '\n',
  );
  await writeLanguages(tmp, o, langNames);
  await replaceDir(tmp, join(o.out, BEST));
}

async function readOptimizer(dir: string, step: number) {
  const f = await SafetensorsFile.open(await fileSource(join(dir, 'optimizer.safetensors')));
  const m = new Map<string, Float32Array>(),
    v = new Map<string, Float32Array>();
  for (const name of f.tensors.keys()) (name.startsWith('m.') ? m : v).set(name.slice(2), await f.f32(name));
  await f.close();
  return { step, m, v };
}
