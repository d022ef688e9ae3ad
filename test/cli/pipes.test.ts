// A reader that closes the pipe early (`instructalign tokenize ... | head -c 100`) ends the command quietly:
// status 0 and no stack on stderr (it was an unhandled EPIPE 'error' event).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, REPO } from '../helpers/gpu.ts';

describe('CLI in a pipe closed early (EPIPE)', () => {
  it('tokenize | head: exit 0, nothing on stderr', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'tokenize', '--tokenizer', join(FIXTURES, 'bloom-tiny')],
      { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
    });
    child.stdin.on('error', () => {}); // the child may stop reading once its stdout is gone
    child.stdin.end('"Hello world, how are you today?"\n'.repeat(200_000));
    child.stdout.once('data', () => child.stdout.destroy()); // head -c: read a little, then close
    const code = await new Promise<number | null>((ok) => child.on('exit', (c) => ok(c)));
    assert.equal(code, 0, err);
    assert.doesNotMatch(err, /EPIPE|Unhandled|at /);
  });
});
