// Every pipeline the runtime builds for the bundled and documented model shapes, compiled into a compute pipeline
// (createComputePipelineAsync with the runtime's own bind group layout, all at once) on this lane's driver. The set
// is not a list: test/helpers/pipeline-plan.ts runs score, generation and training of each model as a dry run on
// stand-in adapters (SwiftShader, lavapipe, a GPU, wgpu, a featureless CPU adapter) under each policy they allow, and
// records what PipelineCache asks for, so a new kernel or define is compiled here as soon as an op passes it.
// Which adapters and policies are planned (pipeline compilation is the expensive part on CPU drivers):
//   INSTRUCTALIGN_PIPELINES=bundled      (the default) the bundled models on this device's profile under its default
//                                        policy (npm test: the SwiftShader lane, where the documented models' head
//                                        sizes cost ~1 min of CPU more: docs/testing.md)
//   INSTRUCTALIGN_PIPELINES=own          every model on this device's profile under every policy it allows
//   INSTRUCTALIGN_PIPELINES=all          every profile under every policy (the lavapipe lane, .ci/lane: lavapipe
//                                        compiles them all, SwiftShader's and the GPUs' included, with Mesa's cache)
//   INSTRUCTALIGN_PLAN_FULL=1            the documented models at their full vocabulary and depth (slow; see planShape)
// Variants that need a feature this device lacks (shader-f16 on SwiftShader) are counted and named, not compiled.
// The plan itself fails where a policy picks a variant its adapter lacks a feature for (wgpu given subgroups, say):
// the stand-in device has the profile's features and PipelineCache refuses such a variant.
import assert from 'node:assert/strict';
import { openDevice, type DeviceHandle } from '../../src/gpu/device.ts';
import { describePipeline } from '../../src/gpu/pipelines.ts';
import { hasPrologue, requiredFeatures } from '../../src/gpu/wgsl.ts';
import { SHADERS } from '../../src/generated/assets.ts';
import { modelShapes, planPipelines, PROFILES, type PlannedPipeline } from '../helpers/pipeline-plan.ts';
import { VARIANTS } from './shader-variants.test.ts';
import { getGpu } from '../helpers/gpu.ts';

/** A variant's shape as shader-variants.test.ts compares them: true booleans and the names of numeric defines. */
const shapeOf = (d: Record<string, boolean | number>) =>
  Object.entries(d)
    .filter(([, v]) => v !== false)
    .map(([k, v]) => (typeof v === 'number' ? `${k}=#` : k))
    .sort()
    .join(',');

/** The planned profile that describes this device. */
function ownProfile(h: DeviceHandle): string {
  if (h.adapter.swiftshader) return 'swiftshader';
  return h.adapter.fallback ? 'lavapipe' : 'gpu';
}

const key = (p: { shader: string; entry: string; defines: Record<string, boolean | number> }) =>
  `${p.shader}:${p.entry}:${JSON.stringify(p.defines)}`;

/** The limits the ops and the pool read (src/ops, src/gpu/runtime.ts). */
const OPS_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
];

/** Every feature: describes a variant whatever it enables (the compile step checks the device's features itself). */
const ANY = { has: () => true } as unknown as ReadonlySet<string>;

// set by the suite's before hook; compiled after the whole run
let plan: PlannedPipeline[] | undefined;

