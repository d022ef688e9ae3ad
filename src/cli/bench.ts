// `instructalign bench`: matmul GFLOP/s per kernel and layout, forward and training-step tokens/s, peak GPU memory
// (measured, and planned exactly by a dry run for the BLOOMZ shapes), eval throughput on this adapter. Every timing
// is the median of ≥5 timed runs after a warm-up, with min/max, mean and the coefficient of variation; kernels that
// are compared run interleaved (run 1 of each, then run 2 of each, …) so that drifting machine load hits them alike.
import { bool, helpText, list, num, parseCommand, str, UsageError, type CommandSpec } from './args.ts';
import { openDevice, describeAdapter } from '../gpu/device.ts';
import { Gpu } from '../gpu/runtime.ts';
import {
  chooseMatmulKernel,
  matmul,
  matmulConfig,
  matmulFamily,
  matmulTuning,
  tuneCandidates,
  tuneShape,
  tuneState,
  tuningApplies,
  type MatmulKernel,
} from '../ops/matmul.ts';
import { tuneMatmuls } from '../ops/matmul-tune.ts';
import { attentionConfig } from '../ops/attention.ts';
import { forceKernelFamily } from '../ops/family.ts';
import { subgroupConfig } from '../ops/grid.ts';
import { bloomConfigFor, bloomParameters } from '../model/config.ts';
import { BloomWeights, randomBloomArrays } from '../model/weights.ts';
import { BloomForward } from '../model/forward.ts';
import { BloomGrads, lossAndBackward } from '../model/backward.ts';
import { AdamW } from '../train/optimizer.ts';
import { F16ComputeWeights } from '../train/mixed.ts';
import { Runtime } from '../host/runtime.ts';
import { packageRoot } from '../train/data/paths.ts';
import { loadNusax } from '../eval/datasets.ts';
import { DEFAULT_LABELS, labelTexts, promptTemplates } from '../eval/tasks.ts';

export const spec: CommandSpec = {
  name: 'bench',
  usage: `instructalign bench [--json] [--quick] [--full] [--runs N] [--out FILE] [--against FILE]
                  [--models a,b] [--matmul 1024,4096] [--memory] [--ablate] [--family gpu|swiftshader]`,
  about: `Benchmarks on this adapter (random weights, nothing downloaded):
  matmul n³ for the three training layouts (X·Wᵀ, dY·W, dYᵀ·X) with the kernel this adapter gets, and the other
    kernels on X·Wᵀ in the same run (scalar = the first kernel, the baseline of every ratio)
  per model: forward tokens/s (nano-bloomz also with the scalar matmul), the same forward with attention probs
    materialized (attentionConfig.flash = 'never'), training step tokens/s (forward + backward + AdamW) with and
    without --recompute, peak GPU memory, eval sequences/s (forward + log-probs), and eval of real NusaX label texts
    (nano-bloomz tokenizer) with and without prompt-prefix sharing
  memory plan: the exact peak of one training step (f32, f32 --recompute, --fp16 --recompute) for nano-bloomz,
    BLOOMZ-560M and BLOOMZ-1B1 at B=4 T=256, from a dry run (allocations counted, no kernel run): seconds anywhere
Default sizes: a real GPU gets matmul 1024,4096 and nano-bloomz, bloomz-560m, bloomz-1b1; SwiftShader gets
matmul 1024 and nano-bloomz (--full: everything; --quick: matmul 512, nano-bloomz at B=2).
Every timing is the median of --runs (default 5, at least 5) runs after one warm-up, with min, max and the
coefficient of variation (cv = standard deviation / mean).`,
  options: {
    json: { type: 'boolean', help: 'print one JSON object (progress goes to stderr)' },
    quick: { type: 'boolean', help: 'matmul 512, nano-bloomz at B=2' },
    full: { type: 'boolean', help: 'every size and model, also on SwiftShader' },
    runs: { type: 'int', min: 5, default: 5, help: 'timed runs per figure (at least 5)' },
    out: {
      type: 'string',
      arg: 'FILE',
      help: `also write the JSON to FILE, rewritten (atomically) after every section: a run cut short keeps
what it measured`,
    },
    against: {
      type: 'string',
      arg: 'FILE',
      help: 'the JSON of bench/pytorch/bench.py on the same GPU: adds the ratio to PyTorch for each figure',
    },
    models: { type: 'list', arg: 'a,b', choices: ['nano-bloomz', 'bloomz-560m', 'bloomz-1b1'], help: 'models to time' },
    matmul: {
      type: 'list',
      arg: 'n,n',
      help: 'matmul sizes n (n³), positive multiples of 4',
      check: (v) =>
        (v as string[]).every((x) => Number.isInteger(Number(x)) && Number(x) > 0 && Number(x) % 4 === 0)
          ? undefined
          : `sizes must be positive multiples of 4, got ${(v as string[]).join(',')}`,
    },
    memory: { type: 'boolean', help: 'only the memory plans' },
    ablate: {
      type: 'boolean',
      help: `per model, also the training step with each of the runtime's choices undone, interleaved with
the default: buffer pool off, subgroups off, flash attention forced (lse + recomputed scores
instead of the saved probabilities), and on a GPU the matmul tuner's choice undone`,
    },
    family: {
      type: 'string',
      arg: 'F',
      choices: ['gpu', 'swiftshader'],
      help: `run the kernels of family F whatever the adapter (gpu: the tiled matmul and the workgroup
attention, LayerNorm and cross-entropy kernels; with INSTRUCTALIGN_MATMUL_TUNE=on the tuner too):
to measure the GPU path on SwiftShader, slowly`,
    },
  },
};
export const help = helpText(spec);

