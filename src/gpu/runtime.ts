// Gpu: one device's kernel runner, a facade over named parts: tensors from a buffer pool (pool.ts), pipelines and
// bind groups (pipelines.ts), submission and readback (submit.ts), dry-run planning (dry-run.ts), and the kernel
// policy the ops read (policy.ts). `run` records one dispatch; `withPolicy` gives a view of the same device (same
// parts) with other kernel choices.
import { openDevice, type DeviceHandle, type DeviceOptions } from './device.ts';
import { f16ArrayToF32 } from './f16.ts';
import { envSettings, mergeOverrides, resolvePolicy, type KernelPolicy, type PolicyOverrides } from './policy.ts';
import { DryRun } from './dry-run.ts';
import { TensorPool } from './pool.ts';
import { BindGroupCache, PipelineCache, type PipelineEntry } from './pipelines.ts';
import { SLOT, Submission } from './submit.ts';
import { bytesFor, Tensor, type TDType } from './tensor.ts';

export { Tensor, type TDType } from './tensor.ts';
export type Bindings = Record<string, Tensor | undefined>;
export type Params = Record<string, number>;

/** Settings of a Gpu beyond its kernel policy (`Gpu.open` takes them from the environment). */
export interface GpuOptions {
  /** kernel choices over the adapter's defaults */
  policy?: PolicyOverrides;
  /** buffer pool on (default) or off (INSTRUCTALIGN_NO_POOL=1) */
  pooling?: boolean;
  /** fill reused buffers with NaN bits (INSTRUCTALIGN_POOL_POISON=1) */
  poison?: boolean;
  /** log every dispatch and run them one at a time (INSTRUCTALIGN_DEBUG_DISPATCH=1) */
  debugDispatch?: boolean;
  /** wait for the GPU without busy polling under Node (default true; INSTRUCTALIGN_BUSY_WAIT=1: false) */
  quietWait?: boolean;
}

/** The state one device's views share. */
interface Parts {
  dry: DryRun;
  memory: TensorPool;
  pipelines: PipelineCache;
  bindGroups: BindGroupCache;
  queue: Submission;
  /** per-device state of the ops (e.g. the matmul tuner's table), by owner */
  opState: Map<string, unknown>;
  debugDispatch: boolean;
  counters: { dispatches: number };
}

export class Gpu {
  readonly device: GPUDevice;
  /** the kernel choices the ops read (read-only; `withPolicy` gives a view with others) */
  readonly policy: KernelPolicy;
  /** tensor memory: the buffer pool and live/peak byte counts */
  readonly memory: TensorPool;
  readonly pipelines: PipelineCache;
  readonly bindGroups: BindGroupCache;
  /** submission, uploads, copies and readbacks */
  readonly queue: Submission;
  private readonly parts: Parts;

  constructor(
    readonly handle: DeviceHandle,
    opts: GpuOptions = {},
    shared?: { parts: Parts; policy: KernelPolicy },
  ) {
    this.device = handle.device;
    this.policy = shared?.policy ?? resolvePolicy(facts(handle), opts.policy);
    this.parts = shared?.parts ?? newParts(handle, opts);
    ({ memory: this.memory, pipelines: this.pipelines, bindGroups: this.bindGroups, queue: this.queue } = this.parts);
  }

  /**
   * Opens the adapter's device with the environment's settings (INSTRUCTALIGN_MATMUL_TUNE, _NO_ROBUSTNESS,
   * _DAWN_FLAGS, _NO_POOL, _POOL_POISON, _DEBUG_DISPATCH, _BUSY_WAIT: read here, once) under `opts`, which win.
   */
  static async open(
    opts: GpuOptions & Pick<DeviceOptions, 'log' | 'defaultLimits' | 'noOptionalFeatures'> = {},
  ): Promise<Gpu> {
    const env = envSettings();
    const policy = mergeOverrides(env.policy, opts.policy);
    const handle = await openDevice({
      log: opts.log,
      defaultLimits: opts.defaultLimits,
      noOptionalFeatures: opts.noOptionalFeatures,
      robustness: policy.robustness ?? true,
      dawnFlags: env.dawnFlags,
    });
    return new Gpu(handle, {
      pooling: !env.noPool,
      poison: env.poolPoison,
      debugDispatch: env.debugDispatch,
      quietWait: !env.busyWait,
      ...opts,
      policy,
    });
  }

  /**
   * A view of this device with `overrides` applied over this policy: it shares tensors, pool, pipelines and the
   * queue (work recorded through either runs in order), only the kernel choices differ.
   */
  withPolicy(overrides: PolicyOverrides): Gpu {
    const policy = resolvePolicy(facts(this.handle), overrides, this.policy);
    return new Gpu(this.handle, {}, { parts: this.parts, policy });
  }

  /** Per-device state of an op module (created by `init` on first use; shared by every view of the device). */
  opState<T>(owner: string, init: () => T): T {
    const m = this.parts.opState;
    if (!m.has(owner)) m.set(owner, init());
    return m.get(owner) as T;
  }

