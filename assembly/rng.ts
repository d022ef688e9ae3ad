// xoshiro128** (Blackman & Vigna, 2018) seeded through splitmix64: a small, fast, well-tested PRNG whose
// whole state is four u32 words, so the host can save and restore it and a run replays from its seed.

/** Fills the 4-word state at `s` from a 64-bit seed (hi:lo) with two splitmix64 outputs (never all zero). */
export function seedState(s: usize, lo: u32, hi: u32): void {
  let x = (<u64>hi << 32) | lo;
  for (let k = 0; k < 2; k++) {
    x += 0x9e3779b97f4a7c15;
    let z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    z ^= z >> 31;
    store<u32>(s + (k << 3), <u32>z);
    store<u32>(s + (k << 3) + 4, <u32>(z >> 32));
  }
}

/** Next u32 of xoshiro128**; advances the state at `s`. */
export function nextU32(s: usize): u32 {
  let s0 = load<u32>(s), s1 = load<u32>(s, 4), s2 = load<u32>(s, 8), s3 = load<u32>(s, 12);
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl<u32>(s3, 11);
  store<u32>(s, s0); store<u32>(s, s1, 4); store<u32>(s, s2, 8); store<u32>(s, s3, 12);
  return result;
}

/** Uniform double in [0, 1) with 53 random bits (two draws). */
export function nextF64(s: usize): f64 {
  const a = nextU32(s) >>> 5, b = nextU32(s) >>> 6;   // 27 + 26 bits
  return (<f64>a * 67108864.0 + <f64>b) / 9007199254740992.0;
}
