// The Web Worker entry: exposes the runtime API (host/runtime.ts) through Comlink, plus what the page needs on top:
// model loading from Files / a directory handle / a URL, evaluation with progress and cancel, and training steps.
// One GPU device per worker, opened on first use.
import * as Comlink from 'comlink';
import { Runtime, type LoadOptions, type GenerateOptions, type ModelInfo } from './runtime.ts';
import { Tokenizer } from '../wasm/tokenizer.ts';
import { kernelCheck } from './kernel-check.ts';
import { selftest, trainSelftest, type Check } from './selftest.ts';
import { evaluateRequest, type EvalProgress, type EvalRequest } from './eval-worker.ts';
import { bloomParameters, parseBloomConfig } from '../model/config.ts';
import { BloomGrads, lossAndBackward } from '../model/backward.ts';
import { AdamW, type AdamWOptions } from '../train/optimizer.ts';
import type { ResultsJson } from '../eval/results.ts';

const log = (m: string) => console.warn(`[instructalign worker] ${m}`);
const t0 = performance.now();
const stamp = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

// ---- stall diagnostics -------------------------------------------------------------------------------------------
// Every promise the worker waits on outside JavaScript (GPU queue/map/compile, fetch, Blob reads) is tracked with
// the API call it belongs to: a wait pending for more than STALL_MS is logged once (and its end, if it comes), and
// diag() lists what is pending, so a stalled call says what it waits for instead of just timing out.
const STALL_MS = 15000;
interface Wait {
  what: string;
  call: string;
  since: number;
  said: boolean;
}
const waits = new Set<Wait>();
let calls: { name: string; since: number }[] = [];
function track<T>(what: string, p: Promise<T>): Promise<T> {
  const w: Wait = { what, call: calls.map((c) => c.name).join('+') || '-', since: performance.now(), said: false };
  waits.add(w);
  const done = () => {
    waits.delete(w);
    if (w.said)
      log(`${stamp()}: ${w.what} (in ${w.call}) finished after ${((performance.now() - w.since) / 1000).toFixed(1)} s`);
  };
  p.then(done, done);
  return p;
}
function wrapMethod(proto: any, name: string, what: (self: any, args: unknown[]) => string): void {
  const orig = proto?.[name];
  if (typeof orig !== 'function') return;
  proto[name] = function (this: unknown, ...args: unknown[]) {
    return track(what(this, args), orig.apply(this, args));
  };
}
const g = globalThis as any;
wrapMethod(g.GPUQueue?.prototype, 'onSubmittedWorkDone', () => 'queue.onSubmittedWorkDone()');
wrapMethod(g.GPUBuffer?.prototype, 'mapAsync', (b) => `buffer.mapAsync() of ${b.label || 'a buffer'}`);
wrapMethod(
  g.GPUShaderModule?.prototype,
  'getCompilationInfo',
  (m) => `getCompilationInfo() of ${m.label || 'a shader'}`,
);
wrapMethod(g.GPUAdapter?.prototype, 'requestDevice', () => 'adapter.requestDevice()');
wrapMethod(g.GPU?.prototype, 'requestAdapter', () => 'gpu.requestAdapter()');
wrapMethod(g.Blob?.prototype, 'arrayBuffer', (b) => `Blob.arrayBuffer() of ${b.size} bytes`);
wrapMethod(g.Blob?.prototype, 'text', (b) => `Blob.text() of ${b.size} bytes`);
wrapMethod(g, 'fetch', (_, a) => `fetch(${String((a[0] as any)?.url ?? a[0])})`);
setInterval(() => {
  const now = performance.now();
  for (const w of waits) {
    if (!w.said && now - w.since > STALL_MS) {
      w.said = true;
      log(`${stamp()}: ${w.what} (in ${w.call}) pending for ${((now - w.since) / 1000).toFixed(0)} s`);
    }
  }
}, 5000);
/** the API calls running and the waits pending now, for a stall report */
function diag(): string {
  const now = performance.now(),
    s = (t: number) => `${((now - t) / 1000).toFixed(1)} s`;
  const c = calls.map((x) => `${x.name} (${s(x.since)})`).join(', ') || 'none';
  const w = [...waits].map((x) => `${x.what} in ${x.call} (${s(x.since)})`).join('; ') || 'none';
  return `worker at ${stamp()}: calls running: ${c}; waits pending: ${w}`;
}
/** logs (console.debug) the start and end of an API call with the worker's clock, and keeps it for diag() */
function traced<A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  return async (...a: A) => {
    const c = { name, since: performance.now() };
    calls.push(c);
    console.debug(`[instructalign worker] ${stamp()}: ${name} starts`);
    try {
      const r = await fn(...a);
      console.debug(
        `[instructalign worker] ${stamp()}: ${name} done in ${((performance.now() - c.since) / 1000).toFixed(1)} s`,
      );
      return r;
    } catch (e) {
      console.debug(
        `[instructalign worker] ${stamp()}: ${name} failed after ${((performance.now() - c.since) / 1000).toFixed(1)} s: ${(e as Error).message}`,
      );
      throw e;
    } finally {
      calls = calls.filter((x) => x !== c);
    }
  };
}

