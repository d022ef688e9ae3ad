// KernelPolicy: which kernel every op runs on one device, decided once from the adapter's facts (and the
// environment, read where the runtime is created), overridable per runtime or per call site by passing overrides.
// Ops read `gpu.policy`; nothing here is module-level state (two runtimes in one process keep their own choices).

/** The matmul kernels (src/ops/matmul.ts): scalar, SwiftShader's register-block kernels, the GPU's tiled ones. */
export type MatmulKernel =
  | 'scalar'
  | 'vec4'
  | 'vec4sg'
  | 'vec4x16'
  | 'vec4x16sg'
  | 'tiled64'
  | 'tiled128'
  | 'tiled128k16'
  | 'tiled128k32';

/**
 * 'swiftshader' (the CPU family: SwiftShader and every fallback/CPU adapter): register-block matmul,
 * row-per-invocation reductions; 'gpu': tiled matmul, workgroup-per-row.
 */
export type KernelFamily = 'swiftshader' | 'gpu';
/** Matmul tuning (src/ops/matmul-tune.ts): 'auto' on real GPUs only, 'on' also on CPU adapters, 'off' never. */
export type TuneMode = 'auto' | 'on' | 'off';
export type FlashMode = 'auto' | 'always' | 'never';
/**
 * f16 arithmetic (shaders/matmul_f16.wgsl) for the X·Wᵀ of Linears whose weights are stored f16: 'f32acc' (f16
 * products summed in f32; the default where the device has shader-f16), 'f16acc' (summed in f16: measured by
 * `bench`), 'off' (f16 weights unpacked to f32, f32 math: the only choice without shader-f16, e.g. SwiftShader).
 */
export type F16Mode = 'off' | 'f32acc' | 'f16acc';

/** A device's resolved kernel choices (read-only: derive another with `resolvePolicy(facts, overrides, base)`). */
export interface KernelPolicy {
  /** the kernel family of matmul, and the default of every op's rowwise choice below */
  readonly family: KernelFamily;
  readonly matmul: {
    /** 'auto': by family and shape (chooseMatmulKernel), then the tuner's table; else this kernel everywhere */
    readonly kernel: 'auto' | MatmulKernel;
    /** the scalar kernel everywhere (the benchmarks' same-run baseline) */
    readonly naive: boolean;
    readonly tune: TuneMode;
  };
  readonly attention: {
    /** the ROWWISE kernels (one invocation per query row, vec4, no barriers) instead of workgroup-per-row */
    readonly rowwise: boolean;
    /** four query rows per invocation in the rowwise forward */
    readonly rows4: boolean;
    /**
     * Whether the probabilities [B, NH, Tq, Tk] are materialized. 'auto': inference never, training unless one
     * layer's probs would not fit a binding or Tk ≥ 1024; 'always': never materialized (lse + recomputed scores);
     * 'never': always materialized.
     */
    readonly flash: FlashMode;
    /** f16 arithmetic in inference attention of f16 models (attention.wgsl F16). On where `f16` is not 'off'. */
    readonly f16: boolean;
  };
  readonly layernorm: {
    readonly rowwise: boolean;
    /**
     * f16 arithmetic in LayerNorm and RMSNorm of f16 models (f16 weights: `--dtype f16`, `--fp16`'s compute copy):
     * f32 statistics, f16 affine (shaders/layernorm.wgsl, rmsnorm.wgsl F16). On where `f16` is not 'off'.
     */
    readonly f16: boolean;
  };
  /** f16 arithmetic in the GELU of f16 models (elementwise.wgsl F16, matmul_f16.wgsl GELU16). On where `f16` is not 'off'. */
  readonly gelu: { readonly f16: boolean };
  readonly crossEntropy: { readonly rowwise: boolean };
  /** subgroup operations in the reductions and SwiftShader's matmul (only where the device has `subgroups`) */
  readonly subgroups: boolean;
  /** f16 arithmetic for f16-weight Linears (only where the device has `shader-f16`) */
  readonly f16: F16Mode;
  /** Dawn's bounds clamps on buffer accesses (fixed when the device is created: INSTRUCTALIGN_NO_ROBUSTNESS=1) */
  readonly robustness: boolean;
}

/** Partial overrides of a policy: what a runtime, a test or a benchmark passes. */
export interface PolicyOverrides {
  family?: KernelFamily;
  matmul?: Partial<KernelPolicy['matmul']>;
  attention?: Partial<KernelPolicy['attention']>;
  layernorm?: Partial<KernelPolicy['layernorm']>;
  gelu?: Partial<KernelPolicy['gelu']>;
  crossEntropy?: Partial<KernelPolicy['crossEntropy']>;
  subgroups?: boolean;
  f16?: F16Mode;
  robustness?: boolean;
}

/** An override the policy does not know, or a value it does not take: names the setting and what it accepts. */
export class KernelPolicyError extends Error {
  override name = 'KernelPolicyError';
}

