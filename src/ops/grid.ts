// Shared dispatch helpers: workgroup grids, and whether the GPU-family reductions use subgroups.
import type { Gpu } from '../gpu/runtime.ts';

// Workgroup grids: 1-D work split over x and y so that no dimension passes 65,535 workgroups.
export function grid(workgroups: number): [number, number] {
  const x = Math.min(workgroups, 65535);
  return [x, Math.ceil(workgroups / 65535)];
}

/**
 * Subgroup operations in the workgroup reductions (LayerNorm, cross-entropy, workgroup attention, the gradient norm)
 * and in SwiftShader's matmul (A shared across a 4-wide subgroup): 'auto' uses them where the device has the
 * `subgroups` feature (requested by src/gpu/device.ts when offered); 'never' keeps the barrier trees and the plain
 * kernels (tests run both).
 */
export const subgroupConfig: { use: 'auto' | 'never' } = { use: 'auto' };

export function subgroupDefines(gpu: Gpu): { SUBGROUPS?: true } {
  return subgroupConfig.use === 'auto' && gpu.handle.features.has('subgroups') ? { SUBGROUPS: true } : {};
}
