// The only module that knows Node (npm `webgpu`, Dawn) from the browser (navigator.gpu): adapter + device setup.
// In Node without any Vulkan driver it falls back to Chromium's SwiftShader by itself.

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  backend: 'node-dawn' | 'browser';
  swiftshader: boolean;
  /** a fallback (CPU) adapter: SwiftShader, Mesa's lavapipe, WARP… (gets the CPU kernel policy, whatever its vendor) */
  fallback: boolean;
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
  /** GPUPowerPreference, spelt out: the package's declarations name no WebGPU type aliases (build.mjs) */
  powerPreference?: 'low-power' | 'high-performance';
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

// Dawn's GPU instance must outlive every device made from it: if the JS object is garbage-collected, Dawn tears
// the instance down under running work and the process crashes (seen as random segfaults on SwiftShader). Each live
// device pins its instance and adapter here until it is lost or destroyed, so the set holds only live devices.
const pinned = new Set<{ gpu: GPU; adapter: GPUAdapter }>();

/** How many devices currently pin a Dawn instance (tests: destroyed devices leave nothing behind). */
export function pinnedDevices(): number {
  return pinned.size;
}

/** Which Vulkan driver Dawn was pointed at in this process (Node), and why: what `doctor` reports. */
export interface DriverChoice {
  /** swiftshader, lavapipe (Mesa on the CPU), system (the Vulkan loader's own list), or 'env' (VK_ICD_FILENAMES) */
  driver: 'swiftshader' | 'lavapipe' | 'system' | 'env';
  /** the ICD file the Vulkan loader reads, where one was chosen */
  icd?: string;
  reason: string;
}

/** INSTRUCTALIGN_VULKAN's values; unset or 'auto' = the default described at `chooseDriver`. */
export const VULKAN_CHOICES = ['auto', 'swiftshader', 'lavapipe', 'system'] as const;

let driverChoice: DriverChoice | undefined;
let driverReady: Promise<DriverChoice> | undefined;

/** The driver choice of this process (undefined in a browser, or before the first device). */
export function currentDriver(): DriverChoice | undefined {
  return driverChoice;
}

interface Probe {
  found: boolean;
  fallback?: boolean;
  description?: string;
}

/**
 * What Dawn finds through the system's Vulkan drivers. Probed in a child process because a second Dawn instance in
 * one process (after changing VK_ICD_FILENAMES) crashes SwiftShader; Mesa's lavapipe or GPU drivers without their
 * hardware are listed as ICDs yet give no adapter (Debian 12's lavapipe 22.3 is refused by Dawn).
 */
async function probeSystemDriver(): Promise<Probe> {
  const { execFileSync } = await import('node:child_process');
  const { createRequire } = await import('node:module');
  const { pathToFileURL } = await import('node:url');
  let entry: string;
  try {
    entry = pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href;
  } catch {
    return { found: false };
  }
  const code =
    `const m = await import(${JSON.stringify(entry)}); const a = await m.create([]).requestAdapter({ powerPreference: 'high-performance' });` +
    `process.stdout.write(JSON.stringify(a ? { found: true, fallback: !!(a.info?.isFallbackAdapter ?? a.isFallbackAdapter), ` +
    `description: a.info?.description || a.info?.device || '' } : { found: false })); process.exit(0);`;
  try {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60000,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' },
    });
    return JSON.parse(out.trim()) as Probe;
  } catch {
    return { found: false };
  }
}

/** Where INSTRUCTALIGN_VULKAN=lavapipe looks for Mesa's lavapipe ICD (Mesa >= 25: Dawn refuses older ones). */
export function lavapipeIcdCandidates(env: Record<string, string | undefined>, home: string): string[] {
  const cache = env.INSTRUCTALIGN_CACHE ?? `${env.XDG_CACHE_HOME || `${home}/.cache`}/instructalign`;
  return [
    ...(env.INSTRUCTALIGN_LAVAPIPE_ICD ? [env.INSTRUCTALIGN_LAVAPIPE_ICD] : []),
    `${cache}/lavapipe/lvp_icd.json`, // what .ci/lavapipe.sh writes (Mesa 25 from bookworm-backports, unpacked)
    ...SYSTEM_ICD_DIRS.flatMap((d) => [`${d}/lvp_icd.x86_64.json`, `${d}/lvp_icd.aarch64.json`, `${d}/lvp_icd.json`]),
  ];
}

