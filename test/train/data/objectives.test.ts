// objectives.ts: objective names/aliases and mixing, the filled texts of each objective, TLM language naming,
// XSS label balance and perturbation of both sentences.
import assert from 'node:assert/strict';
import { drawObjective, makeExample, parseObjectives } from '../../../src/train/data/objectives.ts';
import type { ParallelPair } from '../../../src/train/data/parallel.ts';
import { Rng } from '../../../src/train/rng.ts';

const PAIR: ParallelPair = {
  lang1: 'eng',
  lang2: 'sun',
  sentence1: 'The food here is very good and cheap.',
  sentence2: 'Kadaharan di dieu raos pisan sareng mirah.',
};

function within4Sigma(count: number, N: number, p: number, what: string) {
  const sigma = Math.sqrt(N * p * (1 - p));
  assert.ok(
    Math.abs(count - N * p) <= 4 * sigma,
    `${what}: ${count}/${N}, expected ${N * p} ± ${(4 * sigma).toFixed(1)}`,
  );
}

/** Draw examples until one starts with `prefix` (a way to select a template without reaching into the Rng). */
function firstWith(prefix: string, make: (rng: Rng) => string): string {
  const rng = Rng.fromSeed(9);
  for (let i = 0; i < 1000; i++) {
    const t = make(rng);
    if (t.startsWith(prefix)) return t;
  }
  throw new Error(`no example starts with ${prefix}`);
}

describe('train/data/objectives', () => {
  it('accepts short, official and alias names; rejects unknown ones', () => {
    assert.deepEqual(parseObjectives('mlm,monolingual,tlm,bilingual,mt,translation,xss'), [
      ['mlm'],
      ['mlm'],
      ['tlm'],
      ['tlm'],
      ['mt'],
      ['mt'],
      ['xss'],
    ]);
    assert.deepEqual(parseObjectives('pair'), [['mt', 'tlm']]);
    assert.deepEqual(parseObjectives(['bilingual-xss']), [['tlm', 'xss']]);
    assert.deepEqual(parseObjectives('pair-xss'), [['mt', 'tlm', 'xss']]);
    assert.deepEqual(parseObjectives('random'), [['mlm', 'mt', 'tlm']]);
    assert.deepEqual(parseObjectives('random-xss'), [['mlm', 'mt', 'tlm', 'xss']]);
    assert.throws(() => parseObjectives('tlm,foo'), /unknown objective "foo"/);
    assert.throws(() => parseObjectives(''), /no objectives/);
  });

  it('a comma list and an alias draw uniformly (N=20000, 4σ)', () => {
    const rng = Rng.fromSeed(1);
    const N = 20000;
    const two = parseObjectives('tlm,xss');
    let tlm = 0;
    for (let i = 0; i < N; i++) if (drawObjective(two, rng) === 'tlm') tlm++;
    within4Sigma(tlm, N, 0.5, 'tlm in tlm,xss');
    const three = parseObjectives('pair-xss');
    let mt = 0;
    for (let i = 0; i < N; i++) if (drawObjective(three, rng) === 'mt') mt++;
    within4Sigma(mt, N, 1 / 3, 'mt in pair-xss');
  });

  it('MT fills source/target languages and texts, target included', () => {
    const t = firstWith('Translate the following text from', (r) => makeExample(PAIR, 'mt', r));
    assert.equal(
      t,
      `Translate the following text from English to Sundanese.\nText: ${PAIR.sentence1}\nTranslation: ${PAIR.sentence2}`,
    );
  });

  it("MLM perturbs sentence1 and targets it, in sentence1's language", () => {
    const t = firstWith('Sentence in ', (r) => makeExample(PAIR, 'mlm', r));
    const m = /^Sentence in English: (.*)\nHow would you fix the sentence to make a correct sentence\? (.*)$/.exec(t)!;
    assert.ok(m, t);
    assert.equal(m[2], PAIR.sentence1);
    assert.notEqual(m[1], PAIR.sentence1);
  });

  it('TLM: noisy sentence2 named by its own language by default; officialTlmLangSwap swaps the names', () => {
    const pre = 'Context in ';
    const ours = firstWith(pre, (r) => makeExample(PAIR, 'tlm', r));
    assert.match(
      ours,
      /^Context in English: The food here is very good and cheap\.\n(Fix the following Sundanese text|Noisy text in Sundanese)/,
    );
    assert.ok(ours.endsWith(` ${PAIR.sentence2}`));
    const official = firstWith(pre, (r) => makeExample(PAIR, 'tlm', r, { officialTlmLangSwap: true }));
    assert.match(
      official,
      /^Context in Sundanese: The food here is very good and cheap\.\n(Fix the following English text|Noisy text in English)/,
    );
  });

  it('XSS: yes ≈ 50% with the original sentences; no perturbs both (N=20000, 4σ)', () => {
    const rng = Rng.fromSeed(2);
    const N = 20000;
    let yes = 0,
      bothChanged = 0,
      no = 0;
    for (let i = 0; i < N; i++) {
      const t = makeExample(PAIR, 'xss', rng);
      if (t.endsWith(' yes')) {
        yes++;
        assert.ok(t.includes(PAIR.sentence1) && t.includes(PAIR.sentence2), t);
      } else {
        assert.ok(t.endsWith(' no'), t);
        no++;
        if (!t.includes(PAIR.sentence1) && !t.includes(PAIR.sentence2)) bothChanged++;
      }
    }
    within4Sigma(yes, N, 0.5, 'yes');
    // Tokenization alone splits the final period off, so every "no" text differs from both originals.
    assert.equal(bothChanged, no);
  });
});
