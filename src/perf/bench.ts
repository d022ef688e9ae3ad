// `instructalign bench` as a library: memory plans, matmul GFLOP/s per kernel and layout, the GPU wait, forward and
// training-step tokens/s, peak GPU memory and eval throughput on this adapter, collected into one report. The CLI
// (src/cli/bench.ts) parses the flags and prints; this runs the sections in order and saves after each.
import { describeAdapter } from '../gpu/device.ts';
import { Gpu } from '../gpu/runtime.ts';
import { withDevice } from '../gpu/scope.ts';
import { isCpuAdapter, type KernelFamily } from '../gpu/policy.ts';
import { tuneState } from '../ops/matmul.ts';
import { gib } from './timing.ts';
import { f16AttentionBench } from './attention.ts';
import { f16MatmulBench, matmulBench } from './matmul.ts';
import { f16NormBench } from './norm.ts';
import { memoryPlan } from './memory.ts';
import { modelBench } from './model.ts';
import { againstPytorch } from './pytorch.ts';
import { waitBench } from './wait.ts';

export { againstPytorch } from './pytorch.ts';
export { memoryPlan } from './memory.ts';
export { timeIt, timeMany, type Timing } from './timing.ts';

export interface BenchOptions {
  /** matmul 512 and nano-bloomz at B=2 */
  quick?: boolean;
  /** every size and model, also on SwiftShader */
  full?: boolean;
  /** only the memory plans */
  memoryOnly?: boolean;
  /** the training step with each runtime choice undone */
  ablate?: boolean;
  /** timed runs per figure (at least 5) */
  runs?: number;
  /** matmul sizes n (n×n×n), positive multiples of 4 */
  matmul?: number[];
  /** models by name (keys of benchShapes) */
  models?: string[];
  /** run every op's kernels of this family whatever the adapter */
  family?: KernelFamily;
  /** bench/pytorch/bench.py's JSON from the same GPU: adds the ratios to PyTorch */
  torch?: unknown;
  /** progress lines */
  say?: (m: string) => void;
  /** called with the report after each section (a run cut short keeps what it measured) */
  save?: (report: Record<string, unknown>) => Promise<void>;
}

/** Batch and sequence length per benchmarked model. */
export function benchShapes(quick = false): Record<string, [number, number]> {
  return { 'nano-bloomz': [quick ? 2 : 8, 64], 'bloomz-560m': [4, 256], 'bloomz-1b1': [4, 256] };
}

/** Runs the benchmark sections on this adapter and returns the report. */
export async function runBench(o: BenchOptions = {}): Promise<Record<string, unknown>> {
  const say = o.say ?? (() => {});
  const runs = Math.max(5, o.runs ?? 5);
  const known = Object.keys(benchShapes());
  for (const m of o.models ?? [])
    if (!known.includes(m)) throw new Error(`bench: unknown model "${m}" (known: ${known.join(', ')})`);
  for (const n of o.matmul ?? [])
    if (!(Number.isInteger(n) && n > 0 && n % 4 === 0))
      throw new Error(`bench: matmul sizes must be positive multiples of 4, got ${n}`);
  const family = o.family;
  // --family: every op's kernels of that family (INSTRUCTALIGN_MATMUL_TUNE=on: the tuner too)
  return withDevice(Gpu.open({ log: say, policy: family ? { family } : {} }), (gpu) => benchOn(gpu, o, say, runs));
}

