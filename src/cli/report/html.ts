import { ROW_FIELDS } from './csv.js';
import type { ComplianceReport } from './report-document.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML content and attribute values. */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
const token = (key: string | number): string =>
  String(key).replaceAll('~', '~0').replaceAll('/', '~1');

/** A JSON pointer into the report document. */
export const pointer = (...keys: (string | number)[]): string => `/${keys.map(token).join('/')}`;

/**
 * A value shown in the HTML, tagged with the JSON pointer of the same value in the JSON report:
 * every number and time shown comes from the JSON through here (the tests check each one).
 */
const cell = (
  tag: string,
  value: string | number | null,
  keys: (string | number)[],
  attributes = '',
): string =>
  `<${tag}${attributes} data-json="${escapeHtml(pointer(...keys))}">${escapeHtml(value === null ? '' : String(value))}</${tag}>`;

/** A key shown in the HTML (a policy, an outcome), tagged with the pointer of the JSON member it names. */
const keyCell = (tag: string, keys: (string | number)[], attributes = ''): string =>
  `<${tag}${attributes} data-json-key="${escapeHtml(pointer(...keys))}">${escapeHtml(String(keys.at(-1)))}</${tag}>`;

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
.meta{color:#57606a;margin:0 0 1rem}.meta span{margin-right:1.5rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.rows td{font-size:12px;overflow-wrap:anywhere;min-width:5rem;max-width:24rem}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
svg text{font:11px system-ui,sans-serif;fill:#1b1f24}svg .bar{fill:#0969da}svg .bar.o{fill:#8250df}
.note{color:#57606a;font-size:12px}
@media print{body{margin:0}.rows td{font-size:10px}}
`;

const BAR_MAX = 160;

/** A vertical bar chart as inline SVG: one bar per item, its count above it, its label below. */
const barChart = (
  title: string,
  items: {
    label: string;
    count: number;
    labelKeys: (string | number)[] | null;
    /** For a label that is a JSON member's name: that member's pointer. */
    keyOf?: (string | number)[];
    countKeys: (string | number)[];
  }[],
  barClass: string,
): string => {
  const max = Math.max(1, ...items.map((i) => i.count));
  // Wide enough for the longest label (about 7 px a character at 11 px).
  const slot = Math.max(64, ...items.map((i) => i.label.length * 7 + 12));
  const width = Math.max(200, items.length * slot + 20);
  const height = BAR_MAX + 70;
  const bars = items
    .map((item, index) => {
      const h = Math.round((item.count / max) * BAR_MAX);
      const x = 10 + index * slot;
      const y = 20 + BAR_MAX - h;
      const label = item.labelKeys
        ? cell(
            'text',
            item.label,
            item.labelKeys,
            ` x="${x + slot / 2 - 4}" y="${BAR_MAX + 38}" text-anchor="middle"`,
          )
        : keyCell(
            'text',
            item.keyOf ?? [item.label],
            ` x="${x + slot / 2 - 4}" y="${BAR_MAX + 38}" text-anchor="middle"`,
          );
      return (
        `<rect class="${barClass}" x="${x}" y="${y}" width="${slot - 8}" height="${h}"/>` +
        cell(
          'text',
          item.count,
          item.countKeys,
          ` x="${x + slot / 2 - 4}" y="${y - 4}" text-anchor="middle"`,
        ) +
        label
      );
    })
    .join('');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escapeHtml(title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><line x1="6" y1="${BAR_MAX + 20}" x2="${width - 6}" y2="${BAR_MAX + 20}" stroke="#57606a"/>${bars}</svg></figure>`;
};

/**
 * The report as one self-contained HTML page (inline CSS and SVG, no script, no external asset):
 * summary, a histogram of time to enforce, a bar chart of outcomes, and the decisions table.
 * Every value shown is HTML-escaped and carries `data-json`, the JSON pointer of the same value
 * in the JSON report.
 */
export const toHtml = (report: ComplianceReport): string => {
  const { summary } = report;
  const outcomes = Object.entries(summary.byOutcome);
  const outcomeColumns = [
    ...new Set(Object.values(summary.byPolicy).flatMap((p) => Object.keys(p.byOutcome))),
  ].sort();
  const t = summary.timeToEnforce;
  const filters = Object.entries(report.filters).filter(([, v]) => v !== null);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Datashare revocations — compliance evidence</title>
<style>${STYLE}</style></head>
<body>
<h1>Datashare revocations — compliance evidence</h1>
<p class="meta"><span>generated ${cell('time', report.generatedAt, ['generatedAt'])}</span><span>from ${cell('time', report.range.since, ['range', 'since'])} to ${cell('time', report.range.until, ['range', 'until'])}</span><span>stage ${cell('b', report.stage, ['stage'])}</span><span>log group ${cell('code', report.logGroup, ['logGroup'])}</span></p>
<p class="meta">${filters.length === 0 ? 'no filter' : `filters: ${filters.map(([k, v]) => `${escapeHtml(k)} = ${cell('code', v, ['filters', k])}`).join(', ')}`}; audit events read: ${cell('b', report.auditEventsRead, ['auditEventsRead'])}; unreadable log events: ${cell('b', report.unreadableLogEvents, ['unreadableLogEvents'])}</p>
<h2>Summary</h2>
<table><tr><th>decisions</th>${cell('td', summary.decisions, ['summary', 'decisions'], ' class="n"')}</tr>
${outcomes.map(([outcome, count]) => `<tr>${keyCell('th', ['summary', 'byOutcome', outcome])}${cell('td', count, ['summary', 'byOutcome', outcome], ' class="n"')}</tr>`).join('\n')}
</table>
<h2>Time to enforce (issuedAt → processedAt, REVOKED and ALREADY_REVOKED), milliseconds</h2>
<table><tr><th>decisions</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>
<tr>${cell('td', t.count, ['summary', 'timeToEnforce', 'count'], ' class="n"')}${cell('td', t.p50Ms, ['summary', 'timeToEnforce', 'p50Ms'], ' class="n"')}${cell('td', t.p95Ms, ['summary', 'timeToEnforce', 'p95Ms'], ' class="n"')}${cell('td', t.p99Ms, ['summary', 'timeToEnforce', 'p99Ms'], ' class="n"')}${cell('td', t.maxMs, ['summary', 'timeToEnforce', 'maxMs'], ' class="n"')}</tr></table>
<p class="note">Percentiles: ${cell('span', t.definition, ['summary', 'timeToEnforce', 'definition'])}</p>
<div class="charts">
${barChart(
  'Time to enforce',
  summary.histogram.map((bin, index) => ({
    label: bin.label,
    count: bin.count,
    labelKeys: ['summary', 'histogram', index, 'label'],
    countKeys: ['summary', 'histogram', index, 'count'],
  })),
  'bar',
)}
${barChart(
  'Decisions by outcome',
  outcomes.map(([outcome, count]) => ({
    label: outcome,
    count,
    labelKeys: null,
    keyOf: ['summary', 'byOutcome', outcome],
    countKeys: ['summary', 'byOutcome', outcome],
  })),
  'bar o',
)}
</div>
<h2>By policy</h2>
<table><tr><th>policy</th><th>decisions</th>${outcomeColumns.map((o) => `<th>${escapeHtml(o)}</th>`).join('')}</tr>
${Object.entries(summary.byPolicy)
  .map(
    ([policy, p]) =>
      `<tr>${keyCell('td', ['summary', 'byPolicy', policy])}${cell('td', p.decisions, ['summary', 'byPolicy', policy, 'decisions'], ' class="n"')}${outcomeColumns
        .map((o) =>
          p.byOutcome[o] === undefined
            ? '<td class="n"></td>'
            : cell(
                'td',
                p.byOutcome[o] ?? 0,
                ['summary', 'byPolicy', policy, 'byOutcome', o],
                ' class="n"',
              ),
        )
        .join('')}</tr>`,
  )
  .join('\n')}
</table>
<h2>Decisions</h2>
<table class="rows"><tr>${ROW_FIELDS.map((f) => `<th>${escapeHtml(f)}</th>`).join('')}</tr>
${report.rows
  .map(
    (row, index) =>
      `<tr>${ROW_FIELDS.map((field) => cell('td', row[field], ['rows', index, field], typeof row[field] === 'number' ? ' class="n"' : '')).join('')}</tr>`,
  )
  .join('\n')}
</table>
</body></html>
`;
};
