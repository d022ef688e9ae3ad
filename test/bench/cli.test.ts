// `instructalign bench` as a user runs it: --memory --json prints one JSON object on stdout (progress on stderr) and
// --out writes the same report; a missing --against file is a usage error that says how to make it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../helpers/gpu.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 280000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('CLI bench', () => {
  it('--memory --json --out: one JSON object on stdout, the same report in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'instructalign-bench-'));
    try {
      const file = join(dir, 'bench.json');
      const r = cli(['bench', '--memory', '--json', '--out', file]);
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assert.match(j.adapter, /\w/);
      assert.equal(j.memoryPlan.length, 9);
      const p560 = j.memoryPlan.find((p: any) => p.model === 'bloomz-560m' && p.recompute && !p.fp16);
      assert.ok(p560.peakBytes > p560.stateBytes && p560.stateBytes > p560.weightsBytes);
      assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).memoryPlan, j.memoryPlan);
      assert.match(r.err, /memory plan bloomz-1b1 B=4 T=256 f32 --recompute: peak/);
      // --fp16 against f32 at the same batch: the f16 copy of the matrices is half the f32 weights' bytes
      const f = (fp16: boolean) =>
        j.memoryPlan.find((p: any) => p.model === 'bloomz-560m' && p.recompute && p.fp16 === fp16);
      assert.ok(
        f(true).weightsBytes > f(false).weightsBytes * 1.45 && f(true).weightsBytes < f(false).weightsBytes * 1.55,
      );
      assert.match(r.err, /memory plan bloomz-560m B=4 T=256 --recompute --fp16 vs f32: peak/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--against a missing file: usage error (exit 2) naming the file and how to produce it', () => {
    const r = cli(['bench', '--against', '/nonexistent/torch.json']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--against \/nonexistent\/torch\.json.*bench\/pytorch\/bench\.py/s);
  });

  it('--family takes gpu or swiftshader', () => {
    const r = cli(['bench', '--memory', '--family', 'tpu']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--family must be gpu or swiftshader, got "tpu"/);
  });
});
