// SwiGLU, the gated MLP activation of Llama and Qwen3 (down_proj(silu(gate_proj(x)) · up_proj(x))):
// h = silu(g)·u with silu(g) = g·σ(g), σ(g) = 1/(1 + e^−g), in f32.
// Backward: dg = dh·u·σ(g)·(1 + g·(1 − σ(g))), du = dh·silu(g).
struct Params {
  n: u32,      // elements
  flags: u32,  // unused
}

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read_write> h: array<f32>;
@group(0) @binding(3) var<storage, read> dh: array<f32>;
@group(0) @binding(4) var<storage, read_write> dg: array<f32>;
@group(0) @binding(5) var<storage, read_write> du: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

fn idx(gid: vec3u) -> u32 { return gid.x + gid.y * 65535u * 256u; }

// σ without overflow: e^−|g| ≤ 1 on both sides
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

@compute @workgroup_size(256)
fn swiglu_forward(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (i >= params.n) { return; }
  let x = g[i];
  h[i] = x * sigmoid(x) * u[i];
}

@compute @workgroup_size(256)
fn swiglu_backward(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (i >= params.n) { return; }
  let x = g[i];
  let s = sigmoid(x);
  let d = dh[i];
  dg[i] = d * u[i] * s * (1.0 + x * (1.0 - s));
  du[i] = d * x * s;
}
