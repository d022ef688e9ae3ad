// Shared dispatch helpers: workgroup grids, and whether the GPU-family reductions use subgroups (gpu.policy).
import type { Gpu } from '../gpu/runtime.ts';

// Workgroup grids: 1-D work split over x and y so that no dimension passes 65,535 workgroups.
export function grid(workgroups: number): [number, number] {
  const x = Math.min(workgroups, 65535);
  return [x, Math.ceil(workgroups / 65535)];
}

/**
 * Subgroup operations in the workgroup reductions (LayerNorm, cross-entropy, workgroup attention, the gradient norm)
 * and in SwiftShader's matmul (A shared across a 4-wide subgroup): used where the policy allows them
 * (policy.subgroups: on where the device has the `subgroups` feature, requested by src/gpu/device.ts when offered);
 * off keeps the barrier trees and the plain kernels (tests run both).
 */
export function subgroupDefines(gpu: Gpu): { SUBGROUPS?: true } {
  return gpu.policy.subgroups ? { SUBGROUPS: true } : {};
}
