// Translation metrics as sacreBLEU 2.x computes them (browser-safe): chrF / chrF++ (character n-grams of the text
// without whitespace + word n-grams, F-beta of the averaged precision and recall) and BLEU (13a tokenization,
// clipped n-gram counts up to 4, brevity penalty, 'exp' smoothing). Corpus scores sum the statistics over sentences,
// as sacreBLEU's corpus_score does. Checked against sacreBLEU's own published test values (test/eval/mt-metrics.test.ts).

export interface ChrfOptions {
  charOrder?: number; // default 6
  wordOrder?: number; // default 2 (chrF++); 0 = chrF
  beta?: number; // default 2
  /** chrF++.py / NLTK epsilon smoothing (averages the per-order F scores); default false: sacreBLEU's own
   *  "effective order" (averages precision and recall over the orders that both sides have) */
  epsSmoothing?: boolean;
}

const PUNCTS = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** sacreBLEU's chrF word split: whitespace, then one punctuation mark split off the end (or else the start). */
function chrfWords(s: string): string[] {
  const out: string[] = [];
  for (const w of s.split(/\s+/).filter(Boolean)) {
    const chars = [...w];
    if (chars.length === 1) out.push(w);
    else if (PUNCTS.has(chars[chars.length - 1])) out.push(chars.slice(0, -1).join(''), chars[chars.length - 1]);
    else if (PUNCTS.has(chars[0])) out.push(chars[0], chars.slice(1).join(''));
    else out.push(w);
  }
  return out;
}

function counts(items: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) m.set(it, (m.get(it) ?? 0) + 1);
  return m;
}

function charNgrams(chars: string[], n: number): Map<string, number> {
  const grams: string[] = [];
  for (let i = 0; i + n <= chars.length; i++) grams.push(chars.slice(i, i + n).join(''));
  return counts(grams);
}

function wordNgrams(words: string[], n: number): Map<string, number> {
  const grams: string[] = [];
  for (let i = 0; i + n <= words.length; i++) grams.push(words.slice(i, i + n).join(' '));
  return counts(grams);
}

/** [hyp, ref, match] per order; sacreBLEU counts no hypothesis n-grams of an order the reference lacks. */
function matchStats(h: Map<string, number>, r: Map<string, number>): [number, number, number] {
  let hyp = 0,
    ref = 0,
    match = 0;
  for (const [g, c] of h) {
    hyp += c;
    match += Math.min(c, r.get(g) ?? 0);
  }
  for (const c of r.values()) ref += c;
  return [r.size ? hyp : 0, ref, match];
}

/** The flattened [hyp, ref, match] statistics of one sentence pair (characters are code points, not UTF-16 units). */
export function chrfStats(hyp: string, ref: string, o: ChrfOptions = {}): number[] {
  const charOrder = o.charOrder ?? 6,
    wordOrder = o.wordOrder ?? 2;
  const hc = [...hyp.split(/\s+/).join('')],
    rc = [...ref.split(/\s+/).join('')];
  const stats: number[] = [];
  for (let n = 1; n <= charOrder; n++) stats.push(...matchStats(charNgrams(hc, n), charNgrams(rc, n)));
  const hw = chrfWords(hyp),
    rw = chrfWords(ref);
  for (let n = 1; n <= wordOrder; n++) stats.push(...matchStats(wordNgrams(hw, n), wordNgrams(rw, n)));
  return stats;
}

