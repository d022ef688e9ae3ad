// Kernel runner: tensors (labelled GPU buffers from a pool), cached pipelines and bind groups, batched dispatch into
// one compute pass per flush (every 128 dispatches), a ring of uniform slots for per-dispatch Params (a dynamic
// offset), uploads/readbacks, dry runs that plan memory exactly, and error surfacing.
import { SHADERS } from '../generated/assets.ts';
import { hasPrologue, preprocess, reflect, usedBindings, type ShaderReflection } from './wgsl.ts';
import type { DeviceHandle } from './device.ts';
import { f16ArrayToF32 } from '../model/dtype.ts';

/** f32: float32; f16p: f16 values packed two per u32 (element i lives in word i>>1, half i&1); u32/i32: 32-bit ints */
export type TDType = 'f32' | 'f16p' | 'u32' | 'i32';

export class Tensor {
  constructor(
    readonly gpu: Gpu,
    readonly buffer: GPUBuffer,
    readonly numel: number,
    readonly dtype: TDType,
    readonly label: string,
    readonly byteOffset = 0,
    private owned = true,
  ) {}
  get byteLength(): number {
    return bytesFor(this.dtype, this.numel);
  }
  /** a view of `numel` elements starting at element `start` (offset must respect storage alignment) */
  view(start: number, numel: number, label = this.label): Tensor {
    if (start + numel > this.numel)
      throw new Error(`view [${start}, ${start + numel}) outside tensor ${this.label} of ${this.numel} elements`);
    return new Tensor(
      this.gpu,
      this.buffer,
      numel,
      this.dtype,
      label,
      this.byteOffset + bytesFor(this.dtype, start),
      false,
    );
  }
  destroy(): void {
    if (!this.owned) return;
    this.owned = false;
    this.gpu.release(this);
  }
}

export function bytesFor(dtype: TDType, numel: number): number {
  return dtype === 'f16p' ? Math.ceil(numel / 2) * 4 : numel * 4;
}

interface PipelineEntry {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  refl: ShaderReflection;
  key: string;
}
export type Bindings = Record<string, Tensor | undefined>;
export type Params = Record<string, number>;

// INSTRUCTALIGN_DEBUG_DISPATCH=1 logs every dispatch and runs them one at a time
const DEBUG_DISPATCH = typeof process !== 'undefined' && !!process.env?.INSTRUCTALIGN_DEBUG_DISPATCH;
const SLOT = 256; // uniform slot stride: minUniformBufferOffsetAlignment is at most 256
// submit every FLUSH_EVERY dispatches (so a GPU starts on a long step while the host records the rest); it is also
// the number of Params slots in the one uniform buffer
const FLUSH_EVERY = 128;
const STAGING_KEEP = 8,
  STAGING_KEEP_BYTES = 1 << 20;
const BIND_GROUP_CACHE = 8192;

