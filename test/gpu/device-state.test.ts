// Process-wide state of the device layer (issue 28 item 2): a destroyed device leaves no pin on its Dawn instance
// behind (the set holds live devices only), and opening a device after the first writes nothing to process.env
// (the Vulkan driver choice is made, and the environment set, once, before the first Dawn instance).
import assert from 'node:assert/strict';
import { Gpu } from '../../src/gpu/runtime.ts';
import { describeAdapter, pinnedDevices, type DeviceHandle } from '../../src/gpu/device.ts';
import { getGpu } from '../helpers/gpu.ts';

describe('device state', () => {
  it('a destroyed device unpins its instance; a later open leaves process.env as it was', async () => {
    await getGpu(); // the process's first device: the driver choice is made
    const env = JSON.stringify(process.env);
    const before = pinnedDevices();
    const gpu = await Gpu.open({ log: () => {} });
    assert.equal(pinnedDevices(), before + 1);
    assert.equal(JSON.stringify(process.env), env, 'no process.env write after the first device');
    gpu.destroy();
    await gpu.handle.device.lost;
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(pinnedDevices(), before, 'the destroyed device is no longer pinned');
  });
});

describe('describeAdapter', () => {
  const handle = (adapter: Partial<DeviceHandle['adapter']>) =>
    ({
      adapter: {
        vendor: '',
        architecture: '',
        device: '',
        description: '',
        swiftshader: false,
        fallback: false,
        ...adapter,
      },
    }) as DeviceHandle;
  it('names the adapter, its host and whether it is a CPU one', () => {
    const ss = handle({ vendor: 'google', architecture: 'swiftshader', backend: 'browser', swiftshader: true });
    assert.equal(describeAdapter(ss), 'google swiftshader (browser, SwiftShader CPU)');
  });
  it('an adapter whose browser blanks its info (Firefox) is "unnamed", not "?"', () => {
    assert.equal(describeAdapter(handle({ backend: 'browser', fallback: true })), 'unnamed adapter (browser, CPU)');
  });
});
