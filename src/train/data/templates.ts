// The six prompt templates per InstructAlign objective: the one source of truth for their wording.
// Byte-for-byte from the official HLTCHKUST/InstructAlign prompt_utils.py (commit 580d047e5e29), typos and the
// double space in MONOLINGUAL[0] included. Placeholders are filled in the official order (see objectives.ts).

/** MLM / `monolingual`: denoise a perturbed sentence in the same language. */
export const MONOLINGUAL_TEMPLATES: readonly string[] = [
  'Denoise the following noisy [SOURCE_LANG] text: "[SOURCE_TEXT]",  to make a correct sentence. [TARGET_TEXT]',
  'Fix and complete the following [SOURCE_LANG] sentence: [SOURCE_TEXT]\n[TARGET_TEXT]',
  'Sentence in [SOURCE_LANG]: [SOURCE_TEXT]\nHow would you fix the sentence to make a correct sentence? [TARGET_TEXT]',
  'Denoise the following noisy text "[SOURCE_TEXT]" to make a correct [SOURCE_LANG] sentence. [TARGET_TEXT]',
  'Fix and complete the following sentence: [SOURCE_TEXT]\n[TARGET_TEXT]',
  'Input text: [SOURCE_TEXT]\nHow would you fix the sentence to make a correct [SOURCE_LANG] sentence? [TARGET_TEXT]',
];

/** MT / `translation`. */
export const TRANSLATION_TEMPLATES: readonly string[] = [
  'Translate the following text from [SOURCE_LANG] to [TARGET_LANG].\nText: [SOURCE_TEXT]\nTranslation: [TARGET_TEXT]',
  '[SOURCE_TEXT]\nTranslate the text above from [SOURCE_LANG] to [TARGET_LANG]. [TARGET_TEXT]',
  'Text in [SOURCE_LANG]: [SOURCE_TEXT]\nHow would you translate that in [TARGET_LANG]? [TARGET_TEXT]',
  'Translate the following text to [TARGET_LANG].\nText: [SOURCE_TEXT]\nTranslation: [TARGET_TEXT]',
  '[SOURCE_TEXT]\nTranslate the text above to [TARGET_LANG]. [TARGET_TEXT]',
  'Input text: [SOURCE_TEXT]\nHow would you translate that into [TARGET_LANG]? [TARGET_TEXT]',
];

/** XSS: crosslingual semantic similarity, label yes/no. */
export const XSS_TEMPLATES: readonly string[] = [
  '[SOURCE_LANG] sentence: [SOURCE_TEXT]\n[TARGET_LANG] sentence: [TARGET_TEXT]\nDo the two sentences have the same meaning? [LABEL]',
  'Sentence A: [SOURCE_TEXT]\nSentence B: [TARGET_TEXT]\nDo sentence A and sentence B have the same meaning? [LABEL]',
  '[SOURCE_LANG] sentence: [SOURCE_TEXT]\n[TARGET_LANG] sentence: [TARGET_TEXT]\nAre the two sentences equivalent? [LABEL]',
  'Sentence A: [SOURCE_TEXT]\nSentence B: [TARGET_TEXT]\nAre sentence A and sentence B equivalent? [LABEL]',
  'Is the [SOURCE_LANG] sentence "[SOURCE_TEXT]" equivalent to the [TARGET_LANG] sentence "[TARGET_TEXT]"? [LABEL]',
  'Is the sentence "[SOURCE_TEXT]" equivalent to the sentence "[TARGET_TEXT]"? [LABEL]',
];

/** TLM / `bilingual`: denoise a perturbed sentence given its translation as context. */
export const BILINGUAL_TEMPLATES: readonly string[] = [
  '[SOURCE_TEXT]. Denoise the previous [SOURCE_LANG] text to its equivalent sentence in [CONTEXT_LANG]: [CONTEXT]\n[TARGET_TEXT]',
  'Context in [CONTEXT_LANG]: [CONTEXT]\nFix the following [SOURCE_LANG] text "[SOURCE_TEXT]" ensuring the meaning is equivalent with the context. [TARGET_TEXT]',
  'Context in [CONTEXT_LANG]: [CONTEXT]\nNoisy text in [SOURCE_LANG]: [SOURCE_TEXT]\nHow would you fix the [SOURCE_LANG] sentence to make the meaning the same as the context? [TARGET_TEXT]',
  '[SOURCE_TEXT]. Denoise the previous [SOURCE_LANG] sentence to it equivalent sentence: [CONTEXT]\n[TARGET_TEXT]',
  'Context: [CONTEXT]\nFix the following [SOURCE_LANG] text "[SOURCE_TEXT]" ensuring the meaning is equivalent with the context. [TARGET_TEXT]',
  'Context: [CONTEXT]\nNoisy text in [SOURCE_LANG]: [SOURCE_TEXT]\nHow would you fix the [SOURCE_LANG] sentence to make the meaning the same as the [CONTEXT_LANG] sentence? [TARGET_TEXT]',
];

/** Replace every occurrence of each placeholder, in the given order (like chained Python str.replace;
 *  split/join so that `$` in a sentence is never read as a replacement pattern). */
export function fill(template: string, values: readonly [string, string][]): string {
  return values.reduce((t, [key, value]) => t.split(key).join(value), template);
}
