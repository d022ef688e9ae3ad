// Every shader variant the runtime can build, compiled on the device (createShaderModule + getCompilationInfo), so
// that a define combination that breaks the WGSL fails here rather than in the one run that happens to pick it.
// VARIANTS enumerates the defines each op module in src/ops passes (the function named beside each); the guard tests
// keep it, the shaders' directives and the table in docs/shaders.md in step.
// test/gpu/pipelines.test.ts compiles the variants the runtime itself builds for the bundled and documented models
// into pipelines (found by a dry run, not listed) and requires each to be enumerated here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getGpu, REPO } from '../helpers/gpu.ts';
import { openDevice, type DeviceHandle } from '../../src/gpu/device.ts';
import { preprocess, hasPrologue, requiredFeatures } from '../../src/gpu/wgsl.ts';
import { SHADERS } from '../../src/generated/assets.ts';

type Defines = Record<string, boolean | number>;

/** Every assignment of true/false to `names`, each merged over `base`. */
function combos(names: string[], base: Defines = {}): Defines[] {
  let out: Defines[] = [{ ...base }];
  for (const n of names)
    out = out.flatMap((d) => [
      { ...d, [n]: false },
      { ...d, [n]: true },
    ]);
  return out;
}

// head dims 8 (the test fixtures), 32 (nano-bloomz), 64 (560m), 96 (bloom-1b1) and 128 (the largest rowwise one):
// every head size of the bundled and documented models; BK as attention.ts flashDefines computes it under the
// default 16 KiB of workgroup memory
const D4S = [2, 8, 16, 24, 32];
const flashBK = (d4: number, f16 = false) => Math.min(64, Math.floor(16384 / ((f16 ? 16 : 32) * d4 + 8)));

export const VARIANTS: Record<string, Defines[]> = {
  matmul: [
    // matmul(): the scalar kernel (no vec4 layout) and bias_grad / columnSums
    ...combos(['B_F16', 'RESIDUAL']),
    { VEC4: true },
    // matmul(): the tiled GPU kernels tiled64, tiled128, tiled128k16, tiled128k32
    ...[
      [64, 8],
      [128, 8],
      [128, 16],
      [128, 32],
    ].flatMap(([ts, bk]) =>
      combos(['B_F16', 'RESIDUAL', 'A_M4', 'B_N4'], {
        VEC4: true,
        TILED: true,
        T128: ts === 128,
        BK: bk,
        NL: Math.max(1, (ts * bk) / 4 / 256),
      }),
    ),
    // matmul(): SwiftShader's register-block kernels vec4 (BLK 2) and vec4x16 (BLK 4), SGA where subgroups allow
    ...[2, 4].flatMap((BLK) =>
      combos(['B_F16', 'RESIDUAL', 'A_M4', 'B_N4', 'SGA', 'GELU', 'ACC'], { VEC4: true, BLK, EPI_DEFINES: true }),
    ),
  ],
  attention: [
    // the workgroup-per-row kernels (attentionForward / attentionBackward without ROWWISE or flash)
    {},
    { SUBGROUPS: true },
    ...D4S.flatMap((D4) => [
      // rowwise forward: ROWS4 × (probs | NOPROBS | NOPROBS + LSE); rowwise backward (also the flash backward's)
      ...combos(['ROWS4'], { ROWWISE: true, D4, NOPROBS: false, LSE: false }),
      ...combos(['ROWS4', 'LSE'], { ROWWISE: true, D4, NOPROBS: true }),
      { ROWWISE: true, D4 },
      // flashDefines: forward with and without LSE, and the flash backward
      ...combos(['LSE'], { FLASH: true, D4, BK: flashBK(D4) }),
      { FLASH: true, D4, BK: flashBK(D4) },
      // F16 (shader-f16): inference forward of f16 models, rowwise (1 or 4 rows, NOPROBS) and flash (f16 tiles)
      ...combos(['ROWS4'], { ROWWISE: true, D4, NOPROBS: true, LSE: false, F16: true }),
      { FLASH: true, D4, BK: flashBK(D4, true), LSE: false, F16: true },
      // F16 training (--fp16): the flash forward with LSE (the flash backward is in the variant above); rowwise
      // forward with probs or with LSE, and the backward (both kinds)
      { FLASH: true, D4, BK: flashBK(D4, true), LSE: true, F16: true },
      ...combos(['ROWS4'], { ROWWISE: true, D4, NOPROBS: true, LSE: true, F16: true }),
      ...combos(['ROWS4'], { ROWWISE: true, D4, NOPROBS: false, LSE: false, F16: true }),
      { ROWWISE: true, D4, F16: true },
    ]),
  ],
  // layernormForward / layernormBackward, ceStats / ceBackward: rowwise, workgroup, workgroup with subgroups; each
  // LayerNorm one also in f16 arithmetic (F16: f16 models on shader-f16 devices)
  layernorm: [
    {},
    { SUBGROUPS: true },
    { ROWWISE: true },
    { F16: true },
    { SUBGROUPS: true, F16: true },
    { ROWWISE: true, F16: true },
  ],
  cross_entropy: [{}, { SUBGROUPS: true }, { ROWWISE: true }],
  // sumSquares (subgroups where available), clipCoefficient, adamwStep (CLIP)
  adamw: [{}, { SUBGROUPS: true }, ...combos(['CLIP'])],
  // embeddingForward (f32 or packed f16 shards), embeddingBackward
  embedding: combos(['W_F16']),
  // geluForward / geluBackward in f16 arithmetic (F16) or f32
  elementwise: combos(['F16']),
  // int8Linear: dot4I8Packed or by hand, with or without the raw accumulator (tests)
  matmul_int8: combos(['DOT4', 'RAW_ACC']),
  // matmul(): f16 arithmetic (shader-f16), products summed in f32 or (ACC16) in f16, for the layouts of a Linear's
  // three products: X·Wᵀ (with the GELU epilogue in f32 or f16: GELU16), dY·W (B_N4), and --fp16's dYᵀ·X (A_M4,
  // B_N4, f32 B)
  matmul_f16: ([{}, { GELU16: true }, { B_N4: true }, { A_M4: true, B_N4: true, B_F32: true }] as Defines[]).flatMap(
    (d) => combos(['ACC16'], d),
  ),
  // the Llama family's ops: rmsnormForward / rmsnormBackward (subgroup reductions where the device has them, F16 for
  // f16 models on shader-f16 devices), ropePack / ropeUnpack, swiglu* (no defines)
  rmsnorm: combos(['SUBGROUPS', 'F16']),
  rope: [{}],
  swiglu: [{}],
};

