// The embeddable browser API: starts the runtime worker (dist/web/worker.js) and returns its Comlink proxy, so a
// page calls `await rt.score(texts)` or `await rt.evaluate(req, onProgress)` while the GPU work runs off the main
// thread. Also re-exports the browser-safe pieces a page needs to show results (chart, languages, prompts).
import * as Comlink from 'comlink';
import type { WorkerApi } from './worker.ts';

export { kernelCheckCpu, kernelCheckShape, KERNEL_CHECK_K } from './kernel-check.ts';
export { renderChart, groupColor } from '../eval/chart.ts';
export { NUSAX_LANGS, DEFAULT_GROUPS } from '../eval/data-core.ts';
export { promptTemplates } from '../eval/tasks.ts';
export { formatDuration } from '../util/progress.ts';
export type { WorkerApi, ModelSource, TrainRequest, TrainStep } from './worker.ts';
export type { EvalRequest, EvalProgress } from './eval-worker.ts';
export type { AlignRequest, AlignProgress } from './align-worker.ts';
export type { StepLog } from '../train/loop.ts';
export { compareResults } from '../eval/compare.ts';
export { opfsAvailable, savedAlignment, discardSavedAlignment, type SavedAlignment } from './opfs-store.ts';
export type { ResultsJson } from '../eval/results.ts';

export type RemoteRuntime = Comlink.Remote<WorkerApi> & { worker: Worker; terminate(): void };

/** Functions passed to the worker must be Comlink proxies; these methods get theirs wrapped here. */
function wrapCallbacks(remote: Comlink.Remote<WorkerApi>, prop: PropertyKey): unknown {
  if (prop === 'evaluate' || prop === 'align') {
    return (req: unknown, onProgress?: (p: unknown) => void) =>
      (remote[prop] as any)(req, onProgress ? Comlink.proxy(onProgress) : undefined);
  }
  if (prop === 'loadModel') {
    // Comlink transfers proxies only as top-level arguments: the callback travels as the third one
    return (src: unknown, opts: { onProgress?: (d: number, t: number) => void } = {}) => {
      const { onProgress, ...rest } = opts;
      // a relative URL means relative to the page, as in fetch(); the worker would resolve it against worker.js
      const source = typeof src === 'string' ? new URL(src, globalThis.location?.href).href : src;
      return (remote.loadModel as any)(source, rest, onProgress ? Comlink.proxy(onProgress) : undefined);
    };
  }
  return undefined;
}

/** Starts the worker (default: worker.js next to this module) and waits until its module has loaded. */
export async function startRuntime(workerUrl?: string | URL): Promise<RemoteRuntime> {
  const url = workerUrl ?? new URL('./worker.js', import.meta.url);
  const worker = new Worker(url, { type: 'module' });
  const remote = Comlink.wrap<WorkerApi>(worker);
  // A worker whose script fails to load or throws at top level never answers; surface that instead of hanging.
  const failed = new Promise<never>((_, reject) =>
    worker.addEventListener(
      'error',
      (ev) => {
        ev.preventDefault();
        reject(
          new Error(
            `the runtime worker ${url} failed to start: ${ev.message || 'script error (is it served, as JavaScript, from the same origin?)'}`,
          ),
        );
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
  }) as RemoteRuntime;
}
