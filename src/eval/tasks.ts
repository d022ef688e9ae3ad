// Zero-shot classification tasks and their English prompt templates (the one place these strings live).
//
// Source: HLTCHKUST/InstructAlign `nlu_prompt.py` (SENTIMENT_EN/EN2/EN3, EMOT_EN/EN2/EN3, TOPIC_EN/EN2/EN3), read
// verbatim through the code search; the sentiment strings match docs/instructalign.md. The paper's Tables 8–10 were
// not reachable, so the emotion/topic strings are verified against the repository only, not against the paper.

export type TaskName = 'sentiment' | 'emotion' | 'topic';
export const TASKS: readonly TaskName[] = ['sentiment', 'emotion', 'topic'];

export interface PromptTemplate {
  id: number;
  name: string;
  template: string;
}

// EN1 / EN2 / EN3 share one shape per position; only the task word differs (as in nlu_prompt.py).
const SHAPES: readonly ((word: string) => string)[] = [
  (w) => `[INPUT]\nWhat would be the ${w} of the text above? [OPTIONS]? [LABELS_CHOICE]`,
  (w) => `What is the ${w} of this text?\nText: [INPUT]\nAnswer with [OPTIONS]: [LABELS_CHOICE]`,
  (w) => `Text: [INPUT]\n\nPlease classify the ${w} of above text. Answer with [OPTIONS]: [LABELS_CHOICE]`,
];

const TASK_WORD: Record<TaskName, string> = { sentiment: 'sentiment', emotion: 'emotion', topic: 'topic' };

/** Labels known per task; emotion and topic data sets differ, so they need --labels. NusaX: NusaCrowd ClassLabel order. */
export const DEFAULT_LABELS: Partial<Record<TaskName, readonly string[]>> = {
  sentiment: ['negative', 'neutral', 'positive'],
};

export function isTask(s: string): s is TaskName {
  return (TASKS as readonly string[]).includes(s);
}

export function promptTemplates(task: TaskName): PromptTemplate[] {
  return SHAPES.map((shape, k) => ({ id: k + 1, name: `EN${k + 1}`, template: shape(TASK_WORD[task]) }));
}

/** Templates for the chosen ids (1-based), in the order given; unknown ids name the valid ones. */
export function selectPrompts(task: TaskName, ids: readonly number[]): PromptTemplate[] {
  const all = promptTemplates(task);
  return ids.map((id) => {
    const p = all.find((t) => t.id === id);
    if (!p) throw new Error(`unknown prompt ${id} for task ${task} (choose from ${all.map((t) => t.id).join(',')})`);
    return p;
  });
}

export interface OptionsFormat {
  /** Quote each label (`"negative", "neutral", or "positive"`), as InstructAlign's main_nlu_prompt.py (commits
   *  46ce1ac, a4e2f4c) does. Default off: docs/instructalign.md gives bare labels; which form the paper's numbers
   *  used is unverified. */
  quote?: boolean;
}

/** `[OPTIONS]`: "a, b, or c" for three or more labels (Oxford comma), "a or b" for two, as the official to_prompt. */
export function formatOptions(labels: readonly string[], fmt: OptionsFormat = {}): string {
  const parts = labels.map((l) => (fmt.quote ? `"${l}"` : l));
  parts[parts.length - 1] = `or ${parts[parts.length - 1]}`;
  return parts.join(parts.length > 2 ? ', ' : ' ');
}

/** Literal replace-all (no `$&` patterns), like Python's str.replace. */
function replaceAll(s: string, key: string, value: string): string {
  return s.split(key).join(value);
}

/** Fill [INPUT] then [OPTIONS], in the official order; [LABELS_CHOICE] is left for fillLabel. */
export function fillPrompt(template: string, text: string, labels: readonly string[], fmt: OptionsFormat = {}): string {
  const withInput = replaceAll(template, '[INPUT]', text);
  return withInput.includes('[OPTIONS]') ? replaceAll(withInput, '[OPTIONS]', formatOptions(labels, fmt)) : withInput;
}

export function fillLabel(prompt: string, label: string): string {
  return replaceAll(prompt, '[LABELS_CHOICE]', label);
}

/** The texts scored for one example: the filled prompt once per label, in label order. */
export function labelTexts(
  template: string,
  text: string,
  labels: readonly string[],
  fmt: OptionsFormat = {},
): string[] {
  const prompt = fillPrompt(template, text, labels, fmt);
  return labels.map((l) => fillLabel(prompt, l));
}

/**
 * `\n`, `\t` and `\\` in a prompt given on the command line or in a prompts file become a line break, a tab and a
 * backslash: a shell passes `"Text: [INPUT]\nAnswer:"` with a literal backslash-n, and that is how people write it.
 * Any other backslash is kept as written.
 */
export function unescapePrompt(s: string): string {
  return s.replace(/\\([nt\\])/g, (_, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
}

/** The placeholders of a prompt template. */
export const PLACEHOLDERS = ['[INPUT]', '[OPTIONS]', '[LABELS_CHOICE]'];

/** Your own templates (`--prompt`, `--prompts-file`) as prompts P1, P2, …; each needs [INPUT] and [LABELS_CHOICE]
 *  ([OPTIONS], the label list "a, b, or c", is optional). `where[k]` names template k in errors. */
export function customPrompts(templates: readonly string[], where: readonly string[] = []): PromptTemplate[] {
  if (templates.length === 0) throw new Error('no prompt templates given');
  return templates.map((template, k) => {
    const at = where[k] ?? `--prompt ${k + 1}`;
    for (const key of ['[INPUT]', '[LABELS_CHOICE]'])
      if (!template.includes(key))
        throw new Error(
          `${at}: the template has no ${key} (e.g. "Text: [INPUT]\\nSentiment? [OPTIONS]: [LABELS_CHOICE]")`,
        );
    // a misspelt placeholder ([OPTION], [input]) would go into every prompt as literal text
    for (const m of template.matchAll(/\[([A-Za-z][A-Za-z0-9_]*)\]/g))
      if (!PLACEHOLDERS.includes(m[0]) && (m[1] === m[1].toUpperCase() || PLACEHOLDERS.includes(m[0].toUpperCase())))
        throw new Error(
          `${at}: unknown placeholder ${m[0]} in the template (the placeholders are ${PLACEHOLDERS.join(', ')})`,
        );
    return { id: k + 1, name: `P${k + 1}`, template };
  });
}

/** A prompts file: one template per line (escapes as unescapePrompt), blank lines and lines starting with # skipped.
 *  Returns the templates and where each was (file:line) for errors. */
export function parsePromptsFile(text: string, file: string): { templates: string[]; where: string[] } {
  const templates: string[] = [];
  const where: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    templates.push(unescapePrompt(line));
    where.push(`${file}:${i + 1}`);
  });
  if (templates.length === 0) throw new Error(`${file}:1: no prompt templates (one per line)`);
  return { templates, where };
}