export class Gpu {
  readonly device: GPUDevice;
  private pipelines = new Map<string, PipelineEntry>();
  private pendingChecks: Promise<void>[] = [];
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private uniforms: GPUBuffer | null = null;
  private uniformStaging = new ArrayBuffer(SLOT * FLUSH_EVERY);
  private slotsUsed = 0;
  private dummies = new Map<string, GPUBuffer>();
  // Bind groups are cached by pipeline and bound ranges (the Params slot is a dynamic offset, so it is not part of
  // the key): a training step binds the same pooled buffers every step, and createBindGroup is ~40 % of a dispatch's
  // CPU time. Entries of a buried buffer are dropped; the whole cache is cleared past BIND_GROUP_CACHE entries.
  private bindGroups = new Map<string, GPUBindGroup>();
  private bindGroupKeys = new Map<GPUBuffer, string[]>();
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private lastLabel = new WeakMap<GPUBuffer, string>(); // the label of the tensor a pooled buffer last held
  private nextBufferId = 1;
  /** bind groups created so far (a repeated training step creates none) */
  bindGroupsCreated = 0;
  /** pipelines created so far and the host time spent creating them (shader compilation: ~1.4 s per big matmul
   * variant on SwiftShader, where it is a visible share of a short run) */
  pipelinesCreated = 0;
  pipelineMs = 0;
  private fatal: string | null = null;
  private graveyard: GPUBuffer[] = [];
  private waiters = new Set<(e: Error) => void>();
  /** bytes of live tensors (what the model holds now); `peakBytes` is their high-water mark (resettable by benches) */
  bytesAllocated = 0;
  peakBytes = 0;
  dispatchCount = 0;
  /** queue submits so far (each upload and readback submits what was recorded before it) */
  submitCount = 0;
  /** GPUBuffers created for tensors so far (with the pool, a repeated training step creates none) */
  buffersCreated = 0;
  /**
   * Buffer pool (a caching allocator): a released tensor's buffer waits for the next tensor that fits it (see
   * poolFit), so a training or evaluation loop stops creating (and Dawn stops zero-filling) buffers after its first
   * steps. Pooled bytes are bounded: live + pooled stays within (1 + poolHeadroom) × the largest live total seen so
   * far (the least recently released buffers go first). A reused buffer
   * holds old data: every kernel writes what it later reads (INSTRUCTALIGN_POOL_POISON=1 fills reused buffers with
   * NaN bits to prove it; the test suite does). INSTRUCTALIGN_NO_POOL=1 or `pooling = false` turns it off.
   */
  pooling = !(typeof process !== 'undefined' && process.env?.INSTRUCTALIGN_NO_POOL);
  poison = typeof process !== 'undefined' && !!process.env?.INSTRUCTALIGN_POOL_POISON;
  private pool = new Map<number, GPUBuffer[]>();
  private poolSizes: number[] = []; // the pool's sizes, ascending
  /**
   * A request may take a pooled buffer up to (1 + poolFit)× its size (2×; best fit first): training batches are
   * padded to their longest row, so shapes vary a little from step to step.
   */
  poolFit = 1;
  private pooledOrder = new Map<GPUBuffer, number>(); // insertion order = release order (oldest first)
  pooledBytes = 0;
  /** live + pooled bytes may reach (1 + poolHeadroom) × the largest live total (buffers come in many sizes; a BLOOM
   * training step needs +1–2 %, see docs/performance.md) */
  poolHeadroom = 0.1;
  /** high-water mark of live + pooled bytes: what the GPU really holds for tensors (resettable like peakBytes) */
  peakResident = 0;
  private liveHighWater = 0; // the pool's bound; unlike peakBytes never reset
  private staging = new Map<number, GPUBuffer[]>(); // unmapped MAP_READ buffers for readBytes, by size
  /**
   * Memory planning (`instructalign bench --memory`): buffers are counted (stand-ins, nothing allocated; the pool is
   * simulated too) and every dispatch is checked (pipeline, bindings, limits) as usual, but no dispatch or upload is
   * recorded, so a model's peak memory for a shape is known exactly on any adapter in seconds. Results read back are
   * zeros.
   */
  get dryRun(): boolean {
    return this.dry;
  }
  set dryRun(on: boolean) {
    // a dry run's stand-in buffers and real buffers never share the pool
    if (on !== this.dry) this.trimPool();
    this.dry = on;
  }
  private dry = false;
  private dryBuffers = new WeakSet<GPUBuffer>();

  constructor(readonly handle: DeviceHandle) {
    this.device = handle.device;
    handle.lost.then((m) => {
      this.fatal = m;
      for (const w of this.waiters) w(new Error(m));
    });
  }

  get maxBinding(): number {
    return this.handle.limits.maxStorageBufferBindingSize;
  }
  get maxBuffer(): number {
    return this.handle.limits.maxBufferSize;
  }

