// wordtok.ts against NLTK's own doctests: nltk/test/tokenize.doctest (word_tokenize, s1–s12) and the
// NLTKWordTokenizer docstring in nltk/tokenize/destructive.py (no sentence split).
import assert from 'node:assert/strict';
import { treebankTokenize, wordTokenize } from '../../../src/train/data/wordtok.ts';

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
});
