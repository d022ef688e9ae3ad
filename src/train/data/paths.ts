// Node-only: locate the package root (the folder whose package.json is named "instructalign") to find bundled data.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Walk up from this module (src/train/data/ in the tree, dist/ when bundled) to the instructalign package root. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  if (cached && from === dirname(fileURLToPath(import.meta.url))) return cached;
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'instructalign') return (cached = dir);
      } catch {
        /* not ours */
      }
    }
    if (dirname(dir) === dir) throw new Error(`no instructalign package.json above ${from}`);
  }
}

/** A path inside the package (e.g. dataPath('nusax/mt/train.csv') → <root>/data/nusax/mt/train.csv). */
export function dataPath(rel: string): string {
  return join(packageRoot(), 'data', rel);
}

// the bundled data's names (browser-safe, for the request definitions' --help)
import { DEFAULT_PAIRS, DEFAULT_REPLAY } from './bundled.ts';
export { DEFAULT_PAIRS, DEFAULT_REPLAY };
/** The older stand-in, still selectable: L1 sentiment train in the evaluation prompts (it rehearses the task). */
export const EVAL_PROMPT_REPLAY = 'replay/nusax_l1_sentiment.jsonl';

/** `--replay`: absent → the bundled replay set (the paper always replays); `none` → no replay; else a JSONL path.
 *  `note` is the line the commands log, so a run says which replay it uses. */
export function resolveReplay(flag: string | undefined): { path?: string; note: string } {
  if (flag === 'none') return { note: 'replay: none (--replay none): new-language data only, no experience replay' };
  if (flag === undefined) {
    const path = dataPath(DEFAULT_REPLAY);
    return { path, note: `replay: bundled data/${DEFAULT_REPLAY} (the default; --replay none disables it)` };
  }
  return { path: flag, note: `replay: ${flag}` };
}
