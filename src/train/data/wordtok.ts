// Word tokenization for the perturbations: an approximation of NLTK's `word_tokenize` (what the official
// augmentation_utils.py uses). NLTK = Punkt sentence split, then NLTKWordTokenizer (improved Treebank) per sentence.
// - The Treebank part follows NLTK 3.8's regex rules in the same order (quotes become `` and '', punctuation,
//   brackets and clitics such as n't 's 'll split off, "cannot" → "can not"); `\w`/`\b`/`\d` are Unicode as in Python.
// - Punkt is approximated: a word ending in "." (before optional closing quotes/brackets) and whitespace ends a
//   sentence unless it is one letter ("J."), has an inner period ("U.S."), or is a common English abbreviation.
//   Punkt's learned abbreviation list and orthographic heuristics are not reproduced.

const W = '[\\p{L}\\p{N}_]';
type Rule = [RegExp, string];

const STARTING_QUOTES: Rule[] = [
  [/([«“‘„]|`+)/gu, ' $1 '],
  [/^"/u, '``'],
  [/(``)/gu, ' $1 '],
  [/([ ([{<])("|'{2})/gu, '$1 `` '],
  [new RegExp(`(')(?!re|ve|ll|m|t|s|d|n)(${W})(?!${W})`, 'giu'), '$1 $2'],
];

const PUNCTUATION: Rule[] = [
  [/([^.])(\.)([\])}>"'»”’ ]*)\s*$/u, '$1 $2 $3 '],
  [/([:,])([^\p{Nd}])/gu, ' $1 $2'],
  [/([:,])$/u, ' $1 '],
  [/\.{2,}/gu, ' $& '],
  [/[;@#$%&]/gu, ' $& '],
  [/([^.])(\.)([\])}>"']*)\s*$/u, '$1 $2$3 '], // the final period
  [/[?!]/gu, ' $& '],
  [/([^'])' /gu, "$1 ' "],
  [/[*]/gu, ' $& '],
  [/[\][(){}<>]/gu, ' $& '], // brackets
  [/--/gu, ' -- '],
];

const ENDING_QUOTES: Rule[] = [
  [/([»”’])/gu, ' $1 '],
  [/''/gu, " '' "],
  [/"/gu, " '' "],
  [/\s+/gu, ' '],
  [/([^' ])('[sS]|'[mM]|'[dD]|') /gu, '$1 $2 '],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /gu, '$1 $2 '],
];

// MacIntyre contractions (CONTRACTIONS2 and 3), case-insensitive, split into two tokens.
const CONTRACTIONS: Rule[] = [
  ...[
    ['can', 'not'],
    ['d', "'ye"],
    ['gim', 'me'],
    ['gon', 'na'],
    ['got', 'ta'],
    ['lem', 'me'],
    ['more', "'n"],
  ].map(([a, b]): Rule => [new RegExp(`(?<!${W})(${a})(${b})(?!${W})`, 'giu'), ' $1 $2 ']),
  [new RegExp(`(?<!${W})(wan)(na)(?=\\s)`, 'giu'), ' $1 $2 '],
  [new RegExp(` ('t)(is)(?!${W})`, 'giu'), ' $1 $2 '],
  [new RegExp(` ('t)(was)(?!${W})`, 'giu'), ' $1 $2 '],
];

/** NLTKWordTokenizer.tokenize on one sentence. */
export function treebankTokenize(sentence: string): string[] {
  let t = sentence;
  for (const [re, sub] of STARTING_QUOTES) t = t.replace(re, sub);
  for (const [re, sub] of PUNCTUATION) t = t.replace(re, sub);
  t = ` ${t} `;
  for (const [re, sub] of ENDING_QUOTES) t = t.replace(re, sub);
  for (const [re, sub] of CONTRACTIONS) t = t.replace(re, sub);
  return t.split(/\s+/u).filter((x) => x !== '');
}

const ABBREVIATIONS = new Set(
  (
    'mr mrs ms dr prof sr jr st vs etc inc ltd co corp no jan feb mar apr jun jul aug sep sept ' +
    'oct nov dec gen gov sen rep mt ft dept est fig vol approx'
  ).split(' '),
);

const CLOSERS = new Set(['"', "'", '”', '’', ')', ']']);

/**
 * Approximate Punkt: sentence boundaries after "." (see the header), "?" and "!" followed by whitespace.
 * One pass over the whitespace-separated runs (linear): a run ends a sentence when, after dropping its trailing
 * closing quotes/brackets, it ends in . ? or ! and more text follows. (A lazy regex did the same in O(n²) on long
 * runs without spaces: a 160k-character line took 25 s.)
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  const runs = [...text.matchAll(/\S+/gu)];
  let from = 0;
  for (let r = 0; r < runs.length - 1; r++) {
    const run = runs[r][0];
    let q = run.length - 1;
    while (q >= 0 && CLOSERS.has(run[q])) q--;
    if (q < 0 || (run[q] !== '.' && run[q] !== '?' && run[q] !== '!')) continue;
    const word = run.slice(0, q);
    if (run[q] === '.') {
      if (/^[\p{L}]$/u.test(word) || word.includes('.') || ABBREVIATIONS.has(word.toLowerCase().replace(/^\W+/u, '')))
        continue;
      if (word === '') continue; // "..." or a lone period
    }
    const end = (runs[r].index ?? 0) + run.length;
    out.push(text.slice(from, end).trim());
    from = end;
  }
  const last = text.slice(from).trim();
  if (last) out.push(last);
  return out;
}

/** word_tokenize(text): sentences, then Treebank tokens of each, flattened. */
export function wordTokenize(text: string): string[] {
  return splitSentences(text).flatMap(treebankTokenize);
}
