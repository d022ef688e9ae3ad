// f16's finite range in the f16-arithmetic kernels (matmul_f16.wgsl, attention.wgsl F16); the including shader
// writes `enable f16;`. A value past ±65504 (or NaN) cannot be rounded to f16 (WGSL leaves that conversion's result
// indeterminate): toF16 rounds the clamped value and notes the overflow in `fits`, which the kernel then turns into
// a visible non-finite output (matmul_f16: +inf; attention: NaN).
const F16_MAX = 65504.0;
var<private> fits = true; // every value this invocation converted was within f16's finite range
fn toF16(v: vec4f) -> vec4<f16> {
  fits = fits & all(abs(v) <= vec4f(F16_MAX));
  return vec4<f16>(clamp(v, vec4f(-F16_MAX), vec4f(F16_MAX)));
}