// GPU work runs one call at a time: a page may ask for a new model while a cancelled evaluation is still finishing
// its batch, and unloading weights under it would break that batch (seen as a hung load). cancel() is not queued.
let queue: Promise<unknown> = Promise.resolve();
function serial<A extends unknown[], R>(fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
  return (...a: A) => {
    const run = queue.then(() => fn(...a));
    queue = run.catch(() => undefined);
    return run;
  };
}
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

/**
 * Where a model comes from: its files by name (a Map or an object), the File list of an <input webkitdirectory>,
 * a FileSystemDirectoryHandle (showDirectoryPicker), or the URL of a folder that serves config.json, tokenizer.json
 * and model.safetensors (or model.safetensors.index.json + shards). Files are Blobs: the worker reads them in
 * pieces as it uploads, nothing is copied whole through the page.
 */
export type ModelSource =
  | Map<string, Blob>
  | Record<string, Blob>
  | ArrayLike<File>
  | FileSystemDirectoryHandle
  | string;

async function filesOf(src: ModelSource): Promise<Map<string, Blob>> {
  if (src instanceof Map) return src;
  if (typeof src === 'string') return fetchFolder(src);
  if (
    typeof (src as FileSystemDirectoryHandle).kind === 'string' &&
    (src as FileSystemDirectoryHandle).kind === 'directory'
  ) {
    const dir = src as FileSystemDirectoryHandle,
      out = new Map<string, Blob>();
    for await (const h of (dir as any).values() as AsyncIterable<FileSystemHandle>) {
      if (h.kind === 'file') out.set(`${dir.name}/${h.name}`, await (h as FileSystemFileHandle).getFile());
    }
    return out;
  }
  if (typeof (src as ArrayLike<File>).length === 'number') {
    return new Map(Array.from(src as ArrayLike<File>, (f) => [f.webkitRelativePath || f.name, f]));
  }
  return new Map(Object.entries(src as Record<string, Blob>));
}

/** A model folder served over HTTP; a missing model.safetensors falls back to the shard index, as transformers does. */
async function fetchFolder(base: string): Promise<Map<string, Blob>> {
  const root = new URL(base.endsWith('/') ? base : base + '/', self.location.href);
  const get = async (f: string, optional = false): Promise<Blob | null> => {
    const res = await fetch(new URL(f, root));
    if (res.ok) return res.blob();
    if (optional && res.status === 404) return null;
    throw new Error(
      `cannot fetch ${new URL(f, root)}: HTTP ${res.status} (the model URL must serve config.json, tokenizer.json and model.safetensors)`,
    );
  };
  const label = root.pathname.replace(/\/$/, '').split('/').pop() || root.host;
  const out = new Map<string, Blob>();
  for (const f of ['config.json', 'tokenizer.json']) out.set(`${label}/${f}`, (await get(f))!);
  const single = await get('model.safetensors', true);
  if (single) out.set(`${label}/model.safetensors`, single);
  else {
    const index = (await get('model.safetensors.index.json'))!;
    out.set(`${label}/model.safetensors.index.json`, index);
    const shards = new Set(Object.values(JSON.parse(await index.text()).weight_map ?? {}) as string[]);
    for (const f of shards) out.set(`${label}/${f}`, (await get(f))!);
  }
  return out;
}

