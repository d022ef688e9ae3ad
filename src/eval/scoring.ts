// The three label-scoring rules, all read off one forward pass per filled prompt (docs/evaluation.md):
//   paper       mean token log-prob of the whole filled prompt (InstructAlign's rule; the default)
//   label       Σ log p(token | tokens before it) over the label's tokens      (lm-evaluation-harness `acc`)
//   label-norm  label ÷ the label's UTF-8 byte length                          (lm-evaluation-harness `acc_norm`)
// The label's tokens are the tokens of the filled prompt that cover any byte of the label's first occurrence (the
// first [LABELS_CHOICE]): a token that also covers the space before the label (BLOOM's " positive") or characters
// right after it counts whole. Text after the label is not part of the label rules (it is part of `paper`). The first
// token of a text has no log-prob (no BOS): a label there, or cut off by left truncation, has no score (null).
import type { TextScore } from './scorer.ts';

export type ScoringRule = 'paper' | 'label' | 'label-norm';
export const SCORING_RULES: readonly ScoringRule[] = ['paper', 'label', 'label-norm'];
export const SCORING_HELP: Record<ScoringRule, string> = {
  paper: 'mean token log-prob of the whole filled prompt (InstructAlign)',
  label: "sum of the label's token log-probs given the prompt (lm-evaluation-harness acc)",
  'label-norm': "the label sum ÷ the label's UTF-8 bytes (lm-evaluation-harness acc_norm)",
};

/** The rules in report order: the chosen one first, then the others in SCORING_RULES order. */
export function rulesChosenFirst(chosen: ScoringRule): ScoringRule[] {
  return [chosen, ...SCORING_RULES.filter((r) => r !== chosen)];
}

export const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** Byte span [start, end) of the label in a filled prompt whose first [LABELS_CHOICE] is at `prompt` char `at`. */
export function labelSpan(prompt: string, label: string): [number, number] | null {
  const at = prompt.indexOf('[LABELS_CHOICE]');
  if (at < 0) return null;
  const start = utf8Length(prompt.slice(0, at));
  return [start, start + utf8Length(label)];
}

/** Σ log-probs of the tokens overlapping [start, end); null when none of them has a log-prob. */
export function spanLogprob(s: TextScore, span: readonly [number, number]): number | null {
  const { offsets, logprobs, bytes } = s;
  if (!offsets) return null;
  let sum = 0,
    any = false;
  for (let t = 1; t < offsets.length; t++) {
    const a = offsets[t],
      b = t + 1 < offsets.length ? offsets[t + 1] : bytes;
    if (a < span[1] && b > span[0] && t - 1 < logprobs.length) {
      sum += logprobs[t - 1];
      any = true;
    }
  }
  return any ? sum : null;
}

export type RuleScores = Record<ScoringRule, (number | null)[]>;

/** One example's label scores under every rule, in label order (null: the rule cannot score that label). */
export function ruleScores(
  scores: readonly TextScore[],
  labels: readonly string[],
  spans: readonly ([number, number] | null)[],
): RuleScores {
  const label = scores.map((s, k) => (spans[k] ? spanLogprob(s, spans[k]!) : null));
  return {
    paper: scores.map((s) => s.mean),
    label,
    'label-norm': label.map((v, k) => (v === null ? null : v / Math.max(1, utf8Length(labels[k])))),
  };
}
