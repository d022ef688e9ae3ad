// The Node runtime of the public API (`import { createRuntime } from 'instructalign'`): the CLI's commands as calls —
// load a model, tokenize, score, generate, evaluate (results.json's object), train (the whole InstructAlign trainer)
// — on one WebGPU device held by the runtime, with progress callbacks and AbortSignals.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Runtime } from '../host/runtime.ts';
import { loadedScorerInfo, scorerFromRuntime } from '../eval/scorer.ts';
import { DEFAULT_GROUPS, loadDataPath, loadNusax, type EvalData } from '../eval/datasets.ts';
import { customPrompts, DEFAULT_LABELS, isTask, selectPrompts, TASKS, type TaskName } from '../eval/tasks.ts';
import { evaluate as runEvaluation } from '../eval/evaluate.ts';
import { compareRuns, type CompareOptions, type CompareRunsJson } from '../eval/compare-runs.ts';
import { loadRun } from '../eval/results-file.ts';
import { parseShard } from '../eval/shard.ts';
import { evaluateTranslationFiles } from '../eval/translation-files.ts';
import type { Generator, TranslationResults } from '../eval/translation.ts';
import { parseColumnsSpec } from '../train/data/parallel.ts';
import { TRANSLATION_TEMPLATES } from '../train/data/templates.ts';
import {
  BEST,
  completeOptions,
  makeStream,
  train as runTrainer,
  TRAIN_DEFAULTS,
  type TrainOptions,
} from '../train/trainer.ts';
import { DEFAULT_PAIRS, DEFAULT_REPLAY, dataPath } from '../train/data/paths.ts';
import { TrainMeter } from '../train/loop.ts';
import { resolveModelPath } from './model-path.ts';
import { generateArgs, NON_EMPTY, scoreArgs, scoreChecked } from './calls.ts';
import { serialQueue } from '../util/serial.ts';
import * as v from 'valibot';
import {
  apiOnly,
  checkArgument,
  COMPARE,
  defineRequest,
  EVALUATE,
  kebab,
  LOAD_MODEL,
  RequestError,
  show,
  TEXTS,
  TRAIN,
  trainProblem,
} from './requests/index.ts';
import { applyRecipe, type RecipeName } from '../train/recipe.ts';
import { langCode, normalizeLangNames, parseLangNames } from '../train/data/langs.ts';

/** Request keys that only translation evaluation reads. */
const TRANSLATION_ONLY = ['l1', 'l2', 'langNames', 'columns', 'floresHeldOut', 'maxNewTokens'] as const;

export { resolveModelPath };
import type {
  CallOptions,
  EvaluateProgress,
  EvaluateRequest,
  GenerateOptions,
  GenerateResult,
  InstructAlignRuntime,
  KernelPolicy,
  LoadModelOptions,
  PolicyOverrides,
  ModelInfo,
  ResultsJson,
  ScoreOptions,
  ScoreResult,
  TrainProgress,
  TrainRequest,
  TrainResult,
} from './types.ts';

export interface CreateRuntimeOptions {
  /** where the runtime's notes go (adapter choice, checkpoint warnings, training log); default: stderr */
  log?: (msg: string) => void;
  /** kernel choices over the adapter's defaults (src/gpu/policy.ts), for this runtime only */
  policy?: PolicyOverrides;
}

const FUNCTION = <T>() =>
  v.custom<T>(
    (f) => typeof f === 'function',
    (i) => `must be a function, got ${show(i.input)}`,
  );
const SIGNAL = v.custom<AbortSignal>(
  (s) => typeof s === 'object' && s !== null && typeof (s as AbortSignal).aborted === 'boolean',
  (i) => `must be an AbortSignal, got ${show(i.input)}`,
);
/** The second argument of evaluate and train: a progress callback and an AbortSignal. */
const callOptions = (name: string) =>
  defineRequest(name, {
    onProgress: apiOnly(FUNCTION<(p: never) => void>(), 'called with each progress report'),
    signal: apiOnly(SIGNAL, 'stops the call after its current batch or step'),
  });
