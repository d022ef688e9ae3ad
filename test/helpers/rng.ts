// Test inputs: uniform numbers in [−0.5, 0.5) from a seed, the project's one synthetic-tensor generator
// (src/util/random.ts), so every test draws its data the same way.
import { xorshift32 } from '../../src/util/random.ts';

export function rng(seed: number): () => number {
  const u = xorshift32(seed);
  return () => u() - 0.5;
}

/** Integers in [0, n) from a seed (the same generator's top bits). */
export function randInt(seed: number): (n: number) => number {
  const u = xorshift32(seed);
  return (n) => Math.floor(u() * n);
}
