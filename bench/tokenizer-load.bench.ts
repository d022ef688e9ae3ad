// Load time of a BLOOM-size tokenizer.json (250,680 tokens, ~250k merges, ~14 MB of JSON, synthetic: see
// test/helpers/synthetic-tokenizer.ts): Tokenizer.fromJSON, JSON.parse included, 5 runs after one warm-up.
//   node --import tsx bench/tokenizer-load.bench.ts
import { cpus } from 'node:os';
import { Tokenizer } from '../src/wasm/tokenizer.ts';
import { syntheticBloomTokenizer, VOCAB } from '../test/helpers/synthetic-tokenizer.ts';

const RUNS = 5;
const text = await syntheticBloomTokenizer();
const times: number[] = [];
for (let r = 0; r <= RUNS; r++) {
  const t0 = performance.now();
  const tok = await Tokenizer.fromJSON(text, 'synthetic-bloom.json');
  const ms = performance.now() - t0;
  if (tok.vocabSize !== VOCAB) throw new Error(`vocab ${tok.vocabSize}, expected ${VOCAB}`);
  tok.free();
  if (r > 0) times.push(ms);
}
times.sort((a, b) => a - b);
console.log(
  `tokenizer.json load (${(text.length / 1e6).toFixed(1)}M chars, ${VOCAB} tokens), ${cpus().length} CPUs: ` +
    `median ${times[RUNS >> 1].toFixed(0)} ms, min ${times[0].toFixed(0)}, max ${times[RUNS - 1].toFixed(0)} (${RUNS} runs)`,
);
