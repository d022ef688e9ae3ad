// compare.md: Δ tables per language and group, the L2/L3 correlation, and any mismatch between the two runs.
import type { CompareJson, Pair } from './compare.ts';
import type { CompareRunsJson } from './compare-runs.ts';
import { mdTable, pct } from './report.ts';
import { pct1 } from './distribution.ts';

const signed = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;
/** Δ with * when its paired 95 % interval excludes 0, then the interval. */
const deltaCells = (p: Pair) => [
  `${signed(p.delta)}${p.excludesZero ? '*' : ''}`,
  p.ci95 ? `[${signed(p.ci95[0])}, ${signed(p.ci95[1])}]` : '',
];
const cells = (p: Pair) => [pct(p.a), pct(p.b), ...deltaCells(p)];
const r3 = (r: number | null) => (r === null ? 'n/a' : r.toFixed(3));

export function mismatchLines(c: CompareJson & Partial<CompareRunsJson>): string[] {
  const m = c.mismatch;
  const out: string[] = [];
  for (const d of c.settingsDiffer ?? []) out.push(`scored differently (--allow-mismatch): ${d}`);
  const e = c.examples;
  if (e && (e.onlyInA || e.onlyInB || e.changed))
    out.push(
      `examples left out: ${e.onlyInA} only in A, ${e.onlyInB} only in B, ${e.changed} with another text or label; ` +
        `every Δ is over the ${e.common} examples both runs scored`,
    );
  if (m.onlyInA.length) out.push(`languages only in A (left out): ${m.onlyInA.join(', ')}`);
  if (m.onlyInB.length) out.push(`languages only in B (left out): ${m.onlyInB.join(', ')}`);
  if (m.promptsOnlyInA.length || m.promptsOnlyInB.length) {
    out.push(
      `prompts differ (A only: ${m.promptsOnlyInA.join(',') || '-'}; B only: ${m.promptsOnlyInB.join(',') || '-'}); means use ${c.prompts.join(',')}`,
    );
  }
  for (const g of m.groupChanged) out.push(`${g.lang} is ${g.a} in A but ${g.b} in B (B's grouping used)`);
  return out;
}

export function groupRows(c: CompareJson): string[][] {
  return c.groups.map((g) => [g.group, g.langs.join(','), ...cells(g.accuracy), ...cells(g.weightedF1)]);
}

export const DELTA_HEADER = ['acc A', 'acc B', 'Δ acc', '95% CI', 'wF1 A', 'wF1 B', 'Δ wF1', '95% CI'];

/** The note under Δ tables (compare's intervals; none when compared from results.json alone). */
export function ciNote(c: CompareJson & Partial<CompareRunsJson>): string {
  if (!c.bootstrap) return 'Δ = B − A; no intervals (compared without predictions)';
  return (
    `Δ = B − A over the ${c.examples?.common} examples both runs scored; 95% CI: paired bootstrap ` +
    `(${c.bootstrap.resamples} resamples of those examples, seed ${c.bootstrap.seed}); * = the interval excludes 0`
  );
}

export function l2l3Line(c: CompareJson): string {
  const l = c.l2l3;
  if (!l.l2.length || !l.l3.length) return 'L2/L3 correlation: n/a (needs L2 and L3 languages in both runs)';
  return (
    `L2/L3 correlation of Δ weighted F1 over ${l.prompts.length} prompts: r = ${r3(l.pearson)}` +
    (l.prompts.length < 3 ? ' (fewer than 3 prompts: not meaningful)' : " (a direction, not the paper's statistic)")
  );
}

/** Per language: each label's share of the predictions, A → B, and collapse flags (⚠ = > 80 %). */
export function distributionRows(c: CompareJson): string[][] {
  const flag = (d: { label: string } | null) => (d ? `⚠ ${d.label}` : '-');
  return c.distribution.map((d) => [
    d.lang,
    d.group,
    ...c.labels.map((_, k) => `${pct1(d.a[k])} → ${pct1(d.b[k])}`),
    `${flag(d.dominantA)} → ${flag(d.dominantB)}`,
  ]);
}

export const distributionHeader = (c: CompareJson) => [
  'language',
  'group',
  ...c.labels.map((l) => `${l} A → B`),
  'collapse',
];

export function renderCompare(c: CompareJson): string {
  const out = [
    `# Comparison: ${c.task}`,
    '',
    `- A: \`${c.a.dir}\` (${c.a.model}, ${c.a.created})`,
    `- B: \`${c.b.dir}\` (${c.b.model}, ${c.b.created})`,
    `- Δ = B − A in percentage points; means over prompts ${c.prompts.join(',')}`,
    `- ${ciNote(c)}`,
    ...mismatchLines(c).map((l) => `- **mismatch**: ${l}`),
    '',
    '## Groups',
    '',
    mdTable(['group', 'languages', ...DELTA_HEADER], groupRows(c)),
    '',
    '## Languages',
    '',
    mdTable(
      ['language', 'group', ...DELTA_HEADER],
      c.languages.map((l) => [l.lang, l.group, ...cells(l.accuracy), ...cells(l.weightedF1)]),
    ),
    '',
    '## Predicted labels',
    '',
    c.distribution.length
      ? 'Share of the predictions per label (all prompts of each run), A → B; ⚠ = one label above 80 %.'
      : 'n/a (the results.json files hold no confusion matrices)',
    '',
    ...(c.distribution.length ? [mdTable(distributionHeader(c), distributionRows(c)), ''] : []),
    '## Δ weighted F1 per prompt',
    '',
    mdTable(
      ['language', 'group', ...c.prompts.map((p) => `P${p}`)],
      c.languages.map((l) => [
        l.lang,
        l.group,
        ...l.byPrompt.map((x) => `${signed(x.weightedF1.delta)}${x.weightedF1.excludesZero ? '*' : ''}`),
      ]),
    ),
    '',
    '## L2 → L3 transfer',
    '',
    `Definition: ${c.l2l3.definition}.`,
    '',
    l2l3Line(c),
  ];
  if (c.l2l3.l2.length && c.l2l3.l3.length) {
    out.push(
      '',
      mdTable(
        ['prompt', 'mean Δ wF1 L2', 'mean Δ wF1 L3'],
        c.l2l3.prompts.map((p, k) => [`P${p}`, signed(c.l2l3.l2[k]), signed(c.l2l3.l3[k])]),
        1,
      ),
    );
    out.push(
      '',
      mdTable(
        ['L3 language', 'r with L2 mean'],
        c.l2l3.perL3.map((x) => [x.lang, r3(x.pearson)]),
        1,
      ),
    );
  }
  return out.join('\n') + '\n';
}
