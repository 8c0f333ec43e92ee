import type { ColdStartResult } from './cold-start/scenario.js';
import type { LatencyResult } from './scenarios/latency.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { StormResult, StormSideResult } from './scenarios/storm.js';
import type {
  StormAccountFigures,
  StormMultiAccountResult,
} from './scenarios/storm-multi-account.js';
import type { ThroughputResult } from './scenarios/throughput.js';
import type { TargetCheck } from './targets.js';

/** One line of the report: a figure for the floor (where there is one), worker and baseline. */
export interface TableRow {
  scenario: string;
  figure: string;
  floor: string;
  worker: string;
  baseline: string;
  /** worker ÷ baseline. */
  ratio: string;
  target: string;
  result: '' | 'PASS' | 'FAIL';
}

const COLUMNS: [keyof TableRow, string][] = [
  ['scenario', 'scenario'],
  ['figure', 'figure'],
  ['floor', 'floor'],
  ['worker', 'worker'],
  ['baseline', 'baseline'],
  ['ratio', 'worker ÷ baseline'],
  ['target', 'target'],
  ['result', 'result'],
];

const fmt = (value: number | null | undefined, digits = 2): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits);

const times = (a: number | null | undefined, b: number | null | undefined): string =>
  a === null || a === undefined || b === null || b === undefined || b === 0
    ? '—'
    : `${(a / b).toFixed(2)}×`;

interface Judged {
  target: string;
  result: TableRow['result'];
}

const judged = (checks: readonly TargetCheck[], id: string, shown?: string): Judged => {
  const check = checks.find((c) => c.id === id);
  return check
    ? { target: shown ?? check.limit, result: check.pass ? 'PASS' : 'FAIL' }
    : { target: '', result: '' };
};

const row = (
  scenario: string,
  figure: string,
  cells: Partial<Omit<TableRow, 'scenario' | 'figure'>>,
): TableRow => ({
  scenario,
  figure,
  floor: '',
  worker: '',
  baseline: '',
  ratio: '',
  target: '',
  result: '',
  ...cells,
});

const drained = (side: StormSideResult | undefined, digits = 1): string =>
  side === undefined
    ? ''
    : side.drained
      ? fmt(side.drainSeconds, digits)
      : `> ${fmt(side.stoppedAfterSeconds, 0)} (not drained)`;

const auditCell = (side: StormSideResult | undefined): string => {
  if (!side) return '';
  const { audit } = side;
  if (audit.exactlyOnce) return `${audit.events}, each once`;
  const parts = [
    audit.duplicateEvents > 0 && `${audit.duplicateEvents} duplicates`,
    audit.missingEventIds > 0 && `${audit.missingEventIds} missing`,
  ].filter(Boolean);
  return `${audit.events} (${parts.join(', ') || 'mismatch'})`;
};

const stormRows = (storm: StormResult, checks: readonly TargetCheck[]): TableRow[] => {
  const { worker, baseline, settings } = storm;
  const s = 'storm';
  const ratioOf = (pick: (side: StormSideResult) => number | null) =>
    times(worker && pick(worker), baseline && pick(baseline));
  return [
    row(s, 'drain time T, s', {
      floor: `T0 ${fmt(storm.floorSeconds, 1)}`,
      worker: drained(worker),
      baseline: drained(baseline),
      ratio: ratioOf((side) => side.drainSeconds),
    }),
    row(s, 'drain_ratio T / T0', {
      floor: '1',
      worker: fmt(worker?.drainRatio, 3),
      baseline: fmt(baseline?.drainRatio, 3),
      ...judged(checks, 'storm.drainRatio'),
    }),
    row(s, 'all messages sent after, s', {
      worker: fmt(worker?.sentSeconds, 1),
      baseline: fmt(baseline?.sentSeconds, 1),
    }),
    row(s, 'every eventId audited after, s', {
      worker: fmt(worker?.allAuditedSeconds, 1),
      baseline: fmt(baseline?.allAuditedSeconds, 1),
    }),
    row(s, 'disassociate calls C (throttled included)', {
      floor: String(settings.targets),
      worker: worker ? String(worker.disassociateCalls.total) : '',
      baseline: baseline ? String(baseline.disassociateCalls.total) : '',
      ratio: ratioOf((side) => side.disassociateCalls.total),
    }),
    row(s, `amplification C / ${settings.targets}`, {
      floor: '1',
      worker: fmt(worker?.amplification, 3),
      baseline: fmt(baseline?.amplification, 3),
      ...judged(checks, 'storm.amplification'),
    }),
    row(s, 'throttled calls', {
      floor: '0',
      worker: worker ? String(worker.throttledCalls) : '',
      baseline: baseline ? String(baseline.throttledCalls) : '',
    }),
    row(s, 'of which on an already-revoked target', {
      floor: '0',
      worker: worker ? String(worker.repeatCalls.count) : '',
      baseline: baseline ? String(baseline.repeatCalls.count) : '',
    }),
    row(s, 'other Redshift calls (DescribeDataShares)', {
      floor: '0',
      worker: worker
        ? String(Object.values(worker.otherRedshiftCalls).reduce((a, b) => a + b, 0))
        : '',
      baseline: baseline
        ? String(Object.values(baseline.otherRedshiftCalls).reduce((a, b) => a + b, 0))
        : '',
    }),
    row(s, `audit events (${settings.uniqueEventIds} unique eventIds)`, {
      floor: String(settings.uniqueEventIds),
      worker: auditCell(worker),
      baseline: auditCell(baseline),
      ...judged(checks, 'storm.auditExactlyOnce', 'each exactly once'),
    }),
    row(s, `redeliveries (of ${settings.requests} messages)`, {
      floor: '0',
      worker: worker ? String(worker.queue.redeliveries) : '',
      baseline: baseline ? String(baseline.queue.redeliveries) : '',
    }),
    ...costRows(s, worker, baseline, checks),
  ];
};

