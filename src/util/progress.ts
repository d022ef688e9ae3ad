// Terminal progress bar with ETA. On a TTY it redraws one line; otherwise (logs, CI) it prints a plain line every N%.

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  total: number;
  label?: string;
  stream?: ProgressStream; // default process.stderr
  everyPercent?: number; // non-TTY: print a line each time this many percent more are done (default 10)
  now?: () => number; // clock in ms (tests)
}

/** "1h02m", "3m05s", "42s"; "?" when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Seconds left, from the rate measured since `startDone` items were already done at `startMs` (resumed items don't count). */
export function estimateEta(done: number, total: number, startDone: number, startMs: number, nowMs: number): number {
  const made = done - startDone;
  const elapsed = (nowMs - startMs) / 1000;
  if (made <= 0 || elapsed <= 0) return NaN;
  return ((total - done) * elapsed) / made;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private startMs = 0;
  private startDone = -1;
  private lastPrinted = -1; // non-TTY: last percent bucket printed
  private lastDraw = 0;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = !!this.stream.isTTY;
    this.now = opts.now ?? Date.now;
  }

  /** `extra` follows the counts on the line (train: smoothed loss, learning rate, tokens/s, eval loss). */
  update(done: number, total = this.opts.total, extra?: string): void {
    const t = this.now();
    if (this.startDone < 0) {
      this.startDone = done;
      this.startMs = t;
    }
    const eta = estimateEta(done, total, this.startDone, this.startMs, t);
    const pct = total > 0 ? (100 * done) / total : 100;
    const label = this.opts.label ? `${this.opts.label} ` : '';
    const text = `${done}/${total} ${pct.toFixed(0)}% ETA ${formatDuration(eta)}${extra ? ` ${extra}` : ''}`;
    if (this.tty) {
      if (done < total && t - this.lastDraw < 100) return; // at most 10 redraws a second
      this.lastDraw = t;
      const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - label.length - text.length - 4));
      const fill = Math.round((width * Math.min(pct, 100)) / 100);
      this.stream.write(`\r${label}[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${text}\x1b[K`);
      return;
    }
    const every = this.opts.everyPercent ?? 10;
    const bucket = Math.floor(pct / every);
    if (bucket > this.lastPrinted) {
      this.lastPrinted = bucket;
      this.stream.write(`${label}${text}\n`);
    }
  }

  /** Clears the bar's line on a TTY so that a log line can be written there; the next update redraws the bar. */
  clearLine(): void {
    if (this.tty && this.startDone >= 0) {
      this.stream.write('\r\x1b[K');
      this.lastDraw = -Infinity;
    }
  }

  /** End the bar's line on a TTY (the plain mode already ends every line). */
  finish(): void {
    if (this.tty && this.startDone >= 0) this.stream.write('\n');
  }
}