export interface Timing {
  median: number;
  min: number;
  max: number;
  mean: number;
  cv: number;
  runs: number;
}

function stats(t: number[]): Timing {
  const s = [...t].sort((a, b) => a - b),
    n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1));
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { median, min: s[0], max: s[n - 1], mean, cv: sd / mean, runs: n };
}

/** Seconds of `runs` calls after one warm-up; `fn` must await its own GPU work. */
export async function timeIt(fn: () => Promise<void>, runs: number): Promise<Timing> {
  return (await timeMany({ x: fn }, runs)).x;
}

/** Like timeIt for several functions, their runs interleaved; each warmed up once first. */
export async function timeMany<K extends string>(
  fns: Record<K, () => Promise<void>>,
  runs: number,
): Promise<Record<K, Timing>> {
  const keys = Object.keys(fns) as K[];
  for (const k of keys) await fns[k]();
  const t = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < runs; r++) {
    for (const k of keys) {
      const t0 = performance.now();
      await fns[k]();
      t[k].push((performance.now() - t0) / 1000);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, stats(t[k])])) as Record<K, Timing>;
}

const spread = (t: Timing) => `[${fmtS(t.min)}–${fmtS(t.max)}, cv ${(100 * t.cv).toFixed(1)}%, n=${t.runs}]`;
const fmtS = (s: number) =>
  s < 0.01 ? `${(s * 1000).toFixed(2)} ms` : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`;
const gib = (b: number) => `${(b / 2 ** 30).toFixed(2)} GiB`;

const LAYOUTS = {
  X·Wᵀ: (n: number) => ({ aSm: n, aSk: 1, bSk: 1, bSn: n }),
  dY·W: (n: number) => ({ aSm: n, aSk: 1, bSk: n, bSn: 1 }),
  dYᵀ·X: (n: number) => ({ aSm: 1, aSk: n, bSk: n, bSn: 1 }),
} as const;

async function matmulBench(gpu: Gpu, n: number, runs: number, say: (m: string) => void) {
  const rnd = (len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(i * 0.618) * 0.5);
  const a = gpu.fromF32(rnd(n * n), 'bench:a'),
    b = gpu.fromF32(rnd(n * n), 'bench:b'),
    c = gpu.tensor(n * n, 'f32', 'bench:c');
  // the kernel the runtime runs for each layout: on a GPU the tuner's choice for the class (timed on a proxy of at
  // most 1024×2048×2048), elsewhere the fixed choice
  const autoFor: Record<string, MatmulKernel> = {};
  for (const l of Object.keys(LAYOUTS) as (keyof typeof LAYOUTS)[]) {
    autoFor[l] = chooseMatmulKernel(gpu, n, n);
    if (tuningApplies(gpu)) {
      matmul(gpu, { a, b, c, M: n, N: n, K: n, ...LAYOUTS[l](n) }); // queues the class
      await tuneMatmuls(gpu);
      const s = tuneState(gpu).table.get(tuneShape(n, n, n, l === 'dYᵀ·X', l !== 'X·Wᵀ', false).key);
      if (s) autoFor[l] = s.kernel;
    }
  }
  const auto = autoFor['X·Wᵀ'];
  const swift = gpu.handle.adapter.swiftshader;
  // the other kernels of this adapter's family, and the scalar first kernel (the baseline); the slow scalar kernel
  // is skipped at sizes where it would take minutes on SwiftShader
  const others: MatmulKernel[] = (
    matmulFamily(gpu) === 'swiftshader'
      ? ['vec4x16sg', 'vec4x16', 'vec4', 'scalar']
      : ([...tuneCandidates(gpu), 'scalar'] as MatmulKernel[])
  ).filter((k) => k !== auto && !(swift && k === 'scalar' && n > 1024)) as MatmulKernel[];
  const call = (kernel: MatmulKernel, layout: keyof typeof LAYOUTS) => async () => {
    const saved = matmulConfig.kernel;
    matmulConfig.kernel = kernel;
    try {
      matmul(gpu, { a, b, c, M: n, N: n, K: n, ...LAYOUTS[layout](n) });
    } finally {
      matmulConfig.kernel = saved;
    }
    await gpu.sync();
  };
  const fns: Record<string, () => Promise<void>> = {};
  for (const l of Object.keys(LAYOUTS) as (keyof typeof LAYOUTS)[]) fns[`${autoFor[l]} ${l}`] = call(autoFor[l], l);
  for (const k of others) fns[`${k} X·Wᵀ`] = call(k, 'X·Wᵀ');
  const t = await timeMany(fns, runs);
  [a, b, c].forEach((x) => x.destroy());
  const gf = (k: string) => (2 * n ** 3) / t[k].median / 1e9;
  const base = t['scalar X·Wᵀ'] ? gf('scalar X·Wᵀ') : undefined;
  const rows = Object.keys(fns).map((k) => {
    const [kernel, layout] = k.split(' ');
    return {
      shape: `${n}x${n}x${n}`,
      kernel,
      layout,
      auto: kernel === autoFor[layout],
      gflops: gf(k),
      time: t[k],
      ...(base ? { vsScalar: gf(k) / base } : {}),
    };
  });
  for (const r of rows)
    say(
      `matmul ${r.shape} ${r.layout.padEnd(5)} ${r.kernel.padEnd(8)}${r.auto ? '*' : ' '} ${r.gflops.toFixed(2).padStart(9)} GFLOP/s ${spread(r.time)}` +
        (r.vsScalar && r.kernel !== 'scalar' ? `  ×${r.vsScalar.toFixed(2)} scalar` : ''),
    );
  return rows;
}

function zeroArrays(name: string): Map<string, Float32Array> {
  // untouched zero pages: a dry run never uploads them, so even 1B1's 4 GiB of f32 costs no memory
  return new Map(
    bloomParameters(bloomConfigFor(name)).map((p) => [p.name, new Float32Array(p.shape.reduce((x, y) => x * y, 1))]),
  );
}

/** Peak bytes of one training step (forward, loss, backward, AdamW; f32, or --fp16's f16 compute copy), by a dry run. */
export async function memoryPlan(
  gpu: Gpu,
  name: string,
  B: number,
  T: number,
  recompute: boolean,
  fp16 = false,
  flash?: 'auto' | 'always' | 'never',
) {
  const cfg = bloomConfigFor(name);
  const before = gpu.bytesAllocated;
  const savedFlash = attentionConfig.flash;
  if (flash) attentionConfig.flash = flash;
  gpu.dryRun = true;
  try {
    const w = BloomWeights.fromArrays(gpu, cfg, zeroArrays(name), 'f32');
    const compute = fp16 ? new F16ComputeWeights(gpu, w) : null;
    const weights = gpu.bytesAllocated - before;
    const fwd = new BloomForward(gpu, compute ? compute.w : w);
    fwd.recompute = recompute;
    const grads = new BloomGrads(gpu, w);
    const opt = new AdamW(gpu, w, { lr: 1e-5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
    const state = gpu.bytesAllocated - before;
    gpu.peakBytes = gpu.bytesAllocated;
    gpu.peakResident = gpu.bytesAllocated + gpu.pooledBytes;
    const ids = new Int32Array(B * T).map((_, i) => 5 + (i % (cfg.vocabSize - 5)));
    // two steps: the second shows the buffer pool's steady state (buffers created per step, bytes really held)
    let created = 0;
    for (let i = 0; i < 2; i++) {
      created = gpu.buffersCreated;
      grads.zero();
      await lossAndBackward(fwd, { ids, mask: new Int32Array(B * T).fill(1), B, T }, ids, grads);
      await opt.step(grads, 1e-5);
      await gpu.sync();
    }
    const peak = gpu.peakBytes - before;
    const resident = gpu.peakResident - before;
    const buffersPerStep = gpu.buffersCreated - created;
    grads.destroy();
    compute?.destroy();
    w.destroy();
    fwd.slopes.destroy();
    opt.destroy();
    return {
      model: name,
      B,
      T,
      recompute,
      fp16,
      weightsBytes: weights,
      stateBytes: state,
      peakBytes: peak,
      activationBytes: peak - state,
      residentBytes: resident,
      buffersPerStep,
      flash: attentionConfig.flash,
    };
  } finally {
    gpu.dryRun = false;
    attentionConfig.flash = savedFlash;
  }
}

/**
 * Eval throughput on real NusaX prompts (prompt 1, `rows` rows of each of eng/ind/jav, 3 labels) with the
 * nano-bloomz tokenizer on this model's shape (random weights), batch 16 as `instructalign eval`, with and without
 * prompt-prefix sharing, interleaved.
 */
async function evalBench(gpu: Gpu, name: string, runs: number, rows: number) {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const root = packageRoot();
  const rt = Runtime.onGpu(gpu);
  try {
    await rt.loadRandomModel(bloomConfigFor(name), {
      tokenizerJSON: readFileSync(join(root, 'models/nano-bloomz/tokenizer.json'), 'utf8'),
    });
    const labels = DEFAULT_LABELS.sentiment!;
    const data = loadNusax({ root: join(root, 'data/nusax'), langs: ['eng', 'ind', 'jav'], limit: rows });
    const template = promptTemplates('sentiment')[0].template;
    const texts = data.langs.flatMap((l) => l.rows.flatMap((r) => labelTexts(template, r.text, labels)));
    const tokens = rt.tokenize(texts).reduce((a, t) => a + t.length, 0);
    const score = (share: boolean) => async () => {
      for (let i = 0; i < texts.length; i += 15)
        await rt.score(texts.slice(i, i + 15), { groupSize: share ? labels.length : undefined, batchSize: 16 });
    };
    const t = await timeMany({ shared: score(true), full: score(false) }, runs);
    return {
      texts: texts.length,
      tokens,
      sharedSequencesPerS: texts.length / t.shared.median,
      fullSequencesPerS: texts.length / t.full.median,
      speedup: t.full.median / t.shared.median,
      shared: t.shared,
      full: t.full,
    };
  } finally {
    rt.unload();
  }
}

async function modelBench(
  gpu: Gpu,
  name: string,
  B: number,
  T: number,
  runs: number,
  withBaseline: boolean,
  say: (m: string) => void,
  ablate = false,
) {
  const cfg = bloomConfigFor(name);
  const w = BloomWeights.fromArrays(gpu, cfg, randomBloomArrays(cfg), 'f32');
  const fwd = new BloomForward(gpu, w);
  const ids = new Int32Array(B * T).map((_, i) => 5 + ((i * 7919) % (cfg.vocabSize - 5)));
  const batch = { ids, mask: new Int32Array(B * T).fill(1), B, T };
  const R = B * T;
  // forward + log-probs of every position: what scoring and eval do
  const forward = async () => {
    const acts = await fwd.run(batch, false);
    const tg = gpu.fromI32(ids, 'bench:targets'),
      st = gpu.tensor(R * 3, 'f32', 'bench:stats'),
      lp = gpu.tensor(R, 'f32', 'bench:lp');
    fwd.logprobs(acts.lnf, tg, R, st, lp);
    await gpu.readF32(lp);
    [tg, st, lp].forEach((t) => t.destroy());
    fwd.freeActs(acts);
    await gpu.sync();
    await tuneMatmuls(gpu); // the warm-up run queued the shapes (GPU family); later runs use the tuned kernels
  };
  const H = cfg.hiddenSize,
    L = cfg.nLayer;
  const flops = 2 * R * (L * 12 * H * H + H * cfg.vocabSize) + (L * 4 * B * cfg.nHead * T * T * cfg.headDim) / 2;
  const scalar = async () => {
    matmulConfig.naive = true;
    try {
      await forward();
    } finally {
      matmulConfig.naive = false;
    }
  };
  // the same forward with attention probabilities materialized (what inference did before the flash kernels)
  const flash = attentionConfig.flash;
  const probs = async () => {
    attentionConfig.flash = 'never';
    try {
      await forward();
    } finally {
      attentionConfig.flash = flash;
    }
  };
  const fns: Record<string, () => Promise<void>> = withBaseline ? { forward, probs, scalar } : { forward, probs };
  const ft: Record<string, Timing | undefined> = await timeMany(fns, runs);
  const f = ft.forward!,
    baseline = ft.scalar,
    fp = ft.probs!;
  say(`${name} B=${B} T=${T}`);
  say(
    `  forward     ${(R / f.median).toFixed(0)} tokens/s, ${(flops / f.median / 1e9).toFixed(2)} GFLOP/s ${spread(f)}` +
      (baseline
        ? `  scalar matmul ${(R / baseline.median).toFixed(0)} tokens/s → ×${(baseline.median / f.median).toFixed(2)}`
        : ''),
  );
  say(
    `  forward with attention probs materialized ${(R / fp.median).toFixed(0)} tokens/s ${spread(fp)} → without them ×${(fp.median / f.median).toFixed(2)}`,
  );
  const grads = new BloomGrads(gpu, w);
  const opt = new AdamW(gpu, w, { lr: 1e-5, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maxGradNorm: 1 });
  const train = async (recompute: boolean) => {
    fwd.recompute = recompute;
    gpu.peakBytes = gpu.bytesAllocated;
    const s = await timeIt(async () => {
      grads.zero();
      await lossAndBackward(fwd, batch, ids, grads);
      await opt.step(grads, 1e-5);
      await gpu.sync();
      await tuneMatmuls(gpu);
    }, runs);
    say(
      `  train step${recompute ? ' (recompute)' : '            '} ${(R / s.median).toFixed(0)} tokens/s ${spread(s)}, peak GPU memory ${gib(gpu.peakBytes)}`,
    );
    return { tokensPerS: R / s.median, time: s, peakBytes: gpu.peakBytes };
  };
  const plain = await train(false);
  const recompute = await train(true);
  fwd.recompute = false;
  const ablation = ablate
    ? await ablations(
        gpu,
        async () => {
          grads.zero();
          await lossAndBackward(fwd, batch, ids, grads);
          await opt.step(grads, 1e-5);
          await gpu.sync();
        },
        R,
        runs,
        say,
      )
    : undefined;
  say(`  eval        ${(B / f.median).toFixed(2)} sequences/s of ${T} tokens (forward + log-probs)`);
  // SwiftShader: few rows (each full-text run of 4 rows × 3 languages takes ~12 s there)
  const ev = await evalBench(gpu, name, runs, gpu.handle.adapter.swiftshader ? (B <= 2 ? 2 : 4) : 16);
  say(
    `  eval NusaX  ${ev.sharedSequencesPerS.toFixed(2)} texts/s with prompt sharing ${spread(ev.shared)}, ${ev.fullSequencesPerS.toFixed(2)} without ${spread(ev.full)} → ×${ev.speedup.toFixed(2)} (${ev.texts} label texts, ${ev.tokens} tokens)`,
  );
  grads.destroy();
  w.destroy();
  fwd.slopes.destroy();
  opt.destroy();
  await gpu.sync();
  return {
    model: name,
    B,
    T,
    forward: {
      tokensPerS: R / f.median,
      gflops: flops / f.median / 1e9,
      time: f,
      probsTokensPerS: R / fp.median,
      probsTime: fp,
      ...(baseline
        ? { scalarMatmulTokensPerS: R / baseline.median, speedup: baseline.median / f.median, baselineTime: baseline }
        : {}),
    },
    train: plain,
    trainRecompute: recompute,
    ...(ablation ? { ablation } : {}),
    evalSequencesPerS: B / f.median,
    evalNusax: ev,
    peakTrainBytes: plain.peakBytes,
  };
}

/**
 * The training step with each runtime choice undone, interleaved with the default step: what each is worth on this
 * adapter (ratio > 1: the default is faster). The pool's bound is lifted meanwhile so that the pool-off runs do not
 * evict the default runs' pooled buffers.
 */
async function ablations(gpu: Gpu, step: () => Promise<void>, R: number, runs: number, say: (m: string) => void) {
  const saved = {
    pooling: gpu.pooling,
    headroom: gpu.poolHeadroom,
    sg: subgroupConfig.use,
    flash: attentionConfig.flash,
    tune: matmulTuning.mode,
  };
  const variant = (set: () => void) => async () => {
    set();
    try {
      await step();
    } finally {
      gpu.pooling = saved.pooling;
      subgroupConfig.use = saved.sg;
      attentionConfig.flash = saved.flash;
      matmulTuning.mode = saved.tune;
    }
  };
  gpu.poolHeadroom = Infinity;
  try {
    const t: Record<string, Timing> = await timeMany<string>(
      {
        default: step,
        'buffer pool off': variant(() => {
          gpu.pooling = false;
        }),
        'subgroups off': variant(() => {
          subgroupConfig.use = 'never';
        }),
        'flash attention forced': variant(() => {
          attentionConfig.flash = 'always';
        }),
        // the heuristic tile choice instead of the tuned one (the same kernels where the tuner does not run)
        ...(tuningApplies(gpu)
          ? {
              'matmul tuning off': variant(() => {
                matmulTuning.mode = 'off';
              }),
            }
          : {}),
      },
      runs,
    );
    const base = t.default;
    const out: Record<string, { tokensPerS: number; time: Timing; defaultSpeedup: number }> = {};
    for (const [k, v] of Object.entries(t)) {
      out[k] = { tokensPerS: R / v.median, time: v, defaultSpeedup: v.median / base.median };
      say(
        `  train step, ${k.padEnd(22)} ${(R / v.median).toFixed(0)} tokens/s ${spread(v)}` +
          (k === 'default' ? '' : ` → default ×${(v.median / base.median).toFixed(2)}`),
      );
    }
    return out;
  } finally {
    gpu.poolHeadroom = saved.headroom;
  }
}

/** Ratios to bench/pytorch/bench.py's figures (same GPU): >1 means instructalign is faster. */
export function againstPytorch(report: any, torch: any) {
  const out: { figure: string; ours: number; pytorch: number; ratio: number; unit: string }[] = [];
  const add = (
    figure: string,
    ours: number | undefined,
    theirs: number | undefined,
    unit: string,
    lowerIsBetter = false,
  ) => {
    if (!ours || !theirs) return;
    out.push({ figure, ours, pytorch: theirs, ratio: lowerIsBetter ? theirs / ours : ours / theirs, unit });
  };
  for (const amp of [false, true]) {
    const tag = amp ? 'PyTorch fp16 AMP' : 'PyTorch f32 (no TF32)';
    for (const m of report.matmul ?? []) {
      if (!m.auto || m.layout !== 'X·Wᵀ') continue;
      const t = (torch.matmul ?? []).find((x: any) => x.shape === m.shape && !!x.amp === amp);
      add(`matmul ${m.shape} vs ${tag}`, m.gflops, t?.gflops, 'GFLOP/s');
    }
    for (const m of report.models ?? []) {
      const find = (rc: boolean) =>
        (torch.models ?? []).find(
          (x: any) => x.model === m.model && x.B === m.B && x.T === m.T && !!x.amp === amp && !!x.recompute === rc,
        );
      const t = find(false),
        trc = find(true);
      if (t) {
        add(`${m.model} forward vs ${tag}`, m.forward.tokensPerS, t.forward_tokens_per_s, 'tokens/s');
        add(`${m.model} training step vs ${tag}`, m.train.tokensPerS, t.train_tokens_per_s, 'tokens/s');
        add(
          `${m.model} training peak memory vs ${tag} (theirs / ours)`,
          m.train.peakBytes,
          t.peak_train_bytes,
          'bytes',
          true,
        );
      }
      if (trc && m.trainRecompute) {
        add(
          `${m.model} training step, recompute vs ${tag} + checkpointing`,
          m.trainRecompute.tokensPerS,
          trc.train_tokens_per_s,
          'tokens/s',
        );
        add(
          `${m.model} peak memory, recompute vs ${tag} + checkpointing (theirs / ours)`,
          m.trainRecompute.peakBytes,
          trc.peak_train_bytes,
          'bytes',
          true,
        );
      }
    }
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  const json = bool(a, 'json'),
    quick = bool(a, 'quick'),
    full = bool(a, 'full'),
    memoryOnly = bool(a, 'memory'),
    ablate = bool(a, 'ablate');
  const runs = num(a, 'runs') as number;
  const outFile = str(a, 'out'),
    againstFile = str(a, 'against');
  let torch: unknown;
  if (againstFile) {
    const { readFileSync } = await import('node:fs');
    try {
      torch = JSON.parse(readFileSync(againstFile, 'utf8'));
    } catch (e) {
      throw new UsageError(
        `--against ${againstFile}: cannot read the PyTorch results (${(e as Error).message}); produce them with \`python3 bench/pytorch/bench.py --json > ${againstFile}\` on the same GPU`,
      );
    }
  }
  const family = str(a, 'family');
  if (family !== undefined) {
    if (family !== 'gpu' && family !== 'swiftshader')
      throw new UsageError(`--family: gpu or swiftshader, got "${family}"`);
    forceKernelFamily(family);
  }
  const say = (m: string) => {
    if (json) console.error(m);
    else console.log(m);
  };
  const h = await openDevice({ log: say });
  const gpu = new Gpu(h);
  const slow = h.adapter.swiftshader;
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
  const save = async () => {
    if (!outFile) return;
    const { atomicWriteFile } = await import('../util/atomic.ts');
    await atomicWriteFile(outFile, JSON.stringify(report, null, 1) + '\n');
  };

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
  // long context: the saved attention probabilities grow with T² (per layer B·heads·T²·4 bytes); flash attention
  // (Tk ≥ 1024 picks it) keeps each row's log-sum-exp instead
  const long = [];
  for (const recompute of [false, true]) {
    for (const flash of ['never', 'auto'] as const) {
      const p = await memoryPlan(gpu, 'bloomz-560m', 1, 2048, recompute, false, flash);
      long.push(p);
      say(
        `memory plan bloomz-560m B=1 T=2048${recompute ? ' --recompute' : ''}, attention ${flash === 'never' ? 'probs saved    ' : 'flash (default)'}: peak ${gib(p.peakBytes)}, activations and scratch ${gib(p.activationBytes)}`,
      );
    }
  }
  report.memoryPlanLongContext = long;
  await save();
  if (memoryOnly) {
    finish();
    return 0;
  }

  const sizes = list(a, 'matmul')?.map(Number) ?? (quick ? [512] : !slow || full ? [1024, 4096] : [1024]);
  const mm = [];
  for (const n of sizes) {
    if (!(n > 0 && n % 4 === 0)) throw new UsageError(`--matmul: sizes must be positive multiples of 4, got ${n}`);
    mm.push(...(await matmulBench(gpu, n, runs, say)));
    report.matmul = mm;
    await save();
  }
  const shapes: Record<string, [number, number]> = {
    'nano-bloomz': [quick ? 2 : 8, 64],
    'bloomz-560m': [4, 256],
    'bloomz-1b1': [4, 256],
  };
  const names = list(a, 'models') ?? (quick || (slow && !full) ? ['nano-bloomz'] : Object.keys(shapes));
  const mres = [];
  for (const name of names) {
    if (!shapes[name])
      throw new UsageError(`--models: unknown model "${name}" (known: ${Object.keys(shapes).join(', ')})`);
    const [B, T] = shapes[name];
    mres.push(await modelBench(gpu, name, B, T, runs, name === 'nano-bloomz', say, ablate));
    report.models = mres;
    await save();
  }
  finish();
  return 0;

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
    if (torch) {
      const r = againstPytorch(report, torch);
      report.againstPytorch = r;
      say(`\nratio to PyTorch on the same GPU (>1: instructalign faster or smaller)`);
      for (const x of r) say(`  ${x.figure.padEnd(64)} ×${x.ratio.toFixed(2)}`);
    }
    if (json) console.log(JSON.stringify(report));
    gpu.destroy();
  }
}

async function hostInfo() {
  if (typeof process === 'undefined' || !process.versions?.node) return undefined;
  const os = await import('node:os');
  return { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg() };
}
