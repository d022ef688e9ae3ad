// The page's align section: evaluate the loaded model (the form of steps 2–3), align it in the worker with the
// steps of `instructalign train` (live loss chart, ETA, Cancel), evaluate it again, show Δ per language and group
// as `instructalign compare`, and offer the tuned model as a zip of a HuggingFace folder.
// The tuned weights live in the worker's GPU memory, and once the training ends the worker also saves them in this
// browser's OPFS (the zip's files plus saved.json: model, steps, settings, the base model's evaluation; see
// src/host/opfs-store.ts). On load the page offers a complete save (section 1: Load it / Discard); a reload during
// the training, or a browser without OPFS, keeps nothing (download the zip then).
import { compareResults, discardSavedAlignment, formatDuration, opfsAvailable, savedAlignment } from './web.js';
import { $, evalRequest, fetchText, h, loadModel, say, state, trace } from './app.js';

const SVG = 'http://www.w3.org/2000/svg';
const svg = (tag, attrs = {}, ...children) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
};
const codes = (id) =>
  $(id)
    .value.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const pct = (x) => (100 * x).toFixed(2);
const signed = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}`;

for (const r of document.querySelectorAll('input[name=pairs]')) {
  r.onchange = () => $('pairs-file-row').classList.toggle('hidden', r.value !== 'file' || !r.checked);
}

/** The align form as the worker's AlignRequest (the parallel data and replay fetched or read as text). */
async function alignRequest() {
  const int = (id) => {
    const v = Number($(id).value);
    if (!Number.isInteger(v) || v < 1) throw new Error(`${$(id).dataset.name} must be a positive integer`);
    return v;
  };
  const lr = Number($('align-lr').value);
  if (!(lr > 0)) throw new Error('the learning rate must be a number above 0, e.g. 1e-4');
  const l1 = codes('align-l1'),
    l2 = codes('align-l2');
  if (!l1.length || !l2.length) throw new Error('give at least one L1 and one L2 language code (e.g. eng and jav)');
  let pairs, pairsName;
  if (document.querySelector('input[name=pairs]:checked').value === 'file') {
    const f = $('pairs-file').files[0];
    if (!f) throw new Error('choose a parallel data file (CSV/TSV with a column per language, or JSONL pairs)');
    [pairs, pairsName] = [await f.text(), f.name];
  } else {
    [pairs, pairsName] = [await fetchText(new URL($('pairs-url').value, location.href).href), 'train.csv'];
  }
  const replay = $('align-replay').checked
    ? await fetchText(new URL($('replay-url').value, location.href).href)
    : undefined;
  return {
    pairs,
    pairsName,
    replay,
    replayName: $('replay-url').value,
    replaySize: replay ? int('align-replay-size') : undefined,
    l1,
    l2,
    objectives: $('align-objectives').value.trim(),
    steps: int('align-steps'),
    lr,
    batchSize: int('align-batch'),
    maxLength: int('align-max-length'),
    seed: int('align-seed'),
  };
}

/** The loss curve so far: an SVG polyline whose text alternative lists the losses. */
function drawLoss(losses, total) {
  const W = 560,
    H = 180,
    L = 50,
    B = 30,
    T = 12;
  const max = Math.max(...losses),
    min = Math.min(...losses);
  const span = max - min || 1;
  const x = (k) => L + ((W - L - 10) * k) / Math.max(1, total - 1);
  const y = (v) => T + (H - T - B) * (1 - (v - min) / span);
  const pts = losses.map((v, k) => `${x(k).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const label = `Training loss per step, ${losses.length} of ${total} steps: ${losses.map((v) => v.toFixed(4)).join(', ')}`;
  $('loss-chart').replaceChildren(
    svg(
      'svg',
      { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label, 'font-family': 'sans-serif' },
      svg('rect', { width: W, height: H, fill: '#ffffff' }),
      svg('line', { x1: L, y1: H - B, x2: W - 10, y2: H - B, stroke: '#333333' }),
      svg('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#333333' }),
      svg('text', { x: L - 4, y: T + 8, 'text-anchor': 'end', 'font-size': 11 }, max.toFixed(3)),
      svg('text', { x: L - 4, y: H - B, 'text-anchor': 'end', 'font-size': 11 }, min.toFixed(3)),
      svg('text', { x: (L + W) / 2, y: H - 8, 'text-anchor': 'middle', 'font-size': 12 }, `step (of ${total})`),
      svg('polyline', { points: pts, fill: 'none', stroke: '#1f77b4', 'stroke-width': 2 }),
    ),
  );
}

