// Next-token sampling with HF generate's semantics, in HF's order: repetition penalty, then temperature,
// top-k, top-p, then one draw from the renormalised softmax (xoshiro128**, rng.ts). Temperature 0 = argmax.
import { Buf } from './buf';
import { nextF64 } from './rng';

const keys = new Buf();    // u64 sort keys (descending logit, then ascending index)
const probs = new Buf();   // f64 per candidate
const tmp = new Buf();     // radix sort's second array
const counts = new StaticArray<u32>(256);

/**
 * Samples one id from `n` f32 logits at `logits` (modified in place), given `nPrev` earlier ids at `prev`
 * and the PRNG state at `state`. topK <= 0 and topP >= 1 switch those filters off.
 */
export function sample(state: usize, logits: usize, n: i32, prev: usize, nPrev: i32,
  temperature: f64, topK: i32, topP: f64, penalty: f64): i32 {
  if (penalty != 1) applyPenalty(logits, n, prev, nPrev, <f32>penalty);
  if (temperature == 0) return argmax(logits, n);
  if (temperature != 1) {
    for (let i = 0; i < n; i++) {
      const p = logits + (<usize>i << 2);
      store<f32>(p, <f32>(<f64>load<f32>(p) / temperature));
    }
  }
  // Candidates in descending order of logit when a filter needs the order; else all ids in index order.
  let m = n;
  const sorted = (topK > 0 && topK < n) || topP < 1;
  const K = keys.ensure(<usize>n << 3);
  if (sorted) m = sortCandidates(logits, n, topK > 0 && topK < n ? topK : n, topP);
  const P = probs.ensure(<usize>m << 3);
  let mx = -Infinity;
  for (let j = 0; j < m; j++) mx = max(mx, <f64>load<f32>(logits + (<usize>idAt(K, j, sorted) << 2)));
  let total = 0.0;
  for (let j = 0; j < m; j++) {
    const p = Math.exp(<f64>load<f32>(logits + (<usize>idAt(K, j, sorted) << 2)) - mx);
    store<f64>(P + (<usize>j << 3), p);
    total += p;
  }
  const target = nextF64(state) * total;
  let acc = 0.0;
  for (let j = 0; j < m; j++) {
    acc += load<f64>(P + (<usize>j << 3));
    if (acc > target) return idAt(K, j, sorted);
  }
  // Rounding can leave target just above the sum: take the last candidate with nonzero weight.
  for (let j = m - 1; j > 0; j--) if (load<f64>(P + (<usize>j << 3)) > 0) return idAt(K, j, sorted);
  return idAt(K, 0, sorted);
}

// @ts-ignore: decorator
@inline function idAt(K: usize, j: i32, sorted: bool): i32 {
  return sorted ? <i32>(load<u64>(K + (<usize>j << 3)) & 0xffffffff) : j;
}

/** HF RepetitionPenaltyLogitsProcessor: each distinct earlier id once; logit < 0 times penalty, else divided. */
function applyPenalty(logits: usize, n: i32, prev: usize, nPrev: i32, penalty: f32): void {
  const seen = keys.ensure(<usize>n << 3);   // reused as a byte mask: ids already penalised
  memory.fill(seen, 0, <usize>n);
  for (let k = 0; k < nPrev; k++) {
    const id = load<i32>(prev + (<usize>k << 2));
    if (<u32>id >= <u32>n || load<u8>(seen + id)) continue;
    store<u8>(seen + id, 1);
    const p = logits + (<usize>id << 2), x = load<f32>(p);
    store<f32>(p, x < 0 ? x * penalty : x / penalty);
  }
}

/** Lowest index among the largest logits (NaN never wins). */
function argmax(logits: usize, n: i32): i32 {
  let best = 0, bv = load<f32>(logits);
  for (let i = 1; i < n; i++) {
    const v = load<f32>(logits + (<usize>i << 2));
    if (v > bv || (bv != bv && v == v)) { bv = v; best = i; }
  }
  return best;
}

/** Key that sorts ascending by descending logit, then ascending id. */
// @ts-ignore: decorator
@inline function descKey(v: f32, id: i32): u64 {
  const b = reinterpret<u32>(v);
  const ord = b & 0x80000000 ? ~b : b | 0x80000000;   // monotone in v as an unsigned integer
  return (<u64>(~ord) << 32) | <u32>id;
}