/** Refuses, with the numbers, a model whose largest unsharded tensor exceeds this adapter's buffer limits. */
async function checkFits(r: Runtime, files: Map<string, Blob>, dtype: LoadOptions['dtype']): Promise<void> {
  const cfgBlob = [...files].find(([k]) => k.split('/').pop() === 'config.json')?.[1];
  if (!cfgBlob) return; // openCheckpoint names the missing file
  const cfgName = [...files].find(([, b]) => b === cfgBlob)?.[0] ?? 'config.json';
  let json: unknown;
  try {
    json = JSON.parse(await cfgBlob.text());
  } catch (e) {
    throw new Error(`${cfgName}: not valid JSON (${(e as Error).message})`);
  }
  const cfg = parseBloomConfig(json, cfgName);
  const lim = r.adapter.limits;
  const cap = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
  let total = 0,
    big = { name: '', bytes: 0 };
  for (const p of bloomParameters(cfg)) {
    const n = p.shape.reduce((a, b) => a * b, 1);
    const bytes = n * (dtype === 'f16' && p.shape.length === 2 ? 2 : 4);
    total += bytes;
    // the embedding is split into vocabulary shards that fit; every other tensor must fit one binding
    if (p.name !== 'word_embeddings.weight' && bytes > big.bytes)
      big = { name: `${p.name} ${p.shape.join('×')}`, bytes };
  }
  if (big.bytes > cap) {
    throw new Error(
      `this model does not fit this GPU adapter: ${big.name} needs ${big.bytes.toLocaleString('en')} bytes in one buffer, ` +
        `but maxStorageBufferBindingSize is ${lim.maxStorageBufferBindingSize.toLocaleString('en')} and maxBufferSize ${lim.maxBufferSize.toLocaleString('en')} ` +
        `(the weights need ${(total / 2 ** 20).toFixed(0)} MiB in all)${dtype === 'f16' ? '' : '; try dtype f16'}`,
    );
  }
}

let evalAbort: AbortController | null = null;
let loadedDtype = 'default';

export interface TrainRequest {
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

let trainer: { opt: AdamW; grads: BloomGrads; weights: unknown } | null = null;
function dropTrainer(): void {
  trainer?.opt.destroy();
  trainer?.grads.destroy();
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
  ): Promise<ModelInfo> {
    const r = await rt();
    const files = await filesOf(src);
    await checkFits(r, files, opts.dtype);
    dropTrainer();
    loadedDtype = opts.dtype ?? 'default'; // as the CLI records it in results.json
    const progress = delivering(onProgress);
    try {
      return await r.loadModel({ ...opts, files, onProgress: progress.call });
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

  async score(texts: string[], opts?: { maxLength?: number; batchSize?: number; groupSize?: number }) {
    return (await rt()).score(texts, opts);
  },
  async generate(prompt: string | number[], opts?: GenerateOptions) {
    return (await rt()).generate(prompt, opts);
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
      return await evaluateRequest(r, { model: m.name, adapter: r.adapterInfo, dtype: loadedDtype, int8: false }, req, {
        signal: ctrl.signal,
        onProgress: progress.call,
      });
    } finally {
      if (evalAbort === ctrl) evalAbort = null;
      await progress.delivered(); // before the result, or the error ("cancelled"): no progress may land after it
    }
  },

  /** stops a running evaluation after its current batch (evaluate then rejects with "cancelled") */
  cancel(): boolean {
    if (!evalAbort) return false;
    evalAbort.abort(new Error('cancelled'));
    return true;
  },

  /** AdamW steps on the loaded (f32) model, one per batch; the weights stay updated for score/generate/evaluate. */
  async trainSteps(req: TrainRequest): Promise<TrainStep[]> {
    const r = await rt();
    const m = r.loaded;
    if (req.reset || !trainer || trainer.weights !== m.weights) {
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
      trainer = { opt: new AdamW(r.gpu, m.weights, o), grads: new BloomGrads(r.gpu, m.weights), weights: m.weights };
    }
    const { opt, grads } = trainer;
    const out: TrainStep[] = [];
    for (const [k, b] of req.batches.entries()) {
      const step = opt.stepCount;
      const lr = Array.isArray(req.lr) ? req.lr[k] : opt.lrAt(step);
      if (!(lr >= 0))
        throw new Error(`trainSteps: no learning rate for batch ${k} (lr has ${(req.lr as number[]).length} entries)`);
      grads.zero();
      const batch = { ids: Int32Array.from(b.ids), mask: Int32Array.from(b.mask), B: b.B, T: b.T };
      const { loss, nTokens } = await lossAndBackward(m.fwd, batch, Int32Array.from(b.labels), grads);
      const { gradNorm, skipped } = await opt.step(grads, lr);
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
  'score',
  'generate',
  'evaluate',
  'trainSteps',
  'dispose',
] as const) {
  (api as Record<string, unknown>)[k] = serial(traced(k, (api[k] as (...a: unknown[]) => Promise<unknown>).bind(api)));
}
api.init = traced('init', api.init.bind(api));
Comlink.expose(api);
