// The quiet GPU wait (src/gpu/wait.ts): while a wait is pending, dawn.node's polling callback (a native function) is
// rescheduled by a timer once the first milliseconds have passed, JavaScript callbacks keep real immediates, and
// setImmediate is the original again after the last wait.
import assert from 'node:assert/strict';
import { gpuWait, quietWait } from '../../src/gpu/wait.ts';

describe('quietWait', () => {
  it('delays only native polling callbacks, after the spin period, and restores setImmediate', async () => {
    const original = globalThis.setImmediate;
    let release!: () => void;
    const first = quietWait(new Promise<void>((r) => (release = r)));
    const second = quietWait(Promise.resolve(7)); // nested: shares the installation
    assert.notEqual(globalThis.setImmediate, original, 'swapped while waiting');
    assert.equal(await second, 7);
    assert.notEqual(globalThis.setImmediate, original, 'still swapped: the first wait is pending');
    const native = (() => {}).bind(null); // a bound function prints as native code, like dawn.node's callback
    const early = globalThis.setImmediate(native);
    assert.ok('_onImmediate' in early, 'within the spin period: a real immediate');
    await new Promise((r) => setTimeout(r, 5));
    const late = globalThis.setImmediate(native);
    assert.ok('_onTimeout' in late, 'after the spin period: a timer');
    let ran = false;
    const js = globalThis.setImmediate(() => (ran = true));
    assert.ok('_onImmediate' in js, 'a JavaScript callback keeps a real immediate');
    release();
    await first;
    assert.equal(globalThis.setImmediate, original, 'restored after the last wait');
    await new Promise((r) => setTimeout(r, 2));
    assert.ok(ran);
  });

  it('passes rejections through and restores setImmediate', async () => {
    const original = globalThis.setImmediate;
    await assert.rejects(quietWait(Promise.reject(new Error('device lost'))), /device lost/);
    assert.equal(globalThis.setImmediate, original);
  });

  it('each wait has its own spin period; a busy runtime keeps immediate polling; busy alone swaps nothing', async () => {
    const original = globalThis.setImmediate;
    const native = (() => {}).bind(null);
    let releaseBusy!: () => void;
    const busy = gpuWait(new Promise<void>((r) => (releaseBusy = r)), false);
    assert.equal(globalThis.setImmediate, original, 'a busy wait alone leaves setImmediate alone');
    let releaseLong!: () => void;
    const long = quietWait(new Promise<void>((r) => (releaseLong = r)));
    await new Promise((r) => setTimeout(r, 5)); // the long quiet wait is past its spin period
    assert.ok('_onImmediate' in globalThis.setImmediate(native), 'a pending busy wait keeps real immediates');
    releaseBusy();
    await busy;
    assert.ok('_onTimeout' in globalThis.setImmediate(native), 'only the long quiet wait is left: back-off');
    let releaseFresh!: () => void;
    const fresh = quietWait(new Promise<void>((r) => (releaseFresh = r)));
    assert.ok('_onImmediate' in globalThis.setImmediate(native), 'a new quiet wait gets its own spin period');
    releaseFresh();
    releaseLong();
    await Promise.all([fresh, long]);
    assert.equal(globalThis.setImmediate, original);
  });
});
