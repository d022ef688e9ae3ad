// Workgroup grids: 1-D work split over x and y so that no dimension passes 65,535 workgroups.
export function grid(workgroups: number): [number, number] {
  const x = Math.min(workgroups, 65535);
  return [x, Math.ceil(workgroups / 65535)];
}
