// What a load costs on SwiftShader, by access pattern and width: each kernel sums 1,024 loads per invocation
// (4,096 invocations); the figure is wall time per float loaded by one lane. It explains the SwiftShader matmul
// kernels (src/ops/matmul.ts): loads are per-lane gathers whatever the pattern (neighbouring lanes reading
// neighbouring floats are not merged), wider loads amortise the per-load cost, and workgroup memory is no cheaper.
// Run with INSTRUCTALIGN_NO_ROBUSTNESS=1 to see what Dawn's bounds checks add. A benchmark, not a test.
//   node --import tsx bench/swiftshader-loads.ts [kernel ...]
import { openDevice, describeAdapter } from '../src/gpu/device.ts';

const h = await openDevice({ log: () => {}, robustness: process.env.INSTRUCTALIGN_NO_ROBUSTNESS !== '1' });
const dev = h.device;
console.log(`adapter: ${describeAdapter(h)}`);
const NF = 1 << 22,
  L = 1024,
  INV = 64 * 64;
const buf = dev.createBuffer({ size: NF * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
dev.queue.writeBuffer(
  buf,
  0,
  new Float32Array(NF).map((_, i) => (i % 13) * 0.01),
);
const out = dev.createBuffer({ size: INV * 4, usage: GPUBufferUsage.STORAGE });
type Elem = 'f32' | 'vec4f' | 'mat4x4f';
const zero = { f32: '0.0', vec4f: 'vec4f(0.0)', mat4x4f: 'mat4x4f()' },
  first = { f32: 's', vec4f: 's.x + s.w', mat4x4f: 's[0].x + s[3].w' };
const floats = { f32: 1, vec4f: 4, mat4x4f: 16 };
// [element type, floats per iteration, loop body]; `lane` = invocation within SwiftShader's 4-wide SIMD group
const kernels: Record<string, [Elem, number, string]> = {
  'f32 sequential lanes': ['f32', 1, 's += a[(sg * 4096u + i * 4u + lane) & 4194303u];'],
  'f32 same address': ['f32', 1, 's += a[(sg * 4096u + i) & 4194303u];'],
  'f32 strided lanes': ['f32', 1, 's += a[(sg * 4096u + lane * 1024u + i) & 4194303u];'],
  'f32 ×4 unrolled': [
    'f32',
    4,
    'let b = (sg * 4096u + i * 16u + lane) & 4194303u; s += a[b] + a[b + 4u] + a[b + 8u] + a[b + 12u];',
  ],
  vec4f: ['vec4f', 4, 's += a[(sg * 1024u + i * 4u + lane) & 1048575u];'],
  mat4x4f: ['mat4x4f', 16, 's += a[(sg * 256u + i * 4u + lane) & 262143u];'],
  'f32 ×4 workgroup memory': [
    'f32',
    4,
    'let b = (i * 16u + lane) & 4095u; s += w[b] + w[b + 4u] + w[b + 8u] + w[b + 12u];',
  ],
};
const src = (t: Elem, body: string) => `
@group(0) @binding(0) var<storage, read> a: array<${t}>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
var<workgroup> w: array<f32, 4096>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(local_invocation_index) li: u32) {
  let lane = li & 3u; let sg = g.x >> 2u;
  ${body.includes('w[') ? 'for (var j = li; j < 4096u; j += 64u) { w[j] = f32(j); } workgroupBarrier();' : ''}
  var s = ${zero[t]};
  for (var i = 0u; i < ${L}u; i++) { ${body} }
  o[g.x] = ${first[t]};
}`;
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(kernels);
for (const name of names) {
  const k = kernels[name];
  if (!k) throw new Error(`unknown kernel "${name}": one of ${Object.keys(kernels).join(', ')}`);
  const [t, per, body] = k;
  const module = dev.createShaderModule({ code: src(t, body) });
  const pipe = dev.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const entries = [
    { binding: 0, resource: { buffer: buf } },
    { binding: 1, resource: { buffer: out } },
  ];
  const bg = dev.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: body.includes('w[') ? entries.slice(1) : entries,
  });
  const run = async () => {
    const e = dev.createCommandEncoder();
    const p = e.beginComputePass();
    p.setPipeline(pipe);
    p.setBindGroup(0, bg);
    p.dispatchWorkgroups(INV / 64);
    p.end();
    dev.queue.submit([e.finish()]);
    await dev.queue.onSubmittedWorkDone();
  };
  await run();
  const ts: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    await run();
    ts.push(performance.now() - t0);
  }
  ts.sort((x, y) => x - y);
  const n = INV * L * per;
  console.log(
    `${name.padEnd(24)} ${((ts[3] * 1e6) / n).toFixed(2)} ns per lane-float [${((ts[0] * 1e6) / n).toFixed(2)}–${((ts[6] * 1e6) / n).toFixed(2)}]  (${floats[t]} float${floats[t] > 1 ? 's' : ''} per load)`,
  );
}
process.exit(0);
