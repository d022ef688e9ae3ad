// Attention forward kernels side by side on one shape (default nano-bloomz's: B=8 T=64, 8 heads of 32), interleaved
// runs, median of 5: with the probabilities materialized and without (flash), for the ROWWISE family (SwiftShader's
// choice) and the workgroup family (real GPUs'), whatever the adapter. A benchmark, not a test.
//   node --import tsx bench/attention.ts [B] [T] [NH] [D]
import { describeAdapter } from '../src/gpu/device.ts';
import { Gpu } from '../src/gpu/runtime.ts';
import { timeMany } from '../src/perf/timing.ts';
import { alibiSlopes, attentionForward, keyInfo } from '../src/ops/attention.ts';

const [B, T, NH, D] = [8, 64, 8, 32].map((d, i) => Number(process.argv[2 + i] ?? d));
const gpu = await Gpu.open({ log: () => {} });
console.log(`${describeAdapter(gpu.handle)}: B=${B} T=${T} heads=${NH} D=${D}`);
const qkv = gpu.fromF32(
  Float32Array.from({ length: B * T * 3 * NH * D }, (_, i) => Math.sin(i) * 0.5),
  'qkv',
);
const ki = gpu.fromF32(keyInfo(new Int32Array(B * T).fill(1), B, T), 'keyinfo'),
  sl = gpu.fromF32(alibiSlopes(NH), 'slopes');
const probs = gpu.tensor(B * NH * T * T, 'f32', 'probs'),
  ctx = gpu.tensor(B * T * NH * D, 'f32', 'ctx');
const s = { B, Tq: T, Tk: T, q0: 0, Tmax: T, NH, D };
const variant = (rowwise: 'always' | 'never', rows4: boolean, withProbs: boolean) => {
  const g = gpu.withPolicy({ attention: { rowwise: rowwise === 'always', rows4, flash: 'auto' } });
  return async () => {
    attentionForward(g, qkv, ki, sl, withProbs ? probs : null, ctx, s);
    await gpu.sync();
  };
};
const t = await timeMany(
  {
    'ROWWISE 4 rows, probs': variant('always', true, true),
    'ROWWISE 4 rows, flash': variant('always', true, false),
    'ROWWISE 1 row, probs': variant('always', false, true),
    'workgroup, probs': variant('never', false, true),
    'workgroup, flash': variant('never', false, false),
  },
  5,
);
for (const [k, v] of Object.entries(t))
  console.log(
    `${k.padEnd(24)} ${(v.median * 1000).toFixed(1)} ms [${(v.min * 1000).toFixed(1)}–${(v.max * 1000).toFixed(1)}], cv ${(v.cv * 100).toFixed(0)}%`,
  );
process.exit(0);