  get maxBinding(): number {
    return this.handle.limits.maxStorageBufferBindingSize;
  }
  get maxBuffer(): number {
    return this.handle.limits.maxBufferSize;
  }

  // ---- dry-run planning -----------------------------------------------------------------------------------------
  /**
   * Memory planning (`instructalign bench --memory`): buffers are counted (stand-ins, nothing allocated; the pool is
   * simulated too) and every dispatch is checked (pipeline, bindings, limits) as usual, but no dispatch or upload is
   * recorded. Results read back are zeros.
   */
  get dryRun(): boolean {
    return this.parts.dry.on;
  }
  set dryRun(on: boolean) {
    // a dry run's stand-in buffers and real buffers never share the pool
    if (on !== this.parts.dry.on) this.memory.trim();
    this.parts.dry.on = on;
  }

  // ---- memory (see TensorPool) --------------------------------------------------------------------------------
  tensor(numel: number, dtype: TDType, label: string): Tensor {
    const size = Math.max(16, Math.ceil(bytesFor(dtype, numel) / 16) * 16);
    if (size > this.maxBuffer)
      throw new Error(
        `tensor ${label} needs ${size} bytes, more than this adapter's maxBufferSize ${this.maxBuffer}: split it`,
      );
    return new Tensor(this, this.memory.take(size, label), numel, dtype, label);
  }
  release(t: Tensor): void {
    this.memory.give(t.buffer);
  }
  /** Destroys every pooled buffer (at the next idle point), e.g. when a model is unloaded. */
  trimPool(): void {
    this.memory.trim();
  }
  get pooling(): boolean {
    return this.memory.pooling;
  }
  set pooling(on: boolean) {
    this.memory.pooling = on;
  }
  get poison(): boolean {
    return this.memory.poison;
  }
  set poison(on: boolean) {
    this.memory.poison = on;
  }
  get poolHeadroom(): number {
    return this.memory.poolHeadroom;
  }
  set poolHeadroom(v: number) {
    this.memory.poolHeadroom = v;
  }
  get poolFit(): number {
    return this.memory.poolFit;
  }
  set poolFit(v: number) {
    this.memory.poolFit = v;
  }
  get bytesAllocated(): number {
    return this.memory.bytesAllocated;
  }
  /** high-water mark of live tensor bytes (resettable by benches) */
  get peakBytes(): number {
    return this.memory.peakBytes;
  }
  set peakBytes(v: number) {
    this.memory.peakBytes = v;
  }
  /** high-water mark of live + pooled bytes (resettable like peakBytes) */
  get peakResident(): number {
    return this.memory.peakResident;
  }
  set peakResident(v: number) {
    this.memory.peakResident = v;
  }
  get pooledBytes(): number {
    return this.memory.pooledBytes;
  }
  get buffersCreated(): number {
    return this.memory.buffersCreated;
  }

  // ---- counters ---------------------------------------------------------------------------------------------------
  get dispatchCount(): number {
    return this.parts.counters.dispatches;
  }
  get submitCount(): number {
    return this.queue.submitCount;
  }
  get bindGroupsCreated(): number {
    return this.bindGroups.created;
  }
  get pipelinesCreated(): number {
    return this.pipelines.pipelinesCreated;
  }
  get pipelineMs(): number {
    return this.pipelines.pipelineMs;
  }

