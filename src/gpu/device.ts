// The only module that knows Node (npm `webgpu`, Dawn) from the browser (navigator.gpu): adapter + device setup.
// In Node without any Vulkan driver it falls back to Chromium's SwiftShader by itself.

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: 'node-dawn' | 'browser';
  swiftshader: boolean;
}

export interface DeviceHandle {
  device: GPUDevice;
  adapter: AdapterSummary;
  features: Set<string>;
  limits: Record<string, number>;
  /** first fatal error (device lost / uncaptured validation error), surfaced by the kernel runner */
  lost: Promise<string>;
  /** WGSL language features (e.g. packed_4x8_integer_dot_product) */
  wgslFeatures: Set<string>;
  /** the adapter's [min, max] subgroup size, where it says (4, 4 on SwiftShader; 32, 32 on NVIDIA) */
  subgroupSizes?: [number, number];
  /** whether Dawn bounds-checks buffer accesses (DeviceOptions.robustness) */
  robustness: boolean;
}

export interface DeviceOptions {
  log?: (msg: string) => void;
  powerPreference?: GPUPowerPreference;
  /** skip optional features (useful to test fallbacks) */
  noOptionalFeatures?: boolean;
  /** keep WebGPU's default limits instead of the adapter's (tests that large models still fit, by sharding) */
  defaultLimits?: boolean;
  /**
   * Dawn's bounds clamps on every buffer access (default true). false skips them (×1.36 on a SwiftShader forward,
   * docs/performance.md); every kernel passes the test suite without them, but an out-of-range access would then
   * touch memory it should not, so it is opt-in (Node only; INSTRUCTALIGN_NO_ROBUSTNESS=1 through Gpu.open).
   */
  robustness?: boolean;
  /** extra Dawn instance flags (Node; INSTRUCTALIGN_DAWN_FLAGS through Gpu.open, e.g. enable-dawn-features=dump_shaders) */
  dawnFlags?: string[];
}

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const SYSTEM_ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
const OPTIONAL_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;
const LIMITS_WANTED = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
] as const;

export const NO_ADAPTER_HELP =
  'No WebGPU adapter found. Install a GPU Vulkan driver; on a machine without a GPU (Debian/Ubuntu): ' +
  '`apt-get install -y chromium libvulkan1` and instructalign uses SwiftShader by itself ' +
  `(or set VK_ICD_FILENAMES=${SWIFTSHADER_ICD}).`;

const isNode =
  typeof process !== 'undefined' &&
  !!process.versions?.node &&
  typeof (globalThis as any).navigator?.gpu === 'undefined';

let saidSwiftShader = false;
// Dawn's GPU instance must outlive every device made from it: if the JS object is garbage-collected, Dawn tears
// the instance down under running work and the process crashes (seen as random segfaults on SwiftShader).
const keepAlive: unknown[] = [];

/**
 * Whether Dawn finds an adapter through the system's Vulkan drivers. Probed in a child process because a second
 * Dawn instance in one process (after changing VK_ICD_FILENAMES) crashes SwiftShader; Mesa's lavapipe or GPU
 * drivers without their hardware are listed as ICDs yet give no adapter.
 */
async function systemDriverWorks(): Promise<boolean> {
  const { execFileSync } = await import('node:child_process');
  const { createRequire } = await import('node:module');
  const { pathToFileURL } = await import('node:url');
  let entry: string;
  try {
    entry = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  } catch {
    return false;
  }
  const code = `const m = await import(${JSON.stringify(entry)}); const a = await m.create([]).requestAdapter(); process.stdout.write(a ? 'yes' : 'no'); process.exit(0);`;
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60000,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
    return out.trim() === 'yes';
  } catch {
    return false;
  }
}