/** A storm's cost per message: store requests (worker) and CPU, on one thread or two. */
const costRows = (
  s: string,
  worker: StormSideResult | undefined,
  baseline: StormSideResult | undefined,
  checks: readonly TargetCheck[],
): TableRow[] => [
  row(s, 'store requests per message (DynamoDB, received)', {
    worker: fmt(worker?.storeRequests?.dynamoDbPerMessage),
    baseline: baseline ? '0' : '',
    ...judged(checks, `${s}.storeRequests`),
  }),
  row(s, `CPU ms per message (process${worker?.cpu.singleThread ? ', one thread' : ''})`, {
    worker: fmt(worker?.cpu.processMsPerMessage),
    baseline: fmt(baseline?.cpu.processMsPerMessage),
    ratio: times(worker?.cpu.processMsPerMessage, baseline?.cpu.processMsPerMessage),
  }),
];

const stormMultiAccountRows = (
  result: StormMultiAccountResult,
  checks: readonly TargetCheck[],
): TableRow[] => {
  const { worker, baseline, settings } = result;
  const s = 'stormMultiAccount';
  const id = (name: string) => `stormMultiAccount.${name}`;
  const accountOf = (side: typeof worker, accountId: string) =>
    side?.accounts.find((a) => a.accountId === accountId);
  const lastAudit = (a: StormAccountFigures | undefined) =>
    a === undefined ? '' : `${fmt(a.lastAuditSeconds, 1)} (${fmt(a.lastAuditVsFloor, 1)}× floor)`;
  const held = (a: StormAccountFigures | undefined) =>
    a === undefined
      ? ''
      : `${fmt(a.heldAfterRevokeMs.median, 0)} / ${fmt(a.heldAfterRevokeMs.p90, 0)}`;
  const assumeRoles = (side: typeof worker) =>
    side === undefined
      ? ''
      : side.accounts
          .filter((a) => !a.hub)
          .map((a) => String(a.assumeRoleCalls ?? '—'))
          .join(' · ');
  return [
    row(s, 'drain time T, s', {
      floor: `T0 ${fmt(result.floorSeconds, 1)} (slowest account)`,
      worker: drained(worker),
      baseline: drained(baseline),
      ratio: times(worker?.drainSeconds, baseline?.drainSeconds),
    }),
    row(s, 'drain_ratio T / T0', {
      floor: '1',
      worker: fmt(worker?.drainRatio, 3),
      baseline: fmt(baseline?.drainRatio, 3),
      ...judged(checks, id('drainRatio')),
    }),
    ...settings.accounts.map(({ accountId, rateLimitRps }, index) => {
      const w = accountOf(worker, accountId);
      return row(
        s,
        `last audit, s: ${index === 0 ? 'hub' : 'spoke'} ${accountId} at ${rateLimitRps}/s`,
        {
          floor: w ? fmt(w.floorSeconds, 1) : '',
          worker: lastAudit(w),
          baseline: lastAudit(accountOf(baseline, accountId)),
        },
      );
    }),
    ...settings.accounts.map(({ accountId }) =>
      row(s, `revoked → audited, median / p90 ms: ${accountId}`, {
        worker: held(accountOf(worker, accountId)),
        baseline: held(accountOf(baseline, accountId)),
      }),
    ),
    row(s, 'disassociate calls C (throttled included)', {
      floor: String(settings.targets),
      worker: worker ? String(worker.disassociateCalls.total) : '',
      baseline: baseline ? String(baseline.disassociateCalls.total) : '',
      ratio: times(worker?.disassociateCalls.total, baseline?.disassociateCalls.total),
    }),
    row(s, `amplification C / ${settings.targets}`, {
      floor: '1',
      worker: fmt(worker?.amplification, 3),
      baseline: fmt(baseline?.amplification, 3),
      ...judged(checks, id('amplification')),
    }),
    row(s, 'throttled calls', {
      floor: '0',
      worker: worker ? String(worker.throttledCalls) : '',
      baseline: baseline ? String(baseline.throttledCalls) : '',
    }),
    row(s, 'AssumeRole calls per spoke role', {
      floor: `≤ ${settings.containers} each`,
      worker: assumeRoles(worker),
      baseline: assumeRoles(baseline),
    }),
    row(s, `audit events (${settings.uniqueEventIds} unique eventIds)`, {
      floor: String(settings.uniqueEventIds),
      worker: auditCell(worker),
      baseline: auditCell(baseline),
      ...judged(checks, id('auditExactlyOnce'), 'each exactly once'),
    }),
    row(s, `redeliveries (of ${settings.requests} messages)`, {
      floor: '0',
      worker: worker ? String(worker.queue.redeliveries) : '',
      baseline: baseline ? String(baseline.queue.redeliveries) : '',
    }),
    ...costRows(s, worker, baseline, checks),
  ];
};