/** Every matmul kernel, in the order of their introduction (scalar first: the baseline). */
export const MATMUL_KERNELS: readonly MatmulKernel[] = [
  'scalar',
  'vec4',
  'vec4sg',
  'vec4x16',
  'vec4x16sg',
  'tiled64',
  'tiled128',
  'tiled128k16',
  'tiled128k32',
];
const BOOL = [true, false] as const;
/** Every setting an override may name, with the values it takes (frozen: the one table checked). */
const ALLOWED: Readonly<Record<string, readonly unknown[] | Readonly<Record<string, readonly unknown[]>>>> =
  Object.freeze({
    family: ['swiftshader', 'gpu'],
    matmul: Object.freeze({ kernel: ['auto', ...MATMUL_KERNELS], naive: BOOL, tune: ['auto', 'on', 'off'] }),
    attention: Object.freeze({ rowwise: BOOL, rows4: BOOL, flash: ['auto', 'always', 'never'], f16: BOOL }),
    layernorm: Object.freeze({ rowwise: BOOL, f16: BOOL }),
    gelu: Object.freeze({ f16: BOOL }),
    crossEntropy: Object.freeze({ rowwise: BOOL }),
    subgroups: BOOL,
    f16: ['off', 'f32acc', 'f16acc'],
    robustness: BOOL,
  });

