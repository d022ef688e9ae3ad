// Causal self-attention with ALiBi over BLOOM's fused QKV (interleaved per head: feature n·3D + c·D + d,
// c = 0 q, 1 k, 2 v). Queries are rows [q0, q0+Tq) of a context of Tk keys, so the same kernels serve the
// full forward, training, and KV-cached generation (the per-layer qkv buffer is the cache).
// scores = alibi + q·k/sqrt(D); masked (future or padding) keys get probability 0; softmax in f32.
// Two ways: the probabilities [B, NH, Tq, Tk] are materialized (attention_probs, and its backward reads them), or
// flash-style (online softmax; define NOPROBS in ROWWISE, the attention_flash* entries otherwise): nothing of size
// Tq·Tk is stored; training saves each row's log-sum-exp (LSE) instead and the backward recomputes
// p_ij = exp(s_ij − lse_i) (attention_flash_backward_q, then _kv). src/ops/attention.ts picks (policy attention.flash):
// inference never needs the probabilities; training keeps them while they are small (no recomputation of scores).
// F16 (on a shader-f16 device, when the model's matrices are f16: src/ops/attention.ts): the forward entries
// attention_probs(4) and attention_flash compute q·k and p·v as f16 products summed in f32 lanes; q is scaled by
// 1/sqrt(D) before it is rounded to f16 (keeps the products in range); the running max, the sum of the exponentials,
// exp() and the output accumulators stay f32 (docs/drivers.md: why and the error bounds). Inference: NOPROBS and
// attention_flash. --fp16 training: ROWWISE attention_probs(4) with probs or LSE, or attention_flash with LSE (stored
// f32), and the backward entries (ROWWISE, and the flash ones: f16 tiles) take f16 products too (dctx·v, dS·k,
// dS·q̂ with q̂ = f16(q·scale) the forward's factor, p·dctx), summed in f32; the flash backward recomputes each score
// exactly as the forward did (same products, same order).
// f16 range: a value past ±65504 (or NaN) cannot be rounded to f16 (WGSL leaves that result indeterminate), and a
// q·k product of in-range halves may still overflow. So every conversion clamps and notes an out-of-range value, the
// largest |q·scale| and |k| seen are kept, and where a value was out of range or max|q·scale|·max|k| > 65504 (no
// product can overflow otherwise: p ≤ 1) the invocation's rows (the workgroup's keys in flash) get ctx = NaN; the
// backward keeps the largest magnitude of each product's two factors alike and writes NaN gradients on overflow.
//#if F16
enable f16;
//#endif
struct Params {
  B: u32,         // batch
  Tq: u32,        // query rows computed now
  Tk: u32,        // keys (context length so far)
  q0: u32,        // absolute position of the first query row
  Tmax: u32,      // row capacity of the qkv buffer per batch element
  NH: u32,        // heads
  D: u32,         // head dim
  scale: f32,     // 1/sqrt(D)
}

//#if F16
// toF16 and `fits`: every value converted so far was within f16's finite range
//#include "f16_range.wgsl"
var<private> qmax = vec4f(0.0);    // largest |q·scale| per lane
var<private> kmax = vec4f(0.0);    // largest |k| per lane
fn hq(v: vec4f) -> vec4<f16> { qmax = max(qmax, abs(v)); return toF16(v); }
fn hk(v: vec4f) -> vec4<f16> { kmax = max(kmax, abs(v)); return toF16(v); }
// training backward (ROWWISE): the other factors' largest magnitudes (v, dctx, and the score gradients x = dS)
var<private> vmax = vec4f(0.0);
var<private> gmax = vec4f(0.0);
var<private> xmax = 0.0;
fn hv(v: vec4f) -> vec4<f16> { vmax = max(vmax, abs(v)); return toF16(v); }
fn hg(v: vec4f) -> vec4<f16> { gmax = max(gmax, abs(v)); return toF16(v); }
fn hs(v: f32) -> f16 { fits = fits & (abs(v) <= F16_MAX); return f16(clamp(v, -F16_MAX, F16_MAX)); }
fn hx(v: f32) -> f16 { xmax = max(xmax, abs(v)); return hs(v); }
// no product a·b of halves with |a| ≤ max4(am), |b| ≤ max4(bm) can overflow
fn prod_ok(am: vec4f, bm: vec4f) -> bool { return max4(am) * max4(bm) <= F16_MAX; }
fn max4(v: vec4f) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }
// whether no conversion or q·k product of this invocation can have left f16's range (kmax_all: the keys' bound)
fn f16_ok(kmax_all: f32) -> bool { return fits && max4(qmax) * kmax_all <= F16_MAX; }
// NaN from its bits (bit 31 of Tk is never set: it keeps this from being a constant, which may not be NaN)
fn f16_nan() -> f32 { return bitcast<f32>(0x7fc00000u | (params.Tk & 0x80000000u)); }
//#endif

//#if ROWWISE
// ROWWISE (chosen by src/ops/attention.ts on SwiftShader when D is a multiple of 4 and ≤ 128; D4 = D/4 is a define):
// one invocation per query row (forward, backward_scores) or key (backward_kv) with an online softmax and no
// workgroup barriers; head vectors move as vec4 and stay in registers (hand-unrolled over D4 with //#unroll:
// SwiftShader keeps loop-indexed private arrays in memory). On a CPU Vulkan every load is range-checked
// per lane and barriers switch fibers, while SIMD math is nearly free. attention_context and attention_backward_q
// are fused into attention_probs and attention_backward_scores here. NOPROBS: attention_probs(4) write only ctx (and
// with LSE the rows' log-sum-exp); the flash backward is one invocation per query row (_q) and per key (_kv).
// Real GPUs keep the workgroup kernels of the #else branch.
@group(0) @binding(0) var<storage, read> qkv: array<vec4f>;         // [B, Tmax, 3·NH·D4]
@group(0) @binding(1) var<storage, read> keyinfo: array<vec2f>;     // [B, Tk]
@group(0) @binding(2) var<storage, read> slopes: array<f32>;        // [NH]
@group(0) @binding(3) var<storage, read_write> probs: array<f32>;   // [B, NH, Tq, Tk]
@group(0) @binding(4) var<storage, read_write> ctx: array<vec4f>;   // [B, Tq, NH·D4]
@group(0) @binding(5) var<storage, read> dctx: array<vec4f>;        // [B, Tq, NH·D4]
@group(0) @binding(6) var<storage, read_write> dqkv: array<vec4f>;  // [B, Tmax, 3·NH·D4]
@group(0) @binding(7) var<storage, read_write> ds: array<f32>;      // [B, NH, Tq, Tk]
@group(0) @binding(8) var<uniform> params: Params;
@group(0) @binding(9) var<storage, read_write> lse: array<f32>;     // [B, NH, Tq] flash: m + log Σ exp(s − m)
@group(0) @binding(10) var<storage, read_write> delta: array<f32>;  // [B, NH, Tq] flash backward: dctx·ctx per row

