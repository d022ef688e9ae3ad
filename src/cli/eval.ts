// `instructalign eval`: zero-shot label scoring of a model on NusaX (or any id,text,label CSV); resumable, with
// reports.
import { EVALUATE } from '../api/requests/eval.ts';
import { resolveModelPath } from '../api/model-path.ts';
import { readFileSync } from 'node:fs';
import {
  all,
  bool,
  given,
  helpText,
  list,
  num,
  parseCommand,
  required,
  str,
  UsageError,
  type CommandSpec,
  type ParsedArgs,
} from './args.ts';
import type { Scorer } from '../eval/scorer.ts';
import { loadedScorerInfo, scorerFromRuntime, type LoadedModelLike } from '../eval/scorer.ts';
import { DEFAULT_GROUPS, loadDataPath, loadNusax, parseGroups, type EvalData } from '../eval/datasets.ts';
import {
  customPrompts,
  DEFAULT_LABELS,
  isTask,
  parsePromptsFile,
  selectPrompts,
  TASKS,
  unescapePrompt,
  type PromptTemplate,
  type TaskName,
} from '../eval/tasks.ts';
import { evaluate } from '../eval/evaluate.ts';
import { summaryText } from '../eval/report.ts';
import type { ScoringRule } from '../eval/scoring.ts';
import { parseShard, shardName } from '../eval/shard.ts';
import { Progress } from '../util/progress.ts';
import { langCode, parseLangNames } from '../train/data/langs.ts';
import { checkpointLangNames } from '../train/data/node-io.ts';
import { parseColumnsSpec } from '../train/data/parallel.ts';
import { TRANSLATION_TEMPLATES } from '../train/data/templates.ts';
import { type Generator, translationTable } from '../eval/translation.ts';
import { evaluateTranslationFiles } from '../eval/translation-files.ts';

export const spec: CommandSpec = {
  name: 'eval',
  usage: 'instructalign eval --model DIR --out DIR [options]',
  about: `Zero-shot classification by label scoring: each prompt is filled with every label, the model's mean token
log-prob of the whole text is computed, and the best label is the prediction (as InstructAlign's evaluation).
Rerunning with the same --out resumes: examples already in predictions.jsonl are not scored again. Only the same
model files and settings resume (OUT/fingerprint.json); predictions from another model are refused (--overwrite).`,
  options: EVALUATE.options,
};
export const help = helpText(spec);

export interface ModelOptions {
  path: string;
  dtype?: 'f32' | 'f16';
  int8: boolean;
  int8Threshold?: number;
  batchSize: number;
  /** compute each example's shared prompt once through the KV cache (default auto = on) */
  prefixSharing?: 'auto' | 'on' | 'off';
  /** the official batched scorer's quirk (first pad counted); off = the unbatched scorer of the paper's tables */
  firstPad?: boolean;
  log: (msg: string) => void;
}
export interface LoadedScorer {
  scorer: Scorer;
  dispose(): unknown;
}
export type ScorerFactory = (o: ModelOptions) => Promise<LoadedScorer>;
export interface LoadedGenerator {
  generator: Generator;
  dispose(): unknown;
}
export type GeneratorFactory = (o: ModelOptions) => Promise<LoadedGenerator>;

interface RuntimeModule {
  Runtime: {
    create(o: { log?: (msg: string) => void }): Promise<{
      loadModel(o: {
        path: string;
        dtype?: 'f32' | 'f16';
        int8?: boolean;
        int8Threshold?: number;
      }): Promise<LoadedModelLike>;
      score(
        texts: string[],
        o?: { maxLength?: number; batchSize?: number; groupSize?: number; firstPad?: boolean },
      ): Promise<{ mean_logprob: number }[]>;
      generate(prompt: string, o?: { maxNewTokens?: number }): Promise<{ text: string }>;
      dispose(): unknown;
    }>;
  };
}

/** Greedy generation with the real model (one prompt at a time through the KV cache). */
export const loadRuntimeGenerator: GeneratorFactory = async (o) => {
  const mod = (await import('../host/runtime.ts')) as unknown as RuntimeModule;
  const rt = await mod.Runtime.create({ log: o.log });
  await rt.loadModel({ path: o.path, dtype: o.dtype, int8: o.int8, int8Threshold: o.int8Threshold });
  const adapter = (rt as { adapterInfo?: string }).adapterInfo;
  const info = { model: o.path, adapter: adapter || 'webgpu', dtype: o.dtype ?? 'default', int8: o.int8 };
  const generator: Generator = {
    async generate(prompts, maxNewTokens) {
      const out: string[] = [];
      for (const p of prompts) out.push((await rt.generate(p, { maxNewTokens })).text);
      return out;
    },
    describe: () => info,
  };
  return { generator, dispose: () => rt.dispose() };
};