const latencyRows = (latency: LatencyResult, checks: readonly TargetCheck[]): TableRow[] => {
  const { worker, baseline, settings } = latency;
  const s = 'latency';
  return [
    row(s, `batch of ${settings.batchSize}, median ms`, {
      floor: String(settings.latencyMs),
      worker: fmt(worker?.durationMs.median, 0),
      baseline: fmt(baseline?.durationMs.median, 0),
      ratio: times(worker?.durationMs.median, baseline?.durationMs.median),
    }),
    row(s, `batch ÷ ${settings.latencyMs} ms`, {
      floor: '1',
      worker: fmt(worker?.ratio, 3),
      baseline: fmt(baseline?.ratio, 3),
      ...judged(checks, 'latency.ratio'),
    }),
  ];
};

const coldStartRows = (coldStart: ColdStartResult, checks: readonly TargetCheck[]): TableRow[] => {
  const { floor, worker, baseline, workerVsFloor } = coldStart;
  const s = 'cold start';
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  return [
    row(s, 'code read at init, as configured (.mjs)', {
      floor: kib(floor.bytes),
      worker: `${kib(worker.bytes)} (${fmt(workerVsFloor.bundle, 3)}× floor)`,
      baseline: kib(baseline.bytes),
      ratio: times(worker.bytes, baseline.bytes),
      ...judged(checks, 'coldStart.bundle', '≤ 1.2× floor'),
    }),
    row(s, 'code read at init, deployment defaults', {
      floor: kib(floor.bytes),
      worker: `${kib(worker.bytesDefaults)} (${fmt(workerVsFloor.bundleDefaults, 3)}× floor)`,
      baseline: kib(baseline.bytesDefaults),
      ratio: times(worker.bytesDefaults, baseline.bytesDefaults),
    }),
    row(s, 'code read at init, hub + breaker + shared pace + fence on', {
      floor: kib(floor.bytes),
      worker: `${kib(worker.bytesAllFeatures)} (${fmt(workerVsFloor.bundleAllFeatures, 3)}× floor)`,
      baseline: kib(baseline.bytesAllFeatures),
      ratio: times(worker.bytesAllFeatures, baseline.bytesAllFeatures),
    }),
    row(s, 'all code files (init + lazy chunks, .mjs)', {
      floor: kib(floor.totalBytes),
      worker: `${kib(worker.totalBytes)} (${fmt(workerVsFloor.total, 3)}× floor)`,
      baseline: kib(baseline.totalBytes),
      ratio: times(worker.totalBytes, baseline.totalBytes),
    }),
    row(s, 'init (import + clients), median ms', {
      floor: fmt(floor.initMs.median, 0),
      worker: `${fmt(worker.initMs.median, 0)} (${fmt(workerVsFloor.init, 3)}× floor)`,
      baseline: fmt(baseline.initMs.median, 0),
      ratio: times(worker.initMs.median, baseline.initMs.median),
      ...judged(checks, 'coldStart.init', '≤ 1.2× floor'),
    }),
    row(s, 'process wall time, median ms', {
      floor: fmt(floor.wallMs.median, 0),
      worker: fmt(worker.wallMs.median, 0),
      baseline: fmt(baseline.wallMs.median, 0),
      ratio: times(worker.wallMs.median, baseline.wallMs.median),
    }),
  ];
};

