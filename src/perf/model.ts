// Model benchmarks on random weights: forward tokens/s (with the scalar matmul and with attention probabilities
// materialized, through views of the device with those policies), training step tokens/s with and without
// recomputation, the ablations of the runtime's choices, and eval throughput on real NusaX prompts.
import type { Gpu } from '../gpu/runtime.ts';
import { isCpuAdapter, type PolicyOverrides } from '../gpu/policy.ts';
import { tuningApplies } from '../ops/matmul.ts';
import { tuneMatmuls } from '../ops/matmul-tune.ts';
import type { CausalLM, Trainable } from '../model/causal-lm.ts';
import { buildModel, randomParameters, namedConfig } from '../model/families.ts';
import { type Scope, withScope } from '../gpu/scope.ts';
import { AdamW } from '../train/optimizer.ts';
import { trainStep } from '../train/step.ts';
import { Runtime } from '../host/runtime.ts';
import { packageRoot } from '../train/data/paths.ts';
import { loadNusax } from '../eval/datasets.ts';
import { DEFAULT_LABELS, labelTexts, promptTemplates } from '../eval/tasks.ts';
import { gib, spread, timeIt, timeMany, type Timing } from './timing.ts';

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
    await rt.loadRandomModel(namedConfig(name), {
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

export async function modelBench(
  gpu: Gpu,
  name: string,
  B: number,
  T: number,
  runs: number,
  withBaseline: boolean,
  say: (m: string) => void,
  ablate = false,
) {
  return withScope(gpu, (mem) => benchModel(mem, name, B, T, runs, withBaseline, say, ablate));
}

async function benchModel(
  mem: Scope,
  name: string,
  B: number,
  T: number,
  runs: number,
  withBaseline: boolean,
  say: (m: string) => void,
  ablate: boolean,
) {
  const gpu = mem.gpu;
  const cfg = namedConfig(name);
  const lm = mem.own(await buildModel(gpu, cfg, randomParameters(cfg), { dtype: 'f32' }));
  // the same model on views of the device with other kernel choices: the scalar matmul (the baseline), and attention
  // probabilities materialized (what inference did before the flash kernels)
  const lmScalar = mem.own(lm.withPolicy({ matmul: { naive: true } }));
  const lmProbs = mem.own(lm.withPolicy({ attention: { flash: 'never' } }));
  const ids = new Int32Array(B * T).map((_, i) => 5 + ((i * 7919) % (cfg.vocabSize - 5)));
  const batch = { ids, mask: new Int32Array(B * T).fill(1), B, T };
  const R = B * T;
  // forward + log-probs of every position: what scoring and eval do
  const forwardOn = (m: CausalLM) => async () => {
    await m.forward(batch, { targets: ids });
    await gpu.sync();
    await tuneMatmuls(gpu); // the warm-up run queued the shapes (GPU family); later runs use the tuned kernels
  };
  const forward = forwardOn(lm);
  const H = cfg.hiddenSize,
    L = cfg.nLayer;
  const flops = 2 * R * (L * 12 * H * H + H * cfg.vocabSize) + (L * 4 * B * cfg.nHead * T * T * cfg.headDim) / 2;
  const scalar = forwardOn(lmScalar);
  const probs = forwardOn(lmProbs);
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
  // each run's training set-up (gradients, AdamW state) is made before its peak is measured and freed after
  const train = (recompute: boolean) =>
    withScope(gpu, async (steps) => {
      const model = steps.own(lm.training({ recompute }));
      const opt = new AdamW(steps, model.params, ADAMW);
      gpu.peakBytes = gpu.bytesAllocated;
      const s = await timeIt(async () => {
        await trainStep({ model, opt }, [{ batch, labels: ids }], 1e-5);
        await gpu.sync();
        await tuneMatmuls(gpu);
      }, runs);
      say(
        `  train step${recompute ? ' (recompute)' : '            '} ${(R / s.median).toFixed(0)} tokens/s ${spread(s)}, peak GPU memory ${gib(gpu.peakBytes)}`,
      );
      return { tokensPerS: R / s.median, time: s, peakBytes: gpu.peakBytes };
    });
  const plain = await train(false);
  const recompute = await train(true);
  const ablation = ablate ? await withScope(gpu, (s) => ablations(s, { lm, batch, ids }, R, runs, say)) : undefined;
  const fp16 = gpu.handle.features.has('shader-f16')
    ? await withScope(gpu, (s) => fp16Steps(s, { lm, batch, ids }, R, runs, say))
    : undefined;
  say(`  eval        ${(B / f.median).toFixed(2)} sequences/s of ${T} tokens (forward + log-probs)`);
  // SwiftShader: few rows (each full-text run of 4 rows × 3 languages takes ~12 s there)
  const ev = await evalBench(gpu, name, runs, isCpuAdapter(gpu.handle.adapter) ? (B <= 2 ? 2 : 4) : 16);
  say(
    `  eval NusaX  ${ev.sharedSequencesPerS.toFixed(2)} texts/s with prompt sharing ${spread(ev.shared)}, ${ev.fullSequencesPerS.toFixed(2)} without ${spread(ev.full)} → ×${ev.speedup.toFixed(2)} (${ev.texts} label texts, ${ev.tokens} tokens)`,
  );
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
    ...(fp16 ? { trainF16: fp16 } : {}),
    evalSequencesPerS: B / f.median,
    evalNusax: ev,
    peakTrainBytes: plain.peakBytes,
  };
}

/**
 * The training step in f32 against --fp16 in f32 arithmetic (policy f16 'off': f16 weights unpacked, what SwiftShader
 * runs) and --fp16 in f16 arithmetic (the default on shader-f16 adapters), interleaved in one run; ratios against
 * the f32 step (> 1: faster than f32). The three train the same master weights with their own gradients (laid out
 * alike, so one AdamW serves them); no loss scale (a timing, not a training run).
 */
async function fp16Steps(mem: Scope, d: StepParts, R: number, runs: number, say: (m: string) => void) {
  const gpu = mem.gpu;
  const f32 = mem.own(d.lm.training());
  const opt = new AdamW(mem, f32.params, ADAMW);
  const stepOf = (model: Trainable) => async () => {
    await trainStep({ model, opt }, [{ batch: d.batch, labels: d.ids }], 1e-5);
    await gpu.sync();
  };
  const off = mem.own(mem.own(d.lm.withPolicy({ f16: 'off' })).training({ fp16: true }));
  const f16 = mem.own(d.lm.training({ fp16: true }));
  const t: Record<string, Timing> = await timeMany<string>(
    { f32: stepOf(f32), '--fp16, f32 math': stepOf(off), '--fp16, f16 math': stepOf(f16) },
    runs,
  );
  const out: Record<string, { tokensPerS: number; time: Timing; vsF32: number }> = {};
  for (const [k, v] of Object.entries(t)) {
    out[k] = { tokensPerS: R / v.median, time: v, vsF32: t.f32.median / v.median };
    say(
      `  train step, ${k.padEnd(22)} ${(R / v.median).toFixed(0)} tokens/s ${spread(v)}  ×${(t.f32.median / v.median).toFixed(2)} vs f32`,
    );
  }
  return out;
}

const ADAMW = { lr: 1e-5, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };

interface StepParts {
  lm: CausalLM;
  batch: { ids: Int32Array; mask: Int32Array; B: number; T: number };
  ids: Int32Array;
}

/**
 * The training step with each runtime choice undone, interleaved with the default step: what each is worth on this
 * adapter (ratio > 1: the default is faster). A kernel choice is undone by running the step's model on a view of the
 * device with that policy (subgroups off also gets its own AdamW: its gradient norm reduces with subgroups; its state
 * costs twice the weights' memory). The pool's bound is lifted meanwhile so that the pool-off runs do not evict the
 * default runs' pooled buffers.
 */
async function ablations(mem: Scope, d: StepParts, R: number, runs: number, say: (m: string) => void) {
  const gpu = mem.gpu;
  const saved = { pooling: gpu.pooling, headroom: gpu.poolHeadroom };
  const stepWith = (model: Trainable, opt: AdamW) => async () => {
    await trainStep({ model, opt }, [{ batch: d.batch, labels: d.ids }], 1e-5);
    await gpu.sync();
  };
  // each view trains the same weights with its own gradients (laid out alike, so one AdamW serves them)
  const on = (o: PolicyOverrides) => mem.own(mem.own(d.lm.withPolicy(o)).training());
  const sg = on({ subgroups: false });
  const models = {
    sg,
    flash: on({ attention: { flash: 'always' } }),
    tune: on({ matmul: { tune: 'off' } }),
  };
  const optNoSg = new AdamW(mem, sg.params, ADAMW, gpu.withPolicy({ subgroups: false }));
  const model = mem.own(d.lm.training());
  const opt = new AdamW(mem, model.params, ADAMW);
  const step = stepWith(model, opt);
  gpu.poolHeadroom = Infinity;
  try {
    const t: Record<string, Timing> = await timeMany<string>(
      {
        default: step,
        'buffer pool off': async () => {
          gpu.pooling = false;
          try {
            await step();
          } finally {
            gpu.pooling = saved.pooling;
          }
        },
        'subgroups off': stepWith(models.sg, optNoSg),
        'flash attention forced': stepWith(models.flash, opt),
        // the heuristic tile choice instead of the tuned one (the same kernels where the tuner does not run)
        ...(tuningApplies(gpu) ? { 'matmul tuning off': stepWith(models.tune, opt) } : {}),
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