const CREATE = defineRequest('createRuntime', {
  log: apiOnly(FUNCTION<(msg: string) => void>(), "where the runtime's notes go"),
  policy: apiOnly(
    v.custom<PolicyOverrides>(
      (p) => typeof p === 'object' && p !== null,
      (i) => `must be an object of kernel choices, got ${show(i.input)}`,
    ),
    "kernel choices over the adapter's defaults",
  ),
});
/** The evaluation data of a request, with the CLI's defaults and errors (src/cli/eval.ts). */
export function evaluationData(request: EvaluateRequest): EvalData {
  const req = EVALUATE.parse(request);
  const data = req.data;
  const task = req.task ?? (req.templates ? 'classification' : 'sentiment');
  if (!req.templates && !isTask(task))
    throw new RequestError('evaluate', 'task', `must be one of ${TASKS.join(', ')}, got "${task}"`, '--task');
  if (data === 'nusax') {
    if (task !== 'sentiment')
      throw new RequestError('evaluate', 'task', `${task} needs data: PATH (NusaX is a sentiment data set)`, '--task');
    return loadNusax({ langs: req.langs, limit: req.limit });
  }
  const labels = req.labels ?? DEFAULT_LABELS[task as TaskName]?.slice();
  if (!labels?.length)
    throw new RequestError('evaluate', 'labels', `are needed for task ${task} (the label names, in order)`, '--labels');
  return loadDataPath(data, { task, labels, langs: req.langs, limit: req.limit });
}

class NodeRuntime implements InstructAlignRuntime {
  private modelInfo: { name: string; dtype: string } | null = null;
  private disposed: Promise<void> | null = null;
  /** the GPU calls, one at a time in call order (audit A49: a score during another model's load read its weights) */
  private readonly queue = serialQueue();
  constructor(
    private rt: Runtime,
    private log: (m: string) => void,
  ) {}

  get adapter(): string {
    return this.rt.adapterInfo;
  }

  get policy(): KernelPolicy {
    return this.rt.policy;
  }

  /** Throws once dispose() was called: every call says so (its GPU device is gone). */
  private live(call: string): void {
    if (this.disposed)
      throw new Error(`${call}: this runtime was disposed (dispose() was called): create another with createRuntime()`);
  }

  /**
   * Runs a call's GPU part once the calls made before it have ended (src/util/serial.ts): a score made while another
   * model loads scores that model, after its load, instead of reading weights being replaced. Checks that need no
   * model run before, so a bad argument is refused at once even behind a long call.
   */
  private serial<R>(call: string, fn: () => Promise<R>): Promise<R> {
    this.live(call);
    return this.queue(fn);
  }

  async loadModel(path: string, options: LoadModelOptions = {}): Promise<ModelInfo> {
    this.live('loadModel');
    checkArgument('loadModel', 'path', NON_EMPTY('a model folder path or a bundled model name'), path);
    // only what was given: an absent dtype is recorded as 'default', as the CLI and the worker record it
    const opts = LOAD_MODEL.given(options);
    const dir = resolveModelPath(path);
    return this.serial('loadModel', async () => {
      const info = await this.rt.loadModel({ path: dir, ...opts });
      this.modelInfo = { name: dir, dtype: opts.dtype ?? 'default' };
      return info;
    });
  }

  async info(): Promise<ModelInfo> {
    return this.serial('info', async () => this.rt.info());
  }

  async tokenize(texts: string[]): Promise<number[][]> {
    this.live('tokenize');
    const list = checkArgument('tokenize', 'texts', TEXTS, texts);
    return this.serial('tokenize', async () => this.rt.tokenize(list));
  }

  async decode(ids: number[]): Promise<string> {
    return this.serial('decode', async () => this.rt.decode(ids));
  }

  async score(texts: string[], options: ScoreOptions = {}): Promise<ScoreResult[]> {
    this.live('score');
    const args = scoreArgs(texts, options);
    return this.serial('score', () => scoreChecked(this.rt, args));
  }

