import { openDevice } from '../src/gpu/device.ts';
import { Gpu } from '../src/gpu/runtime.ts';
import { timeMany } from '../src/cli/bench.ts';
import { alibiSlopes, keyInfo } from '../src/ops/attention.ts';
const gpu = new Gpu(await openDevice({ log: () => {} }));
const B = 8, T = 64, NH = 8, D = 32, D4 = 8;
const qkv = gpu.fromF32(Float32Array.from({ length: B * T * 3 * NH * D }, (_, i) => Math.sin(i) * 0.5), 'qkv');
const ki = gpu.fromF32(keyInfo(new Int32Array(B * T).fill(1), B, T), 'ki'), sl = gpu.fromF32(alibiSlopes(NH), 'sl');
const probs = gpu.tensor(B * NH * T * T, 'f32', 'p'), ctx = gpu.tensor(B * T * NH * D, 'f32', 'c');
const p = { B, Tq: T, Tk: T, q0: 0, Tmax: T, NH, D, scale: 1 / Math.sqrt(D) };
const outs: Record<string, Float32Array> = {};
const fns: Record<string, () => Promise<void>> = {
  probs1: async () => { gpu.run('attention', 'attention_probs', { qkv, keyinfo: ki, slopes: sl, probs, ctx }, p, [1, NH, B], { ROWWISE: true, D4 }); await gpu.sync(); },
  probs4: async () => { gpu.run('attention', 'attention_probs4', { qkv, keyinfo: ki, slopes: sl, probs, ctx }, p, [1, NH, B], { ROWWISE: true, D4, ROWS4: true }); await gpu.sync(); },
  unrolled: async () => { gpu.run('attention', 'attention_probs_u8', { qkv, keyinfo: ki, slopes: sl, probs, ctx }, p, [1, NH, B], { ROWWISE: true, D4, EXPU: true }); await gpu.sync(); },
};
for (const [k, f] of Object.entries(fns)) { await f(); outs[k] = await gpu.readF32(ctx); }
{ let md = 0; outs.unrolled.forEach((v, i) => { md = Math.max(md, Math.abs(v - outs.probs1[i])); }); console.log('ctx max diff u8 vs 1', md); }
const t = await timeMany(fns, 5);
for (const [k, v] of Object.entries(t)) console.log(k.padEnd(10), (v.median * 1000).toFixed(1), 'ms', `cv ${(v.cv * 100).toFixed(0)}%`);
process.exit(0);
