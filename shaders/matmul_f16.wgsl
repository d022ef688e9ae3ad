// f16 arithmetic (device feature shader-f16): C[m,n] (= or +=) alpha · Σ_k A(m,k)·B(k,n) (+ bias[n]) (then GELU), for
// every product of a Linear whose weights are f16: the forward X·Wᵀ (--dtype f16, --fp16) and, in --fp16 training,
// the input gradient dY·W (f16 B contiguous along n: B_N4) and the weight gradient dYᵀ·X (A contiguous along m: A_M4;
// f32 B rounded to f16 as it is loaded: B_F32). f32 operands are rounded to f16 as they are loaded and every product
// is an f16 multiply; the products are summed in f32 (the default), or in f16 with ACC16 (the variant `bench`
// measures: cheaper where f16 math is, less accurate: docs/f16.md). Each invocation computes 4 rows × 4 columns, 8×8
// invocations a 32×32 tile of C; K, N, strides and offsets are multiples of 4 (src/ops/matmul.ts checks). Same
// Params as matmul.wgsl.
//
// Overflow: an f32 operand outside f16's finite range (|x| > 65504, or NaN) cannot be rounded to f16 (WGSL leaves
// that conversion's result indeterminate), so the load converts the clamped value and notes the overflow, and every
// element of C the invocation writes is then +inf (NaN where the sum has both signs): a scaled gradient too large for
// f16 makes the gradient norm non-finite, and dynamic loss scaling skips the step and halves the scale (src/train/).
enable f16;

struct Params {
  M: u32,      // rows of C
  N: u32,      // columns of C
  K: u32,      // reduction length
  a_sm: u32,   // A element stride along m (k contiguous; unused with A_M4)
  a_sk: u32,   // A element stride along k (A_M4: m contiguous)
  b_sk: u32,   // B element stride along k (B_N4: n contiguous)
  b_sn: u32,   // B element stride along n (k contiguous; unused with B_N4)
  c_sm: u32,   // C row stride (columns are contiguous)
  a_off: u32,  // element offset of A(0,0)
  b_off: u32,  // element offset of B(0,0)
  c_off: u32,  // element offset of C(0,0)
  flags: u32,  // bit 0: add bias[n]; bit 1: accumulate into C; bit 2: GELU epilogue
  alpha: f32,  // scale of the product
}

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
//#if B_F32
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
fn loadB(i: u32) -> vec4<f16> { return toF16(b[i]); }
//#else
@group(0) @binding(1) var<storage, read> b: array<vec4<f16>>;
fn loadB(i: u32) -> vec4<f16> { return b[i]; }
//#endif
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(4) var<uniform> params: Params;

//#include "gelu.wgsl"
//#include "gelu_f16.wgsl"

// toF16 and `fits`: whether every f32 operand this invocation loaded was within f16's finite range
//#include "f16_range.wgsl"

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
  // vec4 indices of the first k of rows m0.. of A and columns n0.. of B, and the vec4 step between k-rows of the
  // m- / n-contiguous layouts. Rows past M are clamped to the last one (A_M4: they read their neighbours; computed,
  // never stored); N is a multiple of 4
//#if A_M4
  let ai = (params.a_off + m0) >> 2u;
  let sa = params.a_sk >> 2u;
//#else
//#unroll i 4
  let ar$i = (params.a_off + min(m0 + $iu, M1) * params.a_sm) >> 2u;
//#endunroll
//#endif
//#if B_N4
  let bi = (params.b_off + n0) >> 2u;
  let sb = params.b_sk >> 2u;
//#else
//#unroll i 4
  let br$i = (params.b_off + (n0 + $iu) * params.b_sn) >> 2u;
//#endunroll
//#endif
//#unroll i 4
//#unroll j 4
  var acc$i$j = acc_t(0.0);
//#endunroll
//#endunroll
  for (var k = 0u; k < K4; k++) {
    // a$i: row m0+i of A at k*4..k*4+3; b$j: column n0+j of B at the same k
//#if A_M4
    let ta = transpose(mat4x4<f16>(toF16(a[ai + 4u * k * sa]), toF16(a[ai + (4u * k + 1u) * sa]),
                                   toF16(a[ai + (4u * k + 2u) * sa]), toF16(a[ai + (4u * k + 3u) * sa])));
//#unroll i 4
    let a$i = ta[$i];
//#endunroll
//#else
//#unroll i 4
    let a$i = toF16(a[ar$i + k]);
//#endunroll
//#endif
//#if B_N4
    let tb = transpose(mat4x4<f16>(loadB(bi + 4u * k * sb), loadB(bi + (4u * k + 1u) * sb),
                                   loadB(bi + (4u * k + 2u) * sb), loadB(bi + (4u * k + 3u) * sb)));
//#unroll j 4
    let b$j = tb[$j];
//#endunroll
//#else
//#unroll j 4
    let b$j = loadB(br$j + k);
//#endunroll
//#endif
//#unroll i 4
//#unroll j 4
    acc$i$j += acc_t(a$i * b$j);
//#endunroll
//#endunroll
  }
  var bias4 = vec4f(0.0);
  if ((params.flags & 1u) != 0u) { bias4 = bias[n0 >> 2u]; }
  // +inf from its bits (bit 16 of flags is never set: it keeps this from being a constant, which may not be infinite)
  let inf = vec4f(bitcast<f32>(0x7f800000u | (params.flags & 0x10000u)));
// GELU16: the GELU epilogue in f16 arithmetic (shaders/lib/gelu_f16.wgsl)
//#unroll i 4
  if (m0 + $iu < M) {
    var v = vec4f(hsum(acc$i0), hsum(acc$i1), hsum(acc$i2), hsum(acc$i3)) * params.alpha + bias4;
//#if GELU16
    if ((params.flags & 4u) != 0u) { v = gelu4_h(v); }
//#else
    if ((params.flags & 4u) != 0u) { v = gelu4(v); }
//#endif
    if (!fits) { v = inf; }
    let idx = (params.c_off + (m0 + $iu) * params.c_sm + n0) >> 2u;
    if ((params.flags & 2u) != 0u) { c[idx] += v; } else { c[idx] = v; }
  }
//#endunroll
}
