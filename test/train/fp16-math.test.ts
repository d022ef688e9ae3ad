// --fp16 training with f16 arithmetic (shader-f16: Mesa lavapipe here; SwiftShader has none and skips): the
// matmuls of the forward (X·Wᵀ) and of the backward (dX = dY·W, dW = dYᵀ·X) round their f32 operands to f16 and sum
// in f32 (shaders/matmul_f16.wgsl), the LayerNorm and GELU backward run their F16 variants (f32 row sums, f16 dx and
// gelu′: layernorm.wgsl, elementwise.wgsl), attention's forward (probs kept) and backward take f16 products with f32
// sums and softmax (attention.wgsl F16, the rowwise kernels: test/ops/attention_f16.test.ts); AdamW keeps updating the f32 master weights. Compared with the same --fp16 run in
// f32 arithmetic (INSTRUCTALIGN_F16=off: f16 weights unpacked, the path SwiftShader takes):
// - losses: each step's loss within 0.1 % of the f32-math run's (measured on lavapipe 25.0.7: ≤ 4e-5 relative,
//   printed). Why that much room: every f16 rounding of an activation or gradient moves a product by ≤ 2⁻¹¹
//   relative (matmul_f16.test.ts), the f16 weights are the same in both runs, and the rounding errors of many products
//   average out in a mean loss, but the f32 master weights the two runs reach drift apart step by step.
// - overflow: a loss scale of 2³⁰ puts the scaled logit gradients (≈ 2³⁰/tokens) past f16's 65504, so the f16
//   matmuls of the backward make the gradients +inf and dynamic loss scaling skips each step and halves the scale,
//   as torch's GradScaler does; in f32 arithmetic the same scale is no overflow and every step runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO, gpuWithF16 } from '../helpers/gpu.ts';
import { Runtime } from '../../src/host/runtime.ts';
import type { Gpu } from '../../src/gpu/runtime.ts';
import type { F16Mode } from '../../src/gpu/policy.ts';
import { train, TRAIN_DEFAULTS, type StepLog, type TrainOptions } from '../../src/train/trainer.ts';
import { buildModel, randomParameters } from '../../src/model/families.ts';
import { parseLlamaConfig } from '../../src/model/llama/config.ts';
import { TINY_QWEN3_CONFIG } from '../helpers/tiny-qwen3.ts';

