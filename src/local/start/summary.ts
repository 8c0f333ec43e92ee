import * as v from 'valibot';
import type { AuditDetail } from '../../core/audit.js';
import { AuditDetailSchema } from '../../core/audit-schema.js';
import { Outcome } from '../../core/outcome.js';
import type { CallCounts, CallStats, RecordedCall } from '../redshift-emulator/index.js';
import type { RecordedStsCall } from '../sts-emulator/index.js';
import { AccountMode, type AccountRow, type AccountScopeFacts, accountRowsOf } from './accounts.js';
import type { DeadLetterRow } from './dead-letter.js';
import type { DemoFault } from './demo-faults.js';
import type { EventLine } from './events-file.js';
import type { WorkerMetric } from './worker-output.js';

/** One decision's audit event, as the summary table shows it. */
export interface OutcomeRow {
  /** The line of the events file whose message the worker audited; null if not from the file. */
  line: number | null;
  eventId: string | null;
  outcome: Outcome;
  /** Redshift calls made for the decision (0: none was needed). */
  attempts: number;
  receiveCount: number;
  /** The eventId whose Redshift call had already confirmed the target (rule 5). */
  satisfiedBy: string | null;
  /** SUPERSEDED: when the target's association changed after the decision, and its status. */
  supersededBy: { associationChangedAt: string; status: string } | null;
  error: { code: string; message: string } | null;
  /**
   * The consumer account: the audit event's `consumerAccountId`, else (a request REJECTED after
   * it was read, e.g. `ConsumerAccountNotAllowed`) its target's; null for an unreadable body.
   */
  consumerAccountId: string | null;
  messageId: string;
  /** Messages of the file carrying this eventId: above 1, the others were duplicates. */
  copies: number;
}

/** One association of a datashare, as the Redshift emulator holds it. */
export interface AssociationRow {
  dataShareArn: string;
  /** A namespace ARN, or the consumer account id (entire-account and region-wide associations). */
  consumerIdentifier: string;
  consumerRegion: string | null;
  status: string;
}

export interface SummaryCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/** What `npm start` reports; `--json` prints exactly this. */
export interface LocalDemoSummary {
  /** Every check passed. */
  ok: boolean;
  durationMs: number;
  timings: { stackMs: number; workerLoadMs: number; processingMs: number; summaryMs: number };
  input: {
    eventsFile: string;
    datasharesFile: string;
    messages: number;
    /** Messages per sending wave (see `planWaves`). */
    waves: number[];
    datashares: number;
  };
  faults: {
    /** PRNG seed of the emulators: `--seed` replays the random faults. */
    seed: number;
    throttleRps: number;
    errorRate: number;
    latencyMs: number;
    targeted: DemoFault[];
  };
  /** One row per audit event, in the order of the file. */
  outcomes: OutcomeRow[];
  outcomeCounts: Record<Outcome, number>;
  /** Where the worker may act: `hub` (its own account and CONSUMER_ACCOUNTS) or its own only. */
  accountScope: AccountScopeFacts & { mode: 'hub' | 'single-account' };
  /** Decisions, outcomes, `AssumeRole` and Redshift calls per consumer account. */
  accounts: AccountRow[];
  /** Messages acknowledged without an audit event of their own: copies of an audited eventId. */
  duplicatesSuppressed: number;
  redshift: { calls: CallCounts; byOperation: Record<string, CallCounts> };
  audit: {
    eventBusName: string;
    events: number;
    putEventsCalls: number;
    failedEntries: number;
    /** Details that do not match `schemas/audit-detail.schema.json`. */
    invalidDetails: number;
  };
  deadLetterQueue: DeadLetterRow[];
  queue: {
    sent: number;
    batches: number;
    acknowledged: number;
    itemFailuresReported: number;
    drained: boolean;
  };
  associations: { before: AssociationRow[]; after: AssociationRow[] };
  /** The worker's EMF metrics, summed. */
  workerMetrics: Record<string, WorkerMetric>;
  checks: SummaryCheck[];
}

/** An accepted audit event: its `detail` and the bus it went to. */
export interface AuditEventFact {
  eventBusName: string;
  detail: Record<string, unknown>;
}

/** Everything the summary is made of, read from the stack once the queue is drained. */
export interface RunFacts {
  eventsFile: string;
  datasharesFile: string;
  datashares: number;
  lines: readonly EventLine[];
  /** Message id SQS gave each line. */
  messageIdOfLine: ReadonlyMap<number, string>;
  faults: LocalDemoSummary['faults'];
  auditEventBusName: string;
  auditEvents: readonly AuditEventFact[];
  putEventsCalls: number;
  failedAuditEntries: number;
  redshift: CallStats;
  /** Every call the Redshift emulator received (`callerAccountId`: the account it acted in). */
  redshiftCalls: readonly Pick<RecordedCall, 'callerAccountId'>[];
  /** Every call the STS emulator received. */
  stsCalls: readonly Pick<RecordedStsCall, 'operation' | 'roleArn'>[];
  accountScope: AccountScopeFacts;
  deadLetters: readonly DeadLetterRow[];
  mapping: { batchesInvoked: number; messagesDeleted: number; itemFailuresReported: number };
  drained: { ok: boolean; detail: string };
  associations: { before: AssociationRow[]; after: AssociationRow[] };
  /** For each REVOKED audit event (by messageId): whether its target is still ACTIVE-associated. */
  stillAssociated: ReadonlyMap<string, boolean>;
  workerMetrics: Record<string, WorkerMetric>;
  timings: LocalDemoSummary['timings'];
  durationMs: number;
}

