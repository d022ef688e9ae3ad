// Shard folders (`eval --shard i/n`) and `instructalign merge`: each shard folder holds its items' predictions.jsonl,
// fingerprint.json and shard.json — the run's whole description (data ids, labels and text hashes, prompts, groups,
// settings, the unsharded fingerprint) and a run id hashed from it. merge checks that the folders are the n shards of
// one run (same run id, each index once, none missing, each complete and holding only its own items) and writes what
// one unsharded run writes: predictions.jsonl in evaluation order, fingerprint.json, results.json, report.md,
// chart.svg. Only `created` differs from a single run's results.json (and the adapter, if the shards ran on others).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic, outputPaths, writeOutputs, type OutputPaths } from './output.ts';
import { readPredictions } from './predictions.ts';
import { buildResults, type ResultsJson } from './results.ts';
import { workItems, itemKey, type PredictionRecord } from './score-loop.ts';
import type { EvalData } from './data-core.ts';
import type { PromptTemplate } from './tasks.ts';
import type { ScorerInfo } from './scorer.ts';
import type { ScoringRule } from './scoring.ts';
import { textHash } from './text-hash.ts';
import { shardItems, shardName, type ShardSpec } from './shard.ts';
import { makeDir } from '../util/mkdir.ts';

export const SHARD_SCHEMA = 'instructalign.eval.shard/1';
export const SHARD_FILE = 'shard.json';

/** What a single run would need to build its results: everything but the texts (their hashes stand in). */
export interface ShardSetup {
  task: string;
  source: string;
  labels: string[];
  langs: { lang: string; name: string; file: string; rows: { id: string; label: string; textHash: string }[] }[];
  prompts: PromptTemplate[];
  groups: Record<string, string[]>;
  maxLength: number;
  limit: number | null;
  optionsQuoted: boolean;
  scoring: ScoringRule;
  model: ScorerInfo;
}

export interface ShardManifest {
  schema: typeof SHARD_SCHEMA;
  shard: ShardSpec;
  run: string; // hash of the setup (less the adapter), the unsharded fingerprint and n: equal for the n shards
  created: string;
  items: number; // items of this shard
  fingerprint: Record<string, unknown>; // the unsharded run's fingerprint.json
  setup: ShardSetup;
}

function setupOf(o: {
  data: EvalData;
  prompts: readonly PromptTemplate[];
  groups: Readonly<Record<string, readonly string[]>>;
  maxLength: number;
  limit?: number;
  optionsQuoted: boolean;
  scoring: ScoringRule;
  model: ScorerInfo;
}): ShardSetup {
  return {
    task: o.data.task,
    source: o.data.source,
    labels: [...o.data.labels],
    langs: o.data.langs.map((l) => ({
      lang: l.lang,
      name: l.name,
      file: l.file,
      rows: l.rows.map((r) => ({ id: r.id, label: r.label, textHash: textHash(r.text) })),
    })),
    prompts: o.prompts.map(({ id, name, template }) => ({ id, name, template })),
    groups: Object.fromEntries(Object.entries(o.groups).map(([g, ls]) => [g, [...ls]])),
    maxLength: o.maxLength,
    limit: o.limit ?? null,
    optionsQuoted: o.optionsQuoted,
    scoring: o.scoring,
    model: o.model,
  };
}

const runId = (setup: ShardSetup, fingerprint: Record<string, unknown>, count: number) =>
  textHash(JSON.stringify({ setup: { ...setup, model: { ...setup.model, adapter: undefined } }, fingerprint, count }));

export function shardManifest(
  o: Parameters<typeof setupOf>[0] & {
    shard: ShardSpec;
    fingerprint: Record<string, unknown>;
    items: number;
  },
): ShardManifest {
  const { shard: _s, ...fingerprint } = o.fingerprint;
  const setup = setupOf(o);
  return {
    schema: SHARD_SCHEMA,
    shard: o.shard,
    run: runId(setup, fingerprint, o.shard.count),
    created: new Date().toISOString(),
    items: o.items,
    fingerprint,
    setup,
  };
}

/** The setup as the EvalData buildResults and workItems read (rows without texts). */
function dataOf(s: ShardSetup): EvalData {
  return {
    source: s.source,
    task: s.task,
    labels: s.labels,
    langs: s.langs.map((l) => ({ ...l, rows: l.rows.map((r) => ({ id: r.id, label: r.label, text: '' })) })),
  };
}

function readManifest(dir: string): ShardManifest {
  const f = join(dir, SHARD_FILE);
  if (!existsSync(f))
    throw new Error(
      `${dir} is not a shard folder (no ${SHARD_FILE}): merge takes the --out folders of 'instructalign eval --shard i/n'`,
    );
  let m: ShardManifest;
  try {
    m = JSON.parse(readFileSync(f, 'utf8'));
  } catch (e) {
    throw new Error(`${f}: not JSON (${(e as Error).message})`);
  }
  if (m?.schema !== SHARD_SCHEMA)
    throw new Error(`${f}: schema ${JSON.stringify(m?.schema)}, expected ${SHARD_SCHEMA}`);
  return m;
}

