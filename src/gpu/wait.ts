// Waiting for the GPU under Node without spinning. dawn.node resolves mapAsync / onSubmittedWorkDone by polling its
// events from a callback it re-queues with the global `setImmediate` for as long as a promise is pending: a busy loop
// that keeps the main thread at most of a core, taken from SwiftShader's worker threads on a small machine. While
// one of our waits is pending, `setImmediate` is swapped for a back-off (polls as before for the first SPIN_MS, so
// short waits, e.g. a token's readback on a GPU, keep their latency; then once per millisecond), and restored when the
// last wait ends.

// Each wait carries its own runtime's choice (Gpu.open's quietWait; INSTRUCTALIGN_BUSY_WAIT=1 turns it off) and its own
// spin period: the back-off applies only while every pending wait is quiet and past its own first SPIN_MS, so a busy
// runtime's waits, or a quiet runtime's fresh wait, keep dawn.node's immediate polling even while another runtime of
// the process is in a long quiet wait. setImmediate is swapped only while a quiet wait is pending.

/** how long a wait keeps dawn.node's immediate rescheduling before the back-off starts */
const SPIN_MS = 2;
const SLOW_POLL_MS = 1;

/** the pending waits: each polls immediately until `spinUntil` (Infinity: a busy wait) */
const pending = new Set<{ spinUntil: number }>();
let quietCount = 0;
let original: typeof setImmediate | null = null;

/** Awaits `p`, a GPU promise of a runtime whose waits are `quiet` (back-off) or busy (dawn.node's own polling). */
export async function gpuWait<T>(p: Promise<T>, quiet: boolean): Promise<T> {
  if (typeof globalThis.setImmediate !== 'function') return p;
  const w = { spinUntil: quiet ? performance.now() + SPIN_MS : Infinity };
  pending.add(w);
  if (quiet && quietCount++ === 0) install();
  try {
    return await p;
  } finally {
    pending.delete(w);
    if (quiet && --quietCount === 0) uninstall();
  }
}

/** Awaits `p` with the back-off (a quiet runtime's wait). */
export function quietWait<T>(p: Promise<T>): Promise<T> {
  return gpuWait(p, true);
}

/** Whether some pending wait still wants dawn.node's immediate polling (a busy wait, or a quiet one in its spin). */
function spinning(): boolean {
  const now = performance.now();
  for (const w of pending) if (now < w.spinUntil) return true;
  return false;
}

function install(): void {
  original = globalThis.setImmediate;
  const immediate = original;
  // only dawn.node's own callback (a native function) is delayed: JavaScript callers keep a real Immediate
  const backoff = (fn: (...a: unknown[]) => void, ...args: unknown[]) =>
    args.length || !isNative(fn) || spinning() ? immediate(fn, ...args) : setTimeout(fn, SLOW_POLL_MS);
  globalThis.setImmediate = backoff as unknown as typeof setImmediate;
}

function uninstall(): void {
  if (original) globalThis.setImmediate = original;
  original = null;
}

function isNative(fn: unknown): boolean {
  return typeof fn === 'function' && Function.prototype.toString.call(fn).endsWith('{ [native code] }');
}
