// Progress bar: ETA from the rate of new items only, plain lines when not a TTY, one redrawn line on a TTY.
import { strict as assert } from 'node:assert';
import { Progress, estimateEta, formatDuration } from '../../src/util/progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 80, write: (s: string) => chunks.push(s) } };
}

describe('util/progress', () => {
  it('formats durations and estimates ETA ignoring resumed items', () => {
    assert.equal(formatDuration(42), '42s');
    assert.equal(formatDuration(185), '3m05s');
    assert.equal(formatDuration(3720), '1h02m');
    assert.equal(formatDuration(NaN), '?');
    // 50 resumed, then 10 more in 5 s → 2 items/s; 40 left → 20 s
    assert.equal(estimateEta(60, 100, 50, 0, 5000), 20);
    assert.ok(Number.isNaN(estimateEta(50, 100, 50, 0, 5000)));
  });

  it('non-TTY: one plain line per 25% step, no control characters', () => {
    const { chunks, stream } = sink(false);
    let t = 0;
    const p = new Progress({ total: 100, label: 'eval', stream, everyPercent: 25, now: () => t });
    for (let d = 0; d <= 100; d++) {
      t = d * 100;
      p.update(d);
    }
    p.finish();
    assert.equal(chunks.length, 5); // 0, 25, 50, 75, 100 %
    assert.equal(chunks[2], 'eval 50/100 50% ETA 5s\n');
    assert.ok(chunks.every((c) => !/[\r\x1b]/.test(c)));
  });

  it('TTY: clearLine() blanks the drawn bar for a log line, and the next update redraws at once', () => {
    const { chunks, stream } = sink(true);
    let t = 1000;
    const p = new Progress({ total: 10, stream, now: () => t });
    p.clearLine();
    assert.deepEqual(chunks, [], 'nothing drawn yet: nothing to clear');
    p.update(1);
    t = 1010; // within the 100 ms redraw interval
    p.clearLine();
    p.update(2);
    assert.equal(chunks.length, 3);
    assert.equal(chunks[1], '\r\x1b[K');
    assert.match(chunks[2], /^\r\[.*\] 2\/10 20%/);
  });

  it('TTY: carriage-return redraws with a bar, then a final newline', () => {
    const { chunks, stream } = sink(true);
    let t = 0;
    const p = new Progress({ total: 4, stream, now: () => t });
    for (let d = 0; d <= 4; d++) {
      t = d * 1000;
      p.update(d);
    }
    p.finish();
    assert.ok(chunks.slice(0, -1).every((c) => c.startsWith('\r[')));
    assert.match(chunks.at(-2)!, /\] 4\/4 100% ETA 0s/);
    assert.equal(chunks.at(-1), '\n');
  });
});
