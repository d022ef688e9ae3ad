// wordtok.ts against NLTK's own doctests: nltk/test/tokenize.doctest (word_tokenize, s1–s12) and the
// NLTKWordTokenizer docstring in nltk/tokenize/destructive.py (no sentence split).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitSentences, treebankTokenize, wordTokenize } from '../../../src/train/data/wordtok.ts';

/** The former splitter (a lazy regex, O(n²) on long runs without spaces): the definition the linear scan keeps. */
function regexSplit(text: string): string[] {
  const abbreviations = new Set(
    'mr mrs ms dr prof sr jr st vs etc inc ltd co corp no jan feb mar apr jun jul aug sep sept oct nov dec gen gov sen rep mt ft dept est fig vol approx'.split(
      ' ',
    ),
  );
  const out: string[] = [];
  const re = /(\S*?)([.?!])(["'”’)\]]*)(?=\s+\S)/gu;
  let from = 0;
  for (let m: RegExpExecArray | null; (m = re.exec(text)); ) {
    const end = m.index + m[0].length;
    const word = m[1];
    if (m[2] === '.') {
      if (/^[\p{L}]$/u.test(word) || word.includes('.') || abbreviations.has(word.toLowerCase().replace(/^\W+/u, '')))
        continue;
      if (word === '') continue;
    }
    out.push(text.slice(from, end).trim());
    from = end;
  }
  const last = text.slice(from).trim();
  if (last) out.push(last);
  return out;
}

const WORD_TOKENIZE_CASES: [string, string[]][] = [
  [
    'On a $50,000 mortgage of 30 years at 8 percent, the monthly payment would be $366.88.',
    [
      'On',
      'a',
      '$',
      '50,000',
      'mortgage',
      'of',
      '30',
      'years',
      'at',
      '8',
      'percent',
      ',',
      'the',
      'monthly',
      'payment',
      'would',
      'be',
      '$',
      '366.88',
      '.',
    ],
  ],
  [
    '"We beat some pretty good teams to get here," Slocum said.',
    ['``', 'We', 'beat', 'some', 'pretty', 'good', 'teams', 'to', 'get', 'here', ',', "''", 'Slocum', 'said', '.'],
  ],
  [
    'Well, we couldn\'t have this predictable, cliche-ridden, "Touched by an Angel" (a show creator John Masius worked on) wanna-be if she didn\'t.',
    [
      'Well',
      ',',
      'we',
      'could',
      "n't",
      'have',
      'this',
      'predictable',
      ',',
      'cliche-ridden',
      ',',
      '``',
      'Touched',
      'by',
      'an',
      'Angel',
      "''",
      '(',
      'a',
      'show',
      'creator',
      'John',
      'Masius',
      'worked',
      'on',
      ')',
      'wanna-be',
      'if',
      'she',
      'did',
      "n't",
      '.',
    ],
  ],
  [
    'I cannot cannot work under these conditions!',
    ['I', 'can', 'not', 'can', 'not', 'work', 'under', 'these', 'conditions', '!'],
  ],
  ['The company spent $30,000,000 last year.', ['The', 'company', 'spent', '$', '30,000,000', 'last', 'year', '.']],
  [
    'The company spent 40.75% of its income last year.',
    ['The', 'company', 'spent', '40.75', '%', 'of', 'its', 'income', 'last', 'year', '.'],
  ],
  ['He arrived at 3:00 pm.', ['He', 'arrived', 'at', '3:00', 'pm', '.']],
  [
    'I bought these items: books, pencils, and pens.',
    ['I', 'bought', 'these', 'items', ':', 'books', ',', 'pencils', ',', 'and', 'pens', '.'],
  ],
  [
    'Though there were 150, 100 of them were old.',
    ['Though', 'there', 'were', '150', ',', '100', 'of', 'them', 'were', 'old', '.'],
  ],
  [
    "There were 300,000, but that wasn't enough.",
    ['There', 'were', '300,000', ',', 'but', 'that', 'was', "n't", 'enough', '.'],
  ],
  ['I called Dr. Jones. I called Dr. Jones.', ['I', 'called', 'Dr.', 'Jones', '.', 'I', 'called', 'Dr.', 'Jones', '.']],
  [
    'Ich muss unbedingt daran denken, Mehl, usw. fur einen Kuchen einzukaufen. Ich muss.',
    [
      'Ich',
      'muss',
      'unbedingt',
      'daran',
      'denken',
      ',',
      'Mehl',
      ',',
      'usw',
      '.',
      'fur',
      'einen',
      'Kuchen',
      'einzukaufen',
      '.',
      'Ich',
      'muss',
      '.',
    ],
  ],
];

describe('train/data/wordtok (NLTK word_tokenize approximation)', () => {
  WORD_TOKENIZE_CASES.forEach(([text, expected], i) => {
    it(`tokenize.doctest s${i + 1}`, () => assert.deepEqual(wordTokenize(text), expected));
  });

  it('NLTKWordTokenizer docstring (one "sentence": only the final period splits)', () => {
    const s = 'Good muffins cost $3.88 (roughly 3,36 euros)\nin New York.  Please buy me\ntwo of them.\nThanks.';
    assert.deepEqual(treebankTokenize(s), [
      'Good',
      'muffins',
      'cost',
      '$',
      '3.88',
      '(',
      'roughly',
      '3,36',
      'euros',
      ')',
      'in',
      'New',
      'York.',
      'Please',
      'buy',
      'me',
      'two',
      'of',
      'them.',
      'Thanks',
      '.',
    ]);
  });

  it("re-tokenizing an op output (combined ops) keeps ___ and quote tokens; a spaced '' becomes `` as in NLTK", () => {
    // STARTING_QUOTES rule ([ (\[{<])("|'') → `` applies to the '' that a first pass produced.
    assert.deepEqual(wordTokenize("___ rumah ``  kami '' ___ ."), ['___', 'rumah', '``', 'kami', '``', '___', '.']);
    assert.deepEqual(wordTokenize('Apé kabar, Siti?'), ['Apé', 'kabar', ',', 'Siti', '?']);
  });

  it('splitSentences agrees with the former regex splitter on random short texts (fast-check)', () => {
    const piece = fc.constantFrom(
      'a',
      'bc',
      '.',
      '?',
      '!',
      '"',
      "'",
      '”',
      ')',
      ']',
      ' ',
      '\n',
      'J',
      'U.S.',
      'Mr',
      'etc',
      'é',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 16 }), (parts) => {
        const t = parts.join('');
        assert.deepEqual(splitSentences(t), regexSplit(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('a 1 MB line without spaces is split and tokenized in linear time (the regex took > 300 s)', () => {
    const t = 'ab'.repeat(500_000);
    const start = performance.now();
    assert.deepEqual(splitSentences(t), [t]);
    assert.equal(wordTokenize(`${t}. ${t}?`).length, 4);
    // Generous bound (about 0.1 s here); the quadratic version needed minutes.
    assert.ok(performance.now() - start < 20_000);
  });
});
