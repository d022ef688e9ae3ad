// The GPU family's matmul tuner (src/ops/matmul-tune.ts), run here with the GPU family forced on SwiftShader: which
// matmuls it queues, that it times every tiled kernel and keeps the fastest, and that later matmuls of the class run
// the chosen kernel with the same bits (test/ops/matmul.test.ts checks that the tiled kernels agree bit for bit).
import assert from 'node:assert/strict';
import { getGpu } from '../helpers/gpu.ts';
import type { Gpu, Tensor } from '../../src/gpu/runtime.ts';
import {
  matmul,
  parseTuneMode,
  tuneCandidates,
  tuneShape,
  tuneState,
  TUNED_KERNELS,
  type MatmulKernel,
} from '../../src/ops/matmul.ts';
import { describeTuning, tuneMatmuls } from '../../src/ops/matmul-tune.ts';
import { f32ToF16 } from '../../src/model/dtype.ts';
import { isCpuAdapter, type TuneMode } from '../../src/gpu/policy.ts';
import { rng } from '../helpers/rng.ts';

const LAYOUTS = {
  X·Wᵀ: (M: number, N: number, K: number) => ({ aSm: K, aSk: 1, bSk: 1, bSn: K }),
  dY·W: (M: number, N: number, K: number) => ({ aSm: K, aSk: 1, bSk: N, bSn: 1 }),
  dYᵀ·X: (M: number, N: number, K: number) => ({ aSm: 1, aSk: M, bSk: N, bSn: 1 }),
};
type Layout = keyof typeof LAYOUTS;