async function benchOn(gpu: Gpu, o: BenchOptions, say: (m: string) => void, runs: number) {
  const family = o.family;
  const h = gpu.handle;
  const slow = isCpuAdapter(h.adapter);
  say(`adapter  ${describeAdapter(h)}; features ${[...h.features].join(', ') || 'none'}`);
  const report: Record<string, unknown> = {
    adapter: describeAdapter(h),
    swiftshader: slow,
    ...(family ? { family } : {}),
    features: [...h.features],
    date: new Date().toISOString(),
    runs,
    host: await hostInfo(),
  };
  const save = () => o.save?.(report) ?? Promise.resolve();

  // memory plans: exact and fast, so always first
  const plans = [];
  for (const name of ['nano-bloomz', 'bloomz-560m', 'bloomz-1b1']) {
    for (const [recompute, fp16] of [
      [false, false],
      [true, false],
      [true, true],
    ]) {
      const p = await memoryPlan(gpu, name, 4, 256, recompute, fp16);
      plans.push(p);
      say(
        `memory plan ${name} B=4 T=256 ${fp16 ? '--fp16' : 'f32'}${recompute ? ' --recompute' : ''}: peak ${gib(p.peakBytes)} = weights, grads and AdamW state ${gib(p.stateBytes)} (weights${fp16 ? ' + their f16 copy' : ''} ${gib(p.weightsBytes)}) + activations and scratch ${gib(p.activationBytes)}; held with the buffer pool ${gib(p.residentBytes)}, ${p.buffersPerStep} buffers created per step after the first`,
      );
    }
  }
  report.memoryPlan = plans;
  // what --fp16 training saves or costs against f32 (same batch, both --recompute): f32 master weights, gradients and
  // AdamW state as f32 training, plus the f16 compute copy of the matrices; activations stay f32 (docs/performance.md)
  for (const p of plans.filter((q) => q.fp16)) {
    const f = plans.find((q) => !q.fp16 && q.model === p.model && q.recompute === p.recompute)!;
    const d = (x: number, y: number) => `${x >= y ? '+' : '−'}${gib(Math.abs(x - y))}`;
    say(
      `memory plan ${p.model} B=4 T=256${p.recompute ? ' --recompute' : ''} --fp16 vs f32: peak ${gib(p.peakBytes)} vs ${gib(f.peakBytes)} (${d(p.peakBytes, f.peakBytes)}): weights ${d(p.weightsBytes, f.weightsBytes)} (the f16 copy), activations and scratch ${d(p.activationBytes, f.activationBytes)}`,
    );
  }
  // inference (--dtype f16): the weights stored f16 take half the bytes of f32 ones
  for (const p of plans.filter((q) => !q.fp16 && !q.recompute))
    say(
      `memory plan ${p.model} inference weights: f32 ${gib(p.weightsBytes)}, f16 (--dtype f16) ${gib(p.weightsBytes / 2)}: saves ${gib(p.weightsBytes / 2)}`,
    );
  // long context: the saved attention probabilities grow with T² (per layer B·heads·T²·4 bytes); flash attention
  // (Tk ≥ 1024 picks it) keeps each row's log-sum-exp instead
  const long = [];
  for (const recompute of [false, true]) {
    for (const flash of ['never', 'auto'] as const) {
      let p: Awaited<ReturnType<typeof memoryPlan>>;
      try {
        p = await memoryPlan(gpu, 'bloomz-560m', 1, 2048, recompute, false, flash);
      } catch (e) {
        // stored probabilities over this adapter's binding limit (lavapipe: 128 MiB): that plan cannot run here
        if (!/over maxStorageBufferBindingSize/.test(String((e as Error).message))) throw e;
        say(
          `memory plan bloomz-560m B=1 T=2048${recompute ? ' --recompute' : ''}, attention probs saved: does not fit (${(e as Error).message})`,
        );
        continue;
      }
      long.push(p);
      say(
        `memory plan bloomz-560m B=1 T=2048${recompute ? ' --recompute' : ''}, attention ${flash === 'never' ? 'probs saved    ' : 'flash (default)'}: peak ${gib(p.peakBytes)}, activations and scratch ${gib(p.activationBytes)}`,
      );
    }
  }
  report.memoryPlanLongContext = long;
  await save();
  if (o.memoryOnly) return finish();

  const sizes = o.matmul ?? (o.quick ? [512] : !slow || o.full ? [1024, 4096] : [1024]);
  const mm = [];
  for (const n of sizes) {
    mm.push(...(await matmulBench(gpu, n, runs, say)));
    report.matmul = mm;
    await save();
  }
  // f16 arithmetic against the f32 path, same run (adapters with shader-f16)
  if (h.features.has('shader-f16')) {
    const f = [];
    for (const n of sizes) f.push(...(await f16MatmulBench(gpu, n, runs, say)));
    report.matmulF16 = f;
    await save();
    // inference attention of f16 models: f16 against f32 arithmetic, same run
    report.attentionF16 = await f16AttentionBench(gpu, runs, say);
    await save();
    // LayerNorm/RMSNorm/GELU of f16 models: f16 against f32 arithmetic, same run
    report.normF16 = await f16NormBench(gpu, runs, say);
    await save();
  }
  // the GPU wait: quiet (the default) against dawn.node's busy polling, same run (Node only)
  if (h.adapter.backend === 'node-dawn') {
    report.wait = await waitBench(gpu, sizes[0], 2, 64, runs, say);
    await save();
  }
  const shapes = benchShapes(o.quick);
  const names = o.models ?? (o.quick || (slow && !o.full) ? ['nano-bloomz'] : Object.keys(shapes));
  const mres = [];
  for (const name of names) {
    const [B, T] = shapes[name];
    mres.push(await modelBench(gpu, name, B, T, runs, name === 'nano-bloomz', say, o.ablate));
    report.models = mres;
    await save();
  }
  return finish();

  function finish() {
    report.pipelines = { created: gpu.pipelinesCreated, seconds: gpu.pipelineMs / 1000 };
    say(
      `\npipelines compiled: ${gpu.pipelinesCreated} in ${(gpu.pipelineMs / 1000).toFixed(1)} s (host time, once per process)`,
    );
    const tuned = [...tuneState(gpu).table].map(([key, e]) => ({ key, kernel: e.kernel, ms: e.ms }));
    if (tuned.length) {
      report.matmulTuning = tuned;
      say(
        `\nmatmul tuning on this adapter (class: layout of A, B and B's storage, then M×N×K proxies; best of 3 trials):`,
      );
      for (const t of tuned)
        say(
          `  ${t.key.padEnd(24)} → ${t.kernel.padEnd(12)} ${Object.entries(t.ms)
            .map(([k, v]) => `${k} ${(v as number).toFixed(3)} ms`)
            .join(', ')}`,
        );
    }
    if (o.torch) {
      const r = againstPytorch(report, o.torch);
      report.againstPytorch = r;
      say(`\nratio to PyTorch on the same GPU (>1: instructalign faster or smaller)`);
      for (const x of r) say(`  ${x.figure.padEnd(64)} ×${x.ratio.toFixed(2)}`);
    }
    return report;
  }
}

async function hostInfo() {
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  const os = await import('node:os');
  return { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg() };
}
