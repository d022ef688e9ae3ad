// What produced an evaluation folder's predictions: the model's files (sizes and modification times of the weights,
// hashes of config.json and tokenizer.json), how it was run (dtype, int8, first-pad rule, max length) and what was
// asked (task, labels, prompt templates, options format). Stored as OUT/fingerprint.json; resuming into a folder
// whose predictions came from another fingerprint would mix two models' numbers under one name, so it is refused.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../util/atomic.ts';
import type { ScorerInfo } from './scorer.ts';
import type { PromptTemplate } from './tasks.ts';

export const FINGERPRINT_SCHEMA = 'instructalign.eval.fingerprint/1';

export interface EvalFingerprint {
  schema: typeof FINGERPRINT_SCHEMA;
  model: string;
  modelFiles: Record<string, string>; // weights: "size bytes, mtime"; config.json / tokenizer.json: sha256
  dtype: string;
  int8: boolean;
  int8Threshold?: number;
  firstPad: boolean;
  maxLength: number;
  task: string;
  labels: string[];
  prompts: string[]; // "id name: template"
  optionsQuoted: boolean;
  scoring?: string; // --scoring when not the paper's rule (older folders: paper)
  shard?: string; // --shard i/n of a shard folder
}

/** Files of a model folder that decide its numbers (a path that is not a folder, e.g. a fake model: none). */
function modelFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return out;
  for (const f of readdirSync(dir).sort()) {
    if (f === 'config.json' || f === 'tokenizer.json')
      out[f] = `sha256 ${createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex')}`;
    else if (f.endsWith('.safetensors') || f === 'model.safetensors.index.json') {
      const s = statSync(join(dir, f));
      out[f] = `${s.size} bytes, modified ${new Date(s.mtimeMs).toISOString()}`;
    }
  }
  return out;
}

export function evalFingerprint(o: {
  model: ScorerInfo;
  maxLength: number;
  task: string;
  labels: readonly string[];
  prompts: readonly PromptTemplate[];
  optionsQuoted: boolean;
  int8Threshold?: number;
  scoring?: string;
  shard?: string;
}): EvalFingerprint {
  return {
    schema: FINGERPRINT_SCHEMA,
    model: o.model.model,
    modelFiles: modelFiles(o.model.model),
    dtype: o.model.dtype,
    int8: o.model.int8,
    ...(o.model.int8 && o.int8Threshold !== undefined ? { int8Threshold: o.int8Threshold } : {}),
    firstPad: !!o.model.firstPad,
    maxLength: o.maxLength,
    task: o.task,
    labels: [...o.labels],
    prompts: o.prompts.map((p) => `${p.id} ${p.name}: ${p.template}`),
    optionsQuoted: o.optionsQuoted,
    ...(o.scoring && o.scoring !== 'paper' ? { scoring: o.scoring } : {}),
    ...(o.shard ? { shard: o.shard } : {}),
  };
}

/** The fields of two fingerprints that differ, as "field: old → new" lines. */
export function fingerprintDiff(old: Record<string, unknown>, now: EvalFingerprint): string[] {
  const keys = new Set([...Object.keys(old), ...Object.keys(now)]);
  const out: string[] = [];
  for (const k of keys) {
    const a = old[k],
      b = (now as unknown as Record<string, unknown>)[k];
    if (k === 'modelFiles' && a && typeof a === 'object') {
      const fa = a as Record<string, string>,
        fb = b as Record<string, string>;
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
export const EVAL_FILES = ['predictions.jsonl', 'results.json', 'report.md', 'chart.svg', 'fingerprint.json'];

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