// vec4 index of (b, t, head n, part c) in qkv
fn qkv4(b: u32, t: u32, n: u32, c: u32, NH: u32) -> u32 { return ((b * params.Tmax + t) * 3u * NH + n * 3u + c) * D4; }
fn prow(b: u32, n: u32, i: u32) -> u32 { return ((b * params.NH + n) * params.Tq + i) * params.Tk; }

// Per (query row i = gid.x, head, batch): scores, mask, online softmax → probs row, and ctx = probs·v.
@compute @workgroup_size(64)
fn attention_probs(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x; let n = gid.y; let b = gid.z;
  let Tq = params.Tq; let Tk = params.Tk; let NH = params.NH; let scale = params.scale;
  if (i >= Tq) { return; }
  let slope = slopes[n];
  let qi = params.q0 + i;
  let row = prow(b, n, i);
  let ks = 3u * NH * D4;  // vec4 row stride of qkv
  let kb = qkv4(b, 0u, n, 1u, NH);
  let qb = qkv4(b, qi, n, 0u, NH);
//#if F16
//#unroll d D4
  let q$d = hq(qkv[qb + $du] * scale);
  var o$d = vec4f(0.0);
//#endunroll
//#else
//#unroll d D4
  let q$d = qkv[qb + $du];
  var o$d = vec4f(0.0);
//#endunroll
//#endif
  var m = -3.0e38;
  var l = 0.0;
  let last = min(qi, Tk - 1u);
  for (var j = 0u; j <= last; j++) {
    let info = keyinfo[b * Tk + j];
    var s = -3.0e38;
    if (info.x > 0.5) {
      let kj = kb + j * ks;
      var acc = vec4f(0.0);
//#if F16
//#unroll d D4
      acc += vec4f(q$d * hk(qkv[kj + $du]));
//#endunroll
      s = dot(acc, vec4f(1.0)) + slope * info.y;
//#else
//#unroll d D4
      acc += q$d * qkv[kj + $du];
//#endunroll
      s = dot(acc, vec4f(1.0)) * scale + slope * info.y;
//#endif
      let mn = max(m, s);
      let c = exp(m - mn);
      let e = exp(s - mn);
      l = l * c + e;
//#if F16
      let eh = f16(e);
//#unroll d D4
      o$d = o$d * c + vec4f(eh * toF16(qkv[kj + D4 + $du]));
//#endunroll
//#else
//#unroll d D4
      o$d = o$d * c + e * qkv[kj + D4 + $du];
//#endunroll
//#endif
      m = mn;
    }
//#if NOPROBS
//#else
    probs[row + j] = s;
//#endif
  }
//#if F16
  let inv = select(select(1.0 / l, 0.0, l == 0.0), f16_nan(), !f16_ok(max4(kmax)));  // f16 range: header
//#else
  let inv = select(1.0 / l, 0.0, l == 0.0);  // a fully masked row (a left-pad query) gets zeros
//#endif
//#if NOPROBS
//#else
  for (var j = 0u; j <= last; j++) {
    let s = probs[row + j];
    probs[row + j] = select(exp(s - m) * inv, 0.0, s <= -3.0e38);
  }
  for (var j = last + 1u; j < Tk; j++) { probs[row + j] = 0.0; }
//#endif
//#if LSE
  lse[(b * NH + n) * Tq + i] = select(m + log(l), -3.0e38, l == 0.0);
//#endif
  let out = ((b * Tq + i) * NH + n) * D4;
//#unroll d D4
  ctx[out + $du] = o$d * inv;
//#endunroll
}