  async generate(prompt: string | number[], options: GenerateOptions = {}): Promise<GenerateResult> {
    this.live('generate');
    const { prompt: p, options: o } = generateArgs(prompt, options);
    return this.serial('generate', () => this.rt.generate(p, o));
  }

  evaluate(
    request: EvaluateRequest & { task: 'translation' },
    options?: CallOptions<EvaluateProgress>,
  ): Promise<TranslationResults>;
  evaluate(request?: EvaluateRequest, options?: CallOptions<EvaluateProgress>): Promise<ResultsJson>;
  async evaluate(
    request: EvaluateRequest = {},
    options: CallOptions<EvaluateProgress> = {},
  ): Promise<ResultsJson | TranslationResults> {
    this.live('evaluate');
    const req = EVALUATE.parse(request);
    const opts = callOptions('evaluate').parse(options) as CallOptions<EvaluateProgress>;
    return this.serial<ResultsJson | TranslationResults>('evaluate', () => {
      if (!this.modelInfo) throw new Error('evaluate: load a model first (loadModel)');
      return req.task === 'translation'
        ? this.evaluateTranslation(request, req, opts)
        : this.evaluateClassification(request, req, opts, this.modelInfo);
    });
  }

  /** evaluate({ data, task, labels, … }): as `instructalign eval`. */
  private async evaluateClassification(
    request: EvaluateRequest,
    req: ReturnType<typeof EVALUATE.parse>,
    opts: CallOptions<EvaluateProgress>,
    model: { name: string; dtype: string },
  ): Promise<ResultsJson> {
    const data = evaluationData(req);
    const prompts = req.templates
      ? customPrompts(
          req.templates,
          req.templates.map((_, k) => `templates[${k}]`),
        )
      : selectPrompts(data.task as TaskName, req.prompts);
    for (const k of TRANSLATION_ONLY)
      if (request[k] !== undefined) throw new RequestError('evaluate', k, "is for task: 'translation'");
    const shard = req.shard === undefined ? undefined : parseShard(req.shard, 'evaluate: shard');
    if (shard && !req.out)
      throw new RequestError('evaluate', 'shard', 'needs out: the shard folder that `instructalign merge` combines');
    const batchSize = req.batchSize;
    const scorer = scorerFromRuntime(
      this.rt,
      // what was loaded (files' hashes, int8 threshold), not what the folder holds now: fingerprint.ts
      loadedScorerInfo({ ...this.rt.info(), name: model.name }, { adapter: this.adapter, dtype: model.dtype }),
      batchSize,
      req.prefixSharing,
    );
    const out = req.out ?? mkdtempSync(join(tmpdir(), 'instructalign-eval-'));
    try {
      const res = await runEvaluation({
        scorer,
        data,
        prompts,
        groups: req.groups ?? DEFAULT_GROUPS,
        outDir: out,
        batchSize,
        maxLength: req.maxLength,
        limit: req.limit,
        options: { quote: !!req.quoteOptions },
        overwrite: !!req.overwrite,
        scoring: req.scoring,
        shard,
        signal: opts.signal,
        onProgress: opts.onProgress,
      });
      return res.results;
    } finally {
      if (!req.out) rmSync(out, { recursive: true, force: true });
    }
  }

