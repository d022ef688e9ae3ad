// Every matmul kernel (shaders/matmul.wgsl: scalar, SwiftShader's vec4 8×8 and 16×16 register blocks, the GPU's
// workgroup-memory tiled 64×64, 128×128 and 128×128 with k-slices of 16) on the three training layouts, against a
// float64 CPU product. Shapes are
// chosen to hit the edges: M and N not multiples of any tile, K a multiple of 4 but not of the tiled kernel's slice
// of 8, offsets into A/B/C, a C row stride wider than N, f16-packed B, bias + GELU, accumulate, alpha and the fused
// residual.
// Tolerance: |got − ref| ≤ 2e-5 + 2e-5·|ref| (f32 sums of ≤ 52 products of values < 1; observed ≲ 1e-6).
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import type { Gpu, Tensor } from '../../src/gpu/runtime.ts';
import { MATMUL_KERNELS } from '../../src/gpu/policy.ts';
import { canShareA, matmul, chooseMatmulKernel, TUNED_KERNELS, type MatmulKernel } from '../../src/ops/matmul.ts';
import { f16ToF32, f32ToF16 } from '../../src/model/dtype.ts';
import { rng } from '../helpers/rng.ts';

const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(0.79788456 * x * (1 + 0.044715 * x * x)));

type Layout = 'X·Wᵀ' | 'dY·W' | 'dYᵀ·X';
interface Case {
  M: number;
  N: number;
  K: number;
  layout: Layout;
  f16?: boolean;
  bias?: boolean;
  gelu?: boolean;
  accumulate?: boolean;
  alpha?: number;
  offsets?: boolean;
  cSm?: number;
  residual?: boolean;
}

/** strides of A(m,k) and B(k,n) for each layout, as src/ops/matmul.ts's helpers pass them */
function strides(c: Case) {
  switch (c.layout) {
    case 'X·Wᵀ':
      return { aSm: c.K, aSk: 1, bSk: 1, bSn: c.K }; // A [M,K], B = W [N,K]
    case 'dY·W':
      return { aSm: c.K, aSk: 1, bSk: c.N, bSn: 1 }; // A [M,K], B [K,N]
    case 'dYᵀ·X':
      return { aSm: 1, aSk: c.M, bSk: c.N, bSn: 1 }; // A = dY [K,M] read transposed, B [K,N]
  }
}

async function runCase(gpu: Gpu, c: Case, kernel: MatmulKernel) {
  const r = rng(c.M * 7 + c.N * 13 + c.K);
  const s = strides(c);
  const aOff = c.offsets ? 8 : 0,
    bOff = c.offsets ? 4 : 0,
    cOff = c.offsets ? 12 : 0,
    cSm = c.cSm ?? c.N;
  const A = Float32Array.from({ length: aOff + c.M * c.K }, () => r());
  // B's length rounded up to 8 elements so that an f16-packed B is whole vec4s (the vec4 kernels need that)
  let B = Float32Array.from({ length: Math.ceil((bOff + c.K * c.N) / 8) * 8 }, () => r());
  if (c.f16) B = B.map((v) => f16ToF32(f32ToF16(v)));
  const bias = Float32Array.from({ length: c.N }, () => r());
  const C0 = Float32Array.from({ length: cOff + c.M * cSm }, () => r());
  const Res = Float32Array.from({ length: C0.length }, () => r()); // a residual laid out as C
  const ref = Float64Array.from(C0);
  const alpha = c.alpha ?? 1;
  for (let m = 0; m < c.M; m++)
    for (let n = 0; n < c.N; n++) {
      let acc = 0;
      for (let k = 0; k < c.K; k++) acc += A[aOff + m * s.aSm + k * s.aSk] * B[bOff + k * s.bSk + n * s.bSn];
      let v = alpha * acc + (c.bias ? bias[n] : 0);
      if (c.gelu) v = gelu(v);
      const i = cOff + m * cSm + n;
      if (c.residual) v += Res[i];
      ref[i] = c.accumulate ? ref[i] + v : v;
    }
  const ta = gpu.fromF32(A, 'test:a');
  let tb: Tensor;
  if (c.f16) {
    tb = gpu.tensor(B.length, 'f16p', 'test:b');
    gpu.upload(
      tb,
      Uint16Array.from(B, (v) => f32ToF16(v)),
    );
  } else tb = gpu.fromF32(B, 'test:b');
  const tbias = c.bias ? gpu.fromF32(bias, 'test:bias') : undefined;
  const tc = gpu.fromF32(C0, 'test:c');
  const tres = c.residual ? gpu.fromF32(Res, 'test:res') : undefined;
  matmul(gpu.withPolicy({ matmul: { kernel } }), {
    a: ta,
    b: tb,
    c: tc,
    bias: tbias,
    M: c.M,
    N: c.N,
    K: c.K,
    ...s,
    cSm,
    aOff,
    bOff,
    cOff,
    accumulate: c.accumulate,
    gelu: c.gelu,
    alpha,
    residual: tres,
  });
  const got = await gpu.readF32(tc);
  [ta, tb, tbias, tc, tres].forEach((t) => t?.destroy());
  return { got, ref };
}

