// Tiled matmul for every Linear of BLOOM, forward and backward, through strides:
//   C[m,n] (= or +=) alpha · Σ_k A(m,k)·B(k,n) (+ bias[n]) (then GELU)
// X·Wᵀ (forward, W stored [out,in] as HF), dY·W (input grad) and dYᵀ·X (weight grad) are the same kernel.
// B may be packed f16 (define B_F16): two halves per u32, math in f32.
// VEC4 (chosen by src/ops/matmul.ts when K, N, strides and offsets are multiples of 4): every operand moves as vec4;
// A_M4 / B_N4 say A is contiguous along m / B along n (else along k). Three kernels share it:
//   TILED: the GPU kernel. 16×16 threads, a 128×128 tile of C (T128; 8×8 per thread) or 64×64 (4×4 per thread),
//     k in slices of 8, 16 or 32 (define BK) through workgroup memory stored k-major (vec4 reads along m and n, no bank conflicts), the
//     next slice prefetched into registers while the current one is multiplied.
//   matmul with BLK = 2 / 4 (SwiftShader): no workgroup memory or barriers; each invocation keeps an 8×8 (16×16)
//     block of C in mat4x4 accumulators. Loads, not FLOPs, are what costs on SwiftShader (each load is range-checked per
//     lane; a mat4 product is 64 plain SIMD ops), so these maximise FLOPs per load.
// Without VEC4: the scalar 32×32-tile kernel (any strides; also the benchmarks' baseline).
struct Params {
  M: u32,      // rows of C
  N: u32,      // columns of C
  K: u32,      // reduction length
  a_sm: u32,   // A element stride along m
  a_sk: u32,   // A element stride along k
  b_sk: u32,   // B element stride along k
  b_sn: u32,   // B element stride along n
  c_sm: u32,   // C row stride (columns are contiguous)
  a_off: u32,  // element offset of A(0,0)
  b_off: u32,  // element offset of B(0,0)
  c_off: u32,  // element offset of C(0,0)
  flags: u32,  // bit 0: add bias[n]; bit 1: accumulate into C; bit 2: GELU epilogue
  alpha: f32,  // scale of the product
}

//#if VEC4
@group(0) @binding(0) var<storage, read> a: array<vec4f>;
//#if B_F16
@group(0) @binding(1) var<storage, read> b: array<vec2u>;
fn loadB4(i: u32) -> vec4f { let w = b[i]; return vec4f(unpack2x16float(w.x), unpack2x16float(w.y)); }
//#else
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
fn loadB4(i: u32) -> vec4f { return b[i]; }
//#endif
@group(0) @binding(2) var<storage, read> bias: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> res: array<vec4f>;  // residual, laid out as C (define RESIDUAL)

//#include "gelu.wgsl"

// 4×4 block of A at rows m.., k.. as a matrix whose column i is row m+i over k (vec4 indices: all /4)
fn blockA(m: u32, k: u32, M1: u32, sm: u32, sk: u32, off: u32) -> mat4x4f {
//#if A_M4
  // contiguous along m: 4 k-rows of 4 m each, transposed (rows past M read neighbours and are never stored)
  let i = (off + k * sk + m) >> 2u;
  let s = sk >> 2u;
  return transpose(mat4x4f(a[i], a[i + s], a[i + 2u * s], a[i + 3u * s]));
//#else
  return mat4x4f(a[(off + min(m, M1) * sm + k) >> 2u], a[(off + min(m + 1u, M1) * sm + k) >> 2u],
                 a[(off + min(m + 2u, M1) * sm + k) >> 2u], a[(off + min(m + 3u, M1) * sm + k) >> 2u]);
//#endif
}
fn blockB(n: u32, k: u32, N1: u32, sn: u32, sk: u32, off: u32) -> mat4x4f {
//#if B_N4
  let i = (off + k * sk + n) >> 2u;
  let s = sk >> 2u;
  return transpose(mat4x4f(loadB4(i), loadB4(i + s), loadB4(i + 2u * s), loadB4(i + 3u * s)));
//#else
  return mat4x4f(loadB4((off + min(n, N1) * sn + k) >> 2u), loadB4((off + min(n + 1u, N1) * sn + k) >> 2u),
                 loadB4((off + min(n + 2u, N1) * sn + k) >> 2u), loadB4((off + min(n + 3u, N1) * sn + k) >> 2u));
//#endif
}

