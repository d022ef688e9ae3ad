// The bundled replay stand-in (DEFAULT_REPLAY) must not be the evaluation task: no replay row reads as one of the
// zero-shot evaluation prompts (any task, bare or quoted options), while the old set (EVAL_PROMPT_REPLAY) does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_LABELS, formatOptions, promptTemplates, TASKS } from '../../../src/eval/tasks.ts';
import { parseCsvRecords } from '../../../src/util/csv-parse.ts';
import { readReplay } from '../../../src/train/data/node-io.ts';
import { DEFAULT_REPLAY, EVAL_PROMPT_REPLAY, dataPath } from '../../../src/train/data/paths.ts';
import { replayText, type ReplayRow } from '../../../src/train/data/replay.ts';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every evaluation prompt as a regex over a whole text: [INPUT] = anything, [OPTIONS] = any option list
 *  (bare or quoted), [LABELS_CHOICE] = any word or nothing (the replay `inputs` stop before the label). */
function evalPatterns(): RegExp[] {
  const out: RegExp[] = [];
  for (const task of TASKS) {
    const labels = DEFAULT_LABELS[task] ?? ['\u0000'];
    const options = [formatOptions(labels), formatOptions(labels, { quote: true })];
    for (const p of promptTemplates(task)) {
      const body = p.template
        .split(/(\[INPUT\]|\[OPTIONS\]|\[LABELS_CHOICE\])/)
        .map((part) => {
          if (part === '[INPUT]') return '[\\s\\S]*';
          if (part === '[OPTIONS]') return task === 'sentiment' ? `(?:${options.map(esc).join('|')})` : '[\\s\\S]*';
          if (part === '[LABELS_CHOICE]') return '\\s*\\S*';
          return esc(part);
        })
        .join('');
      out.push(new RegExp(`^${body}\\s*$`));
    }
  }
  return out;
}

/** The fixed instruction wording of each evaluation prompt (the longest literal piece). */
function evalPhrases(): string[] {
  return TASKS.flatMap((t) =>
    promptTemplates(t).map(
      (p) =>
        p.template
          .split(/\[INPUT\]|\[OPTIONS\]|\[LABELS_CHOICE\]/)
          .map((s) => s.trim())
          .sort((a, b) => b.length - a.length)[0],
    ),
  );
}

function evalLike(rows: readonly ReplayRow[]): ReplayRow[] {
  const pats = evalPatterns();
  const phrases = evalPhrases();
  return rows.filter((r) =>
    [r.inputs, replayText(r)].some((t) => pats.some((re) => re.test(t)) || phrases.some((ph) => t.includes(ph))),
  );
}

describe('train/data/replay set (the stand-in for xP3)', () => {
  it('DEFAULT_REPLAY: no row equals an evaluation prompt or contains its instruction', () => {
    const rows = readReplay(dataPath(DEFAULT_REPLAY));
    assert.ok(rows.length >= 1000, `${rows.length} rows`);
    assert.deepEqual(evalLike(rows).slice(0, 3), []);
  });

  it('the check can fail: every row of the old set (EVAL_PROMPT_REPLAY) reads as an evaluation prompt', () => {
    const rows = readReplay(dataPath(EVAL_PROMPT_REPLAY));
    assert.equal(evalLike(rows).length, rows.length);
  });

  it('DEFAULT_REPLAY holds eng/ind sentiment rows and eng↔ind translations from NusaX train splits only', () => {
    const lines = readFileSync(dataPath(DEFAULT_REPLAY), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const kinds = new Map<string, number>();
    for (const l of lines) kinds.set(l.lang, (kinds.get(l.lang) ?? 0) + 1);
    assert.deepEqual([...kinds.keys()].sort(), ['eng', 'eng-ind', 'ind', 'ind-eng']);
    assert.equal((kinds.get('eng') ?? 0) + (kinds.get('ind') ?? 0), 1000);
    // no evaluation (test split) text of either L1 language occurs in any row
    const testTexts = ['english', 'indonesian'].flatMap((f) => {
      const file = dataPath(`nusax/sentiment/${f}/test.csv`);
      return parseCsvRecords(readFileSync(file, 'utf8'), file)
        .slice(1)
        .map((r) => r.fields[1]);
    });
    assert.equal(testTexts.length, 800);
    const leaks = lines.filter((l) => testTexts.some((t) => l.inputs.includes(t) || l.targets.includes(t)));
    assert.deepEqual(leaks, []);
  });
});
