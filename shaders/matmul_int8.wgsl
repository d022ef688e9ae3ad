// LLM.int8() (docs/int8.md: bitsandbytes Linear8bitLt), a Linear's forward, Y[M,N] = X[M,K]·Wᵀ + bias, in three passes:
//   int8_outliers  outlier columns of X (any |x| ≥ threshold), as flags and as an ascending list
//   int8_quant     per-row absmax SCA over non-outlier elements; CA = round(x·127/SCA) as int8, outlier columns zeroed
//   int8_matmul    int32 acc = CA·CBᵀ; Y = acc·SCA·SCB/127² + bias, plus X[:,cols]·(CB[:,cols]·SCB/127)ᵀ in f32
// int8 values are packed four per u32 along K, element 4w+j in byte j of word w (as pack4xI8 / dot4I8Packed).
// Define DOT4 to use WGSL's dot4I8Packed (language feature packed_4x8_integer_dot_product); without it the bytes
// are sign-extended by hand, which gives the same integers. Define RAW_ACC to also write the int32 accumulators.
struct Params {
  M: u32,          // rows of X and Y
  N: u32,          // output features (rows of CB)
  K: u32,          // input features
  KW: u32,         // words per packed row, ceil(K/4)
  x_off: u32,      // element offset of X(0,0); X rows are K apart
  y_off: u32,      // element offset of Y(0,0); Y rows are N apart
  flags: u32,      // bit 0: add bias[n]
  threshold: f32,  // outlier threshold on |x| (0: no outliers, pure int8)
}

@group(0) @binding(0) var<storage, read> x: array<f32>;      // [M, K] activations (from x_off)
@group(0) @binding(1) var<storage, read> cb: array<u32>;     // [N, KW] packed int8 weights
@group(0) @binding(2) var<storage, read> scb: array<f32>;    // [N] weight row absmax
@group(0) @binding(3) var<storage, read> bias: array<f32>;   // [N]
// The quantized activations, written by passes 1–2 and read by pass 3 (one buffer keeps every pipeline under the
// default 8 storage bindings): [0] outlier count; [1, 1+K) outlier columns ascending; [1+K, 1+2K) column flags;
// [1+2K, 1+2K+M) SCA (f32 bits); then CA [M, KW] packed int8.
@group(0) @binding(4) var<storage, read_write> act: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
//#if RAW_ACC
@group(0) @binding(6) var<storage, read_write> acc_out: array<i32>;  // [M, N] int32 accumulators (tests)
//#endif
@group(0) @binding(7) var<uniform> params: Params;

fn flag_at(k: u32) -> u32 { return 1u + params.K + k; }
fn sca_at(m: u32) -> u32 { return 1u + 2u * params.K + m; }
fn ca_at(m: u32, w: u32) -> u32 { return 1u + 2u * params.K + params.M + m * params.KW + w; }

const DEQUANT = 6.200124e-5;          // 1/127², bitsandbytes' MM_DEQUANT_CONST
const INV127 = 7.874015718698502e-3;  // 1/127, bitsandbytes' int8_vectorwise_dequant

fn is_outlier(v: f32) -> bool { return params.threshold > 0.0 && abs(v) >= params.threshold; }

// ---- pass 1: outlier columns (one workgroup; 256 columns at a time, compacted in ascending order) -----------
var<workgroup> colFlag: array<u32, 256>;
var<workgroup> runCount: u32;

@compute @workgroup_size(256)
fn int8_outliers(@builtin(local_invocation_index) li: u32) {
  if (li == 0u) { runCount = 0u; }
  for (var base = 0u; base < params.K; base += 256u) {
    let k = base + li;
    var f = 0u;
    if (k < params.K && params.threshold > 0.0) {
      for (var m = 0u; m < params.M; m++) {
        if (is_outlier(x[params.x_off + m * params.K + k])) { f = 1u; break; }
      }
    }
    if (k < params.K) { act[flag_at(k)] = f; }
    colFlag[li] = f;
    workgroupBarrier();
    if (li == 0u) {
      var n = runCount;
      for (var j = 0u; j < 256u; j++) {
        if (colFlag[j] != 0u) { act[1u + n] = base + j; n++; }
      }
      runCount = n;
    }
    workgroupBarrier();
  }
  if (li == 0u) { act[0] = runCount; }
}

// ---- pass 2: per-row quantization (one workgroup per row) ---------------------------------------------------
var<workgroup> red: array<f32, 64>;

fn quant_one(v: f32, k: u32, s: f32) -> u32 {
  if (k >= params.K || act[flag_at(k)] != 0u || is_outlier(v) || s == 0.0) { return 0u; }
  let q = i32(clamp(round(v * s), -127.0, 127.0));  // WGSL round() is round-half-even
  return u32(q) & 0xffu;
}