// The epilogue's params, read once per invocation (a uniform load costs ~30 ns per lane on SwiftShader; the 16×16
// kernel stores 64 rows).
struct Epi { M: u32, N: u32, flags: u32, c_off: u32, c_sm: u32, alpha: f32 }
fn epi() -> Epi { return Epi(params.M, params.N, params.flags, params.c_off, params.c_sm, params.alpha); }
fn biasAt(n: u32, e: Epi) -> vec4f {
  if ((e.flags & 1u) != 0u && n < e.N) { return bias[n >> 2u]; }
  return vec4f(0.0);
}

// row m, columns n..n+3 of C (N is a multiple of 4: a vec4 is all in or all out); bv = biasAt(n)
fn storeRow(v4: vec4f, m: u32, n: u32, bv: vec4f, e: Epi) {
  if (m >= e.M || n >= e.N) { return; }
  var v = e.alpha * v4 + bv;
//#if EPI_DEFINES
  // SwiftShader's kernels (BLK): GELU and accumulation are defines, not flags, since SwiftShader runs both sides of
  // every branch (lanes masked): the GELU flag cost every store a tanh (~8 % of a K = 256 matmul), and the two
  // flags' code was ~75 % of the kernel's compile time (0.95 s → 0.25 s with a bare store)
//#if GELU
  v = gelu4(v);
//#endif
//#else
  if ((e.flags & 4u) != 0u) { v = gelu4(v); }
//#endif
  let idx = (e.c_off + m * e.c_sm + n) >> 2u;
//#if RESIDUAL
  v += res[idx];
//#endif
//#if EPI_DEFINES
//#if ACC
  c[idx] += v;
//#else
  c[idx] = v;
//#endif
//#else
  if ((e.flags & 2u) != 0u) { c[idx] += v; } else { c[idx] = v; }
//#endif
}

fn store4(acc: mat4x4f, m: u32, n: u32, e: Epi) {
  // acc column j = C column n+j over rows m..m+3; rows of C are the columns of transpose(acc)
  if (m >= e.M || n >= e.N) { return; }
  let t = transpose(acc);
  let bv = biasAt(n, e);
  storeRow(t[0], m, n, bv, e); storeRow(t[1], m + 1u, n, bv, e); storeRow(t[2], m + 2u, n, bv, e); storeRow(t[3], m + 3u, n, bv, e);
}

//#if TILED
//#if T128
const TS = 128u;  // rows and columns of C per workgroup
//#else
const TS = 64u;
//#endif
// BK (a numeric define: 8, 16 or 32) is k per slice: with T128, 8, 16 or 32 KiB of workgroup memory (16 KiB is
// WebGPU's default limit; src/ops/matmul.ts offers 32 only where the adapter allows it). NL (numeric define) is the
// vec4 loads per operand per thread: max(1, SLICE / 256).
const TS4 = TS / 4u;    // vec4s per tile row
const KQ = BK / 4u;     // vec4s per slice row along k
const SLICE = TS * KQ;  // vec4s per operand slice: 128 (T64), 256 (T128 or T64+BK16), 512 (T128+BK16), 1024 (T128+BK32)
var<workgroup> As: array<vec4f, SLICE>;  // [BK][TS4]: A(m, k) at As[k * TS4 + m / 4][m % 4]
var<workgroup> Bs: array<vec4f, SLICE>;  // [BK][TS4]: B(k, n) at Bs[k * TS4 + n / 4][n % 4]

// slice element e (vec4 number e of the TS×BK slice) of A from global memory, zero past K
fn sliceA(e: u32, m0: u32, k0: u32) -> vec4f {
//#if A_M4
  let k = k0 + e / TS4;
  if (k >= params.K) { return vec4f(0.0); }
  // rows past M read their neighbours (never stored); the clamp keeps the read inside row k
  let m = min(m0 + (e % TS4) * 4u, (params.M - 1u) & ~3u);
  return a[(params.a_off + k * params.a_sk + m) >> 2u];
//#else
  let k = k0 + (e % KQ) * 4u;
  if (k >= params.K) { return vec4f(0.0); }
  let m = min(m0 + e / KQ, params.M - 1u);
  return a[(params.a_off + m * params.a_sm + k) >> 2u];
//#endif
}
fn putA(e: u32, v: vec4f) {
//#if A_M4
  As[e] = v;
//#else
  let m = e / KQ; let k = (e % KQ) * 4u;
  let i = k * TS4 + (m >> 2u); let j = m & 3u;
  As[i][j] = v.x; As[i + TS4][j] = v.y; As[i + 2u * TS4][j] = v.z; As[i + 3u * TS4][j] = v.w;
//#endif
}
fn sliceB(e: u32, n0: u32, k0: u32) -> vec4f {
//#if B_N4
  let k = k0 + e / TS4;
  if (k >= params.K) { return vec4f(0.0); }
  let n = min(n0 + (e % TS4) * 4u, (params.N - 1u) & ~3u);
  return loadB4((params.b_off + k * params.b_sk + n) >> 2u);
//#else
  let k = k0 + (e % KQ) * 4u;
  if (k >= params.K) { return vec4f(0.0); }
  let n = min(n0 + e / KQ, params.N - 1u);
  return loadB4((params.b_off + n * params.b_sn + k) >> 2u);
//#endif
}
fn putB(e: u32, v: vec4f) {
//#if B_N4
  Bs[e] = v;
//#else
  let n = e / KQ; let k = (e % KQ) * 4u;
  let i = k * TS4 + (n >> 2u); let j = n & 3u;
  Bs[i][j] = v.x; Bs[i + TS4][j] = v.y; Bs[i + 2u * TS4][j] = v.z; Bs[i + 3u * TS4][j] = v.w;
//#endif
}

