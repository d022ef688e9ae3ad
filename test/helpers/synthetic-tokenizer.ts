// A synthetic BLOOM-size tokenizer.json (250,680 tokens, ~250k merges, ~14 MB), generated in-process (the real one
// is not shipped): test/tokenizer/load-time.test.ts loads it, bench/tokenizer-load.bench.ts times the load; and
// bloomTokenizerJSON, the same file's frame around any vocab and merges (test/tokenizer/tokenizer.test.ts).
import { loadWasm } from '../../src/wasm/load.ts';
import { randInt } from './rng.ts';

export const VOCAB = 250_680;

/** A BLOOM-shaped tokenizer.json: 4 specials, the 256 byte chars, then one token per merge of two earlier ones. */
export async function syntheticBloomTokenizer(): Promise<string> {
  const w = await loadWasm();
  const rnd = randInt(12345);
  const toks = [
    '<unk>',
    '<s>',
    '</s>',
    '<pad>',
    ...Array.from({ length: 256 }, (_, b) => String.fromCharCode(w.byteChar(b))),
  ];
  const seen = new Set(toks);
  const merges: string[] = [];
  // Merged tokens are built from 'a'..'z' and 'Ġ' (space), so that text made of them is plain text.
  const parts = [...'abcdefghijklmnopqrstuvwxyz', 'Ġ'];
  while (toks.length < VOCAB) {
    // Left part from anywhere, right part from the early (frequent) ones: lengths stay word-like (<= 14 chars).
    const a = parts[rnd(parts.length)],
      b = parts[rnd(Math.min(parts.length, 3000))];
    const c = a + b;
    if (c.length > 14 || seen.has(c)) continue;
    seen.add(c);
    toks.push(c);
    parts.push(c);
    merges.push(`${a} ${b}`);
  }
  const vocab: Record<string, number> = {};
  toks.forEach((t, i) => (vocab[t] = i));
  return JSON.stringify(
    bloomTokenizerJSON(vocab, merges, {
      type: 'ByteLevel',
      add_prefix_space: true,
      trim_offsets: false,
      use_regex: true,
    }),
  );
}

/** BLOOM's pre-tokenizer: its Split regex (no whitespace or listed punctuation inside a piece), then ByteLevel. */
const BLOOM_SPLIT = {
  type: 'Split',
  pattern: { Regex: ' ?[^(\\s|[.,!?…。，、।۔،])]+' },
  behavior: 'Isolated',
  invert: false,
};
export const BYTELEVEL = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };

/**
 * A BLOOM-kind tokenizer.json around the given vocab and merges: its 4 special tokens as added tokens, its
 * pre-tokenizer and ByteLevel decoder, a BPE model; `postProcessor` as given (BLOOM's file has ByteLevel's).
 */
export function bloomTokenizerJSON(
  vocab: Record<string, number>,
  merges: unknown[],
  postProcessor: unknown = null,
): any {
  return {
    version: '1.0',
    added_tokens: ['<unk>', '<s>', '</s>', '<pad>'].map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [BLOOM_SPLIT, BYTELEVEL] },
    post_processor: postProcessor,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}
