// LayerNorm over the last dimension as torch computes it: (x − mean)/sqrt(biased_var + eps)·γ + β, f32 statistics.
struct Params {
  R: u32,     // rows
  C: u32,     // row width (hidden size)
  eps: f32,   // layer_norm_epsilon
  flags: u32, // backward: value 2 = accumulate into dgamma/dbeta, value 4 = accumulate into dx
  rows: u32,  // layernorm_param_grad (GPU family): rows per partial sum, 0 = all rows at once
}

//#if F16
enable f16;
// F16 (chosen by src/ops/layernorm.ts for f16 models where the device has shader-f16): the statistics (mean, variance,
// rstd; the backward's row sums) and the centring x − mean stay f32; the per-element affine x̂·γ + β and the
// backward's rstd·(dy·γ − mean(g) − x̂·mean(g·x̂)) are f16 arithmetic on f16-rounded operands (docs/drivers.md).
fn affine(xh: f32, g: f32, b: f32) -> f32 { return f32(f16(xh) * f16(g) + f16(b)); }
fn affine4(xh: vec4f, g: vec4f, b: vec4f) -> vec4f { return vec4f(vec4<f16>(xh) * vec4<f16>(g) + vec4<f16>(b)); }
// dy (which carries --fp16's loss scale) and the row means past f16's range (or NaN) give +inf, as matmul_f16.wgsl
// does: WGSL leaves such a conversion indeterminate, and dynamic loss scaling must see the overflow (skipped step)
fn h(v: f32) -> f16 { return f16(clamp(v, -65504.0, 65504.0)); }
// +inf (a function argument, not a constant expression: a constant inf would be a shader-creation error)
fn as_f32(bits: u32) -> f32 { return bitcast<f32>(bits); }
fn h4(v: vec4f) -> vec4<f16> { return vec4<f16>(clamp(v, vec4f(-65504.0), vec4f(65504.0))); }
fn dnorm(rstd: f32, dy: f32, g: f32, xh: f32, mg: f32, mgx: f32) -> f32 {
  let d = f32(h(rstd) * (h(dy) * h(g) - h(mg) - h(xh) * h(mgx)));
  return select(as_f32(0x7f800000u), d, abs(dy) <= 65504.0 && abs(mg) <= 65504.0 && abs(mgx) <= 65504.0);
}
fn dnorm4(rstd: f32, dy: vec4f, g: vec4f, xh: vec4f, mg: f32, mgx: f32) -> vec4f {
  let d = vec4f(h(rstd) * (h4(dy) * h4(g) - h(mg) - h4(xh) * h(mgx)));
  let ok = (abs(dy) <= vec4f(65504.0)) & vec4<bool>(abs(mg) <= 65504.0 && abs(mgx) <= 65504.0);
  return select(vec4f(as_f32(0x7f800000u)), d, ok);
}
//#else
fn affine(xh: f32, g: f32, b: f32) -> f32 { return xh * g + b; }
fn affine4(xh: vec4f, g: vec4f, b: vec4f) -> vec4f { return xh * g + b; }
fn dnorm(rstd: f32, dy: f32, g: f32, xh: f32, mg: f32, mgx: f32) -> f32 { return rstd * (dy * g - mg - xh * mgx); }
fn dnorm4(rstd: f32, dy: vec4f, g: vec4f, xh: vec4f, mg: f32, mgx: f32) -> vec4f {
  return rstd * (dy * g - mg - xh * mgx);
}
//#endif

//#if ROWWISE
// ROWWISE (chosen by src/ops/layernorm.ts on SwiftShader when C is a multiple of 4): one invocation per row (or per
// four columns for the parameter gradient), vec4 loads, no workgroup barriers: on a CPU Vulkan barriers switch
// fibers and every load is range-checked per lane, while SIMD math is nearly free.
@group(0) @binding(0) var<storage, read> x: array<vec4f>;
@group(0) @binding(1) var<storage, read> gamma: array<vec4f>;
@group(0) @binding(2) var<storage, read> beta: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> stats: array<vec2f>;  // [R]: mean, rstd (saved for backward)
@group(0) @binding(5) var<storage, read> dy: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> dx: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> dgamma: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> dbeta: array<vec4f>;
@group(0) @binding(9) var<uniform> params: Params;

// Row r = global id; two passes (mean, then centred variance) for torch-like accuracy.
@compute @workgroup_size(16)
fn layernorm_forward(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x + gid.y * 65535u * 16u;
  if (r >= params.R) { return; }
  let C4 = params.C / 4u;
  let base = r * C4;
  var s = vec4f(0.0);
  for (var i = 0u; i < C4; i++) { s += x[base + i]; }
  let mean = dot(s, vec4f(1.0)) / f32(params.C);
  var v = vec4f(0.0);
  for (var i = 0u; i < C4; i++) { let d = x[base + i] - mean; v += d * d; }
  let rstd = inverseSqrt(dot(v, vec4f(1.0)) / f32(params.C) + params.eps);
  for (var i = 0u; i < C4; i++) { y[base + i] = affine4((x[base + i] - mean) * rstd, gamma[i], beta[i]); }
  stats[r] = vec2f(mean, rstd);
}

// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ; one invocation per row. dx is accumulated when flags bit 2.
@compute @workgroup_size(16)
fn layernorm_backward(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x + gid.y * 65535u * 16u;
  if (r >= params.R) { return; }
  let C4 = params.C / 4u; let acc_dx = (params.flags & 4u) != 0u;
  let base = r * C4;
  let st = stats[r];
  var a = vec4f(0.0);
  var b = vec4f(0.0);
  for (var i = 0u; i < C4; i++) {
    let g = dy[base + i] * gamma[i];
    a += g;
    b += g * (x[base + i] - st.x) * st.y;
  }
  let mg = dot(a, vec4f(1.0)) / f32(params.C);
  let mgx = dot(b, vec4f(1.0)) / f32(params.C);
  for (var i = 0u; i < C4; i++) {
    let d = dnorm4(st.y, dy[base + i], gamma[i], (x[base + i] - st.x) * st.y, mg, mgx);
    if (acc_dx) { dx[base + i] += d; } else { dx[base + i] = d; }
  }
}

// dγ (+)= Σ_r dy·x̂, dβ (+)= Σ_r dy: one invocation per four columns, rows in order (deterministic).
@compute @workgroup_size(16)
fn layernorm_param_grad(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let C4 = params.C / 4u; let R = params.R;
  if (c >= C4) { return; }
  var sg = vec4f(0.0);
  var sb = vec4f(0.0);
  for (var r = 0u; r < R; r++) {
    let g = dy[r * C4 + c];
    let st = stats[r];
    sg += g * (x[r * C4 + c] - st.x) * st.y;
    sb += g;
  }
  if ((params.flags & 2u) != 0u) { dgamma[c] += sg; dbeta[c] += sb; } else { dgamma[c] = sg; dbeta[c] = sb; }
}
//#else
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;  // [R, 2]: mean, rstd (saved for backward)
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(9) var<uniform> params: Params;

const WG = 64u;  // invocations per workgroup (the reductions below sum 64 values)
//#if SUBGROUPS
enable subgroups;
//#include "reduce_subgroups.wgsl"
//#else
//#include "reduce.wgsl"
//#endif

// One workgroup per row; two passes (mean, then centred variance) for torch-like accuracy.
@compute @workgroup_size(64)
fn layernorm_forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg.x + wg.y * 65535u;
  if (r >= params.R) { return; }
  let C = params.C;  // read once: uniform loads are range-checked on SwiftShader
  let base = r * C;
  var s = 0.0;
  for (var i = li; i < C; i += WG) { s += x[base + i]; }
  let mean = reduce_sum(s, li) / f32(C);
  var v = 0.0;
  for (var i = li; i < C; i += WG) { let d = x[base + i] - mean; v += d * d; }
  let rstd = inverseSqrt(reduce_sum(v, li) / f32(C) + params.eps);
  for (var i = li; i < C; i += WG) { y[base + i] = affine((x[base + i] - mean) * rstd, gamma[i], beta[i]); }
  if (li == 0u) { stats[2u * r] = mean; stats[2u * r + 1u] = rstd; }
}

// dx = rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ; one workgroup per row. dx is accumulated when flags bit 1.
@compute @workgroup_size(64)
fn layernorm_backward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg.x + wg.y * 65535u;
  if (r >= params.R) { return; }
  let C = params.C; let acc_dx = (params.flags & 4u) != 0u;
  let base = r * C;
  let mean = stats[2u * r];
  let rstd = stats[2u * r + 1u];
  var acc = vec2f(0.0);
  for (var i = li; i < C; i += WG) {
    let g = dy[base + i] * gamma[i];
    acc += vec2f(g, g * (x[base + i] - mean) * rstd);
  }
  let sums = reduce_sum2(acc, li) / f32(C);
  for (var i = li; i < C; i += WG) {
    let d = dnorm(rstd, dy[base + i], gamma[i], (x[base + i] - mean) * rstd, sums.x, sums.y);
    if (acc_dx) { dx[base + i] += d; } else { dx[base + i] = d; }
  }
}

// dγ[c] (+)= Σ_r dy·x̂, dβ[c] (+)= Σ_r dy: one thread per column, rows in order (deterministic). With rows > 0,
// partial sums: workgroup row gid.y sums rows [gid.y·rows, +rows) into row gid.y of dgamma/dbeta (scratch
// [chunks, C]), which the host then sums in order (src/ops/layernorm.ts): many more threads for a GPU.
@compute @workgroup_size(64)
fn layernorm_param_grad(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let C = params.C; let R = params.R;
  if (c >= C) { return; }
  var sg = 0.0;
  var sb = 0.0;
  let r0 = gid.y * params.rows;
  let r1 = select(R, min(R, r0 + params.rows), params.rows > 0u);
  for (var r = r0; r < r1; r++) {
    let g = dy[r * C + c];
    sg += g * (x[r * C + c] - stats[2u * r]) * stats[2u * r + 1u];
    sb += g;
  }
  let o = gid.y * C + c;
  if ((params.flags & 2u) != 0u) { dgamma[o] += sg; dbeta[o] += sb; } else { dgamma[o] = sg; dbeta[o] = sb; }
}
//#endif