// Thread (tx, ty) owns rows ty*4.. (+ TS/2 + ty*4.. with T128) and columns tx*4.. (+ TS/2 + tx*4..): the vec4 reads
// of a warp hit 16 consecutive vec4s of Bs and two of As.
@compute @workgroup_size(16, 16)
fn matmul_tiled(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
                @builtin(local_invocation_index) li: u32) {
  let m0 = wg.y * TS; let n0 = wg.x * TS;
  let K = params.K;
  let tx = lid.x; let ty = lid.y;
  let loads = li < SLICE;  // NL vec4s per operand per thread (T64 with BK 8: half the threads load one)
//#unroll r NL
  var pa$r = vec4f(0.0); var pb$r = vec4f(0.0);
//#endunroll
  if (loads) {
//#unroll r NL
    pa$r = sliceA(li + $ru * 256u, m0, 0u); pb$r = sliceB(li + $ru * 256u, n0, 0u);
//#endunroll
  }
  var x0 = vec4f(0.0); var x1 = vec4f(0.0); var x2 = vec4f(0.0); var x3 = vec4f(0.0);
//#if T128
  var x4 = vec4f(0.0); var x5 = vec4f(0.0); var x6 = vec4f(0.0); var x7 = vec4f(0.0);
  var y0 = vec4f(0.0); var y1 = vec4f(0.0); var y2 = vec4f(0.0); var y3 = vec4f(0.0);
  var y4 = vec4f(0.0); var y5 = vec4f(0.0); var y6 = vec4f(0.0); var y7 = vec4f(0.0);
//#endif
  for (var k0 = 0u; k0 < K; k0 += BK) {
    if (loads) {
//#unroll r NL
      putA(li + $ru * 256u, pa$r); putB(li + $ru * 256u, pb$r);
//#endunroll
    }
    workgroupBarrier();
    if (loads && k0 + BK < K) {
//#unroll r NL
      pa$r = sliceA(li + $ru * 256u, m0, k0 + BK); pb$r = sliceB(li + $ru * 256u, n0, k0 + BK);
//#endunroll
    }
    for (var kk = 0u; kk < BK; kk++) {
      let a0 = As[kk * TS4 + ty]; let b0 = Bs[kk * TS4 + tx];
      x0 += a0.x * b0; x1 += a0.y * b0; x2 += a0.z * b0; x3 += a0.w * b0;
//#if T128
      let a1 = As[kk * TS4 + 16u + ty]; let b1 = Bs[kk * TS4 + 16u + tx];
      x4 += a1.x * b0; x5 += a1.y * b0; x6 += a1.z * b0; x7 += a1.w * b0;
      y0 += a0.x * b1; y1 += a0.y * b1; y2 += a0.z * b1; y3 += a0.w * b1;
      y4 += a1.x * b1; y5 += a1.y * b1; y6 += a1.z * b1; y7 += a1.w * b1;
//#endif
    }
    workgroupBarrier();
  }
  let m = m0 + ty * 4u; let n = n0 + tx * 4u;
  let e = epi(); let bn = biasAt(n, e);
  storeRow(x0, m, n, bn, e); storeRow(x1, m + 1u, n, bn, e); storeRow(x2, m + 2u, n, bn, e); storeRow(x3, m + 3u, n, bn, e);
//#if T128
  let m2 = m + 64u; let n2 = n + 64u; let bn2 = biasAt(n2, e);
  storeRow(x4, m2, n, bn, e); storeRow(x5, m2 + 1u, n, bn, e); storeRow(x6, m2 + 2u, n, bn, e); storeRow(x7, m2 + 3u, n, bn, e);
  storeRow(y0, m, n2, bn2, e); storeRow(y1, m + 1u, n2, bn2, e); storeRow(y2, m + 2u, n2, bn2, e); storeRow(y3, m + 3u, n2, bn2, e);
  storeRow(y4, m2, n2, bn2, e); storeRow(y5, m2 + 1u, n2, bn2, e); storeRow(y6, m2 + 2u, n2, bn2, e); storeRow(y7, m2 + 3u, n2, bn2, e);
//#endif
}
//#else
//#if BLK
// 4×4 threads, each a BLK×BLK grid of 4×4 blocks of C in mat4x4 accumulators: BLK = 2 (8×8 per thread, a 32×32
// tile, `vec4`) or BLK = 4 (16×16 per thread, a 64×64 tile, `vec4x16`: half the loads per FLOP, ×1.5 measured on
// SwiftShader at 1024³; src/ops/matmul.ts picks it past 32 rows and columns).
//#if SGA
// SGA (4-wide subgroups, as SwiftShader's; src/ops/matmul.ts checks): the workgroup's 16 invocations are 4 subgroups
// of 4; subgroup `sgid` takes the rows, lane `sid` the columns, so the four lanes of a subgroup need the same rows of
// A: lane i loads 4-row block i (BLK blocks) and the lanes take them by subgroupBroadcast (a lane permute there)
// instead of each gathering all of them: with BLK = 4, 20 vec4 loads per k-step instead of 32 (measured ×1.06–1.36
// on SwiftShader, most on the model's shapes).
enable subgroups;
@compute @workgroup_size(4, 4)
fn matmul(@builtin(workgroup_id) wg: vec3u, @builtin(subgroup_id) sgid: u32, @builtin(subgroup_invocation_id) sid: u32) {
  let m = wg.y * (16u * BLK) + sgid * (4u * BLK);
  let n = wg.x * (16u * BLK) + sid * (4u * BLK);
//#else
@compute @workgroup_size(4, 4)
fn matmul(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m = wg.y * (16u * BLK) + lid.y * (4u * BLK);
  let n = wg.x * (16u * BLK) + lid.x * (4u * BLK);
//#endif
  let K = params.K; let M1 = params.M - 1u; let N1 = params.N - 1u;
  let a_sm = params.a_sm; let a_sk = params.a_sk; let a_off = params.a_off;
  let b_sn = params.b_sn; let b_sk = params.b_sk; let b_off = params.b_off;
//#unroll i BLK
//#unroll j BLK
  var c$i$j = mat4x4f();
//#endunroll
//#endunroll
  for (var k = 0u; k < K; k += 4u) {
//#unroll j BLK
    let b$j = blockB(n + 4u * $ju, k, N1, b_sn, b_sk, b_off);
//#endunroll
//#if SGA
    let mine = transpose(blockA(m + 4u * (sid % BLK), k, M1, a_sm, a_sk, a_off));
//#unroll i BLK
    let a$i = mat4x4f(subgroupBroadcast(mine[0], $iu), subgroupBroadcast(mine[1], $iu), subgroupBroadcast(mine[2], $iu), subgroupBroadcast(mine[3], $iu));
//#unroll j BLK
    c$i$j += a$i * b$j;
//#endunroll
//#endunroll
//#else
//#unroll i BLK
    let a$i = transpose(blockA(m + 4u * $iu, k, M1, a_sm, a_sk, a_off));
//#unroll j BLK
    c$i$j += a$i * b$j;
//#endunroll
//#endunroll
//#endif
  }
  let e = epi();
//#unroll i BLK
//#unroll j BLK
  store4(c$i$j, m + 4u * $iu, n + 4u * $ju, e);
//#endunroll
//#endunroll
}
//#endif
//#endif

// db (+)= Σ_m dY[m, :]: the bias gradient, one invocation per four columns, rows in order (deterministic);
// small workgroups so that even N = 256 spreads over the CPU cores. a_sm, a_off, c_off are multiples of 4.
@compute @workgroup_size(16)
fn bias_grad(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= params.N / 4u) { return; }
  let M = params.M; let sm = params.a_sm / 4u; let off = params.a_off / 4u + n;
  var s = vec4f(0.0);
  for (var m = 0u; m < M; m++) { s += a[off + m * sm]; }
  let idx = params.c_off / 4u + n;
  if ((params.flags & 2u) != 0u) { c[idx] += params.alpha * s; } else { c[idx] = params.alpha * s; }
}
//#else
@group(0) @binding(0) var<storage, read> a: array<f32>;
//#if B_F16
@group(0) @binding(1) var<storage, read> b: array<u32>;
fn loadB(i: u32) -> f32 { return unpack2x16float(b[i >> 1u])[i & 1u]; }
//#else
@group(0) @binding(1) var<storage, read> b: array<f32>;
fn loadB(i: u32) -> f32 { return b[i]; }
//#endif
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> res: array<f32>;  // residual, laid out as C (define RESIDUAL)

