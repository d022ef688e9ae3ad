// Causal self-attention with ALiBi over BLOOM's fused QKV (interleaved per head: feature n·3D + c·D + d,
// c = 0 q, 1 k, 2 v). Queries are rows [q0, q0+Tq) of a context of Tk keys, so the same kernels serve the
// full forward, training, and KV-cached generation (the per-layer qkv buffer is the cache).
// scores = alibi + q·k/sqrt(D); masked (future or padding) keys get probability 0; softmax in f32.
// The probabilities [B, NH, Tq, Tk] are materialized (fine for T ≤ 1024; a flash-style kernel is future work).
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

@group(0) @binding(0) var<storage, read> qkv: array<f32>;         // [B, Tmax, 3·NH·D]
@group(0) @binding(1) var<storage, read> keyinfo: array<vec2f>;   // [B, Tk]: (1 real / 0 padding, ALiBi position)
@group(0) @binding(2) var<storage, read> slopes: array<f32>;      // [NH]
@group(0) @binding(3) var<storage, read_write> probs: array<f32>; // [B, NH, Tq, Tk]
@group(0) @binding(4) var<storage, read_write> ctx: array<f32>;   // [B, Tq, NH·D]
@group(0) @binding(5) var<storage, read> dctx: array<f32>;        // [B, Tq, NH·D]
@group(0) @binding(6) var<storage, read_write> dqkv: array<f32>;  // [B, Tmax, 3·NH·D]
@group(0) @binding(7) var<storage, read_write> ds: array<f32>;    // [B, NH, Tq, Tk] score gradients
@group(0) @binding(8) var<uniform> params: Params;

const WG = 64u;
var<workgroup> red: array<f32, 64>;

fn qkv_at(b: u32, t: u32, n: u32, c: u32, d: u32) -> u32 {
  return (b * params.Tmax + t) * 3u * params.NH * params.D + n * 3u * params.D + c * params.D + d;
}
fn prow(b: u32, n: u32, i: u32) -> u32 { return ((b * params.NH + n) * params.Tq + i) * params.Tk; }

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
