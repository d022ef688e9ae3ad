// `instructalign bench`: matmul GFLOP/s, forward and training-step tokens/s, peak GPU memory and eval throughput on
// this adapter, each the median of ≥5 timed runs after a warm-up, with the scalar matmul kernel as same-run baseline.
import { bool, parseArgs } from './args.ts';
import { openDevice, describeAdapter } from '../gpu/device.ts';
import { Gpu } from '../gpu/runtime.ts';
import { matmul, matmulConfig } from '../ops/matmul.ts';
import { bloomConfigFor } from '../model/config.ts';
import { BloomWeights, randomBloomArrays } from '../model/weights.ts';
import { BloomForward } from '../model/forward.ts';
import { BloomGrads, lossAndBackward } from '../model/backward.ts';
import { AdamW } from '../train/optimizer.ts';

export const help = `instructalign bench [--json] [--quick] [--full] [--runs N]

Benchmarks on this adapter (random weights, nothing downloaded):
  matmul 1024³ (and 4096³ on a real GPU or with --full): GFLOP/s, vs the scalar kernel in the same run
  nano-bloomz (and BLOOMZ-560M / 1B1 on a real GPU or with --full): forward tokens/s (vs the scalar matmul),
  training step tokens/s (forward + backward + AdamW), peak GPU memory, eval sequences/s (NusaX-like prompts)
Every figure is the median of --runs (default 5, at least 5) timed runs after one warm-up, with min and max.
--quick uses smaller shapes (matmul 512³, batch 2), for a smoke run; --json prints one JSON object.`;

export interface Timing { median: number; min: number; max: number; runs: number }

/** Median/min/max seconds of `runs` calls after one warm-up; `fn` must await its own GPU work. */
export async function timeIt(fn: () => Promise<void>, runs: number): Promise<Timing> {
  await fn();
  const t: number[] = [];
  for (let r = 0; r < runs; r++) { const t0 = performance.now(); await fn(); t.push((performance.now() - t0) / 1000); }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)], min: t[0], max: t[t.length - 1], runs };
}

const spread = (t: Timing) => `[${t.min.toFixed(3)}–${t.max.toFixed(3)} s, n=${t.runs}]`;

async function matmulBench(gpu: Gpu, n: number, runs: number, naive: boolean) {
  const rnd = (len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.618) * 0.5);
  const a = gpu.fromF32(rnd(n * n), 'bench:a'), b = gpu.fromF32(rnd(n * n), 'bench:b'), c = gpu.tensor(n * n, 'f32', 'bench:c');
  // X·Wᵀ, the forward shape (both operands contiguous along k)
  const t = await timeIt(async () => { matmul(gpu, { a, b, c, M: n, N: n, K: n, aSm: n, aSk: 1, bSk: 1, bSn: n, naive }); await gpu.sync(); }, runs);
  [a, b, c].forEach((x) => x.destroy());
  return { shape: `${n}x${n}x${n}`, kernel: naive ? 'scalar (baseline)' : 'vec4', gflops: 2 * n ** 3 / t.median / 1e9, time: t };
}

