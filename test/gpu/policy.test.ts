// KernelPolicy (src/gpu/policy.ts): the defaults from the adapter's facts, overrides and their errors, the
// environment read once, and two runtimes in one process keeping their own kernel choices.
import assert from 'node:assert/strict';
import {
  envSettings,
  isCpuAdapter,
  KernelPolicyError,
  resolvePolicy,
  type PolicyOverrides,
} from '../../src/gpu/policy.ts';
import { Runtime } from '../../src/host/runtime.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { linearForward } from '../../src/ops/matmul.ts';
import { layernormForward } from '../../src/ops/layernorm.ts';
import { getGpu } from '../helpers/gpu.ts';

const swift = { swiftshader: true, features: new Set(['subgroups']) };
const gpuFacts = { swiftshader: false, features: new Set<string>() };

describe('KernelPolicy', () => {
  it("defaults follow the adapter: SwiftShader's row-per-invocation kernels, a GPU's workgroup ones", () => {
    const s = resolvePolicy(swift);
    assert.equal(s.family, 'swiftshader');
    assert.deepEqual([s.attention.rowwise, s.layernorm.rowwise, s.crossEntropy.rowwise], [true, true, true]);
    assert.deepEqual(s.matmul, { kernel: 'auto', naive: false, tune: 'auto' });
    assert.equal(s.attention.flash, 'auto');
    assert.equal(s.subgroups, true);
    assert.equal(s.robustness, true);
    const g = resolvePolicy(gpuFacts);
    assert.equal(g.family, 'gpu');
    assert.deepEqual([g.attention.rowwise, g.layernorm.rowwise, g.crossEntropy.rowwise], [false, false, false]);
    assert.equal(g.subgroups, false, 'no subgroups feature, no subgroups');
  });

  it('a fallback (CPU) adapter gets the CPU family and no tuning, whatever its vendor (lavapipe, WARP)', () => {
    const lavapipe = { swiftshader: false, fallback: true, features: new Set(['subgroups', 'shader-f16']) };
    const p = resolvePolicy(lavapipe);
    assert.equal(p.family, 'swiftshader');
    assert.deepEqual([p.attention.rowwise, p.layernorm.rowwise, p.crossEntropy.rowwise], [true, true, true]);
    assert.equal(isCpuAdapter(lavapipe), true);
    assert.equal(isCpuAdapter(gpuFacts), false);
    assert.equal(resolvePolicy({ ...lavapipe, fallback: false }).family, 'gpu');
    assert.equal(resolvePolicy(lavapipe, { family: 'gpu' }).family, 'gpu', 'an override still wins');
  });

  it('f16 LayerNorm/RMSNorm and GELU kernels: on where the device has shader-f16 and f16 math is not off', () => {
    const f16 = { swiftshader: false, fallback: true, features: new Set(['subgroups', 'shader-f16']) };
    const on = (p: ReturnType<typeof resolvePolicy>) => [p.layernorm.f16, p.gelu.f16];
    assert.deepEqual(on(resolvePolicy(f16)), [true, true], 'lavapipe (shader-f16)');
    assert.deepEqual(on(resolvePolicy(swift)), [false, false], 'SwiftShader (no shader-f16) keeps f32');
    assert.deepEqual(on(resolvePolicy(swift, { layernorm: { f16: true }, gelu: { f16: true } })), [false, false]);
    assert.deepEqual(on(resolvePolicy(f16, { f16: 'off' })), [false, false], 'INSTRUCTALIGN_F16=off: none');
    assert.deepEqual(on(resolvePolicy(f16, { f16: 'f16acc' })), [true, true]);
    assert.deepEqual(on(resolvePolicy(f16, { layernorm: { f16: false } })), [false, true], 'each on its own');
    const base = resolvePolicy(f16, { gelu: { f16: false } });
    assert.deepEqual(on(resolvePolicy(f16, {}, base)), [true, false], 'a base keeps its choice');
    assert.deepEqual(on(resolvePolicy(f16, { f16: 'f32acc' }, resolvePolicy(f16, { f16: 'off' }))), [true, true]);
    assert.throws(() => resolvePolicy(f16, { gelu: { f16: 1 } as any }), /gelu\.f16 1: use true or false/);
  });

  it('a family override moves the rowwise defaults; an op override wins; a base keeps what it had', () => {
    const p = resolvePolicy(swift, { family: 'gpu', crossEntropy: { rowwise: true } });
    assert.deepEqual([p.attention.rowwise, p.layernorm.rowwise, p.crossEntropy.rowwise], [false, false, true]);
    const q = resolvePolicy(swift, { matmul: { tune: 'off' } }, p);
    assert.equal(q.family, 'gpu');
    assert.equal(q.crossEntropy.rowwise, true, 'kept from the base');
    assert.equal(q.matmul.tune, 'off');
    assert.equal(p.matmul.tune, 'auto', 'the base is not changed');
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.matmul), 'a policy is read-only');
  });

  it('bad overrides are errors that name the setting', () => {
    assert.throws(() => resolvePolicy(swift, { familly: 'gpu' } as any), /unknown setting "familly"/);
    assert.throws(() => resolvePolicy(swift, { family: 'cpu' } as any), /family "cpu": use swiftshader or gpu/);
    assert.throws(() => resolvePolicy(swift, { matmul: { tune: 'yes' } } as any), /matmul.tune "yes"/);
    assert.throws(() => resolvePolicy(swift, { attention: { flash: 'x' } } as any), /attention.flash "x"/);
    assert.throws(() => resolvePolicy(swift, { robustness: false }), /fixed when the device is created/);
  });

  it('nested settings and values are validated too, with a named error (KernelPolicyError)', () => {
    const bad: [unknown, RegExp][] = [
      [{ matmul: { kernel: 'nonsense' } }, /matmul\.kernel "nonsense": use auto, scalar, .* or tiled128k32/],
      [{ matmul: { kernal: 'tiled64' } }, /unknown setting "matmul\.kernal" \(known: matmul\.kernel, /],
      [{ attention: { rowwize: true } }, /unknown setting "attention\.rowwize"/],
      [{ layernorm: { rowwise: 'yes' } }, /layernorm\.rowwise "yes": use true or false/],
      [{ subgroups: 1 }, /subgroups 1: use true or false/],
      [{ matmul: 'tiled64' }, /matmul must be an object of settings/],
    ];
    for (const [o, re] of bad) {
      assert.throws(
        () => resolvePolicy(swift, o as PolicyOverrides),
        (e: Error) => e instanceof KernelPolicyError && e.name === 'KernelPolicyError' && re.test(e.message),
        JSON.stringify(o),
      );
    }
    assert.equal(resolvePolicy(swift, { matmul: { kernel: 'tiled64', naive: false } }).matmul.kernel, 'tiled64');
  });

  it('the environment gives overrides (read by Gpu.open / Runtime.create, once)', () => {
    const e = envSettings({ INSTRUCTALIGN_MATMUL_TUNE: 'off', INSTRUCTALIGN_NO_ROBUSTNESS: '1' });
    assert.deepEqual(e.policy, { matmul: { tune: 'off' }, robustness: false });
    assert.equal(envSettings({}).busyWait, false);
    assert.deepEqual(envSettings({}).policy, {});
    assert.throws(() => envSettings({ INSTRUCTALIGN_MATMUL_TUNE: 'yes' }), /INSTRUCTALIGN_MATMUL_TUNE=yes/);
  });
});