/**
 * Picks the Vulkan driver before Dawn's instance exists (the loader reads VK_ICD_FILENAMES then).
 * INSTRUCTALIGN_VULKAN=swiftshader|lavapipe|system forces one. Unset (auto): VK_ICD_FILENAMES/VK_DRIVER_FILES set by
 * the user are kept; else the system's drivers are used when they give a real GPU, and SwiftShader (when Chromium's
 * is installed) whenever they give nothing or only a CPU (fallback) adapter such as Mesa's lavapipe, so that
 * installing Mesa never changes which CPU driver, hence which results, a run gets.
 */
async function chooseDriver(log: (m: string) => void): Promise<DriverChoice> {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const env = process.env;
  const want = (env.INSTRUCTALIGN_VULKAN ?? '').trim().toLowerCase() || 'auto';
  if (!(VULKAN_CHOICES as readonly string[]).includes(want))
    throw new Error(`INSTRUCTALIGN_VULKAN=${env.INSTRUCTALIGN_VULKAN}: use one of ${VULKAN_CHOICES.join(', ')}`);
  const setIcd = (icd: string) => {
    env.VK_ICD_FILENAMES = icd;
    delete env.VK_DRIVER_FILES; // newer loaders read this one first
    delete env.VK_ADD_DRIVER_FILES;
  };
  if (want === 'swiftshader') {
    if (!fs.existsSync(SWIFTSHADER_ICD))
      throw new Error(
        `INSTRUCTALIGN_VULKAN=swiftshader: ${SWIFTSHADER_ICD} is missing; install it with \`apt-get install -y chromium libvulkan1\``,
      );
    setIcd(SWIFTSHADER_ICD);
    return { driver: 'swiftshader', icd: SWIFTSHADER_ICD, reason: 'INSTRUCTALIGN_VULKAN=swiftshader' };
  }
  if (want === 'lavapipe') {
    const icd = lavapipeIcdCandidates(env, os.homedir()).find((f) => fs.existsSync(f));
    if (!icd)
      throw new Error(
        'INSTRUCTALIGN_VULKAN=lavapipe: no lavapipe ICD found (looked at ' +
          `${lavapipeIcdCandidates(env, os.homedir()).join(', ')}); run .ci/lavapipe.sh (Mesa 25 from Debian ` +
          'bookworm-backports, unpacked, not installed) or set INSTRUCTALIGN_LAVAPIPE_ICD to its lvp_icd.json',
      );
    setIcd(icd);
    return { driver: 'lavapipe', icd, reason: 'INSTRUCTALIGN_VULKAN=lavapipe' };
  }
  if (want === 'system') {
    delete env.VK_ICD_FILENAMES;
    delete env.VK_DRIVER_FILES;
    return { driver: 'system', reason: "INSTRUCTALIGN_VULKAN=system (the Vulkan loader's own driver list)" };
  }
  const userIcd = env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES;
  if (userIcd) {
    const name = env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : 'VK_DRIVER_FILES';
    const driver = /swiftshader/i.test(userIcd) ? 'swiftshader' : /lvp_icd/i.test(userIcd) ? 'lavapipe' : 'env';
    return { driver, icd: userIcd, reason: `${name} is set` };
  }
  if (!fs.existsSync(SWIFTSHADER_ICD)) return { driver: 'system', reason: 'no SwiftShader ICD; the system drivers' };
  const hasSystemIcd =
    !!env.VK_ADD_DRIVER_FILES ||
    SYSTEM_ICD_DIRS.some((d) => fs.existsSync(d) && fs.readdirSync(d).some((f) => f.endsWith('.json')));
  const probe = hasSystemIcd ? await probeSystemDriver() : { found: false };
  if (probe.found && !probe.fallback)
    return { driver: 'system', reason: `the system's Vulkan driver gives a GPU (${probe.description})` };
  setIcd(SWIFTSHADER_ICD);
  const reason = probe.found
    ? `the system's Vulkan driver gives only a CPU adapter (${probe.description}); ` +
      'SwiftShader is the default CPU driver (INSTRUCTALIGN_VULKAN=system or lavapipe to use that one)'
    : 'no usable GPU Vulkan driver';
  log(`${reason}: using SwiftShader (CPU) from ${SWIFTSHADER_ICD}; expect ~1 GFLOP/s`);
  return { driver: 'swiftshader', icd: SWIFTSHADER_ICD, reason };
}

