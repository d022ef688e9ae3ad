// Workgroup sums over 64 invocations by a barrier tree (same order on every device: deterministic), written once for
// the row reductions of layernorm.wgsl and rmsnorm.wgsl: `//#include "reduce.wgsl"` (src/gpu/wgsl.ts). The
// subgroup form with the same functions is reduce_subgroups.wgsl. Valid WGSL on its own.

var<workgroup> red: array<f32, 64>;
var<workgroup> red2: array<f32, 64>;

// Σ of v over the workgroup's 64 invocations (li = local_invocation_index), returned to every invocation
fn reduce_sum(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// two sums at once (one barrier tree)
fn reduce_sum2(v: vec2f, li: u32) -> vec2f {
  red[li] = v.x;
  red2[li] = v.y;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; red2[li] += red2[li + s]; }
    workgroupBarrier();
  }
  let r = vec2f(red[0], red2[0]);
  workgroupBarrier();
  return r;
}