const OUTCOMES = Object.values(Outcome);
const isOutcome = (value: unknown): value is Outcome => OUTCOMES.includes(value as Outcome);

const rowOf = (
  detail: AuditDetail | Record<string, unknown>,
  lineOfMessage: ReadonlyMap<string, number>,
  lineByNumber: ReadonlyMap<number, EventLine>,
  copies: ReadonlyMap<string, number>,
): OutcomeRow => {
  const d = detail as Partial<AuditDetail>;
  const messageId = typeof d.messageId === 'string' ? d.messageId : '';
  const eventId = typeof d.eventId === 'string' ? d.eventId : null;
  const line = lineOfMessage.get(messageId) ?? null;
  const target = line === null ? undefined : lineByNumber.get(line)?.target;
  return {
    line,
    eventId,
    outcome: isOutcome(d.outcome) ? d.outcome : Outcome.Failed,
    attempts: typeof d.attempts === 'number' ? d.attempts : 0,
    receiveCount: typeof d.receiveCount === 'number' ? d.receiveCount : 0,
    satisfiedBy: d.satisfiedBy ?? null,
    supersededBy: d.supersededBy ?? null,
    error: d.error ?? null,
    consumerAccountId: d.consumerAccountId ?? target?.accountId ?? null,
    messageId,
    copies: eventId === null ? 1 : (copies.get(eventId) ?? 1),
  };
};

const byLine = (a: OutcomeRow, b: OutcomeRow): number =>
  (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER);

/**
 * The key a decision is audited under, as the worker keys it: the eventId of a valid request,
 * the message of a rejected one (two rejected bodies may carry one eventId, or none).
 */
const decisionKey = (line: EventLine, messageId: string | undefined): string =>
  line.valid && line.eventId !== null ? `event:${line.eventId}` : `message:${messageId}`;