// ROWS4 (forward, SwiftShader): the same as attention_probs for four consecutive query rows per invocation, so each
// key and value vector is loaded once for four rows (loads, not math, are the cost there). The four rows' running
// max, sum and score are the components of vec4s; a row past Tq or a key past its causal end is masked per row.
//#if ROWS4
@compute @workgroup_size(16)
fn attention_probs4(@builtin(global_invocation_id) gid: vec3u) {
  let i0 = gid.x * 4u; let n = gid.y; let b = gid.z;
  let Tq = params.Tq; let Tk = params.Tk; let NH = params.NH; let scale = params.scale;
  if (i0 >= Tq) { return; }
  let slope = slopes[n];
  let ks = 3u * NH * D4;
  let kb = qkv4(b, 0u, n, 1u, NH);
  // rows i0..i0+3 (clamped to the last row: a clamped row is computed but never written)
  let i1 = min(i0 + 1u, Tq - 1u); let i2 = min(i0 + 2u, Tq - 1u); let i3 = min(i0 + 3u, Tq - 1u);
  let qpos = vec4u(params.q0 + i0, params.q0 + i1, params.q0 + i2, params.q0 + i3);
  let lastv = min(qpos, vec4u(Tk - 1u));
  let qb0 = qkv4(b, qpos.x, n, 0u, NH); let qb1 = qkv4(b, qpos.y, n, 0u, NH);
  let qb2 = qkv4(b, qpos.z, n, 0u, NH); let qb3 = qkv4(b, qpos.w, n, 0u, NH);
//#if F16
//#unroll d D4
  let q0_$d = hq(qkv[qb0 + $du] * scale); let q1_$d = hq(qkv[qb1 + $du] * scale);
  let q2_$d = hq(qkv[qb2 + $du] * scale); let q3_$d = hq(qkv[qb3 + $du] * scale);
  var o0_$d = vec4f(0.0); var o1_$d = vec4f(0.0); var o2_$d = vec4f(0.0); var o3_$d = vec4f(0.0);
//#endunroll
//#else
//#unroll d D4
  let q0_$d = qkv[qb0 + $du]; let q1_$d = qkv[qb1 + $du]; let q2_$d = qkv[qb2 + $du]; let q3_$d = qkv[qb3 + $du];
  var o0_$d = vec4f(0.0); var o1_$d = vec4f(0.0); var o2_$d = vec4f(0.0); var o3_$d = vec4f(0.0);
//#endunroll
//#endif
  var m = vec4f(-3.0e38);
  var l = vec4f(0.0);
  let rows = vec4u(prow(b, n, i0), prow(b, n, i1), prow(b, n, i2), prow(b, n, i3));
  let live = vec4<bool>(true, i0 + 1u < Tq, i0 + 2u < Tq, i0 + 3u < Tq);
  for (var j = 0u; j <= lastv.w; j++) {
    let info = keyinfo[b * Tk + j];
    let causal = vec4u(j) <= lastv;
    var s = vec4f(-3.0e38);
    if (info.x > 0.5) {
      let kj = kb + j * ks;
      var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
//#if F16
//#unroll d D4
      let k$d = hk(qkv[kj + $du]);
      a0 += vec4f(q0_$d * k$d); a1 += vec4f(q1_$d * k$d); a2 += vec4f(q2_$d * k$d); a3 += vec4f(q3_$d * k$d);
//#endunroll
      let one = vec4f(1.0);
      let sc = vec4f(dot(a0, one), dot(a1, one), dot(a2, one), dot(a3, one)) + slope * info.y;
//#else
//#unroll d D4
      let k$d = qkv[kj + $du];
      a0 += q0_$d * k$d; a1 += q1_$d * k$d; a2 += q2_$d * k$d; a3 += q3_$d * k$d;
//#endunroll
      let one = vec4f(1.0);
      let sc = vec4f(dot(a0, one), dot(a1, one), dot(a2, one), dot(a3, one)) * scale + slope * info.y;
//#endif
      s = select(vec4f(-3.0e38), sc, causal);
      let mn = select(m, max(m, sc), causal);
      let c = exp(m - mn);
      let e = select(vec4f(0.0), exp(sc - mn), causal);
      l = l * c + e;
//#if F16
      let eh = vec4<f16>(e);
//#unroll d D4
      let v$d = toF16(qkv[kj + D4 + $du]);
      o0_$d = o0_$d * c.x + vec4f(eh.x * v$d); o1_$d = o1_$d * c.y + vec4f(eh.y * v$d);
      o2_$d = o2_$d * c.z + vec4f(eh.z * v$d); o3_$d = o3_$d * c.w + vec4f(eh.w * v$d);
//#endunroll
//#else
//#unroll d D4
      let v$d = qkv[kj + D4 + $du];
      o0_$d = o0_$d * c.x + e.x * v$d; o1_$d = o1_$d * c.y + e.y * v$d;
      o2_$d = o2_$d * c.z + e.z * v$d; o3_$d = o3_$d * c.w + e.w * v$d;
//#endunroll
//#endif
      m = mn;
    }
//#if NOPROBS
//#else
    // scores of the rows this key is causal for (the normalization below reads them back)
    if (causal.x) { probs[rows.x + j] = s.x; }
    if (causal.y && live.y) { probs[rows.y + j] = s.y; }
    if (causal.z && live.z) { probs[rows.z + j] = s.z; }
    if (causal.w && live.w) { probs[rows.w + j] = s.w; }
//#endif
  }
  var inv = select(1.0 / l, vec4f(0.0), l == vec4f(0.0));  // a fully masked row (a left-pad query) gets zeros
//#if F16
  if (!f16_ok(max4(kmax))) { inv = vec4f(f16_nan()); }  // f16 range: header
//#endif
//#if NOPROBS
//#else
  for (var r = 0u; r < 4u; r++) {
    if (!live[r]) { break; }
    let row = rows[r]; let last = lastv[r]; let mr = m[r]; let ir = inv[r];
    for (var j = 0u; j <= last; j++) {
      let x = probs[row + j];
      probs[row + j] = select(exp(x - mr) * ir, 0.0, x <= -3.0e38);
    }
    for (var j = last + 1u; j < Tk; j++) { probs[row + j] = 0.0; }
  }
//#endif
//#if LSE
  let lr = (b * NH + n) * Tq + i0;
  let lv = select(m + log(l), vec4f(-3.0e38), l == vec4f(0.0));
  lse[lr] = lv.x;
  if (live.y) { lse[lr + 1u] = lv.y; }
  if (live.z) { lse[lr + 2u] = lv.z; }
  if (live.w) { lse[lr + 3u] = lv.w; }
//#endif
  let c0 = ((b * Tq + i0) * NH + n) * D4;
  let cs = NH * D4;  // vec4 stride of one query row in ctx
//#unroll d D4
  ctx[c0 + $du] = o0_$d * inv.x;
//#endunroll
  if (live.y) {
//#unroll d D4
    ctx[c0 + cs + $du] = o1_$d * inv.y;
//#endunroll
  }
  if (live.z) {
//#unroll d D4
    ctx[c0 + 2u * cs + $du] = o2_$d * inv.z;
//#endunroll
  }
  if (live.w) {
//#unroll d D4
    ctx[c0 + 3u * cs + $du] = o3_$d * inv.w;
//#endunroll
  }
}
//#endif

// Backward, training only (q0 = 0, Tq = Tk = T). Per (query row i, n, b): dP = dctx·vᵀ, dS = P ⊙ (dP − Σ_j P·dP),
// dq = scale·dS·k.
@compute @workgroup_size(64)
fn attention_backward_scores(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x; let n = gid.y; let b = gid.z;
  let Tq = params.Tq; let Tk = params.Tk; let NH = params.NH;
  if (i >= Tq) { return; }
  let row = prow(b, n, i);
  let ks = 3u * NH * D4;
  let kb = qkv4(b, 0u, n, 1u, NH);
  let gb = ((b * Tq + i) * NH + n) * D4;
//#if F16
//#unroll d D4
  let g$d = hg(dctx[gb + $du]);
  var dq$d = vec4f(0.0);
//#endunroll
//#else
//#unroll d D4
  let g$d = dctx[gb + $du];
  var dq$d = vec4f(0.0);
//#endunroll
//#endif
  var dot_sum = 0.0;
  for (var j = 0u; j <= i; j++) {
    let vj = kb + j * ks + D4;
    var acc = vec4f(0.0);
//#if F16
//#unroll d D4
    acc += vec4f(g$d * hv(qkv[vj + $du]));
//#endunroll
//#else
//#unroll d D4
    acc += g$d * qkv[vj + $du];
//#endunroll
//#endif
    let dp = dot(acc, vec4f(1.0));
    ds[row + j] = dp;
    dot_sum += dp * probs[row + j];
  }
  for (var j = 0u; j <= i; j++) {
    let x = probs[row + j] * (ds[row + j] - dot_sum);
    ds[row + j] = x;
    let kj = kb + j * ks;
//#if F16
    let xh = hx(x);
//#unroll d D4
    dq$d += vec4f(xh * hk(qkv[kj + $du]));
//#endunroll
//#else
//#unroll d D4
    dq$d += x * qkv[kj + $du];
//#endunroll
//#endif
  }
  for (var j = i + 1u; j < Tk; j++) { ds[row + j] = 0.0; }
  let qo = qkv4(b, i, n, 0u, NH);
//#if F16
  // f16 range (header): dctx·v and dS·k; on overflow dq and this row's dS (read by _kv) are NaN
  var sc = params.scale;
  if (!(fits && prod_ok(gmax, vmax) && prod_ok(vec4f(xmax), kmax))) {
    sc = f16_nan();
    for (var j = 0u; j <= i; j++) { ds[row + j] = sc; }
  }
//#else
  let sc = params.scale;
//#endif
//#unroll d D4
  dqkv[qo + $du] = dq$d * sc;
//#endunroll
}

