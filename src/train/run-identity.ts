// Which run a run folder and its checkpoints belong to, and what the run started from: a run id (made when the run
// starts, kept in train_config.json and every trainer_state.json) and the content hashes of the base model's
// config.json, tokenizer.json and weights. --resume refuses a checkpoint of another run (copied in) and a --model
// that is not the run's base model; a save that fails (a full disk) removes its temporary folder and says how much
// space a checkpoint needs.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';

/** What a run started from: the folder given to --model and the content hashes of its files (openCheckpoint). */
export interface BaseModel {
  path: string;
  files: Record<string, string>;
}

/** The identity fields written into train_config.json and trainer_state.json. */
export interface RunIdentity {
  run_id: string;
  base_model: BaseModel;
}

/** A new run id: the start time (UTC, to the second) and 8 random hex digits, e.g. 20261207T141502Z-3fa9c1d2. */
export function newRunId(now = new Date()): string {
  const t = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${t}-${randomBytes(4).toString('hex')}`;
}

/** The run id recorded in OUT/train_config.json (undefined: no file, unreadable, or written before run ids). */
export function configRunId(out: string): string | undefined {
  const f = join(out, 'train_config.json');
  if (!existsSync(f)) return undefined;
  try {
    const id = JSON.parse(readFileSync(f, 'utf8')).run_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * --resume: the checkpoint must belong to the run of this folder. A checkpoint copied in from another run carries
 * that run's id (and options: lr, seed, steps), so resuming it would continue the other run under this folder's log.
 * Folders or checkpoints written before run ids existed are not checked.
 */
export function checkSameRun(out: string, ckDir: string, state: { run_id?: unknown; options?: { out?: unknown } }) {
  const here = configRunId(out),
    there = typeof state.run_id === 'string' ? state.run_id : undefined;
  if (!here || !there || here === there) return;
  const from = typeof state.options?.out === 'string' ? ` (its run folder was ${state.options.out})` : '';
  throw new Error(
    `--resume: ${ckDir} belongs to another run: its trainer_state.json has run_id ${there}${from}, but ` +
      `${join(out, 'train_config.json')} has run_id ${here}: the checkpoint was copied in from ` +
      'another run. Resume that run in its own folder, put this run’s own checkpoint back, or start afresh here ' +
      'with --overwrite',
  );
}

/** The files whose hashes differ between two base-model records, e.g. ['config.json', 'model.safetensors']. */
export function differingFiles(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => a[f] !== b[f]).sort();
}

/** Bytes free for an unprivileged writer on the file system holding `dir` (undefined where statfs is unavailable). */
export function freeBytes(dir: string): number | undefined {
  try {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/**
 * A checkpoint save failed (`e`) while writing the temporary folder `tmp`: the folder is removed (a partial hidden
 * folder would keep the disk full) and the error names it, the space a checkpoint needs and the space free now.
 */
export function saveFailure(e: unknown, o: { tmp: string; out: string; step: number; needBytes: number }): Error {
  rmSync(o.tmp, { recursive: true, force: true });
  const code = (e as NodeJS.ErrnoException)?.code;
  const free = freeBytes(o.out);
  const space =
    `a checkpoint needs about ${mb(o.needBytes)} beside the last one` +
    (free === undefined ? '' : `; the file system of ${o.out} has ${mb(free)} free`);
  const msg =
    code && NO_SPACE.has(code)
      ? `cannot save the checkpoint of step ${o.step} in ${o.tmp}: no space left on the device (${code}); ${space}. ` +
        `The partial folder was removed and ${join(o.out, 'checkpoint')} (the last save) is intact: free space ` +
        'or move the run folder, then --resume'
      : `cannot save the checkpoint of step ${o.step} in ${o.tmp}: ${(e as Error)?.message ?? e} (${space}); ` +
        `the partial folder was removed and ${join(o.out, 'checkpoint')} (the last save) is intact`;
  const err = new Error(msg, { cause: e });
  if (code) (err as NodeJS.ErrnoException).code = code;
  return err;
}
