// Elementwise ops: residual add, GELU (BLOOM's tanh form) forward/backward, scale, fill, f32 → packed f16 cast.
struct Params {
  n: u32,       // elements (cast_f16: f32 source elements)
  alpha: f32,   // scale (scale_inplace, fill value)
  flags: u32,   // gelu_backward: value 2 = accumulate into out
}

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
// cast_f16 output: f16 pairs, element i in word i>>1 (low half for even i), the runtime's 'f16p' layout
@group(0) @binding(4) var<storage, read_write> packed: array<u32>;

fn idx(gid: vec3u) -> u32 { return gid.x + gid.y * 65535u * 256u; }

//#include "gelu.wgsl"
//#if F16
enable f16;
// F16 (geluForward/geluBackward for f16 models where the device has shader-f16): GELU and gelu'(x) in f16 arithmetic
// (shaders/lib/gelu_f16.wgsl); the backward's product gelu'(x)·dy stays f32 (dy carries the loss scale of --fp16)
//#include "gelu_f16.wgsl"
fn act(v: f32) -> f32 { return gelu_h(v); }
fn act_grad(v: f32) -> f32 { return gelu_grad_h(v); }
//#else
fn act(v: f32) -> f32 { return gelu(v); }
fn act_grad(v: f32) -> f32 { return gelu_grad(v); }
//#endif

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (i < params.n) { out[i] = a[i] + b[i]; }
}

@compute @workgroup_size(256)
fn add_inplace(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (i < params.n) { out[i] += a[i]; }
}

@compute @workgroup_size(256)
fn gelu_forward(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (i >= params.n) { return; }
  out[i] = act(a[i]);
}

// BLOOM's training backward: dx = gelu'(x)·dy
@compute @workgroup_size(256)
fn gelu_backward(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (i >= params.n) { return; }
  let g = act_grad(a[i]);
  if ((params.flags & 2u) != 0u) { out[i] += g * b[i]; } else { out[i] = g * b[i]; }
}

@compute @workgroup_size(256)
fn scale_inplace(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (i < params.n) { out[i] *= params.alpha; }
}

@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (i < params.n) { out[i] = params.alpha; }
}

// Mixed precision: the f16 compute copy of an f32 master weight, one thread per packed pair (an odd tail pads 0).
@compute @workgroup_size(256)
fn cast_f16(@builtin(global_invocation_id) gid: vec3u) {
  let i = idx(gid);
  if (2u * i >= params.n) { return; }
  let hi = select(0.0, a[2u * i + 1u], 2u * i + 1u < params.n);
  packed[i] = pack2x16float(vec2f(a[2u * i], hi));
}
