// Pipelines and bind groups: compute pipelines cached by shader, entry and defines (with their compilation checks),
// and bind groups cached by pipeline and bound ranges.
import { SHADERS } from '../generated/assets.ts';
import { hasPrologue, preprocess, reflect, requiredFeatures, usedBindings, type ShaderReflection } from './wgsl.ts';

export interface PipelineEntry {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  refl: ShaderReflection;
  key: string;
}

const BIND_GROUP_CACHE = 8192;
/** GPUShaderStage.COMPUTE (the spec's constant: a layout can be described before a WebGPU global exists) */
const COMPUTE_STAGE = 4;

export class PipelineCache {
  private pipelines = new Map<string, PipelineEntry>();
  private pendingChecks: Promise<void>[] = [];
  /** pipelines created so far and the host time spent creating them (shader compilation: ~1.4 s per big matmul
   * variant on SwiftShader, where it is a visible share of a short run) */
  pipelinesCreated = 0;
  pipelineMs = 0;

  constructor(private device: GPUDevice) {}

  get(shader: string, entry: string, defines: Record<string, boolean | number> = {}): PipelineEntry {
    const key = `${shader}:${entry}:${JSON.stringify(defines)}`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const { code, refl, entries, label } = describePipeline(shader, entry, defines, this.device.features);
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
    this.pendingChecks.push(compileCheck(module, code, shader, entry));
    const e = { pipeline, layout, refl, key };
    this.pipelines.set(key, e);
    return e;
  }

  /** Shader, entry and defines of every pipeline created so far (test/gpu/shader-variants.test.ts checks them). */
  built(): { shader: string; entry: string; defines: Record<string, boolean | number> }[] {
    return [...this.pipelines.keys()].map((k) => {
      const [shader, entry, ...rest] = k.split(':');
      return { shader, entry, defines: JSON.parse(rest.join(':')) };
    });
  }

  /** Awaits the compilation results of the pipelines created since the last call; throws the first error. */
  async check(): Promise<void> {
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    await Promise.all(checks);
  }
}

/** What a pipeline is made of: the preprocessed WGSL and the bind group layout of the bindings its entry uses. */
export interface PipelineDescription {
  label: string;
  code: string;
  refl: ShaderReflection;
  entries: GPUBindGroupLayoutEntry[];
}

/**
 * The shader source and bind group layout of `shader`'s `entry` under `defines`, as PipelineCache creates them (also
 * what test/gpu/pipelines.test.ts compiles); throws when `features` (the device's) lack one the variant enables.
 */
export function describePipeline(
  shader: string,
  entry: string,
  defines: Record<string, boolean | number>,
  features: ReadonlySet<string> | GPUSupportedFeatures,
): PipelineDescription {
  const raw = SHADERS[shader];
  if (raw === undefined)
    throw new Error(
      `no shader "${shader}.wgsl" (known: ${Object.keys(SHADERS).join(', ')}); run \`node build.mjs gen\``,
    );
  const code = preprocess(raw, defines, shader);
  // a variant whose `enable` the device lacks would not compile (wgpu: no subgroups; SwiftShader: no f16)
  const missing = requiredFeatures(code).filter((f) => !features.has(f));
  if (missing.length)
    throw new Error(
      `${shader}.wgsl ${entry} with ${JSON.stringify(defines)} needs the device feature ${missing.join(', ')}, ` +
        'which this device lacks: the kernel policy must not choose it here',
    );
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
    visibility: COMPUTE_STAGE,
    buffer:
      b.kind === 'uniform'
        ? { type: 'uniform', hasDynamicOffset: true }
        : { type: b.kind === 'read' ? 'read-only-storage' : 'storage' },
  }));
  return { label: `${shader}:${entry}`, code, refl, entries };
}

async function compileCheck(module: GPUShaderModule, code: string, shader: string, entry: string): Promise<void> {
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((m) => m.type === 'error');
  const lineOffset = hasPrologue(code) ? 1 : 0;
  if (errs.length) {
    throw new Error(
      `shader ${shader}.wgsl (entry ${entry}) failed to compile:\n` +
        errs.map((m) => `  shaders/${shader}.wgsl:${m.lineNum - lineOffset}:${m.linePos}: ${m.message}`).join('\n'),
    );
  }
}

/**
 * Bind groups cached by pipeline and bound ranges (the Params slot is a dynamic offset, so it is not part of the
 * key): a training step binds the same pooled buffers every step, and createBindGroup is ~40 % of a dispatch's CPU
 * time. Entries of a buried buffer are dropped (forget); the whole cache is cleared past BIND_GROUP_CACHE entries.
 */
export class BindGroupCache {
  private groups = new Map<string, GPUBindGroup>();
  private keysOf = new Map<GPUBuffer, string[]>();
  private ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private dummies = new Map<string, GPUBuffer>();
  /** bind groups created so far (a repeated training step creates none) */
  created = 0;

  constructor(private device: GPUDevice) {}

  /** A small stable number for a buffer (bind-group keys). */
  id(b: GPUBuffer): number {
    let id = this.ids.get(b);
    if (id === undefined) this.ids.set(b, (id = this.nextId++));
    return id;
  }

  /** A 256-byte placeholder for an unused binding slot, one per kind (writable ones must not alias). */
  dummy(kind: string): GPUBuffer {
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

  get(key: string, p: PipelineEntry, label: string, entries: GPUBindGroupEntry[]): GPUBindGroup {
    const hit = this.groups.get(key);
    if (hit) return hit;
    if (this.groups.size >= BIND_GROUP_CACHE) {
      this.groups.clear();
      this.keysOf.clear();
    }
    const bg = this.device.createBindGroup({ label, layout: p.layout, entries });
    this.created++;
    this.groups.set(key, bg);
    for (const e of entries) {
      const buf = (e.resource as GPUBufferBinding).buffer;
      let ks = this.keysOf.get(buf);
      if (!ks) this.keysOf.set(buf, (ks = []));
      // a long-lived buffer (a weight) collects the keys of bind groups dropped with their other buffers: prune
      if (ks.length >= 64 && (ks.length & (ks.length - 1)) === 0) {
        const live = ks.filter((k) => this.groups.has(k));
        ks.length = 0;
        ks.push(...live);
      }
      ks.push(key);
    }
    return bg;
  }

  /** Drops the bind groups that bind `b` (a buffer about to be destroyed). */
  forget(b: GPUBuffer): void {
    const keys = this.keysOf.get(b);
    if (keys) {
      for (const k of keys) this.groups.delete(k);
      this.keysOf.delete(b);
    }
  }
}
