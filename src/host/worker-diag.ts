// Stall diagnostics for the runtime worker: every promise the worker waits on outside JavaScript (GPU queue, map,
// compile, fetch, Blob reads) is tracked with the API call it belongs to, so a stalled call says what it waits for.
// Importing this module patches those prototypes in this worker (and nowhere else: it is imported by worker.ts only).

const log = (m: string) => console.warn(`[instructalign worker] ${m}`);
const t0 = performance.now();
const stamp = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

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
export function diag(): string {
  const now = performance.now(),
    s = (t: number) => `${((now - t) / 1000).toFixed(1)} s`;
  const c = calls.map((x) => `${x.name} (${s(x.since)})`).join(', ') || 'none';
  const w = [...waits].map((x) => `${x.what} in ${x.call} (${s(x.since)})`).join('; ') || 'none';
  return `worker at ${stamp()}: calls running: ${c}; waits pending: ${w}`;
}
/** logs (console.debug) the start and end of an API call with the worker's clock, and keeps it for diag() */
export function traced<A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>): (...a: A) => Promise<R> {
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
