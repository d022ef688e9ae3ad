// InstructAlign objectives (official run_t2t_finetuning.py `self_prompt`): turn one directional pair into one
// decoder-only training text (the template filled *including* the target/label). All randomness from the Rng.
import type { Rng } from '../rng.ts';
import { langName, type LangNames } from './langs.ts';
import type { ParallelPair } from './parallel.ts';
import { applyOp, applyOps, drawPerturbSet } from './perturb.ts';
import { BILINGUAL_TEMPLATES, MONOLINGUAL_TEMPLATES, TRANSLATION_TEMPLATES, XSS_TEMPLATES, fill } from './templates.ts';

export type Objective = 'mlm' | 'tlm' | 'mt' | 'xss';

/** Accepted names: our short ones, the official ones, and the official aliases that draw among several. */
const ALIASES: Record<string, readonly Objective[]> = {
  mlm: ['mlm'],
  monolingual: ['mlm'],
  tlm: ['tlm'],
  bilingual: ['tlm'],
  mt: ['mt'],
  translation: ['mt'],
  xss: ['xss'],
  pair: ['mt', 'tlm'],
  'bilingual-xss': ['tlm', 'xss'],
  'pair-xss': ['mt', 'tlm', 'xss'],
  random: ['mlm', 'mt', 'tlm'],
  'random-xss': ['mlm', 'mt', 'tlm', 'xss'],
};
export const OBJECTIVE_NAMES = Object.keys(ALIASES);

/** A comma list: each entry is drawn uniformly, then an alias entry draws uniformly among its objectives
 *  (a single alias therefore behaves exactly like the official one; the official code accepts no alias in a list). */
export type ObjectiveMix = readonly (readonly Objective[])[];

export function parseObjectives(spec: string | readonly string[]): ObjectiveMix {
  const names = (typeof spec === 'string' ? spec.split(',') : spec).map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0) throw new Error('no objectives given (use e.g. --objectives tlm,xss)');
  return names.map((n) => {
    const o = ALIASES[n];
    if (!o) throw new Error(`unknown objective "${n}" (known: ${OBJECTIVE_NAMES.join(', ')})`);
    return o;
  });
}

/** True when only MLM can be drawn: then pairs use the official `monolingual` pairing (buildPairs). */
export function isMonolingualOnly(mix: ObjectiveMix): boolean {
  return mix.every((e) => e.every((o) => o === 'mlm'));
}

export function drawObjective(mix: ObjectiveMix, rng: Rng): Objective {
  return rng.pick(rng.pick(mix));
}

export interface ExampleOptions {
  /** Reproduce the official TLM prompt, which names [SOURCE_LANG] lang1 and [CONTEXT_LANG] lang2 although the noisy
   *  text is sentence2 (lang2). Default false: the paper's reading, the noisy text's own language as [SOURCE_LANG]. */
  officialTlmLangSwap?: boolean;
  /** prompt names that override the built-in ones (`--lang-names`) */
  langNames?: LangNames;
}

export function makeExample(p: ParallelPair, objective: Objective, rng: Rng, opts: ExampleOptions = {}): string {
  const [n1, n2] = [langName(p.lang1, opts.langNames), langName(p.lang2, opts.langNames)];
  switch (objective) {
    case 'mlm': {
      const noisy = applyOps(p.sentence1, drawPerturbSet(rng), rng);
      return fill(rng.pick(MONOLINGUAL_TEMPLATES), [
        ['[SOURCE_TEXT]', noisy],
        ['[SOURCE_LANG]', n1],
        ['[TARGET_TEXT]', p.sentence1],
      ]);
    }
    case 'tlm': {
      const noisy = applyOps(p.sentence2, drawPerturbSet(rng), rng);
      const [srcLang, conLang] = opts.officialTlmLangSwap ? [n1, n2] : [n2, n1];
      return fill(rng.pick(BILINGUAL_TEMPLATES), [
        ['[SOURCE_LANG]', srcLang],
        ['[CONTEXT_LANG]', conLang],
        ['[SOURCE_TEXT]', noisy],
        ['[CONTEXT]', p.sentence1],
        ['[TARGET_TEXT]', p.sentence2],
      ]);
    }
    case 'mt':
      return fill(rng.pick(TRANSLATION_TEMPLATES), [
        ['[SOURCE_LANG]', n1],
        ['[TARGET_LANG]', n2],
        ['[SOURCE_TEXT]', p.sentence1],
        ['[TARGET_TEXT]', p.sentence2],
      ]);
    case 'xss': {
      let [s1, s2] = [p.sentence1, p.sentence2];
      const label = rng.next() < 0.5 ? 'yes' : 'no';
      if (label === 'no') {
        // The same drawn set on both sentences, op by op (s1 then s2), with independent randomness.
        for (const op of drawPerturbSet(rng)) {
          s1 = applyOp(s1, op, rng);
          s2 = applyOp(s2, op, rng);
        }
      }
      return fill(rng.pick(XSS_TEMPLATES), [
        ['[SOURCE_LANG]', n1],
        ['[TARGET_LANG]', n2],
        ['[SOURCE_TEXT]', s1],
        ['[TARGET_TEXT]', s2],
        ['[LABEL]', label],
      ]);
    }
  }
}
