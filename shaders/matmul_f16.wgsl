// f16 arithmetic (device feature shader-f16): C[m,n] = alpha · Σ_k A(m,k)·B(n,k) (+ bias[n]) (then GELU), the X·Wᵀ
// of a Linear's forward when the weights B are stored f16 (--dtype f16, --fp16). A (f32 activations) is rounded to
// f16 as it is loaded and every product A·B is an f16 multiply; the products are summed in f32 (the default), or in
// f16 with ACC16 (the variant `bench` measures: cheaper where f16 math is, less accurate: docs/f16.md). Each
// invocation computes 4 rows × 4 columns, 8×8 invocations a 32×32 tile of C; K, N, strides and offsets are multiples
// of 4 (src/ops/matmul.ts checks). Same Params as matmul.wgsl (only X·Wᵀ strides are read).
enable f16;

struct Params {
  M: u32,      // rows of C
  N: u32,      // columns of C
  K: u32,      // reduction length
  a_sm: u32,   // A element stride along m (k is contiguous)
  a_sk: u32,   // (unused: 1)
  b_sk: u32,   // (unused: 1)
  b_sn: u32,   // B element stride along n (k is contiguous)
  c_sm: u32,   // C row stride (columns are contiguous)
  a_off: u32,  // element offset of A(0,0)
  b_off: u32,  // element offset of B(0,0)
  c_off: u32,  // element offset of C(0,0)
  flags: u32,  // bit 0: add bias[n]; bit 2: GELU epilogue
  alpha: f32,  // scale of the product
}

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(4) var<uniform> params: Params;

//#include "gelu.wgsl"
//#include "gelu_f16.wgsl"

//#if ACC16
alias acc_t = vec4<f16>;
//#else
alias acc_t = vec4f;
//#endif
// the four lanes of an accumulator summed in its own precision
fn hsum(v: acc_t) -> f32 { return f32(dot(v, acc_t(1.0))); }

@compute @workgroup_size(8, 8)
fn matmul_f16(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  let M = params.M;
  if (m0 >= M || n0 >= params.N) { return; }
  let K4 = params.K / 4u;
  let M1 = M - 1u;
  // rows past M are clamped to the last one (computed, never stored); N is a multiple of 4
//#unroll i 4
  let ar$i = (params.a_off + min(m0 + $iu, M1) * params.a_sm) >> 2u;
  let br$i = (params.b_off + (n0 + $iu) * params.b_sn) >> 2u;
//#endunroll
//#unroll i 4
//#unroll j 4
  var acc$i$j = acc_t(0.0);
//#endunroll
//#endunroll
  for (var k = 0u; k < K4; k++) {
//#unroll i 4
    let a$i = vec4<f16>(a[ar$i + k]);
    let b$i = b[br$i + k];
//#endunroll
//#unroll i 4
//#unroll j 4
    acc$i$j += acc_t(a$i * b$j);
//#endunroll
//#endunroll
  }
  var bias4 = vec4f(0.0);
  if ((params.flags & 1u) != 0u) { bias4 = bias[n0 >> 2u]; }
// GELU16: the GELU epilogue in f16 arithmetic (shaders/lib/gelu_f16.wgsl)
//#unroll i 4
  if (m0 + $iu < M) {
    var v = vec4f(hsum(acc$i0), hsum(acc$i1), hsum(acc$i2), hsum(acc$i3)) * params.alpha + bias4;
//#if GELU16
    if ((params.flags & 4u) != 0u) { v = gelu4_h(v); }
//#else
    if ((params.flags & 4u) != 0u) { v = gelu4(v); }
//#endif
    c[(params.c_off + (m0 + $iu) * params.c_sm + n0) >> 2u] = v;
  }
//#endunroll
}
