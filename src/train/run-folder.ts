// The run folder's life cycle around the trainer: refusing to train over an existing run (HF's
// overwrite_output_dir), numbered checkpoints (checkpoint-<step>, HF's layout) kept to --save-total-limit,
// reading log.jsonl back on --resume (a line torn by a crash is dropped), and the finiteness check that keeps
// NaN/Inf out of every checkpoint.
import { existsSync, linkSync, copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Training diverged (a non-finite loss or gradient norm): the CLI exits with DIVERGED_EXIT_CODE. */
export class TrainingDivergedError extends Error {
  readonly exitCode = DIVERGED_EXIT_CODE;
}
/** `instructalign train` exit status when training diverged (documented in docs/reliability.md). */
export const DIVERGED_EXIT_CODE = 3;
/**
 * With dynamic loss scaling (--fp16) an overflowing step is skipped and the scale halved, as GradScaler does.
 * 25 skips in a row take the scale from 2^16 to 2^-9: no fp16 overflow survives that, so the loss itself is
 * diverging and training stops.
 */
export const MAX_CONSECUTIVE_SKIPPED = 25;

const RUN_FILES = /^(log\.jsonl|train_config\.json|checkpoint(-\d+)?|\.checkpoint-(tmp|old)|\.checkpoint-\d+-tmp)$/;

/**
 * Without --resume the run folder must be empty or missing: training into an existing run truncated its log and
 * replaced its checkpoint. --overwrite removes the previous run's files (only those: --out may be a shared folder).
 */
export function prepareRunFolder(out: string, overwrite: boolean): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (!entries.length) return;
  if (!overwrite)
    throw new Error(
      `--out ${out} already exists and is not empty (${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', ...' : ''}): ` +
        'pass --resume to continue that run, --overwrite to start afresh in it (its log and checkpoints are deleted), ' +
        'or choose a new --out',
    );
  for (const e of entries) if (RUN_FILES.test(e)) rmSync(join(out, e), { recursive: true, force: true });
}

/** Steps of the numbered checkpoints in `out`, oldest first. */
export function numberedCheckpoints(out: string): number[] {
  if (!existsSync(out)) return [];
  return readdirSync(out)
    .map((e) => /^checkpoint-(\d+)$/.exec(e))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/**
 * After a save: out/checkpoint-<step> becomes a copy of out/checkpoint (hard links: checkpoint files are never
 * rewritten in place, so sharing them is safe and costs no space), made in a temporary folder and renamed, then the
 * oldest numbered checkpoints beyond `limit` are removed.
 */
export function snapshotCheckpoint(out: string, latest: string, step: number, limit: number): void {
  if (limit > 0) {
    const dst = join(out, `checkpoint-${step}`),
      tmp = join(out, `.checkpoint-${step}-tmp`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      mkdirSync(tmp);
      for (const f of readdirSync(latest)) {
        try {
          linkSync(join(latest, f), join(tmp, f));
        } catch {
          copyFileSync(join(latest, f), join(tmp, f)); // a file system without hard links
        }
      }
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true }); // no partial hidden folder left on a full disk
      throw new Error(`cannot make ${dst} (in ${tmp}): ${(e as Error).message}; ${latest} is intact`, { cause: e });
    }
    rmSync(dst, { recursive: true, force: true });
    renameSync(tmp, dst);
  }
  const steps = numberedCheckpoints(out);
  for (const s of steps.slice(0, Math.max(0, steps.length - limit)))
    rmSync(join(out, `checkpoint-${s}`), { recursive: true, force: true });
}

/**
 * On --resume: keep the log lines up to the checkpoint's step. A last line that does not parse was torn by a crash
 * mid-write and is dropped; a bad line elsewhere is an error naming the file and line.
 */
export function truncateLog(path: string, step: number, warn: (m: string) => void): void {
  if (!existsSync(path)) {
    if (step > 0)
      warn(
        `warning: ${path} is missing: steps 1–${step} of this run are not in the log (the checkpoint of step ` +
          `${step} is intact; the log goes on from step ${step + 1})`,
      );
    return;
  }
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length && !lines[lines.length - 1].trim()) lines.pop();
  const keep: string[] = [];
  const logged = new Set<number>();
  lines.forEach((l, i) => {
    if (!l.trim()) return;
    let entry: { step?: unknown };
    try {
      entry = JSON.parse(l);
    } catch (e) {
      if (i === lines.length - 1) {
        warn(`${path}:${i + 1}: dropping a torn last line (the run was killed while writing it)`);
        return;
      }
      throw new Error(`${path}:${i + 1}: not JSON (${(e as Error).message}); fix or delete that line, then --resume`);
    }
    if (typeof entry.step === 'number' && entry.step <= step) {
      keep.push(l);
      logged.add(entry.step);
    }
  });
  writeFileSync(path, keep.map((l) => l + '\n').join(''));
  const missing: number[] = [];
  for (let k = 1; k <= step; k++) if (!logged.has(k)) missing.push(k);
  if (missing.length)
    warn(
      `warning: ${path} lacks ${missing.length} of the ${step} steps before the checkpoint (${stepRanges(missing)}): ` +
        'it was truncated or edited since; the log will have that gap (the checkpoint is intact)',
    );
}

/** 1,2,3,7,9,10 → "steps 1–3, 7, 9–10" (the first 5 ranges). */
function stepRanges(steps: number[]): string {
  const r: string[] = [];
  for (let i = 0; i < steps.length; ) {
    let j = i;
    while (j + 1 < steps.length && steps[j + 1] === steps[j] + 1) j++;
    r.push(i === j ? `${steps[i]}` : `${steps[i]}–${steps[j]}`);
    i = j + 1;
  }
  return `step${steps.length > 1 ? 's' : ''} ${r.slice(0, 5).join(', ')}${r.length > 5 ? ', …' : ''}`;
}

/** The name of the first tensor holding a NaN or ±Inf (and where), or undefined when all are finite. */
export function firstNonFinite(tensors: Iterable<[string, ArrayLike<number>]>): string | undefined {
  for (const [name, a] of tensors) {
    for (let i = 0; i < a.length; i++) {
      const x = a[i];
      if (x - x !== 0) return `${name} (element ${i} is ${x})`; // NaN - NaN and Inf - Inf are NaN
    }
  }
  return undefined;
}
