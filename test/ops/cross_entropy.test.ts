// Cross-entropy kernels (shaders/cross_entropy.wgsl) against float64: log p(target) merged over vocabulary chunks
// (the running max/sum across chunks, a target in any chunk, ignored rows) and dlogits = (softmax − onehot)·scale,
// for the GPU's workgroup-per-row kernels and SwiftShader's ROWWISE ones. Tolerance 1e-5 abs + 1e-5 rel.
import assert from 'node:assert/strict';
import { compare, getGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import { ceBackward, ceFinalize, ceStats } from '../../src/ops/cross_entropy.ts';

const R = 5,
  V = 40;
const logitsHost = Float32Array.from({ length: R * V }, (_, i) => Math.sin(i * 1.3) * 6 + (i % 7 === 0 ? 9 : 0));
const targetsHost = Int32Array.from([3, 39, -100, 12, 24]);

function reference() {
  const lp = new Float64Array(R),
    dl = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    const row = Array.from(logitsHost.subarray(r * V, (r + 1) * V));
    const m = Math.max(...row),
      lse = m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    const t = targetsHost[r];
    lp[r] = t < 0 ? 0 : row[t] - lse;
    for (let v = 0; v < V; v++) dl[r * V + v] = t < 0 ? 0 : (Math.exp(row[v] - lse) - (v === t ? 1 : 0)) * 0.5;
  }
  return { lp, dl };
}

async function run(gpu: Gpu, chunk: number) {
  const targets = gpu.fromI32(targetsHost, 'test:targets'),
    stats = gpu.tensor(R * 3, 'f32', 'test:stats'),
    lp = gpu.tensor(R, 'f32', 'test:lp');
  const dl = new Float32Array(R * V);
  const chunks: [number, number][] = [];
  for (let lo = 0; lo < V; lo += chunk) chunks.push([lo, Math.min(V, lo + chunk)]);
  const slice = (lo: number, hi: number) => {
    const a = new Float32Array(R * (hi - lo));
    for (let r = 0; r < R; r++) a.set(logitsHost.subarray(r * V + lo, r * V + hi), r * (hi - lo));
    return gpu.fromF32(a, 'test:logits');
  };
  chunks.forEach(([lo, hi], k) => {
    const t = slice(lo, hi);
    ceStats(gpu, t, targets, stats, R, hi - lo, lo, k === 0);
    t.destroy();
  });
  ceFinalize(gpu, targets, stats, lp, R);
  for (const [lo, hi] of chunks) {
    const t = slice(lo, hi),
      d = gpu.tensor(R * (hi - lo), 'f32', 'test:dlogits');
    ceBackward(gpu, t, targets, stats, d, R, hi - lo, lo, 0.5);
    const got = await gpu.readF32(d);
    for (let r = 0; r < R; r++) dl.set(got.subarray(r * (hi - lo), (r + 1) * (hi - lo)), r * V + lo);
    t.destroy();
    d.destroy();
  }
  const out = { lp: await gpu.readF32(lp), dl };
  [targets, stats, lp].forEach((t) => t.destroy());
  return out;
}

describe('cross-entropy kernels vs float64 (chunked vocabulary)', () => {
  let gpu: Gpu;
  before(async () => {
    gpu = await getGpu();
  });
  for (const [mode, sg] of [
    ['never', 'auto'],
    ['never', 'never'],
    ['always', 'auto'],
  ] as const) {
    for (const chunk of [40, 12, 8]) {
      it(`${mode === 'never' ? `workgroup-per-row (GPU, subgroups ${sg === 'auto' ? 'on' : 'off'})` : 'ROWWISE (SwiftShader)'} kernels, chunks of ${chunk}`, async () => {
        const g = gpu.withPolicy({ crossEntropy: { rowwise: mode === 'always' }, subgroups: sg === 'auto' });
        const ref = reference(),
          got = await run(g, chunk);
        const a = compare(got.lp, ref.lp, 1e-5, 1e-5),
          b = compare(got.dl, ref.dl, 1e-5, 1e-5);
        assert.ok(a.ok, `log-probs: [${a.bad}] ${a.got} vs ${a.want}`);
        assert.ok(b.ok, `dlogits: [${b.bad}] ${b.got} vs ${b.want}`);
      });
    }
  }
});