  // ---- memory -------------------------------------------------------------------------------------------------
  tensor(numel: number, dtype: TDType, label: string): Tensor {
    const size = Math.max(16, Math.ceil(bytesFor(dtype, numel) / 16) * 16);
    if (size > this.maxBuffer)
      throw new Error(
        `tensor ${label} needs ${size} bytes, more than this adapter's maxBufferSize ${this.maxBuffer}: split it`,
      );
    const reused = this.fromPool(size, label);
    this.bytesAllocated += reused ? reused.size : size; // a reused buffer may be a little larger: counted whole
    this.peakBytes = Math.max(this.peakBytes, this.bytesAllocated);
    this.liveHighWater = Math.max(this.liveHighWater, this.bytesAllocated);
    const buffer = reused ?? this.newBuffer(size, label);
    this.peakResident = Math.max(this.peakResident, this.bytesAllocated + this.pooledBytes);
    return new Tensor(this, buffer, numel, dtype, label);
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
    if (this.dryRun) {
      // counted, not allocated: a stand-in that only the dry run's bookkeeping ever sees
      const fake = { label, size, destroy() {} } as unknown as GPUBuffer;
      this.dryBuffers.add(fake);
      return fake;
    }
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
    if (this.poison && !this.dryRun) {
      // queue.writeBuffer runs before commands recorded but not yet submitted: submit those first
      this.flush();
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
  trimPool(): void {
    for (const [b, size] of this.pooledOrder) {
      this.unpool(b, size);
      this.bury(b);
    }
    this.liveHighWater = this.bytesAllocated;
  }

  release(t: Tensor): void {
    const size = t.buffer.size;
    this.bytesAllocated -= size;
    if (this.pooling) {
      // Reuse is safe at once: later commands run after the queued ones that still use the buffer.
      let list = this.pool.get(size);
      if (!list) {
        this.pool.set(size, (list = []));
        this.poolSizes.splice(lowerBound(this.poolSizes, size), 0, size);
      }
      list.push(t.buffer);
      this.pooledOrder.set(t.buffer, size);
      this.pooledBytes += size;
      return;
    }
    this.bury(t.buffer);
  }

  /**
   * A buffer no tensor will use again: destroyed only once the queue is idle (destroying buffers that in-flight work
   * uses crashes some drivers, seen with SwiftShader, although WebGPU allows it); its cached bind groups go now.
   */
  private bury(b: GPUBuffer): void {
    this.graveyard.push(b);
    const keys = this.bindGroupKeys.get(b);
    if (keys) {
      for (const k of keys) this.bindGroups.delete(k);
      this.bindGroupKeys.delete(b);
    }
  }

  upload(t: Tensor, data: ArrayBufferView, elementOffset = 0): void {
    if (this.dryRun) return;
    // queue.writeBuffer runs before commands recorded but not yet submitted: submit those first.
    this.flush();
    const byteOff = t.byteOffset + bytesFor(t.dtype, elementOffset);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const padded = bytes.byteLength % 4 ? new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4) : bytes;
    if (padded !== bytes) padded.set(bytes);
    this.device.queue.writeBuffer(t.buffer, byteOff, padded as Uint8Array<ArrayBuffer>);
  }

  fromF32(data: Float32Array, label: string): Tensor {
    const t = this.tensor(data.length, 'f32', label);
    this.upload(t, data);
    return t;
  }
  fromI32(data: Int32Array, label: string): Tensor {
    const t = this.tensor(data.length, 'i32', label);
    this.upload(t, data);
    return t;
  }
  fromU32(data: Uint32Array, label: string): Tensor {
    const t = this.tensor(data.length, 'u32', label);
    this.upload(t, data);
    return t;
  }

  async readBytes(t: Tensor): Promise<ArrayBuffer> {
    const size = Math.ceil(t.byteLength / 4) * 4;
    if (this.dryBuffers.has(t.buffer)) return new ArrayBuffer(size);
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
    const dead = this.graveyard;
    this.graveyard = [];
    await this.check();
    await this.orLost(staging.mapAsync(GPUMapMode.READ));
    const out = staging.getMappedRange().slice(0);
    staging.unmap();
    // small readbacks (losses, norms, logits of a step) recur every step: keep a few staging buffers
    const kept = [...this.staging.values()].reduce((n, l) => n + l.length, 0);
    if (this.pooling && size <= STAGING_KEEP_BYTES && kept < STAGING_KEEP) {
      if (!this.staging.has(size)) this.staging.set(size, []);
      this.staging.get(size)!.push(staging);
    } else staging.destroy();
    for (const b of dead) b.destroy(); // everything submitted before the copy has finished
    return out;
  }

  async readF32(t: Tensor): Promise<Float32Array> {
    const buf = await this.readBytes(t);
    if (t.dtype === 'f32') return new Float32Array(buf, 0, t.numel);
    if (t.dtype === 'f16p') {
      return f16ArrayToF32(new Uint16Array(buf, 0, t.numel));
    }
    throw new Error(`readF32 on ${t.dtype} tensor ${t.label}`);
  }
  async readI32(t: Tensor): Promise<Int32Array> {
    return new Int32Array(await this.readBytes(t), 0, t.numel);
  }
  async readU32(t: Tensor): Promise<Uint32Array> {
    return new Uint32Array(await this.readBytes(t), 0, t.numel);
  }

  copy(src: Tensor, dst: Tensor, numel = src.numel, srcStart = 0, dstStart = 0): void {
    if (src.dtype !== dst.dtype) throw new Error(`copy ${src.label}→${dst.label}: dtype ${src.dtype} vs ${dst.dtype}`);
    const size = bytesFor(src.dtype, numel);
    if (size % 4) throw new Error(`copy ${src.label}→${dst.label}: ${size} bytes is not a multiple of 4`);
    if (this.dryRun) return;
    this.endPass();
    this.enc().copyBufferToBuffer(
      src.buffer,
      src.byteOffset + bytesFor(src.dtype, srcStart),
      dst.buffer,
      dst.byteOffset + bytesFor(dst.dtype, dstStart),
      size,
    );
  }

  // ---- pipelines ----------------------------------------------------------------------------------------------
  pipeline(shader: string, entry: string, defines: Record<string, boolean | number> = {}): PipelineEntry {
    const key = `${shader}:${entry}:${JSON.stringify(defines)}`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const raw = SHADERS[shader];
    if (raw === undefined)
      throw new Error(
        `no shader "${shader}.wgsl" (known: ${Object.keys(SHADERS).join(', ')}); run \`node build.mjs gen\``,
      );
    const code = preprocess(raw, defines, shader);
    const all = reflect(code, shader);
    let used: Set<string>;
    try {
      used = usedBindings(
        code,
        entry,
        all.bindings.map((b) => b.name),
      );
    } catch {
      throw new Error(`shader ${shader}.wgsl has no entry point "${entry}"`);
    }
    const refl = { ...all, bindings: all.bindings.filter((b) => used.has(b.name)) };
    const entries: GPUBindGroupLayoutEntry[] = refl.bindings.map((b) => ({
      binding: b.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer:
        b.kind === 'uniform'
          ? { type: 'uniform', hasDynamicOffset: true }
          : { type: b.kind === 'read' ? 'read-only-storage' : 'storage' },
    }));
    const label = `${shader}:${entry}`;
    const module = this.device.createShaderModule({ label, code });
    const layout = this.device.createBindGroupLayout({ label, entries });
    const t0 = performance.now();
    const pipeline = this.device.createComputePipeline({
      label,
      layout: this.device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: entry },
    });
    this.pipelineMs += performance.now() - t0;
    this.pipelinesCreated++;
    // Compilation results arrive asynchronously; they are awaited (and thrown) at the next check(). Pipeline
    // validation errors reach the device's uncapturederror handler (error scopes crash Dawn+SwiftShader here).
    this.pendingChecks.push(
      (async () => {
        const info = await module.getCompilationInfo();
        const errs = info.messages.filter((m) => m.type === 'error');
        const lineOffset = hasPrologue(code) ? 1 : 0;
        if (errs.length) {
          throw new Error(
            `shader ${shader}.wgsl (entry ${entry}) failed to compile:\n` +
              errs
                .map((m) => `  shaders/${shader}.wgsl:${m.lineNum - lineOffset}:${m.linePos}: ${m.message}`)
                .join('\n'),
          );
        }
      })(),
    );
    const e = { pipeline, layout, refl, key };
    this.pipelines.set(key, e);
    return e;
  }

