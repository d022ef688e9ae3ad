// The page's script: starts the runtime worker, loads a model (folder, files, directory handle or URL), runs the
// zero-shot evaluation with progress and cancel, and shows the results table, chart and results.json. align.js
// (the align section) imports the helpers exported here.
// `window.instructalign` ({ ready, results, predictions }) lets tests and the console drive the same worker.
import {
  startRuntime,
  kernelCheckCpu,
  KERNEL_CHECK_K as K,
  renderChart,
  NUSAX_LANGS,
  DEFAULT_GROUPS,
  promptTemplates,
  formatDuration,
} from './web.js';

export const $ = (id) => document.getElementById(id);
export const state = { ready: null, results: null, model: null, busy: null, tuned: null, base: null };
window.instructalign = state;

// ---- the page's one state ------------------------------------------------------------------------------------------
// Idle, or one job running: 'load', 'eval', 'align' or 'export'. While a job runs, every control that would change
// the model or the data is disabled (the fieldsets of sections 1, 2 and 4), and so are the other jobs' buttons; a
// second click on a job's button does nothing. The worker refuses a model load during a run as well.
const JOB_BUTTONS = ['run', 'align-run', 'align-download', 'tuned-save', 'tuned-restore'];
export function begin(job) {
  if (state.busy) return false;
  state.busy = job;
  document.body.dataset.busy = job;
  for (const f of document.querySelectorAll('main fieldset')) f.disabled = true;
  for (const id of JOB_BUTTONS) if ($(id)) $(id).disabled = true;
  trace(`job ${job} starts`);
  return true;
}
export function end(job) {
  if (state.busy !== job) return;
  state.busy = null;
  delete document.body.dataset.busy;
  for (const f of document.querySelectorAll('main fieldset')) f.disabled = false;
  for (const id of JOB_BUTTONS) if ($(id)) $(id).disabled = false;
  if (state.noGpu) $('run').disabled = true; // without WebGPU nothing can run (the status says why)
  trace(`job ${job} ends`);
}

/**
 * The loaded model's name as the page shows it: the base model, plus the alignment steps its weights carry
 * ("nano-bloomz + 3 of 10 steps, cancelled"); results, comparisons and saves are labelled with it.
 */
export function modelLabel() {
  if (!state.model) return 'no model';
  const t = state.tuned;
  if (!t) return state.model.name;
  const steps = `${t.steps} step${t.steps === 1 ? '' : 's'}`;
  return t.cancelled ? `${t.base} + ${t.steps} of ${t.total} steps, cancelled` : `${t.base} + ${steps}`;
}

export function say(el, text, cls = '') {
  el.textContent = text;
  el.className = cls;
}
/** An element with properties and children (strings become text nodes: nothing written here is parsed as HTML). */
export function h(tag, props = {}, ...children) {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children);
  return el;
}
/** A table in a scroll box the keyboard can reach (tabindex 0, a region named by the table's caption). */
export function scrollTable(id, caption, ...parts) {
  const box = h(
    'div',
    { className: 'scroll', tabIndex: 0, role: 'region' },
    h('table', { className: 'results' }, h('caption', { id, className: 'visually-hidden' }, caption), ...parts),
  );
  box.setAttribute('aria-labelledby', id);
  return box;
}
function checkbox(name, value, isChecked, ...text) {
  return h(
    'label',
    { className: 'inline' },
    h('input', { type: 'checkbox', name, value, checked: isChecked }),
    ...text,
  );
}
/** a line in the console (debug level) with the page's clock: the tests print these when a step times out */
export const trace = (m) => console.debug(`[instructalign page] ${(performance.now() / 1000).toFixed(1)} s: ${m}`);

// ---- GPU ---------------------------------------------------------------------------------------------------------
// The worker itself needs no GPU (the tokenizer is wasm): it starts at once, and the GPU is opened on top of it.
state.worker = startRuntime();
state.ready = (async () => {
  if (!navigator.gpu) {
    throw new Error(
      'WebGPU is missing in this browser (navigator.gpu is undefined). Use a recent Chrome or Edge, open the page ' +
        'from http://127.0.0.1 or https, and on Linux start Chromium with --enable-unsafe-webgpu.',
    );
  }
  // the worker would say the same in Node's words (Vulkan drivers); in a browser the fix is a browser setting
  if (!(await navigator.gpu.requestAdapter())) {
    throw new Error(
      'WebGPU gives no adapter in this browser (navigator.gpu.requestAdapter() returned null). Turn on hardware ' +
        'acceleration and check chrome://gpu; Chromium on Linux needs --enable-unsafe-webgpu.',
    );
  }
  const rt = await state.worker;
  const adapter = await rt.init();
  $('status').textContent = adapter.text;
  state.adapter = adapter;
  return rt;
})();
state.ready.catch((e) => {
  say($('status'), `error: ${e.message}`, 'fail');
  state.noGpu = true;
  $('run').disabled = true;
});