const TM = 32u;  // rows of C per workgroup
const TN = 32u;  // columns of C per workgroup
const TK = 16u;  // reduction slice held in workgroup memory
var<workgroup> As: array<f32, 512>;  // [TK][TM]
var<workgroup> Bs: array<f32, 512>;  // [TK][TN]

//#include "gelu.wgsl"

// 8×8 threads, each owning a 4×4 block of C (params are read once: uniform loads are not free on SwiftShader).
@compute @workgroup_size(8, 8)
fn matmul(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
          @builtin(local_invocation_index) li: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  // accumulators as four vec4 rows (no indexed private array: SwiftShader's fiber stacks are small)
  let K = params.K; let M = params.M; let N = params.N;
  let a_sm = params.a_sm; let a_sk = params.a_sk; let a_off = params.a_off;
  let b_sk = params.b_sk; let b_sn = params.b_sn; let b_off = params.b_off;
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k0 = 0u; k0 < K; k0 += TK) {
    for (var r = 0u; r < 8u; r++) {
      let e = li + r * 64u;
      let kk = e / TM;
      let mm = e % TM;
      let m = m0 + mm;
      let k = k0 + kk;
      var va = 0.0;
      if (m < M && k < K) { va = a[a_off + m * a_sm + k * a_sk]; }
      As[kk * TM + mm] = va;
      let nn = e % TN;
      let n = n0 + nn;
      var vb = 0.0;
      if (n < N && k < K) { vb = loadB(b_off + k * b_sk + n * b_sn); }
      Bs[kk * TN + nn] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let ab = kk * TM + lid.y * 4u;
      let bb = kk * TN + lid.x * 4u;
      let bv = vec4f(Bs[bb], Bs[bb + 1u], Bs[bb + 2u], Bs[bb + 3u]);
      acc0 += As[ab] * bv;
      acc1 += As[ab + 1u] * bv;
      acc2 += As[ab + 2u] * bv;
      acc3 += As[ab + 3u] * bv;
    }
    workgroupBarrier();
  }
  store_row(m0 + lid.y * 4u, n0 + lid.x * 4u, acc0);
  store_row(m0 + lid.y * 4u + 1u, n0 + lid.x * 4u, acc1);
  store_row(m0 + lid.y * 4u + 2u, n0 + lid.x * 4u, acc2);
  store_row(m0 + lid.y * 4u + 3u, n0 + lid.x * 4u, acc3);
}

