// Decoder-only sequences (official run_t2t_finetuning.py, causal branch): the whole filled prompt is both input and
// target; tokenized with right truncation to max_source_length (128), no EOS; batched by HF
// DataCollatorForLanguageModeling(mlm=False) with BLOOM's left padding. The loss covers prompt + target.

/** What the data pipeline needs from a tokenizer (src/wasm/tokenizer.ts provides the BLOOM one). */
export interface TextTokenizer {
  encode(text: string): number[];
  padId: number;
}

export const DEFAULT_MAX_LENGTH = 128;
export const IGNORE_INDEX = -100;

/** Token ids of one training text, right-truncated to maxLength (HF truncation=True, truncation_side='right'). */
export function encodeText(tok: TextTokenizer, text: string, maxLength = DEFAULT_MAX_LENGTH): number[] {
  if (!Number.isInteger(maxLength) || maxLength < 1)
    throw new Error(`maxLength must be a positive integer, got ${maxLength}`);
  const ids = tok.encode(text);
  return ids.length > maxLength ? ids.slice(0, maxLength) : ids;
}

/** How many texts `--max-length` cuts. Every InstructAlign template and replay row ends with its target (the
 *  answer, label or target sentence), so a cut text has lost (part of) its target. */
export interface TruncationReport {
  texts: number;
  truncated: number;
  maxLength: number;
  warn: boolean; // more than 10 % cut
  message: string;
}

export function truncationReport(tok: TextTokenizer, texts: readonly string[], maxLength: number): TruncationReport {
  const truncated = texts.filter((t) => tok.encode(t).length > maxLength).length;
  const pct = texts.length ? (100 * truncated) / texts.length : 0;
  const warn = pct > 10;
  const message =
    `truncation: ${truncated} of ${texts.length} texts (${pct.toFixed(1)} %) are longer than --max-length ${maxLength} ` +
    `tokens and lose (part of) their target` +
    (warn ? ' (more than 10 %: raise --max-length or use shorter sentences)' : '');
  return { texts: texts.length, truncated, maxLength, warn, message };
}

export interface Batch {
  inputIds: Int32Array; // (B,T) row-major, pads = padId
  attentionMask: Int32Array; // (B,T) 1 = real token, 0 = pad
  labels: Int32Array; // (B,T) = inputIds with every padId → -100
  B: number;
  T: number;
}

/** Dynamic padding to the longest row (T = max length in the batch). Like the HF collator, labels are the ids with
 *  every position whose id equals padId set to -100 (a real token equal to padId would be masked too, as in HF). */
export function collate(
  batch: readonly (readonly number[])[],
  padId: number,
  padSide: 'left' | 'right' = 'left',
): Batch {
  const B = batch.length;
  if (B === 0) throw new Error('collate: empty batch');
  const T = Math.max(...batch.map((r) => r.length));
  if (T === 0) throw new Error('collate: every row is empty');
  const inputIds = new Int32Array(B * T).fill(padId);
  const attentionMask = new Int32Array(B * T);
  const labels = new Int32Array(B * T).fill(IGNORE_INDEX);
  batch.forEach((row, b) => {
    const off = b * T + (padSide === 'left' ? T - row.length : 0);
    for (let t = 0; t < row.length; t++) {
      inputIds[off + t] = row[t];
      attentionMask[off + t] = 1;
      labels[off + t] = row[t] === padId ? IGNORE_INDEX : row[t];
    }
  });
  return { inputIds, attentionMask, labels, B, T };
}

export { TrainingStream } from './stream.ts';
export type { TrainingStreamOptions, TrainingStreamState, TrainingText } from './stream.ts';
