// The Web Worker entry: exposes the runtime API (host/runtime.ts) through Comlink, plus the checks the page and
// the browser tests use. One GPU device per worker, opened on first use.
import * as Comlink from 'comlink';
import { Runtime, type LoadOptions, type GenerateOptions } from './runtime.ts';
import { Tokenizer } from '../wasm/tokenizer.ts';
import { kernelCheck } from './kernel-check.ts';

const log = (m: string) => console.warn(`[instructalign worker] ${m}`);
let runtime: Promise<Runtime> | null = null;

function rt(): Promise<Runtime> {
  runtime ??= Runtime.create({ log }).catch((e) => { runtime = null; throw e; });
  return runtime;
}

type Files = Map<string, Blob> | Record<string, Blob>;

const api = {
  /** answers once the worker's module has loaded (startRuntime waits for it) */
  ping(): string { return 'pong'; },

  /** opens the GPU; returns the adapter (vendor, architecture, text, limits, features) */
  async init() { return (await rt()).adapter; },

  /** token ids of each text under the given tokenizer.json (independent of any loaded model) */
  async tokenize(tokenizerJSON: string, texts: string[]): Promise<number[][]> {
    const tok = await Tokenizer.fromJSON(tokenizerJSON);
    try { return texts.map((t) => tok.encode(t)); } finally { tok.free(); }
  },

  /** elementwise add and a small matmul on this worker's GPU (see kernel-check.ts for the layout) */
  async kernelCheck(a: Float32Array, b: Float32Array): Promise<Float32Array> {
    const out = await kernelCheck((await rt()).gpu, a, b);
    return Comlink.transfer(out, [out.buffer]);
  },

  /** a checkpoint folder's files by name (config.json, tokenizer.json, model.safetensors) */
  async loadModel(files: Files, opts: Omit<LoadOptions, 'files' | 'path'> = {}) {
    const map = files instanceof Map ? files : new Map(Object.entries(files));
    return (await rt()).loadModel({ ...opts, files: map });
  },

  async score(texts: string[], opts?: { maxLength?: number; batchSize?: number }) { return (await rt()).score(texts, opts); },
  async generate(prompt: string | number[], opts?: GenerateOptions) { return (await rt()).generate(prompt, opts); },
  async info() { return (await rt()).info(); },

  async dispose(): Promise<void> {
    const r = runtime;
    runtime = null;
    if (r) (await r).dispose();
  },
};

export type WorkerApi = typeof api;

Comlink.expose(api);
