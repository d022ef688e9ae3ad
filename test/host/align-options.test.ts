// The browser worker's align request keeps your language names (as --lang-names), which the texts then use.
import assert from 'node:assert/strict';
import { alignData, alignOptions } from '../../src/host/align-worker.ts';
import { parseParallelText } from '../../src/train/data/parallel.ts';
import { pairsForObjectives } from '../../src/train/data/stream.ts';
import { trainingStream } from '../../src/train/loop.ts';

describe('host/align-worker options', () => {
  it('langNames and a local-use code: the request text becomes texts that name the language', () => {
    const req = { pairs: 'eng\tqaa\nGood morning.\tZeda morna.\n', pairsName: 'p.tsv', l1: ['eng'], l2: ['qaa'] };
    assert.throws(() => trainingStream(alignOptions(req), pairsFor(req), undefined), /local-use code/);
    const o = alignOptions({ ...req, langNames: { qaa: 'Zedish' }, objectives: 'mt' });
    assert.deepEqual(o.langNames, { qaa: 'Zedish' });
    const texts = trainingStream(o, pairsFor(req), undefined).take(4);
    assert.ok(texts.every((t) => /Zedish/.test(t.text)));
  });

  it('evalSplit holds out rows as train --eval-split does (same seed, same rows); evalSteps needs it', () => {
    const rows = Array.from({ length: 10 }, (_, i) => `Sentence ${i}.\tPangungusap ${i}.`).join('\n');
    const req = { pairs: `en\ttl\n${rows}\n`, pairsName: 'p.tsv', l1: ['eng'], l2: ['tgl'], seed: 9 };
    const d = alignData({ ...req, evalSplit: 2 });
    assert.deepEqual([d.summary.rows, d.summary.evalRows, d.pairs.length, d.evalTexts.length], [10, 2, 16, 4]);
    assert.deepEqual(alignData({ ...req, evalSplit: '20%' }).evalTexts, d.evalTexts);
    assert.equal(alignData(req).evalTexts.length, 0);
    assert.throws(() => alignData({ ...req, evalSteps: 2 }), /evalSteps needs a validation split/);
  });
});

function pairsFor(req: { pairs: string; pairsName: string }) {
  return pairsForObjectives(parseParallelText(req.pairs, req.pairsName), ['eng'], ['qaa'], 'mt');
}
