// The Vulkan driver choice (src/gpu/device.ts): INSTRUCTALIGN_VULKAN picks one, a bad value is an error naming the
// variable, and an installed (or added) Mesa lavapipe does not replace SwiftShader unless asked for.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { lavapipeIcdCandidates } from '../../src/gpu/device.ts';
import { REPO } from '../helpers/gpu.ts';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

function doctor(env: Record<string, string | undefined>) {
  const e: Record<string, string | undefined> = { ...process.env };
  for (const k of ['INSTRUCTALIGN_VULKAN', 'VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES']) delete e[k];
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'doctor', '--json'], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120000,
    env: { ...e, ...env },
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { code: r.status, err: r.stderr, json: last.startsWith('{') ? JSON.parse(last) : null };
}

describe('Vulkan driver choice (INSTRUCTALIGN_VULKAN)', function () {
  this.timeout(240000);

  it('a bad value is an error that names the variable and the choices', () => {
    const r = doctor({ INSTRUCTALIGN_VULKAN: 'mesa' });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /INSTRUCTALIGN_VULKAN=mesa: use one of auto, swiftshader, lavapipe, system/);
  });

  it('lavapipe is looked for where asked, then where .ci/lavapipe.sh unpacks it, then in the system', () => {
    const c = lavapipeIcdCandidates({ INSTRUCTALIGN_LAVAPIPE_ICD: '/x/lvp.json', XDG_CACHE_HOME: '/c' }, '/home/u');
    assert.equal(c[0], '/x/lvp.json');
    assert.equal(c[1], '/c/instructalign/lavapipe/lvp_icd.json');
    assert.ok(c.includes('/usr/share/vulkan/icd.d/lvp_icd.x86_64.json'));
    assert.equal(lavapipeIcdCandidates({}, '/home/u')[0], '/home/u/.cache/instructalign/lavapipe/lvp_icd.json');
  });

  it('an added Mesa lavapipe does not replace SwiftShader by surprise; INSTRUCTALIGN_VULKAN=lavapipe selects it', function () {
    const lvp = lavapipeIcdCandidates({ ...process.env, INSTRUCTALIGN_LAVAPIPE_ICD: undefined }, homedir())[0];
    if (!existsSync(SWIFTSHADER_ICD) || !existsSync(lvp)) this.skip(); // needs Chromium's SwiftShader and Mesa 25 lavapipe unpacked by .ci/lavapipe.sh
    const auto = doctor({ VK_ADD_DRIVER_FILES: lvp });
    assert.equal(auto.code, 0, auto.err);
    assert.equal(auto.json.driver.driver, 'swiftshader');
    assert.match(auto.json.driver.reason, /only a CPU adapter \(llvmpipe/);
    assert.equal(auto.json.info.swiftshader, true);
    const chosen = doctor({
      INSTRUCTALIGN_VULKAN: 'lavapipe',
      INSTRUCTALIGN_LAVAPIPE_ICD: lvp,
      VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    });
    assert.equal(chosen.code, 0, chosen.err);
    assert.deepEqual(chosen.json.driver, { driver: 'lavapipe', icd: lvp, reason: 'INSTRUCTALIGN_VULKAN=lavapipe' });
    assert.equal(chosen.json.info.fallback, true, 'lavapipe is a fallback (CPU) adapter');
    assert.equal(chosen.json.kernels.family, 'swiftshader', 'so it gets the CPU kernel policy');
  });
});