  // ---- transfers (see Submission) ---------------------------------------------------------------------------------
  upload(t: Tensor, data: ArrayBufferView, elementOffset = 0): void {
    this.queue.upload(t, data, elementOffset);
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
  readBytes(t: Tensor): Promise<ArrayBuffer> {
    return this.queue.read(t, () => this.check());
  }
  async readF32(t: Tensor): Promise<Float32Array> {
    const buf = await this.readBytes(t);
    if (t.dtype === 'f32') return new Float32Array(buf, 0, t.numel);
    if (t.dtype === 'f16p') return f16ArrayToF32(new Uint16Array(buf, 0, t.numel));
    throw new Error(`readF32 on ${t.dtype} tensor ${t.label}`);
  }
  async readI32(t: Tensor): Promise<Int32Array> {
    return new Int32Array(await this.readBytes(t), 0, t.numel);
  }
  async readU32(t: Tensor): Promise<Uint32Array> {
    return new Uint32Array(await this.readBytes(t), 0, t.numel);
  }
  copy(src: Tensor, dst: Tensor, numel = src.numel, srcStart = 0, dstStart = 0): void {
    this.queue.copy(src, dst, numel, srcStart, dstStart);
  }

  // ---- pipelines ----------------------------------------------------------------------------------------------
  pipeline(shader: string, entry: string, defines: Record<string, boolean | number> = {}): PipelineEntry {
    return this.pipelines.get(shader, entry, defines);
  }

  /** Awaits shader compilation/validation results and any fatal device error; throws the first. */
  async check(): Promise<void> {
    await this.pipelines.check();
    if (this.queue.fatal) throw new Error(this.queue.fatal);
  }

  // ---- dispatch -----------------------------------------------------------------------------------------------
  /** Records one dispatch. Bindings are by the WGSL variable name; `params` fills `struct Params` by field name. */
  run(
    shader: string,
    entry: string,
    bindings: Bindings,
    params: Params,
    workgroups: [number, number?, number?],
    defines: Record<string, boolean | number> = {},
  ): void {
    if (this.queue.fatal) throw new Error(this.queue.fatal);
    const p = this.pipelines.get(shader, entry, defines);
    const maxWg = this.handle.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = workgroups;
    if (x > maxWg || y > maxWg || z > maxWg)
      throw new Error(`${shader}:${entry}: dispatch ${x}×${y}×${z} exceeds maxComputeWorkgroupsPerDimension ${maxWg}`);
    if (x === 0 || y === 0 || z === 0) return;
    checkAliasing(p, bindings, shader, entry);
    const dry = this.dryRun;
    const entries: GPUBindGroupEntry[] = [];
    let usedDummyRW = 0;
    let key = p.key;
    let dynamicOffset = -1;
    for (const b of p.refl.bindings) {
      if (b.kind === 'uniform') {
        const packed = packParams(p, params, shader, entry);
        if (!dry) {
          const slot = this.queue.uniformSlot(packed);
          dynamicOffset = slot.offset;
          entries.push({ binding: b.binding, resource: { buffer: slot.buffer, offset: 0, size: SLOT } });
        }
        continue;
      }
      const t = bindings[b.name];
      if (!t) {
        // An unused slot of a multi-entry shader: writable dummies must not alias each other.
        const buf = this.bindGroups.dummy(b.kind === 'read' ? 'read' : `rw${usedDummyRW++}`);
        entries.push({ binding: b.binding, resource: { buffer: buf, offset: 0, size: 256 } });
        key += `|d${this.bindGroups.id(buf)}`;
        continue;
      }
      if (t.byteLength > this.maxBinding)
        throw new Error(
          `${shader}:${entry}: binding ${b.name} (${t.label}) is ${t.byteLength} bytes, over maxStorageBufferBindingSize ${this.maxBinding}: shard it`,
        );
      const size = Math.max(4, Math.ceil(t.byteLength / 4) * 4);
      entries.push({ binding: b.binding, resource: { buffer: t.buffer, offset: t.byteOffset, size } });
      if (!dry) key += `|${this.bindGroups.id(t.buffer)}:${t.byteOffset}:${size}`;
    }
    this.parts.counters.dispatches++;
    if (dry) return;
    const bg = this.bindGroups.get(key, p, `${shader}:${entry}`, entries);
    const pass = this.queue.computePass();
    pass.setPipeline(p.pipeline);
    if (dynamicOffset >= 0) pass.setBindGroup(0, bg, [dynamicOffset]);
    else pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(x, y, z);
    if (this.parts.debugDispatch) {
      // debugging aid: each dispatch is submitted alone and given time to run, so a crash points at its kernel
      console.error(`dispatch ${shader}:${entry} ${x}x${y}x${z} ${JSON.stringify(params)}`);
      this.flush();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    }
    if (this.queue.slotsFull) this.flush(); // a 560M training step records ~1,000 dispatches
  }

  /** Submits everything recorded so far (params first). */
  flush(): void {
    this.queue.flush();
  }

  /** Submits, waits for the queue to be idle, then surfaces compilation and device errors. */
  async sync(): Promise<void> {
    await this.queue.idle();
    await this.check();
  }

  destroy(): void {
    this.flush();
    this.device.destroy();
  }
}

function facts(h: DeviceHandle) {
  return {
    swiftshader: h.adapter.swiftshader,
    fallback: h.adapter.fallback,
    features: h.features,
    robustness: h.robustness,
  };
}

function newParts(handle: DeviceHandle, opts: GpuOptions): Parts {
  const dry = new DryRun();
  const bindGroups = new BindGroupCache(handle.device);
  let queue: Submission | undefined;
  const memory = new TensorPool(handle.device, dry, {
    flush: () => queue!.flush(),
    forget: (b) => bindGroups.forget(b),
  });
  memory.pooling = opts.pooling ?? true;
  memory.poison = opts.poison ?? false;
  queue = new Submission(handle.device, memory, dry, handle.lost, handle.adapter.backend === 'node-dawn');
  queue.quiet = opts.quietWait ?? true;
  return {
    dry,
    memory,
    pipelines: new PipelineCache(handle.device),
    bindGroups,
    queue,
    opState: new Map(),
    debugDispatch: opts.debugDispatch ?? false,
    counters: { dispatches: 0 },
  };
}

/** A buffer bound writable must not be bound again in the same dispatch (WebGPU usage-scope rule). */
function checkAliasing(p: PipelineEntry, bindings: Bindings, shader: string, entry: string): void {
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

/** `params` packed as the shader's `struct Params` (field order and types from the shader itself). */
function packParams(p: PipelineEntry, params: Params, shader: string, entry: string): ArrayBuffer {
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
