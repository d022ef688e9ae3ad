// One call at a time on a runtime's GPU: each call waits until the calls made before it have ended (resolved or
// rejected), in the order they were made. A model load unloads the weights that a score, a generation or an
// evaluation in flight still reads (audit A49: "weight … is not loaded"), so both doors queue their GPU calls: the
// Node API (src/api/node.ts) and the browser worker (src/host/worker.ts). A failing call does not stop the queue.

/** A queue: `run(fn)` starts fn once every earlier call has ended and resolves (or rejects) as fn does. */
export function serialQueue(): <R>(fn: () => Promise<R>) => Promise<R> {
  let tail: Promise<unknown> = Promise.resolve();
  return <R>(fn: () => Promise<R>) => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}
