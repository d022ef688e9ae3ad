// Noise for the denoising objectives (official augmentation_utils.py + the set table in run_t2t_finetuning.py).
// Each op word-tokenizes its input (wordtok.ts), acts on the tokens and re-joins them with single spaces; a set
// applies its ops in the listed order, each to the previous op's output (so later ops re-tokenize).
import type { Rng } from '../rng.ts';
import { wordTokenize } from './wordtok.ts';

export type PerturbOp = 'infill' | 'delete' | 'permute';

export const MASK_TOKEN = '___';
export const INFILL_P = 0.2;
export const DELETE_P = 0.2;

/** Cumulative thresholds on u~U[0,1) and the op list each selects, in the official order of application. */
export const PERTURB_TABLE: readonly { below: number; ops: readonly PerturbOp[] }[] = [
  { below: 0.24, ops: ['infill'] },
  { below: 0.48, ops: ['delete'] },
  { below: 0.72, ops: ['permute'] },
  { below: 0.8, ops: ['infill', 'delete'] },
  { below: 0.88, ops: ['infill', 'permute'] },
  { below: 0.96, ops: ['delete', 'permute'] },
  { below: Infinity, ops: ['infill', 'delete', 'permute'] },
];

/** Draw a perturbation set (one uniform draw). */
export function drawPerturbSet(rng: Rng): readonly PerturbOp[] {
  const u = rng.next();
  return PERTURB_TABLE.find((r) => u < r.below)!.ops;
}

/** Each token becomes `___` with probability 0.2 (independently). */
export function infill(text: string, rng: Rng, p = INFILL_P): string {
  return wordTokenize(text)
    .map((t) => (rng.next() < p ? MASK_TOKEN : t))
    .join(' ');
}

/** Each token is dropped with probability 0.2 (independently); may return ''. */
export function deleteTokens(text: string, rng: Rng, p = DELETE_P): string {
  return wordTokenize(text)
    .filter(() => !(rng.next() < p))
    .join(' ');
}

/** Uniformly random order of the tokens. */
export function permute(text: string, rng: Rng): string {
  return rng.shuffle(wordTokenize(text)).join(' ');
}

export function applyOp(text: string, op: PerturbOp, rng: Rng): string {
  return op === 'infill' ? infill(text, rng) : op === 'delete' ? deleteTokens(text, rng) : permute(text, rng);
}

export function applyOps(text: string, ops: readonly PerturbOp[], rng: Rng): string {
  return ops.reduce((t, op) => applyOp(t, op, rng), text);
}