async function nodeGpu(opts: DeviceOptions, log: (m: string) => void): Promise<GPU> {
  // The Vulkan loader reads VK_ICD_FILENAMES when Dawn creates its instance, so it must be set before create();
  // decided once per process (a second Dawn instance on another driver would crash).
  // The only process.env writes of the package happen here, once, before the process's first Dawn instance.
  driverChoice = await (driverReady ??= chooseDriver(log).then((c) => {
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp'; // silences SwiftShader's startup noise
    return c;
  }));
  let mod: any;
  try {
    mod = await import('webgpu');
  } catch (e) {
    throw new Error(
      `cannot load the npm package "webgpu" (Dawn for Node): ${(e as Error).message}. Run \`npm install\`.`,
    );
  }
  Object.assign(globalThis, mod.globals);
  const flags = [...(opts.dawnFlags ?? [])];
  if (opts.robustness === false) {
    flags.push('enable-dawn-features=disable_robustness');
    log('robustness off: buffer accesses are not bounds-checked (faster; a kernel bug could corrupt memory)');
  }
  return mod.create(flags) as GPU;
}

async function requestAdapter(gpu: GPU, opts: DeviceOptions): Promise<GPUAdapter | null> {
  return gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
}

export async function openDevice(opts: DeviceOptions = {}): Promise<DeviceHandle> {
  const log = opts.log ?? ((m: string) => console.error(`[instructalign] ${m}`));
  let gpu: GPU;
  if (isNode) gpu = await nodeGpu(opts, log);
  else {
    gpu = (globalThis as any).navigator?.gpu;
    if (!gpu)
      throw new Error(
        'WebGPU is not available in this browser/context (navigator.gpu is missing). Use a recent Chrome/Edge, serve the page from https or http://127.0.0.1, and for Chromium on Linux start it with --enable-unsafe-webgpu.',
      );
  }
  const adapter = await requestAdapter(gpu, opts);
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
  const pin = { gpu, adapter };
  pinned.add(pin);
  device.lost.then(() => pinned.delete(pin));
  const info: any = (adapter as any).info ?? {};
  const summary: AdapterSummary = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    backend: isNode ? 'node-dawn' : 'browser',
    swiftshader:
      /swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`) ||
      (isNode && driverChoice?.driver === 'swiftshader'),
    fallback: !!(info.isFallbackAdapter ?? (adapter as any).isFallbackAdapter),
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
  // Firefox blanks every field of adapter.info (fingerprinting): "unnamed adapter" rather than a bare "?"
  const named = !!(a.vendor || a.architecture || a.description || a.device);
  return (
    (named
      ? `${a.vendor || '?'} ${a.architecture || ''} ${a.description || a.device || ''}`.replace(/\s+/g, ' ').trim()
      : 'unnamed adapter') + ` (${a.backend}${a.swiftshader ? ', SwiftShader CPU' : a.fallback ? ', CPU' : ''})`
  );
}
