// The page's script: starts the runtime worker and wires the tokenize and kernel-check buttons to it.
// `window.instructalign` ({ rt, ready }) lets tests and the console drive the same worker.
import { startRuntime, kernelCheckCpu, KERNEL_CHECK_K as K } from './web.js';

const $ = (id) => document.getElementById(id);

const ready = (async () => {
  const rt = await startRuntime();
  const adapter = await rt.init();
  $('status').textContent = adapter.text;
  return rt;
})();
ready.catch((e) => { $('status').textContent = `error: ${e.message}`; $('status').className = 'fail'; });
window.instructalign = { ready };

$('tokenize').onclick = async () => {
  try {
    const rt = await ready;
    const url = $('tokenizer-url').value;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
    const [ids] = await rt.tokenize(await res.text(), [$('text').value]);
    $('ids').textContent = `${ids.length} tokens: ${JSON.stringify(ids)}`;
  } catch (e) {
    $('ids').textContent = `error: ${e.message}`;
  }
};

$('check').onclick = async () => {
  const out = $('check-result');
  out.className = '';
  try {
    const rt = await ready;
    const n = 64 * K, M = n / K;
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.11) - 0.25);
    const t0 = performance.now();
    const got = await rt.kernelCheck(a, b);
    const ms = performance.now() - t0;
    const want = kernelCheckCpu(a, b);
    let maxErr = got.length === want.length ? 0 : Infinity;
    for (let i = 0; i < want.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
    const pass = maxErr < 1e-5;
    out.className = pass ? 'pass' : 'fail';
    out.textContent = `${pass ? 'PASS' : 'FAIL'}: add (${n}) + matmul (${M}×${K}·${K}×${M}), max |GPU − CPU| / (1 + |CPU|) = ${maxErr.toExponential(2)}, ${ms.toFixed(0)} ms`;
  } catch (e) {
    out.className = 'fail';
    out.textContent = `FAIL: ${e.message}`;
  }
};