// Per (key j = gid.x, n, b): dk[j] = scale·Σ_i dS[i,j]·q[i]; dv[j] = Σ_i P[i,j]·dctx[i].
@compute @workgroup_size(64)
fn attention_backward_kv(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x; let n = gid.y; let b = gid.z;
  let Tq = params.Tq; let Tk = params.Tk; let NH = params.NH;
  if (j >= Tk) { return; }
  let ks = 3u * NH * D4;
  let qb = qkv4(b, 0u, n, 0u, NH);
  let r0 = prow(b, n, 0u) + j;
  let gs = NH * D4;
  let g0 = (b * Tq * NH + n) * D4;
//#unroll d D4
  var dk$d = vec4f(0.0); var dv$d = vec4f(0.0);
//#endunroll
//#if F16
  let scale = params.scale;
//#endif
  for (var i = j; i < Tq; i++) {
    let r = r0 + i * Tk;
    let x = ds[r];
    let p = probs[r];
    let qi = qb + i * ks;
    let gi = g0 + i * gs;
//#if F16
    // the forward's score is q̂·k̂ with q̂ = f16(q·scale): dk = Σ dS·q̂ (no further scale); p ≤ 1 (p·dctx in range)
    let xh = hx(x); let ph = hs(p);
//#unroll d D4
    dk$d += vec4f(xh * hq(qkv[qi + $du] * scale)); dv$d += vec4f(ph * toF16(dctx[gi + $du]));
//#endunroll
//#else
//#unroll d D4
    dk$d += x * qkv[qi + $du]; dv$d += p * dctx[gi + $du];
//#endunroll
//#endif
  }
  let ko = qkv4(b, j, n, 1u, NH);
//#if F16
  // f16 range (header): dS·q̂; on overflow dk and dv are NaN
  var sc = 1.0;
  if (!(fits && prod_ok(vec4f(xmax), qmax))) { sc = f16_nan(); }
//#unroll d D4
  dqkv[ko + $du] = dk$d * sc; dqkv[ko + D4 + $du] = dv$d * sc;
//#endunroll
//#else
  let sc = params.scale;
//#unroll d D4
  dqkv[ko + $du] = dk$d * sc; dqkv[ko + D4 + $du] = dv$d;
//#endunroll
//#endif
}

// Flash backward, training only (q0 = 0, Tq = Tk = T), from the forward's lse and ctx instead of probs; p_ij is
// recomputed as exp(s_ij − lse_i). Per query row i: delta_i = dctx_i·ctx_i (saved for the _kv pass) and
// dq_i = scale·Σ_j p_ij (dctx_i·v_j − delta_i) k_j. Fully masked rows have no valid key, so their lse is never used.
@compute @workgroup_size(64)
fn attention_flash_backward_q(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x; let n = gid.y; let b = gid.z;
  let T = params.Tq; let NH = params.NH; let scale = params.scale;
  if (i >= T) { return; }
  let slope = slopes[n];
  let ks = 3u * NH * D4;
  let kb = qkv4(b, 0u, n, 1u, NH);
  let qb = qkv4(b, i, n, 0u, NH);
  let gb = ((b * T + i) * NH + n) * D4;
  var dsum = vec4f(0.0);
//#if F16
  // F16: the scores recomputed exactly as the forward computed them (q̂ = f16(q·scale), k̂ = f16(k), f32 sums)
//#unroll d D4
  let q$d = hq(qkv[qb + $du] * scale); let g$d = hg(dctx[gb + $du]);
  dsum += dctx[gb + $du] * ctx[gb + $du];
  var dq$d = vec4f(0.0);
//#endunroll
//#else
//#unroll d D4
  let q$d = qkv[qb + $du]; let g$d = dctx[gb + $du];
  dsum += g$d * ctx[gb + $du];
  var dq$d = vec4f(0.0);
//#endunroll
//#endif
  let one = vec4f(1.0);
  let di = dot(dsum, one);
  let r = (b * NH + n) * T + i;
  delta[r] = di;
  let lr = lse[r];
  for (var j = 0u; j <= i; j++) {
    let info = keyinfo[b * T + j];
    if (info.x > 0.5) {
      let kj = kb + j * ks;
      var a = vec4f(0.0); var dp = vec4f(0.0);
//#if F16
//#unroll d D4
      let k$d = hk(qkv[kj + $du]);
      a += vec4f(q$d * k$d); dp += vec4f(g$d * hv(qkv[kj + D4 + $du]));
//#endunroll
      let p = exp(dot(a, one) + slope * info.y - lr);
      let x = p * (dot(dp, one) - di);
      let xh = hx(x);
//#unroll d D4
      dq$d += vec4f(xh * k$d);
//#endunroll
//#else
//#unroll d D4
      let k$d = qkv[kj + $du];
      a += q$d * k$d; dp += g$d * qkv[kj + D4 + $du];
//#endunroll
      let p = exp(dot(a, one) * scale + slope * info.y - lr);
      let x = p * (dot(dp, one) - di);
//#unroll d D4
      dq$d += x * k$d;
//#endunroll
//#endif
    }
  }
//#if F16
  // f16 range (header): q̂·k̂, dctx·v, dS·k; on overflow dq is NaN
  var sc = scale;
  if (!(fits && prod_ok(qmax, kmax) && prod_ok(gmax, vmax) && prod_ok(vec4f(xmax), kmax))) { sc = f16_nan(); }
//#else
  let sc = scale;
//#endif
//#unroll d D4
  dqkv[qb + $du] = dq$d * sc;
//#endunroll
}

