// Tiled matmul for every Linear of BLOOM, forward and backward, through strides:
//   C[m,n] (= or +=) alpha · Σ_k A(m,k)·B(k,n) (+ bias[n]) (then GELU)
// X·Wᵀ (forward, W stored [out,in] as HF), dY·W (input grad) and dYᵀ·X (weight grad) are the same kernel.
// B may be packed f16 (define B_F16): two halves per u32, math in f32.
struct Params {
  M: u32,      // rows of C
  N: u32,      // columns of C
  K: u32,      // reduction length
  a_sm: u32,   // A element stride along m
  a_sk: u32,   // A element stride along k
  b_sk: u32,   // B element stride along k
  b_sn: u32,   // B element stride along n
  c_sm: u32,   // C row stride (columns are contiguous)
  a_off: u32,  // element offset of A(0,0)
  b_off: u32,  // element offset of B(0,0)
  c_off: u32,  // element offset of C(0,0)
  flags: u32,  // bit 0: add bias[n]; bit 1: accumulate into C; bit 2: GELU epilogue
  alpha: f32,  // scale of the product
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
//#if B_F16
@group(0) @binding(1) var<storage, read> b: array<u32>;
fn loadB(i: u32) -> f32 { return unpack2x16float(b[i >> 1u])[i & 1u]; }
//#else
@group(0) @binding(1) var<storage, read> b: array<f32>;
fn loadB(i: u32) -> f32 { return b[i]; }
//#endif
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const TM = 32u;  // rows of C per workgroup
const TN = 32u;  // columns of C per workgroup
const TK = 16u;  // reduction slice held in workgroup memory
var<workgroup> As: array<f32, 512>;  // [TK][TM]
var<workgroup> Bs: array<f32, 512>;  // [TK][TN]

fn gelu(x: f32) -> f32 {
  return 0.5 * x * (1.0 + tanh(clamp(0.79788456 * x * (1.0 + 0.044715 * x * x), -15.0, 15.0)));
}

// 8×8 threads, each owning a 4×4 block of C.
@compute @workgroup_size(8, 8)
fn matmul(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
          @builtin(local_invocation_index) li: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  // accumulators as four vec4 rows (no indexed private array: SwiftShader's fiber stacks are small)
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    for (var r = 0u; r < 8u; r++) {
      let e = li + r * 64u;
      let kk = e / TM;
      let mm = e % TM;
      let m = m0 + mm;
      let k = k0 + kk;
      var va = 0.0;
      if (m < params.M && k < params.K) { va = a[params.a_off + m * params.a_sm + k * params.a_sk]; }
      As[kk * TM + mm] = va;
      let nn = e % TN;
      let n = n0 + nn;
      var vb = 0.0;
      if (n < params.N && k < params.K) { vb = loadB(params.b_off + k * params.b_sk + n * params.b_sn); }
      Bs[kk * TN + nn] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let ab = kk * TM + lid.y * 4u;
      let bb = kk * TN + lid.x * 4u;
      let bv = vec4f(Bs[bb], Bs[bb + 1u], Bs[bb + 2u], Bs[bb + 3u]);
      acc0 += As[ab] * bv;
      acc1 += As[ab + 1u] * bv;
      acc2 += As[ab + 2u] * bv;
      acc3 += As[ab + 3u] * bv;
    }
    workgroupBarrier();
  }
  store_row(m0 + lid.y * 4u, n0 + lid.x * 4u, acc0);
  store_row(m0 + lid.y * 4u + 1u, n0 + lid.x * 4u, acc1);
  store_row(m0 + lid.y * 4u + 2u, n0 + lid.x * 4u, acc2);
  store_row(m0 + lid.y * 4u + 3u, n0 + lid.x * 4u, acc3);
}

fn store_row(m: u32, n0: u32, v4: vec4f) {
  if (m >= params.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= params.N) { return; }
    var v = params.alpha * v4[j];
    if ((params.flags & 1u) != 0u) { v += bias[n]; }
    if ((params.flags & 4u) != 0u) { v = gelu(v); }
    let idx = params.c_off + m * params.c_sm + n;
    if ((params.flags & 2u) != 0u) { c[idx] += v; } else { c[idx] = v; }
  }
}

// db[n] (+)= Σ_m dY[m,n]: the bias gradient, one thread per column (deterministic order).
@compute @workgroup_size(64)
fn bias_grad(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= params.N) { return; }
  var s = 0.0;
  for (var m = 0u; m < params.M; m++) { s += a[params.a_off + m * params.a_sm + n]; }
  if ((params.flags & 2u) != 0u) { c[params.c_off + n] += params.alpha * s; } else { c[params.c_off + n] = params.alpha * s; }
}
