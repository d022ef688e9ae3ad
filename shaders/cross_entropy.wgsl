// Log-softmax statistics over a vocabulary processed in column chunks [lo, lo+Vc) of the LM-head logits, so
// the full [rows, 250880] logits never need to exist at once. Per row: running max m and Σexp(l − m) (merged
// online across chunks), the target's logit, then log p(target) = l_t − (m + log Σ). Loss and its gradient in f32.
struct Params {
  R: u32,        // rows (token positions)
  Vc: u32,       // columns in this chunk
  lo: u32,       // vocabulary id of the chunk's first column
  first: u32,    // 1 on the first chunk: initialise the running statistics
  scale: f32,    // backward: dlogits multiplier (loss scale / number of scored targets)
}

//#if ROWWISE
@group(0) @binding(0) var<storage, read> logits: array<vec4f>;      // [R, Vc/4] this chunk
//#else
@group(0) @binding(0) var<storage, read> logits: array<f32>;        // [R, Vc] this chunk
//#endif
@group(0) @binding(1) var<storage, read> targets: array<i32>;       // [R] next-token id, −100 = ignored
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;   // [R, 3]: running max, running sum, target logit
@group(0) @binding(3) var<storage, read_write> logprob: array<f32>; // [R] log p(target) (0 where ignored)
//#if ROWWISE
@group(0) @binding(4) var<storage, read_write> dlogits: array<vec4f>; // [R, Vc/4] backward output for this chunk
//#else
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>; // [R, Vc] backward output for this chunk
//#endif
@group(0) @binding(5) var<uniform> params: Params;

// Merge a chunk's (max M, Σexp S, target logit or 0) into row r's running statistics (first chunk: set them).
fn mergeStats(r: u32, M0: f32, S0: f32, tl0: f32, hasTarget: bool) {
  var M = M0; var S = S0; var tl = tl0;
  if (params.first == 0u) {
    let pm = stats[3u * r];
    let m2 = max(pm, M);
    S = stats[3u * r + 1u] * exp(pm - m2) + S * exp(M - m2);
    M = m2;
    if (!hasTarget) { tl = stats[3u * r + 2u]; }
  }
  stats[3u * r] = M;
  stats[3u * r + 1u] = S;
  stats[3u * r + 2u] = tl;
}

// log p(target) from the final statistics (0 for an ignored row).
@compute @workgroup_size(64)
fn ce_finalize(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= params.R) { return; }
  if (targets[r] < 0) { logprob[r] = 0.0; return; }
  logprob[r] = stats[3u * r + 2u] - (stats[3u * r] + log(stats[3u * r + 1u]));
}

//#if ROWWISE
// ROWWISE (SwiftShader, chosen by src/ops/cross_entropy.ts when Vc is a multiple of 4): one invocation per row, the
// logits as vec4, two passes (max, then Σexp) without the divergent branch or workgroup barriers of the GPU kernel.
@compute @workgroup_size(16)
fn ce_stats(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= params.R) { return; }
  let V4 = params.Vc / 4u; let base = r * V4;
  var m4 = vec4f(-3.0e38);
  for (var v = 0u; v < V4; v++) { m4 = max(m4, logits[base + v]); }
  let M = max(max(m4.x, m4.y), max(m4.z, m4.w));
  var s4 = vec4f(0.0);
  for (var v = 0u; v < V4; v++) { s4 += exp(logits[base + v] - M); }
  let t = targets[r];
  let lo = params.lo;
  let has = t >= 0 && u32(t) >= lo && u32(t) < lo + params.Vc;
  var tl = 0.0;
  if (has) { let i = u32(t) - lo; tl = logits[base + (i >> 2u)][i & 3u]; }
  mergeStats(r, M, s4.x + s4.y + s4.z + s4.w, tl, has);
}