describe('pipelines: every variant the runtime builds for the bundled and documented models compiles', () => {
  const which = process.env.INSTRUCTALIGN_PIPELINES || 'bundled';
  const all = which === 'all';

  before(async function () {
    if (!['bundled', 'own', 'all'].includes(which))
      throw new Error(`INSTRUCTALIGN_PIPELINES=${which}: use bundled (the default), own or all`);
    this.timeout(600_000);
    const profiles = all ? PROFILES.map((p) => p.name) : [ownProfile((await getGpu()).handle)];
    const t0 = performance.now();
    const r = await planPipelines(
      PROFILES.filter((p) => profiles.includes(p.name)),
      modelShapes().filter((m) => m.bundled || which !== 'bundled'),
      process.env.INSTRUCTALIGN_PLAN_FULL === '1',
      which === 'bundled' ? (policy) => policy === 'default' : undefined,
    );
    plan = r.pipelines;
    console.log(
      `      (planned ${plan.length} pipelines on ${profiles.join(', ')}, ${which === 'bundled' ? 'bundled models, default policy' : 'every model and policy'}, ` +
        `in ${Math.round(performance.now() - t0)} ms; ` +
        `compiled after the run; refused by the models: ${r.refused.length ? r.refused.join('; ') : 'none'})`,
    );
  });

  it("the profile of this lane's driver has the device's own facts (features, subgroup sizes, limits the ops read)", async function () {
    const h = (await getGpu()).handle;
    const name = ownProfile(h);
    // (a real GPU's facts vary by vendor: its profile stands for a typical discrete one)
    if (name === 'gpu') this.skip();
    const p = PROFILES.find((x) => x.name === name)!;
    const facts = (x: {
      swiftshader: boolean;
      fallback: boolean;
      features: Iterable<string>;
      wgsl: Iterable<string>;
      sg?: [number, number];
      limits: Record<string, number>;
    }) => ({
      swiftshader: x.swiftshader,
      fallback: x.fallback,
      features: [...x.features].sort(),
      wgsl: [...x.wgsl].filter((f) => ['subgroup_id', 'packed_4x8_integer_dot_product'].includes(f)).sort(),
      subgroupSizes: x.sg,
      limits: Object.fromEntries(OPS_LIMITS.map((k) => [k, x.limits[k]])),
    });
    assert.deepEqual(
      facts({ ...p, wgsl: p.wgslFeatures, sg: p.subgroupSizes }),
      facts({ ...h.adapter, features: h.features, wgsl: h.wgslFeatures, sg: h.subgroupSizes, limits: h.limits }),
      `test/helpers/pipeline-plan.ts: the ${name} profile no longer describes this driver; update it`,
    );
  });

  it('the plan uses every shader, and every variant in it is enumerated for Naga (shader-variants.test.ts)', () => {
    const known = new Set(Object.entries(VARIANTS).flatMap(([s, list]) => list.map((d) => `${s}:${shapeOf(d)}`)));
    const notEnumerated = [
      ...new Set(plan!.map((p) => `${p.shader}:${shapeOf(p.defines)}`).filter((k) => !known.has(k))),
    ];
    assert.deepEqual(notEnumerated, [], 'planned variants test/gpu/shader-variants.test.ts VARIANTS lacks');
    if (!all) return; // one profile need not use every shader (no matmul_f16 without shader-f16)
    const used = new Set(plan!.map((p) => p.shader));
    assert.deepEqual(
      Object.keys(SHADERS).filter((s) => !used.has(s)),
      [],
      'shaders no planned workload uses: dead code, or a workload the plan lacks',
    );
  });
});

// After the whole run (a root-level hook): each planned pipeline that no test built on the shared device (whose
// PipelineCache checks what it compiles) is compiled here, each distinct (source, entry) once, all at once, on a
// device of its own (a failing pipeline raises errors there, not on the shared one). Run alone, this compiles all.
after(async function () {
  this.timeout(1_200_000); // (a cold Mesa cache: seconds per big kernel)
  if (!plan) return; // not planned (filtered out by -g, or the plan failed: its hook reported why)
  const t0 = performance.now();
  const built = new Set((await getGpu()).pipelines.built().map(key));
  const dev = await openDevice({ log: () => {} });
  try {
    const unique = new Map<string, { p: PlannedPipeline; code: string; entries: GPUBindGroupLayoutEntry[] }>();
    const skipped = new Map<string, number>();
    let already = 0;
    for (const p of plan) {
      if (built.has(key(p))) {
        already++;
        continue;
      }
      const d = describePipeline(p.shader, p.entry, p.defines, ANY);
      const lacks = requiredFeatures(d.code).filter((f) => !dev.features.has(f));
      if (lacks.length) {
        const why = `the device lacks ${lacks.join(', ')}`;
        skipped.set(why, (skipped.get(why) ?? 0) + 1);
        continue;
      }
      const k = `${p.entry}\n${d.code}`;
      if (!unique.has(k)) unique.set(k, { p, code: d.code, entries: d.entries });
    }
    const failures: string[] = [];
    await Promise.all(
      [...unique.values()].map(async ({ p, code, entries }) => {
        const label = `plan:${p.shader}:${p.entry}`;
        const module = dev.device.createShaderModule({ label, code });
        const layout = dev.device.createBindGroupLayout({ label, entries });
        try {
          await dev.device.createComputePipelineAsync({
            label,
            layout: dev.device.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
            compute: { module, entryPoint: p.entry },
          });
        } catch (e) {
          const off = hasPrologue(code) ? 1 : 0;
          const msgs = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
          failures.push(
            `${p.shader}.wgsl ${p.entry} ${JSON.stringify(p.defines)} (${p.by}): ${(e as Error).message}` +
              msgs.map((m) => `\n  shaders/${p.shader}.wgsl:${m.lineNum - off}:${m.linePos}: ${m.message}`).join(''),
          );
        }
      }),
    );
    console.log(
      `  pipelines: of ${plan.length} planned variants, ${already} were built by this run's tests and ` +
        `${unique.size} distinct ones compiled now in ${Math.round(performance.now() - t0)} ms` +
        [...skipped].map(([why, n]) => `; ${n} not compiled: ${why}`).join(''),
    );
    assert.deepEqual(failures, [], `planned pipelines that fail to compile:\n${failures.slice(0, 5).join('\n')}`);
  } finally {
    dev.device.destroy();
  }
});