fn store_row(m: u32, n0: u32, v4: vec4f) {
  if (m >= params.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n >= params.N) { return; }
    var v = params.alpha * v4[j];
    if ((params.flags & 1u) != 0u) { v += bias[n]; }
    if ((params.flags & 4u) != 0u) { v = gelu(v); }
    let idx = params.c_off + m * params.c_sm + n;
//#if RESIDUAL
    v += res[idx];
//#endif
    if ((params.flags & 2u) != 0u) { c[idx] += v; } else { c[idx] = v; }
  }
}

// db[n] (+)= Σ_m dY[m,n]: the bias gradient, one thread per column (deterministic order). With K > 0, a first
// stage for many rows: workgroup row gid.y sums rows [gid.y·K, gid.y·K + K) into row gid.y of C (stride c_sm), so
// that 1,024 rows give 32× the threads; src/ops/matmul.ts (columnSums) then sums those partial rows in order.
@compute @workgroup_size(64)
fn bias_grad(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  if (n >= params.N) { return; }
  var s = 0.0;
  let M = params.M; let sm = params.a_sm; let off = params.a_off;
  let m0 = gid.y * params.K;
  let m1 = select(M, min(M, m0 + params.K), params.K > 0u);
  for (var m = m0; m < m1; m++) { s += a[off + m * sm + n]; }
  let o = params.c_off + gid.y * params.c_sm + n;
  if ((params.flags & 2u) != 0u) { c[o] += params.alpha * s; } else { c[o] = params.alpha * s; }
}
//#endif
