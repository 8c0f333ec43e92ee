import type { DecisionRow } from './decisions.js';

/** The report's columns, in order: the CSV header and the row fields. */
export const ROW_FIELDS = [
  'eventId',
  'policyId',
  'dataShareArn',
  'consumer',
  'account',
  'outcome',
  'issuedAt',
  'processedAt',
  'timeToEnforceMs',
  'attempts',
  'satisfiedBy',
  'supersededBy',
  'replays',
  'actor',
  'redshiftRequestId',
  'errorCode',
  'auditEvents',
] as const satisfies readonly (keyof DecisionRow)[];

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF, or leading/trailing
 * spaces; quotes doubled. Null is the empty field.
 */
export const csvField = (value: string | number | null): string => {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** The rows as CSV: a header line, then one line per decision, CRLF line ends (RFC 4180). */
export const toCsv = (rows: readonly DecisionRow[]): string =>
  [
    ROW_FIELDS.join(','),
    ...rows.map((row) => ROW_FIELDS.map((field) => csvField(row[field])).join(',')),
  ]
    .map((line) => `${line}\r\n`)
    .join('');