const checkEveryDecisionAuditedOnce = (
  facts: RunFacts,
  rows: readonly OutcomeRow[],
): SummaryCheck => {
  const lineByNumber = new Map(facts.lines.map((line) => [line.line, line]));
  const audited = new Map<string, number>();
  for (const row of rows) {
    const line = row.line === null ? undefined : lineByNumber.get(row.line);
    if (!line) continue;
    const key = decisionKey(line, row.messageId);
    audited.set(key, (audited.get(key) ?? 0) + 1);
  }
  const expected = new Map<string, string>();
  for (const line of facts.lines) {
    const key = decisionKey(line, facts.messageIdOfLine.get(line.line));
    if (!expected.has(key)) expected.set(key, line.eventId ?? `line ${line.line}`);
  }
  const missing = [...expected].filter(([key]) => !audited.has(key)).map(([, name]) => name);
  const twice = [...expected]
    .filter(([key]) => (audited.get(key) ?? 0) > 1)
    .map(([, name]) => name);
  const ok = missing.length === 0 && twice.length === 0;
  return {
    name: 'every eventId of the file has exactly one audit event',
    ok,
    detail: ok
      ? `${expected.size} decisions, ${expected.size} audit events`
      : [
          missing.length > 0 ? `no audit event for ${missing.join(', ')}` : '',
          twice.length > 0 ? `more than one for ${twice.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
  };
};

const checkQuarantine = (
  rows: readonly OutcomeRow[],
  deadLetters: readonly DeadLetterRow[],
): SummaryCheck => {
  const quarantined = rows.filter(
    (row) => row.outcome === Outcome.Rejected || row.outcome === Outcome.Failed,
  );
  const byMessage = new Map(deadLetters.map((row) => [row.sourceMessageId, row]));
  const missing = quarantined.filter((row) => {
    const copy = byMessage.get(row.messageId);
    return !copy || copy.outcome !== row.outcome || !copy.errorCode || !copy.errorMessage;
  });
  return {
    name: 'every REJECTED and FAILED message is in the DLQ with its reason',
    ok: missing.length === 0,
    detail:
      missing.length === 0
        ? `${quarantined.length} in the DLQ with revoker.outcome, errorCode and errorMessage`
        : `missing or without a reason: ${missing.map((row) => row.eventId ?? `line ${row.line}`).join(', ')}`,
  };
};

const checkRevokedTargets = (
  rows: readonly OutcomeRow[],
  stillAssociated: ReadonlyMap<string, boolean>,
): SummaryCheck => {
  const revoked = rows.filter((row) => row.outcome === Outcome.Revoked);
  const left = revoked.filter((row) => stillAssociated.get(row.messageId) !== false);
  return {
    name: 'no REVOKED target is still associated in the Redshift emulator',
    ok: left.length === 0,
    detail:
      left.length === 0
        ? `${revoked.length} REVOKED decisions, none still associated`
        : `still associated: ${left.map((row) => row.eventId).join(', ')}`,
  };
};

const checkNothingOutsideTheScope = (accounts: readonly AccountRow[]): SummaryCheck => {
  const touched = accounts.filter(
    (row) => row.mode === AccountMode.NotAllowed && row.assumeRoleCalls + row.redshiftCalls > 0,
  );
  const outside = accounts.filter((row) => row.mode === AccountMode.NotAllowed);
  return {
    name: 'no AssumeRole and no Redshift call in an account the worker may not act in',
    ok: touched.length === 0,
    detail:
      touched.length === 0
        ? `accounts outside the scope: ${outside.map((row) => row.accountId).join(', ') || 'none'}; none assumed into or called`
        : `called in ${touched.map((row) => row.accountId).join(', ')}`,
  };
};

/**
 * Builds the summary from what the run left behind, and checks the worker's guarantees against
 * it: one audit event per decision, the quarantine of REJECTED and FAILED messages, revoked
 * targets really gone, the queue drained, audit details valid.
 */
export const buildSummary = (facts: RunFacts): LocalDemoSummary => {
  const lineOfMessage = new Map(
    [...facts.messageIdOfLine].map(([line, messageId]) => [messageId, line]),
  );
  const copies = new Map<string, number>();
  for (const line of facts.lines) {
    if (line.valid && line.eventId !== null)
      copies.set(line.eventId, (copies.get(line.eventId) ?? 0) + 1);
  }
  const onBus = facts.auditEvents.filter((event) => event.eventBusName === facts.auditEventBusName);
  const invalidDetails = onBus.filter(
    (event) => !v.safeParse(AuditDetailSchema, event.detail).success,
  ).length;
  const lineByNumber = new Map(facts.lines.map((line) => [line.line, line]));
  const rows = onBus
    .map((event) => rowOf(event.detail, lineOfMessage, lineByNumber, copies))
    .sort(byLine);
  const outcomeCounts = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<
    Outcome,
    number
  >;
  for (const row of rows) outcomeCounts[row.outcome] += 1;
  const auditedMessages = new Set(rows.map((row) => row.messageId));
  const duplicatesSuppressed = facts.lines.filter((line) => {
    const messageId = facts.messageIdOfLine.get(line.line);
    return line.valid && messageId !== undefined && !auditedMessages.has(messageId);
  }).length;
  const accounts = accountRowsOf(
    facts.accountScope,
    rows.map((row) => ({ accountId: row.consumerAccountId, outcome: row.outcome })),
    facts.stsCalls,
    facts.redshiftCalls,
  );

  const checks: SummaryCheck[] = [
    checkEveryDecisionAuditedOnce(facts, rows),
    {
      name: 'the source queue is drained',
      ok: facts.drained.ok,
      detail: facts.drained.detail,
    },
    checkQuarantine(rows, facts.deadLetters),
    checkRevokedTargets(rows, facts.stillAssociated),
    checkNothingOutsideTheScope(accounts),
    {
      name: 'every audit detail matches the published schema',
      ok: invalidDetails === 0,
      detail:
        invalidDetails === 0
          ? `${onBus.length} valid`
          : `${invalidDetails} of ${onBus.length} invalid`,
    },
  ];

  return {
    ok: checks.every((check) => check.ok),
    durationMs: facts.durationMs,
    timings: facts.timings,
    input: {
      eventsFile: facts.eventsFile,
      datasharesFile: facts.datasharesFile,
      messages: facts.lines.length,
      waves: facts.lines.reduce<number[]>((sizes, line) => {
        sizes[line.wave] = (sizes[line.wave] ?? 0) + 1;
        return sizes;
      }, []),
      datashares: facts.datashares,
    },
    faults: facts.faults,
    outcomes: rows,
    outcomeCounts,
    accountScope: {
      mode: facts.accountScope.consumerAccounts.length > 0 ? 'hub' : 'single-account',
      ...facts.accountScope,
    },
    accounts,
    duplicatesSuppressed,
    redshift: { calls: facts.redshift.all, byOperation: facts.redshift.byOperation },
    audit: {
      eventBusName: facts.auditEventBusName,
      events: onBus.length,
      putEventsCalls: facts.putEventsCalls,
      failedEntries: facts.failedAuditEntries,
      invalidDetails,
    },
    deadLetterQueue: [...facts.deadLetters],
    queue: {
      sent: facts.messageIdOfLine.size,
      batches: facts.mapping.batchesInvoked,
      acknowledged: facts.mapping.messagesDeleted,
      itemFailuresReported: facts.mapping.itemFailuresReported,
      drained: facts.drained.ok,
    },
    associations: facts.associations,
    workerMetrics: facts.workerMetrics,
    checks,
  };
};
