// The page's align section: evaluate the loaded model (the form of steps 2–3), align it in the worker with the
// steps of `instructalign train` (live loss chart, ETA, Cancel), evaluate it again, show Δ per language and group
// as `instructalign compare`, and offer the tuned model as a zip of a HuggingFace folder.
// The tuned weights live in the worker's GPU memory, and once the training ends the worker also saves them in this
// browser's OPFS (the zip's files plus saved.json: model, steps, settings, the base model's evaluation; see
// src/host/opfs-store.ts). On load the page offers a complete save (section 1: Load it / Discard); a reload during
// the training, or a browser without OPFS, keeps nothing (download the zip then).
import { compareResults, discardSavedAlignment, formatDuration, opfsAvailable, savedAlignment } from './web.js';
import {
  $,
  begin,
  end,
  evalRequest,
  fetchText,
  h,
  loadModel,
  modelLabel,
  say,
  scrollTable,
  showModel,
  state,
  trace,
} from './app.js';

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
  const same = l1.filter((c) => l2.includes(c));
  if (same.length) throw new Error(`${same.join(', ')} is both L1 and L2: a language cannot be aligned to itself`);
  let pairs, pairsName;
  if (document.querySelector('input[name=pairs]:checked').value === 'file') {
    const f = $('pairs-file').files[0];
    if (!f) throw new Error('choose a parallel data file (CSV/TSV with a column per language, or JSONL pairs)');
    [pairs, pairsName] = [await f.text(), f.name];
    const head = pairs.slice(0, 65536);
    const odd = (head.match(/[\u0000-\u0008\u000e-\u001f\ufffd]/g) ?? []).length;
    if (odd > head.length / 100 || head.includes('\u0000'))
      throw new Error(
        `${f.name} is not a text file (it looks binary): choose a CSV, TSV or JSONL file of sentence pairs`,
      );
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

/**
 * An error of the worker in the page's words: the data checks are shared with the CLI and name its flags, which this
 * page does not have; binary junk from a file that is not text is not repeated, and very long tokens are cut.
 */
export function pageWords(message) {
  return message
    .replace(/;? ?pass --l1\/--l2 \(e\.g\. --l1 (\S+) --l2 (\S+)\)/g, '; set L1 and L2 below (e.g. $1 and $2)')
    .replace(/,? ?or map the headers with --columns [^)]*\)/g, ')')
    .replace(/ ?\(check --pairs, --l1 and --l2\)/g, ' (check the parallel data file, L1 and L2)')
    .replace(/TrainingStream: /g, '')
    .replace(/--lang-names (\S+)=Name/g, 'a language code with a standard name instead of $1')
    .replace(/--(columns|pairs|l1|l2|replay|lang-names|objectives|steps|lr|batch-size|max-length|seed)\b/g, (_, f) => {
      const field = { l1: 'L1', l2: 'L2', pairs: 'parallel data', lr: 'learning rate', 'batch-size': 'batch size' };
      return `the ${field[f] ?? f.replace('-', ' ')} setting`;
    })
    .replace(/\S*[\u0000-\u0008\u000e-\u001f\ufffd]\S*/g, '<binary>')
    .replace(/(<binary>\s*)+/g, '<binary> ')
    .replace(/\S{60,}/g, (t) => `${t.slice(0, 40)}…`);
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

/** Δ (after − before) per language and group, as `instructalign compare` computes it; both models named. */
function showCompare(c, names, note = '') {
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
  $('compare').className = '';
  $('compare').replaceChildren(
    h(
      'p',
      {},
      `${note}Before: ${names.a}. After: ${names.b}. Δ = after − before, in points (mean over prompts ` +
        `${c.prompts.join(', ')}), as instructalign compare.`,
    ),
    scrollTable(
      'compare-caption',
      `Before and after: ${names.a} against ${names.b}`,
      h('thead', {}, h('tr', {}, ...head)),
      h('tbody', {}, ...rows),
    ),
  );
}

// ---- the saved alignment (OPFS) ------------------------------------------------------------------------------------
const COMPARE_KEY = 'instructalign.compare';
/** The model a saved alignment holds, as the page names it (see modelLabel). */
const tunedOf = (m) => ({ base: m.model, steps: m.steps, total: m.total ?? m.steps, cancelled: !!m.cancelled });

