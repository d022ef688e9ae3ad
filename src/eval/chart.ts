// chart.svg: weighted F1 (mean over prompts) per language, bars coloured by group; self-contained SVG, no scripts or
// fonts.
import type { ResultsJson } from './results.ts';

const COLORS: Record<string, string> = { L1: '#1f77b4', L2: '#ff7f0e', L3: '#2ca02c', other: '#7f7f7f' };
const EXTRA = ['#9467bd', '#8c564b', '#e377c2', '#17becf'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function groupColor(group: string, index: number): string {
  return COLORS[group] ?? EXTRA[index % EXTRA.length];
}

export function renderChart(r: ResultsJson): string {
  const langs = r.languages;
  const bar = 28,
    gap = 12,
    left = 64,
    top = 48,
    plotH = 260,
    bottom = 64;
  const right = left + Math.max(1, langs.length) * (bar + gap) + gap; // the plot's right edge; the legend follows
  const prompts = `${r.prompts.length} prompt${r.prompts.length === 1 ? '' : 's'}`;
  const title = `Zero-shot ${r.task}: weighted F1 per language (mean over ${prompts})`;
  // wide enough for the title (≈ 8 px per character at 15 px) even with one or two languages
  const width = Math.max(right + 140, Math.ceil(title.length * 8) + 20);
  const height = top + plotH + bottom;
  const y = (v: number) => Math.round((top + plotH - v * plotH) * 100) / 100; // v in [0,1] → pixel row
  const groupIndex = new Map(r.groups.map((g, k) => [g.group, k]));
  const el: string[] = [];
  el.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  el.push(
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">` + `${esc(title)}</text>`,
  );
  for (let t = 0; t <= 100; t += 20) {
    const yy = y(t / 100);
    el.push(`<line x1="${left}" y1="${yy}" x2="${right}" y2="${yy}" stroke="#dddddd"/>`);
    el.push(`<text x="${left - 6}" y="${yy + 4}" text-anchor="end" font-size="11">${t}</text>`);
  }
  el.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333333"/>`);
  el.push(`<line x1="${left}" y1="${top + plotH}" x2="${right}" y2="${top + plotH}" stroke="#333333"/>`);
  langs.forEach((l, k) => {
    const x = left + gap + k * (bar + gap);
    const v = Math.max(0, Math.min(1, l.mean.weightedF1));
    const fill = groupColor(l.group, groupIndex.get(l.group) ?? 0);
    el.push(
      `<rect x="${x}" y="${y(v)}" width="${bar}" height="${Math.round((top + plotH - y(v)) * 100) / 100}" fill="${fill}">` +
        `<title>${esc(`${l.lang} (${l.group}): ${(100 * l.mean.weightedF1).toFixed(2)}`)}</title></rect>`,
    );
    el.push(
      `<text x="${x + bar / 2}" y="${y(v) - 4}" text-anchor="middle" font-size="10">${(100 * l.mean.weightedF1).toFixed(1)}</text>`,
    );
    el.push(
      `<text x="${x + bar / 2}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">${esc(l.lang)}</text>`,
    );
  });
  el.push(
    `<text x="${left + (right - left) / 2}" y="${height - 16}" text-anchor="middle" font-size="12">language</text>`,
  );
  el.push(
    `<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">weighted F1 (%)</text>`,
  );
  r.groups.forEach((g, k) => {
    const ly = top + k * 22;
    el.push(`<rect x="${right + 20}" y="${ly}" width="14" height="14" fill="${groupColor(g.group, k)}"/>`);
    el.push(
      `<text x="${right + 40}" y="${ly + 11}" font-size="12">${esc(`${g.group} (mean ${(100 * g.mean.weightedF1).toFixed(1)})`)}</text>`,
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif">\n${el.join('\n')}\n</svg>\n`
  );
}
