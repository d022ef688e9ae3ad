// The wasm sampler: greedy, temperature, top-k, top-p and repetition penalty with HF generate's semantics,
// frequencies against softmax probabilities, and the seeded xoshiro128** (splitmix64 seeding) replaying runs.
import assert from 'node:assert/strict';
import { loadWasm } from '../../src/wasm/load.ts';
import { Sampler, type SampleOptions } from '../../src/wasm/sampler.ts';
import { rng } from '../helpers/rng.ts';

const softmax = (x: number[]) => {
  const m = x.reduce((a, b) => Math.max(a, b));
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b);
  return e.map((v) => v / s);
};
const argmax = (x: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
  return b;
};

function randomLogits(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 8);
}

function counts(opts: SampleOptions, logits: Float32Array, draws: number, prev: number[] = []): number[] {
  const s = new Sampler(opts),
    c = new Array(logits.length).fill(0);
  for (let i = 0; i < draws; i++) c[s.sample(logits, prev)]++;
  return c;
}

/** Every count within 4 standard errors of draws * p (plus 1 for tiny p); p = 0 must never be drawn. */
function assertFrequencies(c: number[], p: number[], draws: number): void {
  p.forEach((pi, i) => {
    const tol = 4 * Math.sqrt(draws * pi * (1 - pi)) + 1;
    assert.ok(
      Math.abs(c[i] - draws * pi) <= tol,
      `id ${i}: ${c[i]} draws, expected ${(draws * pi).toFixed(1)} ± ${tol.toFixed(1)}`,
    );
    if (pi === 0) assert.equal(c[i], 0, `id ${i} is outside the kept set but was drawn`);
  });
}

// Independent reference of the documented PRNG: splitmix64 seeding, xoshiro128** steps (Blackman & Vigna).
function refSeed(seed: bigint): number[] {
  const M = (1n << 64n) - 1n,
    out: number[] = [];
  let x = seed;
  for (let k = 0; k < 2; k++) {
    x = (x + 0x9e3779b97f4a7c15n) & M;
    let z = x;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    z ^= z >> 31n;
    out.push(Number(z & 0xffffffffn), Number(z >> 32n));
  }
  return out;
}
function refStep(s: number[]): number {
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3] >>> 0, 11);
  for (let i = 0; i < 4; i++) s[i] >>>= 0;
  return result;
}

