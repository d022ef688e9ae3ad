// Tensor memory: GPUBuffers for tensors from a caching pool, live/peak byte counts, and the graveyard of buffers
// destroyed only once the queue is idle.
import type { DryRun } from './dry-run.ts';

/** What the pool needs from its neighbours: submit recorded work; drop a buried buffer's cached bind groups. */
export interface PoolHooks {
  flush(): void;
  forget(b: GPUBuffer): void;
}

/**
 * Buffer pool (a caching allocator): a released tensor's buffer waits for the next tensor that fits it (see poolFit),
 * so a training or evaluation loop stops creating (and Dawn stops zero-filling) buffers after its first steps.
 * Pooled bytes are bounded: live + pooled stays within (1 + poolHeadroom) × the largest live total seen so far (the
 * least recently released buffers go first). A reused buffer holds old data: every kernel writes what it later reads
 * (`poison`, INSTRUCTALIGN_POOL_POISON=1, fills reused buffers with NaN bits to prove it; the test suite does).
 * `pooling = false` (INSTRUCTALIGN_NO_POOL=1) turns it off.
 */
export class TensorPool {
  pooling = true;
  poison = false;
  /**
   * A request may take a pooled buffer up to (1 + poolFit)× its size (2×; best fit first): training batches are
   * padded to their longest row, so shapes vary a little from step to step.
   */
  poolFit = 1;
  /** live + pooled bytes may reach (1 + poolHeadroom) × the largest live total (buffers come in many sizes; a BLOOM
   * training step needs +1–2 %, see docs/performance.md) */
  poolHeadroom = 0.1;
  /** bytes of live tensors (what the model holds now); `peakBytes` is their high-water mark (resettable by benches) */
  bytesAllocated = 0;
  peakBytes = 0;
  /** high-water mark of live + pooled bytes: what the GPU really holds for tensors (resettable like peakBytes) */
  peakResident = 0;
  pooledBytes = 0;
  /** GPUBuffers created for tensors so far (with the pool, a repeated training step creates none) */
  buffersCreated = 0;
  private liveHighWater = 0; // the pool's bound; unlike peakBytes never reset
  private pool = new Map<number, GPUBuffer[]>();
  private poolSizes: number[] = []; // the pool's sizes, ascending
  private pooledOrder = new Map<GPUBuffer, number>(); // insertion order = release order (oldest first)
  private lastLabel = new WeakMap<GPUBuffer, string>(); // the label of the tensor a pooled buffer last held
  private graveyard: GPUBuffer[] = [];

  constructor(
    private device: GPUDevice,
    private dry: DryRun,
    private hooks: PoolHooks,
  ) {}

  /** A buffer of `size` bytes (a multiple of 16) for a tensor labelled `label`: pooled if one fits, else new. */
  take(size: number, label: string): GPUBuffer {
    const reused = this.fromPool(size, label);
    this.bytesAllocated += reused ? reused.size : size; // a reused buffer may be a little larger: counted whole
    this.peakBytes = Math.max(this.peakBytes, this.bytesAllocated);
    this.liveHighWater = Math.max(this.liveHighWater, this.bytesAllocated);
    const buffer = reused ?? this.newBuffer(size, label);
    this.peakResident = Math.max(this.peakResident, this.bytesAllocated + this.pooledBytes);
    return buffer;
  }

  private newBuffer(size: number, label: string): GPUBuffer {
    // make room: live + pooled stays within the pool's bound (oldest released first)
    const bound = this.liveHighWater * (1 + this.poolHeadroom);
    for (const [old, oldSize] of this.pooledOrder) {
      if (this.bytesAllocated + this.pooledBytes <= bound) break;
      this.unpool(old, oldSize);
      this.bury(old);
    }
    this.buffersCreated++;
    if (this.dry.on) return this.dry.standIn(size, label);
    const b = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    this.lastLabel.set(b, label);
    return b;
  }

  private fromPool(size: number, label: string): GPUBuffer | undefined {
    if (!this.pooling) return undefined;
    // candidates: pooled sizes from `size` up to (1 + poolFit)·size (training batches vary in length), smallest first
    const sizes = this.poolSizes;
    const lo = lowerBound(sizes, size);
    const max = size * (1 + this.poolFit);
    if (lo >= sizes.length || sizes[lo] > max) return undefined;
    // the buffer this label had last time, if pooled (a loop's tensors then keep their buffers, and the bind groups
    // cached for them keep hitting); else the most recently released one of the smallest fitting size
    let pick: { s: number; i: number } | undefined;
    for (let k = lo; k < sizes.length && sizes[k] <= max && !pick; k++) {
      const list = this.pool.get(sizes[k])!;
      for (let j = list.length - 1; j >= 0; j--)
        if (this.lastLabel.get(list[j]) === label) {
          pick = { s: sizes[k], i: j };
          break;
        }
    }
    pick ??= { s: sizes[lo], i: this.pool.get(sizes[lo])!.length - 1 };
    const b = this.pool.get(pick.s)![pick.i];
    this.unpool(b, pick.s);
    if (this.lastLabel.get(b) !== label) {
      this.lastLabel.set(b, label);
      try {
        b.label = label;
      } catch {
        /* labels are cosmetic */
      }
    }
    if (this.poison && !this.dry.on) {
      // queue.writeBuffer runs before commands recorded but not yet submitted: submit those first
      this.hooks.flush();
      this.device.queue.writeBuffer(b, 0, new Uint8Array(b.size).fill(0xff)); // NaN as f32, −1 as i32
    }
    return b;
  }

  private unpool(b: GPUBuffer, size: number): void {
    const list = this.pool.get(size)!;
    list.splice(list.indexOf(b), 1);
    if (!list.length) {
      this.pool.delete(size);
      this.poolSizes.splice(this.poolSizes.indexOf(size), 1);
    }
    this.pooledOrder.delete(b);
    this.pooledBytes -= size;
  }

  /**
   * Destroys every pooled buffer (at the next idle point), e.g. when a model is unloaded, and restarts the pool's
   * bound from the bytes live now.
   */
  trim(): void {
    for (const [b, size] of this.pooledOrder) {
      this.unpool(b, size);
      this.bury(b);
    }
    this.liveHighWater = this.bytesAllocated;
  }

  /** A tensor's buffer back: pooled, or buried when pooling is off. */
  give(buffer: GPUBuffer): void {
    const size = buffer.size;
    this.bytesAllocated -= size;
    if (this.pooling) {
      // Reuse is safe at once: later commands run after the queued ones that still use the buffer.
      let list = this.pool.get(size);
      if (!list) {
        this.pool.set(size, (list = []));
        this.poolSizes.splice(lowerBound(this.poolSizes, size), 0, size);
      }
      list.push(buffer);
      this.pooledOrder.set(buffer, size);
      this.pooledBytes += size;
      return;
    }
    this.bury(buffer);
  }

  /**
   * A buffer no tensor will use again: destroyed only once the queue is idle (destroying buffers that in-flight work
   * uses crashes some drivers, seen with SwiftShader, although WebGPU allows it); its cached bind groups go now.
   */
  private bury(b: GPUBuffer): void {
    this.graveyard.push(b);
    this.hooks.forget(b);
  }

  /** The buried buffers so far: the caller destroys them once the work submitted until now has finished. */
  takeDead(): GPUBuffer[] {
    const dead = this.graveyard;
    this.graveyard = [];
    return dead;
  }
}

/** The first index of the ascending `a` whose value is ≥ x (a.length if none). */
function lowerBound(a: number[], x: number): number {
  let lo = 0,
    hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
