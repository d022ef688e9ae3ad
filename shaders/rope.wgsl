// Rotary position embeddings (RoPE) as HF's Llama/Qwen3 apply them (apply_rotary_pos_emb, rotate_half layout), fused
// with the packing of separate q, k, v projections into the per-head interleaved qkv layout that attention.wgsl reads
// ([B, Tmax, NH, 3, D]: feature n·3D + c·D + d, c = 0 q, 1 k, 2 v), grouped-query attention included: key/value head
// j serves query heads j·rep … j·rep + rep − 1 (rep = NH / NKV, HF's repeat_kv).
// For d < D/2, with (cos, sin) of angle pos·inv_freq[d]: out[d] = x[d]·cos − x[d + D/2]·sin,
// out[d + D/2] = x[d + D/2]·cos + x[d]·sin. q and k are rotated, v is copied.
// The backward applies the transpose (the rotation by −angle) and sums k and v over each group's heads.
struct Params {
  B: u32,      // batch
  Tq: u32,     // rows of q, k, v (tokens of this call per batch element)
  q0: u32,     // row of qkv where they go (KV-cached decoding: the context so far)
  Tmax: u32,   // row capacity of qkv per batch element
  NH: u32,     // query heads
  NKV: u32,    // key/value heads (divides NH)
  D: u32,      // head dim (even)
  flags: u32,  // unused
}

@group(0) @binding(0) var<storage, read> q: array<f32>;          // [B, Tq, NH, D]
@group(0) @binding(1) var<storage, read> k: array<f32>;          // [B, Tq, NKV, D]
@group(0) @binding(2) var<storage, read> v: array<f32>;          // [B, Tq, NKV, D]
@group(0) @binding(3) var<storage, read> cs: array<vec2f>;       // [P, D/2]: (cos, sin) of position p, pair d
@group(0) @binding(4) var<storage, read> pos: array<u32>;        // [B, Tq]: position of each row (< P)
@group(0) @binding(5) var<storage, read_write> qkv: array<f32>;  // [B, Tmax, NH, 3, D]
@group(0) @binding(6) var<storage, read> dqkv: array<f32>;       // [B, Tmax, NH, 3, D]
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;   // [B, Tq, NH, D]
@group(0) @binding(8) var<storage, read_write> dk: array<f32>;   // [B, Tq, NKV, D]
@group(0) @binding(9) var<storage, read_write> dv: array<f32>;   // [B, Tq, NKV, D]
@group(0) @binding(10) var<uniform> params: Params;

fn linear_id(gid: vec3u) -> u32 { return gid.x + gid.y * 65535u * 64u; }

// One invocation per (b, t, query head h, pair d).
@compute @workgroup_size(64)
fn rope_pack(@builtin(global_invocation_id) gid: vec3u) {
  let D = params.D; let half = D / 2u; let NH = params.NH; let NKV = params.NKV;
  let id = linear_id(gid);
  if (id >= params.B * params.Tq * NH * half) { return; }
  let d = id % half;
  let h = (id / half) % NH;
  let bt = id / (half * NH);  // b·Tq + t
  let b = bt / params.Tq; let t = bt % params.Tq;
  let c = cs[pos[bt] * half + d];
  let qi = (bt * NH + h) * D + d;
  let ki = (bt * NKV + h / (NH / NKV)) * D + d;
  let o = ((b * params.Tmax + params.q0 + t) * NH + h) * 3u * D + d;
  let q1 = q[qi]; let q2 = q[qi + half];
  qkv[o] = q1 * c.x - q2 * c.y;
  qkv[o + half] = q2 * c.x + q1 * c.y;
  let k1 = k[ki]; let k2 = k[ki + half];
  qkv[o + D] = k1 * c.x - k2 * c.y;
  qkv[o + D + half] = k2 * c.x + k1 * c.y;
  qkv[o + 2u * D] = v[ki];
  qkv[o + 2u * D + half] = v[ki + half];
}

// One invocation per (b, t, key/value head j, pair d): dq of the group's rep query heads, and dk, dv summed over them
// (in head order: deterministic).
@compute @workgroup_size(64)
fn rope_unpack(@builtin(global_invocation_id) gid: vec3u) {
  let D = params.D; let half = D / 2u; let NH = params.NH; let NKV = params.NKV;
  let id = linear_id(gid);
  if (id >= params.B * params.Tq * NKV * half) { return; }
  let d = id % half;
  let j = (id / half) % NKV;
  let bt = id / (half * NKV);
  let b = bt / params.Tq; let t = bt % params.Tq;
  let c = cs[pos[bt] * half + d];
  let rep = NH / NKV;
  var k1 = 0.0; var k2 = 0.0; var v1 = 0.0; var v2 = 0.0;
  for (var r = 0u; r < rep; r++) {
    let h = j * rep + r;
    let o = ((b * params.Tmax + params.q0 + t) * NH + h) * 3u * D + d;
    let a1 = dqkv[o]; let a2 = dqkv[o + half];
    let qi = (bt * NH + h) * D + d;
    dq[qi] = a1 * c.x + a2 * c.y;
    dq[qi + half] = a2 * c.x - a1 * c.y;
    k1 += dqkv[o + D]; k2 += dqkv[o + D + half];
    v1 += dqkv[o + 2u * D]; v2 += dqkv[o + 2u * D + half];
  }
  // the transpose of the rotation is linear: rotate the summed key gradient once
  let ki = (bt * NKV + j) * D + d;
  dk[ki] = k1 * c.x + k2 * c.y;
  dk[ki + half] = k2 * c.x - k1 * c.y;
  dv[ki] = v1;
  dv[ki + half] = v2;
}
