// report.md (tables shaped like the paper's: languages grouped L1/L2/L3, one column per prompt, then the mean)
// and the plain-text group summary the CLI prints.
import type { MetricSet } from './metrics.ts';
import type { MetricSetCi, ResultsJson } from './results.ts';
import { DOMINANT_SHARE, dominantLabel, languageDistribution, pct1 } from './distribution.ts';

export const pct = (x: number) => (100 * x).toFixed(2);

/** Markdown table: the first `left` columns left-aligned (names), the rest right-aligned (numbers). */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[], left = 2): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, k) => (k < left ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

/** Fixed-width text table, aligned as mdTable. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[], left = 2): string {
  const all = [header, ...rows];
  const w = header.map((_, k) => Math.max(...all.map((r) => r[k].length)));
  const fmt = (r: readonly string[]) =>
    r
      .map((c, k) => (k < left ? c.padEnd(w[k]) : c.padStart(w[k])))
      .join('  ')
      .trimEnd();
  return [fmt(header), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(fmt)].join('\n');
}

const METRICS: { key: keyof MetricSet; title: string }[] = [
  { key: 'accuracy', title: 'Accuracy' },
  { key: 'weightedF1', title: 'Weighted F1' },
  { key: 'macroF1', title: 'Macro F1' },
];

function metricTable(r: ResultsJson, key: keyof MetricSet): string {
  const rows: string[][] = [];
  for (const g of r.groups) {
    for (const l of r.languages.filter((x) => x.group === g.group)) {
      const ci = key === 'accuracy' || key === 'weightedF1' ? ciText(l.mean, key) : '';
      rows.push([
        g.group,
        `${l.lang} (${l.name})`,
        ...l.prompts.map((p) => pct(p[key])),
        ci ? `${pct(l.mean[key])} ${ci}` : pct(l.mean[key]),
      ]);
    }
    rows.push([
      `**${g.group}**`,
      '**mean**',
      ...r.prompts.map((p) => pct(groupPromptMean(r, g.group, p.id, key))),
      `**${pct(g.mean[key])}**`,
    ]);
  }
  return mdTable(['group', 'language', ...r.prompts.map((p) => p.name), 'mean'], rows);
}

/** Mean over a group's languages of one prompt's metric (the per-prompt cell of a group row). */
export function groupPromptMean(r: ResultsJson, group: string, prompt: number, key: keyof MetricSet): number {
  const vals = r.languages
    .filter((l) => l.group === group)
    .map((l) => l.prompts.find((p) => p.prompt === prompt)?.[key] ?? 0);
  return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : 0;
}

export function groupSummaryRows(r: ResultsJson): string[][] {
  const rows = r.groups.map((g) => [
    g.group,
    g.langs.join(','),
    pct(g.mean.accuracy),
    pct(g.mean.weightedF1),
    pct(g.mean.macroF1),
  ]);
  rows.push([
    'all',
    `${r.languages.length} languages`,
    pct(r.overall.accuracy),
    pct(r.overall.weightedF1),
    pct(r.overall.macroF1),
  ]);
  return rows;
}

const SUMMARY_HEADER = ['group', 'languages', 'accuracy', 'weighted F1', 'macro F1'];

/** "[lo, hi]" in percent, or "" when the file has no interval. */
export const ciText = (m: MetricSetCi, key: 'accuracy' | 'weightedF1') =>
  m.ci95 ? `[${pct(m.ci95[key][0])}, ${pct(m.ci95[key][1])}]` : '';

export const SCORING_HEADER = ['scoring', 'group', 'accuracy', '95% CI', 'weighted F1', '95% CI'];

/** Per scoring rule (the chosen one first), per group and overall: accuracy and weighted F1 with their intervals. */
export function scoringRows(r: ResultsJson): string[][] {
  const rows: string[][] = [];
  for (const s of r.scorings ?? []) {
    const name = s.rule === r.scoring ? `${s.rule} (chosen)` : s.rule;
    if (!s.overall || !s.groups) {
      rows.push([name, '-', 'n/a', '', 'n/a', s.unavailable ?? '']);
      continue;
    }
    const cells = (m: MetricSetCi) => [
      pct(m.accuracy),
      ciText(m, 'accuracy'),
      pct(m.weightedF1),
      ciText(m, 'weightedF1'),
    ];
    for (const g of s.groups) rows.push([name, g.group, ...cells(g.mean)]);
    rows.push([name, 'all', ...cells(s.overall)]);
  }
  return rows;
}

export function summaryText(r: ResultsJson): string {
  const main = textTable(SUMMARY_HEADER, groupSummaryRows(r));
  if (!r.scorings?.length) return main;
  return `${main}\n\nscoring rules (all from the same pass; 95% bootstrap intervals):\n${textTable(SCORING_HEADER, scoringRows(r))}`;
}

function scoringSection(r: ResultsJson): string[] {
  if (!r.scorings?.length) return [];
  const lines = [
    '## Scoring rules',
    '',
    'Every rule is computed from the same forward pass; the chosen one (first) decides the predictions and every other ' +
      'table of this report. In brackets: 95 % bootstrap intervals ' +
      `(${r.bootstrap?.resamples ?? 1000} resamples of the examples, seed ${r.bootstrap?.seed ?? '-'}).`,
    '',
    ...(r.scorings ?? []).map((s) => `- \`${s.rule}\`: ${s.definition}`),
    '',
    mdTable(SCORING_HEADER, scoringRows(r)),
    '',
  ];
  return lines;
}

/** Per language: how often each label was predicted (all prompts), with the collapse flag. */
export function distributionRows(r: ResultsJson): string[][] {
  return r.languages.map((l) => {
    const d = languageDistribution(l);
    const dom = d ? dominantLabel(d, r.labels) : null;
    return [
      l.group,
      `${l.lang} (${l.name})`,
      d ? String(d.n) : '-',
      ...r.labels.map((_, k) => (d ? pct1(d.shares[k]) : '-')),
      dom ? `⚠ ${dom.label}` : '',
    ];
  });
}

export const distributionHeader = (r: ResultsJson) => ['group', 'language', 'n', ...r.labels, 'collapse'];

function distributionSection(r: ResultsJson): string[] {
  return [
    '## Predicted labels',
    '',
    `Share of the predictions per label (all prompts). ⚠ marks a label taking more than ${pct1(DOMINANT_SHARE)} of a ` +
      "language's predictions: there the scores say more about the model's label bias than about the text.",
    '',
    mdTable(distributionHeader(r), distributionRows(r)),
  ];
}

function confusionSection(r: ResultsJson): string {
  const parts = r.languages.map((l) => {
    const sum = r.labels.map((_, i) => r.labels.map((_, j) => l.prompts.reduce((a, p) => a + p.confusion[i][j], 0)));
    return (
      `**${l.lang}** (rows gold, columns predicted; summed over ${l.prompts.length} prompts)\n\n` +
      mdTable(
        ['gold \\ pred', ...r.labels],
        sum.map((row, i) => [r.labels[i], ...row.map(String)]),
        1,
      )
    );
  });
  return parts.join('\n\n');
}

export function renderReport(r: ResultsJson): string {
  const m = r.model;
  const out = [
    `# Zero-shot ${r.task} evaluation`,
    '',
    `- model: \`${m.model}\` (${m.dtype}${m.int8 ? ', int8' : ''}) on ${m.adapter}`,
    `- data: ${r.data}; labels: ${r.labels.join(', ')}; ${r.limit === null ? 'all examples' : `first ${r.limit} examples`} per language`,
    `- scoring: ${r.scoring && r.scoring !== 'paper' ? `\`${r.scoring}\` (${r.scorings?.find((x) => x.rule === r.scoring)?.definition})` : 'mean log-prob of prompt + label'}, max ${r.maxLength} tokens (left truncation); prediction = argmax over labels` +
      (m.firstPad ? "; the first pad's log-prob counted (--count-first-pad, the official batched scorer's quirk)" : ''),
    `- created: ${r.created}`,
    '',
    "Scores in %. Language means are over prompts; group means are over the languages' prompt means.",
    '',
    ...(r.warnings?.length ? ['**Warnings**', '', ...r.warnings.map((w) => `- ${w}`), ''] : []),
    '## Group summary',
    '',
    mdTable(SUMMARY_HEADER, groupSummaryRows(r)),
    '',
    ...scoringSection(r),
    ...distributionSection(r),
  ];
  for (const { key, title } of METRICS) out.push('', `## ${title}`, '', metricTable(r, key));
  out.push('', '## Prompts', '');
  for (const p of r.prompts) out.push(`- ${p.name}: \`${JSON.stringify(p.template)}\``);
  out.push('', '## Confusion matrices', '', confusionSection(r), '');
  return out.join('\n');
}