describe('matmul tuning (GPU family forced on SwiftShader)', () => {
  let device: Gpu;
  let tune: TuneMode = 'auto';
  /**
   * the device with the GPU family, this test's tune mode and `kernel`; f16 arithmetic off (on a shader-f16 adapter
   * the f16-weight products run shaders/matmul_f16.wgsl, which is not tuned: this tests the tiled kernels' tuning)
   */
  const on = (kernel: MatmulKernel | 'auto' = 'auto') =>
    device.withPolicy({ family: 'gpu', matmul: { kernel, tune }, f16: 'off' });
  before(async () => {
    device = await getGpu();
  });
  afterEach(() => {
    tune = 'auto';
    tuneState(device).table.clear();
    tuneState(device).pending.clear();
  });

  function operands(M: number, N: number, K: number, f16: boolean, seed: number) {
    const gpu = device;
    const r = rng(seed);
    const a = gpu.fromF32(Float32Array.from({ length: M * K }, r), 'test:a');
    let b: Tensor;
    const B = Float32Array.from({ length: Math.ceil((N * K) / 8) * 8 }, r);
    if (f16) {
      b = gpu.tensor(B.length, 'f16p', 'test:b');
      gpu.upload(
        b,
        Uint16Array.from(B, (v) => f32ToF16(v)),
      );
    } else b = gpu.fromF32(B, 'test:b');
    return { a, b, c: gpu.tensor(M * N, 'f32', 'test:c') };
  }
  async function product(
    layout: Layout,
    M: number,
    N: number,
    K: number,
    f16: boolean,
    kernel: MatmulKernel | 'auto',
    gpu = on(kernel),
  ) {
    const { a, b, c } = operands(M, N, K, f16, M * 31 + N * 7 + K);
    try {
      matmul(gpu, { a, b, c, M, N, K, ...LAYOUTS[layout](M, N, K) });
      return new Uint32Array((await gpu.readF32(c)).buffer);
    } finally {
      [a, b, c].forEach((t) => t.destroy());
    }
  }

  it('queues shape classes only where tuning applies', async () => {
    const pending = () => [...tuneState(device).pending.keys()];
    tune = 'auto'; // auto: real GPUs only, not a CPU adapter (SwiftShader, lavapipe) with the GPU family forced
    await product('X·Wᵀ', 40, 24, 36, false, 'auto');
    assert.deepEqual(pending(), isCpuAdapter(device.handle.adapter) ? [] : ['kkf 64x24x36']);
    tuneState(device).pending.clear();
    tune = 'off';
    await product('X·Wᵀ', 40, 24, 36, false, 'auto');
    assert.deepEqual(pending(), []);
    tune = 'on';
    const gpu = on();
    gpu.dryRun = true;
    try {
      matmul(gpu, { ...operands(40, 24, 36, false, 1), M: 40, N: 24, K: 36, ...LAYOUTS['X·Wᵀ'](40, 24, 36) });
    } finally {
      gpu.dryRun = false;
    }
    assert.deepEqual(pending(), [], 'a dry run queues nothing');
    await product('X·Wᵀ', 40, 24, 36, false, 'tiled64');
    assert.deepEqual(pending(), [], 'a forced kernel is not tuned');
    await product('X·Wᵀ', 40, 24, 36, false, 'auto');
    await product('X·Wᵀ', 64, 24, 36, false, 'auto'); // M rounds up to the same power of two
    await product('dY·W', 40, 24, 36, false, 'auto');
    await product('dYᵀ·X', 40, 24, 36, false, 'auto');
    assert.deepEqual(pending().sort(), ['kkf 64x24x36', 'knf 64x24x36', 'mnf 64x24x36'].sort());
    assert.equal(tuneShape(65, 24, 36, false, false, false).key, 'kkf 128x24x36');
    assert.deepEqual(tuneShape(5000, 250880, 8192, false, false, true), {
      key: 'kkh 1024x2048x2048',
      M: 1024,
      N: 2048,
      K: 2048,
      aM4: false,
      bN4: false,
      f16: true,
    });
  });

  it('tuneMatmuls times every tiled kernel, keeps the fastest, and later matmuls of the class run it', async () => {
    tune = 'on';
    const gpu = on();
    const before = await product('dY·W', 96, 40, 64, true, 'auto'); // queued; runs the heuristic's kernel
    const results = await tuneMatmuls(gpu);
    assert.equal(results.length, 1);
    const [r] = results;
    assert.equal(r.key, 'knh 128x40x64');
    // SwiftShader's 32 KiB of workgroup memory admits the k-slices of 32 as a fourth candidate
    const cands = tuneCandidates(gpu);
    assert.deepEqual(
      cands,
      gpu.handle.limits.maxComputeWorkgroupStorageSize >= 32768 ? [...TUNED_KERNELS, 'tiled128k32'] : TUNED_KERNELS,
    );
    for (const k of cands) assert.ok(r.ms[k]! > 0 && Number.isFinite(r.ms[k]), `${k}: ${r.ms[k]} ms`);
    assert.equal(r.ms[r.kernel], Math.min(...cands.map((k) => r.ms[k]!)));
    assert.equal(tuneState(gpu).pending.size, 0);
    assert.equal(tuneState(gpu).table.get(r.key)?.kernel, r.kernel);
    assert.deepEqual(await tuneMatmuls(gpu), [], 'nothing left to tune');
    assert.match(describeTuning(results), new RegExp(`^matmul tuned for 1 shape class: ${r.kernel} ×1$`));
    // the next matmul of the class dispatches the chosen kernel's defines
    const seen: Record<string, boolean | number>[] = [];
    const orig = gpu.run.bind(gpu);
    gpu.run = (shader, entry, bind, params, wg, defines = {}) => {
      if (shader === 'matmul') seen.push(defines);
      orig(shader, entry, bind, params, wg, defines);
    };
    let after: Uint32Array;
    try {
      after = await product('dY·W', 100, 40, 64, true, 'auto', gpu);
    } finally {
      gpu.run = orig;
    }
    const want = { tiled64: [false, 8], tiled128: [true, 8], tiled128k16: [true, 16], tiled128k32: [true, 32] }[
      r.kernel as 'tiled64'
    ]!;
    assert.deepEqual(
      seen.map((d) => [d.TILED, d.T128, d.BK]),
      [[true, ...want]],
    );
    assert.equal(after.length, 100 * 40);
    // same operands as before the tuning (the seed follows the shape): same bits
    assert.deepEqual(await product('dY·W', 96, 40, 64, true, 'auto'), before);
  });

  it('INSTRUCTALIGN_MATMUL_TUNE takes auto, on or off', () => {
    assert.equal(parseTuneMode(undefined), 'auto');
    assert.equal(parseTuneMode('off'), 'off');
    assert.throws(() => parseTuneMode('yes'), /INSTRUCTALIGN_MATMUL_TUNE=yes: use auto, on or off/);
  });
});