/** chrF from summed statistics, 0–100. */
export function chrfFromStats(stats: readonly number[], o: ChrfOptions = {}): number {
  const order = stats.length / 3;
  const factor = (o.beta ?? 2) ** 2;
  const eps = 1e-16;
  let score = 0,
    avgPrec = 0,
    avgRec = 0,
    effective = 0;
  for (let i = 0; i < order; i++) {
    const [nHyp, nRef, nMatch] = stats.slice(3 * i, 3 * i + 3);
    const prec = nHyp > 0 ? nMatch / nHyp : eps;
    const rec = nRef > 0 ? nMatch / nRef : eps;
    const denom = factor * prec + rec;
    score += denom > 0 ? ((1 + factor) * prec * rec) / denom : eps;
    if (nHyp > 0 && nRef > 0) {
      avgPrec += prec;
      avgRec += rec;
      effective++;
    }
  }
  if (o.epsSmoothing) return (100 * score) / order;
  if (effective === 0) return 0;
  avgPrec /= effective;
  avgRec /= effective;
  return avgPrec + avgRec ? (100 * (1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec) : 0;
}

/**
 * Corpus chrF++ (default) or chrF (wordOrder 0). `refs`: one reference per hypothesis, or several reference sets
 * (refs[r][k] = reference r of sentence k): then each sentence counts the statistics of its best-scoring reference
 * (the first on a tie), as sacreBLEU does.
 */
export function corpusChrf(
  hyps: readonly string[],
  refs: readonly string[] | readonly (readonly string[])[],
  o: ChrfOptions = {},
): number {
  const sets = (typeof refs[0] === 'string' ? [refs] : refs) as readonly (readonly string[])[];
  for (const r of sets)
    if (r.length !== hyps.length) throw new Error(`chrF: ${hyps.length} hypotheses but ${r.length} references`);
  const total = new Array(3 * ((o.charOrder ?? 6) + (o.wordOrder ?? 2))).fill(0);
  hyps.forEach((h, k) => {
    let best: number[] = [];
    let bestF = -1;
    for (const r of sets) {
      const st = chrfStats(h, r[k], o);
      const f = chrfFromStats(st, o);
      if (f > bestF) [best, bestF] = [st, f];
    }
    best.forEach((v, i) => {
      total[i] += v;
    });
  });
  return chrfFromStats(total, o);
}

/** sacreBLEU's default '13a' tokenizer (mteval-v13a): punctuation and symbols split off, periods and commas unless
 *  next to a digit, a dash after a digit. */
export function tokenize13a(line: string): string {
  let s = line
    .replace(/<skipped>/g, '')
    .replace(/-\n/g, '')
    .replace(/\n/g, ' ');
  if (s.includes('&'))
    s = s
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  s = ` ${s} `
    .replace(/([{-~[-` -&(-+:-@/])/g, ' $1 ')
    .replace(/([^0-9])([.,])/g, '$1 $2 ')
    .replace(/([.,])([^0-9])/g, ' $1 $2')
    .replace(/([0-9])(-)/g, '$1 $2 ');
  return s.split(/\s+/).filter(Boolean).join(' ');
}

export interface BleuResult {
  score: number; // 0–100
  precisions: number[]; // 0–100 per order (smoothed as sacreBLEU reports them)
  bp: number;
  sysLen: number;
  refLen: number;
  counts: number[];
  totals: number[];
}

export interface BleuOptions {
  tokenize?: '13a' | 'none';
  /** sentence-BLEU style: stop at the highest order the hypothesis has (sacreBLEU's effective_order) */
  effectiveOrder?: boolean;
}

/**
 * Corpus BLEU with sacreBLEU's defaults (13a, 'exp' smoothing, max order 4). `refs` is one array per reference set
 * (refs[r][k] = reference r of sentence k): counts are clipped by the most any reference has, and the reference
 * length is the one closest to the hypothesis (the shorter on a tie), as sacreBLEU does.
 */
export function corpusBleu(
  hyps: readonly string[],
  refs: readonly (readonly string[])[],
  o: BleuOptions = {},
): BleuResult {
  const N = 4;
  const tok = o.tokenize === 'none' ? (s: string) => s.split(/\s+/).filter(Boolean).join(' ') : tokenize13a;
  for (const r of refs)
    if (r.length !== hyps.length) throw new Error(`BLEU: ${hyps.length} hypotheses but ${r.length} references`);
  const correct = new Array(N).fill(0),
    total = new Array(N).fill(0);
  let sysLen = 0,
    refLen = 0;
  hyps.forEach((h, k) => {
    const hw = tok(h).split(' ').filter(Boolean);
    const rws = refs.map((r) => tok(r[k]).split(' ').filter(Boolean));
    sysLen += hw.length;
    let best = rws[0].length;
    for (const rw of rws) {
      const d = Math.abs(rw.length - hw.length),
        bd = Math.abs(best - hw.length);
      if (d < bd || (d === bd && rw.length < best)) best = rw.length;
    }
    refLen += best;
    for (let n = 1; n <= N; n++) {
      const hg = wordNgrams(hw, n);
      const maxRef = new Map<string, number>();
      for (const rw of rws) for (const [g, c] of wordNgrams(rw, n)) maxRef.set(g, Math.max(maxRef.get(g) ?? 0, c));
      for (const [g, c] of hg) {
        total[n - 1] += c;
        correct[n - 1] += Math.min(c, maxRef.get(g) ?? 0);
      }
    }
  });
  return bleuFromStats(correct, total, sysLen, refLen, o.effectiveOrder);
}

/** Corpus BLEU from its sufficient statistics (n-gram matches and totals per order, system and reference lengths),
 *  which add up over sentences: the bootstrap of compare resamples sentences by summing them. */
export function bleuFromStats(
  correct: readonly number[],
  total: readonly number[],
  sysLen: number,
  refLen: number,
  effectiveOrder = false,
): BleuResult {
  const N = 4;
  const precisions = new Array(N).fill(0);
  let smooth = 1,
    effOrder = N;
  for (let n = 1; n <= N; n++) {
    if (total[n - 1] === 0) break;
    if (effectiveOrder) effOrder = n;
    if (correct[n - 1] === 0) {
      smooth *= 2;
      precisions[n - 1] = 100 / (smooth * total[n - 1]);
    } else precisions[n - 1] = (100 * correct[n - 1]) / total[n - 1];
  }
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const counts = [...correct],
    totals = [...total];
  // no unigram in common: 0, whatever the smoothing (sacreBLEU ≥ 2, its issue #141)
  if (correct[0] === 0) return { score: 0, precisions, bp, sysLen, refLen, counts, totals };
  const logs = precisions.slice(0, effOrder).map((p) => (p > 0 ? Math.log(p) : -9999999999));
  const score = sysLen === 0 ? 0 : bp * Math.exp(logs.reduce((a, b) => a + b, 0) / effOrder);
  return { score, precisions, bp, sysLen, refLen, counts, totals };
}
