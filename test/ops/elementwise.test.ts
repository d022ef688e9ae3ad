// BLOOM's GELU (shaders/lib/gelu.wgsl) against known values of the tanh approximation with BLOOM's constants
// (docs/bloom.md), in each place a kernel applies it: elementwise gelu_forward / gelu_backward and the matmul
// epilogue (the vec4 kernel's GELU define and the scalar kernel's flag). The expected values were computed in
// float64 by Python's math.tanh from the published formula, not by this project's code. Tolerance 2e-6 + 2e-6·|y|
// (f32 arithmetic; a changed constant moves some of these values by 1e-5 or more).
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { geluBackward, geluForward } from '../../src/ops/elementwise.ts';
import { linearForward } from '../../src/ops/matmul.ts';

// x, gelu(x) = 0.5·x·(1 + tanh(0.79788456·x·(1 + 0.044715·x²))), gelu'(x) (BLOOM's training backward)
const KNOWN: [number, number, number][] = [
  [-4, -7.024594896631875e-5, -3.351232004574028e-4],
  [-2, -0.0454023060802099, -0.0860992568229225],
  [-1, -0.15880800961582126, -0.0829640836548439],
  [-0.5, -0.15428599026146134, 0.1326300967609865],
  [-0.1, -0.046017248958555475, 0.4204782108075844],
  [0, 0, 0.5],
  [0.1, 0.053982751041444524, 0.5795217891924156],
  [0.5, 0.34571400973853866, 0.8673699032390135],
  [1, 0.8411919903841787, 1.0829640836548438],
  [2, 1.9545976939197902, 1.0860992568229226],
  [4, 3.999929754051034, 1.0003351232004574],
  [20, 20, 1],
];
const X = Float32Array.from(KNOWN, (k) => k[0]);
const TOL = 2e-6;

function check(got: Float32Array, want: number[], what: string) {
  const c = compare(got, want, TOL, TOL);
  assert.ok(c.ok, `${what}: x = ${X[c.bad]}: ${c.got} vs ${c.want} (max abs ${c.maxAbs})`);
}

/** Y = gelu(X·Iᵀ) through the matmul epilogue, X as rows of n values (n = 4: vec4 kernel; 3: scalar kernel). */
async function throughMatmul(gpu: Gpu, n: number): Promise<Float32Array> {
  const M = Math.ceil(X.length / n),
    x = new Float32Array(M * n);
  x.set(X);
  const eye = Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
  const tx = gpu.fromF32(x, 'test:x'),
    tw = gpu.fromF32(eye, 'test:eye'),
    ty = gpu.tensor(M * n, 'f32', 'test:y');
  linearForward(gpu, tx, tw, undefined, ty, M, n, n, true);
  const y = (await gpu.readF32(ty)).subarray(0, X.length);
  [tx, tw, ty].forEach((t) => t.destroy());
  return y;
}

describe("GELU: known values of BLOOM's tanh approximation in every kernel that applies it", () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await getGpu();
  });

  it('elementwise gelu_forward and gelu_backward (dy = 1, then accumulated with dy = 2)', async () => {
    const tx = gpu.fromF32(X, 'test:x'),
      out = gpu.tensor(X.length, 'f32', 'test:out');
    geluForward(gpu, tx, out);
    check(
      await gpu.readF32(out),
      KNOWN.map((k) => k[1]),
      'gelu',
    );
    const dy = gpu.fromF32(new Float32Array(X.length).fill(1), 'test:dy'),
      dy2 = gpu.fromF32(new Float32Array(X.length).fill(2), 'test:dy2');
    geluBackward(gpu, tx, dy, out);
    check(
      await gpu.readF32(out),
      KNOWN.map((k) => k[2]),
      "gelu'",
    );
    geluBackward(gpu, tx, dy2, out, X.length, true);
    check(
      await gpu.readF32(out),
      KNOWN.map((k) => 3 * k[2]),
      "gelu' accumulated",
    );
    [tx, out, dy, dy2].forEach((t) => t.destroy());
  });

  it('the matmul GELU epilogue, vec4 kernel (define) and scalar kernel (flag)', async () => {
    check(
      await throughMatmul(gpu, 4),
      KNOWN.map((k) => k[1]),
      'matmul vec4 epilogue',
    );
    check(
      await throughMatmul(gpu, 3),
      KNOWN.map((k) => k[1]),
      'matmul scalar epilogue',
    );
  });
});
