import { Outcome } from '../../core/outcome.js';
import type { CallCounts } from '../redshift-emulator/index.js';
import type { AssociationRow, LocalDemoSummary, OutcomeRow } from './summary.js';

/** Cuts a cell to `width` characters, marking the cut. */
const truncateCell = (text: string, width: number): string =>
  text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;

/** A plain text table: a header, aligned columns, two spaces apart; `right` columns are numbers. */
export const table = (
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: ReadonlySet<number> = new Set(),
): string[] => {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        right.has(column) ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].map((text) => `  ${text}`);
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const noteOf = (row: OutcomeRow): string => {
  if (row.satisfiedBy) return `satisfied by ${row.satisfiedBy}`;
  if (row.supersededBy)
    return `associated again at ${row.supersededBy.associationChangedAt} (${row.supersededBy.status}): not revoked`;
  if (row.error) return truncateCell(`${row.error.code}: ${row.error.message}`, 90);
  return '';
};

const outcomesTable = (summary: LocalDemoSummary): string[] =>
  table(
    ['line', 'eventId', 'copies', 'outcome', 'attempts', 'receives', 'note'],
    summary.outcomes.map((row) => [
      row.line === null ? '-' : String(row.line),
      row.eventId ?? '(unreadable)',
      String(row.copies),
      row.outcome,
      String(row.attempts),
      String(row.receiveCount),
      noteOf(row),
    ]),
    new Set([0, 2, 4, 5]),
  );

const redshiftTable = (byOperation: Record<string, CallCounts>): string[] =>
  table(
    ['operation', 'calls', 'ok', 'rejected', 'throttled', '5xx', 'denied', 'hung/reset'],
    Object.entries(byOperation).map(([operation, c]) => [
      operation,
      String(c.total),
      String(c.ok),
      String(c.rejected),
      String(c.throttled),
      String(c.error),
      String(c.accessDenied),
      String(c.hang + c.reset),
    ]),
    new Set([1, 2, 3, 4, 5, 6, 7]),
  );

const accountsTable = (accounts: LocalDemoSummary['accounts']): string[] =>
  table(
    [
      'account',
      'mode',
      'decisions',
      'REVOKED',
      'ALREADY_REVOKED',
      'DRY_RUN',
      'REJECTED',
      'FAILED',
      'SUPERSEDED',
      'AssumeRole',
      'Redshift calls',
    ],
    accounts.map((row) => [
      row.accountId ?? '(none read)',
      row.mode ?? '-',
      String(row.decisions),
      ...Object.values(Outcome).map((outcome) => String(row.outcomes[outcome])),
      String(row.assumeRoleCalls),
      String(row.redshiftCalls),
    ]),
    new Set([2, 3, 4, 5, 6, 7, 8, 9, 10]),
  );

const scopeLine = (scope: LocalDemoSummary['accountScope']): string =>
  scope.mode === 'hub'
    ? `hub ${scope.ownAccountId}, spokes ${scope.consumerAccounts.join(', ')} (CONSUMER_ACCOUNTS)`
    : `single account ${scope.ownAccountId} (no CONSUMER_ROLE_NAME)`;

const dataShareName = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

const consumerOf = (row: AssociationRow): string =>
  row.consumerRegion
    ? `region ${row.consumerRegion} (account ${row.consumerIdentifier})`
    : /^\d{12}$/.test(row.consumerIdentifier)
      ? `entire account ${row.consumerIdentifier}`
      : row.consumerIdentifier;

const associationsTable = (associations: LocalDemoSummary['associations']): string[] => {
  const active = (rows: AssociationRow[], arn: string) =>
    rows.filter((row) => row.dataShareArn === arn && row.status === 'ACTIVE');
  const arns = [...new Set(associations.before.map((row) => row.dataShareArn))];
  return table(
    ['datashare', 'before', 'after', 'still ACTIVE'],
    arns.map((arn) => [
      dataShareName(arn),
      String(active(associations.before, arn).length),
      String(active(associations.after, arn).length),
      active(associations.after, arn).map(consumerOf).join(', '),
    ]),
    new Set([1, 2]),
  );
};

