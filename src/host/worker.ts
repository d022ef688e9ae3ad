// The Web Worker entry: the API table exposed through Comlink — the runtime API (host/runtime.ts) plus what the page
// needs on top: model loading (model-source.ts), evaluation with progress and cancel, and training steps. Stall
// diagnostics live in worker-diag.ts. One GPU device per worker, opened on first use.
import * as Comlink from 'comlink';
import { Runtime, type LoadOptions, type ModelInfo } from './runtime.ts';
import { generateArgs, scoreArgs, scoreChecked } from '../api/calls.ts';
import type { GenerateOptions, ScoreOptions } from '../api/types.ts';
import { Tokenizer } from '../wasm/tokenizer.ts';
import { kernelCheck } from './kernel-check.ts';
import { selftest, trainSelftest, type Check } from './selftest.ts';
import { evaluateRequest, type EvalProgress, type EvalRequest } from './eval-worker.ts';
import { loadedScorerInfo } from '../eval/scorer.ts';
import { alignModel, prepareAlign, type AlignProgress, type AlignRequest } from './align-worker.ts';
import { checkpointStream, zipStream, type ExportOptions } from './export-stream.ts';
import { toBlob, toWritable } from './stream-sinks.ts';
import type { StepLog } from '../train/loop.ts';
import { Scope } from '../gpu/scope.ts';
import type { CausalLM, Trainable } from '../model/causal-lm.ts';
import { trainStep } from '../train/step.ts';
import { AdamW, type AdamWOptions } from '../train/optimizer.ts';
import type { ResultsJson } from '../eval/results.ts';
import { diag, traced } from './worker-diag.ts';
import { serialQueue } from '../util/serial.ts';
import { saveAlignment, type SavedAlignment } from './opfs-store.ts';
import {
  checkFits,
  filesOf,
  planModel,
  type DownloadProgress,
  type ModelPlan,
  type ModelSource,
} from './model-source.ts';

export type { ModelSource } from './model-source.ts';

const log = (m: string) => console.warn(`[instructalign worker] ${m}`);

// GPU work runs one call at a time: a page may ask for a new model while a cancelled evaluation is still finishing
// its batch, and unloading weights under it would break that batch (seen as a hung load). cancel() is not queued.
const queue = serialQueue();
function serial<A extends unknown[], R>(fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  return (...a: A) => queue(() => fn(...a));
}
/** one queued GPU call (traced), for the methods that check their arguments before they queue */
const queued = <R>(name: string, fn: () => Promise<R>): Promise<R> => queue(traced(name, fn));
let runtime: Promise<Runtime> | null = null;

/**
 * A page callback (a Comlink proxy) called in order, and a way to wait until the page has run every call made.
 * A proxy's calls travel on their own MessagePort, and the result of the API call on the worker's: without the wait,
 * the result can reach the page before the last progress call, which then lands on top of it (seen as the page's
 * model status stuck at "loading …: 29/29 tensors" after the load had finished, a "stall" of the browser tests).
 */
function delivering<A extends unknown[]>(
  fn: ((...a: A) => unknown) | undefined,
): { call?: (...a: A) => void; delivered(): Promise<void> } {
  let last: Promise<unknown> = Promise.resolve();
  return {
    call:
      fn &&
      ((...a: A) => {
        last = last.then(() => fn(...a));
      }),
    // a failing page callback is the page's problem (as an uncaught error would be), not the call's
    delivered: () =>
      last.then(
        () => undefined,
        (e) => log(`a progress callback failed: ${(e as Error)?.message ?? e}`),
      ),
  };
}

function rt(): Promise<Runtime> {
  runtime ??= Runtime.create({ log }).catch((e) => {
    runtime = null;
    throw e;
  });
  return runtime;
}

let evalAbort: AbortController | null = null;
/** evaluations and alignments asked for and not yet ended: while any, the model and its weights must not change */
let runs = 0;
/** a call that changes the model, refused (at once, not queued) while a run is asked for or running */
function refusing<A extends unknown[], R>(what: string, fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  return async (...a: A) => {
    if (runs > 0)
      throw new Error(`${what} is refused while an evaluation or alignment runs: cancel it, or wait until it ends`);
    return fn(...a);
  };
}
/** counts a run from the moment it is asked for (before it waits in the queue) until it ends */
function counted<A extends unknown[], R>(fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  return async (...a: A) => {
    runs++;
    try {
      return await fn(...a);
    } finally {
      runs--;
    }
  };
}
let loadedDtype = 'default';
/** the loaded model's tokenizer.json text and folder name: a tuned checkpoint is written with them */
let loadedTokenizer: { json: string; name: string } | null = null;

