/**
 * The conservation checks: from what was sent (the ledger) and what can be seen from outside (the
 * audit bus, the DLQ, the queues, Redshift's state and call log, the store proxy's injections),
 * every request must be accounted for exactly once. What breaks that is a problem, unless it is
 * one of the windows no worker can close (a `KnownWindow`), each named with its evidence.
 */
import { accountOfNamespaceArn } from '../../../src/core/arn.js';
import { targetKey } from '../../../src/core/target.js';
import type { ProxyInjection } from '../../../src/local/fault-proxy/index.js';
import type { RedshiftEmulator } from '../../../src/local/redshift-emulator/index.js';
import { callFilter, type Target } from '../fixtures.js';
import type { AuditDetail, DeadLetter, QueueDepth } from '../harness.js';
import type { Ledger } from './ledger.js';

/** Store writes of one item, alone or in a batch (completions go in `BatchWriteItem`). */
const WRITES = new Set(['PutItem', 'BatchWriteItem']);
/** Store reads of one item, alone or in a batch. */
const READS = new Set(['GetItem', 'BatchGetItem']);

/** One audit event as the EventBridge emulator accepted it. */
export interface AuditRecord {
  detail: AuditDetail;
  /** Accepted in a call whose answer an injected fault replaced. */
  lostAnswer: boolean;
  /** Accepted in a call the client gave up on before reading the answer. */
  clientAborted: boolean;
  /** Epoch ms at which the emulator accepted it. */
  acceptedAt: number;
}

export interface Evidence {
  ledger: Ledger;
  targets: readonly Target[];
  dryRunTargets: readonly Target[];
  /** In acceptance order. */
  audit: readonly AuditRecord[];
  letters: readonly DeadLetter[];
  sourceDepth: QueueDepth;
  redshift: RedshiftEmulator;
  storeInjections: readonly ProxyInjection[];
  /** When SendMessageBatch calls had their answer replaced by the SQS proxy (the copies were sent). */
  lostDeadLetterAnswersAt: readonly number[];
  maxReceiveCount: number;
  /** Messages whose last receive's invocation was timed out by the harness (a Lambda timeout). */
  timedOutAtLastReceive: ReadonlySet<string>;
}

/**
 * The windows a worker cannot close, each a second audit event or DLQ copy:
 * - `putEventsAnswerLost`, `putEventsClientAborted`: PutEvents accepted the event, the worker
 *   never learnt it (lost answer, or the call aborted at its 1 s budget) and published it again;
 * - `completionNotRecorded`: the audit was accepted, then the store refused or never got the
 *   COMPLETED write (an outage): a later message of the decision acts and audits again;
 * - `quarantineMarkNotRecorded`: a message's quarantine stage could not be written, so its return
 *   copied or audited it again;
 * - `storeUnavailableRace`: FAILED/StoreUnavailable at one message's last receive while another
 *   message of the decision completed elsewhere;
 * - `deadLetterAnswerLost`: a DLQ copy sent, its SendMessageBatch answer lost, sent again.
 * - `holderLostAtLastReceive`: at its last receive a decision was held by an invocation that then
 *   died (a visibility timeout no longer than the function's makes that possible): dead-lettered
 *   with `InProgressElsewhere`, no audit event.
 * - `holderDeadLetteredAtLastReceive`: a message dead-lettered with `InProgressElsewhere` while
 *   the holder, at its own last receive, could not audit the decision either and dead-lettered
 *   its message as the copy that stands for it (rule 17): two copies, each with its reason.
 * - `stageUnreadAtLastReceive`: the store could not say how far a message's quarantine got, at its
 *   last receive; the worker copies (and audits) it again rather than leave it to SQS's redrive,
 *   which would move it with no reason (README rule 17). Before the last receive it is a problem.
 */
export type KnownWindowKind =
  | 'putEventsAnswerLost'
  | 'putEventsClientAborted'
  | 'completionNotRecorded'
  | 'quarantineMarkNotRecorded'
  | 'storeUnavailableRace'
  | 'deadLetterAnswerLost'
  | 'stageUnreadAtLastReceive'
  | 'holderLostAtLastReceive'
  | 'holderDeadLetteredAtLastReceive';

export interface KnownWindow {
  kind: KnownWindowKind;
  /** The eventId, or `message <id>` for a malformed message or a DLQ copy. */
  subject: string;
  detail: string;
}

