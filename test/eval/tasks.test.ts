// Prompt filling, byte for byte, against the template strings of InstructAlign's nlu_prompt.py (docs/instructalign.md).
import { strict as assert } from 'node:assert';
import {
  fillLabel,
  fillPrompt,
  formatOptions,
  labelTexts,
  promptTemplates,
  selectPrompts,
} from '../../src/eval/tasks.ts';

const LABELS = ['negative', 'neutral', 'positive'];

describe('eval/tasks', () => {
  it('[OPTIONS]: Oxford comma and "or" before the last; two labels without comma; quoted form', () => {
    assert.equal(formatOptions(LABELS), 'negative, neutral, or positive');
    assert.equal(formatOptions(['yes', 'no']), 'yes or no');
    assert.equal(formatOptions(LABELS, { quote: true }), '"negative", "neutral", or "positive"');
  });

  it('sentiment EN1/EN2/EN3 filled exactly', () => {
    const [en1, en2, en3] = promptTemplates('sentiment').map((p) => p.template);
    const text = 'The food was great!';
    assert.equal(
      fillLabel(fillPrompt(en1, text, LABELS), 'positive'),
      'The food was great!\nWhat would be the sentiment of the text above? negative, neutral, or positive? positive',
    );
    assert.equal(
      fillLabel(fillPrompt(en2, text, LABELS), 'neutral'),
      'What is the sentiment of this text?\nText: The food was great!\nAnswer with negative, neutral, or positive: neutral',
    );
    assert.equal(
      fillLabel(fillPrompt(en3, text, LABELS), 'negative'),
      'Text: The food was great!\n\nPlease classify the sentiment of above text. Answer with negative, neutral, or positive: negative',
    );
  });

  it('emotion and topic use the same shapes with their word', () => {
    assert.equal(
      promptTemplates('emotion')[1].template,
      'What is the emotion of this text?\nText: [INPUT]\nAnswer with [OPTIONS]: [LABELS_CHOICE]',
    );
    assert.equal(
      promptTemplates('topic')[2].template,
      'Text: [INPUT]\n\nPlease classify the topic of above text. Answer with [OPTIONS]: [LABELS_CHOICE]',
    );
    assert.equal(
      promptTemplates('emotion')[0].template,
      '[INPUT]\nWhat would be the emotion of the text above? [OPTIONS]? [LABELS_CHOICE]',
    );
  });

  it('one text per label, in label order; "$&" in the input is kept literally', () => {
    const t = labelTexts(promptTemplates('sentiment')[0].template, 'costs $& more', LABELS);
    assert.deepEqual(
      t.map((s) => s.split('? ').pop()),
      LABELS,
    );
    assert.ok(t[0].startsWith('costs $& more\n'));
  });

  it('selectPrompts keeps the order given and rejects unknown ids', () => {
    assert.deepEqual(
      selectPrompts('sentiment', [3, 1]).map((p) => p.name),
      ['EN3', 'EN1'],
    );
    assert.throws(() => selectPrompts('sentiment', [4]), /unknown prompt 4 .*choose from 1,2,3/);
  });
});