// ---- model -------------------------------------------------------------------------------------------------------
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
/** weights "auto": f16 (packed: half the memory, about twice as fast to load) once the f32 weights pass 1 GiB */
const AUTO_F16_FROM = 2 ** 30;

/** Loads a model (one load at a time, never during a run: the controls are disabled and a second call returns). */
export async function loadModel(source, what, { tuned = null } = {}) {
  if (!begin('load')) return;
  const out = $('model-status');
  const focused = document.activeElement;
  // the worker delivers every progress call before its answer; a late one must still not overwrite the outcome
  let settled = false;
  try {
    const rt = await state.ready;
    say(out, `loading ${what}…`, 'muted');
    trace(`loading ${what}`);
    // what it needs on the GPU, from its config.json alone, said before anything big is read
    const plan = await rt.planModel(source).catch(() => null); // a broken folder: the load says what is wrong
    const dtype = $('dtype').value || (plan && plan.weightsBytes.f32 > AUTO_F16_FROM ? 'f16' : 'f32');
    // auto's f32 is the default load (recorded as "default" in results.json, as the CLI records no --dtype)
    const asked = !$('dtype').value && dtype === 'f32' ? undefined : dtype;
    if (plan) {
      const need = plan.weightsBytes[dtype];
      say(
        out,
        `loading ${what}: ${plan.parameters.toLocaleString('en')} parameters, needs ${mib(need)} of GPU memory as ` +
          `${dtype}${dtype === 'f16' ? ` (${mib(plan.weightsBytes.f32)} as f32)` : ''}; aligning it needs f32 and ` +
          `at least ${mib(plan.alignBytesAtLeast)}…`,
        'muted',
      );
      trace(`plan: ${out.textContent}`);
    }
    const t0 = performance.now();
    const info = await rt.loadModel(source, {
      dtype: asked,
      onProgress: (done, total) => {
        if (settled) trace(`load progress ${done}/${total} came after the load had ended: ignored`);
        else say(out, `loading ${what}: ${done}/${total} tensors`, 'muted');
      },
      // a model by URL: the bytes as they arrive (a file kept from an earlier download is read from this browser)
      onDownload: (p) => {
        if (settled) return;
        const of = p.total ? ` of ${mib(p.total)}` : '';
        const kept = p.cached ? ` (${mib(p.cached)} kept in this browser)` : '';
        say(out, `downloading ${p.file}: ${mib(p.loaded)}${of}${kept}`, 'muted');
      },
    });
    state.model = info;
    state.tuned = tuned;
    state.base = { source, what, tuned };
    state.modelLine =
      `${info.parameters.toLocaleString('en')} parameters (${info.config.nLayer} layers, hidden ` +
      `${info.config.hiddenSize}, vocabulary ${info.config.vocabSize}), ${info.dtype}, ${mib(info.gpuBytes)} on the ` +
      `GPU, in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    showModel();
  } catch (e) {
    state.model = null;
    state.tuned = null;
    say(out, `could not load ${what}: ${e.message}`, 'fail');
  } finally {
    settled = true;
    end('load');
    // the focused control was disabled during the load: give the focus back
    if (focused instanceof HTMLElement && document.activeElement === document.body) focused.focus();
  }
  trace(`model status: ${out.textContent}`);
}

/** The model line of section 1: its name (with the alignment steps its weights carry) and its sizes. */
export function showModel() {
  if (state.model) say($('model-status'), `loaded ${modelLabel()}: ${state.modelLine}`, 'ok');
  document.dispatchEvent(new CustomEvent('instructalign:model'));
}

$('model-folder').onchange = (ev) => ev.target.files.length && loadModel(ev.target.files, 'the folder');
$('model-files').onchange = (ev) => ev.target.files.length && loadModel(ev.target.files, 'the files');
$('model-load-url').onclick = () => loadModel(new URL($('model-url').value, location.href).href, $('model-url').value);
$('model-dir').onclick = async () => {
  if (!window.showDirectoryPicker) {
    say($('model-status'), 'this browser has no showDirectoryPicker: use the folder input', 'fail');
    return;
  }
  try {
    await loadModel(await window.showDirectoryPicker(), 'the folder');
  } catch (e) {
    if (e.name !== 'AbortError') say($('model-status'), e.message, 'fail');
  }
};

// ---- data, languages, prompts --------------------------------------------------------------------------------------
const DEFAULT_LANGS = ['eng', 'jav', 'mad'];
for (const [group, codes] of Object.entries(DEFAULT_GROUPS)) {
  const folders = codes.map((code) => NUSAX_LANGS.find((l) => l.code === code).folder.replace('_', ' '));
  $('langs').append(
    h(
      'div',
      { className: 'group' },
      h('b', {}, group),
      ...codes.map((code, k) =>
        checkbox(
          'lang',
          code,
          DEFAULT_LANGS.includes(code),
          ` ${code} `,
          h('span', { className: 'muted' }, folders[k]),
        ),
      ),
    ),
  );
}
$('prompts').append(
  'prompts ',
  ...promptTemplates('sentiment').map((p) => {
    const label = checkbox('prompt', String(p.id), true, ` ${p.name}`);
    label.title = p.template;
    return label;
  }),
);
for (const r of document.querySelectorAll('input[name=data]')) {
  r.onchange = () => {
    const csv = document.querySelector('input[name=data]:checked').value === 'csv';
    $('csv-row').classList.toggle('hidden', !csv);
    $('langs').classList.toggle('hidden', csv);
  };
}
const checked = (name) => [...document.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);

export async function fetchText(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  return res.text();
}

/** The evaluation request of the form (the worker's EvalRequest). */
export async function evalRequest() {
  const prompts = checked('prompt').map(Number);
  if (!prompts.length) throw new Error('choose at least one prompt');
  const positive = (id) => {
    const v = Number($(id).value);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${id} must be a positive integer`);
    return v;
  };
  const common = {
    task: 'sentiment',
    prompts,
    limit: positive('limit'),
    batchSize: positive('batch-size'),
    maxLength: positive('max-length'),
  };
  if (document.querySelector('input[name=data]:checked').value === 'csv') {
    const file = $('data-csv').files[0];
    if (!file) throw new Error('choose a CSV file (columns id,text,label)');
    const name = $('data-name').value.trim() || file.name.replace(/\.csv$/i, '');
    return { ...common, data: await file.text(), name, source: file.name };
  }
  const langs = checked('lang');
  if (!langs.length) throw new Error('choose at least one language');
  const base = new URL($('data-base').value, location.href);
  const data = {};
  await Promise.all(
    langs.map(async (code) => {
      const folder = NUSAX_LANGS.find((l) => l.code === code).folder;
      data[code] = await fetchText(new URL(`${folder}/test.csv`, base).href);
    }),
  );
  return { ...common, data, langs, source: 'nusax' };
}

