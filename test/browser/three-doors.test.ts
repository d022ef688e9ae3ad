// Page = CLI = API (issue 24 item 5; mission audit 4.20): one CSV with a `lang` column evaluated through
// `instructalign eval`, the Node API's evaluate() and the browser worker's evaluate() (headless Chromium, WebGPU on
// SwiftShader) gives the same results.json, up to what names the door: the time, the data's path, the model's
// folder and the adapter's description. The worker once scored such a file as one language "csv".
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWorkerPage, type BrowserPage } from '../helpers/browser.ts';
import { FIXTURES } from '../helpers/gpu.ts';
import { main } from '../../src/cli/main.ts';
import { createRuntime } from '../../src/index.ts';

const MODEL = join(FIXTURES, 'bloom-tiny');
const CSV = `id,text,label,lang
e1,I love this film it is wonderful,positive,eng
e2,This is the worst meal I ever had,negative,eng
e3,The train leaves at nine,neutral,eng
i1,Saya suka film ini sangat bagus,positive,ind
i2,Makanan ini sangat buruk,negative,ind
i3,Kereta berangkat jam sembilan,neutral,ind
i4,Pelayanannya lambat dan kasar,negative,ind
`;

/** results.json without what names the door (time, paths, adapter). */
function comparable(results: unknown): Record<string, unknown> {
  const r = structuredClone(results) as Record<string, any>;
  delete r.created;
  delete r.data;
  delete r.model.model;
  delete r.model.adapter;
  return r;
}

describe('page = CLI = API: one CSV with a lang column through the three doors', function () {
  this.timeout(600000);
  let dir: string;
  let bp: BrowserPage | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ia-doors-'));
    writeFileSync(join(dir, 'reviews.csv'), CSV);
  });
  after(async () => {
    await bp?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same results.json (languages eng and ind from the lang column) from the CLI, the API and the worker', async () => {
    const data = join(dir, 'reviews.csv');
    const log = console.log,
      error = console.error;
    console.log = () => {};
    console.error = () => {};
    let code: number;
    try {
      code = await main(['eval', '--model', MODEL, '--data', data, '--prompts', '1', '--out', join(dir, 'cli')]);
    } finally {
      console.log = log;
      console.error = error;
    }
    assert.equal(code, 0);
    const cli = JSON.parse(readFileSync(join(dir, 'cli/results.json'), 'utf8'));

    const rt = await createRuntime({ log: () => {} });
    let api: unknown;
    try {
      await rt.loadModel(MODEL);
      api = await rt.evaluate({ data, prompts: [1], out: join(dir, 'api') });
    } finally {
      await rt.dispose();
    }

    bp = await openWorkerPage();
    const page = await bp.page.evaluate(async (csv) => {
      const w = await (window as any).instructalign.ready;
      const files = new Map<string, Blob>();
      for (const f of ['config.json', 'tokenizer.json', 'model.safetensors'])
        files.set(f, await (await fetch(`/fixtures/bloom-tiny/${f}`)).blob());
      await w.loadModel(files);
      return w.evaluate({ data: csv, fileName: 'reviews.csv', prompts: [1] });
    }, CSV);

    assert.deepEqual(
      cli.languages.map((l: { lang: string; n: number }) => `${l.lang}:${l.n}`),
      ['eng:3', 'ind:4'],
    );
    assert.deepEqual(comparable(api), comparable(cli), 'Node API vs CLI');
    assert.deepEqual(comparable(page), comparable(cli), 'worker vs CLI');
  });
});
