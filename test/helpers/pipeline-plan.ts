// The pipelines the runtime builds, found by running it: every bundled and documented model shape goes through
// score, generation and training (f32, f16 and int8 weights; --fp16 and recomputation) as a dry run (src/gpu/dry-run.ts:
// nothing allocated or dispatched) on a stand-in device that records each pipeline PipelineCache asks for instead of
// compiling it, once per adapter profile (SwiftShader, lavapipe, a GPU, wgpu, a featureless CPU adapter) and per
// policy a user or a benchmark can choose there. test/gpu/pipelines.test.ts compiles the result; a kernel that an op
// starts to use, or a define it starts to pass, is in the plan without anyone listing it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceHandle } from '../../src/gpu/device.ts';
import type { PolicyOverrides } from '../../src/gpu/policy.ts';
import { Gpu } from '../../src/gpu/runtime.ts';
import { withScope } from '../../src/gpu/scope.ts';
import type { CausalLM, LoadModelOptions, ModelConfig, Trainable } from '../../src/model/causal-lm.ts';
import { buildModel, namedConfig, parseModelConfig, zeroParameters } from '../../src/model/families.ts';
import { tuneCandidates } from '../../src/ops/matmul.ts';
import { AdamW } from '../../src/train/optimizer.ts';
import { FIXTURES } from './gpu.ts';
import { TINY_QWEN3_CONFIG } from './tiny-qwen3.ts';

/** An adapter as the runtime sees it: what the kernel policy and the ops read from a DeviceHandle. */
export interface AdapterProfile {
  name: string;
  swiftshader: boolean;
  fallback: boolean;
  features: string[];
  wgslFeatures: string[];
  subgroupSizes?: [number, number];
  limits: Record<string, number>;
}

// WebGPU's default limits (what an adapter that offers no more gives, and what `defaultLimits` requests)
const DEFAULT_LIMITS: Record<string, number> = {
  maxBufferSize: 268435456,
  maxStorageBufferBindingSize: 134217728,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8,
  maxUniformBufferBindingSize: 65536,
  minStorageBufferOffsetAlignment: 256,
  minUniformBufferOffsetAlignment: 256,
};
const DOT4 = 'packed_4x8_integer_dot_product';

/**
 * The adapters the kernel policy tells apart (src/gpu/policy.ts, the ops' feature checks), with the facts the two
 * CI drivers report (`doctor`) and those of a discrete GPU and of wgpu (Firefox: no subgroups).
 */
export const PROFILES: readonly AdapterProfile[] = [
  {
    name: 'swiftshader',
    swiftshader: true,
    fallback: true,
    features: ['subgroups', 'timestamp-query'],
    wgslFeatures: ['subgroup_id', DOT4],
    subgroupSizes: [4, 4],
    limits: {
      ...DEFAULT_LIMITS,
      maxBufferSize: 2 ** 30,
      maxStorageBufferBindingSize: 2 ** 30,
      maxComputeWorkgroupStorageSize: 32768,
    },
  },
  {
    name: 'lavapipe',
    swiftshader: false,
    fallback: true,
    features: ['shader-f16', 'subgroups', 'timestamp-query'],
    wgslFeatures: ['subgroup_id', DOT4],
    subgroupSizes: [8, 8],
    limits: { ...DEFAULT_LIMITS, maxBufferSize: 2 ** 32 - 1, maxComputeWorkgroupStorageSize: 32768 },
  },
  {
    name: 'gpu',
    swiftshader: false,
    fallback: false,
    features: ['shader-f16', 'subgroups', 'timestamp-query'],
    wgslFeatures: ['subgroup_id', DOT4],
    subgroupSizes: [32, 32],
    limits: { ...DEFAULT_LIMITS, maxBufferSize: 2 ** 32 - 1, maxComputeWorkgroupStorageSize: 32768 },
  },
  { name: 'wgpu', swiftshader: false, fallback: false, features: [], wgslFeatures: [DOT4], limits: DEFAULT_LIMITS },
  { name: 'cpu-basic', swiftshader: false, fallback: true, features: [], wgslFeatures: [], limits: DEFAULT_LIMITS },
];