  /** A GPU wait that fails with the device-loss message instead of hanging when the device is lost meanwhile. */
  private orLost<T>(p: Promise<T>): Promise<T> {
    if (this.fatal) return Promise.reject(new Error(this.fatal));
    return new Promise<T>((resolve, reject) => {
      this.waiters.add(reject);
      p.then(resolve, reject).finally(() => this.waiters.delete(reject));
    });
  }

  /** Awaits shader compilation/validation results and any fatal device error; throws the first. */
  async check(): Promise<void> {
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    await Promise.all(checks);
    if (this.fatal) throw new Error(this.fatal);
  }

  // ---- dispatch -----------------------------------------------------------------------------------------------
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

  private uniformSlot(data: ArrayBuffer): { buffer: GPUBuffer; offset: number } {
    this.uniforms ??= this.device.createBuffer({
      label: 'params',
      size: SLOT * FLUSH_EVERY,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const offset = this.slotsUsed++ * SLOT; // run() flushes before the slots run out
    new Uint8Array(this.uniformStaging, offset, data.byteLength).set(new Uint8Array(data));
    return { buffer: this.uniforms, offset };
  }

  private dummy(kind: string): GPUBuffer {
    let d = this.dummies.get(kind);
    if (!d) {
      d = this.device.createBuffer({
        label: `dummy:${kind}`,
        size: 256,
        usage: kind === 'uniform' ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE,
      });
      this.dummies.set(kind, d);
    }
    return d;
  }

  /** Records one dispatch. Bindings are by the WGSL variable name; `params` fills `struct Params` by field name. */
  run(
    shader: string,
    entry: string,
    bindings: Bindings,
    params: Params,
    workgroups: [number, number?, number?],
    defines: Record<string, boolean | number> = {},
  ): void {
    if (this.fatal) throw new Error(this.fatal);
    const p = this.pipeline(shader, entry, defines);
    const maxWg = this.handle.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = workgroups;
    if (x > maxWg || y > maxWg || z > maxWg)
      throw new Error(`${shader}:${entry}: dispatch ${x}×${y}×${z} exceeds maxComputeWorkgroupsPerDimension ${maxWg}`);
    if (x === 0 || y === 0 || z === 0) return;
    const entries: GPUBindGroupEntry[] = [];
    let usedDummyRW = 0;
    let key = p.key;
    let dynamicOffset = -1;
    this.checkAliasing(p, bindings, shader, entry);
    for (const b of p.refl.bindings) {
      if (b.kind === 'uniform') {
        const packed = this.packParams(p, params, shader, entry);
        if (!this.dryRun) {
          const slot = this.uniformSlot(packed);
          dynamicOffset = slot.offset;
          entries.push({ binding: b.binding, resource: { buffer: slot.buffer, offset: 0, size: SLOT } });
        }
        continue;
      }
      const t = bindings[b.name];
      if (!t) {
        // An unused slot of a multi-entry shader: writable dummies must not alias each other.
        const buf = this.dummy(b.kind === 'read' ? 'read' : `rw${usedDummyRW++}`);
        entries.push({ binding: b.binding, resource: { buffer: buf, offset: 0, size: 256 } });
        key += `|d${this.bufferId(buf)}`;
        continue;
      }
      if (t.byteLength > this.maxBinding)
        throw new Error(
          `${shader}:${entry}: binding ${b.name} (${t.label}) is ${t.byteLength} bytes, over maxStorageBufferBindingSize ${this.maxBinding}: shard it`,
        );
      const size = Math.max(4, Math.ceil(t.byteLength / 4) * 4);
      entries.push({ binding: b.binding, resource: { buffer: t.buffer, offset: t.byteOffset, size } });
      if (!this.dryRun) key += `|${this.bufferId(t.buffer)}:${t.byteOffset}:${size}`;
    }
    if (this.dryRun) {
      this.dispatchCount++;
      return;
    }
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size >= BIND_GROUP_CACHE) {
        this.bindGroups.clear();
        this.bindGroupKeys.clear();
      }
      bg = this.device.createBindGroup({ label: `${shader}:${entry}`, layout: p.layout, entries });
      this.bindGroupsCreated++;
      this.bindGroups.set(key, bg);
      for (const e of entries) {
        const buf = (e.resource as GPUBufferBinding).buffer;
        let ks = this.bindGroupKeys.get(buf);
        if (!ks) this.bindGroupKeys.set(buf, (ks = []));
        // a long-lived buffer (a weight) collects the keys of bind groups dropped with their other buffers: prune
        if (ks.length >= 64 && (ks.length & (ks.length - 1)) === 0) {
          const live = ks.filter((k) => this.bindGroups.has(k));
          ks.length = 0;
          ks.push(...live);
        }
        ks.push(key);
      }
    }
    if (!this.pass) this.pass = this.enc().beginComputePass({ label: 'instructalign' });
    this.pass.setPipeline(p.pipeline);
    if (dynamicOffset >= 0) this.pass.setBindGroup(0, bg, [dynamicOffset]);
    else this.pass.setBindGroup(0, bg);
    this.pass.dispatchWorkgroups(x, y, z);
    this.dispatchCount++;
    if (DEBUG_DISPATCH) {
      // debugging aid: each dispatch is submitted alone and given time to run, so a crash points at its kernel
      console.error(`dispatch ${shader}:${entry} ${x}x${y}x${z} ${JSON.stringify(params)}`);
      this.flush();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    }
    if (this.slotsUsed >= FLUSH_EVERY) this.flush(); // a 560M training step records ~1,000 dispatches
  }