// Per key j: dk_j = scale·Σ_{i≥j} p_ij (dctx_i·v_j − delta_i) q_i; dv_j = Σ_{i≥j} p_ij dctx_i (zeros for a padding key).
@compute @workgroup_size(64)
fn attention_flash_backward_kv(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x; let n = gid.y; let b = gid.z;
  let T = params.Tq; let NH = params.NH; let scale = params.scale;
  if (j >= T) { return; }
  let info = keyinfo[b * T + j];
  let bias = slopes[n] * info.y;
  let ks = 3u * NH * D4;
  let qb = qkv4(b, 0u, n, 0u, NH);
  let ko = qkv4(b, j, n, 1u, NH);
  let gs = NH * D4;
  let g0 = (b * T * NH + n) * D4;
  let r0 = (b * NH + n) * T;
//#if F16
//#unroll d D4
  let k$d = hk(qkv[ko + $du]); let v$d = hv(qkv[ko + D4 + $du]);
  var dk$d = vec4f(0.0); var dv$d = vec4f(0.0);
//#endunroll
//#else
//#unroll d D4
  let k$d = qkv[ko + $du]; let v$d = qkv[ko + D4 + $du];
  var dk$d = vec4f(0.0); var dv$d = vec4f(0.0);
//#endunroll
//#endif
  let one = vec4f(1.0);
  if (info.x > 0.5) {
    for (var i = j; i < T; i++) {
      let qi = qb + i * ks;
      let gi = g0 + i * gs;
      var a = vec4f(0.0); var dp = vec4f(0.0);
//#if F16
//#unroll d D4
      let q$d = hq(qkv[qi + $du] * scale); let g$d = hg(dctx[gi + $du]);
      a += vec4f(q$d * k$d); dp += vec4f(g$d * v$d);
//#endunroll
      let p = exp(dot(a, one) + bias - lse[r0 + i]);
      let x = p * (dot(dp, one) - delta[r0 + i]);
      let xh = hx(x); let ph = hs(p);
//#unroll d D4
      dk$d += vec4f(xh * q$d); dv$d += vec4f(ph * g$d);
//#endunroll
//#else
//#unroll d D4
      let q$d = qkv[qi + $du]; let g$d = dctx[gi + $du];
      a += q$d * k$d; dp += g$d * v$d;
//#endunroll
      let p = exp(dot(a, one) * scale + bias - lse[r0 + i]);
      let x = p * (dot(dp, one) - delta[r0 + i]);
//#unroll d D4
      dk$d += x * q$d; dv$d += p * g$d;
//#endunroll
//#endif
    }
  }
//#if F16
  // f16 range (header): q̂·k̂, dctx·v, dS·q̂ (dk = Σ dS·q̂: q̂ already holds the scale); on overflow dk and dv are NaN
  var sk = 1.0;
  if (!(fits && prod_ok(qmax, kmax) && prod_ok(gmax, vmax) && prod_ok(vec4f(xmax), qmax))) { sk = f16_nan(); }
  let sv = sk;
//#else
  let sk = scale; let sv = 1.0;
//#endif
//#unroll d D4
  dqkv[ko + $du] = dk$d * sk; dqkv[ko + D4 + $du] = dv$d * sv;
//#endunroll
}
//#else
@group(0) @binding(0) var<storage, read> qkv: array<f32>;         // [B, Tmax, 3·NH·D]
@group(0) @binding(1) var<storage, read> keyinfo: array<vec2f>;   // [B, Tk]: (1 real / 0 padding, ALiBi position)
@group(0) @binding(2) var<storage, read> slopes: array<f32>;      // [NH]
@group(0) @binding(3) var<storage, read_write> probs: array<f32>; // [B, NH, Tq, Tk]
@group(0) @binding(4) var<storage, read_write> ctx: array<f32>;   // [B, Tq, NH·D]
@group(0) @binding(5) var<storage, read> dctx: array<f32>;        // [B, Tq, NH·D]
@group(0) @binding(6) var<storage, read_write> dqkv: array<f32>;  // [B, Tmax, 3·NH·D]
@group(0) @binding(7) var<storage, read_write> ds: array<f32>;    // [B, NH, Tq, Tk] score gradients
@group(0) @binding(8) var<uniform> params: Params;
@group(0) @binding(9) var<storage, read_write> lse: array<f32>;   // [B, NH, Tq] flash: m + log Σ exp(s − m)
@group(0) @binding(10) var<storage, read_write> delta: array<f32>; // [B, NH, Tq] flash backward: dctx·ctx per row

const WG = 64u;
fn qkv_at(b: u32, t: u32, n: u32, c: u32, d: u32) -> u32 {
  return (b * params.Tmax + t) * 3u * params.NH * params.D + n * 3u * params.D + c * params.D + d;
}
fn prow(b: u32, n: u32, i: u32) -> u32 { return ((b * params.NH + n) * params.Tq + i) * params.Tk; }

//#if SUBGROUPS
enable subgroups;
// SUBGROUPS: subgroupMax/subgroupAdd, then the elected invocations' slots (the identity elsewhere) are combined in
// order by every invocation after one barrier (deterministic, any subgroup size or layout): 2 barriers, not 8.
var<workgroup> red: array<vec4f, 16>;

fn reduce(v: f32, li: u32, is_max: bool) -> f32 {
  let g = select(subgroupAdd(v), subgroupMax(v), is_max);
  let none = select(0.0, -3.0e38, is_max);
  red[li >> 2u][li & 3u] = select(none, g, subgroupElect());
  workgroupBarrier();
  var t = vec4f(none);
  for (var k = 0u; k < 16u; k++) { t = select(t + red[k], max(t, red[k]), is_max); }
  workgroupBarrier();
  return select(dot(t, vec4f(1.0)), max(max(t.x, t.y), max(t.z, t.w)), is_max);
}
//#else
var<workgroup> red: array<f32, 64>;

fn reduce(v: f32, li: u32, is_max: bool) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] = select(red[li] + red[li + s], max(red[li], red[li + s]), is_max); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
//#endif

// One workgroup per (query row i, head n, batch b): scores, mask, softmax → probs row.
@compute @workgroup_size(64)
fn attention_probs(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg.x; let n = wg.y; let b = wg.z;
  // params and index bases are read once: every uniform/storage load is range-checked on SwiftShader
  let Tk = params.Tk; let D = params.D; let scale = params.scale; let slope = slopes[n];
  let qi = params.q0 + i;
  let row = prow(b, n, i);
  let qb = qkv_at(b, qi, n, 0u, 0u);
  let kb = qkv_at(b, 0u, n, 1u, 0u);
  let ks = 3u * params.NH * D;  // row stride of qkv
  var m = -3.0e38;
  for (var j = li; j < Tk; j += WG) {
    var s = -3.0e38;
    let info = keyinfo[b * Tk + j];
    if (j <= qi && info.x > 0.5) {
      var dot = 0.0;
      let kj = kb + j * ks;
      for (var d = 0u; d < D; d++) { dot += qkv[qb + d] * qkv[kj + d]; }
      s = dot * scale + slope * info.y;
    }
    probs[row + j] = s;
    m = max(m, s);
  }
  m = reduce(m, li, true);
  var sum = 0.0;
  for (var j = li; j < Tk; j += WG) {
    let s = probs[row + j];
    let e = select(exp(s - m), 0.0, s <= -3.0e38);
    probs[row + j] = e;
    sum += e;
  }
  sum = reduce(sum, li, false);
  let inv = select(1.0 / sum, 0.0, sum == 0.0);  // a fully masked row (a left-pad query) gets zeros
  for (var j = li; j < Tk; j += WG) { probs[row + j] *= inv; }
}