const CASES: Case[] = [
  { M: 70, N: 132, K: 52, layout: 'X·Wᵀ', bias: true, gelu: true },
  // the fused residual (x1 = ctx·Wᵀ + b + x), with offsets and a wide C stride, and on top of GELU
  { M: 70, N: 132, K: 52, layout: 'X·Wᵀ', bias: true, residual: true, offsets: true, cSm: 140 },
  { M: 140, N: 136, K: 36, layout: 'X·Wᵀ', bias: true, gelu: true, residual: true },
  { M: 70, N: 132, K: 52, layout: 'X·Wᵀ', f16: true, bias: true, offsets: true, cSm: 140 },
  { M: 70, N: 132, K: 52, layout: 'dY·W', accumulate: true, alpha: 0.5 },
  { M: 70, N: 132, K: 52, layout: 'dY·W', f16: true, offsets: true },
  { M: 68, N: 132, K: 52, layout: 'dYᵀ·X', accumulate: true },
  { M: 68, N: 132, K: 52, layout: 'dYᵀ·X', offsets: true, alpha: 2 },
  // more than one 128×128 tile each way, K not a multiple of the slice of 8
  { M: 140, N: 136, K: 36, layout: 'X·Wᵀ', bias: true },
  { M: 132, N: 136, K: 36, layout: 'dYᵀ·X', accumulate: true },
  // M = 1 (one decoding step) and a K of 4
  { M: 1, N: 72, K: 4, layout: 'X·Wᵀ', bias: true },
];
const KERNELS = MATMUL_KERNELS;
const TILED: MatmulKernel[] = [...TUNED_KERNELS, 'tiled128k32'];

describe('matmul: every kernel and layout vs a float64 CPU product', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await getGpu();
  });

  for (const kernel of KERNELS) {
    it(`${kernel}: X·Wᵀ, dY·W, dYᵀ·X with edges, offsets, f16 B, bias/GELU/accumulate/alpha/residual`, async () => {
      for (const c of CASES) {
        const { got, ref } = await runCase(gpu, c, kernel);
        const r = compare(got, ref, 2e-5, 2e-5);
        assert.ok(
          r.ok,
          `${kernel} ${JSON.stringify(c)}: element ${r.bad} got ${r.got} want ${r.want} (max abs ${r.maxAbs})`,
        );
      }
    });
  }

  it("the tiled kernels agree bit for bit on every case (so the GPU tuner's choice changes no results)", async () => {
    for (const c of CASES) {
      const [first, ...rest] = await Promise.all(
        TILED.map(async (k) => new Uint32Array((await runCase(gpu, c, k)).got.buffer)),
      );
      rest.forEach((o, i) => assert.deepEqual(o, first, `${TILED[i + 1]} vs ${TILED[0]} on ${JSON.stringify(c)}`));
    }
  });

  it('SwiftShader kernels add a contiguous residual in a second pass (no RESIDUAL variant to compile); tiled ones fuse it', async () => {
    const M = 40,
      N = 36,
      K = 20;
    const t = (n: number, l: string) => gpu.fromF32(new Float32Array(n).fill(0.5), l);
    const a = t(M * K, 'a'),
      b = t(N * K, 'b'),
      c = t(M * N, 'c'),
      res = t(M * N, 'res');
    const seen: string[] = [];
    try {
      for (const kernel of ['vec4x16sg', 'tiled64'] as MatmulKernel[]) {
        const g = gpu.withPolicy({ matmul: { kernel } });
        const orig = g.run.bind(g);
        g.run = (shader, entry, bind, params, wg, defines = {}) => {
          seen.push(`${entry}${defines.RESIDUAL ? '+RESIDUAL' : ''}`);
          orig(shader, entry, bind, params, wg, defines);
        };
        matmul(g, { a, b, c, M, N, K, aSm: K, aSk: 1, bSk: 1, bSn: K, residual: res });
        const got = await gpu.readF32(c);
        assert.ok(
          got.every((v) => Math.abs(v - (K * 0.25 + 0.5)) < 1e-5),
          `${kernel}: ${got[0]}`,
        );
      }
    } finally {
      [a, b, c, res].forEach((x) => x.destroy());
    }
    assert.deepEqual(seen, ['matmul', 'add_inplace', 'matmul_tiled+RESIDUAL']);
  });

  it('the automatic choice: SwiftShader family uses the register-block kernels, the GPU family the tiled ones', () => {
    const swift = gpu.withPolicy({ family: 'swiftshader' });
    // the kernels sharing A across a subgroup are written for 4-wide subgroups with subgroup_id (SwiftShader): the
    // device says whether it has them; other sizes (lavapipe's 8, GPUs' 32/64) get the plain kernels
    const h = gpu.handle;
    const four =
      h.features.has('subgroups') &&
      h.wgslFeatures.has('subgroup_id') &&
      h.subgroupSizes?.[0] === 4 &&
      h.subgroupSizes?.[1] === 4;
    assert.equal(canShareA(swift), four, `subgroups ${h.features.has('subgroups')}, sizes ${h.subgroupSizes}`);
    const sg = four ? 'sg' : '';
    assert.equal(chooseMatmulKernel(swift, 512, 1024), `vec4x16${sg}`);
    assert.equal(chooseMatmulKernel(swift, 20, 1024), `vec4${sg}`);
    assert.equal(chooseMatmulKernel(swift.withPolicy({ subgroups: false }), 512, 1024), 'vec4x16');
    const tiled = gpu.withPolicy({ family: 'gpu' });
    assert.equal(chooseMatmulKernel(tiled, 4096, 4096), 'tiled128');
    assert.equal(chooseMatmulKernel(tiled, 512, 256), 'tiled64');
    assert.equal(chooseMatmulKernel(tiled.withPolicy({ matmul: { naive: true } }), 4096, 4096), 'scalar');
  });
});
