// A float64 reference of the Llama / Qwen3 decoder, written from the published formulas (HF transformers'
// modeling_llama.py / modeling_qwen3.py, and the papers: RMSNorm, Zhang & Sennrich 2019; RoPE, Su et al. 2021;
// SwiGLU, Shazeer 2020; grouped-query attention, Ainslie et al. 2023), independent of src/. Forward only: gradients
// are taken by central finite differences of these functions (fdGrad), so nothing here repeats the GPU backward.

/** y = x / sqrt(mean(x²) + eps) · γ per row of C; also each row's 1/sqrt(mean(x²) + eps). */
export function rmsnorm(x: ArrayLike<number>, gamma: ArrayLike<number>, R: number, C: number, eps: number) {
  const y = new Float64Array(R * C),
    rstd = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[r * C + c] ** 2;
    rstd[r] = 1 / Math.sqrt(s / C + eps);
    for (let c = 0; c < C; c++) y[r * C + c] = x[r * C + c] * rstd[r] * gamma[c];
  }
  return { y, rstd };
}

export const silu = (x: number) => x / (1 + Math.exp(-x));

/** silu(g)·u elementwise. */
export function swiglu(g: ArrayLike<number>, u: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: g.length }, (_, i) => silu(g[i]) * u[i]);
}

/**
 * HF's apply_rotary_pos_emb on one head vector: x·cos + rotate_half(x)·sin, cos/sin = cat(freqs, freqs),
 * rotate_half(x) = cat(−x[D/2:], x[:D/2]), freqs[d] = pos·inv_freq[d].
 */
export function rotate(x: ArrayLike<number>, pos: number, invFreq: ArrayLike<number>): Float64Array {
  const D = x.length,
    half = D / 2;
  const cos = (d: number) => Math.cos(pos * invFreq[d % half]),
    sin = (d: number) => Math.sin(pos * invFreq[d % half]);
  const rot = (d: number) => (d < half ? -x[d + half] : x[d - half]);
  return Float64Array.from({ length: D }, (_, d) => x[d] * cos(d) + rot(d) * sin(d));
}

/** inv_freq[d] = 1 / theta^(2d/D) (HF's default rope). */
export function defaultInvFreq(theta: number, D: number): Float64Array {
  return Float64Array.from({ length: D / 2 }, (_, d) => 1 / theta ** ((2 * d) / D));
}

/**
 * Causal grouped-query attention, one batch element: q [T, NH, D], k and v [T, NKV, D] (already rotated),
 * key j visible to query i when j ≤ i and mask[j]; query head h reads key/value head floor(h / (NH/NKV)).
 * A query with no visible key gets zeros. Returns ctx [T, NH, D].
 */
export function gqa(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  mask: ArrayLike<number>,
  T: number,
  NH: number,
  NKV: number,
  D: number,
): Float64Array {
  const ctx = new Float64Array(T * NH * D),
    rep = NH / NKV;
  for (let h = 0; h < NH; h++) {
    const j0 = Math.floor(h / rep);
    for (let i = 0; i < T; i++) {
      const s: number[] = [];
      for (let j = 0; j <= i; j++) {
        if (!mask[j]) continue;
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[(i * NH + h) * D + d] * k[(j * NKV + j0) * D + d];
        s.push(dot / Math.sqrt(D), j);
      }
      if (!s.length) continue;
      let mx = -Infinity;
      for (let n = 0; n < s.length; n += 2) mx = Math.max(mx, s[n]);
      let z = 0;
      for (let n = 0; n < s.length; n += 2) z += Math.exp(s[n] - mx);
      for (let n = 0; n < s.length; n += 2) {
        const p = Math.exp(s[n] - mx) / z,
          j = s[n + 1];
        for (let d = 0; d < D; d++) ctx[(i * NH + h) * D + d] += p * v[(j * NKV + j0) * D + d];
      }
    }
  }
  return ctx;
}

/** Y[M,N] = X[M,K]·Wᵀ with W [N,K] (torch Linear, no bias). */
export function linear(X: ArrayLike<number>, W: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const Y = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += X[m * K + k] * W[n * K + k];
      Y[m * N + n] = s;
    }
  return Y;
}

export interface RefConfig {
  vocab: number;
  hidden: number;
  inter: number;
  layers: number;
  NH: number;
  NKV: number;
  D: number;
  eps: number;
  invFreq: ArrayLike<number>;
  tied: boolean;
  qkNorm: boolean;
}

/**
 * log p(labels[t + 1]) at every position t of a padded batch [B, T] (0 where labels[t + 1] is −100 or t is last), as
 * HF LlamaForCausalLM / Qwen3ForCausalLM compute it with position_ids = cumsum(mask) − 1 (0 at padding) and padding
 * keys masked. `p` maps HF parameter names to float64 arrays.
 */
