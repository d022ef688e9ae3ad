// Waiting for the GPU under Node without spinning. dawn.node resolves mapAsync / onSubmittedWorkDone by polling its
// events from a callback it re-queues with the global `setImmediate` for as long as a promise is pending: a busy loop
// that keeps the main thread at most of a core, taken from SwiftShader's worker threads on a small machine. While
// one of our waits is pending, `setImmediate` is swapped for a back-off (polls as before for the first SPIN_MS, so
// short waits, e.g. a token's readback on a GPU, keep their latency; then once per millisecond), and restored when the
// last wait ends.

/** how long a wait keeps dawn.node's immediate rescheduling before the back-off starts */
const SPIN_MS = 2;
const SLOW_POLL_MS = 1;

let pending = 0;
let original: typeof setImmediate | null = null;
let since = 0;

/** Awaits `p` with the back-off installed (nested and concurrent waits share one installation). */
export async function quietWait<T>(p: Promise<T>): Promise<T> {
  if (typeof globalThis.setImmediate !== 'function') return p;
  if (pending++ === 0) install();
  try {
    return await p;
  } finally {
    if (--pending === 0) uninstall();
  }
}

function install(): void {
  original = globalThis.setImmediate;
  since = performance.now();
  const immediate = original;
  // only dawn.node's own callback (a native function) is delayed: JavaScript callers keep a real Immediate
  const backoff = (fn: (...a: unknown[]) => void, ...args: unknown[]) =>
    args.length || !isNative(fn) || performance.now() - since < SPIN_MS
      ? immediate(fn, ...args)
      : setTimeout(fn, SLOW_POLL_MS);
  globalThis.setImmediate = backoff as unknown as typeof setImmediate;
}

function uninstall(): void {
  if (original) globalThis.setImmediate = original;
  original = null;
}

function isNative(fn: unknown): boolean {
  return typeof fn === 'function' && Function.prototype.toString.call(fn).endsWith('{ [native code] }');
}
