import { serializeAuditDetail } from '../core/audit.js';
import { deadLetterAttributes, type MessageAttribute } from '../core/dead-letter.js';
import type { Deadline } from '../core/deadline.js';
import { Outcome, QUARANTINED_OUTCOMES } from '../core/outcome.js';
import { decisionAuditDetail, rejectionAuditDetail, type WorkerIdentity } from './audit-detail.js';
import {
  AUDIT_ROUND_BUDGET_MS,
  atLastReceive,
  errorSummary,
  SETTLE_BUDGET_MS,
  type Terminal,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import type { DeadLetterCopy, QuarantineStage } from './ports.js';
import type { Delivery, RejectedDelivery } from './prepare.js';

/** A message's attributes as SQS takes them back (a DLQ copy, a breaker's requeue). */
export const originalAttributes = (delivery: Delivery): Record<string, MessageAttribute> =>
  Object.fromEntries(
    Object.entries(delivery.record.messageAttributes ?? {}).map(([name, value]) => [
      name,
      {
        dataType: value.dataType,
        ...(value.stringValue !== undefined && { stringValue: value.stringValue }),
        ...(value.binaryValue !== undefined && { binaryValue: value.binaryValue }),
      },
    ]),
  );

// ── Step 3: terminal outcomes become dead-letter copies and audit entries (rules 12, 13) ────────

const resourcesOf = (dataShareArn: string, consumerArn: string | undefined): string[] =>
  consumerArn ? [dataShareArn, consumerArn] : [dataShareArn];

export const terminalOfDecision = (
  t: Tracked,
  worker: WorkerIdentity,
  deps: WorkerDependencies,
  nowIso: () => string,
): Terminal[] => {
  const { decision } = t;
  if (t.state.kind === 'setAside') {
    const primary = decision.deliveries[0];
    return [
      {
        key: decision.eventId,
        outcome: Outcome.Failed,
        deliveries: decision.deliveries,
        detail: '',
        resources: [],
        tracked: t,
        unaudited: true,
        quarantine: deadLetterCopy(primary, Outcome.Failed, t.state.error, nowIso()),
      },
    ];
  }
  if (t.state.kind !== 'resolved') return [];
  const { resolution } = t.state;
  const detail = decisionAuditDetail(decision, resolution, worker, deps.settings.dryRun);
  const primary = decision.deliveries[0];
  return [
    {
      key: decision.eventId,
      outcome: resolution.outcome,
      deliveries: decision.deliveries,
      detail: serializeAuditDetail(detail),
      resources: resourcesOf(decision.request.dataShareArn, decision.request.consumerArn),
      tracked: t,
      ...(QUARANTINED_OUTCOMES.has(resolution.outcome) && {
        quarantine: deadLetterCopy(
          primary,
          resolution.outcome,
          resolution.error ?? { code: 'Unknown', message: '' },
          resolution.processedAt,
        ),
      }),
    },
  ];
};

export const terminalOfRejection = (
  { delivery, rejection }: RejectedDelivery,
  processedAt: string,
  worker: WorkerIdentity,
  _deps: WorkerDependencies,
): Terminal => ({
  key: `message:${delivery.record.messageId}`,
  outcome: Outcome.Rejected,
  deliveries: [delivery],
  detail: serializeAuditDetail(rejectionAuditDetail(delivery, rejection, processedAt, worker)),
  resources: [],
  quarantine: deadLetterCopy(
    delivery,
    Outcome.Rejected,
    { code: rejection.code, message: rejection.message },
    processedAt,
  ),
});

export const deadLetterCopy = (
  delivery: Delivery,
  outcome: Outcome,
  error: { code: string; message: string },
  failedAt: string,
): DeadLetterCopy => ({
  id: delivery.record.messageId,
  body: delivery.record.body ?? '',
  attributes: deadLetterAttributes(originalAttributes(delivery), {
    outcome,
    errorCode: error.code,
    errorMessage: error.message,
    sourceMessageId: delivery.record.messageId,
    receiveCount: delivery.receiveCount,
    failedAt,
  }),
});

/**
 * Sends the dead-letter copies, skipping those an earlier try of the same message already sent
 * (its audit failed after the copy went out). Returns the keys whose copy is in the DLQ.
 */
export const quarantine = async (
  terminals: Terminal[],
  stages: ReadonlyMap<string, QuarantineStage | 'unknown'>,
  deadline: Deadline,
  deps: WorkerDependencies,
): Promise<Set<string>> => {
  const done = new Set<string>();
  const toSend: Terminal[] = [];
  for (const t of terminals) {
    if (!t.quarantine) continue;
    if (stages.get(t.quarantine.id) === 'copied') done.add(t.key);
    else toSend.push(t);
  }
  if (toSend.length === 0) return done;
  // Same rule as the audit: no copy is sent without the time to learn whether it arrived.
  if (!deadline.allows(AUDIT_ROUND_BUDGET_MS)) {
    for (const t of toSend)
      (t.deliveries[0] as Delivery).log.warn('no time left to dead-letter; it will come back');
    return done;
  }
  const copies = toSend.map((t) => t.quarantine as DeadLetterCopy);
  // The copy may take its time (an aborted one may still have arrived, and would be sent again),
  // but not the audit round's that follows, nor, at the last receive, a retry of the copy.
  const keepAfter =
    AUDIT_ROUND_BUDGET_MS +
    SETTLE_BUDGET_MS +
    (toSend.some((t) => atLastReceive(t.deliveries, deps.settings)) ? AUDIT_ROUND_BUDGET_MS : 0);
  const results = await deps.queue
    .sendToDeadLetterQueue(
      copies,
      deadline.signal(Math.max(AUDIT_ROUND_BUDGET_MS, deadline.remainingMs() - keepAfter)),
    )
    .catch((error: unknown) => copies.map(() => ({ ok: false as const, ...errorSummary(error) })));
  toSend.forEach((t, index) => {
    const result = results[index];
    if (result?.ok) done.add(t.key);
    else
      (t.deliveries[0] as Delivery).log.error(
        { code: result?.code, error: result?.message },
        'could not copy the message to the dead-letter queue; it will come back',
      );
  });
  return done;
};