// ctx[b, i, n·D + d] = Σ_j probs[b,n,i,j] · v[b,j,n,d]; one workgroup per (i, n, b), threads over d.
@compute @workgroup_size(64)
fn attention_context(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg.x; let n = wg.y; let b = wg.z;
  let D = params.D;
  let row = prow(b, n, i);
  let H = params.NH * D;
  let last = min(params.q0 + i, params.Tk - 1u);
  let vb = qkv_at(b, 0u, n, 2u, 0u);
  let vs = 3u * H;
  let out = (b * params.Tq + i) * H + n * D;
  for (var d = li; d < D; d += WG) {
    var s = 0.0;
    for (var j = 0u; j <= last; j++) { s += probs[row + j] * qkv[vb + j * vs + d]; }
    ctx[out + d] = s;
  }
}

// Backward, training only (q0 = 0, Tq = Tk = T). Per (i, n, b): dP = dctx·vᵀ, dS = P ⊙ (dP − Σ_j P·dP).
@compute @workgroup_size(64)
fn attention_backward_scores(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg.x; let n = wg.y; let b = wg.z;
  let row = prow(b, n, i);
  let g = (b * params.Tq + i) * params.NH * params.D + n * params.D;
  let Tk = params.Tk; let D = params.D;
  let vb = qkv_at(b, 0u, n, 2u, 0u);
  let vs = 3u * params.NH * D;
  var dot_sum = 0.0;
  for (var j = li; j < Tk; j += WG) {
    var dp = 0.0;
    if (j <= i) {
      let vj = vb + j * vs;
      for (var d = 0u; d < D; d++) { dp += dctx[g + d] * qkv[vj + d]; }
    }
    ds[row + j] = dp;
    dot_sum += dp * probs[row + j];
  }
  dot_sum = reduce(dot_sum, li, false);
  // each thread rewrites only the entries it wrote above, so no barrier is needed between the passes
  for (var j = li; j < Tk; j += WG) { ds[row + j] = probs[row + j] * (ds[row + j] - dot_sum); }
}

// Per (i, n, b), threads over d: dq[i] = scale·Σ_j dS[i,j]·k[j].
@compute @workgroup_size(64)
fn attention_backward_q(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg.x; let n = wg.y; let b = wg.z;
  let row = prow(b, n, i);
  let D = params.D; let scale = params.scale;
  let kb = qkv_at(b, 0u, n, 1u, 0u);
  let ks = 3u * params.NH * D;
  let qi = qkv_at(b, i, n, 0u, 0u);
  for (var d = li; d < D; d += WG) {
    var s = 0.0;
    for (var j = 0u; j <= i; j++) { s += ds[row + j] * qkv[kb + j * ks + d]; }
    dqkv[qi + d] = s * scale;
  }
}

// Per (key j, n, b), threads over d: dk[j] = scale·Σ_i dS[i,j]·q[i]; dv[j] = Σ_i P[i,j]·dctx[i].
@compute @workgroup_size(64)
fn attention_backward_kv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let j = wg.x; let n = wg.y; let b = wg.z;
  let D = params.D; let Tq = params.Tq; let Tk = params.Tk;
  let H = params.NH * D;
  let qb = qkv_at(b, 0u, n, 0u, 0u);
  let r0 = prow(b, n, 0u) + j;
  let g0 = b * Tq * H + n * D;
  for (var d = li; d < D; d += WG) {
    var sk = 0.0;
    var sv = 0.0;
    for (var i = j; i < Tq; i++) {
      let r = r0 + i * Tk;
      sk += ds[r] * qkv[qb + i * 3u * H + d];
      sv += probs[r] * dctx[g0 + i * H + d];
    }
    dqkv[qkv_at(b, j, n, 1u, d)] = sk * params.scale;
    dqkv[qkv_at(b, j, n, 2u, d)] = sv;
  }
}

// FLASH (real GPUs; defines D4 = D/4 and BK, the tile of keys or query rows that fits workgroup storage:
// BK·(2·D·4 + 8) bytes ≤ 16 KiB, chosen on the host: BK = 31 at D = 64, 15 at D = 128). One workgroup per block of
// 64 rows (query rows, or keys in _kv) of one (head, batch), one row per thread: the row's head vectors and
// accumulators are registers (unrolled over D4), and the other side is streamed through workgroup memory in tiles of
// BK rows, each read once per workgroup and broadcast to all 64 threads (all read the same address: no bank conflicts).
//#if FLASH
//#if F16
// F16: the tiles hold f16 (converted once as they are staged; half the storage, so BK is about twice as large)
alias tile_t = vec4<f16>;
var<workgroup> wg_bad: atomic<u32>;   // a staged value was out of f16's range
// bits of the largest staged |value| of tile_a (k; q·scale in _kv) and tile_b (v; dctx in _kv) (ordered as u32 for
// non-negative f32)
var<workgroup> wg_kmax: atomic<u32>;
var<workgroup> wg_bmax: atomic<u32>;
var<private> amax_t = vec4f(0.0);  // this thread's share of them
var<private> bmax_t = vec4f(0.0);
fn tile16(v: vec4f) -> tile_t { return toF16(v); }
//#else
alias tile_t = vec4f;
fn tile16(v: vec4f) -> tile_t { return v; }
//#endif
var<workgroup> tile_a: array<tile_t, BK * D4>;  // K tile (forward, _q) or Q tile (_kv)
var<workgroup> tile_b: array<tile_t, BK * D4>;  // V tile (forward, _q) or dctx tile (_kv)
var<workgroup> tile_s: array<vec2f, BK>;       // per key (mask, ALiBi bias), or per query row (lse, delta) in _kv

fn qkv4(i: u32) -> vec4f { return vec4f(qkv[i], qkv[i + 1u], qkv[i + 2u], qkv[i + 3u]); }
fn dctx4(i: u32) -> vec4f { return vec4f(dctx[i], dctx[i + 1u], dctx[i + 2u], dctx[i + 3u]); }
fn ctx4(i: u32) -> vec4f { return vec4f(ctx[i], ctx[i + 1u], ctx[i + 2u], ctx[i + 3u]); }