  /** evaluate({ task: 'translation', data: PAIRS, l1, l2, … }): as `instructalign eval --task translation`. */
  private async evaluateTranslation(
    request: EvaluateRequest,
    req: ReturnType<typeof EVALUATE.parse>,
    opts: CallOptions<EvaluateProgress>,
  ): Promise<TranslationResults> {
    const need = (k: 'data' | 'l1' | 'l2', eg: string) => {
      if (request[k] === undefined || (k === 'data' && req.data === 'nusax'))
        throw new RequestError('evaluate', k, `is needed for task: 'translation' (e.g. ${eg})`);
    };
    need('data', "data: 'pairs.tsv'");
    need('l1', "l1: ['eng']");
    need('l2', "l2: ['tgl']");
    for (const k of ['templates', 'labels', 'scoring', 'shard', 'groups', 'quoteOptions'] as const)
      if (request[k] !== undefined)
        throw new RequestError('evaluate', k, "is for classification, not task: 'translation'");
    const names = parseLangNames(req.langNames);
    const codes = (k: 'l1' | 'l2') => req[k]!.map((c) => langCode(c, names, k));
    const prompts = request.prompts === undefined ? [1] : req.prompts;
    const bad = prompts.find((p) => p > TRANSLATION_TEMPLATES.length);
    if (bad !== undefined)
      throw new RequestError(
        'evaluate',
        'prompts',
        `: translation prompts are 1-${TRANSLATION_TEMPLATES.length}, got ${bad}`,
      );
    const m = this.rt.info();
    const info = loadedScorerInfo(
      { ...m, name: this.modelInfo!.name },
      { adapter: this.adapter, dtype: this.modelInfo!.dtype },
    );
    const rt = this.rt;
    const generator: Generator = {
      async generate(texts, maxNewTokens) {
        const out: string[] = [];
        for (const t of texts) out.push((await rt.generate(t, { maxNewTokens })).text);
        return out;
      },
      describe: () => info,
    };
    const out = req.out ?? mkdtempSync(join(tmpdir(), 'instructalign-eval-'));
    const started = Date.now();
    try {
      const r = await evaluateTranslationFiles({
        generator,
        pairs: req.data,
        l1: codes('l1'),
        l2: codes('l2'),
        prompts,
        outDir: out,
        limit: req.limit,
        maxNewTokens: req.maxNewTokens,
        langNames: names,
        columns: req.columns ? parseColumnsSpec(req.columns, names) : undefined,
        floresHeldOut: req.floresHeldOut,
        signal: opts.signal,
        onProgress: (done, total) =>
          opts.onProgress?.({
            done,
            total,
            resumed: 0,
            etaSeconds: done ? ((Date.now() - started) / 1000 / done) * (total - done) : Number.NaN,
          }),
      });
      return r.results;
    } finally {
      if (!req.out) rmSync(out, { recursive: true, force: true });
    }
  }

  async train(request: TrainRequest, options: CallOptions<TrainProgress> = {}): Promise<TrainResult> {
    this.live('train');
    // the options given, checked by the same table as the CLI's flags (a resumed run compares them with its own)
    const { resume = false, ...rest } = TRAIN.given(request);
    const opts = callOptions('train').parse(options) as CallOptions<TrainProgress>;
    // language keys as the CLI reads them: ISO 639-1/BCP-47 tags become ISO 639-3 codes (yo → yor)
    if (rest.langNames) rest.langNames = normalizeLangNames(rest.langNames);
    const names = rest.langNames;
    if (rest.columns)
      rest.columns = Object.fromEntries(
        Object.entries(rest.columns).map(([c, h]) => [langCode(c, names, 'columns'), h]),
      );
    for (const k of ['l1', 'l2'] as const) if (rest[k]) rest[k] = rest[k].map((c) => langCode(c, names, k));
    let o = { ...rest, out: resolve(rest.out) };
    if (o.model) o.model = resolveModelPath(o.model);
    if (!resume) {
      // a recipe sets what the request leaves out, as `instructalign train --recipe` (src/train/recipe.ts)
      o = applyRecipe(o, (o.recipe ?? 'default') as RecipeName, new Set(Object.keys(rest).map(kebab))).options;
      if (o.replay === 'default') o.replay = dataPath(DEFAULT_REPLAY);
      const p = trainProblem({ ...TRAIN_DEFAULTS, ...o });
      if (p) throw new RequestError('train', p.field, p.problem);
    }
    return this.serial('train', async () => {
      let steps = 0,
        first = 0,
        saveBest = false;
      const started = Date.now();
      const meter = new TrainMeter();
      const before = this.loadedModel();
      let logs: Awaited<ReturnType<typeof runTrainer>>;
      try {
        logs = await runTrainer(this.rt, o, resume, {
          log: this.log,
          defaultPairs: dataPath(DEFAULT_PAIRS),
          shouldStop: () => !!opts.signal?.aborted,
          onStart: (full, step) => {
            steps = full.steps;
            first = step;
            saveBest = !!full.saveBest;
          },
          onStep: (s) => {
            const done = s.step - first;
            const etaSeconds = ((Date.now() - started) / 1000 / done) * (steps - s.step);
            meter.add(s);
            if (s.eval_loss !== undefined) meter.evalLoss = s.eval_loss;
            opts.onProgress?.({
              step: s.step,
              steps,
              loss: s.loss,
              smoothedLoss: meter.loss,
              lr: s.lr,
              tokensPerSecond: meter.tokensPerSecond,
              ...(meter.evalLoss !== undefined ? { evalLoss: meter.evalLoss } : {}),
              etaSeconds,
              log: s,
            });
          },
        });
      } finally {
        this.afterTraining(before, o.out);
      }
      return {
        logs,
        checkpoint: join(o.out, 'checkpoint'),
        ...(saveBest ? { best: join(o.out, BEST) } : {}),
        stopped: !!opts.signal?.aborted,
      };
    });
  }

