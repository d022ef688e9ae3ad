// gelu.wgsl's GELU (BLOOM's tanh form and its training gradient) in f16 arithmetic, for the F16/GELU16 variants; the
// including shader writes `enable f16;` and includes gelu.wgsl first. The f32 input is rounded to f16 and the result
// returned as f32. An input past f16's range (|x| > 65504, ±inf, NaN: WGSL leaves its conversion indeterminate) takes
// gelu.wgsl's f32 form instead, so an overflow upstream stays visible as it does on the f32 path (inf, NaN).
// Error bounds: docs/drivers.md.

fn gelu_h_tanh(x: f16) -> f16 {
  return tanh(clamp(0.79788456 * x * (1.0 + 0.044715 * x * x), -15.0, 15.0));
}

fn gelu_h(v: f32) -> f32 {
  let x = f16(clamp(v, -65504.0, 65504.0));
  return select(gelu(v), f32(0.5 * x * (1.0 + gelu_h_tanh(x))), abs(v) <= 65504.0);
}

fn gelu4_h(v: vec4f) -> vec4f {
  let x = vec4<f16>(clamp(v, vec4f(-65504.0), vec4f(65504.0)));
  let t = tanh(clamp(0.79788456 * x * (1.0 + 0.044715 * x * x), vec4<f16>(-15.0), vec4<f16>(15.0)));
  return select(gelu4(v), vec4f(0.5 * x * (1.0 + t)), abs(v) <= vec4f(65504.0));
}

// gelu'(x); x is clamped to ±16 first, where gelu' is already 1 (or 0) in f16, so that x² cannot overflow into
// 0·inf = NaN
fn gelu_grad_h(v: f32) -> f32 {
  let x = f16(clamp(v, -16.0, 16.0));
  let t = gelu_h_tanh(x);
  let g = f32(0.5 * x * ((1.0 - t * t) * (0.79788456 + 0.1070322243 * x * x)) + 0.5 * (1.0 + t));
  return select(gelu_grad(v), g, abs(v) <= 65504.0);
}