export function decoderLogprobs(
  cfg: RefConfig,
  p: Map<string, ArrayLike<number>>,
  ids: ArrayLike<number>,
  mask: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  T: number,
): Float64Array {
  const { hidden: H, inter: I, NH, NKV, D, eps } = cfg;
  const w = (n: string) => p.get(n) ?? fail(n);
  const out = new Float64Array(B * T);
  for (let b = 0; b < B; b++) {
    const m = Array.from({ length: T }, (_, t) => mask[b * T + t]);
    const pos: number[] = [];
    let seen = 0;
    for (const v of m) {
      seen += v ? 1 : 0;
      pos.push(Math.max(0, seen - 1));
    }
    const emb = w('model.embed_tokens.weight');
    let x = new Float64Array(T * H);
    for (let t = 0; t < T; t++) for (let c = 0; c < H; c++) x[t * H + c] = emb[ids[b * T + t] * H + c];
    for (let l = 0; l < cfg.layers; l++) {
      const pre = `model.layers.${l}.`;
      const h1 = rmsnorm(x, w(`${pre}input_layernorm.weight`), T, H, eps).y;
      let q = linear(h1, w(`${pre}self_attn.q_proj.weight`), T, NH * D, H);
      let k = linear(h1, w(`${pre}self_attn.k_proj.weight`), T, NKV * D, H);
      const v = linear(h1, w(`${pre}self_attn.v_proj.weight`), T, NKV * D, H);
      if (cfg.qkNorm) {
        q = rmsnorm(q, w(`${pre}self_attn.q_norm.weight`), T * NH, D, eps).y;
        k = rmsnorm(k, w(`${pre}self_attn.k_norm.weight`), T * NKV, D, eps).y;
      }
      const rotAll = (a: Float64Array, heads: number) => {
        const r = new Float64Array(a.length);
        for (let t = 0; t < T; t++)
          for (let h = 0; h < heads; h++) {
            const i = (t * heads + h) * D;
            r.set(rotate(a.subarray(i, i + D), pos[t], cfg.invFreq), i);
          }
        return r;
      };
      const ctx = gqa(rotAll(q, NH), rotAll(k, NKV), v, m, T, NH, NKV, D);
      const o = linear(ctx, w(`${pre}self_attn.o_proj.weight`), T, H, NH * D);
      const x1 = x.map((v, i) => v + o[i]);
      const h2 = rmsnorm(x1, w(`${pre}post_attention_layernorm.weight`), T, H, eps).y;
      const g = linear(h2, w(`${pre}mlp.gate_proj.weight`), T, I, H),
        u = linear(h2, w(`${pre}mlp.up_proj.weight`), T, I, H);
      const down = linear(swiglu(g, u), w(`${pre}mlp.down_proj.weight`), T, H, I);
      x = x1.map((v, i) => v + down[i]);
    }
    const hf = rmsnorm(x, w('model.norm.weight'), T, H, eps).y;
    const logits = linear(hf, cfg.tied ? w('model.embed_tokens.weight') : w('lm_head.weight'), T, cfg.vocab, H);
    for (let t = 0; t + 1 < T; t++) {
      const target = labels[b * T + t + 1];
      if (target < 0) continue;
      const row = logits.subarray(t * cfg.vocab, (t + 1) * cfg.vocab);
      let mx = -Infinity;
      for (const v of row) mx = Math.max(mx, v);
      let z = 0;
      for (const v of row) z += Math.exp(v - mx);
      out[b * T + t] = row[target] - mx - Math.log(z);
    }
  }
  return out;
}

/** Mean next-token cross-entropy over the labels that are not −100 (HF's loss with labels). */
export function decoderLoss(
  cfg: RefConfig,
  p: Map<string, ArrayLike<number>>,
  ids: ArrayLike<number>,
  mask: ArrayLike<number>,
  labels: ArrayLike<number>,
  B: number,
  T: number,
): number {
  const lp = decoderLogprobs(cfg, p, ids, mask, labels, B, T);
  let sum = 0,
    n = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t + 1 < T; t++)
      if (labels[b * T + t + 1] >= 0) {
        sum -= lp[b * T + t];
        n++;
      }
  return sum / n;
}

function fail(name: string): never {
  throw new Error(`reference: no parameter ${name}`);
}

/** ∂f/∂x[i] for each i in `at` by central differences (float64; h relative to |x[i]|). */
export function fdGrad(f: () => number, x: Float64Array, at: Iterable<number>, h = 1e-5): Map<number, number> {
  const out = new Map<number, number>();
  for (const i of at) {
    const x0 = x[i],
      step = h * Math.max(1, Math.abs(x0));
    x[i] = x0 + step;
    const fp = f();
    x[i] = x0 - step;
    const fm = f();
    x[i] = x0;
    out.set(i, (fp - fm) / (2 * step));
  }
  return out;
}

/**
 * Llama 3.1's rope_scaling "llama3" from its published reference code: wavelengths 2π/f shorter than
 * original/high_freq_factor are kept, longer than original/low_freq_factor divided by factor, and the band between
 * interpolated with smooth = (original/wavelength − low) / (high − low).
 */
export function llama3InvFreq(
  base: ArrayLike<number>,
  factor: number,
  low: number,
  high: number,
  original: number,
): Float64Array {
  return Float64Array.from(base, (f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < original / high) return f;
    if (wavelen > original / low) return f / factor;
    const smooth = (original / wavelen - low) / (high - low);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}