export interface CheckResult {
  problems: string[];
  knownWindows: KnownWindow[];
  outcomes: Record<string, number>;
  /** Decisions accounted for by a DLQ copy alone (rule 17: audit unavailable at the last receive). */
  deadLetteredUnaudited: number;
  /** Messages SQS moved to the DLQ because their last receive's invocation timed out. */
  movedBySqsAfterTimeout: number;
  /** eventIds (and malformed messages) with more than one terminal audit event. */
  auditedTwice: number;
  targetsCalledByConcurrentInvocations: number;
}

const countBy = <T>(items: Iterable<T>, key: (item: T) => string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
};

const group = <T>(items: Iterable<T>, key: (item: T) => string | undefined): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
};

const SUCCESS = ['REVOKED', 'ALREADY_REVOKED', 'DRY_RUN'];
const STORE_WRITE_WINDOW_MS = 5000;

export const describeLetter = (letter: DeadLetter): string =>
  JSON.stringify({
    messageId: letter.messageId,
    revoker: letter.revoker,
    body: letter.body.slice(0, 120),
  });

export const describeAudit = (records: readonly AuditRecord[]): string =>
  records
    .map(
      ({ detail: d, lostAnswer, clientAborted, acceptedAt }) =>
        `${d.outcome}${d.error ? `/${d.error.code}` : ''} attempts ${d.attempts} receive ${d.receiveCount} message ${d.messageId.slice(0, 8)}${d.satisfiedBy ? ` satisfiedBy ${d.satisfiedBy}` : ''} by ${d.worker.awsRequestId.slice(0, 8)} accepted ${new Date(acceptedAt).toISOString().slice(11, 23)}${lostAnswer ? ' (answer lost)' : ''}${clientAborted ? ' (client aborted)' : ''}`,
    )
    .join(' | ');