/** Names a shader's directives test: //#if X, //#ifnot X and non-numeric //#unroll counts. */
function directiveNames(src: string): Set<string> {
  const names = new Set<string>();
  for (const m of src.matchAll(/^\s*\/\/#(?:if|ifnot)\s+(\w+)/gm)) names.add(m[1]);
  for (const m of src.matchAll(/^\s*\/\/#unroll\s+\w+\s+([A-Za-z_]\w*)/gm)) names.add(m[1]);
  return names;
}

/** What the device must offer for a variant to compile (else it is skipped, with the reason printed). */
function missing(h: DeviceHandle, d: Defines, shader: string): string | null {
  const need = requiredFeatures(preprocess(SHADERS[shader], d, shader)).find((f) => !h.features.has(f));
  if (need) return `the ${need} feature`;
  if ((d.SUBGROUPS || d.SGA) && !h.features.has('subgroups')) return 'the subgroups feature';
  if (d.SGA && !h.wgslFeatures.has('subgroup_id')) return 'the subgroup_id WGSL feature';
  if (d.DOT4 && !h.wgslFeatures.has('packed_4x8_integer_dot_product')) return 'packed_4x8_integer_dot_product';
  return null;
}

/** A variant's shape: its true boolean defines and the names of its numeric ones (values vary with the shapes). */
function shape(d: Defines): string {
  return Object.entries(d)
    .filter(([, v]) => v !== false)
    .map(([k, v]) => (typeof v === 'number' ? `${k}=#` : k))
    .sort()
    .join(',');
}

// After the whole run (a root-level hook: with `npm test` every suite has used the shared device by then): every
// pipeline the tests made the ops build has its shape in VARIANTS, so an op passing a new combination is noticed
// here, where it gets compiled with all the others.
after(async () => {
  const gpu = await getGpu();
  const known = new Set(Object.entries(VARIANTS).flatMap(([s, list]) => list.map((d) => `${s}:${shape(d)}`)));
  const missingShapes = gpu.pipelines
    .built()
    .map((p) => `${p.shader}:${shape(p.defines)}`)
    .filter((k) => !known.has(k));
  assert.deepEqual(
    [...new Set(missingShapes)],
    [],
    'pipelines built during this run whose defines test/gpu/shader-variants.test.ts does not enumerate',
  );
});

describe('shader variants: every define combination the ops can pass compiles on the device', () => {
  it('the enumeration covers every shader and every define its directives test', () => {
    assert.deepEqual(Object.keys(VARIANTS).sort(), Object.keys(SHADERS).sort());
    for (const [shader, list] of Object.entries(VARIANTS)) {
      const used = new Set(list.flatMap((d) => Object.keys(d)));
      for (const n of directiveNames(SHADERS[shader]))
        assert.ok(used.has(n), `${shader}.wgsl tests define ${n}, which no variant here sets`);
    }
  });

  it('docs/shaders.md has a row for every define', () => {
    const doc = readFileSync(join(REPO, 'docs/shaders.md'), 'utf8');
    const rows = new Set([...doc.matchAll(/^\|\s*`(\w+)`\s*\|/gm)].map((m) => m[1]));
    for (const [shader, list] of Object.entries(VARIANTS))
      for (const n of new Set(list.flatMap((d) => Object.keys(d))))
        assert.ok(rows.has(n), `docs/shaders.md: no row for ${n} (used by ${shader}.wgsl)`);
  });

  it('compile errors are reported at the source line, also below an //#include and a numeric define', async () => {
    // a device of its own: an invalid module raises an uncaptured error, which would mark the shared one as lost
    let raised = '';
    const h = await openDevice({ log: (m) => (raised = m) });
    try {
      const src = '// t\n//#include "gelu.wgsl"\n\nfn f() -> f32 { return gelu(1.0) + f32(N) + nope; }\n';
      const code = preprocess(src, { N: 3 }, 't');
      const module = h.device.createShaderModule({ label: 'variant:line-check', code });
      const errs = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
      assert.deepEqual(
        errs.map((e) => e.lineNum - (hasPrologue(code) ? 1 : 0)),
        [4],
        errs.map((e) => e.message).join('; '),
      );
    } finally {
      h.device.destroy();
    }
    assert.ok(!(await getGpu()).queue.fatal, `the shared device was not touched (${raised})`);
  });

  // the variants compile on a device of their own, with the same features as the shared one: a broken variant
  // raises an uncaptured error, which must fail this test only, not mark the other tests' device as lost
  let dev: DeviceHandle;
  before(async () => {
    dev = await openDevice({ log: () => {} });
  });
  after(() => dev?.device.destroy());

  for (const [shader, list] of Object.entries(VARIANTS)) {
    it(`${shader}.wgsl: ${list.length} variants`, async () => {
      const skipped = new Map<string, number>();
      const failures: string[] = [];
      for (const d of list) {
        const why = missing(dev, d, shader);
        if (why) {
          skipped.set(why, (skipped.get(why) ?? 0) + 1);
          continue;
        }
        const code = preprocess(SHADERS[shader], d, shader);
        const module = dev.device.createShaderModule({ label: `variant:${shader}`, code });
        const errs = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
        const off = hasPrologue(code) ? 1 : 0;
        for (const e of errs)
          failures.push(`${JSON.stringify(d)}: shaders/${shader}.wgsl:${e.lineNum - off}:${e.linePos}: ${e.message}`);
      }
      for (const [why, n] of skipped) console.log(`      (${n} variants not compiled: the device lacks ${why})`);
      assert.deepEqual(failures, [], failures.slice(0, 5).join('\n'));
      // (a shader whose every variant needs shader-f16 compiles nowhere else: lavapipe's lane compiles it)
      assert.ok(
        skipped.size === 0 ||
          [...skipped.values()].reduce((a, b) => a + b) < list.length ||
          [...skipped.keys()].every((k) => k.includes('shader-f16')),
        'none compiled',
      );
    });
  }
});
