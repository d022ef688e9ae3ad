// LLM.int8() kernels (shaders/matmul_int8.wgsl) against the plain CPU reference of the same algorithm
// (src/model/int8.ts): outlier columns, row scales and int8 activations bit for bit, int32 accumulators exactly,
// dequantized outputs within f32 rounding; dot4I8Packed and the hand-unpacked fallback give the same integers.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { actWords, hasDot4, int8Linear, readAct, type Dot4Mode } from '../../src/ops/matmul_int8.ts';
import { int8LinearRef, packInt8, quantizeWeight } from '../../src/model/int8.ts';
import { rng } from '../helpers/rng.ts';

interface Case {
  name: string;
  M: number;
  N: number;
  K: number;
  threshold: number;
  outliers?: [number, number, number][];
  xOff?: number;
  yOff?: number;
}

const CASES: Case[] = [
  // K not a multiple of 4 and over one 64-value slice; M, N not multiples of the 32×32 tile
  { name: 'pure int8 (threshold 0) with a large value', M: 37, N: 45, K: 70, threshold: 0, outliers: [[3, 11, 9.5]] },
  {
    name: 'outlier columns (threshold 6; |x| = 6 counts)',
    M: 33,
    N: 40,
    K: 130,
    threshold: 6,
    outliers: [
      [0, 5, 7.25],
      [10, 5, -6],
      [4, 100, -12],
      [31, 129, 6.0001],
      [7, 64, 5.999],
    ],
  },
  {
    name: 'a row of outliers only: every column is an outlier column',
    M: 4,
    N: 8,
    K: 16,
    threshold: 6,
    outliers: Array.from({ length: 16 }, (_, k) => [2, k, 8] as [number, number, number]),
  },
  { name: 'no outlier present (threshold 6)', M: 5, N: 70, K: 300, threshold: 6 },
  {
    name: 'offsets into X and Y (KV-cache writes)',
    M: 3,
    N: 36,
    K: 64,
    threshold: 6,
    outliers: [[1, 7, -9]],
    xOff: 64,
    yOff: 36 * 5,
  },
];

async function runCase(gpu: Gpu, c: Case, dot4: Dot4Mode) {
  const r = rng(c.M * 1000 + c.K);
  const xOff = c.xOff ?? 0,
    yOff = c.yOff ?? 0;
  const X = Float32Array.from({ length: c.M * c.K }, () => r() * 4); // |x| < 2 before outliers
  for (const [m, k, v] of c.outliers ?? []) X[m * c.K + k] = v;
  const W = Float32Array.from({ length: c.N * c.K }, () => r() * 0.2);
  const bias = Float32Array.from({ length: c.N }, () => r());
  const q = quantizeWeight(W, c.N, c.K);
  const ref = int8LinearRef(X, q, bias, c.M, c.threshold);
  const Xt = gpu.tensor(xOff + X.length, 'f32', 'test:x');
  gpu.upload(Xt, X, xOff);
  const cb = gpu.fromU32(q.packed, 'test:cb'),
    scb = gpu.fromF32(q.scb, 'test:scb'),
    bt = gpu.fromF32(bias, 'test:bias');
  const Y = gpu.tensor(yOff + c.M * c.N, 'f32', 'test:y'),
    act = gpu.tensor(actWords(c.M, c.K), 'u32', 'test:act');
  const acc = gpu.tensor(c.M * c.N, 'i32', 'test:acc');
  int8Linear(gpu, {
    X: Xt,
    w: { cb, scb, N: c.N, K: c.K },
    bias: bt,
    Y,
    M: c.M,
    threshold: c.threshold,
    xOff,
    yOff,
    dot4,
    act,
    rawAcc: acc,
  });
  const got = {
    y: (await gpu.readF32(Y)).subarray(yOff),
    acc: await gpu.readI32(acc),
    act: await readAct(gpu, act, c.M, c.K),
  };
  [Xt, cb, scb, bt, Y, act, acc].forEach((t) => t.destroy());
  return { ref, got };
}

