// templates.ts against the official prompt lists, pasted verbatim (Python source text) from
// HLTCHKUST/InstructAlign prompt_utils.py @ 580d047e5e2901797323dc46112876b95c29d75c, decoded here.
import assert from 'node:assert/strict';
import {
  BILINGUAL_TEMPLATES,
  MONOLINGUAL_TEMPLATES,
  TRANSLATION_TEMPLATES,
  XSS_TEMPLATES,
  fill,
} from '../../../src/train/data/templates.ts';

const PROMPT_UTILS_PY = String.raw`
MONOLINGUAL_PROMPTS = [
    'Denoise the following noisy [SOURCE_LANG] text: "[SOURCE_TEXT]",  to make a correct sentence. [TARGET_TEXT]',
    "Fix and complete the following [SOURCE_LANG] sentence: [SOURCE_TEXT]\n[TARGET_TEXT]",
    "Sentence in [SOURCE_LANG]: [SOURCE_TEXT]\nHow would you fix the sentence to make a correct sentence? [TARGET_TEXT]",
    'Denoise the following noisy text "[SOURCE_TEXT]" to make a correct [SOURCE_LANG] sentence. [TARGET_TEXT]',
    "Fix and complete the following sentence: [SOURCE_TEXT]\n[TARGET_TEXT]",
    "Input text: [SOURCE_TEXT]\nHow would you fix the sentence to make a correct [SOURCE_LANG] sentence? [TARGET_TEXT]",
]
    
TRANSLATION_PROMPTS = [
    "Translate the following text from [SOURCE_LANG] to [TARGET_LANG].\nText: [SOURCE_TEXT]\nTranslation: [TARGET_TEXT]",
    "[SOURCE_TEXT]\nTranslate the text above from [SOURCE_LANG] to [TARGET_LANG]. [TARGET_TEXT]",
    "Text in [SOURCE_LANG]: [SOURCE_TEXT]\nHow would you translate that in [TARGET_LANG]? [TARGET_TEXT]",
    "Translate the following text to [TARGET_LANG].\nText: [SOURCE_TEXT]\nTranslation: [TARGET_TEXT]",
    "[SOURCE_TEXT]\nTranslate the text above to [TARGET_LANG]. [TARGET_TEXT]",
    "Input text: [SOURCE_TEXT]\nHow would you translate that into [TARGET_LANG]? [TARGET_TEXT]",
]
    
XSS_PROMPTS = [
    "[SOURCE_LANG] sentence: [SOURCE_TEXT]\n[TARGET_LANG] sentence: [TARGET_TEXT]\nDo the two sentences have the same meaning? [LABEL]",
    "Sentence A: [SOURCE_TEXT]\nSentence B: [TARGET_TEXT]\nDo sentence A and sentence B have the same meaning? [LABEL]",
    "[SOURCE_LANG] sentence: [SOURCE_TEXT]\n[TARGET_LANG] sentence: [TARGET_TEXT]\nAre the two sentences equivalent? [LABEL]",
    "Sentence A: [SOURCE_TEXT]\nSentence B: [TARGET_TEXT]\nAre sentence A and sentence B equivalent? [LABEL]",
    'Is the [SOURCE_LANG] sentence "[SOURCE_TEXT]" equivalent to the [TARGET_LANG] sentence "[TARGET_TEXT]"? [LABEL]',
    'Is the sentence "[SOURCE_TEXT]" equivalent to the sentence "[TARGET_TEXT]"? [LABEL]',
]

BILINGUAL_PROMPTS = [
    '[SOURCE_TEXT]. Denoise the previous [SOURCE_LANG] text to its equivalent sentence in [CONTEXT_LANG]: [CONTEXT]\n[TARGET_TEXT]',
    'Context in [CONTEXT_LANG]: [CONTEXT]\nFix the following [SOURCE_LANG] text "[SOURCE_TEXT]" ensuring the meaning is equivalent with the context. [TARGET_TEXT]',
    "Context in [CONTEXT_LANG]: [CONTEXT]\nNoisy text in [SOURCE_LANG]: [SOURCE_TEXT]\nHow would you fix the [SOURCE_LANG] sentence to make the meaning the same as the context? [TARGET_TEXT]",
    '[SOURCE_TEXT]. Denoise the previous [SOURCE_LANG] sentence to it equivalent sentence: [CONTEXT]\n[TARGET_TEXT]',
    'Context: [CONTEXT]\nFix the following [SOURCE_LANG] text "[SOURCE_TEXT]" ensuring the meaning is equivalent with the context. [TARGET_TEXT]',
    "Context: [CONTEXT]\nNoisy text in [SOURCE_LANG]: [SOURCE_TEXT]\nHow would you fix the [SOURCE_LANG] sentence to make the meaning the same as the [CONTEXT_LANG] sentence? [TARGET_TEXT]",
]
`;

/** The string literals of one Python list, decoded (only the escapes these lists use: \n, \", \'). */
function pyList(name: string): string[] {
  const body = new RegExp(`${name} = \\[\\n([\\s\\S]*?)\\n\\]`).exec(PROMPT_UTILS_PY)![1];
  return body
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(['"])(.*)\1,$/.exec(l)!;
      return m[2].replace(/\\(n|"|')/g, (_, c) => (c === 'n' ? '\n' : c));
    });
}

describe('train/data/templates (official prompt_utils.py)', () => {
  for (const [name, ours] of [
    ['MONOLINGUAL_PROMPTS', MONOLINGUAL_TEMPLATES],
    ['TRANSLATION_PROMPTS', TRANSLATION_TEMPLATES],
    ['XSS_PROMPTS', XSS_TEMPLATES],
    ['BILINGUAL_PROMPTS', BILINGUAL_TEMPLATES],
  ] as const) {
    it(`${name}: six templates, byte-for-byte`, () => {
      const official = pyList(name);
      assert.equal(official.length, 6);
      assert.deepEqual([...ours], official);
    });
  }

  it('the documented (docs/instructalign.md) XSS example is template 0', () => {
    assert.equal(
      XSS_TEMPLATES[0],
      '[SOURCE_LANG] sentence: [SOURCE_TEXT]\n[TARGET_LANG] sentence: [TARGET_TEXT]\nDo the two sentences have the same meaning? [LABEL]',
    );
  });

  it('fill replaces every occurrence, in order, and never reads $ patterns', () => {
    assert.equal(
      fill('[A] and [A] [B]', [
        ['[A]', 'x$&y'],
        ['[B]', '[A]'],
      ]),
      'x$&y and x$&y [A]',
    );
  });
});