/** Refuses an override with an unknown setting (at any depth) or a value the setting does not take. */
export function validateOverrides(o: unknown): asserts o is PolicyOverrides {
  const fmt = (v: readonly unknown[]) => `${v.slice(0, -1).join(', ')} or ${v[v.length - 1]}`;
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new KernelPolicyError(`kernel policy: overrides must be an object, got ${JSON.stringify(o)}`);
  for (const [k, v] of Object.entries(o)) {
    const allowed = ALLOWED[k];
    if (!allowed)
      throw new KernelPolicyError(`kernel policy: unknown setting "${k}" (known: ${Object.keys(ALLOWED).join(', ')})`);
    if (v === undefined) continue;
    if (Array.isArray(allowed)) {
      if (!allowed.includes(v))
        throw new KernelPolicyError(`kernel policy: ${k} ${JSON.stringify(v)}: use ${fmt(allowed)}`);
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new KernelPolicyError(`kernel policy: ${k} must be an object of settings, got ${JSON.stringify(v)}`);
    const sub = allowed as Readonly<Record<string, readonly unknown[]>>;
    for (const [kk, vv] of Object.entries(v)) {
      const vals = sub[kk];
      if (!vals)
        throw new KernelPolicyError(
          `kernel policy: unknown setting "${k}.${kk}" (known: ${Object.keys(sub)
            .map((x) => `${k}.${x}`)
            .join(', ')})`,
        );
      if (vv !== undefined && !vals.includes(vv))
        throw new KernelPolicyError(`kernel policy: ${k}.${kk} ${JSON.stringify(vv)}: use ${fmt(vals)}`);
    }
  }
}

/** What the policy's defaults depend on: the adapter (SwiftShader or a GPU) and the device's features. */
export interface AdapterFacts {
  swiftshader: boolean;
  /** a fallback (CPU) adapter (Mesa's lavapipe, WARP…): the CPU kernel family and no tuning, like SwiftShader */
  fallback?: boolean;
  features: ReadonlySet<string>;
  /** whether the device was created with Dawn's robustness (default true) */
  robustness?: boolean;
}

/**
 * The policy for a device: `base` (or the adapter's defaults) with `o` applied. A family override moves every
 * op's rowwise default with it, unless that op's rowwise is overridden too; subgroups are on only where the device
 * has them; robustness is the device's (asking for another is an error: it is fixed when the device is created).
 */
export function resolvePolicy(facts: AdapterFacts, o: PolicyOverrides = {}, base?: KernelPolicy): KernelPolicy {
  validateOverrides(o);
  const devRobust = facts.robustness ?? true;
  if (o.robustness !== undefined && o.robustness !== devRobust)
    throw new Error(
      `kernel policy: robustness ${o.robustness} on a device created with robustness ${devRobust}; ` +
        'it is fixed when the device is created: pass policy.robustness to Runtime.create (or INSTRUCTALIGN_NO_ROBUSTNESS=1)',
    );
  const family = o.family ?? base?.family ?? (isCpuAdapter(facts) ? 'swiftshader' : 'gpu');
  if (family !== 'swiftshader' && family !== 'gpu')
    throw new Error(`kernel policy: family "${family}": use swiftshader or gpu`);
  // a new family resets the rowwise defaults; else they stay as the base had them
  const familyMoved = o.family !== undefined && o.family !== base?.family;
  const row = (b: boolean | undefined) => (familyMoved || b === undefined ? family === 'swiftshader' : b);
  const matmul = { kernel: 'auto' as const, naive: false, tune: 'auto' as const, ...base?.matmul, ...o.matmul };
  if (!['auto', 'on', 'off'].includes(matmul.tune))
    throw new Error(`kernel policy: matmul.tune "${matmul.tune}": use auto, on or off`);
  const attention = {
    rowwise: row(base?.attention.rowwise),
    rows4: base?.attention.rows4 ?? true,
    flash: base?.attention.flash ?? ('auto' as FlashMode),
    ...o.attention,
  };
  const f16 = o.f16 ?? base?.f16 ?? 'f32acc';
  if (!['off', 'f32acc', 'f16acc'].includes(f16))
    throw new Error(`kernel policy: f16 "${f16}": use off, f32acc or f16acc`);
  // the f16 norm, GELU and attention kernels follow the f16 mode (off: none), each can be turned off on its own
  const f16Math = facts.features.has('shader-f16') && f16 !== 'off';
  const f16Base = (b: boolean | undefined) => (base && base.f16 !== 'off' ? b : undefined) ?? true;
  if (!['auto', 'always', 'never'].includes(attention.flash))
    throw new Error(`kernel policy: attention.flash "${attention.flash}": use auto, always or never`);
  return Object.freeze({
    family,
    matmul: Object.freeze(matmul),
    attention: Object.freeze({ ...attention, f16: f16Math && (o.attention?.f16 ?? f16Base(base?.attention.f16)) }),
    layernorm: Object.freeze({
      rowwise: o.layernorm?.rowwise ?? row(base?.layernorm.rowwise),
      f16: f16Math && (o.layernorm?.f16 ?? f16Base(base?.layernorm.f16)),
    }),
    gelu: Object.freeze({ f16: f16Math && (o.gelu?.f16 ?? f16Base(base?.gelu.f16)) }),
    crossEntropy: Object.freeze({ rowwise: o.crossEntropy?.rowwise ?? row(base?.crossEntropy.rowwise) }),
    subgroups: (o.subgroups ?? base?.subgroups ?? true) && facts.features.has('subgroups'),
    f16: facts.features.has('shader-f16') ? f16 : 'off',
    robustness: devRobust,
  });
}

/** SwiftShader or another fallback (CPU) adapter: the 'swiftshader' (CPU) kernel family, matmul tuning off. */
export function isCpuAdapter(facts: Pick<AdapterFacts, 'swiftshader' | 'fallback'>): boolean {
  return facts.swiftshader || !!facts.fallback;
}

/** INSTRUCTALIGN_MATMUL_TUNE's value as a tune mode (unset or empty: 'auto'). */
export function parseTuneMode(v: string | undefined): TuneMode {
  if (v === undefined || v === '') return 'auto';
  if (v === 'auto' || v === 'on' || v === 'off') return v;
  throw new Error(`INSTRUCTALIGN_MATMUL_TUNE=${v}: use auto, on or off`);
}

/** The runtime settings the environment gives (read once, where a runtime is created). */
export interface EnvSettings {
  policy: PolicyOverrides;
  /** INSTRUCTALIGN_DAWN_FLAGS: extra Dawn instance flags, space-separated */
  dawnFlags: string[];
  /** INSTRUCTALIGN_NO_POOL=1: no buffer pool */
  noPool: boolean;
  /** INSTRUCTALIGN_POOL_POISON=1: reused buffers filled with NaN bits (proves every kernel writes what it reads) */
  poolPoison: boolean;
  /** INSTRUCTALIGN_DEBUG_DISPATCH=1: log every dispatch and run them one at a time */
  debugDispatch: boolean;
  /** INSTRUCTALIGN_BUSY_WAIT=1: dawn.node's own busy polling while waiting for the GPU (see src/gpu/wait.ts) */
  busyWait: boolean;
}

/** Reads the INSTRUCTALIGN_* variables of `env` (process.env in Node; none in a browser). */
export function envSettings(env: Record<string, string | undefined> = nodeEnv()): EnvSettings {
  const policy: PolicyOverrides = {};
  if (env.INSTRUCTALIGN_MATMUL_TUNE) policy.matmul = { tune: parseTuneMode(env.INSTRUCTALIGN_MATMUL_TUNE) };
  if (env.INSTRUCTALIGN_NO_ROBUSTNESS === '1') policy.robustness = false;
  if (env.INSTRUCTALIGN_F16) {
    const f = env.INSTRUCTALIGN_F16 as F16Mode;
    if (!['off', 'f32acc', 'f16acc'].includes(f))
      throw new Error(`INSTRUCTALIGN_F16=${f}: use off, f32acc (f16 products, f32 sums) or f16acc`);
    policy.f16 = f;
  }
  return {
    policy,
    dawnFlags: (env.INSTRUCTALIGN_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean),
    noPool: !!env.INSTRUCTALIGN_NO_POOL,
    poolPoison: !!env.INSTRUCTALIGN_POOL_POISON,
    debugDispatch: !!env.INSTRUCTALIGN_DEBUG_DISPATCH,
    busyWait: env.INSTRUCTALIGN_BUSY_WAIT === '1',
  };
}

function nodeEnv(): Record<string, string | undefined> {
  return typeof process !== 'undefined' && process.env ? process.env : {};
}

/** Overrides merged: `b`'s settings win over `a`'s, op by op. */
export function mergeOverrides(a: PolicyOverrides = {}, b: PolicyOverrides = {}): PolicyOverrides {
  const out: PolicyOverrides = { ...a, ...b };
  for (const k of ['matmul', 'attention', 'layernorm', 'gelu', 'crossEntropy'] as const)
    if (a[k] || b[k]) (out as any)[k] = { ...a[k], ...b[k] };
  return out;
}
