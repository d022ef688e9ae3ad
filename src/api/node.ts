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
import { completeOptions, makeStream, train as runTrainer, type TrainOptions } from '../train/trainer.ts';
import { DEFAULT_PAIRS, dataPath } from '../train/data/paths.ts';
import { resolveModelPath } from './model-path.ts';

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

/** The evaluation data of a request, with the CLI's defaults and errors (src/cli/eval.ts). */
export function evaluationData(req: EvaluateRequest): EvalData {
  const data = req.data ?? 'nusax';
  const task = req.task ?? (req.templates ? 'classification' : 'sentiment');
  if (!req.templates && !isTask(task)) throw new Error(`task must be one of ${TASKS.join(', ')}, got "${task}"`);
  if (req.limit !== undefined && !(Number.isInteger(req.limit) && req.limit >= 1))
    throw new Error(`limit must be a positive integer, got ${req.limit}`);
  if (data === 'nusax') {
    if (task !== 'sentiment') throw new Error(`NusaX is a sentiment data set; task ${task} needs data: PATH`);
    return loadNusax({ langs: req.langs, limit: req.limit });
  }
  const labels = req.labels ?? DEFAULT_LABELS[task as TaskName]?.slice();
  if (!labels?.length) throw new Error(`task ${task} needs labels (the label names, in order)`);
  return loadDataPath(data, { task, labels, langs: req.langs, limit: req.limit });
}

class NodeRuntime implements InstructAlignRuntime {
  private modelInfo: { name: string; dtype: string } | null = null;
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

  async loadModel(path: string, opts: LoadModelOptions = {}): Promise<ModelInfo> {
    const dir = resolveModelPath(path);
    const info = await this.rt.loadModel({ path: dir, ...opts });
    this.modelInfo = { name: dir, dtype: opts.dtype ?? 'default' };
    return info;
  }

  async info(): Promise<ModelInfo> {
    return this.rt.info();
  }

  async tokenize(texts: string[]): Promise<number[][]> {
    return this.rt.tokenize(texts);
  }

  async decode(ids: number[]): Promise<string> {
    return this.rt.decode(ids);
  }

  async score(texts: string[], opts: ScoreOptions = {}): Promise<ScoreResult[]> {
    for (const [k, v] of Object.entries(opts))
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`score: ${k} must be ≥ 1, got ${v}`);
    return this.rt.score(texts, opts);
  }

  async generate(prompt: string, opts: GenerateOptions = {}): Promise<GenerateResult> {
    return this.rt.generate(prompt, opts);
  }

  async evaluate(req: EvaluateRequest = {}, opts: CallOptions<EvaluateProgress> = {}): Promise<ResultsJson> {
    if (!this.modelInfo) throw new Error('evaluate: load a model first (loadModel)');
    const data = evaluationData(req);
    const prompts = req.templates
      ? customPrompts(
          req.templates,
          req.templates.map((_, k) => `templates[${k}]`),
        )
      : selectPrompts(data.task as TaskName, req.prompts ?? [1, 2, 3]);
    const batchSize = req.batchSize ?? 16;
    const scorer = scorerFromRuntime(
      this.rt,
      // what was loaded (files' hashes, int8 threshold), not what the folder holds now: fingerprint.ts
      loadedScorerInfo(
        { ...this.rt.info(), name: this.modelInfo.name },
        { adapter: this.adapter, dtype: this.modelInfo.dtype },
      ),
      batchSize,
      req.prefixSharing ?? true,
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
        maxLength: req.maxLength ?? 1024,
        limit: req.limit,
        options: { quote: !!req.quoteOptions },
        signal: opts.signal,
        onProgress: opts.onProgress,
      });
      return res.results;
    } finally {
      if (!req.out) rmSync(out, { recursive: true, force: true });
    }
  }

  async train(req: TrainRequest, opts: CallOptions<TrainProgress> = {}): Promise<TrainResult> {
    const { resume = false, ...rest } = req;
    const o = { ...rest, out: resolve(rest.out) };
    if (o.model) o.model = resolveModelPath(o.model);
    let steps = 0,
      first = 0;
    const started = Date.now();
    const logs = await runTrainer(this.rt.gpu, o, resume, {
      log: this.log,
      defaultPairs: dataPath(DEFAULT_PAIRS),
      shouldStop: () => !!opts.signal?.aborted,
      onStart: (full, step) => {
        steps = full.steps;
        first = step;
      },
      onStep: (s) => {
        const done = s.step - first;
        const etaSeconds = ((Date.now() - started) / 1000 / done) * (steps - s.step);
        opts.onProgress?.({ step: s.step, steps, loss: s.loss, lr: s.lr, etaSeconds, log: s });
      },
    });
    return { logs, checkpoint: join(o.out, 'checkpoint'), stopped: !!opts.signal?.aborted };
  }

  async dispose(): Promise<void> {
    this.rt.dispose();
  }
}

/** Opens a WebGPU device (Dawn through the `webgpu` package) and returns a runtime on it. */
export async function createRuntime(opts: CreateRuntimeOptions = {}): Promise<InstructAlignRuntime> {
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
  return compareRuns(loadRun(dirA), loadRun(dirB), opts);
}