async function nodeGpu(opts: DeviceOptions, log: (m: string) => void): Promise<{ gpu: GPU; usedSwiftShader: boolean }> {
  const fs = await import('node:fs');
  let usedSwiftShader = false;
  // The Vulkan loader reads VK_ICD_FILENAMES when Dawn creates its instance, so it must be set before create().
  if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && fs.existsSync(SWIFTSHADER_ICD)) {
    const hasSystemIcd = SYSTEM_ICD_DIRS.some(
      (d) => fs.existsSync(d) && fs.readdirSync(d).some((f) => f.endsWith('.json')),
    );
    if (!hasSystemIcd || !(await systemDriverWorks())) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      usedSwiftShader = true;
    }
  }
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp'; // silences SwiftShader's startup noise
  let mod: any;
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new Error(
      `cannot load the npm package "webgpu" (Dawn for Node): ${(e as Error).message}. Run \`npm install\`.`,
    );
  }
  Object.assign(globalThis, mod.globals);
  if (usedSwiftShader && !saidSwiftShader) {
    saidSwiftShader = true;
    log(`no usable GPU Vulkan driver: using SwiftShader (CPU) from ${SWIFTSHADER_ICD}; expect ~1 GFLOP/s`);
  }
  const flags = [...(opts.dawnFlags ?? [])];
  if (opts.robustness === false) {
    flags.push('enable-dawn-features=disable_robustness');
    log('robustness off: buffer accesses are not bounds-checked (faster; a kernel bug could corrupt memory)');
  }
  return { gpu: mod.create(flags) as GPU, usedSwiftShader };
}

async function requestAdapter(gpu: GPU, opts: DeviceOptions): Promise<GPUAdapter | null> {
  return gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
}

export async function openDevice(opts: DeviceOptions = {}): Promise<DeviceHandle> {
  const log = opts.log ?? ((m: string) => console.error(`[instructalign] ${m}`));
  let gpu: GPU;
  let usedSwiftShader = false;
  if (isNode) ({ gpu, usedSwiftShader } = await nodeGpu(opts, log));
  else {
    gpu = (globalThis as any).navigator?.gpu;
    if (!gpu)
      throw new Error(
        'WebGPU is not available in this browser/context (navigator.gpu is missing). Use a recent Chrome/Edge, serve the page from https or http://127.0.0.1, and for Chromium on Linux start it with --enable-unsafe-webgpu.',
      );
  }
  const adapter = await requestAdapter(gpu, opts);
  keepAlive.push(gpu, adapter);
  if (!adapter) throw new Error(NO_ADAPTER_HELP);

  const features = new Set<string>();
  if (!opts.noOptionalFeatures) for (const f of OPTIONAL_FEATURES) if (adapter.features.has(f)) features.add(f);
  const requiredLimits: Record<string, number> = {};
  for (const k of opts.defaultLimits ? [] : LIMITS_WANTED) {
    const v = (adapter.limits as any)[k];
    // alignment limits are minimums: asking for the adapter's value is always allowed
    if (typeof v === 'number') requiredLimits[k] = v;
  }
  const device = await adapter.requestDevice({
    label: 'instructalign',
    requiredFeatures: [...features] as GPUFeatureName[],
    requiredLimits,
  });
  const info: any = (adapter as any).info ?? {};
  const summary: AdapterSummary = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    backend: isNode ? 'node-dawn' : 'browser',
    swiftshader: /swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`) || usedSwiftShader,
  };
  const limits: Record<string, number> = {};
  for (const k of LIMITS_WANTED) limits[k] = (device.limits as any)[k];
  let onLost!: (s: string) => void;
  const lost = new Promise<string>((r) => (onLost = r));
  device.lost.then((i) => {
    if (i.reason !== 'destroyed') {
      const m = `WebGPU device lost (${i.reason}): ${i.message}`;
      log(m);
      onLost(m);
    }
  });
  device.addEventListener('uncapturederror', (ev: any) => {
    const m = `WebGPU error: ${ev.error?.message ?? ev}`;
    log(m);
    onLost(m);
  });
  const wgslFeatures = new Set<string>([...((gpu as any).wgslLanguageFeatures ?? [])] as string[]);
  const sgMin = info.subgroupMinSize,
    sgMax = info.subgroupMaxSize;
  const subgroupSizes: [number, number] | undefined =
    typeof sgMin === 'number' && typeof sgMax === 'number' && sgMin > 0 ? [sgMin, sgMax] : undefined;
  const robustness = !(isNode && opts.robustness === false);
  return { device, adapter: summary, features, limits, lost, wgslFeatures, subgroupSizes, robustness };
}

export function describeAdapter(h: DeviceHandle): string {
  const a = h.adapter;
  return (
    `${a.vendor || '?'} ${a.architecture || ''} ${a.description || a.device || ''}`.replace(/\s+/g, ' ').trim() +
    ` (${a.backend}${a.swiftshader ? ', SwiftShader CPU' : ''})`
  );
}