describe('--fp16 training in f16 arithmetic (shader-f16), bloom-tiny fixture', () => {
  let gpu: Gpu;
  const dirs: string[] = [];
  before(async function () {
    gpu = await gpuWithF16(this);
  });
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A short --fp16 run under policy f16 `mode`; returns its step logs and the matmul_f16 variants it dispatched. */
  async function run(mode: F16Mode, steps: number, extra: Partial<TrainOptions> = {}) {
    const out = mkdtempSync(join(tmpdir(), 'ia-fp16math-'));
    dirs.push(out);
    const o: TrainOptions = {
      ...TRAIN_DEFAULTS,
      model: join(FIXTURES, 'bloom-tiny'),
      out,
      pairs: join(REPO, 'data/nusax/mt/train.csv'),
      l1: ['eng'],
      l2: ['jav'],
      objectives: 'tlm,xss',
      steps,
      lr: 2e-3,
      batchSize: 4,
      gradAccum: 1,
      maxLength: 24,
      saveSteps: 1000,
      seed: 7,
      fp16: true,
      ...extra,
    };
    const g = gpu.withPolicy({ f16: mode });
    // every pipeline lookup is a dispatch: count the f16 matmul's by layout (forward, dY·W, dYᵀ·X) and the other
    // kernels' f16 variants (F16) by entry point
    const seen = new Map<string, number>();
    const get = g.pipelines.get;
    g.pipelines.get = function (shader, entry, defines = {}) {
      const k =
        shader === 'matmul_f16'
          ? defines.B_F32
            ? 'dYᵀ·X'
            : defines.B_N4
              ? 'dY·W'
              : 'X·Wᵀ'
          : defines.F16
            ? entry
            : null;
      if (k) seen.set(k, (seen.get(k) ?? 0) + 1);
      return get.call(this, shader, entry, defines);
    };
    try {
      const logs = await train(Runtime.onGpu(g), o, false, { log: () => {} });
      return { logs, seen };
    } finally {
      g.pipelines.get = get;
    }
  }

  let f16: { logs: StepLog[]; seen: Map<string, number> };
  it('runs every matmul of forward and backward in f16 arithmetic; losses within 0.1 % of f32 arithmetic', async () => {
    const f32 = await run('off', 4);
    f16 = await run('f32acc', 4);
    assert.equal(f32.seen.size, 0, 'INSTRUCTALIGN_F16=off: no f16 arithmetic (the f32 path)');
    const attn = ['attention_probs4', 'attention_backward_scores', 'attention_backward_kv'];
    for (const k of ['X·Wᵀ', 'dY·W', 'dYᵀ·X', 'layernorm_backward', 'gelu_backward', ...attn])
      assert.ok((f16.seen.get(k) ?? 0) > 0, `${k} in f16 arithmetic`);
    const fmt = (ls: StepLog[]) => ls.map((l) => l.loss.toFixed(5)).join(' ');
    console.log(`      f32 math: ${fmt(f32.logs)}\n      f16 math: ${fmt(f16.logs)}`);
    console.log(`      f16 dispatches: ${[...f16.seen].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    assert.ok(
      f16.logs.every((l) => !l.skipped && Number.isFinite(l.grad_norm)),
      'no overflow at the default scale',
    );
    for (let i = 0; i < 4; i++) {
      const rel = Math.abs(f16.logs[i].loss - f32.logs[i].loss) / f32.logs[i].loss;
      assert.ok(rel <= 1e-3, `step ${i + 1}: f16 math ${f16.logs[i].loss} vs f32 math ${f32.logs[i].loss}`);
    }
    assert.notEqual(f16.logs[0].loss, f32.logs[0].loss, 'the forward really ran in f16 arithmetic');
  });

  it('a loss scale too large for f16 skips the steps and halves the scale; f32 arithmetic takes them', async () => {
    const big = { lossScaler: { init: 2 ** 30 } };
    const h = await run('f32acc', 3, big),
      f = await run('off', 3, big);
    assert.deepEqual(
      h.logs.map((l) => [l.skipped, l.loss_scale]),
      [
        [true, 2 ** 30],
        [true, 2 ** 29],
        [true, 2 ** 28],
      ],
    );
    assert.ok(h.logs.every((l) => !Number.isFinite(l.grad_norm)));
    assert.deepEqual(
      f.logs.map((l) => [l.skipped, l.loss_scale]),
      [
        [false, 2 ** 30],
        [false, 2 ** 30],
        [false, 2 ** 30],
      ],
    );
  });
});

// The Llama family (a tiny Qwen3 shape: GQA, q/k RMSNorms, SwiGLU, tied head; a 256-token vocabulary so that it is
// cheap) through one loss + backward of --fp16 in f16 and in f32 arithmetic: the loss within 1e-3 relative, every
// gradient within 2e-2 of the f32-math one in relative L2 norm. A tolerance, not a proven bound: each product of the
// backward rounds its operands to f16 (≤ 2⁻¹¹ relative each) and the errors compound through 2 blocks and the norms'
// f16 dx; measured on lavapipe 25.0.7: loss 3.3e-5 relative, worst gradient 4.3e-3 (a q_norm weight), printed.
// Attention runs in f16 products too (attention.wgsl F16): with the probs kept (the default at this size) and with
// the flash kernels (policy attention.flash 'always': lse saved, scores recomputed in the backward), same tolerances.
describe('--fp16 backward in f16 arithmetic (shader-f16), a tiny Qwen3 (Llama family)', () => {
  it('runs its matmuls, RMSNorm and attention backward in f16; loss and gradients near f32 arithmetic', async function () {
    const gpu = await gpuWithF16(this, 'it');
    const cfg = parseLlamaConfig({ ...TINY_QWEN3_CONFIG, vocab_size: 256, bos_token_id: 1, eos_token_id: 2 });
    const lm = await buildModel(gpu, cfg, randomParameters(cfg, 3, 0.1), { dtype: 'f32' });
    const [B, T] = [2, 12];
    const ids = Int32Array.from({ length: B * T }, (_, i) => 3 + ((i * 37) % 250));
    const batch = { ids, mask: new Int32Array(B * T).fill(1), B, T };
    const run = async (mode: F16Mode, flash: 'auto' | 'always' = 'auto') => {
      const view = lm.withPolicy({ f16: mode, attention: { flash } });
      const seen = new Set<string>();
      const get = gpu.pipelines.get;
      gpu.pipelines.get = function (shader, entry, defines = {}) {
        if (shader === 'matmul_f16') seen.add(defines.B_F32 ? 'dYᵀ·X' : defines.B_N4 ? 'dY·W' : 'X·Wᵀ');
        else if (defines.F16) seen.add(entry);
        return get.call(this, shader, entry, defines);
      };
      try {
        const t = view.training({ fp16: true });
        const { loss } = await t.lossAndBackward(batch, ids, { lossScale: 1024 });
        const grads = await t.grads.read();
        t.destroy();
        return { loss, grads, seen };
      } finally {
        gpu.pipelines.get = get;
        view.destroy();
      }
    };
    try {
      const f32 = await run('off');
      assert.equal(f32.seen.size, 0);
      for (const flash of ['auto', 'always'] as const) {
        const f16 = await run('f32acc', flash);
        const attn =
          flash === 'auto'
            ? ['attention_probs4', 'attention_backward_scores', 'attention_backward_kv']
            : ['attention_probs4', 'attention_flash_backward_q', 'attention_flash_backward_kv'];
        for (const k of ['X·Wᵀ', 'dY·W', 'dYᵀ·X', 'rmsnorm_backward', ...attn])
          assert.ok(f16.seen.has(k), `${k} in f16`);
        assert.ok(Math.abs(f16.loss - f32.loss) <= 1e-3 * f32.loss, `loss ${f16.loss} vs ${f32.loss}`);
        let worst = 0,
          at = '';
        for (const [name, want] of f32.grads) {
          const got = f16.grads.get(name)!;
          let d = 0,
            n = 0;
          for (let i = 0; i < want.length; i++) {
            d += (got[i] - want[i]) ** 2;
            n += want[i] ** 2;
          }
          const rel = Math.sqrt(d / Math.max(n, 1e-30));
          if (!(rel <= worst)) [worst, at] = [rel, name];
        }
        console.log(
          `      attention.flash ${flash}: loss ${f32.loss.toFixed(6)} (f32 math) ${f16.loss.toFixed(6)} (f16 math); worst gradient ${at}: ${worst.toExponential(2)}`,
        );
        assert.ok(worst <= 2e-2, `${at}: relative L2 difference ${worst}`);
      }
    } finally {
      lm.destroy();
    }
  });
});
