// The fast generator for synthetic tensors (random weights for benchmarks, test inputs): xorshift32 (Marsaglia
// 2003, shifts 13/17/5). Training data draws come from src/train/rng.ts (xoshiro128**, forkable); this one only
// has to be quick and to give the same numbers everywhere, since tests and benchmarks pin their inputs by seed.

/** Uniform numbers in [0, 1) from a 32-bit seed (0 is taken as 1: the all-zero state never moves). */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
