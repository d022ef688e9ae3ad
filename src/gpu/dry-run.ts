// Dry-run planning (`instructalign bench --memory`): while on, tensors get stand-in buffers (counted by the pool,
// nothing allocated) and dispatches are validated but not recorded, so a model's peak memory is known exactly on
// any adapter in seconds. Results read back are zeros.

export class DryRun {
  on = false;
  private standIns = new WeakSet<GPUBuffer>();

  /** A buffer that only the dry run's bookkeeping ever sees. */
  standIn(size: number, label: string): GPUBuffer {
    const fake = { label, size, destroy() {} } as unknown as GPUBuffer;
    this.standIns.add(fake);
    return fake;
  }

  /** Whether `b` is a stand-in (reads of it return zeros). */
  holds(b: GPUBuffer): boolean {
    return this.standIns.has(b);
  }
}