@compute @workgroup_size(64)
fn int8_quant(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg.x + wg.y * 65535u;
  if (r >= params.M) { return; }  // uniform per workgroup
  let row = params.x_off + r * params.K;
  var mx = 0.0;
  for (var k = li; k < params.K; k += 64u) {
    let v = x[row + k];
    if (!is_outlier(v)) { mx = max(mx, abs(v)); }
  }
  red[li] = mx;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] = max(red[li], red[li + s]); }
    workgroupBarrier();
  }
  let amax = red[0];
  if (li == 0u) { act[sca_at(r)] = bitcast<u32>(amax); }
  var scale = 0.0;
  if (amax > 0.0) { scale = 127.0 / amax; }
  for (var w = li; w < params.KW; w += 64u) {
    let k = w * 4u;
    var word = 0u;
    for (var j = 0u; j < 4u; j++) {
      var v = 0.0;
      if (k + j < params.K) { v = x[row + k + j]; }
      word |= quant_one(v, k + j, scale) << (8u * j);
    }
    act[ca_at(r, w)] = word;
  }
}

// ---- pass 3: int8 matmul with dequantization and the outlier part ------------------------------------------
fn dot4(a: u32, b: u32) -> i32 {
//#if DOT4
  return dot4I8Packed(a, b);
//#else
  let ai = bitcast<i32>(a);
  let bi = bitcast<i32>(b);
  let av = vec4i(extractBits(ai, 0u, 8u), extractBits(ai, 8u, 8u), extractBits(ai, 16u, 8u), extractBits(ai, 24u, 8u));
  let bv = vec4i(extractBits(bi, 0u, 8u), extractBits(bi, 8u, 8u), extractBits(bi, 16u, 8u), extractBits(bi, 24u, 8u));
  return dot(av, bv);
//#endif
}

fn cb_at(n: u32, k: u32) -> f32 {
  return f32(extractBits(bitcast<i32>(cb[n * params.KW + (k >> 2u)]), 8u * (k & 3u), 8u));
}

const TM = 32u;  // rows of Y per workgroup
const TN = 32u;  // columns of Y per workgroup
const TKW = 16u; // packed words (64 int8 values) of the reduction per slice
var<workgroup> As: array<u32, 512>;  // [TKW][TM]
var<workgroup> Bs: array<u32, 512>;  // [TKW][TN]

// 8×8 threads, each owning a 4×4 block of Y.
@compute @workgroup_size(8, 8)
fn int8_matmul(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
               @builtin(local_invocation_index) li: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  var acc0 = vec4i(0);
  var acc1 = vec4i(0);
  var acc2 = vec4i(0);
  var acc3 = vec4i(0);
  for (var w0 = 0u; w0 < params.KW; w0 += TKW) {
    for (var r = 0u; r < 8u; r++) {
      let e = li + r * 64u;
      let ww = e / TM;
      let mm = e % TM;
      let w = w0 + ww;
      var va = 0u;
      if (m0 + mm < params.M && w < params.KW) { va = act[ca_at(m0 + mm, w)]; }
      As[ww * TM + mm] = va;
      var vb = 0u;
      if (n0 + mm < params.N && w < params.KW) { vb = cb[(n0 + mm) * params.KW + w]; }
      Bs[ww * TN + mm] = vb;
    }
    workgroupBarrier();
    for (var ww = 0u; ww < TKW; ww++) {
      let ab = ww * TM + lid.y * 4u;
      let bb = ww * TN + lid.x * 4u;
      let b0 = Bs[bb];
      let b1 = Bs[bb + 1u];
      let b2 = Bs[bb + 2u];
      let b3 = Bs[bb + 3u];
      var a = As[ab];
      acc0 += vec4i(dot4(a, b0), dot4(a, b1), dot4(a, b2), dot4(a, b3));
      a = As[ab + 1u];
      acc1 += vec4i(dot4(a, b0), dot4(a, b1), dot4(a, b2), dot4(a, b3));
      a = As[ab + 2u];
      acc2 += vec4i(dot4(a, b0), dot4(a, b1), dot4(a, b2), dot4(a, b3));
      a = As[ab + 3u];
      acc3 += vec4i(dot4(a, b0), dot4(a, b1), dot4(a, b2), dot4(a, b3));
    }
    workgroupBarrier();
  }
  store_row(m0 + lid.y * 4u, n0 + lid.x * 4u, acc0);
  store_row(m0 + lid.y * 4u + 1u, n0 + lid.x * 4u, acc1);
  store_row(m0 + lid.y * 4u + 2u, n0 + lid.x * 4u, acc2);
  store_row(m0 + lid.y * 4u + 3u, n0 + lid.x * 4u, acc3);
}

fn store_row(m: u32, n0: u32, a4: vec4i) {
  if (m >= params.M) { return; }
  let nOut = act[0];
  let sa = bitcast<f32>(act[sca_at(m)]);
  let xrow = params.x_off + m * params.K;
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= params.N) { return; }
//#if RAW_ACC
    acc_out[m * params.N + n] = a4[j];
//#endif
    var v = f32(a4[j]) * (sa * scb[n]) * DEQUANT;
    if ((params.flags & 1u) != 0u) { v += bias[n]; }
    // outlier columns in f32 against the dequantized int8 weights (not the original ones), as bitsandbytes
    var o = 0.0;
    for (var i = 0u; i < nOut; i++) {
      let k = act[1u + i];
      o += x[xrow + k] * (cb_at(n, k) * scb[n] * INV127);
    }
    y[params.y_off + m * params.N + n] = v + o;
  }
}
