// BLOOM's GELU, the tanh approximation with BLOOM's literal constants (docs/bloom.md), written once for every kernel
// that applies it: `//#include "gelu.wgsl"` (src/gpu/wgsl.ts). Valid WGSL on its own.

// tanh's argument is clamped to ±15, where tanh is already ±1 in f32, so that a backend computing tanh through exp
// cannot overflow into inf/inf = NaN
fn gelu_tanh(x: f32) -> f32 {
  return tanh(clamp(0.79788456 * x * (1.0 + 0.044715 * x * x), -15.0, 15.0));
}

// forward: 0.5·x·(1 + tanh(0.79788456·x·(1 + 0.044715·x²)))
fn gelu(x: f32) -> f32 {
  return 0.5 * x * (1.0 + gelu_tanh(x));
}

fn gelu4(x: vec4f) -> vec4f {
  return vec4f(gelu(x.x), gelu(x.y), gelu(x.z), gelu(x.w));
}

// BLOOM's training backward: gelu'(x) = 0.5·x·(1 − t²)·(0.79788456 + 0.1070322243·x²) + 0.5·(1 + t)
fn gelu_grad(x: f32) -> f32 {
  let t = gelu_tanh(x);
  return 0.5 * x * ((1.0 - t * t) * (0.79788456 + 0.1070322243 * x * x)) + 0.5 * (1.0 + t);
}
