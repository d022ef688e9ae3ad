// predictions.jsonl: one scored (language, prompt, example) per line, appended and fsynced batch by batch so that an
// interrupted run resumes where it stopped. A torn last line (crash mid-write) is dropped; a bad line elsewhere is an
// error.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import type { PredictionRecord } from './score-loop.ts';

export { predictionKey, type PredictionRecord } from './score-loop.ts';

function isRecord(v: unknown): v is PredictionRecord {
  const r = v as PredictionRecord;
  return (
    !!r &&
    typeof r === 'object' &&
    typeof r.id === 'string' &&
    typeof r.lang === 'string' &&
    typeof r.prompt === 'number' &&
    typeof r.gold === 'string' &&
    typeof r.pred === 'string' &&
    Array.isArray(r.scores)
  );
}

/** Read the log; a torn final line is cut off the file (so appends start on a clean line) and reported.
 *  `repair: false` only reads (compare, merge): a torn last line is skipped and the file left as it is. */
export function readPredictions(
  path: string,
  repair = true,
): { records: PredictionRecord[]; droppedTornLine: boolean } {
  if (!existsSync(path)) return { records: [], droppedTornLine: false };
  const buf = readFileSync(path);
  const text = buf.toString('utf8');
  const lines = text.split('\n');
  const records: PredictionRecord[] = [];
  let goodBytes = 0;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    const isLast = k === lines.length - 1;
    if (isLast && line === '') break; // file ends with '\n'
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      rec = undefined;
    }
    if (!isRecord(rec)) {
      if (isLast) {
        if (repair) truncateSync(path, goodBytes);
        return { records, droppedTornLine: true };
      }
      throw new Error(
        `${path}:${k + 1}: not a prediction record (${line.slice(0, 60)}); fix or delete the file to start over`,
      );
    }
    records.push(rec);
    goodBytes += Buffer.byteLength(line, 'utf8') + (isLast ? 0 : 1);
  }
  // A complete last record without its '\n' (torn right before the newline): keep it, finish the line.
  if (repair && text.length > 0 && !text.endsWith('\n')) {
    const fd = openSync(path, 'a');
    try {
      writeSync(fd, '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  return { records, droppedTornLine: false };
}

/** Append-only writer: each batch is one write + fsync. */
export class PredictionLog {
  private fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }
  append(records: readonly PredictionRecord[]): void {
    if (!records.length) return;
    const bytes = Buffer.from(records.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8');
    for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off, bytes.length - off);
    fsyncSync(this.fd);
  }
  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
