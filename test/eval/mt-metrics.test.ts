// mt-metrics.ts against sacreBLEU's own published values (its test suite and README, sacreBLEU 2.x: mjpost/sacrebleu
// test/test_chrf.py, test/test_bleu.py, test/test_sentence_bleu.py, README "chrF2 = 59.73"), with sacreBLEU's own
// tolerances (1e-4 for chrF, 1e-3 for sentence BLEU, 1e-6 for corpus BLEU where 8 digits are published), and one
// chrF++ value computed by hand (the word n-gram part, which sacreBLEU's tests do not pin).
import { strict as assert } from 'node:assert';
import { chrfStats, corpusBleu, corpusChrf, tokenize13a } from '../../src/eval/mt-metrics.ts';

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (tolerance ${tol})`);

// README / test_bleu.py: three system sentences, two reference sets
const REFS = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
];
const SYS = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];

describe('eval/mt-metrics (sacreBLEU definitions)', () => {
  it('corpus BLEU: 13a and none tokenization, empty hypotheses (test_bleu.py)', () => {
    const b = corpusBleu(SYS, REFS);
    close(b.score, 48.530827, 1e-6, 'BLEU 13a');
    assert.deepEqual([b.sysLen, b.refLen], [17, 18]); // README: hyp_len = 17 ref_len = 18
    close(corpusBleu(SYS, REFS, { tokenize: 'none' }).score, 49.1919566, 1e-6, 'BLEU none');
    assert.equal(corpusBleu(['', '', ''], REFS).score, 0);
  });

  it('sentence BLEU with effective order and exp smoothing (test_sentence_bleu.py)', () => {
    const sys = 'Producția de zahăr primă va fi exprimată în ceea ce privește zahărul alb;';
    const ref = 'producţia de zahăr brut se exprimă în zahăr alb;';
    close(corpusBleu([sys], [[ref]], { effectiveOrder: true }).score, 8.493, 1e-3, 'sentence BLEU');
    assert.equal(corpusBleu(['this is a cat'], [['okay thanks']], { effectiveOrder: true }).score, 0);
  });

  it('13a tokenization: punctuation split, apostrophes kept, digits keep their period/comma', () => {
    assert.equal(tokenize13a("It wasn't surprising. 3.5, a-b 3-4 (x)"), "It wasn't surprising . 3.5 , a-b 3 - 4 ( x )");
  });

  it('chrF (β=3, six character orders): effective-order and epsilon smoothing cases (test_chrf.py)', () => {
    const eff = { charOrder: 6, wordOrder: 0, beta: 3 };
    const eps = { ...eff, epsSmoothing: true };
    for (const [h, r, v] of [
      [['a'], ['a'], 100],
      [['a b c'], ['abc'], 100],
      [['a', 'b'], ['a', 'c'], 50],
      [['aa'], ['ab'], 25],
      [[''], ['reference'], 0],
    ] as const)
      close(corpusChrf(h, r, eff), v, 1e-4, `chrF eff ${h}`);
    for (const [h, r, v] of [
      [['aa'], ['ab'], 8.3333],
      [['a'], ['a'], 16.6667],
      [['a b c'], ['a b c'], 50],
      [['abcdefg'], ['hijklmnop'], 0],
      [
        [
          ' risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .',
        ],
        [
          'risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .',
        ],
        63.36173,
      ],
      [
        [' Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. '],
        ['Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.'],
        64.1302698,
      ],
    ] as const)
      close(corpusChrf(h, r, eps), v, 1e-4, `chrF eps ${h}`);
  });

  it('sentence chrF2 with epsilon smoothing, Czech (test_chrf.py) and the README corpus chrF2 with two references', () => {
    const o = { wordOrder: 0, epsSmoothing: true };
    close(
      corpusChrf(
        ['Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.'],
        ['Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.'],
        o,
      ),
      39.14078509,
      1e-4,
      'cs 1',
    );
    close(
      corpusChrf(
        ['Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.'],
        ['Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.'],
        o,
      ),
      57.15704367,
      1e-4,
      'cs 3',
    );
    close(corpusChrf(SYS, REFS, { wordOrder: 0 }), 59.73, 0.005, 'README chrF2 (2 decimals published)');
  });

  it('chrF++ (6 character + 2 word orders, β=2): "hi, there" vs "hi there" = 50.7675, computed by hand', () => {
    // characters without spaces: "hi,there" vs "hithere"; words: [hi , there] vs [hi there] (the comma split off)
    // [hyp, ref, match] per order: c1 8 7 7 | c2 7 6 5 | c3 6 5 3 | c4 5 4 2 | c5 4 3 1 | c6 3 2 0 | w1 3 2 2 | w2 2 1 0
    assert.deepEqual(
      chrfStats('hi, there', 'hi there'),
      [8, 7, 7, 7, 6, 5, 6, 5, 3, 5, 4, 2, 4, 3, 1, 3, 2, 0, 3, 2, 2, 2, 1, 0],
    );
    // P = mean(7/8, 5/7, 3/6, 2/5, 1/4, 0, 2/3, 0) = 0.425744; R = mean(1, 5/6, 3/5, 2/4, 1/3, 0, 1, 0) = 0.533333
    // F2 = 5PR / (4P + R) = 0.507675
    close(corpusChrf(['hi, there'], ['hi there']), 50.7675, 1e-4, 'chrF++');
    assert.equal(corpusChrf(['Magandang umaga.'], ['Magandang umaga.']), 100);
    assert.equal(corpusChrf([''], ['Magandang umaga.']), 0);
    assert.throws(() => corpusChrf(['a'], ['a', 'b']), /1 hypotheses but 2 references/);
  });
});