/** Shows what OPFS holds: a complete saved alignment with Load it / Discard, or that nothing (or no OPFS) is there;
 *  the comparison made with that save (kept in localStorage) is shown again under section 4. */
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
      const t = tunedOf(m);
      const name = t.cancelled
        ? `${t.base} + ${t.steps} of ${t.total} steps, cancelled`
        : `${t.base}, ${t.steps} steps`;
      say(out, `${note}A tuned model from ${when} (${name}) is saved in this browser:`, 'ok');
    } else say(out, `${note}no tuned model is saved in this browser`, 'muted');
  }
  state.saved = saved?.meta ?? null;
  $('saved-load').classList.toggle('hidden', !saved);
  $('saved-discard').classList.toggle('hidden', !saved);
  trace(`saved alignment: ${out.textContent}`);
  return saved?.meta ?? null;
}
showSaved().then((m) => {
  // after a reload: the comparison of the saved alignment, if this page made one
  if (!m || state.compare) return;
  try {
    const kept = JSON.parse(localStorage.getItem(COMPARE_KEY) ?? 'null');
    if (kept?.savedAt === m.savedAt) {
      state.compare = kept.compare;
      showCompare(kept.compare, kept.names, `From the alignment saved ${new Date(m.savedAt).toLocaleString()}. `);
    }
  } catch {
    // nothing kept, or not readable: no comparison to show
  }
});

$('saved-load').onclick = async () => {
  if (state.busy) return;
  const saved = await savedAlignment().catch(() => null);
  if (!saved) return showSaved('the saved model is gone; ');
  state.before = saved.meta.before ?? null; // the base model's evaluation, as saved
  await loadModel(saved.files, `the saved ${saved.meta.name}`, { tuned: tunedOf(saved.meta) });
  if (state.model) $('saved-load').classList.add('hidden'); // loaded: Discard stays
};
$('saved-discard').onclick = async () => {
  if (state.busy) return;
  try {
    await discardSavedAlignment();
    localStorage.removeItem(COMPARE_KEY);
    await showSaved('discarded; ');
  } catch (e) {
    say($('saved-status'), `could not discard the saved alignment: ${e.message}`, 'fail');
  }
  $('model-load-url').focus(); // the focused button is hidden now
};

/** Saves the loaded tuned model in OPFS (streamed by the worker); a failure is reported and the flow goes on. */
async function saveTuned(rt, extra = {}) {
  if (!opfsAvailable()) {
    say($('saved-status'), 'this browser has no private storage (OPFS): download the model instead', 'fail');
    return null;
  }
  const t = state.tuned;
  try {
    const meta = await rt.saveAlignment({
      model: t.base,
      steps: t.steps,
      total: t.total,
      cancelled: t.cancelled,
      label: modelLabel(),
      ...extra,
    });
    await showSaved();
    return meta;
  } catch (e) {
    say($('saved-status'), `could not save the tuned model in this browser: ${e.message}`, 'fail');
    return null;
  }
}

// ---- the tuned model: save, download, restore the base ---------------------------------------------------------------
/** Section 4's line about the loaded model when its weights are tuned (after an alignment, finished or cancelled). */
function showTuned() {
  const t = state.tuned;
  $('tuned').classList.toggle('hidden', !t || !state.model);
  if (!t || !state.model) return;
  say(
    $('tuned-status'),
    t.cancelled
      ? `The loaded model is now ${modelLabel()}: the steps made stay in its weights.`
      : `The loaded model is now ${modelLabel()}.`,
    t.cancelled ? 'note' : 'ok',
  );
  $('tuned-restore').textContent = `Restore ${state.base?.tuned ? 'the saved model' : t.base}`;
}
document.addEventListener('instructalign:model', showTuned);

