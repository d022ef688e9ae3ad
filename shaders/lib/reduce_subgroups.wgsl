// reduce.wgsl's workgroup sums (64 invocations) with subgroup operations, for the SUBGROUPS variants of layernorm.wgsl
// and rmsnorm.wgsl; the including shader writes `enable subgroups;` (an enable must open the module). subgroupAdd,
// then one barrier: each subgroup's sum lands in the slot of its elected invocation (zeros elsewhere) and every
// invocation adds the 64 slots in order: deterministic, and no assumption on how invocations form subgroups (any
// subgroup size). 2 barriers instead of 8.

var<workgroup> red: array<vec4f, 16>;
var<workgroup> red2: array<vec4f, 16>;

fn slots_sum() -> f32 {
  var t = vec4f(0.0);
  for (var k = 0u; k < 16u; k++) { t += red[k]; }
  return dot(t, vec4f(1.0));
}

fn slots_sum2() -> vec2f {
  var t = vec4f(0.0);
  var t2 = vec4f(0.0);
  for (var k = 0u; k < 16u; k++) { t += red[k]; t2 += red2[k]; }
  return vec2f(dot(t, vec4f(1.0)), dot(t2, vec4f(1.0)));
}

fn reduce_sum(v: f32, li: u32) -> f32 {
  let s = subgroupAdd(v);
  red[li >> 2u][li & 3u] = select(0.0, s, subgroupElect());
  workgroupBarrier();
  let r = slots_sum();
  workgroupBarrier();
  return r;
}

fn reduce_sum2(v: vec2f, li: u32) -> vec2f {
  let s = subgroupAdd(v);
  let e = subgroupElect();
  red[li >> 2u][li & 3u] = select(0.0, s.x, e);
  red2[li >> 2u][li & 3u] = select(0.0, s.y, e);
  workgroupBarrier();
  let r = slots_sum2();
  workgroupBarrier();
  return r;
}