describe('sampler', () => {
  before(async () => {
    await loadWasm();
  });
  const N = 20_000;

  it('greedy by default and at temperature 0: argmax, lowest index on ties', () => {
    const l = Float32Array.from([0.5, 3, -1, 3, 2]);
    assert.equal(new Sampler({}).sample(l, []), 1);
    assert.equal(new Sampler({ temperature: 0, topK: 3, topP: 0.5, seed: 9 }).sample(l, []), 1);
    const g = new Sampler({ seed: 4 }),
      before = g.getState();
    g.sample(l, []);
    assert.deepEqual(g.getState(), before, 'greedy draws no random numbers');
  });

  it('temperature -> 0 equals greedy', () => {
    for (let k = 0; k < 50; k++) {
      const l = randomLogits(1000, k);
      assert.equal(new Sampler({ temperature: 1e-4, seed: k }).sample(l, []), argmax(l));
    }
  });

  it(`temperature: ${N} draws match softmax(logits / T) within 4 standard errors`, () => {
    const l = randomLogits(10, 1),
      T = 0.7;
    assertFrequencies(counts({ temperature: T, seed: 1 }, l, N), softmax([...l].map((v) => v / T)), N);
  });

  it('top-k never leaves the k largest, and samples them with renormalised probabilities', () => {
    const l = randomLogits(50, 2),
      k = 5;
    const top = [...l.keys()].sort((a, b) => l[b] - l[a]).slice(0, k);
    const p = softmax([...l]).map((v, i) => (top.includes(i) ? v : 0));
    const z = p.reduce((a, b) => a + b);
    assertFrequencies(
      counts({ topK: k, seed: 2 }, l, N),
      p.map((v) => v / z),
      N,
    );
    // HF keeps every logit equal to the k-th largest: top-2 of [3, 2, 2, 1] keeps three ids.
    const t = softmax([3, 2, 2]);
    assertFrequencies(counts({ topK: 2, seed: 2 }, Float32Array.from([3, 2, 2, 1]), N), [...t, 0], N);
  });

  it('top-p never leaves the nucleus (smallest top set with mass >= p), renormalised', () => {
    const l = Float32Array.from([0, Math.log(4), Math.log(2), Math.log(3), Math.log(0.5), Math.log(0.5)]); // mass 1:4:2:3:.5:.5 / 11
    // Sorted: 4, 3, 2, 1, .5, .5 (/11). Mass above each: 0, 4, 7, 9, 10, 10.5 (/11); a token stays while the mass
    // above it is < p. p = 0.85 (9.35/11): keep 4, 3, 2, 1 (HF: ascending cumsum .045 .09 <= 0.15 are dropped).
    assertFrequencies(
      counts({ topP: 0.85, seed: 3 }, l, N),
      [1, 4, 2, 3, 0, 0].map((v) => v / 10),
      N,
    );
    // p = 0.8 (8.8/11): the 1 goes (9/11 above it).
    assertFrequencies(
      counts({ topP: 0.8, seed: 3 }, l, N),
      [0, 4, 2, 3, 0, 0].map((v) => v / 9),
      N,
    );
    // p = 0.6 (6.6/11): keep 4, 3 (mass above the 2 is 7/11 >= 0.6).
    assertFrequencies(
      counts({ topP: 0.6, seed: 3 }, l, N),
      [0, 4, 0, 3, 0, 0].map((v) => v / 7),
      N,
    );
  });

  it('top-p on a 250k vocabulary stays inside the nucleus', () => {
    const l = randomLogits(250_880, 5);
    const p = softmax([...l]),
      order = [...p.keys()].sort((a, b) => p[b] - p[a]);
    const nucleus = new Set<number>();
    for (let i = 0, above = 0; i < order.length && above < 0.3; i++) {
      nucleus.add(order[i]);
      above += p[order[i]];
    }
    const s = new Sampler({ topP: 0.3, temperature: 1, seed: 5 });
    for (let i = 0; i < 200; i++) assert.ok(nucleus.has(s.sample(l, [])));
  });

  it('repetition penalty: HF semantics on a hand-computed case', () => {
    // logits [2, 1.5, -0.5, -0.6, 0], previous ids [0, 3, 0], penalty 2 -> [1, 1.5, -0.5, -1.2, 0]
    const l = Float32Array.from([2, 1.5, -0.5, -0.6, 0]);
    assert.equal(new Sampler({ repetitionPenalty: 2 }).sample(l, [0, 3, 0]), 1);
    assert.deepEqual([...l], [2, 1.5, -0.5, -0.6, 0].map(Math.fround), "the caller's logits are untouched");
    const p = softmax([1, 1.5, -0.5, -1.2, 0]);
    assertFrequencies(counts({ repetitionPenalty: 2, temperature: 1, seed: 6 }, l, N, [0, 3, 0]), p, N);
    // A negative logit is multiplied: [-0.5, -0.8] with id 0 penalised by 2 -> [-1, -0.8] -> id 1.
    assert.equal(new Sampler({ repetitionPenalty: 2 }).sample(Float32Array.from([-0.5, -0.8]), [0]), 1);
  });

  it('same seed -> same sequence; getState/setState replays; different seeds differ', () => {
    const l = randomLogits(100, 7),
      run = (s: Sampler) => Array.from({ length: 200 }, () => s.sample(l, []));
    const a = new Sampler({ temperature: 1, seed: 42 }),
      b = new Sampler({ temperature: 1, seed: 42 });
    assert.deepEqual(run(a), run(b));
    const saved = a.getState(),
      next = run(a);
    a.setState(saved);
    assert.deepEqual(run(a), next);
    assert.notDeepEqual(run(new Sampler({ temperature: 1, seed: 43 })), run(new Sampler({ temperature: 1, seed: 42 })));
  });

  it('PRNG is splitmix64-seeded xoshiro128**, two u32 per draw (independent reference)', () => {
    for (const seed of [0, 1, 42, 2 ** 40 + 7]) {
      const s = new Sampler({ temperature: 1, seed }),
        ref = refSeed(BigInt(seed));
      assert.deepEqual(s.getState(), ref, `seed ${seed}`);
      s.sample(Float32Array.from([0, 0]), []);
      refStep(ref);
      refStep(ref);
      assert.deepEqual(s.getState(), ref);
    }
    const ref = [1, 2, 3, 4];
    assert.equal(refStep(ref), 11520, 'published first output of xoshiro128** from state {1,2,3,4}');
  });

  it('rejects bad options', () => {
    assert.throws(() => new Sampler({ topP: 0 }), /topP/);
    assert.throws(() => new Sampler({ topK: 1.5 }), /topK/);
    assert.throws(() => new Sampler({ temperature: -1 }), /temperature/);
    assert.throws(() => new Sampler({ seed: -3 }), /seed/);
    assert.throws(() => new Sampler({}).setState([0, 0, 0, 0]), /setState/);
  });
});
