// `instructalign bench --against`: ratios to bench/pytorch/bench.py's JSON (its field names, written by that script)
// are ours/theirs for throughputs and theirs/ours for memory, matched by shape, precision and recomputation.
import assert from 'node:assert/strict';
import { againstPytorch } from '../../src/perf/pytorch.ts';

describe('bench: ratios to PyTorch', () => {
  it('matches figures by shape, AMP and recompute, and orients every ratio so that >1 favours instructalign', () => {
    const ours = {
      matmul: [
        { shape: '4096x4096x4096', kernel: 'tiled128', layout: 'X·Wᵀ', auto: true, gflops: 30000 },
        { shape: '4096x4096x4096', kernel: 'scalar', layout: 'X·Wᵀ', auto: false, gflops: 3000 },
        { shape: '4096x4096x4096', kernel: 'tiled128', layout: 'dY·W', auto: true, gflops: 29000 },
      ],
      models: [
        {
          model: 'bloomz-560m',
          B: 4,
          T: 256,
          forward: { tokensPerS: 5000 },
          train: { tokensPerS: 1000, peakBytes: 10e9 },
          trainRecompute: { tokensPerS: 800, peakBytes: 8e9 },
        },
      ],
    };
    const torch = {
      matmul: [
        { shape: '4096x4096x4096', amp: false, gflops: 50000 },
        { shape: '4096x4096x4096', amp: true, gflops: 400000 },
      ],
      models: [
        {
          model: 'bloomz-560m',
          B: 4,
          T: 256,
          amp: false,
          recompute: false,
          forward_tokens_per_s: 10000,
          train_tokens_per_s: 2000,
          peak_train_bytes: 12e9,
        },
        {
          model: 'bloomz-560m',
          B: 4,
          T: 256,
          amp: false,
          recompute: true,
          forward_tokens_per_s: 10000,
          train_tokens_per_s: 1600,
          peak_train_bytes: 9.6e9,
        },
        {
          model: 'bloomz-560m',
          B: 8,
          T: 256,
          amp: false,
          recompute: false,
          forward_tokens_per_s: 1,
          train_tokens_per_s: 1,
          peak_train_bytes: 1,
        },
      ],
    };
    const r = againstPytorch(ours, torch);
    const by = Object.fromEntries(r.map((x) => [x.figure, x.ratio]));
    assert.equal(by['matmul 4096x4096x4096 vs PyTorch f32 (no TF32)'], 0.6);
    assert.equal(by['matmul 4096x4096x4096 vs PyTorch fp16 AMP'], 0.075);
    assert.equal(by['bloomz-560m forward vs PyTorch f32 (no TF32)'], 0.5);
    assert.equal(by['bloomz-560m training step vs PyTorch f32 (no TF32)'], 0.5);
    assert.equal(by['bloomz-560m training peak memory vs PyTorch f32 (no TF32) (theirs / ours)'], 1.2);
    assert.equal(by['bloomz-560m training step, recompute vs PyTorch f32 (no TF32) + checkpointing'], 0.5);
    assert.equal(
      by['bloomz-560m peak memory, recompute vs PyTorch f32 (no TF32) + checkpointing (theirs / ours)'],
      1.2,
    );
    assert.equal(r.length, 7, JSON.stringify(r.map((x) => x.figure)));
  });
});
