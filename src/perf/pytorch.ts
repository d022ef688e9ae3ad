// Ratios to bench/pytorch/bench.py's figures measured on the same GPU.

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