// Published configs of the families' documented models beyond the named BLOOM sizes (README: Qwen3, Llama 3.x)
const QWEN3_0_6B = {
  model_type: 'qwen3',
  vocab_size: 151936,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  bos_token_id: 151643,
  eos_token_id: 151645,
};
const LLAMA_3_2_1B = {
  model_type: 'llama',
  vocab_size: 128256,
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  rope_scaling: {
    factor: 32,
    high_freq_factor: 4,
    low_freq_factor: 1,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
  tie_word_embeddings: true,
  bos_token_id: 128000,
  eos_token_id: 128001,
};

const fixtureConfig = (name: string) =>
  parseModelConfig(JSON.parse(readFileSync(join(FIXTURES, name, 'config.json'), 'utf8')), `${name}/config.json`);

/** The bundled models (test fixtures, tiny Qwen3, nano-bloomz) and the documented ones, by name. */
export function modelShapes(): { name: string; config: ModelConfig; bundled: boolean }[] {
  return [
    { name: 'bloom-tiny', config: fixtureConfig('bloom-tiny'), bundled: true },
    { name: 'bloom-tiny-h6-f16', config: fixtureConfig('bloom-tiny-h6-f16'), bundled: true },
    { name: 'nano-bloomz', config: namedConfig('nano-bloomz'), bundled: true },
    { name: 'tiny-qwen3', config: parseModelConfig(TINY_QWEN3_CONFIG), bundled: true },
    { name: 'bloomz-560m', config: namedConfig('bloomz-560m'), bundled: false },
    { name: 'bloom-1b1', config: namedConfig('bloom-1b1'), bundled: false },
    { name: 'qwen3-0.6b', config: parseModelConfig(QWEN3_0_6B), bundled: false },
    { name: 'llama-3.2-1b', config: parseModelConfig(LLAMA_3_2_1B), bundled: false },
  ];
}

/** One pipeline the runtime asked for. */
export interface PlannedPipeline {
  shader: string;
  entry: string;
  defines: Record<string, boolean | number>;
  /** where it was first asked for: profile, policy, model, workload */
  by: string;
  /** the adapter profiles whose runtime asks for it */
  profiles: string[];
}

/**
 * A GPUDevice stand-in for dry runs: it hands PipelineCache inert modules and pipelines (nothing compiled) and
 * refuses everything a dry run must not do, naming it.
 */
function planningDevice(p: AdapterProfile): GPUDevice {
  const features = new Set(p.features);
  const stub = {
    features,
    limits: p.limits,
    label: `plan:${p.name}`,
    createShaderModule: () => ({ getCompilationInfo: async () => ({ messages: [] }) }),
    createBindGroupLayout: () => ({}),
    createPipelineLayout: () => ({}),
    createComputePipeline: () => ({}),
    // the placeholders of unused binding slots (BindGroupCache.dummy) are real even in a dry run
    createBuffer: (d: GPUBufferDescriptor) => ({ size: d.size, label: d.label, destroy() {} }),
    queue: { onSubmittedWorkDone: async () => {}, submit() {}, writeBuffer() {} },
    destroy() {},
  };
  return new Proxy(stub, {
    get(t, k) {
      if (k in t || typeof k === 'symbol' || k === 'then') return (t as Record<string | symbol, unknown>)[k];
      throw new Error(`pipeline plan: a dry run called GPUDevice.${String(k)}, which the planning device lacks`);
    },
  }) as unknown as GPUDevice;
}

function planningGpu(p: AdapterProfile): Gpu {
  const handle: DeviceHandle = {
    device: planningDevice(p),
    adapter: {
      vendor: 'plan',
      architecture: p.name,
      device: p.name,
      description: `pipeline plan: ${p.name}`,
      backend: 'browser', // (waits need no Node-side polling: nothing is ever submitted)
      swiftshader: p.swiftshader,
      fallback: p.fallback,
    },
    features: new Set(p.features),
    limits: p.limits,
    lost: new Promise<string>(() => {}),
    wgslFeatures: new Set(p.wgslFeatures),
    subgroupSizes: p.subgroupSizes,
    robustness: true,
  };
  const gpu = new Gpu(handle, { pooling: true });
  gpu.dryRun = true;
  return gpu;
}

/** The policies planned on a profile: its defaults and each choice a user, a benchmark or the tuner can make. */
function policies(gpu: Gpu): { name: string; o: PolicyOverrides }[] {
  const out: { name: string; o: PolicyOverrides }[] = [
    { name: 'default', o: {} },
    { name: 'flash=always', o: { attention: { flash: 'always' } } },
    { name: 'flash=never', o: { attention: { flash: 'never' } } },
    { name: 'subgroups=off', o: { subgroups: false } },
    { name: 'naive', o: { matmul: { naive: true } } },
  ];
  if (gpu.handle.features.has('shader-f16'))
    out.push({ name: 'f16=f16acc', o: { f16: 'f16acc' } }, { name: 'f16=off', o: { f16: 'off' } });
  // the GPU family's tuner times these kernels on every shape class (src/ops/matmul-tune.ts)
  if (gpu.policy.family === 'gpu')
    for (const k of tuneCandidates(gpu)) out.push({ name: `matmul=${k}`, o: { matmul: { kernel: k } } });
  return out;
}

const LOADS: readonly { name: string; opts: LoadModelOptions }[] = [
  { name: 'f32', opts: { dtype: 'f32' } },
  { name: 'f16', opts: { dtype: 'f16' } },
  { name: 'int8', opts: { dtype: 'f32', int8: { threshold: 6 } } },
];

/** Score and generation of `lm`, and training where its weights are f32, in a dry run (results are zeros). */
async function workloads(
  lm: CausalLM,
  trainable: boolean,
  note: (w: string) => void,
  refused: (w: string, why: string) => void,
): Promise<void> {
  const B = 2,
    T = 8;
  const ids = new Int32Array(B * T).map((_, i) => 5 + (i % 64));
  const batch = { ids, mask: new Int32Array(B * T).fill(1), B, T };
  note('score');
  await lm.forward(batch, { targets: ids });
  note('generate');
  const cache = lm.newCache(16, 1);
  await lm.step(cache, [5, 6, 7, 8]);
  await lm.step(cache, [9]);
  lm.freeCache(cache);
  note('scoreGroups');
  await lm.scoreGroups([{ prefix: [5, 6, 7], suffixes: [[8, 9], [10]] }]);
  if (!trainable) return;
  for (const fp16 of [false, true])
    for (const recompute of [false, true]) {
      note(`train fp16=${fp16} recompute=${recompute}`);
      await withScope(lm.gpu, async (s) => {
        let model: Trainable;
        try {
          model = s.own(lm.training({ fp16, recompute }));
        } catch (e) {
          // a set-up the family refuses (e.g. --recompute where it is not written) builds nothing
          return refused(`train fp16=${fp16} recompute=${recompute}`, (e as Error).message);
        }
        for (const maxGradNorm of [1, 0]) {
          const opt = new AdamW(s, model.params, {
            lr: 1e-5,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weightDecay: 0.01,
            maxGradNorm,
          });
          model.grads.zero();
          await model.lossAndBackward(batch, ids, { lossScale: fp16 ? 1024 : 1 });
          await opt.step(model.grads, 1e-5, fp16 ? 1 / 1024 : 1);
          model.synced();
        }
      });
    }
}

/**
 * A model's shape as planned: at most 2 layers where it trains (the backward of the first layer differs from the
 * others'), 1 for inference (every layer runs the same kernels on the same shapes), and at most
 * 4096 vocabulary rows (nano-bloomz's: the larger tables only take longer to convert to f16 or int8 on the host, ~10 s
 * per load for 560M's; the vocabularies are multiples of 64 either way). `full` keeps the real sizes (the slow check
 * that the reduction loses no pipeline: INSTRUCTALIGN_PLAN_FULL=1 test/gpu/pipelines.test.ts).
 */
function planShape(cfg: ModelConfig, full: boolean, layers: number): ModelConfig {
  return full ? cfg : { ...cfg, nLayer: Math.min(cfg.nLayer, layers), vocabSize: Math.min(cfg.vocabSize, 4096) };
}

/**
 * Every pipeline the runtime builds for `models` on `profiles` under each of their policies, in the order first
 * asked for (deduplicated by shader, entry and defines), and the workloads a model refused (whatever the policy).
 */
export async function planPipelines(
  profiles: readonly AdapterProfile[] = PROFILES,
  models = modelShapes(),
  full = false,
  only?: (policy: string) => boolean,
): Promise<{ pipelines: PlannedPipeline[]; refused: string[] }> {
  // the WebGPU constants the ops use (GPUBufferUsage…), as openDevice installs them
  Object.assign(globalThis, (await import('webgpu')).globals);
  const out = new Map<string, PlannedPipeline>();
  const refused = new Set<string>();
  for (const p of profiles) {
    const base = planningGpu(p);
    let where = '';
    const collect = () => {
      for (const b of base.pipelines.built()) {
        const key = `${b.shader}:${b.entry}:${JSON.stringify(b.defines)}`;
        const had = out.get(key);
        if (!had) out.set(key, { ...b, by: where, profiles: [p.name] });
        else if (!had.profiles.includes(p.name)) had.profiles.push(p.name);
      }
    };
    for (const m of models) {
      for (const load of LOADS) {
        const cfg = planShape(m.config, full, load.name === 'f32' ? 2 : 1);
        await withScope(base, async (mem) => {
          where = `${p.name}, ${m.name}, load ${load.name}`;
          const lm = mem.own(await buildModel(base, cfg, zeroParameters(cfg), load.opts));
          for (const pol of policies(base).filter((x) => !only || only(x.name))) {
            const view = mem.own(lm.withPolicy(pol.o));
            const at = `${p.name}, ${pol.name}, ${m.name}, ${load.name}`;
            try {
              await workloads(
                view,
                load.name === 'f32',
                (w) => {
                  collect();
                  where = `${at} ${w}`;
                },
                (w, why) => refused.add(`${m.name} ${w}: ${why}`),
              );
              collect();
            } catch (e) {
              throw new Error(`pipeline plan: ${where}: ${(e as Error).message}`);
            }
          }
        });
      }
    }
    base.destroy();
  }
  return { pipelines: [...out.values()], refused: [...refused] };
}
