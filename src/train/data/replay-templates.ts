// Instruction templates of the bundled replay stand-in (data/replay/nusax_l1_instruct.jsonl): xP3-style prompts
// worded for this project, deliberately unlike the zero-shot evaluation prompts (src/eval/tasks.ts), so that replay
// retains "follow an instruction in L1" without rehearsing the evaluated prompt. scripts/make-replay.ts uses them;
// test/train/data/replay-set.test.ts checks that no replay row can be read as an evaluation prompt.

/** A sentiment template: `{text}` is the input; `answers` maps the gold label to the target text. */
export interface SentimentTemplate {
  inputs: string;
  answers: Record<'negative' | 'neutral' | 'positive', string>;
}

const SAME = { negative: 'negative', neutral: 'neutral', positive: 'positive' };

export const SENTIMENT_TEMPLATES: readonly SentimentTemplate[] = [
  { inputs: '{text}\nHow does the writer feel about this? Choose one: negative, neutral, positive.', answers: SAME },
  { inputs: 'Review: {text}\nIs the tone of this review positive, negative or neutral?', answers: SAME },
  { inputs: 'Read the message below and tell me the opinion it expresses.\n\n{text}', answers: SAME },
  { inputs: 'Classify the opinion in this post as positive, neutral or negative: {text}', answers: SAME },
  {
    inputs: '"{text}"\nDoes this sentence express a good, bad or neutral opinion?',
    answers: { negative: 'bad', neutral: 'neutral', positive: 'good' },
  },
  {
    inputs: '{text}\n\nQuestion: Is the author happy, unhappy, or neither?\nAnswer:',
    answers: { negative: 'unhappy', neutral: 'neither', positive: 'happy' },
  },
];

/** A translation template: `{src}` is the source sentence in `from`; the target is the sentence in `to`. */
export interface TranslationTemplate {
  inputs: string;
  from: 'eng' | 'ind';
  to: 'eng' | 'ind';
}

export const TRANSLATION_TEMPLATES: readonly TranslationTemplate[] = [
  { inputs: 'Translate to Indonesian:\n{src}', from: 'eng', to: 'ind' },
  { inputs: '{src}\nHow would you say this in Indonesian?', from: 'eng', to: 'ind' },
  { inputs: 'What does this Indonesian sentence mean in English?\n{src}', from: 'ind', to: 'eng' },
  { inputs: 'Indonesian: {src}\nEnglish:', from: 'ind', to: 'eng' },
];