/** The kernels `gpu` dispatches for one Linear and one LayerNorm, and the Linear's output. */
async function kernelsOf(gpu: Gpu): Promise<{ seen: string[]; y: Float32Array }> {
  const seen: string[] = [];
  const run = gpu.run.bind(gpu);
  gpu.run = (shader, entry, b, p, wg, d = {}) => {
    seen.push(`${entry}${d.TILED ? ':tiled' : d.VEC4 ? ':vec4' : ''}${d.ROWWISE ? ':rowwise' : ''}`);
    run(shader, entry, b, p, wg, d);
  };
  const M = 36,
    N = 40,
    K = 44;
  const x = gpu.fromF32(
      Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)),
      'x',
    ),
    w = gpu.fromF32(
      Float32Array.from({ length: N * K }, (_, i) => Math.cos(i)),
      'w',
    ),
    y = gpu.tensor(M * N, 'f32', 'y'),
    ones = gpu.fromF32(new Float32Array(N).fill(1), 'gamma'),
    zeros = gpu.fromF32(new Float32Array(N), 'beta'),
    ln = gpu.tensor(M * N, 'f32', 'ln'),
    stats = gpu.tensor(M * 2, 'f32', 'stats');
  linearForward(gpu, x, w, undefined, y, M, N, K);
  layernormForward(gpu, y, ones, zeros, ln, stats, M, N, 1e-5);
  const out = await gpu.readF32(y);
  [x, w, y, ones, zeros, ln, stats].forEach((t) => t.destroy());
  delete (gpu as Partial<Gpu>).run; // the class's own again
  return { seen, y: out };
}

describe('two runtimes in one process', () => {
  let a: Runtime, b: Runtime;
  before(async () => {
    a = await Runtime.create({ log: () => {}, policy: { family: 'gpu' } });
    b = await Runtime.create({ log: () => {}, policy: { family: 'swiftshader', subgroups: false } });
  });
  after(() => {
    a?.dispose();
    b?.dispose();
  });

  it('each keeps its own kernel choices, interleaved, with the same results', async () => {
    const [ka, kb] = [await kernelsOf(a.gpu), await kernelsOf(b.gpu)];
    const [ka2, kb2] = [await kernelsOf(a.gpu), await kernelsOf(b.gpu)];
    assert.deepEqual(ka.seen, ['matmul_tiled:tiled', 'layernorm_forward']);
    assert.deepEqual(kb.seen, ['matmul:vec4', 'layernorm_forward:rowwise']);
    assert.deepEqual([ka2.seen, kb2.seen], [ka.seen, kb.seen], 'creating the second changed nothing in the first');
    assert.equal(a.policy.family, 'gpu');
    assert.equal(b.policy.subgroups, false);
    for (let i = 0; i < ka.y.length; i++) assert.ok(Math.abs(ka.y[i] - kb.y[i]) < 1e-4, `y[${i}]`);
  });

  it('a view (withPolicy) shares the device and leaves the original as it was', async () => {
    const gpu = await getGpu();
    const before = gpu.policy;
    const view = gpu.withPolicy({ family: gpu.policy.family === 'gpu' ? 'swiftshader' : 'gpu' });
    assert.notEqual(view.policy.family, gpu.policy.family);
    assert.equal(gpu.policy, before);
    assert.equal(view.memory, gpu.memory, 'one pool');
    assert.equal(view.queue, gpu.queue, 'one queue: work through either runs in order');
    const t = view.fromF32(new Float32Array([1, 2, 3, 4]), 't');
    assert.deepEqual([...(await gpu.readF32(t))], [1, 2, 3, 4]);
    t.destroy();
  });
});