const faultsLine = (faults: LocalDemoSummary['faults']): string => {
  const random = [
    faults.throttleRps > 0 ? `rate limit ${faults.throttleRps} calls/s` : '',
    faults.errorRate > 0 ? `${faults.errorRate * 100}% 5xx` : '',
    faults.latencyMs > 0 ? `+${faults.latencyMs} ms latency` : '',
  ].filter(Boolean);
  const targeted = faults.targeted.map(
    (f) =>
      `${f.kind} ×${f.count} on ${dataShareName(f.dataShareArn)} ← ${f.consumer} (${f.eventId})`,
  );
  return [...targeted, ...(random.length > 0 ? [random.join(', ')] : [])].join('; ') || 'none';
};

const metricsLine = (metrics: LocalDemoSummary['workerMetrics']): string =>
  Object.entries(metrics)
    .map(([name, m]) =>
      m.unit === 'Milliseconds'
        ? `${name} ${m.samples}× (max ${seconds(m.max)})`
        : `${name} ${m.sum}`,
    )
    .join(' · ') || 'none';

/** The summary as a human reads it on a terminal. */
export const renderSummary = (summary: LocalDemoSummary): string => {
  const { input, audit, queue } = summary;
  const counts = Object.entries(summary.outcomeCounts)
    .map(([outcome, count]) => `${outcome} ${count}`)
    .join(' · ');
  const deadLetters = table(
    ['eventId', 'revoker.outcome', 'revoker.errorCode', 'revoker.errorMessage'],
    summary.deadLetterQueue.map((row) => [
      row.eventId ?? '(unreadable)',
      row.outcome ?? '(redriven by SQS)',
      row.errorCode ?? '-',
      truncateCell(row.errorMessage ?? '-', 100),
    ]),
  );
  const lines = [
    '',
    `datashare-revoker on the local stack — ${summary.ok ? 'all checks passed' : 'SOME CHECKS FAILED'}`,
    `  events      ${input.eventsFile}: ${input.messages} messages, sent in ${input.waves.length} waves (${input.waves.join(' + ')})`,
    `  datashares  ${input.datasharesFile}: ${input.datashares} datashares`,
    `  accounts    ${scopeLine(summary.accountScope)}`,
    `  faults      ${faultsLine(summary.faults)} — seed ${summary.faults.seed}`,
    '',
    `Outcomes (audit events on ${audit.eventBusName}, in the order of the file)`,
    ...outcomesTable(summary),
    `  ${counts}`,
    `  ${audit.events} audit events for ${queue.sent} messages: ${summary.duplicatesSuppressed} duplicate copies acknowledged without one; ${audit.putEventsCalls} PutEvents calls, ${audit.failedEntries} entries refused`,
    '',
    "Consumer accounts (from the audit events, the STS and Redshift emulators' call logs)",
    ...accountsTable(summary.accounts),
    '',
    `Redshift calls (${summary.redshift.calls.total}, from the emulator's call log)`,
    ...redshiftTable(summary.redshift.byOperation),
    '',
    `Dead-letter queue (${summary.deadLetterQueue.length} messages, left in place)`,
    ...(summary.deadLetterQueue.length > 0 ? deadLetters : ['  (empty)']),
    '',
    'Associations (ACTIVE) before → after',
    ...associationsTable(summary.associations),
    '',
    `Worker metrics (EMF)  ${metricsLine(summary.workerMetrics)}`,
    `Event source mapping  ${queue.batches} batches, ${queue.acknowledged} messages acknowledged, ${queue.itemFailuresReported} batch item failures`,
    '',
    'Checks',
    ...summary.checks.map((check) => `  ${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}`),
    '',
    `Done in ${seconds(summary.durationMs)} (stack ${seconds(summary.timings.stackMs)}, worker cold start ${seconds(summary.timings.workerLoadMs)}, processing ${seconds(summary.timings.processingMs)}, summary ${seconds(summary.timings.summaryMs)})`,
    '',
  ];
  return lines.join('\n');
};