// Stages rows t0..t0+nr of parts (ca, cb) of head n (c = 0 q, 1 k, 2 v of qkv; cb = 3: dctx) into tile_a/tile_b.
fn stage(b: u32, n: u32, t0: u32, nr: u32, ca: u32, cb: u32, li: u32) {
  let D = params.D; let H = params.NH * D;
//#if F16
  let own = fits;  // this thread's own row (its q) is judged apart from what it stages for the workgroup
  fits = true;
//#endif
  for (var e = li; e < nr * D4; e += 64u) {
    let r = e / D4; let d = (e - r * D4) * 4u;
    var va = qkv4(qkv_at(b, t0 + r, n, ca, d));
    var vb: vec4f;
    if (cb == 3u) { vb = dctx4((b * params.Tq + t0 + r) * H + n * D + d); }
    else { vb = qkv4(qkv_at(b, t0 + r, n, cb, d)); }
//#if F16
    if (ca == 0u) { va *= params.scale; }  // q̂ = f16(q·scale), the forward's factor
    amax_t = max(amax_t, abs(va)); bmax_t = max(bmax_t, abs(vb));
//#endif
    tile_a[e] = tile16(va);
    tile_b[e] = tile16(vb);
  }
//#if F16
  // this thread's staging, made visible to the workgroup at the tile's barrier
  if (!fits) { atomicOr(&wg_bad, 1u); }
  atomicMax(&wg_kmax, bitcast<u32>(max4(amax_t)));
  atomicMax(&wg_bmax, bitcast<u32>(max4(bmax_t)));
  fits = own;
//#endif
}

// Forward without probs: ctx (and with LSE the row's log-sum-exp, −3e38 for a fully masked row). The online softmax
// rescales its accumulators only when the running max grows. Keys past the block's last causal key are never loaded.
@compute @workgroup_size(64)
fn attention_flash(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = wg.y; let b = wg.z;
  let Tq = params.Tq; let Tk = params.Tk; let D = params.D; let scale = params.scale; let slope = slopes[n];
  let i = wg.x * 64u + li;
  let live = i < Tq;
  // a thread past Tq computes a copy of the last row (it must take part in the barriers) and writes nothing
  let qi = params.q0 + min(i, Tq - 1u);
  let qb = qkv_at(b, qi, n, 0u, 0u);
//#if F16
//#unroll d D4
  let q$d = hq(qkv4(qb + $du * 4u) * scale);
  var o$d = vec4f(0.0);
//#endunroll
//#else
//#unroll d D4
  let q$d = qkv4(qb + $du * 4u);
  var o$d = vec4f(0.0);
//#endunroll
//#endif
  var m = -3.0e38;
  var l = 0.0;
  let kend = min(params.q0 + min(wg.x * 64u + 63u, Tq - 1u) + 1u, Tk);
  for (var t0 = 0u; t0 < kend; t0 += BK) {
    let nk = min(BK, kend - t0);
    stage(b, n, t0, nk, 1u, 2u, li);
    if (li < nk) { let info = keyinfo[b * Tk + t0 + li]; tile_s[li] = vec2f(info.x, slope * info.y); }
    workgroupBarrier();
    let jn = select(0u, min(nk, qi + 1u - t0), qi >= t0);  // causal: keys ≤ qi
    for (var jj = 0u; jj < jn; jj++) {
      let ki = tile_s[jj];
      if (ki.x > 0.5) {
        let kt = jj * D4;
        var a = vec4f(0.0);
//#if F16
//#unroll d D4
        a += vec4f(q$d * tile_a[kt + $du]);
//#endunroll
        let s = dot(a, vec4f(1.0)) + ki.y;
//#else
//#unroll d D4
        a += q$d * tile_a[kt + $du];
//#endunroll
        let s = dot(a, vec4f(1.0)) * scale + ki.y;
//#endif
        if (s > m) {
          let c = exp(m - s);
          l *= c;
//#unroll d D4
          o$d *= c;
//#endunroll
          m = s;
        }
        let e = exp(s - m);
        l += e;
//#if F16
        let eh = f16(e);
//#unroll d D4
        o$d += vec4f(eh * tile_b[kt + $du]);
//#endunroll
//#else
//#unroll d D4
        o$d += e * tile_b[kt + $du];
//#endunroll
//#endif
      }
    }
    workgroupBarrier();
  }
//#if F16
  // f16 range (header): the workgroup's staged values and keys, this row's q (every thread passed the last barrier)
  fits = fits && atomicLoad(&wg_bad) == 0u;
  let inv_ok = f16_ok(bitcast<f32>(atomicLoad(&wg_kmax)));
//#endif
  if (live) {
    var inv = select(1.0 / l, 0.0, l == 0.0);  // a fully masked row (a left-pad query) gets zeros
//#if F16
    if (!inv_ok) { inv = f16_nan(); }
//#endif
    let out = (b * Tq + i) * params.NH * D + n * D;
//#unroll d D4
    let w$d = o$d * inv;
    ctx[out + $du * 4u] = w$d.x; ctx[out + $du * 4u + 1u] = w$d.y;
    ctx[out + $du * 4u + 2u] = w$d.z; ctx[out + $du * 4u + 3u] = w$d.w;
//#endunroll
//#if LSE
    lse[(b * params.NH + n) * Tq + i] = select(m + log(l), -3.0e38, l == 0.0);
//#endif
  }
}