/** The real model: src/host/runtime.ts, imported only when needed so the rest works (and tests run) without a GPU. */
export const loadRuntimeScorer: ScorerFactory = async (o) => {
  let mod: RuntimeModule;
  try {
    mod = (await import('../host/runtime.ts')) as unknown as RuntimeModule;
  } catch (e) {
    throw new Error(`the model runtime (src/host/runtime.ts) could not be loaded: ${(e as Error).message}`);
  }
  const rt = await mod.Runtime.create({ log: o.log });
  const m = await rt.loadModel({ path: o.path, dtype: o.dtype, int8: o.int8, int8Threshold: o.int8Threshold });
  const adapter = (rt as { adapterInfo?: string }).adapterInfo;
  // the files' hashes and the int8 threshold as loaded (fingerprint.ts), the same as the API and the worker record
  const info = loadedScorerInfo(
    { ...m, name: o.path },
    { adapter: adapter || 'webgpu', dtype: o.dtype ?? 'default', firstPad: o.firstPad },
  );
  return { scorer: scorerFromRuntime(rt, info, o.batchSize, o.prefixSharing !== 'off'), dispose: () => rt.dispose() };
};

/** --prompt / --prompts-file templates (undefined: the built-in prompts of --prompts). */
function customTemplates(a: ParsedArgs): PromptTemplate[] | undefined {
  const flags = all(a, 'prompt');
  const file = str(a, 'prompts-file');
  if (!flags.length && !file) return undefined;
  if (given(a, 'prompts')) throw new UsageError('--prompts picks built-in prompts: drop it when you give your own');
  const templates = flags.map(unescapePrompt);
  const where = flags.map((_, k) => `--prompt ${k + 1}`);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`--prompts-file ${file}: ${(e as Error).message}`);
    }
    const f = parsePromptsFile(text, file);
    templates.push(...f.templates);
    where.push(...f.where);
  }
  try {
    return customPrompts(templates, where);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function loadData(a: ParsedArgs, custom: boolean): EvalData {
  const dataArg = str(a, 'data', 'nusax');
  const task = str(a, 'task') ?? (custom ? 'classification' : 'sentiment');
  if (!custom && !isTask(task))
    throw new UsageError(`--task must be one of ${TASKS.join(', ')} (or give your own --prompt), got "${task}"`);
  const langs = list(a, 'langs');
  const limit = num(a, 'limit');
  if (dataArg === 'nusax') {
    if (task !== 'sentiment') throw new UsageError(`NusaX is a sentiment data set; --task ${task} needs --data PATH`);
    return loadNusax({ langs, limit });
  }
  const labels = list(a, 'labels') ?? DEFAULT_LABELS[task as TaskName]?.slice();
  if (!labels?.length) throw new UsageError(`--task ${task} needs --labels (the label names, in order)`);
  return loadDataPath(dataArg, { task, labels, langs, limit });
}

function parsePrompts(a: ParsedArgs): number[] {
  const ids = list(a, 'prompts')!.map(Number);
  return [...new Set(ids)];
}

export async function run(argv: string[]): Promise<number> {
  return runWith(argv, loadRuntimeScorer, console.log, loadRuntimeGenerator);
}

/** eval --task translation: the flags → evaluateTranslationFiles (src/eval/translation-files.ts). */
async function runTranslationTask(
  a: ParsedArgs,
  makeGenerator: GeneratorFactory,
  print: (s: string) => void,
): Promise<number> {
  const data = str(a, 'data');
  if (given(a, 'scoring'))
    throw new UsageError('--scoring is for classification (label scoring), not --task translation');
  // classification flags were ignored without a word (audit E5); the API refuses the same keys
  for (const f of ['labels', 'groups', 'shard', 'count-first-pad'])
    if (given(a, f)) throw new UsageError(`--${f} is for classification, not --task translation`);
  if (!data || data === 'nusax') throw new UsageError('--task translation needs --data PAIRS (e.g. pairs.tsv)');
  for (const f of ['l1', 'l2'])
    if (!given(a, f)) throw new UsageError(`--task translation needs --${f} (e.g. --l1 eng --l2 tgl)`);
  if (all(a, 'prompt').length || str(a, 'prompts-file'))
    throw new UsageError('--task translation uses the MT templates: choose them with --prompts 1-6');
  // the names a training run recorded in its checkpoint (languages.json), under the ones given now
  const names = {
    ...checkpointLangNames(resolveModelPath(required(a, 'model'))),
    ...parseLangNames(str(a, 'lang-names')),
  };
  const codes = (f: string) => list(a, f)!.map((c) => langCode(c, names, `--${f}`));
  const prompts = given(a, 'prompts') ? parsePrompts(a) : [1];
  const bad = prompts.find((p) => p < 1 || p > TRANSLATION_TEMPLATES.length);
  if (bad !== undefined)
    throw new UsageError(`--prompts: translation prompts are 1-${TRANSLATION_TEMPLATES.length}, got ${bad}`);
  const columns = str(a, 'columns');
  const outDir = required(a, 'out');
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const loaded = await makeGenerator({
    path: resolveModelPath(required(a, 'model')),
    dtype: str(a, 'dtype') as 'f32' | 'f16' | undefined,
    int8: bool(a, 'int8'),
    int8Threshold: num(a, 'int8-threshold'),
    batchSize: num(a, 'batch-size') as number,
    log,
  });
  const bar = new Progress({ total: 1, label: 'translate' });
  try {
    const r = await evaluateTranslationFiles({
      generator: loaded.generator,
      pairs: data,
      l1: codes('l1'),
      l2: codes('l2'),
      prompts,
      outDir,
      limit: num(a, 'limit'),
      maxNewTokens: num(a, 'max-new-tokens'),
      langNames: names,
      columns: columns ? parseColumnsSpec(columns, names) : undefined,
      floresHeldOut: num(a, 'flores-held-out'),
      onProgress: (d, t) => bar.update(d, t),
    });
    bar.finish();
    print(`\n${translationTable(r.results)}\n`);
    print(`(${r.results.metrics})`);
    print(`wrote ${r.paths.join(', ')}`);
    return 0;
  } finally {
    bar.finish();
    await loaded.dispose();
  }
}

/** The command with an injectable model (tests pass a fake Scorer). */
export async function runWith(
  argv: string[],
  makeScorer: ScorerFactory,
  print: (s: string) => void = console.log,
  makeGenerator: GeneratorFactory = loadRuntimeGenerator,
): Promise<number> {
  const a = parseCommand(argv, spec);
  if (str(a, 'task') === 'translation') return runTranslationTask(a, makeGenerator, print);
  for (const f of ['l1', 'l2', 'lang-names', 'columns', 'max-new-tokens', 'flores-held-out'])
    if (given(a, f)) throw new UsageError(`--${f} is for --task translation`);
  const modelPath = resolveModelPath(required(a, 'model'));
  const outDir = required(a, 'out');
  const dtype = str(a, 'dtype') as 'f32' | 'f16' | undefined;
  const custom = customTemplates(a);
  const data = loadData(a, !!custom);
  const prompts = custom ?? selectPrompts(data.task as TaskName, parsePrompts(a));
  const groupSpec = str(a, 'groups');
  const groups = groupSpec ? parseGroups(groupSpec) : DEFAULT_GROUPS;
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const absent = Object.entries(groups).flatMap(([g, ls]) =>
    ls.filter((l) => !data.langs.some((d) => d.lang === l)).map((l) => `${g}=${l}`),
  );
  if (groupSpec && absent.length)
    log(
      `warning: --groups names languages not in the data: ${absent.join(', ')} (have: ${data.langs.map((l) => l.lang).join(', ')})`,
    );
  const batchSize = num(a, 'batch-size') as number;
  const maxLength = num(a, 'max-length') as number;
  const prefixSharing = str(a, 'prefix-sharing') as 'auto' | 'on' | 'off';
  const loaded = await makeScorer({
    path: modelPath,
    dtype,
    int8: bool(a, 'int8'),
    int8Threshold: num(a, 'int8-threshold'),
    batchSize,
    prefixSharing,
    ...(bool(a, 'count-first-pad') ? { firstPad: true } : {}),
    log,
  });
  const ctrl = new AbortController();
  const onSigint = () => ctrl.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const rows = data.langs.reduce((s, l) => s + l.rows.length, 0);
  log(
    `eval: ${data.langs.length} languages, ${rows} examples × ${prompts.length} prompts × ${data.labels.length} labels → ${outDir}`,
  );
  const shardSpec = str(a, 'shard');
  const shard = shardSpec ? parseShard(shardSpec) : undefined;
  if (shard) {
    const total = rows * prompts.length;
    const mine = Math.floor(total / shard.count) + (shard.index <= total % shard.count ? 1 : 0);
    log(`shard ${shardName(shard)}: ${mine} of the ${total} (language, prompt, example) items, round robin`);
  }
  const bar = new Progress({ total: rows * prompts.length, label: 'eval' });
  try {
    const res = await evaluate({
      scorer: loaded.scorer,
      data,
      prompts,
      groups,
      outDir,
      batchSize,
      maxLength,
      limit: num(a, 'limit'),
      options: { quote: bool(a, 'quote-options') },
      overwrite: bool(a, 'overwrite'),
      scoring: str(a, 'scoring') as ScoringRule,
      shard,
      signal: ctrl.signal,
      onProgress: (p) => bar.update(p.done, p.total),
    });
    bar.finish();
    if (res.droppedTornLine) log('note: dropped a torn last line of predictions.jsonl (an interrupted write)');
    if (res.textChanged)
      log(`note: ${res.textChanged} earlier predictions were for texts that have changed since: scored again`);
    if (shard) {
      print(
        `shard ${shardName(shard)}: scored ${res.computed} new, reused ${res.resumed}; wrote ${res.paths.predictions}, ` +
          `${res.shardManifest}\nwhen all ${shard.count} shards are done: instructalign merge <their --out folders> --out DIR`,
      );
      return 0;
    }
    print(`\n${summaryText(res.results)}\n`);
    for (const w of res.results.warnings ?? []) print(`warning: ${w}`);
    print(`scored ${res.computed} new, reused ${res.resumed}; wrote ${Object.values(res.paths).join(', ')}`);
    return 0;
  } catch (e) {
    bar.finish();
    if (ctrl.signal.aborted) {
      log(`interrupted: finished examples are saved in ${outDir}/predictions.jsonl; rerun the same command to resume`);
      return 130;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await loaded.dispose();
  }
}
