// LLM.int8() vs f32 / f16 weights: GPU memory of the weights and throughput (prefill tokens/s of a scored batch,
// KV-cached decode tokens/s) for one random-weight BLOOM shape, all variants in the same run; ratios against f32.
// The default shape is nano-bloomz (SwiftShader-friendly); --shape bloomz-560m for the 560M model.
// node --import tsx bench/int8.bench.ts [--shape nano-bloomz|bloomz-560m] [--batch 1] [--tokens 32] [--decode 4]
// [--runs 3] [--threshold 6]
// Measured on an NVIDIA H200 (Dawn/Vulkan), bloomz-560m, --batch 4 --tokens 128 --decode 16 --runs 2: weights
// f32 2133 MiB, f16 1067, int8+f32 1270 (0.60×), int8+f16 780 (0.37×); int8 prefill 0.52× f32, decode 0.93× f32.
import { describeAdapter } from '../src/gpu/device.ts';
import { Gpu } from '../src/gpu/runtime.ts';
import { bloomConfigFor } from '../src/model/bloom/config.ts';
import { BloomWeights, randomBloomArrays, type Int8Options, type StorageDType } from '../src/model/bloom/weights.ts';
import { BloomModel } from '../src/model/bloom/model.ts';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}
const shape = flag('shape', 'nano-bloomz'),
  B = Number(flag('batch', '1')),
  T = Number(flag('tokens', '32'));
const DECODE = Number(flag('decode', '4')),
  RUNS = Number(flag('runs', '3')),
  threshold = Number(flag('threshold', '6'));

const gpu = await Gpu.open({ log: () => {} });
const cfg = bloomConfigFor(shape);
console.log(`adapter: ${describeAdapter(gpu.handle)}`);
console.log(
  `shape ${shape} (H ${cfg.hiddenSize}, L ${cfg.nLayer}, V ${cfg.vocabSize}); prefill ${B}×${T} tokens, decode ${DECODE} tokens after a ${T}-token prompt; median of ${RUNS}; int8 threshold ${threshold}`,
);
let t0 = performance.now();
const arrays = randomBloomArrays(cfg, 1);
console.log(`random weights in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const variants: { name: string; dtype: StorageDType; int8?: Int8Options }[] = [
  { name: 'f32', dtype: 'f32' },
  { name: 'f16', dtype: 'f16' },
  { name: 'int8 (rest f32)', dtype: 'f32', int8: { threshold } },
  { name: 'int8 (rest f16)', dtype: 'f16', int8: { threshold } },
];
const ids = Int32Array.from({ length: B * T }, (_, i) => 5 + ((i * 7919) % (cfg.vocabSize - 5))),
  mask = new Int32Array(B * T).fill(1);
const rows: { name: string; bytes: number; blockBytes: number; load: number; prefill: number; decode: number }[] = [];

for (const v of variants) {
  t0 = performance.now();
  const w = BloomWeights.fromArrays(gpu, cfg, arrays, v.dtype, undefined, v.int8);
  const model = new BloomModel(gpu, w);
  await gpu.sync();
  const load = (performance.now() - t0) / 1000;
  let blockBytes = 0;
  for (const [n, t] of w.params) if (/^h\.\d+\.(self_attention|mlp)\..*weight$/.test(n)) blockBytes += t.byteLength;
  for (const q of w.int8w.values()) blockBytes += q.cb.byteLength + q.scb.byteLength;
  await model.forward({ ids, mask, B, T }); // warm-up: pipelines compiled here
  const pre: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    t0 = performance.now();
    await model.forward({ ids, mask, B, T });
    pre.push(performance.now() - t0);
  }
  const dec: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const cache = model.newCache(T + DECODE);
    await model.step(cache, Array.from(ids.subarray(0, T)));
    t0 = performance.now();
    for (let i = 0; i < DECODE; i++) await model.step(cache, [7 + i]);
    dec.push(performance.now() - t0);
    model.freeCache(cache);
  }
  rows.push({
    name: v.name,
    bytes: w.bytes(),
    blockBytes,
    load,
    prefill: (B * T) / (median(pre) / 1000),
    decode: DECODE / (median(dec) / 1000),
  });
  model.destroy();
  await gpu.sync();
  const r = rows[rows.length - 1];
  console.log(
    `  ${v.name}: ${(r.bytes / 2 ** 20).toFixed(1)} MiB, prefill ${r.prefill.toFixed(1)} tok/s, decode ${r.decode.toFixed(2)} tok/s (load ${load.toFixed(1)} s)`,
  );
}

const base = rows[0];
console.log(`\n| weights | GPU MiB | × f32 | block Linears MiB | prefill tok/s | × f32 | decode tok/s | × f32 |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(
    `| ${r.name} | ${(r.bytes / 2 ** 20).toFixed(1)} | ${(r.bytes / base.bytes).toFixed(3)} | ${(r.blockBytes / 2 ** 20).toFixed(1)} | ` +
      `${r.prefill.toFixed(1)} | ${(r.prefill / base.prefill).toFixed(2)} | ${r.decode.toFixed(2)} | ${(r.decode / base.decode).toFixed(2)} |`,
  );
}
gpu.destroy();