// Flash backward, training only (q0 = 0, Tq = Tk = T): per query row i (a thread), delta_i = dctx_i·ctx_i (kept for
// _kv) and dq_i = scale·Σ_j p_ij (dctx_i·v_j − delta_i) k_j with p_ij = exp(s_ij − lse_i), over K/V tiles.
@compute @workgroup_size(64)
fn attention_flash_backward_q(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = wg.y; let b = wg.z;
  let T = params.Tq; let D = params.D; let scale = params.scale; let slope = slopes[n];
  let i = wg.x * 64u + li;
  let live = i < T;
  let qi = min(i, T - 1u);
  let qb = qkv_at(b, qi, n, 0u, 0u);
  let gb = (b * T + qi) * params.NH * D + n * D;
  var dsum = vec4f(0.0);
//#if F16
  // F16: q̂ = f16(q·scale) and the staged f16 K tile give the forward's very scores (same products, same order)
//#unroll d D4
  let q$d = hq(qkv4(qb + $du * 4u) * scale); let g$d = hg(dctx4(gb + $du * 4u));
  dsum += dctx4(gb + $du * 4u) * ctx4(gb + $du * 4u);
  var dq$d = vec4f(0.0);
//#endunroll
//#else
//#unroll d D4
  let q$d = qkv4(qb + $du * 4u); let g$d = dctx4(gb + $du * 4u);
  dsum += g$d * ctx4(gb + $du * 4u);
  var dq$d = vec4f(0.0);
//#endunroll
//#endif
  let one = vec4f(1.0);
  let di = dot(dsum, one);
  let r = (b * params.NH + n) * T + qi;
  if (live) { delta[r] = di; }
  let lr = lse[r];
  let kend = min(wg.x * 64u + 64u, T);
  for (var t0 = 0u; t0 < kend; t0 += BK) {
    let nk = min(BK, kend - t0);
    stage(b, n, t0, nk, 1u, 2u, li);
    if (li < nk) { let info = keyinfo[b * T + t0 + li]; tile_s[li] = vec2f(info.x, slope * info.y); }
    workgroupBarrier();
    let jn = select(0u, min(nk, qi + 1u - t0), qi >= t0);
    for (var jj = 0u; jj < jn; jj++) {
      let ki = tile_s[jj];
      if (ki.x > 0.5) {
        let kt = jj * D4;
        var a = vec4f(0.0); var dp = vec4f(0.0);
//#if F16
//#unroll d D4
        let k$d = tile_a[kt + $du];
        a += vec4f(q$d * k$d); dp += vec4f(g$d * tile_b[kt + $du]);
//#endunroll
        let p = exp(dot(a, one) + ki.y - lr);
        let x = p * (dot(dp, one) - di);
        let xh = hx(x);
//#unroll d D4
        dq$d += vec4f(xh * k$d);
//#endunroll
//#else
//#unroll d D4
        let k$d = tile_a[kt + $du];
        a += q$d * k$d; dp += g$d * tile_b[kt + $du];
//#endunroll
        let p = exp(dot(a, one) * scale + ki.y - lr);
        let x = p * (dot(dp, one) - di);
//#unroll d D4
        dq$d += x * k$d;
//#endunroll
//#endif
      }
    }
    workgroupBarrier();
  }
//#if F16
  // f16 range (header): q̂·k̂, dctx·v, dS·k over the workgroup's staged tiles; on overflow dq is NaN
  fits = fits && atomicLoad(&wg_bad) == 0u;
  let ka = vec4f(bitcast<f32>(atomicLoad(&wg_kmax))); let vb = vec4f(bitcast<f32>(atomicLoad(&wg_bmax)));
  var sc = scale;
  if (!(fits && prod_ok(qmax, ka) && prod_ok(gmax, vb) && prod_ok(vec4f(xmax), ka))) { sc = f16_nan(); }
//#else
  let sc = scale;
//#endif
  if (live) {
//#unroll d D4
    let w$d = dq$d * sc;
    dqkv[qb + $du * 4u] = w$d.x; dqkv[qb + $du * 4u + 1u] = w$d.y;
    dqkv[qb + $du * 4u + 2u] = w$d.z; dqkv[qb + $du * 4u + 3u] = w$d.w;
//#endunroll
  }
}

// Per key j (a thread): dk_j = scale·Σ_{i≥j} p_ij (dctx_i·v_j − delta_i) q_i and dv_j = Σ_{i≥j} p_ij dctx_i, over
// tiles of query rows from the block's first key on (Q and dctx staged, with each row's lse and delta).
@compute @workgroup_size(64)
fn attention_flash_backward_kv(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n = wg.y; let b = wg.z;
  let T = params.Tq; let scale = params.scale;
  let j0 = wg.x * 64u;
  let j = j0 + li;
  let live = j < T;
  let jc = min(j, T - 1u);
  let info = keyinfo[b * T + jc];
  let bias = slopes[n] * info.y;
  let kvalid = live && info.x > 0.5;
  let ko = qkv_at(b, jc, n, 1u, 0u);
  let vo = qkv_at(b, jc, n, 2u, 0u);
//#if F16
//#unroll d D4
  let k$d = hk(qkv4(ko + $du * 4u)); let v$d = hv(qkv4(vo + $du * 4u));
  var dk$d = vec4f(0.0); var dv$d = vec4f(0.0);
//#endunroll
//#else
//#unroll d D4
  let k$d = qkv4(ko + $du * 4u); let v$d = qkv4(vo + $du * 4u);
  var dk$d = vec4f(0.0); var dv$d = vec4f(0.0);
//#endunroll
//#endif
  let one = vec4f(1.0);
  let r0 = (b * params.NH + n) * T;
  for (var t0 = j0; t0 < T; t0 += BK) {
    let nq = min(BK, T - t0);
    stage(b, n, t0, nq, 0u, 3u, li);
    if (li < nq) { tile_s[li] = vec2f(lse[r0 + t0 + li], delta[r0 + t0 + li]); }
    workgroupBarrier();
    if (kvalid) {
      for (var ii = select(0u, j - t0, j > t0); ii < nq; ii++) {  // causal: rows i ≥ j
        let rt = tile_s[ii];
        let qt = ii * D4;
        var a = vec4f(0.0); var dp = vec4f(0.0);
//#if F16
        // tile_a holds q̂ = f16(q·scale): the forward's products, and dk = Σ dS·q̂ needs no further scale
//#unroll d D4
        let q$d = tile_a[qt + $du]; let g$d = tile_b[qt + $du];
        a += vec4f(q$d * k$d); dp += vec4f(g$d * v$d);
//#endunroll
        let p = exp(dot(a, one) + bias - rt.x);
        let x = p * (dot(dp, one) - rt.y);
        let xh = hx(x); let ph = hs(p);
//#unroll d D4
        dk$d += vec4f(xh * q$d); dv$d += vec4f(ph * g$d);
//#endunroll
//#else
//#unroll d D4
        let q$d = tile_a[qt + $du]; let g$d = tile_b[qt + $du];
        a += q$d * k$d; dp += g$d * v$d;
//#endunroll
        let p = exp(dot(a, one) * scale + bias - rt.x);
        let x = p * (dot(dp, one) - rt.y);
//#unroll d D4
        dk$d += x * q$d; dv$d += p * g$d;
//#endunroll
//#endif
      }
    }
    workgroupBarrier();
  }
//#if F16
  // f16 range (header): q̂·k̂, dctx·v, dS·q̂ over the workgroup's staged tiles; on overflow dk and dv are NaN
  fits = fits && atomicLoad(&wg_bad) == 0u;
  let qa = vec4f(bitcast<f32>(atomicLoad(&wg_kmax))); let gb = vec4f(bitcast<f32>(atomicLoad(&wg_bmax)));
  var sk = 1.0;
  if (!(fits && prod_ok(qa, kmax) && prod_ok(gb, vmax) && prod_ok(vec4f(xmax), qa))) { sk = f16_nan(); }
  let sv = sk;
//#else
  let sk = scale; let sv = 1.0;
//#endif
  if (live) {
//#unroll d D4
    let wk$d = dk$d * sk;
    dqkv[ko + $du * 4u] = wk$d.x; dqkv[ko + $du * 4u + 1u] = wk$d.y;
    dqkv[ko + $du * 4u + 2u] = wk$d.z; dqkv[ko + $du * 4u + 3u] = wk$d.w;
    let wv$d = dv$d * sv;
    dqkv[vo + $du * 4u] = wv$d.x; dqkv[vo + $du * 4u + 1u] = wv$d.y;
    dqkv[vo + $du * 4u + 2u] = wv$d.z; dqkv[vo + $du * 4u + 3u] = wv$d.w;
//#endunroll
  }
}
//#endif
//#endif