/** "what: dirA … vs dirB …" for the parts of two manifests' runs that differ. */
function runDiff(a: ShardManifest, b: ShardManifest): string[] {
  const out: string[] = [];
  const cmp = (what: string, x: Record<string, unknown>, y: Record<string, unknown>) => {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      if (k === 'adapter') continue;
      const [p, q] = [JSON.stringify(x[k]), JSON.stringify(y[k])];
      if (p !== q) out.push(`${what}${k}: ${p?.slice(0, 60) ?? '(absent)'} vs ${q?.slice(0, 60) ?? '(absent)'}`);
    }
  };
  if (a.shard.count !== b.shard.count) out.push(`shard count: ${a.shard.count} vs ${b.shard.count}`);
  cmp('', a.fingerprint, b.fingerprint);
  const { model: ma, ...sa } = a.setup,
    { model: mb, ...sb } = b.setup;
  cmp('', sa, sb);
  cmp('model.', ma as unknown as Record<string, unknown>, mb as unknown as Record<string, unknown>);
  return out;
}

export interface MergeResult {
  results: ResultsJson;
  paths: OutputPaths;
  shards: number;
  items: number;
}

/** Checks that `dirs` are all the shards of one run and writes that run's files into `out` (a new or empty folder). */
export async function mergeShards(dirs: readonly string[], out: string): Promise<MergeResult> {
  if (!dirs.length) throw new Error('merge: name the shard folders (merge DIR… --out DIR)');
  const ms = dirs.map(readManifest);
  const first = ms[0];
  ms.forEach((m, k) => {
    if (m.run !== first.run) {
      const diff = runDiff(first, m);
      throw new Error(
        `${dirs[k]} is a shard of another run than ${dirs[0]}` +
          (diff.length ? `:\n  ${diff.slice(0, 8).join('\n  ')}` : ' (their run ids differ)') +
          '\nmerge only the shards of one eval command (same model, data, prompts, settings and n)',
      );
    }
  });
  const n = first.shard.count;
  const byIndex = new Map<number, string>();
  ms.forEach((m, k) => {
    const twice = byIndex.get(m.shard.index);
    if (twice !== undefined) throw new Error(`shard ${shardName(m.shard)} is given twice: ${twice} and ${dirs[k]}`);
    byIndex.set(m.shard.index, dirs[k]);
  });
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length)
    throw new Error(
      `missing shard(s) ${missing.map((i) => `${i}/${n}`).join(', ')} of ${n} (given: ${[...byIndex.keys()]
        .sort((a, b) => a - b)
        .map((i) => `${i}/${n}`)
        .join(', ')})`,
    );
  if (existsSync(out) && readdirSync(out).some((f) => f !== '.' && f !== '..'))
    throw new Error(`--out ${out} is not empty: merge writes a new evaluation folder (choose an empty or new one)`);
  const data = dataOf(first.setup);
  const items = workItems(data, first.setup.prompts);
  const hashes = new Map(
    first.setup.langs.flatMap((l) => l.rows.map((r) => [JSON.stringify([l.lang, r.id]), r.textHash])),
  );
  const merged = new Map<string, PredictionRecord>();
  ms.forEach((m, k) => {
    const dir = dirs[k];
    const own = shardItems(items, m.shard);
    const ownKeys = new Set(own.map(itemKey));
    const { records } = readPredictions(join(dir, 'predictions.jsonl'), false);
    const byKey = new Map(records.map((r) => [JSON.stringify([r.lang, r.prompt, r.id]), r]));
    const foreign = [...byKey.keys()].filter((key) => !ownKeys.has(key));
    if (foreign.length)
      throw new Error(
        `${dir}/predictions.jsonl holds ${foreign.length} prediction(s) outside shard ${shardName(m.shard)} ` +
          `(e.g. ${foreign[0]}): shards overlap; rerun that shard into an empty --out`,
      );
    const absent = own.filter((it) => !byKey.has(itemKey(it)));
    if (absent.length)
      throw new Error(
        `${dir}: shard ${shardName(m.shard)} is incomplete: ${own.length - absent.length} of ${own.length} items ` +
          'scored; rerun its eval command (same --out) to finish it',
      );
    for (const it of own) {
      const r = byKey.get(itemKey(it))!;
      const want = hashes.get(JSON.stringify([it.lang, it.row.id]));
      if (r.textHash !== undefined && r.textHash !== want)
        throw new Error(`${dir}: ${it.lang}/${it.row.id} was scored on another text than the run's data`);
      merged.set(itemKey(it), r);
    }
  });
  const predictions = items.map((it) => merged.get(itemKey(it))!);
  const adapters = [...new Set(ms.map((m) => m.setup.model.adapter))];
  const s = first.setup;
  const results = buildResults({
    data,
    prompts: s.prompts,
    predictions,
    groups: s.groups,
    model: { ...s.model, adapter: adapters.join(' + ') },
    maxLength: s.maxLength,
    limit: s.limit ?? undefined,
    optionsQuoted: s.optionsQuoted,
    scoring: s.scoring,
  });
  makeDir(out, '--out');
  const paths = outputPaths(out);
  await writeFileAtomic(paths.predictions, predictions.map((r) => JSON.stringify(r) + '\n').join(''));
  await writeFileAtomic(join(out, 'fingerprint.json'), JSON.stringify(first.fingerprint, null, 1) + '\n');
  await writeOutputs(out, results);
  return { results, paths, shards: n, items: items.length };
}

/** Written by evaluate() into a shard's --out. */
export async function writeShardManifest(dir: string, m: ShardManifest): Promise<string> {
  const f = join(dir, SHARD_FILE);
  await writeFileAtomic(f, JSON.stringify(m, null, 1) + '\n');
  return f;
}
