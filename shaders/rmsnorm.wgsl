// RMSNorm over the last dimension as HF's LlamaRMSNorm / Qwen3RMSNorm compute it, in f32:
// y = x · rsqrt(mean(x²) + eps) · γ (no mean subtracted, no β). The forward saves rstd per row for the backward.
// Used for the blocks' norms (C = hidden size) and Qwen3's per-head q_norm / k_norm (rows = tokens × heads,
// C = head_dim, one γ shared by every head).
struct Params {
  R: u32,     // rows
  C: u32,     // row width
  eps: f32,   // rms_norm_eps
  flags: u32, // backward: value 2 = accumulate into dgamma, value 4 = accumulate into dx
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;  // [R], saved for the backward
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(7) var<uniform> params: Params;

//#if F16
enable f16;
// F16 (chosen by src/ops/rmsnorm.ts for f16 models where the device has shader-f16): Σx², rstd and the backward's
// row sum stay f32; x̂ = x·rstd (f32) is rounded to f16 and multiplied by f16(γ) in f16, as HF's f16 LlamaRMSNorm does
// (`weight * hidden_states.to(float16)`); the backward's rstd·(dy·γ − x̂·mean(g·x̂)) is f16 arithmetic too.
fn scale(xh: f32, g: f32) -> f32 { return f32(f16(xh) * f16(g)); }
// dy (which carries --fp16's loss scale) or the row mean past f16's range (or NaN) gives +inf, as matmul_f16.wgsl
// does: WGSL leaves such a conversion indeterminate, and dynamic loss scaling must see the overflow (skipped step)
fn h(v: f32) -> f16 { return f16(clamp(v, -65504.0, 65504.0)); }
// +inf (a function argument, not a constant expression: a constant inf would be a shader-creation error)
fn as_f32(bits: u32) -> f32 { return bitcast<f32>(bits); }
fn dnorm(rs: f32, dy: f32, g: f32, xh: f32, m: f32) -> f32 {
  let d = f32(h(rs) * (h(dy) * h(g) - h(xh) * h(m)));
  return select(as_f32(0x7f800000u), d, abs(dy) <= 65504.0 && abs(m) <= 65504.0);
}
//#else
fn scale(xh: f32, g: f32) -> f32 { return xh * g; }
fn dnorm(rs: f32, dy: f32, g: f32, xh: f32, m: f32) -> f32 { return rs * (dy * g - xh * m); }
//#endif

const WG = 64u;  // invocations per workgroup (the reductions below sum 64 values)
//#if SUBGROUPS
enable subgroups;
//#include "reduce_subgroups.wgsl"
//#else
//#include "reduce.wgsl"
//#endif

// One workgroup per row.
@compute @workgroup_size(64)
fn rmsnorm_forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg.x + wg.y * 65535u;
  if (r >= params.R) { return; }
  let C = params.C;
  let base = r * C;
  var s = 0.0;
  for (var i = li; i < C; i += WG) { let v = x[base + i]; s += v * v; }
  let rs = inverseSqrt(reduce_sum(s, li) / f32(C) + params.eps);
  for (var i = li; i < C; i += WG) { y[base + i] = scale(x[base + i] * rs, gamma[i]); }
  if (li == 0u) { rstd[r] = rs; }
}

// dx = rstd·(g − x̂·mean(g·x̂)), g = dy·γ, x̂ = x·rstd; one workgroup per row. dx is accumulated when flags bit 4.
@compute @workgroup_size(64)
fn rmsnorm_backward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg.x + wg.y * 65535u;
  if (r >= params.R) { return; }
  let C = params.C; let acc_dx = (params.flags & 4u) != 0u;
  let base = r * C;
  let rs = rstd[r];
  var acc = 0.0;
  for (var i = li; i < C; i += WG) { acc += dy[base + i] * gamma[i] * x[base + i] * rs; }
  let m = reduce_sum(acc, li) / f32(C);
  for (var i = li; i < C; i += WG) {
    let d = dnorm(rs, dy[base + i], gamma[i], x[base + i] * rs, m);
    if (acc_dx) { dx[base + i] += d; } else { dx[base + i] = d; }
  }
}

// dγ[c] (+)= Σ_r dy·x̂: one thread per column, rows in order (deterministic).
@compute @workgroup_size(64)
fn rmsnorm_param_grad(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let C = params.C; let R = params.R;
  if (c >= C) { return; }
  var sg = 0.0;
  for (var r = 0u; r < R; r++) { sg += dy[r * C + c] * x[r * C + c] * rstd[r]; }
  if ((params.flags & 2u) != 0u) { dgamma[c] += sg; } else { dgamma[c] = sg; }
}