  /** the model on the GPU, or null */
  private loadedModel(): unknown {
    try {
      return this.rt.loaded;
    } catch {
      return null;
    }
  }

  /**
   * After train(): the trainer loaded its starting checkpoint into this runtime and trained it in place, so the
   * weights now loaded are the run's, not the files loaded last. They are recorded as changed (info().files.changed),
   * as the browser worker does after align: an evaluation then records what it scored and never passes for (or
   * reuses the predictions of) the untrained files (fingerprint.ts).
   */
  private afterTraining(before: unknown, out: string): void {
    const now = this.loadedModel();
    if (now === before) return; // the run failed before loading its model: nothing changed
    if (!now) {
      this.modelInfo = null;
      return;
    }
    this.rt.weightsChanged(`trained in place by train() (run folder ${out})`);
    this.modelInfo = { name: join(out, 'checkpoint'), dtype: 'f32' };
  }

  /** Frees the GPU once the calls already made have ended (stop a long one with its signal); later calls are refused. */
  async dispose(): Promise<void> {
    this.disposed ??= this.queue(async () => {
      this.modelInfo = null;
      this.rt.dispose();
    });
    return this.disposed;
  }
}

/** Opens a WebGPU device (Dawn through the `webgpu` package) and returns a runtime on it. */
export async function createRuntime(options: CreateRuntimeOptions = {}): Promise<InstructAlignRuntime> {
  const opts: CreateRuntimeOptions = CREATE.parse(options);
  const log = opts.log ?? ((m: string) => console.error(`[instructalign] ${m}`));
  return new NodeRuntime(await Runtime.create({ log, policy: opts.policy }), log);
}

/** The training texts a run would draw first (`instructalign data --preview N`): the InstructAlign data builder. */
export function trainingTexts(o: Partial<TrainOptions>, n: number): { kind: string; text: string }[] {
  const full = completeOptions({ model: '-', out: '-', ...o }, dataPath(DEFAULT_PAIRS));
  const stream = makeStream(full);
  return Array.from({ length: n }, () => {
    const { kind, text } = stream.next();
    return { kind, text };
  });
}

/** Δ (B − A) per language and group of two evaluation folders over the examples both scored, with paired bootstrap
 *  intervals (`instructalign compare A/ B/`); runs scored differently are refused unless `allowMismatch`. */
export function compare(dirA: string, dirB: string, opts: CompareOptions = {}): CompareRunsJson {
  checkArgument('compare', 'dirA', NON_EMPTY('an evaluation folder'), dirA);
  checkArgument('compare', 'dirB', NON_EMPTY('an evaluation folder'), dirB);
  return compareRuns(loadRun(dirA), loadRun(dirB), COMPARE.parse(opts));
}