describe('matmul_int8: LLM.int8() kernels vs the CPU reference', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await getGpu();
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const { ref, got } = await runCase(gpu, c, 'manual');
      assert.deepEqual(got.act.cols, ref.q.cols, 'outlier columns');
      if (c.threshold === 0) assert.equal(got.act.cols.length, 0);
      assert.deepEqual(Array.from(got.act.sca), Array.from(ref.q.sca), 'row scales SCA');
      assert.deepEqual(Array.from(got.act.ca), Array.from(packInt8(ref.q.ca, c.M, c.K)), 'int8 activations CA');
      const bad = got.acc.findIndex((v, i) => v !== ref.acc[i]);
      assert.equal(bad, -1, `int32 accumulator ${bad}: ${got.acc[bad]} vs ${ref.acc[bad]}`);
      const scale = ref.Y.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const y = compare(got.y, ref.Y, 1e-6 * scale, 1e-5);
      assert.ok(y.ok, `Y: max abs ${y.maxAbs} (first bad ${y.got} vs ${y.want} at ${y.bad})`);
    });
  }

  it('outliers: ≥ threshold, excluded from the row scale; an all-outlier row has SCA 0', async () => {
    const a = await runCase(gpu, CASES[1], 'manual');
    assert.deepEqual(a.got.act.cols, [5, 100, 129]);
    assert.ok(a.got.act.sca[10] < 2 && a.got.act.sca[4] < 2, 'outlier elements are not in their row absmax');
    assert.equal(a.got.act.sca[7], Math.fround(5.999), 'a non-outlier 5.999 is its row absmax');
    const b = await runCase(gpu, CASES[2], 'manual');
    assert.equal(b.got.act.sca[2], 0);
    // every column is an outlier column: the int8 part is zero and Y is X·dequant(CB)ᵀ + bias
    assert.deepEqual(b.got.act.cols, [...Array(16).keys()]);
    assert.ok(b.got.acc.every((v) => v === 0));
  });

  it('dot4I8Packed and the hand-unpacked fallback give identical integers', async () => {
    if (!hasDot4(gpu))
      console.log('      (adapter does not report packed_4x8_integer_dot_product; forcing the builtin anyway)');
    for (const c of CASES) {
      const a = await runCase(gpu, c, 'manual'),
        b = await runCase(gpu, c, 'builtin');
      assert.deepEqual(Array.from(b.got.acc), Array.from(a.got.acc), c.name);
      assert.deepEqual(Array.from(b.got.y), Array.from(a.got.y), c.name);
    }
  });

  it('rounds half to even, like bitsandbytes (__float2int_rn) and WGSL round()', async () => {
    // threshold 0 and a row absmax of 127 make the scale exactly 1, so x·127/SCA = x
    const K = 12,
      N = 4,
      halves = [127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 126.5, -126.5, 0.49, 1.51];
    const X = Float32Array.from(halves),
      W = new Float32Array(N * K).fill(0.01);
    const q = quantizeWeight(W, N, K);
    const Xt = gpu.fromF32(X, 'x'),
      cb = gpu.fromU32(q.packed, 'cb'),
      scb = gpu.fromF32(q.scb, 'scb'),
      Y = gpu.tensor(N, 'f32', 'y');
    const act = gpu.tensor(actWords(1, K), 'u32', 'act');
    int8Linear(gpu, { X: Xt, w: { cb, scb, N, K }, Y, M: 1, threshold: 0, act });
    const ca = new Int8Array((await readAct(gpu, act, 1, K)).ca.buffer);
    assert.deepEqual(Array.from(ca), [127, 0, 2, 2, 0, -2, -2, 4, 126, -126, 0, 2]);
    [Xt, cb, scb, Y, act].forEach((t) => t.destroy());
  });

  it('names the op and the shapes on bad arguments', () => {
    const X = gpu.tensor(8, 'f32', 'x8'),
      Y = gpu.tensor(8, 'f32', 'y8'),
      cb = gpu.tensor(2, 'u32', 'cb'),
      scb = gpu.tensor(2, 'f32', 'scb');
    assert.throws(
      () => int8Linear(gpu, { X, w: { cb, scb, N: 2, K: 4 }, Y, M: 3, threshold: 6 }),
      /int8Linear cb: X x8 has 8 elements, needs 0\+3×4/,
    );
    assert.throws(
      () => int8Linear(gpu, { X, w: { cb, scb, N: 2, K: 4 }, Y, M: 2, threshold: -1 }),
      /threshold must be a finite number ≥ 0/,
    );
    [X, Y, cb, scb].forEach((t) => t.destroy());
  });
});
