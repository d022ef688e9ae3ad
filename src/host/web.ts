// The embeddable browser API: starts the runtime worker (dist/web/worker.js) and returns its Comlink proxy, so a
// page calls `await rt.score(texts)` or `await rt.evaluate(req, onProgress)` while the GPU work runs off the main
// thread. Also re-exports the browser-safe pieces a page needs to show results (chart, languages, prompts).
import * as Comlink from 'comlink';
import type { WorkerApi } from './worker.ts';
import type { ModelSource, DownloadProgress } from './model-source.ts';
import type { LoadOptions, ModelInfo } from './runtime.ts';

export { kernelCheckCpu, kernelCheckShape, KERNEL_CHECK_K } from './kernel-check.ts';
export { renderChart, groupColor } from '../eval/chart.ts';
export { NUSAX_LANGS, DEFAULT_GROUPS } from '../eval/data-core.ts';
export { promptTemplates } from '../eval/tasks.ts';
export { formatDuration } from '../util/progress.ts';
export type { WorkerApi, ModelSource, TrainStepsRequest, TrainStep } from './worker.ts';
export type { DownloadProgress } from './model-source.ts';
export type { ModelInfo } from './runtime.ts';
export type { EvalRequest, EvalProgress } from './eval-worker.ts';
export { RequestError } from '../api/requests/core.ts';
export type { AlignRequest, AlignProgress } from './align-worker.ts';
export type { StepLog } from '../train/loop.ts';
export { compareResults } from '../eval/compare.ts';
export { opfsAvailable, savedAlignment, discardSavedAlignment, type SavedAlignment } from './opfs-store.ts';
export type { ResultsJson } from '../eval/results.ts';

/** loadModel's options in a page: the load options plus progress callbacks (kept in the page, not sent) */
export interface WebLoadOptions extends Omit<LoadOptions, 'files' | 'path' | 'onProgress'> {
  /** called as tensors reach the GPU: (tensors done, tensors in all) */
  onProgress?: (done: number, total: number) => void;
  /** called as a model given by URL downloads: bytes of the file so far and its size (null when the server does not
   *  say), once per piece the network delivers */
  onDownload?: (p: DownloadProgress) => void;
}

/** The runtime as a page sees it: the worker's API (Comlink), with loadModel taking its callbacks in the options. */
export type RemoteRuntime = Omit<Comlink.Remote<WorkerApi>, 'loadModel'> & {
  /**
   * Loads a BLOOM checkpoint: a URL of a folder (relative to the page; HuggingFace Hub URLs such as
   * https://huggingface.co/ORG/NAME or …/resolve/main/ work, single file or shard index), Files, a Map of Blobs or a
   * directory handle (see ModelSource).
   */
  loadModel(src: ModelSource, opts?: WebLoadOptions): Promise<ModelInfo>;
  worker: Worker;
  terminate(): void;
};

export interface StartOptions {
  /**
   * Where the worker script is served: node_modules/instructalign/dist/web/worker.js copied next to your bundle, or
   * a URL your bundler gives for it. Default: `new URL('./worker.js', import.meta.url)`, which Vite and webpack 5
   * follow by themselves; esbuild does not copy the file (copy it), and an IIFE bundle has no import.meta.url.
   */
  workerUrl?: string | URL;
}

/** Functions passed to the worker must be Comlink proxies; these methods get theirs wrapped here. */
function wrapCallbacks(remote: Comlink.Remote<WorkerApi>, prop: PropertyKey): unknown {
  if (prop === 'evaluate' || prop === 'align') {
    return (req: unknown, onProgress?: (p: unknown) => void) =>
      (remote[prop] as any)(req, onProgress ? Comlink.proxy(onProgress) : undefined);
  }
  if (prop === 'loadModel') {
    // Comlink transfers proxies only as top-level arguments: the callbacks travel as the third and fourth ones
    // (a callback given as the third argument, the form of earlier versions, still works)
    return (src: unknown, opts: WebLoadOptions = {}, third?: (d: number, t: number) => void) => {
      const { onProgress = third, onDownload, ...rest } = opts;
      // a relative URL means relative to the page, as in fetch(); the worker would resolve it against worker.js
      const source = typeof src === 'string' ? new URL(src, globalThis.location?.href).href : src;
      return (remote.loadModel as any)(
        source,
        rest,
        onProgress ? Comlink.proxy(onProgress) : undefined,
        onDownload ? Comlink.proxy(onDownload) : undefined,
      );
    };
  }
  return undefined;
}

/** Why a worker script did not start, as far as the page can tell: the HTTP answer for its URL. */
async function workerProblem(url: string): Promise<string> {
  try {
    const res = await fetch(url, { method: 'GET' });
    if (!res.ok)
      return `HTTP ${res.status} for ${url}: serve node_modules/instructalign/dist/web/worker.js there (esbuild does not copy it), or pass startRuntime({ workerUrl }) with its URL`;
    const type = res.headers.get('content-type') ?? '';
    if (!/javascript|ecmascript/.test(type))
      return `${url} is served as "${type}", not JavaScript (a module worker needs a JavaScript MIME type)`;
    return `${url} loads but fails to start (see the browser console; a Content-Security-Policy needs worker-src for it)`;
  } catch (e) {
    return `${url} cannot be fetched (${(e as Error).message}): it must be served from this page's origin`;
  }
}

/**
 * Starts the runtime worker and waits until its module has loaded. `workerUrl` (or a string/URL as the only
 * argument) says where worker.js is served; the default is worker.js next to this module.
 */
export async function startRuntime(opts: StartOptions | string | URL = {}): Promise<RemoteRuntime> {
  const given = typeof opts === 'string' || opts instanceof URL ? opts : opts.workerUrl;
  let url: string | URL;
  if (given) url = new URL(given, globalThis.location?.href);
  else {
    if (typeof import.meta.url !== 'string')
      throw new Error(
        'startRuntime: this bundle has no import.meta.url (an IIFE or CommonJS build), so the worker cannot be found ' +
          'next to it: pass startRuntime({ workerUrl }) with the URL where node_modules/instructalign/dist/web/worker.js is served',
      );
    url = new URL('./worker.js', import.meta.url);
  }
  const worker = new Worker(url, { type: 'module' });
  const remote = Comlink.wrap<WorkerApi>(worker);
  // A worker whose script fails to load or throws at top level never answers; surface that instead of hanging.
  const failed = new Promise<never>((_, reject) =>
    worker.addEventListener(
      'error',
      (ev) => {
        ev.preventDefault();
        const because = ev.message ? Promise.resolve(ev.message) : workerProblem(String(url));
        because.then((m) => reject(new Error(`the runtime worker ${url} failed to start: ${m}`)));
      },
      { once: true },
    ),
  );
  try {
    await Promise.race([remote.ping(), failed]);
  } catch (e) {
    worker.terminate();
    throw e;
  }
  // Comlink's proxy answers every property name with a remote call, so `worker`/`terminate` are served locally.
  return new Proxy(remote, {
    get(target, prop, recv) {
      if (prop === 'worker') return worker;
      if (prop === 'terminate')
        return () => {
          remote[Comlink.releaseProxy]();
          worker.terminate();
        };
      return wrapCallbacks(remote, prop) ?? Reflect.get(target, prop, recv);
    },
  }) as unknown as RemoteRuntime;
}