// ---- run -----------------------------------------------------------------------------------------------------------
/** Marks the results on screen as those of an earlier run (or clears the mark when `why` is empty). */
function markResults(why) {
  $('results-note').textContent = why && state.results ? why : '';
  $('results-block').classList.toggle('stale', !!(why && state.results));
}

$('run').onclick = async () => {
  // the page's state set before the first await: a double click must not start a second run behind the first
  if ($('run').disabled || !begin('eval')) return;
  const status = $('run-status');
  say(status, 'preparing…', 'muted');
  $('progress').value = 0;
  $('progress-text').textContent = '';
  markResults('The results below are from the previous run.');
  cancelRequested = false;
  let settled = false; // as in loadModel: no progress after the outcome
  let last = null;
  try {
    const rt = await state.ready;
    if (!state.model) throw new Error('load a model first (step 1)');
    const req = await evalRequest();
    const label = modelLabel();
    $('cancel').disabled = false;
    $('cancel').focus(); // the focused Evaluate button is disabled during the run: keep the keyboard somewhere useful
    say(status, 'running…', 'muted');
    trace('evaluation starts');
    const t0 = performance.now();
    const predictions = [];
    const results = await rt.evaluate(req, (p) => {
      if (cancelRequested) rt.cancel(); // a Cancel that reached the worker before the evaluation had started
      if (settled) {
        trace(`run progress ${p.done}/${p.total} came after the run had ended: ignored`);
        return;
      }
      last = p;
      predictions.push(...p.predictions);
      $('progress').max = p.total;
      $('progress').value = p.done;
      $('progress-text').textContent =
        `${p.done} / ${p.total} examples × prompts (${((100 * p.done) / Math.max(1, p.total)).toFixed(0)}%), ` +
        `ETA ${formatDuration(p.etaSeconds).replace('?', '…')}`;
    });
    showResults(results, predictions, label);
    markResults('');
    say(status, `done in ${formatDuration((performance.now() - t0) / 1000)}`, 'ok');
    $('results-heading').focus();
  } catch (e) {
    const cancelled = /cancelled/.test(e.message);
    say(status, cancelled ? 'cancelled' : `error: ${e.message}`, cancelled ? 'muted' : 'fail');
    // no ETA of a run that no longer runs
    $('progress-text').textContent = last ? `stopped at ${last.done} / ${last.total} examples × prompts` : '';
    markResults(`The results below are from an earlier run: this one ${cancelled ? 'was cancelled' : 'failed'}.`);
  } finally {
    settled = true;
    end('eval');
    $('cancel').disabled = true;
    if (document.activeElement === document.body || document.activeElement === $('cancel')) $('run').focus();
    trace(`run status: ${status.textContent}`);
  }
};
let cancelRequested = false;
$('cancel').onclick = async () => {
  cancelRequested = true;
  (await state.ready).cancel();
  say($('run-status'), 'cancelling after this batch…', 'muted');
};

