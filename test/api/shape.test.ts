// The public API's one interface (src/api/types.ts): the Node runtime implements InstructAlignRuntime, and the
// browser runtime (instructalign/web, the worker through Comlink) the CoreRuntime part; tsc checks both here.
import assert from 'node:assert/strict';
import type { RemoteRuntime } from '../../src/host/web.ts';
import type { CoreRuntime, InstructAlignRuntime } from '../../src/api/types.ts';
import * as api from '../../src/index.ts';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '../..');

// compile-time: a remote (browser) runtime is a CoreRuntime; the Node one extends it
const asCore = (r: RemoteRuntime): CoreRuntime => r;
const nodeAsCore = (r: InstructAlignRuntime): CoreRuntime => r;

describe('public API shape', () => {
  it('the entry exports the runtime, the data builder and compare', () => {
    assert.equal(typeof asCore, 'function');
    assert.equal(typeof nodeAsCore, 'function');
    assert.deepEqual(
      [typeof api.createRuntime, typeof api.compare, typeof api.trainingTexts],
      Array(3).fill('function'),
    );
  });
  it('trainingTexts = the trainer’s first texts for a seed (data --preview)', () => {
    const a = api.trainingTexts({ l1: ['eng'], l2: ['jav'], seed: 3 }, 3);
    assert.equal(a.length, 3);
    assert.deepEqual(api.trainingTexts({ l1: ['eng'], l2: ['jav'], seed: 3 }, 3), a);
    assert.ok(a.every((t) => typeof t.text === 'string' && t.text.length > 0 && typeof t.kind === 'string'));
  });
  it('resolveModelPath: a bundled model by name (--model nano-bloomz from anywhere); paths and unknown names as given', () => {
    assert.equal(api.resolveModelPath('nano-bloomz'), join(REPO, 'models/nano-bloomz'));
    assert.equal(api.resolveModelPath('models/nano-bloomz'), 'models/nano-bloomz');
    assert.equal(api.resolveModelPath('no-such-model'), 'no-such-model');
  });
});