@compute @workgroup_size(16)
fn ce_backward(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= params.R) { return; }
  let V4 = params.Vc / 4u; let base = r * V4;
  let t = targets[r];
  if (t < 0) {
    for (var v = 0u; v < V4; v++) { dlogits[base + v] = vec4f(0.0); }
    return;
  }
  let lse = stats[3u * r] + log(stats[3u * r + 1u]);
  let scale = params.scale;
  for (var v = 0u; v < V4; v++) { dlogits[base + v] = exp(logits[base + v] - lse) * scale; }
  let lo = params.lo;
  if (u32(t) >= lo && u32(t) < lo + params.Vc) {
    let i = u32(t) - lo;
    dlogits[base + (i >> 2u)][i & 3u] -= scale;
  }
}
//#else

const WG = 64u;
//#if SUBGROUPS
enable subgroups;
// SUBGROUPS: a subgroup merges its (max, Σexp) pairs with subgroupMax/subgroupAdd; the elected invocation's slot holds
// the subgroup's pair (others (−3e38, 0), which merge as nothing); invocation 0 merges the 64 slots in order after
// one barrier (deterministic, any subgroup size or layout).
var<workgroup> rm: array<vec4f, 16>;
var<workgroup> rs: array<vec4f, 16>;
//#else
var<workgroup> rm: array<f32, 64>;
var<workgroup> rs: array<f32, 64>;
//#endif

// One workgroup per row: merge this chunk's (max, Σexp) into the running pair.
@compute @workgroup_size(64)
fn ce_stats(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg.x + wg.y * 65535u;
  if (r >= params.R) { return; }
  let base = r * params.Vc;
  var m = -3.0e38;
  var s = 0.0;
  for (var v = li; v < params.Vc; v += WG) {
    let l = logits[base + v];
    if (l > m) { s = s * exp(m - l) + 1.0; m = l; } else { s += exp(l - m); }
  }
//#if SUBGROUPS
  let gm = subgroupMax(m);
  let gs = subgroupAdd(s * exp(m - gm));
  let e = subgroupElect();
  rm[li >> 2u][li & 3u] = select(-3.0e38, gm, e);
  rs[li >> 2u][li & 3u] = select(0.0, gs, e);
  workgroupBarrier();
  if (li != 0u) { return; }
  var mx = vec4f(-3.0e38);
  for (var k = 0u; k < 16u; k++) { mx = max(mx, rm[k]); }
  let fm = max(max(mx.x, mx.y), max(mx.z, mx.w));
  var sx = vec4f(0.0);
  for (var k = 0u; k < 16u; k++) { sx += rs[k] * exp(rm[k] - fm); }
  let fs = dot(sx, vec4f(1.0));
//#else
  rm[li] = m;
  rs[li] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (li < k) {
      let m2 = max(rm[li], rm[li + k]);
      rs[li] = rs[li] * exp(rm[li] - m2) + rs[li + k] * exp(rm[li + k] - m2);
      rm[li] = m2;
    }
    workgroupBarrier();
  }
  if (li != 0u) { return; }
  let fm = rm[0]; let fs = rs[0];
//#endif
  let t = targets[r];
  let has = t >= 0 && u32(t) >= params.lo && u32(t) < params.lo + params.Vc;
  var tl = 0.0;
  if (has) { tl = logits[base + u32(t) - params.lo]; }
  mergeStats(r, fm, fs, tl, has);
}

// dlogits = (softmax − onehot(target))·scale for scored rows, 0 for ignored ones; needs the final statistics.
@compute @workgroup_size(64)
fn ce_backward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg.x + wg.y * 65535u;
  if (r >= params.R) { return; }
  let base = r * params.Vc;
  let t = targets[r];
  if (t < 0) {
    for (var v = li; v < params.Vc; v += WG) { dlogits[base + v] = 0.0; }
    return;
  }
  let lse = stats[3u * r] + log(stats[3u * r + 1u]);
  for (var v = li; v < params.Vc; v += WG) {
    var g = exp(logits[base + v] - lse);
    if (u32(t) == params.lo + v) { g -= 1.0; }
    dlogits[base + v] = g * params.scale;
  }
}
//#endif
