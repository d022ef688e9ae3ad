// BLOOM's real tokenizer.json (250,680 tokens, ~250k merges, ~14 MB) loads: a synthetic file of the same size
// (test/helpers/synthetic-tokenizer.ts) is loaded, its merges apply and text round-trips. How long the load takes
// is measured by bench/tokenizer-load.bench.ts (typical: ~0.4 s), not asserted here: a wall-clock limit failed CI
// on a loaded machine (1965 ms against 1500).
import assert from 'node:assert/strict';
import { Tokenizer } from '../../src/wasm/tokenizer.ts';
import { syntheticBloomTokenizer, VOCAB } from '../helpers/synthetic-tokenizer.ts';

describe('tokenizer: a BLOOM-size tokenizer.json', () => {
  it(`loads ${VOCAB} tokens / ~250k merges from JSON text`, async () => {
    const text = await syntheticBloomTokenizer();
    const tok = await Tokenizer.fromJSON(text, 'synthetic-bloom.json');
    try {
      assert.equal(tok.vocabSize, VOCAB);
      const t = tok.decode(Array.from({ length: 40 }, (_, i) => 300 + i)); // early merged tokens, letters and spaces
      const ids = tok.encode(t);
      assert.equal(tok.decode(ids), t);
      assert.ok(ids.length < t.length / 2, `merges apply (${ids.length} ids for ${t.length} chars)`);
    } finally {
      tok.free();
    }
  });
});
