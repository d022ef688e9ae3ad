// The package's training defaults are read-only (issue 28 item 2): a caller cannot change every later run's defaults
// by writing into the exported object or its language lists; the options a run completes from them are its own copy.
import assert from 'node:assert/strict';
import { completeOptions, TRAIN_DEFAULTS } from '../../src/train/trainer.ts';
import { LOOP_DEFAULTS } from '../../src/train/loop.ts';

describe('TRAIN_DEFAULTS / LOOP_DEFAULTS', () => {
  it('are frozen, their language lists too', () => {
    for (const d of [TRAIN_DEFAULTS, LOOP_DEFAULTS]) {
      assert.ok(Object.isFrozen(d) && Object.isFrozen(d.l1) && Object.isFrozen(d.l2));
      assert.throws(() => {
        (d as { lr: number }).lr = 1;
      }, TypeError);
      assert.throws(() => d.l2.push('tgl'), TypeError);
    }
    assert.equal(TRAIN_DEFAULTS.lr, 1e-5);
    assert.deepEqual(TRAIN_DEFAULTS.l1, ['eng', 'ind']);
  });

  it('a completed run gets its own options object', () => {
    const o = completeOptions({ model: 'm', out: 'o', pairs: 'p' });
    o.lr = 3;
    o.l1 = [...o.l1, 'tgl'];
    assert.equal(TRAIN_DEFAULTS.lr, 1e-5);
    assert.deepEqual(TRAIN_DEFAULTS.l1, ['eng', 'ind']);
  });
});