  private bufferId(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) this.bufferIds.set(b, (id = this.nextBufferId++));
    return id;
  }

  /** A buffer bound writable must not be bound again in the same dispatch (WebGPU usage-scope rule). */
  private checkAliasing(p: PipelineEntry, bindings: Bindings, shader: string, entry: string): void {
    const used = p.refl.bindings.filter((b) => b.kind !== 'uniform' && bindings[b.name]);
    for (const w of used) {
      if (w.kind !== 'read_write') continue;
      for (const o of used) {
        if (o !== w && bindings[o.name]!.buffer === bindings[w.name]!.buffer) {
          throw new Error(
            `${shader}:${entry}: ${bindings[w.name]!.label} is bound both as writable "${w.name}" and as "${o.name}"; use a separate output (or the in-place entry point)`,
          );
        }
      }
    }
  }

  private packParams(p: PipelineEntry, params: Params, shader: string, entry: string): ArrayBuffer {
    const fields = p.refl.params;
    const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
    const dv = new DataView(buf);
    fields.forEach((f, i) => {
      const v = params[f.name] ?? 0;
      if (!Number.isFinite(v)) throw new Error(`${shader}:${entry}: param ${f.name} = ${v}`);
      if (f.type === 'f32') dv.setFloat32(i * 4, v, true);
      else if (f.type === 'i32') dv.setInt32(i * 4, v, true);
      else dv.setUint32(i * 4, v >>> 0, true);
    });
    for (const k of Object.keys(params)) {
      if (!fields.some((f) => f.name === k))
        throw new Error(
          `${shader}:${entry}: unknown param "${k}" (struct Params has ${fields.map((f) => f.name).join(', ')})`,
        );
    }
    return buf;
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

  async sync(): Promise<void> {
    this.flush();
    const dead = this.graveyard;
    this.graveyard = [];
    await this.orLost(this.device.queue.onSubmittedWorkDone());
    for (const b of dead) b.destroy();
    await this.check();
  }

  destroy(): void {
    this.flush();
    this.device.destroy();
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
