// Submission and readback: the command encoder and its compute pass, the ring of uniform slots for per-dispatch
// Params (a dynamic offset), queue submits, uploads, copies, readbacks and waits that fail on device loss.
import { bytesFor, type Tensor } from './tensor.ts';
import type { TensorPool } from './pool.ts';
import type { DryRun } from './dry-run.ts';
import { gpuWait } from './wait.ts';

export const SLOT = 256; // uniform slot stride: minUniformBufferOffsetAlignment is at most 256
// submit every FLUSH_EVERY dispatches (so a GPU starts on a long step while the host records the rest); it is also
// the number of Params slots in the one uniform buffer
export const FLUSH_EVERY = 128;
const STAGING_KEEP = 8,
  STAGING_KEEP_BYTES = 1 << 20;

export class Submission {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniforms: GPUBuffer | null = null;
  private uniformStaging = new ArrayBuffer(SLOT * FLUSH_EVERY);
  private slotsUsed = 0;
  private staging = new Map<number, GPUBuffer[]>(); // unmapped MAP_READ buffers for readbacks, by size
  private waiters = new Set<(e: Error) => void>();
  /** the first fatal error (device lost, uncaptured validation error): every later call throws it */
  fatal: string | null = null;
  /** queue submits so far (each upload and readback submits what was recorded before it) */
  submitCount = 0;
  /**
   * Under Node, wait for the GPU without busy polling (see ./wait.ts); false: dawn.node's own polling, as before.
   * Shared by every view of the device.
   */
  quiet = true;

  constructor(
    private device: GPUDevice,
    private pool: TensorPool,
    private dry: DryRun,
    lost: Promise<string>,
    private node: boolean,
  ) {
    lost.then((m) => {
      this.fatal = m;
      for (const w of this.waiters) w(new Error(m));
    });
  }

  private enc(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: 'instructalign' });
    return this.encoder;
  }
  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
  /** The open compute pass (begun if none). */
  computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.enc().beginComputePass({ label: 'instructalign' });
    return this.pass;
  }
  /** Whether the uniform ring is full (the caller flushes). */
  get slotsFull(): boolean {
    return this.slotsUsed >= FLUSH_EVERY;
  }

  /** A Params slot holding `data`, written to the GPU at the next flush. */
  uniformSlot(data: ArrayBuffer): { buffer: GPUBuffer; offset: number } {
    this.uniforms ??= this.device.createBuffer({
      label: 'params',
      size: SLOT * FLUSH_EVERY,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const offset = this.slotsUsed++ * SLOT; // run() flushes before the slots run out
    new Uint8Array(this.uniformStaging, offset, data.byteLength).set(new Uint8Array(data));
    return { buffer: this.uniforms, offset };
  }

  /** Submits everything recorded so far (params first). */
  flush(): void {
    if (!this.encoder) {
      this.slotsUsed = 0;
      return;
    } // (slots taken by a dispatch that then failed validation)
    this.endPass();
    if (this.slotsUsed) this.device.queue.writeBuffer(this.uniforms!, 0, this.uniformStaging, 0, this.slotsUsed * SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.submitCount++;
    this.encoder = null;
    this.slotsUsed = 0;
  }

  /** A GPU wait that fails with the device-loss message instead of hanging when the device is lost meanwhile. */
  orLost<T>(p: Promise<T>): Promise<T> {
    if (this.fatal) return Promise.reject(new Error(this.fatal));
    const waited = this.node ? gpuWait(p, this.quiet) : p;
    return new Promise<T>((resolve, reject) => {
      this.waiters.add(reject);
      waited.then(resolve, reject).finally(() => this.waiters.delete(reject));
    });
  }

  upload(t: Tensor, data: ArrayBufferView, elementOffset = 0): void {
    if (this.dry.on) return;
    // queue.writeBuffer runs before commands recorded but not yet submitted: submit those first.
    this.flush();
    const byteOff = t.byteOffset + bytesFor(t.dtype, elementOffset);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = bytes.byteLength % 4 ? new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4) : bytes;
    if (padded !== bytes) padded.set(bytes);
    this.device.queue.writeBuffer(t.buffer, byteOff, padded as Uint8Array<ArrayBuffer>);
  }

  copy(src: Tensor, dst: Tensor, numel: number, srcStart: number, dstStart: number): void {
    if (src.dtype !== dst.dtype) throw new Error(`copy ${src.label}→${dst.label}: dtype ${src.dtype} vs ${dst.dtype}`);
    const size = bytesFor(src.dtype, numel);
    if (size % 4) throw new Error(`copy ${src.label}→${dst.label}: ${size} bytes is not a multiple of 4`);
    if (this.dry.on) return;
    this.endPass();
    this.enc().copyBufferToBuffer(
      src.buffer,
      src.byteOffset + bytesFor(src.dtype, srcStart),
      dst.buffer,
      dst.byteOffset + bytesFor(dst.dtype, dstStart),
      size,
    );
  }

  /** Copies `t` to a staging buffer, submits, and returns its bytes once the GPU is done (`check` runs meanwhile). */
  async read(t: Tensor, check: () => Promise<void>): Promise<ArrayBuffer> {
    const size = Math.ceil(t.byteLength / 4) * 4;
    if (this.dry.holds(t.buffer)) return new ArrayBuffer(size);
    const staging =
      this.staging.get(size)?.pop() ??
      this.device.createBuffer({
        label: `read:${t.label}`,
        size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    this.endPass();
    this.enc().copyBufferToBuffer(t.buffer, t.byteOffset, staging, 0, size);
    this.flush();
    // buffers released before the copy can go once it is done; taken now (callers may record more work while this
    // read is pending, e.g. the backward during the loss readback, and release buffers that work still uses)
    const dead = this.pool.takeDead();
    await check();
    await this.orLost(staging.mapAsync(GPUMapMode.READ));
    const out = staging.getMappedRange().slice(0);
    staging.unmap();
    // small readbacks (losses, norms, logits of a step) recur every step: keep a few staging buffers
    const kept = [...this.staging.values()].reduce((n, l) => n + l.length, 0);
    if (this.pool.pooling && size <= STAGING_KEEP_BYTES && kept < STAGING_KEEP) {
      if (!this.staging.has(size)) this.staging.set(size, []);
      this.staging.get(size)!.push(staging);
    } else staging.destroy();
    for (const b of dead) b.destroy(); // everything submitted before the copy has finished
    return out;
  }

  /** Submits, waits until the queue is idle, and destroys the buffers buried before. */
  async idle(): Promise<void> {
    this.flush();
    const dead = this.pool.takeDead();
    await this.orLost(this.device.queue.onSubmittedWorkDone());
    for (const b of dead) b.destroy();
  }
}
