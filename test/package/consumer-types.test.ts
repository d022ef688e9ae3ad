// The package's declarations (dist/types) as a consumer's tsc sees them (issue 24 item 5; mission audit 4.16): a
// Node project without the DOM library and without @webgpu/types compiles `import 'instructalign'` with
// --strict and without --skipLibCheck, and a browser project `instructalign/web`. No `/// <reference types=
// "@webgpu/types" />` is forced on consumers: the few WebGPU names the declarations use come as interfaces that
// merge with full WebGPU types where a project has them (TypeScript 7's lib.dom, @webgpu/types).
// TypeScript 7 (npm typescript@7, native) is not a dependency: set INSTRUCTALIGN_TSC7 to its tsc to check it too.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/gpu.ts';
import { buildPackage } from '../helpers/package.ts';

const NODE_CONSUMER = `import { createRuntime, RequestError, type TrainRequest, type EvaluateRequest } from 'instructalign';
const rt = await createRuntime({ log: () => {} });
await rt.loadModel('nano-bloomz');
const r = await rt.score(['Hello world'], { maxLength: 64 });
const t: TrainRequest = { out: 'run', steps: 3, lr: 1e-4, recipe: 'paper' };
const e: EvaluateRequest = { langs: ['eng'], prompts: [1], limit: 2, groups: { L1: ['eng'] } };
console.log(r[0].mean_logprob, t, e, RequestError);
// @ts-expect-error an unknown option is a compile error too
const typo: TrainRequest = { out: 'x', learningRate: 1 };
// @ts-expect-error steps is a number
const text: TrainRequest = { out: 'x', steps: '3' };
console.log(typo, text);
`;
const WEB_CONSUMER = `import { startRuntime, type EvalRequest, type AlignRequest } from 'instructalign/web';
const rt = await startRuntime();
const req: EvalRequest = { data: 'id,text,label,lang\\n1,a b,positive,eng\\n', fileName: 'a.csv', prompts: [1] };
const a: AlignRequest = { pairs: 'eng\\tjav\\n', pairsName: 'p.tsv', steps: 2 };
console.log(await rt.evaluate(req), a);
`;

describe('package: declarations for consumers', function () {
  this.timeout(300000);
  let dir: string;
  before(() => {
    buildPackage(); // dist/types, with the rest of the package (once for all the package tests)
    dir = mkdtempSync(join(tmpdir(), 'ia-consumer-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(REPO, join(dir, 'node_modules/instructalign'));
    symlinkSync(join(REPO, 'node_modules/@types'), join(dir, 'node_modules/@types'));
    writeFileSync(join(dir, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
    writeFileSync(join(dir, 'node.ts'), NODE_CONSUMER);
    writeFileSync(join(dir, 'web.ts'), WEB_CONSUMER);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const tsc = (bin: string, lib: string, file: string) =>
    spawnSync(
      process.execPath,
      [
        bin,
        '--strict',
        '--module',
        'nodenext',
        '--target',
        'es2022',
        '--lib',
        lib,
        '--types',
        'node',
        '--noEmit',
        file,
      ],
      { cwd: dir, encoding: 'utf8' },
    );

  it('no WebGPU type library is forced on consumers', () => {
    for (const f of ['index.d.ts', 'host/web.d.ts']) {
      const text = readFileSync(join(REPO, 'dist/types', f), 'utf8');
      assert.doesNotMatch(text, /reference types="@webgpu\/types"/, f);
      assert.match(text, /reference path="(\.\.?\/)+webgpu-names\.d\.ts"/, f);
    }
  });

  it('TypeScript 5: a Node project without the DOM library (no --skipLibCheck), a browser project with it', () => {
    const bin = join(REPO, 'node_modules/typescript/bin/tsc');
    const node = tsc(bin, 'es2022', 'node.ts');
    assert.equal(node.status, 0, node.stdout + node.stderr);
    const web = tsc(bin, 'es2022,dom', 'web.ts');
    assert.equal(web.status, 0, web.stdout + web.stderr);
  });

  it('TypeScript 7 (INSTRUCTALIGN_TSC7=path/to/typescript@7/bin/tsc)', function () {
    const bin = process.env.INSTRUCTALIGN_TSC7;
    if (!bin) this.skip(); // TypeScript 7 is not a dependency of this package
    for (const [lib, file] of [
      ['es2022', 'node.ts'],
      ['es2022,dom', 'node.ts'],
      ['es2022,dom', 'web.ts'],
    ]) {
      const r = tsc(bin as string, lib, file);
      assert.equal(r.status, 0, `${lib} ${file}: ${r.stdout}${r.stderr}`);
    }
  });
});