/** Δ (aligned − base) per language and group, as `instructalign compare` computes it. */
function showCompare(c) {
  const td = (t) => h('td', {}, t);
  const row = (name, group, d, cls) =>
    h(
      'tr',
      cls ? { className: cls } : {},
      td(name),
      td(group),
      td(pct(d.weightedF1.a)),
      td(pct(d.weightedF1.b)),
      td(signed(d.weightedF1.delta)),
      td(signed(d.accuracy.delta)),
    );
  const rows = [];
  for (const g of c.groups) {
    for (const l of c.languages.filter((x) => x.group === g.group)) rows.push(row(l.lang, l.group, l));
    rows.push(row(`${g.group} mean`, g.group, g, 'mean'));
  }
  const head = ['language', 'group', 'wF1 before', 'wF1 after', 'Δ wF1', 'Δ accuracy'].map((t) =>
    h('th', { scope: 'col' }, t),
  );
  $('compare').replaceChildren(
    h(
      'p',
      { className: 'muted' },
      `Δ = aligned − base, in points (mean over prompts ${c.prompts.join(', ')}), as instructalign compare.`,
    ),
    h(
      'div',
      { className: 'scroll' },
      h('table', { className: 'results' }, h('thead', {}, h('tr', {}, ...head)), h('tbody', {}, ...rows)),
    ),
  );
}

// ---- the saved alignment (OPFS) ------------------------------------------------------------------------------------
/** Shows what OPFS holds: a complete saved alignment with Load it / Discard, or that nothing (or no OPFS) is there. */
async function showSaved(note = '') {
  const out = $('saved-status');
  let saved = null;
  if (!opfsAvailable()) {
    say(out, 'this browser has no private storage (OPFS): a tuned model is lost on reload, download it', 'muted');
  } else {
    try {
      saved = await savedAlignment();
    } catch (e) {
      say(out, `could not read the saved alignment: ${e.message}`, 'fail');
    }
    const m = saved?.meta;
    if (m) {
      const when = new Date(m.savedAt).toLocaleString();
      say(out, `${note}A tuned model from ${when} (${m.model}, ${m.steps} steps) is saved in this browser:`, 'ok');
    } else say(out, `${note}no tuned model is saved in this browser`, 'muted');
  }
  state.saved = saved?.meta ?? null;
  $('saved-load').classList.toggle('hidden', !saved);
  $('saved-discard').classList.toggle('hidden', !saved);
  trace(`saved alignment: ${out.textContent}`);
}
showSaved();

$('saved-load').onclick = async () => {
  const saved = await savedAlignment().catch(() => null);
  if (!saved) return showSaved('the saved model is gone; ');
  state.before = saved.meta.before ?? null; // the base model's evaluation, as saved
  await loadModel(saved.files, `the saved ${saved.meta.name}`);
};
$('saved-discard').onclick = async () => {
  try {
    await discardSavedAlignment();
    await showSaved('discarded; ');
  } catch (e) {
    say($('saved-status'), `could not discard the saved alignment: ${e.message}`, 'fail');
  }
  $('model-load-url').focus(); // the focused button is hidden now
};

/** Saves the tuned model in OPFS (worker side); a failure is reported and the flow goes on. */
async function saveTuned(rt, logs, req, before) {
  if (!opfsAvailable()) return;
  const { pairs, replay, ...settings } = req;
  try {
    await rt.saveAlignment({ model: state.model.name, steps: logs.length, settings, before });
    await showSaved();
  } catch (e) {
    say($('saved-status'), `could not save the tuned model in this browser: ${e.message}`, 'fail');
  }
}

function phase(text) {
  say($('align-status'), text, 'muted');
  trace(`align: ${text}`);
}

// Cancel may come before the worker has started the phase's call (the worker would then have nothing to stop):
// the flow checks this flag between phases and repeats the cancel on the next progress call.
let cancelRequested = false;
const stopIfCancelled = (rt) => {
  if (!cancelRequested) return;
  rt.cancel();
  throw new Error('cancelled');
};

