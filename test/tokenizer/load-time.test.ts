// Load-time GUARD (not a benchmark): BLOOM's real tokenizer.json (250,680 tokens, ~250k merges, ~14 MB) must
// load in well under a second. A synthetic file of the same size is generated in-process (the real one is not
// shipped); the assertion allows 1500 ms so that a loaded CI machine does not fail it. Typical: ~0.4 s.
import assert from 'node:assert/strict';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';
import { loadWasm } from '../../src/wasm/load.ts';
import { randInt } from '../helpers/rng.ts';

const VOCAB = 250_680;
const LIMIT_MS = 1500;

/** A BLOOM-shaped tokenizer.json: 4 specials, the 256 byte chars, then one token per merge of two earlier ones. */
async function synthetic(): Promise<string> {
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
  return JSON.stringify({
    version: '1.0',
    added_tokens: toks.slice(0, 4).map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: ' ?[^(\\s|[.,!?…。，、।۔،])]+' }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
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
  });
}

describe('tokenizer: load time of a BLOOM-size tokenizer.json (guard)', () => {
  it(`loads ${VOCAB} tokens / ~250k merges from JSON text in < ${LIMIT_MS} ms`, async () => {
    const text = await synthetic();
    const times: number[] = [];
    let tok: Tokenizer | undefined;
    for (let r = 0; r < 2; r++) {
      tok?.free();
      const t0 = performance.now();
      tok = await Tokenizer.fromJSON(text, 'synthetic-bloom.json');
      times.push(performance.now() - t0);
    }
    console.log(
      `      ${(text.length / 1e6).toFixed(1)}M chars of JSON; fromJSON (JSON.parse included): ${times.map((t) => t.toFixed(0)).join(' ms, ')} ms`,
    );
    assert.equal(tok!.vocabSize, VOCAB);
    const t = tok!.decode(Array.from({ length: 40 }, (_, i) => 300 + i)); // early merged tokens, letters and spaces
    const ids = tok!.encode(t);
    assert.equal(tok!.decode(ids), t);
    assert.ok(ids.length < t.length / 2, `merges apply (${ids.length} ids for ${t.length} chars)`);
    assert.ok(Math.min(...times) < LIMIT_MS, `load took ${Math.min(...times).toFixed(0)} ms`);
    tok!.free();
  });
});
