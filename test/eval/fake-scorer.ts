// A deterministic stand-in for the model: the score of a text is a fixed function of its bytes (FNV-1a hash),
// so runs are reproducible and every scored text is recorded for the assertions.
import type { Scorer, TextScore } from '../../src/eval/scorer.ts';

export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

export interface FakeScorer extends Scorer {
  calls: string[][];
  seen: Set<string>;
}

/** Word-level "tokens" (leading whitespace + a run of non-space, as BPE's " word"): each token's log-prob is a hash of
 *  the text up to its end, so label scores are deterministic and depend on the text before the label. */
export function fakeTokens(text: string, mean?: number): TextScore {
  const pieces = text.match(/\s*\S+|\s+/g) ?? [];
  const offsets: number[] = [];
  const logprobs: number[] = [];
  let at = 0,
    chars = 0;
  pieces.forEach((p, t) => {
    offsets.push(at);
    at += Buffer.byteLength(p, 'utf8');
    chars += p.length;
    if (t > 0) logprobs.push(-((fnv1a(text.slice(0, chars)) % 1000) + 1) / 100);
  });
  const m = logprobs.length ? logprobs.reduce((a, b) => a + b, 0) / logprobs.length : NaN;
  return { mean: mean ?? m, logprobs, offsets, bytes: at };
}

/** `onCall(k)` runs before the k-th call (1-based) returns; tests use it to abort mid-run. */
export function fakeScorer(opts: { score?: (t: string) => number; onCall?: (k: number) => void } = {}): FakeScorer {
  const score = opts.score ?? ((t: string) => -(fnv1a(t) % 10007) / 1000);
  const calls: string[][] = [];
  const seen = new Set<string>();
  return {
    calls,
    seen,
    async scoreTexts(texts) {
      calls.push(texts);
      for (const t of texts) seen.add(t);
      opts.onCall?.(calls.length);
      return texts.map(score);
    },
    async scoreTokens(texts) {
      calls.push(texts);
      for (const t of texts) seen.add(t);
      opts.onCall?.(calls.length);
      return texts.map((t) => fakeTokens(t, score(t)));
    },
    describe: () => ({ model: 'fake', adapter: 'none', dtype: 'f32', int8: false }),
  };
}
