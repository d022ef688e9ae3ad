// Shared test fixtures: a tiny two-language data folder in a temp dir.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'ia-eval-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** <root>/english/test.csv and <root>/madurese/test.csv (→ eng = L1, mad = L3), `n` rows each, labels cycling. */
export function writeTinyData(root: string, n = 7): string {
  const labels = ['negative', 'neutral', 'positive'];
  for (const lang of ['english', 'madurese']) {
    mkdirSync(join(root, lang), { recursive: true });
    const rows = Array.from(
      { length: n },
      (_, k) => `${100 + k},"${lang} sentence ${k}, with ""quotes""",${labels[(k * 2) % 3]}`,
    );
    writeFileSync(join(root, lang, 'test.csv'), `id,text,label\r\n${rows.join('\r\n')}\r\n`);
  }
  return root;
}