const throughputRows = (
  throughput: ThroughputResult,
  checks: readonly TargetCheck[],
): TableRow[] => {
  const { worker, baseline, settings } = throughput;
  const s = 'throughput';
  return [
    row(s, 'messages / s per core', {
      worker: fmt(worker?.messagesPerCoreSecond, 0),
      baseline: fmt(baseline?.messagesPerCoreSecond, 0),
      ratio: times(worker?.messagesPerCoreSecond, baseline?.messagesPerCoreSecond),
      ...judged(checks, 'throughput.perCore', '≥ 0.8× baseline'),
    }),
    row(s, 'CPU ms per message', {
      worker: fmt(worker?.cpuMsPerMessage),
      baseline: fmt(baseline?.cpuMsPerMessage),
      ratio: times(worker?.cpuMsPerMessage, baseline?.cpuMsPerMessage),
      ...judged(checks, 'throughput.cpuPerMessage', '≤ 1.3× baseline'),
    }),
    row(s, 'AWS requests per message (Redshift + EventBridge + DynamoDB)', {
      worker: worker ? awsRequests(worker.awsCallsPerMessage) : '',
      baseline: baseline ? awsRequests(baseline.awsCallsPerMessage) : '',
    }),
    row(s, `messages / s wall (${settings.containers} containers)`, {
      worker: fmt(worker?.messagesPerSecond, 0),
      baseline: fmt(baseline?.messagesPerSecond, 0),
      ratio: times(worker?.messagesPerSecond, baseline?.messagesPerSecond),
    }),
  ];
};

const awsRequests = (calls: { redshift: number; eventBridge: number; dynamoDb: number }) =>
  `${fmt(calls.redshift + calls.eventBridge + calls.dynamoDb)} (${fmt(calls.redshift)} + ${fmt(calls.eventBridge)} + ${fmt(calls.dynamoDb)})`;

const memoryRows = (memory: MemoryResult, checks: readonly TargetCheck[]): TableRow[] => {
  const { worker, settings } = memory;
  const [first, last] = worker.checkpoints;
  const s = 'memory';
  return [
    row(s, `RSS after ${settings.firstCheckpoint} messages (after GC), MiB`, {
      worker: fmt(first?.rssAfterGcMiB, 1),
    }),
    row(s, `RSS after ${settings.messages} messages (after GC), MiB`, {
      worker: fmt(last?.rssAfterGcMiB, 1),
    }),
    row(s, `RSS growth ${settings.firstCheckpoint} → ${settings.messages}`, {
      floor: '1',
      worker: fmt(worker.growth, 3),
      ...judged(checks, 'memory.growth'),
    }),
    row(s, 'peak RSS, MiB', { worker: fmt(worker.peakRssMiB, 1) }),
  ];
};

export const tableRows = (
  results: {
    storm?: StormResult;
    stormMultiAccount?: StormMultiAccountResult;
    latency?: LatencyResult;
    coldStart?: ColdStartResult;
    throughput?: ThroughputResult;
    memory?: MemoryResult;
  },
  checks: readonly TargetCheck[],
): TableRow[] => [
  ...(results.storm ? stormRows(results.storm, checks) : []),
  ...(results.stormMultiAccount ? stormMultiAccountRows(results.stormMultiAccount, checks) : []),
  ...(results.latency ? latencyRows(results.latency, checks) : []),
  ...(results.coldStart ? coldStartRows(results.coldStart, checks) : []),
  ...(results.throughput ? throughputRows(results.throughput, checks) : []),
  ...(results.memory ? memoryRows(results.memory, checks) : []),
];

/** A Markdown table, padded so that it also reads as plain text in a terminal. */
export const renderTable = (rows: readonly TableRow[]): string => {
  const widths = COLUMNS.map(([key, title]) =>
    Math.max(title.length, ...rows.map((r) => r[key].length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [
    line(COLUMNS.map(([, title]) => title)),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => line(COLUMNS.map(([key]) => r[key]))),
  ].join('\n');
};
