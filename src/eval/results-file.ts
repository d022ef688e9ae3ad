// Node only: an evaluation folder's results.json, read and checked (compare.ts itself stays browser-safe).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseResults } from './compare.ts';
import type { ResultsJson } from './results.ts';

export function loadResults(dir: string): ResultsJson {
  const file = join(dir, 'results.json');
  if (!existsSync(file)) throw new Error(`no results.json in ${dir} (run 'instructalign eval --out ${dir}' first)`);
  return parseResults(readFileSync(file, 'utf8'), file);
}