/** Runs every check. Pure: reads the evidence, changes nothing. */
export const checkConservation = (evidence: Evidence): CheckResult => {
  const { ledger, redshift } = evidence;
  const problems: string[] = [];
  const knownWindows: KnownWindow[] = [];
  const known = (kind: KnownWindowKind, subject: string, detail: string) =>
    knownWindows.push({ kind, subject, detail });

  // Nothing in flight
  const depth = evidence.sourceDepth;
  if (depth.visible + depth.inFlight + depth.delayed > 0)
    problems.push(`source queue not empty: ${JSON.stringify(depth)}`);

  // The DLQ holds only the worker's copies, each with its reason — but for a message whose last
  // receive Lambda timed out: the worker had no chance to answer for it, and SQS moves it.
  let movedAfterTimeout = 0;
  for (const letter of evidence.letters.filter((d) => d.revoker === undefined)) {
    if (evidence.timedOutAtLastReceive.has(letter.messageId)) {
      movedAfterTimeout += 1;
      continue;
    }
    problems.push(
      `a message in the DLQ without revoker.outcome (SQS moved it after ${evidence.maxReceiveCount} receives): ${describeLetter(letter)}`,
    );
  }
  const copies = evidence.letters.filter((d) => d.revoker !== undefined);
  const lettersByEventId = group(copies, (d) => {
    const eventId = ledger.messages.get(d.revoker?.sourceMessageId ?? '');
    return eventId ?? undefined;
  });
  for (const letter of copies)
    if (!ledger.messages.has(letter.revoker?.sourceMessageId ?? ''))
      problems.push(`a DLQ copy of a message never sent: ${describeLetter(letter)}`);

  // A message copied twice: a lost SendMessageBatch answer, or a quarantine mark not written
  const quarantineFaults = (writes: boolean) =>
    new Set(
      evidence.storeInjections
        .filter(
          (i) =>
            i.key?.startsWith('quarantine#') &&
            (writes ? WRITES.has(i.operation) && i.kind !== 'lostAnswer' : READS.has(i.operation)),
        )
        .map((i) => (i.key as string).slice('quarantine#'.length)),
    );
  const markFailures = quarantineFaults(true);
  // Rule 14 remembers how far a message's quarantine got; a failed read of that stage makes the
  // worker act as if it had never been copied. Not a window a worker cannot close: it could let
  // the message come back rather than copy and audit it again. Reported as a problem.
  const stageUnread = quarantineFaults(false);
  const stageUnreadProblem = (messageId: string, what: string) =>
    `message ${messageId}: ${what} again on its return after the store failed to read its quarantine stage (GetItem quarantine#${messageId}): rule 14 — the worker treats an unreadable stage as "never copied"`;
  const lostSendAnswerAfter = (failedAt: number): boolean =>
    evidence.lostDeadLetterAnswersAt.some((at) => at >= failedAt - 100 && at <= failedAt + 2000);
  for (const [messageId, letters] of group(copies, (d) => d.revoker?.sourceMessageId)) {
    const ordered = [...letters].sort(
      (a, b) => Date.parse(a.revoker?.failedAt ?? '') - Date.parse(b.revoker?.failedAt ?? ''),
    );
    for (let i = 0; i + 1 < ordered.length; i++) {
      const first = ordered[i] as DeadLetter;
      const description = `${ordered.length} DLQ copies: ${ordered.map(describeLetter).join('; ')}`;
      if (lostSendAnswerAfter(Date.parse(first.revoker?.failedAt ?? '')))
        known('deadLetterAnswerLost', `message ${messageId}`, description);
      else if (markFailures.has(messageId))
        known('quarantineMarkNotRecorded', `message ${messageId}`, description);
      else if (
        stageUnread.has(messageId) &&
        Number(ordered[i + 1]?.revoker?.receiveCount) >= evidence.maxReceiveCount
      )
        known('stageUnreadAtLastReceive', `message ${messageId}`, description);
      else if (stageUnread.has(messageId))
        problems.push(`${stageUnreadProblem(messageId, 'copied to the DLQ')}: ${description}`);
      else
        problems.push(
          `message ${messageId}: copied to the DLQ twice, not by a known window: ${description}`,
        );
    }
  }

  // Store writes that did not happen, by item
  const refusedWrites = group(
    evidence.storeInjections.filter((i) => i.kind !== 'lostAnswer' && WRITES.has(i.operation)),
    (i) => i.key,
  );
  const completionRefusedBetween = (eventId: string, from: number, to: number): boolean =>
    (refusedWrites.get(`event#${eventId}`) ?? []).some(
      (i) => i.at >= from - 50 && i.at <= Math.min(to, from + STORE_WRITE_WINDOW_MS),
    );

  /**
   * Explains each event of one subject that was followed by another; returns what it could not.
   */
  const explainRepeats = (subject: string, records: readonly AuditRecord[]): string[] => {
    const unexplained: string[] = [];
    for (let i = 0; i + 1 < records.length; i++) {
      const first = records[i] as AuditRecord;
      const next = records[i + 1] as AuditRecord;
      const storeUnavailable = [first, next].some(
        (r) => r.detail.outcome === 'FAILED' && r.detail.error?.code === 'StoreUnavailable',
      );
      const messageId = first.detail.messageId;
      if (first.lostAnswer) known('putEventsAnswerLost', subject, describeAudit([first, next]));
      else if (first.clientAborted)
        known('putEventsClientAborted', subject, describeAudit([first, next]));
      else if (storeUnavailable)
        known('storeUnavailableRace', subject, describeAudit([first, next]));
      else if (
        first.detail.eventId !== null &&
        completionRefusedBetween(first.detail.eventId, first.acceptedAt, next.acceptedAt)
      )
        known('completionNotRecorded', subject, describeAudit([first, next]));
      else if (first.detail.outcome === 'REJECTED' && markFailures.has(messageId))
        known('quarantineMarkNotRecorded', subject, describeAudit([first, next]));
      else if (
        first.detail.outcome === 'REJECTED' &&
        stageUnread.has(messageId) &&
        next.detail.receiveCount >= evidence.maxReceiveCount
      )
        known('stageUnreadAtLastReceive', subject, describeAudit([first, next]));
      else if (first.detail.outcome === 'REJECTED' && stageUnread.has(messageId))
        unexplained.push(
          `${stageUnreadProblem(messageId, 'audited')}: ${describeAudit([first, next])}`,
        );
      else unexplained.push(describeAudit([first, next]));
    }
    return unexplained;
  };

  // Every decision: one terminal audit event, or a DLQ copy that stands for it (rule 17)
  const decisionAudit = group(
    evidence.audit.filter((r) => r.detail.outcome !== 'REJECTED'),
    (r) => r.detail.eventId ?? '',
  );
  const outcomesOf = new Map<string, string[]>();
  let deadLetteredUnaudited = 0;
  let auditedTwice = 0;
  for (const [eventId, decision] of ledger.decisions) {
    const records = decisionAudit.get(eventId) ?? [];
    decisionAudit.delete(eventId);
    const letters = lettersByEventId.get(eventId) ?? [];
    const allowed = decision.dryRun
      ? ['DRY_RUN', 'FAILED']
      : ['REVOKED', 'ALREADY_REVOKED', 'FAILED'];
    const outcomes = records.map((r) => r.detail.outcome as string);
    if (records.length === 0) {
      // Rule 17: audit unavailable at the last receive — the copy says the outcome.
      const standing = letters.filter(
        (d) =>
          d.revoker?.errorCode === 'AuditUnavailable' ||
          (d.revoker?.outcome === 'FAILED' && d.revoker.errorCode !== 'InProgressElsewhere'),
      );
      // Its holder died while this message's last receive waited for it: with the run's
      // visibility timeout equal to the function's (the stack sets 6 x), the holder can be this
      // message's own earlier try. The copy and its reason stand; no audit event (README).
      const heldByTheDead = letters.filter((d) => d.revoker?.errorCode === 'InProgressElsewhere');
      if (standing.length === 0 && heldByTheDead.length > 0) {
        known(
          'holderLostAtLastReceive',
          eventId,
          `no audit event; DLQ copies: ${heldByTheDead.map(describeLetter).join('; ')}`,
        );
        deadLetteredUnaudited += 1;
        continue;
      }
      if (standing.length === 0) {
        problems.push(
          `${eventId}: no terminal audit event and no DLQ copy standing for it${letters.length > 0 ? `: ${letters.map(describeLetter).join('; ')}` : ''}`,
        );
        continue;
      }
      deadLetteredUnaudited += 1;
      outcomes.push(...standing.map((d) => d.revoker?.outcome ?? ''));
    }
    if (records.length > 1) {
      auditedTwice += 1;
      for (const unexplained of explainRepeats(eventId, records))
        problems.push(`${eventId}: audited twice, not by a known window: ${unexplained}`);
    }
    outcomesOf.set(eventId, outcomes);
    for (const outcome of new Set(outcomes))
      if (!allowed.includes(outcome))
        problems.push(`${eventId}: outcome ${outcome}, expected one of ${allowed.join('/')}`);
    for (const { detail } of records) {
      const satisfiedBy = detail.satisfiedBy;
      if (
        satisfiedBy !== undefined &&
        (ledger.decisions.get(satisfiedBy)?.target !== decision.target ||
          !(outcomesOfEventId(evidence, satisfiedBy) || []).some((o) =>
            ['REVOKED', 'ALREADY_REVOKED'].includes(o),
          ))
      )
        problems.push(
          `${eventId}: satisfiedBy ${satisfiedBy}, which is not a confirmed revocation of the same target`,
        );
    }
    const failedAudited = records.some((r) => r.detail.outcome === 'FAILED');
    if (failedAudited && !letters.some((d) => d.revoker?.outcome === 'FAILED'))
      problems.push(`${eventId}: FAILED but not in the DLQ: ${describeAudit(records)}`);
    // Copies of a decision that succeeded: only those rule 17 sends and does not audit.
    for (const letter of letters) {
      const code = letter.revoker?.errorCode;
      const fine =
        (letter.revoker?.outcome === 'FAILED' &&
          (failedAudited || code === 'InProgressElsewhere')) ||
        (code === 'AuditUnavailable' && SUCCESS.includes(letter.revoker?.outcome ?? '')) ||
        (records.length === 0 && letter.revoker?.outcome === 'FAILED');
      // At its last receive a message found the store unreachable and was dead-lettered as
      // FAILED/StoreUnavailable (its audit may have failed too), while another message of the
      // decision completed it: the worker could not know (the README's StoreUnavailable race).
      if (!fine && code === 'StoreUnavailable')
        known(
          'storeUnavailableRace',
          eventId,
          `${outcomes.join('/')} and a DLQ copy ${describeLetter(letter)}; audit ${describeAudit(records)}`,
        );
      else if (!fine)
        problems.push(
          `${eventId}: ${outcomes.join('/')} but a DLQ copy ${describeLetter(letter)}; audit ${describeAudit(records)}`,
        );
      // Reached with no audit event only when a copy stands for the decision (above): its holder
      // could not audit it either and dead-lettered its own message with the reason (rule 17).
      if (code === 'InProgressElsewhere' && records.length === 0)
        known(
          'holderDeadLetteredAtLastReceive',
          eventId,
          `dead-lettered as InProgressElsewhere; its holder dead-lettered it too, unaudited: ${letters.map(describeLetter).join('; ')}`,
        );
    }
  }
  for (const [eventId, records] of decisionAudit)
    problems.push(`audit events for an eventId never sent: ${eventId} × ${records.length}`);

  // Every malformed message: REJECTED once and in the DLQ once, with its reason
  const rejectedAudit = group(
    evidence.audit.filter((r) => r.detail.outcome === 'REJECTED'),
    (r) => r.detail.messageId,
  );
  for (const [messageId, eventId] of ledger.messages) {
    if (eventId !== null) continue;
    const records = rejectedAudit.get(messageId) ?? [];
    rejectedAudit.delete(messageId);
    const letters = copies.filter((d) => d.revoker?.sourceMessageId === messageId);
    if (letters.length === 0)
      problems.push(
        `malformed message ${messageId}: ${records.length} REJECTED audit events and no DLQ copy`,
      );
    if (records.length === 0 && letters.length > 0) deadLetteredUnaudited += 1;
    if (records.length > 1) {
      auditedTwice += 1;
      for (const unexplained of explainRepeats(`message ${messageId}`, records))
        problems.push(
          `malformed message ${messageId}: REJECTED twice, not by a known window: ${unexplained}`,
        );
    }
    for (const letter of letters)
      if (letter.revoker?.outcome !== 'REJECTED' || !letter.revoker.errorCode)
        problems.push(`malformed message ${messageId}: DLQ copy ${describeLetter(letter)}`);
  }
  for (const [messageId, records] of rejectedAudit)
    problems.push(
      `REJECTED audit events for a message never sent as malformed: ${messageId} × ${records.length}`,
    );

  // Targets: revoked unless every decision on them FAILED; one state change; no call wasted
  const storeFaultsByKey = countBy(
    evidence.storeInjections.filter((i) => i.key !== undefined),
    (i) => i.key as string,
  );
  const decisionsOf = group(ledger.decisions, ([, decision]) =>
    decision.dryRun ? undefined : `${decision.target.dataShareArn}|${decision.target.consumerArn}`,
  );
  let concurrentCallers = 0;
  const operationOfRequest = new Map(
    redshift.calls.flatMap((call) =>
      call.requestId === undefined ? [] : [[call.requestId, call.operation] as const],
    ),
  );
  const concurrentExamples: string[] = [];
  for (const target of evidence.targets) {
    const eventIds = (decisionsOf.get(`${target.dataShareArn}|${target.consumerArn}`) ?? []).map(
      ([eventId]) => eventId,
    );
    const mustBeGone = eventIds.some((id) =>
      (outcomesOf.get(id) ?? []).some((o) => o !== 'FAILED'),
    );
    if (mustBeGone && redshift.isAssociated(target.dataShareArn, target.consumerArn))
      problems.push(
        `${target.consumerArn} on ${target.dataShareArn}: still associated after ${eventIds.join(', ')}`,
      );
    const calls = redshift.countCalls(callFilter(target));
    if (calls.applied > 1)
      problems.push(
        `${target.consumerArn} on ${target.dataShareArn}: ${calls.applied} state changes (a second revocation) — calls ${describeCalls(redshift, target)}`,
      );
    // One call per target plus one per injected failure (rules 4, 5, 7). A failure injected into
    // the DescribeDataShares call that confirms an ambiguous "not associated" (rule 9) counts too,
    // and so does a store fault on the target's confirmation or one of its decisions: the worker
    // may then not know what was done. Rule 4 is batch-local and rule 5 needs a confirmation
    // first: decisions on one target in concurrent invocations, before either confirmed it, may
    // each call once. Those invocations show in the audit trail.
    const describeFaults = redshift.countCalls({
      operation: 'DescribeDataShares',
      dataShareArn: target.dataShareArn,
    }).injected;
    const storeFaults =
      (storeFaultsByKey[
        `target#${targetKey({ dataShareArn: target.dataShareArn, consumer: { kind: 'namespace', arn: target.consumerArn }, accountId: accountOfNamespaceArn(target.consumerArn) ?? '' })}`
      ] ?? 0) + eventIds.reduce((sum, id) => sum + (storeFaultsByKey[`event#${id}`] ?? 0), 0);
    const records = eventIds.flatMap((id) => auditOfEventId(evidence, id));
    // An invocation whose answer came from the stale check's DescribeDataShares (ALREADY_REVOKED
    // or SUPERSEDED with no disassociate call) did not call the target: its attempts were reads.
    const answeredByDescribe = (r: (typeof records)[number]) =>
      r.detail.redshiftRequestId != null &&
      operationOfRequest.get(r.detail.redshiftRequestId) === 'DescribeDataShares';
    // A record published again from a kept resolution (its first audit's answer was lost) carries
    // the call's RequestId too: one call, however many invocations published it.
    const callers = new Set(
      records
        .filter(
          (r) =>
            r.detail.attempts > 0 && r.detail.satisfiedBy === undefined && !answeredByDescribe(r),
        )
        .map((r) => r.detail.redshiftRequestId ?? `invocation ${r.detail.worker.awsRequestId}`),
    );
    // A store fault on its items lets the worker forget a confirmation: not rule 5's fault.
    if (callers.size > 1 && storeFaults === 0) {
      concurrentCallers += 1;
      if (concurrentExamples.length < 3)
        concurrentExamples.push(
          `${target.consumerArn}: calls ${describeCalls(redshift, target)}; store faults on its items ${storeFaults}; decisions ${eventIds.map((id) => `${id} → ${describeAudit(auditOfEventId(evidence, id))}`).join('; ')}`,
        );
    }
    // A call whose client gave up before its answer came (its request timeout, under load) is a
    // lost answer nobody injected: the worker cannot know it took effect, and may call again.
    const allowed =
      1 +
      calls.injected +
      calls.clientGone +
      describeFaults +
      storeFaults +
      Math.max(0, callers.size - 1);
    if (calls.total > allowed)
      problems.push(
        `${target.consumerArn} on ${target.dataShareArn}: ${calls.total} DisassociateDataShareConsumer calls with ${calls.injected} injected failures, ${calls.clientGone} answers the client left before, ${describeFaults} injected DescribeDataShares failures on the datashare, ${storeFaults} store faults on its items and ${callers.size} invocations calling (at most ${allowed} expected); calls ${describeCalls(redshift, target)}; decisions ${eventIds.map((id) => `${id} → ${describeAudit(auditOfEventId(evidence, id))}`).join('; ')}`,
      );
  }
  // Such races need two decisions on one target in flight at once, which the workload's rounds
  // make rare. Many would mean rule 5 (a confirmation satisfies earlier decisions) is not applied.
  // Counted only on targets whose store items saw no fault.
  if (concurrentCallers > Math.max(2, evidence.targets.length * 0.05))
    problems.push(
      `${concurrentCallers} of ${evidence.targets.length} targets were called by several invocations: is rule 5 applied? For example ${concurrentExamples.join(' || ')}`,
    );
  for (const target of evidence.dryRunTargets) {
    if (!redshift.isAssociated(target.dataShareArn, target.consumerArn))
      problems.push(`dry-run target ${target.consumerArn} lost its association`);
    if (redshift.countCalls(callFilter(target)).total > 0)
      problems.push(
        `dry-run target ${target.consumerArn} got a DisassociateDataShareConsumer call`,
      );
  }

  return {
    problems,
    knownWindows,
    outcomes: countBy(
      [...outcomesOf.values()].map((o) => [...new Set(o)].join('+')),
      (o) => o,
    ),
    deadLetteredUnaudited,
    movedBySqsAfterTimeout: movedAfterTimeout,
    auditedTwice,
    targetsCalledByConcurrentInvocations: concurrentCallers,
  };
};

// Indexes built once per evidence, for lookups by eventId inside the loops above.
const indexes = new WeakMap<Evidence, Map<string, AuditRecord[]>>();
const auditOfEventId = (evidence: Evidence, eventId: string): AuditRecord[] => {
  let index = indexes.get(evidence);
  if (!index) {
    index = group(evidence.audit, (r) => r.detail.eventId ?? undefined);
    indexes.set(evidence, index);
  }
  return index.get(eventId) ?? [];
};
const outcomesOfEventId = (evidence: Evidence, eventId: string): string[] =>
  auditOfEventId(evidence, eventId).map((r) => r.detail.outcome);

const describeCalls = (redshift: RedshiftEmulator, target: Target): string =>
  redshift.calls
    .filter(
      (c) =>
        c.dataShareArn === target.dataShareArn &&
        (c.consumer === target.consumerArn || c.operation === 'DescribeDataShares'),
    )
    .map(
      (c) =>
        `#${c.seq} ${new Date(c.at).toISOString().slice(11, 23)} ${c.operation.replace('DataShareConsumer', '')} ${c.outcome}${c.lostAnswer ? ' (answer lost)' : ''}${c.clientGone && !c.injected ? ' (client gone before the answer)' : ''}`,
    )
    .join(', ');