async function modelBench(gpu: Gpu, name: string, B: number, T: number, runs: number, withBaseline: boolean) {
  const cfg = bloomConfigFor(name);
  const w = BloomWeights.fromArrays(gpu, cfg, randomBloomArrays(cfg), 'f32');
  const fwd = new BloomForward(gpu, w);
  const ids = new Int32Array(B * T).map((_, i) => 5 + ((i * 7919) % (cfg.vocabSize - 5)));
  const batch = { ids, mask: new Int32Array(B * T).fill(1), B, T };
  const R = B * T;
  // forward + log-probs of every position: what scoring and eval do
  const forward = async () => {
    const acts = await fwd.run(batch, false);
    const tg = gpu.fromI32(ids, 'bench:targets'), st = gpu.tensor(R * 3, 'f32', 'bench:stats'), lp = gpu.tensor(R, 'f32', 'bench:lp');
    fwd.logprobs(acts.lnf, tg, R, st, lp);
    await gpu.readF32(lp);
    [tg, st, lp].forEach((t) => t.destroy());
    fwd.freeActs(acts);
    await gpu.sync();
  };
  const H = cfg.hiddenSize, L = cfg.nLayer;
  const flops = 2 * R * (L * 12 * H * H + H * cfg.vocabSize) + L * 4 * B * cfg.nHead * T * T * cfg.headDim / 2;
  const f = await timeIt(forward, runs);
  let baseline: Timing | undefined;
  if (withBaseline) {
    matmulConfig.naive = true;
    try { baseline = await timeIt(forward, runs); } finally { matmulConfig.naive = false; }
  }
  const grads = new BloomGrads(gpu, w);
  const opt = new AdamW(gpu, w, { lr: 1e-5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
  gpu.peakBytes = gpu.bytesAllocated;
  const s = await timeIt(async () => {
    grads.zero();
    await lossAndBackward(fwd, batch, ids, grads);
    await opt.step(grads, 1e-5);
    await gpu.sync();
  }, runs);
  const peak = gpu.peakBytes;
  grads.destroy(); w.destroy(); fwd.slopes.destroy();
  await gpu.sync();
  return {
    model: name, B, T,
    forward: { tokensPerS: R / f.median, gflops: flops / f.median / 1e9, time: f, ...(baseline ? { scalarMatmulTokensPerS: R / baseline.median, speedup: baseline.median / f.median, baselineTime: baseline } : {}) },
    train: { tokensPerS: R / s.median, time: s },
    evalSequencesPerS: B / f.median,
    peakTrainBytes: peak,
  };
}

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs(argv, ['json', 'quick', 'full']);
  const json = bool(a, 'json'), quick = bool(a, 'quick'), full = bool(a, 'full');
  const runs = Math.max(5, Number(a.flags.get('runs') ?? 5) || 5);
  const h = await openDevice(json ? { log: () => {} } : {});
  const gpu = new Gpu(h);
  const slow = h.adapter.swiftshader;
  const say = (m: string) => { if (!json) console.log(m); };
  say(`adapter  ${describeAdapter(h)}`);
  const report: Record<string, unknown> = { adapter: describeAdapter(h), swiftshader: slow, date: new Date().toISOString(), runs };
  const sizes = quick ? [512] : !slow || full ? [1024, 4096] : [1024];
  const mm = [];
  for (const n of sizes) {
    const fast = await matmulBench(gpu, n, runs, false);
    const base = n <= 1024 ? await matmulBench(gpu, n, runs, true) : undefined;
    mm.push({ ...fast, ...(base ? { baselineGflops: base.gflops, speedup: fast.gflops / base.gflops } : {}) });
    say(`matmul ${fast.shape}  ${fast.gflops.toFixed(2)} GFLOP/s ${spread(fast.time)}` + (base ? `  scalar kernel ${base.gflops.toFixed(2)} GFLOP/s → ×${(fast.gflops / base.gflops).toFixed(2)}` : ''));
  }
  report.matmul = mm;
  const models: [string, number, number][] = [['nano-bloomz', quick ? 2 : 8, 64]];
  if (!quick && (!slow || full)) models.push(['bloomz-560m', 4, 256], ['bloomz-1b1', 4, 256]);
  const mres = [];
  for (const [name, B, T] of models) {
    const r = await modelBench(gpu, name, B, T, runs, name === 'nano-bloomz');
    mres.push(r);
    say(`${name} B=${B} T=${T}`);
    say(`  forward     ${r.forward.tokensPerS.toFixed(0)} tokens/s, ${r.forward.gflops.toFixed(2)} GFLOP/s ${spread(r.forward.time)}` +
      (r.forward.speedup ? `  scalar matmul ${r.forward.scalarMatmulTokensPerS!.toFixed(0)} tokens/s → ×${r.forward.speedup.toFixed(2)}` : ''));
    say(`  train step  ${r.train.tokensPerS.toFixed(0)} tokens/s ${spread(r.train.time)} (forward + backward + AdamW)`);
    say(`  eval        ${r.evalSequencesPerS.toFixed(2)} sequences/s of ${T} tokens (forward + log-probs)`);
    say(`  peak GPU memory while training ${(r.peakTrainBytes / 2 ** 20).toFixed(1)} MiB`);
  }
  report.models = mres;
  if (json) console.log(JSON.stringify(report));
  gpu.destroy();
  return 0;
}