const pct = (x) => (100 * x).toFixed(2);

function showResults(r, predictions, label = r.model.model) {
  state.results = r;
  state.predictions = predictions;
  const td = (text, cls) => h('td', cls ? { className: cls } : {}, text);
  const cells = (m) => [td(pct(m.accuracy)), td(pct(m.weightedF1)), td(pct(m.macroF1))];
  // what the model predicts (issue 19's distribution; absent in results of older versions)
  const shares = (l) =>
    l.predicted
      ? r.labels.map((lab, k) => `${lab.slice(0, 3)} ${(100 * l.predicted.shares[k]).toFixed(0)}%`).join(' · ')
      : '';
  const rows = [];
  for (const g of r.groups) {
    rows.push(h('tr', { className: 'group-head' }, h('td', { colSpan: 7 }, g.group)));
    for (const l of r.languages.filter((x) => x.group === g.group))
      rows.push(h('tr', {}, td(l.lang), td(l.name), td(String(l.n)), ...cells(l.mean), td(shares(l))));
    rows.push(h('tr', { className: 'mean' }, td(`${g.group} mean`), td(''), td(''), ...cells(g.mean), td('')));
  }
  rows.push(
    h('tr', { className: 'mean' }, h('td', {}, h('b', {}, 'overall')), td(''), td(''), ...cells(r.overall), td('')),
  );
  const head = ['language', 'name', 'n', 'accuracy', 'weighted F1', 'macro F1', 'predicted labels'].map((t) =>
    h('th', { scope: 'col' }, t),
  );
  $('results').className = '';
  $('results').replaceChildren(
    h(
      'p',
      { className: 'muted' },
      `${label} on ${r.model.adapter}; prompts ${r.prompts.map((p) => p.name).join(', ')}; ` +
        'mean over the prompts, in %.',
    ),
    scrollTable(
      'results-caption',
      `Results of ${label}: accuracy and F1 per language and group`,
      h('thead', {}, h('tr', {}, ...head)),
      h('tbody', {}, ...rows),
    ),
    ...(r.warnings ?? []).map((w) => h('p', { className: 'note' }, `warning: ${w}`)),
  );
  // renderChart escapes every name it writes; the SVG gets a text alternative: the numbers it draws
  $('chart').innerHTML = renderChart(r);
  const svg = $('chart').querySelector('svg');
  svg.setAttribute('role', 'img');
  svg.setAttribute(
    'aria-label',
    `Chart of weighted F1 per language (mean over ${r.prompts.length} prompt${r.prompts.length === 1 ? '' : 's'}): ` +
      r.languages.map((l) => `${l.lang} ${pct(l.mean.weightedF1)}%`).join(', '),
  );
  const json = `${JSON.stringify(r, null, 1)}\n`;
  link($('download'), json, 'application/json');
  link($('download-predictions'), predictions.map((x) => `${JSON.stringify(x)}\n`).join(''), 'application/x-ndjson');
  $('results-json').textContent = json;
}

function link(a, text, type) {
  if (a.href) URL.revokeObjectURL(a.href);
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.classList.remove('hidden');
}

// ---- tools ---------------------------------------------------------------------------------------------------------
$('tokenize').onclick = async () => {
  try {
    const rt = await state.worker; // the tokenizer needs no GPU
    const [ids] = await rt.tokenize(await fetchText($('tokenizer-url').value), [$('text').value]);
    $('ids').textContent = `${ids.length} tokens: ${JSON.stringify(ids)}`;
  } catch (e) {
    $('ids').textContent = `error: ${e.message}`;
  }
};

$('check').onclick = async () => {
  const out = $('check-result');
  out.className = '';
  try {
    const rt = await state.ready;
    const n = 64 * K,
      M = n / K;
    const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37));
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.11) - 0.25);
    const t0 = performance.now();
    const got = await rt.kernelCheck(a, b);
    const ms = performance.now() - t0;
    const want = kernelCheckCpu(a, b);
    let maxErr = got.length === want.length ? 0 : Infinity;
    for (let i = 0; i < want.length; i++)
      maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
    const pass = maxErr < 1e-5;
    out.className = pass ? 'pass' : 'fail';
    out.textContent = `${pass ? 'PASS' : 'FAIL'}: add (${n}) + matmul (${M}×${K}·${K}×${M}), max |GPU − CPU| / (1 + |CPU|) = ${maxErr.toExponential(2)}, ${ms.toFixed(0)} ms`;
  } catch (e) {
    out.className = 'fail';
    out.textContent = `FAIL: ${e.message}`;
  }
};