/**
 * Fills `keys` with the candidates kept by top-k then top-p, in descending order; returns their count.
 * top-k (HF TopKLogitsWarper) keeps every logit >= the k-th largest, ties included. top-p (HF
 * TopPLogitsWarper) drops the tail whose ascending cumulative probability is <= 1 - topP, keeping >= 1.
 */
function sortCandidates(logits: usize, n: i32, k: i32, topP: f64): i32 {
  const K = keys.ptr;
  let mx = -Infinity;
  for (let i = 0; i < n; i++) mx = max(mx, <f64>load<f32>(logits + (<usize>i << 2)));
  let total = 0.0;
  for (let i = 0; i < n; i++) total += Math.exp(<f64>load<f32>(logits + (<usize>i << 2)) - mx);
  // Tokens with p < (1 - topP) / n are dropped by top-p in any case (their whole mass is <= 1 - topP),
  // so they need not be sorted: this keeps top-p cheap on a 250k vocabulary.
  const floor = topP < 1 ? Math.log((1 - topP) / n * total) + mx : -Infinity;
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = load<f32>(logits + (<usize>i << 2));
    if (<f64>v >= floor || k < n) { store<u64>(K + (<usize>m << 3), descKey(v, i)); m++; }
  }
  sortHigh(K, m);
  if (k < m) {
    const kth = <u32>(load<u64>(K + (<usize>(k - 1) << 3)) >> 32);
    while (k < m && <u32>(load<u64>(K + (<usize>k << 3)) >> 32) == kth) k++;
    m = k;
  }
  if (topP >= 1) return m;
  // Renormalise over the top-k survivors (top-k set the rest to -inf before HF's softmax).
  let kept = 0.0;
  for (let j = 0; j < m; j++) kept += Math.exp(<f64>load<f32>(logits + (<usize>idAt(K, j, true) << 2)) - mx);
  let above = 0.0, j = 0;
  // Keep while the mass strictly above the candidate is < topP (= ascending cumsum > 1 - topP).
  while (j < m) {
    if (j > 0 && above >= topP) break;
    above += Math.exp(<f64>load<f32>(logits + (<usize>idAt(K, j, true) << 2)) - mx) / kept;
    j++;
  }
  return j;
}

/**
 * Stable sort of m u64 keys by their high 32 bits (the ids in the low bits were written ascending, so ties
 * stay in id order): insertion sort when short, else LSD radix sort, four 8-bit passes.
 */
function sortHigh(K: usize, m: i32): void {
  if (m <= 48) {
    for (let i = 1; i < m; i++) {
      const key = load<u64>(K + (<usize>i << 3));
      let j = i - 1;
      while (j >= 0 && (load<u64>(K + (<usize>j << 3)) >> 32) > (key >> 32)) { store<u64>(K + (<usize>(j + 1) << 3), load<u64>(K + (<usize>j << 3))); j--; }
      store<u64>(K + (<usize>(j + 1) << 3), key);
    }
    return;
  }
  const T = tmp.ensure(<usize>m << 3);
  radixPass(K, T, m, 32);
  radixPass(T, K, m, 40);
  radixPass(K, T, m, 48);
  radixPass(T, K, m, 56);
}

function radixPass(src: usize, dst: usize, m: i32, shift: u64): void {
  memory.fill(changetype<usize>(counts), 0, 256 << 2);
  for (let j = 0; j < m; j++) {
    const d = <i32>((load<u64>(src + (<usize>j << 3)) >> shift) & 0xff);
    unchecked(counts[d] += 1);
  }
  let sum: u32 = 0;
  for (let d = 0; d < 256; d++) { const c = unchecked(counts[d]); unchecked(counts[d] = sum); sum += c; }
  for (let j = 0; j < m; j++) {
    const key = load<u64>(src + (<usize>j << 3));
    const d = <i32>((key >> shift) & 0xff);
    const at = unchecked(counts[d]);
    unchecked(counts[d] = at + 1);
    store<u64>(dst + (<usize>at << 3), key);
  }
}
