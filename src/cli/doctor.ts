// `instructalign doctor`: platform, adapter, features, limits, and a kernel check against a CPU reference.
import { bool, helpText, parseCommand, type CommandSpec } from './args.ts';
import { currentDriver, describeAdapter } from '../gpu/device.ts';
import { Gpu } from '../gpu/runtime.ts';
import { withDevice, withScope } from '../gpu/scope.ts';
import { kernelSummary, linearForward } from '../ops/matmul.ts';

export const spec: CommandSpec = {
  name: 'doctor',
  usage: 'instructalign doctor [--json]',
  about: `Prints the platform, the WebGPU adapter, its features and limits, and runs a small matmul on the GPU checked
against the CPU. Exit code 0 only if the kernel result is right. Without a GPU, install chromium and libvulkan1
(SwiftShader is then picked by itself). It says which Vulkan driver was chosen and why: INSTRUCTALIGN_VULKAN=
swiftshader|lavapipe|system picks one (default: a GPU driver where one works, else SwiftShader, even when Mesa's
lavapipe is installed; VK_ICD_FILENAMES set by you is kept).`,
  options: { json: { type: 'boolean', help: 'print one JSON object' } },
};
export const help = helpText(spec);

/** Y = X·Wᵀ + b on the GPU vs the CPU; returns the max abs error. */
export async function kernelCheck(gpu: Gpu): Promise<{ ok: boolean; maxErr: number }> {
  const M = 37,
    N = 45,
    K = 70;
  const X = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i * 0.37));
  const W = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i * 0.11));
  const b = Float32Array.from({ length: N }, (_, i) => i / N);
  const y = await withScope(gpu, (s) => {
    const ty = s.tensor(M * N, 'f32', 'doctor:y');
    linearForward(gpu, s.fromF32(X, 'doctor:x'), s.fromF32(W, 'doctor:w'), s.fromF32(b, 'doctor:b'), ty, M, N, K);
    return gpu.readF32(ty);
  });
  let maxErr = 0;
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = b[n];
      for (let k = 0; k < K; k++) s += X[m * K + k] * W[n * K + k];
      maxErr = Math.max(maxErr, Math.abs(s - y[m * N + n]));
    }
  return { ok: maxErr < 1e-3, maxErr };
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(argv, spec);
  return withDevice(Gpu.open(), (gpu) => doctor(gpu, bool(a, 'json')));
}

async function doctor(gpu: Gpu, json: boolean): Promise<number> {
  const h = gpu.handle;
  const check = await kernelCheck(gpu);
  const report = {
    platform: `${process.platform}-${process.arch}, Node ${process.version}`,
    adapter: describeAdapter(h),
    driver: currentDriver() ?? null,
    info: h.adapter,
    subgroupSizes: h.subgroupSizes ?? null,
    features: [...h.features],
    limits: h.limits,
    kernelCheck: { pass: check.ok, maxAbsError: check.maxErr },
    kernels: kernelSummary(gpu),
    policy: gpu.policy,
  };
  if (json) console.log(JSON.stringify(report));
  else {
    console.log(`platform   ${report.platform}`);
    console.log(`adapter    ${report.adapter}`);
    const d = report.driver;
    if (d) console.log(`driver     ${d.driver}${d.icd ? ` (${d.icd})` : ''}: ${d.reason}`);
    if (h.subgroupSizes) console.log(`subgroups  size ${h.subgroupSizes.join('–')}`);
    console.log(`features   ${report.features.join(', ') || '(none of shader-f16, subgroups, timestamp-query)'}`);
    for (const [k, v] of Object.entries(h.limits)) console.log(`  ${k.padEnd(36)} ${v}`);
    const k = report.kernels;
    console.log(
      `kernels    ${k.family === 'gpu' ? 'GPU' : 'CPU (SwiftShader)'} family; matmul ${k.matmul} (512×1024 output); tuning ${k.tuning}`,
    );
    console.log(`policy     ${JSON.stringify(gpu.policy)}`);
    console.log(
      `kernel     matmul 37×45×70 vs CPU: max abs error ${check.maxErr.toExponential(2)} → ${check.ok ? 'PASS' : 'FAIL'}`,
    );
  }
  return check.ok ? 0 : 1;
}
