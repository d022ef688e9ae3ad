// What produced an evaluation folder's predictions: the model's files AS LOADED (content hashes of the weights,
// config.json and tokenizer.json, taken by openCheckpoint when the model was loaded and kept with it), every setting
// that changes a score (scoreSettings below) and what was asked (task, labels, prompts). Stored as
// OUT/fingerprint.json; resuming into a folder whose predictions came from another fingerprint would mix two
// models' numbers under one name, so it is refused, naming what differs. The data is covered per example: each
// prediction record carries its text's hash (score-loop.ts), and an example whose text changed is scored again.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../util/atomic.ts';
import { hashOf, hashSource } from '../util/content-hash.ts';
import { fileSource } from '../model/safetensors.ts';
import type { ScorerInfo } from './scorer.ts';
import type { PromptTemplate } from './tasks.ts';

/** /1 fingerprinted weights by size and modification time only; /2 hashes their content. */
export const FINGERPRINT_SCHEMA = 'instructalign.eval.fingerprint/2';

export interface EvalFingerprint {
  schema: typeof FINGERPRINT_SCHEMA;
  model: string;
  modelFiles: Record<string, string>; // file name → content hash ("xxh64:…") of the files the model was loaded from
  [setting: string]: unknown; // scoreSettings(): dtype, int8, int8Threshold, firstPad, maxLength, task, labels, …
}

export interface FingerprintInput {
  model: ScorerInfo;
  maxLength: number;
  task: string;
  labels: readonly string[];
  prompts: readonly PromptTemplate[];
  optionsQuoted: boolean;
  /** the scoring rule (issue 25's --scoring; default paper) */
  scoring?: string;
  /** --shard i/n of a shard folder */
  shard?: string;
}

/**
 * Every setting that changes a score, name → value. ADDING A SETTING IS ONE LINE HERE (and its field in
 * FingerprintInput, filled by evaluate()). A value left undefined is not recorded, so a setting that is absent at its
 * default keeps folders written before it existed resumable; a recorded value that differs refuses the folder.
 */
function scoreSettings(o: FingerprintInput): Record<string, unknown> {
  const m = o.model;
  return {
    dtype: m.dtype,
    int8: m.int8,
    int8Threshold: m.int8 ? m.int8Threshold : undefined,
    firstPad: !!m.firstPad,
    maxLength: o.maxLength,
    task: o.task,
    labels: [...o.labels],
    prompts: o.prompts.map((p) => `${p.id} ${p.name}: ${p.template}`),
    optionsQuoted: o.optionsQuoted,
    scoring: o.scoring === 'paper' ? undefined : o.scoring, // older folders: paper
    shard: o.shard,
  };
}

/**
 * Content hashes of a model folder's files as they are now: only for a Scorer that does not say what it loaded
 * (tests' fakes, third-party scorers); the runtime's scorers carry the hashes taken at load (ScorerInfo.files).
 */
async function folderHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return out;
  for (const f of readdirSync(dir).sort()) {
    if (f === 'config.json' || f === 'tokenizer.json' || f === 'model.safetensors.index.json')
      out[f] = await hashOf(readFileSync(join(dir, f)));
    else if (f.endsWith('.safetensors')) {
      const src = await fileSource(join(dir, f));
      try {
        out[f] = await hashSource(src);
      } finally {
        await src.close?.();
      }
    }
  }
  return out;
}

export async function evalFingerprint(o: FingerprintInput): Promise<EvalFingerprint> {
  const settings = Object.fromEntries(Object.entries(scoreSettings(o)).filter(([, v]) => v !== undefined));
  return {
    schema: FINGERPRINT_SCHEMA,
    model: o.model.model,
    modelFiles: o.model.files ? { ...o.model.files } : await folderHashes(o.model.model),
    ...settings,
  };
}

/** The fields of two fingerprints that differ, as "field: old → new" lines. */
export function fingerprintDiff(old: Record<string, unknown>, now: EvalFingerprint): string[] {
  if (old.schema !== now.schema)
    return [
      `fingerprint.json is ${JSON.stringify(old.schema) ?? '(no schema)'}, written by another version of ` +
        `instructalign (this one writes ${now.schema}: content hashes of the model files): the predictions cannot ` +
        'be checked against this model',
    ];
  const keys = new Set([...Object.keys(old), ...Object.keys(now)]);
  const out: string[] = [];
  for (const k of keys) {
    const a = old[k],
      b = (now as unknown as Record<string, unknown>)[k];
    if (k === 'modelFiles' && a && typeof a === 'object') {
      const fa = a as Record<string, string>,
        fb = (b ?? {}) as Record<string, string>;
      for (const f of new Set([...Object.keys(fa), ...Object.keys(fb)]))
        if (fa[f] !== fb[f]) out.push(`model file ${f}: ${fa[f] ?? '(absent)'} → ${fb[f] ?? '(absent)'}`);
    } else if (JSON.stringify(a) !== JSON.stringify(b))
      out.push(
        `${k}: ${JSON.stringify(a)?.slice(0, 80) ?? '(absent)'} → ${JSON.stringify(b)?.slice(0, 80) ?? '(absent)'}`,
      );
  }
  return out;
}

/** The files an evaluation writes in its folder (what --overwrite deletes). */
export const EVAL_FILES = [
  'predictions.jsonl',
  'results.json',
  'report.md',
  'chart.svg',
  'fingerprint.json',
  'shard.json',
];

/**
 * Before scoring into `outDir`: with --overwrite the previous evaluation's files go; otherwise predictions made
 * under another fingerprint (or by a version that wrote none) are refused. Then the fingerprint is (re)written.
 */
export async function claimEvalFolder(outDir: string, fp: EvalFingerprint, overwrite: boolean): Promise<void> {
  const path = join(outDir, 'fingerprint.json'),
    preds = join(outDir, 'predictions.jsonl');
  if (overwrite) for (const f of EVAL_FILES) rmSync(join(outDir, f), { force: true });
  const hasPredictions = existsSync(preds) && statSync(preds).size > 0;
  if (hasPredictions) {
    let old: Record<string, unknown> | undefined;
    try {
      old = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      old = undefined;
    }
    const diff = old ? fingerprintDiff(old, fp) : ['no fingerprint.json: the predictions cannot be traced to a model'];
    if (diff.length)
      throw new Error(
        `--out ${outDir} holds predictions made with another model or setting, which would be reused under this ` +
          `model's name:\n  ${diff.slice(0, 8).join('\n  ')}\npass --overwrite to delete them and start afresh, ` +
          'or choose another --out',
      );
  }
  await atomicWriteFile(path, JSON.stringify(fp, null, 1) + '\n');
}
