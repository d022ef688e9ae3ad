// AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected moments), and the per-tensor
// sum of squares behind HF Trainer's global grad-norm clipping. All f32: master weights, grads, moments.
struct Params {
  n: u32,        // elements of this tensor
  off: u32,      // sumsq: first slot of this tensor in `partials`
  lr: f32,       // learning rate of this step
  beta1: f32,    // first-moment decay
  beta2: f32,    // second-moment decay
  eps: f32,      // added to the bias-corrected sqrt(v)
  wd: f32,       // decoupled weight decay (0 for excluded tensors)
  gscale: f32,   // gradient multiplier: 1/lossScale · clip coefficient (sumsq: 1/lossScale only)
  bc1: f32,      // 1 − beta1^t
  bc2s: f32,     // sqrt(1 − beta2^t)
  maxnorm: f32,  // clip_coef: the max grad norm (0: no clipping)
}

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;  // sumsq: one slot per workgroup
@group(0) @binding(2) var<storage, read_write> p: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;
// clip_coef's result, read by adamw_step with CLIP: (grad norm, clip coefficient, 1 finite / 0 infinite / −1 NaN)
@group(0) @binding(6) var<storage, read_write> clip: array<f32>;

const WG = 256u;
const CHUNK = 4096u;  // elements per sumsq workgroup (host code mirrors this as SUMSQ_CHUNK)
//#if SUBGROUPS
enable subgroups;
var<workgroup> red: array<vec4f, 64>;  // SUBGROUPS: one slot per invocation, the elected ones hold their subgroup's sum
//#else
var<workgroup> red: array<f32, 256>;
//#endif

// partials[off + w] = Σ (gscale·g)² over elements [w·CHUNK, (w+1)·CHUNK); an inf/NaN gradient makes it inf/NaN.
@compute @workgroup_size(256)
fn sumsq(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let w = wg.x + wg.y * 65535u;
  let start = w * CHUNK;
  var s = 0.0;
  for (var i = start + li; i < min(start + CHUNK, params.n); i += WG) { let x = g[i] * params.gscale; s += x * x; }
//#if SUBGROUPS
  // subgroupAdd, then invocation 0 adds the 256 slots in order after one barrier (deterministic, any subgroup layout)
  let gs = subgroupAdd(s);
  red[li >> 2u][li & 3u] = select(0.0, gs, subgroupElect());
  workgroupBarrier();
  if (li == 0u && start < params.n) {
    var t = vec4f(0.0);
    for (var k = 0u; k < 64u; k++) { t += red[k]; }
    partials[params.off + w] = dot(t, vec4f(1.0));
  }
//#else
  red[li] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (li < k) { red[li] += red[li + k]; }
    workgroupBarrier();
  }
  if (li == 0u && start < params.n) { partials[params.off + w] = red[0]; }
//#endif
}

// The global grad norm from all n partials and HF's clip coefficient, on the GPU, so the update follows the backward
// without a round trip to the host. One workgroup; each invocation sums a fixed strided subset, then a fixed tree
// (deterministic). Finiteness is read from the bits (exponent all ones = inf/NaN): WGSL may assume finite math.
var<workgroup> fin: array<vec2f, 256>;
fn finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }

@compute @workgroup_size(256)
fn clip_coef(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  var bad = 0.0;
  for (var i = li; i < params.n; i += WG) {
    let x = partials[i];
    // 1: an infinite partial, 2: a NaN one (reported as NaN, as torch's norm would be)
    if (finite(x)) { s += x; } else { bad = max(bad, select(1.0, 2.0, (bitcast<u32>(x) & 0x7fffffu) != 0u)); }
  }
  fin[li] = vec2f(s, bad);
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (li < k) { fin[li] = vec2f(fin[li].x + fin[li + k].x, max(fin[li].y, fin[li + k].y)); }
    workgroupBarrier();
  }
  if (li == 0u) {
    let norm = sqrt(fin[0].x);
    let ok = fin[0].y == 0.0 && finite(norm);
    clip[0] = select(0.0, norm, ok);  // (the host reports a non-finite norm as Infinity)
    clip[1] = select(1.0, min(1.0, params.maxnorm / (norm + 1e-6)), params.maxnorm > 0.0);
    clip[2] = select(select(0.0, -1.0, fin[0].y == 2.0), 1.0, ok);
  }
}

// One element per thread: p *= 1 − lr·wd; m, v updated; p −= lr/bc1 · m / (sqrt(v)/bc2s + eps). With CLIP the
// gradient is also scaled by clip_coef's coefficient, and nothing changes when the norm was not finite (a skipped
// step of mixed-precision training).
@compute @workgroup_size(256)
fn adamw_step(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x + gid.y * 65535u * WG;
  if (i >= params.n) { return; }
//#if CLIP
  if (clip[2] != 1.0) { return; }
  let gr = g[i] * params.gscale * clip[1];
//#else
  let gr = g[i] * params.gscale;
//#endif
  let mi = m[i] + (1.0 - params.beta1) * (gr - m[i]);
  let vi = params.beta2 * v[i] + (1.0 - params.beta2) * gr * gr;
  m[i] = mi;
  v[i] = vi;
  let pi = p[i] * (1.0 - params.lr * params.wd);
  p[i] = pi - (params.lr / params.bc1) * mi / (sqrt(vi) / params.bc2s + params.eps);
}