$('align-run').onclick = async () => {
  if ($('align-run').disabled) return; // one run per click, as Evaluate
  $('align-run').disabled = true;
  $('run').disabled = true;
  cancelRequested = false;
  $('align-progress').value = 0;
  $('align-progress-text').textContent = '';
  $('align-download').classList.add('hidden');
  let settled = false;
  try {
    const rt = await state.ready;
    if (!state.model) throw new Error('load a model first (step 1)');
    if (state.model.dtype !== 'f32')
      throw new Error('alignment trains f32 weights: load the model with default weights');
    phase('reading the data…');
    const evalReq = await evalRequest();
    const req = await alignRequest();
    $('align-cancel').disabled = false;
    $('align-cancel').focus();
    const t0 = performance.now();
    const evalProgress = (what) => (p) => {
      if (cancelRequested) rt.cancel();
      if (!settled) $('align-progress-text').textContent = `${what}: ${p.done} / ${p.total} examples × prompts`;
    };
    phase('evaluating the base model…');
    const before = await rt.evaluate(evalReq, evalProgress('base model'));
    stopIfCancelled(rt);
    phase('aligning…');
    const losses = [];
    const logs = await rt.align(req, (p) => {
      if (cancelRequested) rt.cancel();
      if (settled) return;
      losses.push(p.log.loss);
      drawLoss(losses, p.total);
      $('align-progress').max = p.total;
      $('align-progress').value = p.log.step;
      $('align-progress-text').textContent =
        `step ${p.log.step} / ${p.total}, loss ${p.log.loss.toFixed(4)}, ETA ${formatDuration(p.etaSeconds)}`;
    });
    state.alignLog = logs;
    say($('model-status'), `${$('model-status').textContent}; aligned for ${logs.length} steps`, 'ok');
    stopIfCancelled(rt);
    phase('saving the tuned model in this browser…');
    await saveTuned(rt, logs, req, before);
    stopIfCancelled(rt);
    phase('evaluating the aligned model…');
    const after = await rt.evaluate(evalReq, evalProgress('aligned model'));
    $('align-progress-text').textContent =
      `${logs.length} steps, loss ${logs[0].loss.toFixed(4)} → ${logs[logs.length - 1].loss.toFixed(4)}`;
    state.compare = compareResults(before, after, { a: 'base', b: 'aligned' });
    showCompare(state.compare);
    $('align-download').classList.remove('hidden');
    say($('align-status'), `done in ${formatDuration((performance.now() - t0) / 1000)}`, 'ok');
    $('compare-heading').focus();
  } catch (e) {
    const cancelled = /cancelled/.test(e.message);
    say($('align-status'), cancelled ? 'cancelled' : `error: ${e.message}`, cancelled ? 'muted' : 'fail');
    $('align-progress-text').textContent = cancelled ? 'stopped (the steps made so far stay in the model)' : '';
  } finally {
    settled = true;
    $('align-run').disabled = false;
    $('run').disabled = false;
    $('align-cancel').disabled = true;
    if (document.activeElement === document.body || document.activeElement === $('align-cancel'))
      $('align-run').focus();
  }
};
$('align-cancel').onclick = async () => {
  cancelRequested = true;
  (await state.ready).cancel();
  say($('align-status'), 'cancelling after this step…', 'muted');
};

// The zip is streamed out of the worker: into the file the user picks (showSaveFilePicker, Chrome/Edge), else into
// a Blob made of parts that the browser keeps on disk when large; never one buffer (a 560M model is over 2 GB).
$('align-download').onclick = async () => {
  const btn = $('align-download');
  if (btn.disabled) return; // a double click packs and downloads once
  btn.disabled = true;
  const out = $('align-download-status');
  try {
    const rt = await state.ready;
    const name = `${
      (state.model?.name ?? 'model')
        .split('/')
        .pop()
        .replace(/-aligned$/, '') || 'model'
    }-aligned`;
    let handle;
    if (window.showSaveFilePicker) {
      try {
        handle = await window.showSaveFilePicker({
          suggestedName: `${name}.zip`,
          types: [{ description: 'zip archive', accept: { 'application/zip': ['.zip'] } }],
        });
      } catch (e) {
        if (e.name === 'AbortError') return say(out, 'not saved (no file chosen)', 'muted');
        handle = undefined; // no picker in this context (e.g. no user gesture): the Blob download below
      }
    }
    say(out, 'packing the checkpoint…', 'muted');
    const zip = await rt.tunedCheckpoint(name, handle ? { handle } : {});
    let size = zip.size;
    if (handle) size = (await handle.getFile()).size;
    else {
      const a = h('a', { href: URL.createObjectURL(zip), download: `${name}.zip` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    }
    say(out, `${name}.zip: ${(size / 2 ** 20).toFixed(1)} MiB (config.json, tokenizer.json, model.safetensors)`, 'ok');
  } catch (e) {
    say(out, `error: ${e.message}`, 'fail');
  } finally {
    btn.disabled = false;
  }
};