export interface TrainStepsRequest {
  /** one optimizer step per batch: ids/mask/labels are B×T row-major (labels −100 = ignored, HF's shift is applied) */
  batches: {
    ids: Int32Array | number[];
    mask: Int32Array | number[];
    labels: Int32Array | number[];
    B: number;
    T: number;
  }[];
  /** the learning rate of each step (an array), or the peak of the schedule set by totalSteps / warmupSteps */
  lr: number | number[];
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  maxGradNorm?: number;
  decayAll?: boolean;
  totalSteps?: number;
  warmupSteps?: number;
  /** start a fresh optimizer (zero moments, step 0); otherwise the worker's optimizer continues */
  reset?: boolean;
}

export interface TrainStep {
  step: number;
  loss: number;
  nTokens: number;
  gradNorm: number;
  lr: number;
  skipped: boolean;
}

/** trainSteps' state between calls: the loaded model set up for training and its optimizer, in one scope */
let trainer: { mem: Scope; model: Trainable; opt: AdamW; lm: CausalLM } | null = null;
function dropTrainer(): void {
  trainer?.mem.destroy();
  trainer = null;
}

const api = {
  /** answers once the worker's module has loaded (startRuntime waits for it) */
  ping(): string {
    return 'pong';
  },

  /** what the worker is doing and waiting for (not queued: answers while a call is stalled) */
  diag(): string {
    return diag();
  },

  /** opens the GPU; returns the adapter (vendor, architecture, text, limits, features) */
  async init() {
    return (await rt()).adapter;
  },

  /**
   * The kernel policy this worker's device runs with and every shader variant compiled on it so far (shader and
   * defines): which WGSL a browser's compiler was given, e.g. none with subgroups on Firefox's wgpu. Not queued.
   */
  async kernels() {
    const r = await rt();
    return { policy: r.policy, pipelines: r.gpu.pipelines.built() };
  },

  /** token ids of each text under the given tokenizer.json (independent of any loaded model) */
  async tokenize(tokenizerJSON: string, texts: string[]): Promise<number[][]> {
    const tok = await Tokenizer.fromJSON(tokenizerJSON);
    try {
      return texts.map((t) => tok.encode(t));
    } finally {
      tok.free();
    }
  },

  /** elementwise add and a small matmul on this worker's GPU (see kernel-check.ts for the layout) */
  async kernelCheck(a: Float32Array, b: Float32Array): Promise<Float32Array> {
    const out = await kernelCheck((await rt()).gpu, a, b);
    return Comlink.transfer(out, [out.buffer]);
  },

  /** loads a BLOOM checkpoint (see ModelSource); onProgress(done, total) as tensors reach the GPU */
  async loadModel(
    src: ModelSource,
    opts: Omit<LoadOptions, 'files' | 'path' | 'onProgress'> = {},
    onProgress?: (done: number, total: number) => void,
    onDownload?: (p: DownloadProgress) => void,
  ): Promise<ModelInfo> {
    const r = await rt();
    const download = delivering(onDownload);
    let files: Map<string, Blob>;
    try {
      files = await filesOf(src, { onDownload: download.call });
    } finally {
      await download.delivered();
    }
    await checkFits(r, files, opts.dtype);
    dropTrainer();
    loadedDtype = opts.dtype ?? 'default'; // as the CLI records it in results.json
    const progress = delivering(onProgress);
    loadedTokenizer = null;
    try {
      const info = await r.loadModel({ ...opts, files, onProgress: progress.call });
      const tok = [...files].find(([k]) => k.split('/').pop() === 'tokenizer.json');
      if (tok) loadedTokenizer = { json: await tok[1].text(), name: info.name.split('/').pop() || 'model' };
      return info;
    } finally {
      await progress.delivered(); // before the result or error: no progress may land after it
    }
  },

  /**
   * `instructalign selftest` in the worker: a fixture folder (model files + reference.json + reference.safetensors)
   * checked on this browser's adapter — forward, generation, gradients and two AdamW steps. Loads the fixture model.
   */
  async selftest(src: ModelSource): Promise<Check[]> {
    const r = await rt();
    const files = await filesOf(src);
    dropTrainer();
    await r.loadModel({ files, dtype: 'f32' });
    return [...(await selftest(r, files)), ...(await trainSelftest(r, files))];
  },

  /**
   * Per-token log-probabilities of each text. The arguments are checked as the Node API's (src/api/calls.ts), at
   * once: a bad one is answered without waiting for the calls queued before it.
   */
  async score(texts: string[], opts?: ScoreOptions) {
    const args = scoreArgs(texts, opts);
    return queued('score', async () => scoreChecked(await rt(), args));
  },
  /** KV-cached generation; the arguments are checked as the Node API's (src/api/calls.ts), at once */
  async generate(prompt: string | number[], opts?: GenerateOptions) {
    const { prompt: p, options } = generateArgs(prompt, opts);
    return queued('generate', async () => (await rt()).generate(p, options));
  },
  async info() {
    return (await rt()).info();
  },

  /**
   * Zero-shot evaluation of the loaded model (see EvalRequest); returns the results.json object `instructalign eval`
   * writes. onProgress gets {done, total, etaSeconds, predictions (this batch's records)}; cancel() stops it.
   */
  async evaluate(req: EvalRequest, onProgress?: (p: EvalProgress) => void): Promise<ResultsJson> {
    const r = await rt();
    const m = r.info();
    evalAbort?.abort(new Error('superseded by a new evaluation'));
    const ctrl = (evalAbort = new AbortController());
    const progress = delivering(onProgress);
    try {
      const info = loadedScorerInfo(m, { adapter: r.adapterInfo, dtype: loadedDtype });
      return await evaluateRequest(r, info, req, {
        signal: ctrl.signal,
        onProgress: progress.call,
      });
    } finally {
      if (evalAbort === ctrl) evalAbort = null;
      await progress.delivered(); // before the result, or the error ("cancelled"): no progress may land after it
    }
  },

  /**
   * InstructAlign training of the loaded f32 model in this worker, with the steps of `instructalign train` (see
   * AlignRequest); onStep gets each step's log line, the step count and an ETA. cancel() stops it between steps
   * (the weights keep the steps made). The tuned weights stay loaded: evaluate() then scores the tuned model.
   */
  async align(req: AlignRequest, onStep?: (p: AlignProgress) => void): Promise<StepLog[]> {
    const r = await rt();
    dropTrainer(); // trainSteps' optimizer state belongs to other steps
    evalAbort?.abort(new Error('superseded by a new run'));
    const ctrl = (evalAbort = new AbortController());
    const progress = delivering(onStep);
    r.weightsChanged('aligned in this worker after loading');
    try {
      return await alignModel(r, req, { signal: ctrl.signal, onStep: progress.call });
    } finally {
      if (evalAbort === ctrl) evalAbort = null;
      await progress.delivered();
    }
  },

  /**
   * What a model needs on this GPU before it is loaded: parameters and weight bytes (f32 and f16) from its
   * config.json alone (a URL: only config.json is fetched), and a lower bound for an alignment. Not queued.
   */
  async planModel(src: ModelSource): Promise<ModelPlan> {
    return planModel(src, (await rt()).adapter.limits);
  },

  /**
   * Reads and checks an alignment's data (pairs, languages, objectives, replay) without the GPU and without
   * queueing behind a run: a page calls it before its base-model evaluation, so a broken file is reported at once.
   */
  checkAlign(req: AlignRequest): { pairs: number; replay: number } {
    const { pairs, replay } = prepareAlign(req);
    return { pairs: pairs.length, replay: replay?.length ?? 0 };
  },

  /**
   * The loaded (tuned) model as a zip of a HuggingFace folder `<name>/` (config.json, tokenizer.json,
   * model.safetensors), streamed from the GPU tensor by tensor into a Blob made of parts (the browser keeps a large
   * Blob on disk); `handle` (a file from showSaveFilePicker) gets the same bytes written straight into it instead, and
   * the Blob is then empty. No step holds the whole model in one buffer: a model over 2 GB leaves the browser too.
   */
  async tunedCheckpoint(name?: string, opts: ExportOptions & { handle?: FileSystemFileHandle } = {}): Promise<Blob> {
    const r = await rt();
    if (!loadedTokenizer) throw new Error('no model loaded: call loadModel first');
    const zip = zipStream(name ?? `${loadedTokenizer.name}-aligned`, checkpointStream(r, loadedTokenizer.json, opts));
    if (opts.handle) {
      await toWritable(zip, opts.handle);
      return new Blob([], { type: 'application/zip' });
    }
    return toBlob(zip, 'application/zip');
  },

  /**
   * Saves the loaded (tuned) model in this browser's OPFS (the files tunedCheckpoint() zips, then saved.json with
   * `meta`), streamed through a sync access handle into a new save folder; the earlier save is removed only once
   * this one is complete, so that a reload can load it again (see opfs-store.ts).
   */
  async saveAlignment(
    meta: Omit<SavedAlignment, 'version' | 'files' | 'name' | 'savedAt'>,
    opts: ExportOptions = {},
  ): Promise<SavedAlignment> {
    const r = await rt();
    if (!loadedTokenizer) throw new Error('no model loaded: call loadModel first');
    const files = checkpointStream(r, loadedTokenizer.json, opts);
    const name = `${loadedTokenizer.name.replace(/-aligned$/, '')}-aligned`;
    return saveAlignment(files, { ...meta, name, savedAt: new Date().toISOString() });
  },

  /** stops a running evaluation after its current batch, or an alignment after its current step (the call then
   *  rejects with "cancelled") */
  cancel(): boolean {
    if (!evalAbort) return false;
    evalAbort.abort(new Error('cancelled'));
    return true;
  },

  /** AdamW steps on the loaded (f32) model, one per batch; the weights stay updated for score/generate/evaluate. */
  async trainSteps(req: TrainStepsRequest): Promise<TrainStep[]> {
    const r = await rt();
    const m = r.loaded;
    r.weightsChanged('trained in this worker after loading');
    if (req.reset || !trainer || trainer.lm !== m) {
      dropTrainer();
      const o: AdamWOptions = {
        lr: Array.isArray(req.lr) ? req.lr[0] : req.lr,
        betas: req.betas ?? [0.9, 0.999],
        eps: req.eps ?? 1e-8,
        weightDecay: req.weightDecay ?? 0,
        maxGradNorm: req.maxGradNorm ?? 1,
        decayAll: req.decayAll,
        totalSteps: req.totalSteps,
        warmupSteps: req.warmupSteps,
      };
      const mem = new Scope(r.gpu);
      const model = mem.own(m.training());
      trainer = { mem, model, opt: new AdamW(mem, model.params, o), lm: m };
    }
    const { opt, model } = trainer;
    const out: TrainStep[] = [];
    for (const [k, b] of req.batches.entries()) {
      const step = opt.stepCount;
      const lr = Array.isArray(req.lr) ? req.lr[k] : opt.lrAt(step);
      if (!(lr >= 0))
        throw new Error(`trainSteps: no learning rate for batch ${k} (lr has ${(req.lr as number[]).length} entries)`);
      model.grads.zero();
      const batch = { ids: Int32Array.from(b.ids), mask: Int32Array.from(b.mask), B: b.B, T: b.T };
      const parts = { model, opt };
      const { loss, nTokens, gradNorm, skipped } = await trainStep(
        parts,
        [{ batch, labels: Int32Array.from(b.labels) }],
        lr,
      );
      out.push({ step, loss, nTokens, gradNorm, lr, skipped });
    }
    return out;
  },

  async dispose(): Promise<void> {
    const r = runtime;
    runtime = null;
    dropTrainer();
    if (r) (await r).dispose();
  },
};

export type WorkerApi = typeof api;

for (const k of [
  'kernelCheck',
  'loadModel',
  'selftest',
  'evaluate',
  'trainSteps',
  'align',
  'tunedCheckpoint',
  'saveAlignment',
  'dispose',
] as const) {
  (api as Record<string, unknown>)[k] = serial(traced(k, (api[k] as (...a: unknown[]) => Promise<unknown>).bind(api)));
}
for (const k of ['evaluate', 'align'] as const) (api as Record<string, unknown>)[k] = counted(api[k] as any);
for (const [k, what] of [
  ['loadModel', 'loading a model'],
  ['selftest', 'the self-test (it loads its own model)'],
  ['trainSteps', 'training steps'],
] as const)
  (api as Record<string, unknown>)[k] = refusing(what, api[k] as any);
api.init = traced('init', api.init.bind(api));
Comlink.expose(api);
