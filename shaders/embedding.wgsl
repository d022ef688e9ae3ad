// Word-embedding gather (forward) and its scatter-add gradient, one vocabulary shard [lo, hi) at a time,
// so that a 250,880-row table split across buffers under maxStorageBufferBindingSize works the same.
struct Params {
  T: u32,   // tokens (rows of out)
  H: u32,   // hidden size
  lo: u32,  // first vocabulary row held by this shard
  hi: u32,  // one past the last row of this shard
  U: u32,   // backward: number of distinct ids of this shard in the batch
}

@group(0) @binding(0) var<storage, read> ids: array<i32>;
//#if W_F16
@group(0) @binding(1) var<storage, read> w: array<u32>;
fn loadW(i: u32) -> f32 { return unpack2x16float(w[i >> 1u])[i & 1u]; }
//#else
@group(0) @binding(1) var<storage, read> w: array<f32>;
fn loadW(i: u32) -> f32 { return w[i]; }
//#endif
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// backward: for each distinct id u (shard-relative row uniq[u]), the token positions pos[starts[u]..starts[u+1])
@group(0) @binding(3) var<storage, read> uniq: array<u32>;
@group(0) @binding(4) var<storage, read> starts: array<u32>;
@group(0) @binding(5) var<storage, read> positions: array<u32>;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read_write> dw: array<f32>;
@group(0) @binding(8) var<uniform> params: Params;

// One workgroup per token; tokens whose id lies outside this shard are left to another shard's dispatch.
@compute @workgroup_size(64)
fn embedding_forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = wg.x + wg.y * 65535u;
  if (t >= params.T) { return; }
  let id = u32(ids[t]);
  if (ids[t] < 0 || id < params.lo || id >= params.hi) { return; }
  let row = (id - params.lo) * params.H;
  for (var i = li; i < params.H; i += 64u) { out[t * params.H + i] = loadW(row + i); }
}

// dW[row] += Σ dY[t] over the tokens t holding that id: grouped on the host, so no float atomics are needed
// and the summation order is fixed (deterministic training).
@compute @workgroup_size(64)
fn embedding_backward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let u = wg.x + wg.y * 65535u;
  if (u >= params.U) { return; }
  let row = uniq[u] * params.H;
  for (var i = li; i < params.H; i += 64u) {
    var s = 0.0;
    for (var p = starts[u]; p < starts[u + 1u]; p++) { s += dy[positions[p] * params.H + i]; }
    dw[row + i] += s;
  }
}