$('tuned-save').onclick = async () => {
  if (!state.tuned || !begin('export')) return;
  try {
    const rt = await state.ready;
    say($('tuned-status'), `saving ${modelLabel()} in this browser…`, 'muted');
    if (await saveTuned(rt)) showTuned();
  } finally {
    end('export');
  }
};
$('tuned-restore').onclick = async () => {
  if (!state.base || state.busy) return;
  const { source, what, tuned } = state.base;
  // the folder, files or URL the loaded model came from, loaded again (a saved alignment: as it was saved)
  await loadModel(source, what, { tuned });
  if (state.model) say($('tuned-status'), `restored ${modelLabel()}`, 'ok');
};

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
  // the page's state is set before the first await: one run per click, as Evaluate
  if ($('align-run').disabled || !begin('align')) return;
  cancelRequested = false;
  $('align-progress').value = 0;
  $('align-progress-text').textContent = '';
  let settled = false;
  let stepsMade = 0;
  let req = null;
  const prior = state.tuned;
  try {
    const rt = await state.ready;
    if (!state.model) throw new Error('load a model first (step 1)');
    if (state.model.dtype !== 'f32')
      throw new Error('alignment trains f32 weights: choose weights "f32" in section 1 and load the model again');
    phase('reading and checking the data…');
    const evalReq = await evalRequest();
    req = await alignRequest();
    // the parallel data is checked before the base evaluation (minutes), so a broken file is reported at once
    try {
      await rt.checkAlign(req);
    } catch (e) {
      throw new Error(pageWords(e.message));
    }
    $('align-cancel').disabled = false;
    $('align-cancel').focus();
    const t0 = performance.now();
    const evalProgress = (what) => (p) => {
      if (cancelRequested) rt.cancel();
      if (!settled) $('align-progress-text').textContent = `${what}: ${p.done} / ${p.total} examples × prompts`;
    };
    const beforeName = modelLabel();
    phase(`evaluating ${beforeName}…`);
    const before = await rt.evaluate(evalReq, evalProgress(beforeName));
    stopIfCancelled(rt);
    phase('aligning…');
    const losses = [];
    const base = prior?.base ?? state.model.name;
    const logs = await rt.align(req, (p) => {
      stepsMade = p.log.step;
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
    state.tuned = {
      base,
      steps: (prior?.steps ?? 0) + logs.length,
      total: (prior?.total ?? 0) + logs.length,
      cancelled: false,
    };
    showModel();
    stopIfCancelled(rt);
    phase('saving the tuned model in this browser…');
    const { pairs, replay, ...settings } = req;
    const saved = await saveTuned(rt, { settings, before });
    stopIfCancelled(rt);
    const afterName = modelLabel();
    phase(`evaluating ${afterName}…`);
    const after = await rt.evaluate(evalReq, evalProgress(afterName));
    $('align-progress-text').textContent =
      `${logs.length} step${logs.length === 1 ? '' : 's'}, loss ${logs[0].loss.toFixed(4)} → ` +
      `${logs[logs.length - 1].loss.toFixed(4)}`;
    const names = { a: beforeName, b: afterName };
    state.compare = compareResults(before, after, names);
    showCompare(state.compare, names);
    if (saved) {
      try {
        localStorage.setItem(COMPARE_KEY, JSON.stringify({ savedAt: saved.savedAt, names, compare: state.compare }));
      } catch {
        // no localStorage (or full): the comparison is not shown again after a reload
      }
    }
    say($('align-status'), `done in ${formatDuration((performance.now() - t0) / 1000)}`, 'ok');
    $('compare-heading').focus();
  } catch (e) {
    const cancelled = /cancelled/.test(e.message);
    // steps made before a cancel (or a failure) stay in the weights: the model gets a name that says so
    if (stepsMade > 0 && state.tuned === prior) {
      state.tuned = {
        base: prior?.base ?? state.model.name,
        steps: (prior?.steps ?? 0) + stepsMade,
        total: (prior?.total ?? 0) + (req?.steps ?? stepsMade),
        cancelled: true,
      };
      showModel();
    }
    say($('align-status'), cancelled ? 'cancelled' : `error: ${pageWords(e.message)}`, cancelled ? 'muted' : 'fail');
    $('align-progress-text').textContent =
      stepsMade > 0 ? `stopped after ${stepsMade} step${stepsMade === 1 ? '' : 's'}: they stay in the model` : '';
  } finally {
    settled = true;
    end('align');
    $('align-cancel').disabled = true;
    showTuned();
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
  if (!state.model || !begin('export')) return; // a double click packs and downloads once
  const out = $('align-download-status');
  try {
    const rt = await state.ready;
    const name = `${(state.tuned?.base ?? state.model.name).split('/').pop() || 'model'}-aligned`;
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
    say(out, `packing ${modelLabel()}…`, 'muted');
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
    say(out, `${name}.zip: ${(size / 2 ** 20).toFixed(1)} MiB (${modelLabel()})`, 'ok');
  } catch (e) {
    say(out, `error: ${e.message}`, 'fail');
  } finally {
    end('export');
  }
};
