import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import pLimit from 'p-limit';
import { Deadline } from '../core/deadline.js';
import { toError } from '../core/errors.js';
import type { WorkerIdentity } from './audit-detail.js';
import { MetricName } from './ports.js';
import { type Delivery, prepareBatch } from './prepare.js';
import { publishAuditEntries } from './publish-audit.js';

export type { WorkerDependencies, WorkerSettings } from './batch-state.js';

import {
  AUDIT_MAX_ROUNDS,
  AUDIT_ROUND_BUDGET_MS,
  MIN_ATTEMPT_MS,
  RETURN_MARGIN_MS,
  STORE_CONCURRENCY,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import { claimDecisions, quarantineStages, watchBusyDecisions } from './claim.js';
import { quarantine, terminalOfDecision, terminalOfRejection } from './quarantine.js';
import { resolveDecisions } from './resolve.js';
import { scheduleRetries, settle } from './settle.js';

/**
 * Processes one SQS batch: validate, deduplicate, disassociate, quarantine, audit — and reports as
 * batch item failures exactly the messages that must come back. Never throws: a throw would fail
 * (and redeliver) the whole batch, including messages already acted on.
 */
export const processBatch = async (
  event: SQSEvent,
  context: Context,
  deps: WorkerDependencies,
): Promise<SQSBatchResponse> => {
  const { settings, metrics, clock } = deps;
  const startedAt = clock();
  const remainingAtStart = context.getRemainingTimeInMillis();
  const leaseUntil = startedAt + remainingAtStart;
  const redshiftDeadline = new Deadline(remainingAtStart, settings.deadlineReserveMs, clock);
  const finalDeadline = new Deadline(remainingAtStart, RETURN_MARGIN_MS, clock);
  const worker: WorkerIdentity = {
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    awsRequestId: context.awsRequestId,
  };
  const failures = new Set<string>();
  const fail = (deliveries: readonly Delivery[]) => {
    for (const delivery of deliveries) failures.add(delivery.record.messageId);
  };
  const limitStore = pLimit(STORE_CONCURRENCY);
  const nowIso = () => new Date(clock()).toISOString();

  // Too little time to do anything safely (the deadline reserve plus one attempt): touch nothing,
  // claim nothing, and let every message come back. Lambda never starts an invocation this late,
  // but a runtime that went on past a timeout would, and its leases would already have expired.
  if (remainingAtStart < settings.deadlineReserveMs + MIN_ATTEMPT_MS) {
    deps.logger.warn(
      { remainingMs: remainingAtStart },
      'too little time left to process the batch; returning it',
    );
    return {
      batchItemFailures: (event.Records ?? []).map((record) => ({
        itemIdentifier: record.messageId,
      })),
    };
  }

  try {
    const { decisions, rejected } = prepareBatch(
      event.Records ?? [],
      deps.logger,
      context.awsRequestId,
    );
    // A redelivered message whose quarantine already finished (a crash after it) is done: drop it.
    const stages = await quarantineStages(
      [...decisions.flatMap((d) => d.deliveries), ...rejected.map((r) => r.delivery)],
      deps,
      limitStore,
    );
    const unsettled = (delivery: Delivery) => {
      if (stages.get(delivery.record.messageId) !== 'settled') return true;
      delivery.log.info('already dead-lettered and audited; acknowledged');
      return false;
    };
    const tracked: Tracked[] = decisions.flatMap((decision) => {
      const [first, ...rest] = decision.deliveries.filter(unsettled);
      return first
        ? [
            {
              decision: { ...decision, deliveries: [first, ...rest] },
              state: { kind: 'pending' } as const,
            },
          ]
        : [];
    });
    const rejectedNow = rejected.filter((r) => unsettled(r.delivery));

    await claimDecisions(tracked, leaseUntil, deps, limitStore);
    // While this batch works, watch the decisions another invocation holds: most finish in
    // moments, and waiting here beats coming back a whole lease later.
    const watching = watchBusyDecisions(tracked, leaseUntil, finalDeadline, deps);
    await resolveDecisions(tracked, redshiftDeadline, deps, nowIso);

    const terminals = [
      ...tracked.flatMap((t) => terminalOfDecision(t, worker, deps)),
      ...rejectedNow.map((r) => terminalOfRejection(r, nowIso(), worker, deps)),
    ];
    const quarantined = await quarantine(terminals, stages, finalDeadline, deps);
    const auditable = terminals.filter((t) => !t.quarantine || quarantined.has(t.key));
    for (const t of terminals) if (!auditable.includes(t)) fail(t.deliveries);

    const published = await publishAuditEntries(
      auditable.map((t) => ({ key: t.key, detail: t.detail, resources: t.resources })),
      {
        publisher: deps.audit,
        deadline: finalDeadline,
        maxRounds: AUDIT_MAX_ROUNDS,
        roundBudgetMs: AUDIT_ROUND_BUDGET_MS,
        sleep: deps.sleep,
        random: deps.random,
      },
    );
    await settle(auditable, published, leaseUntil, deps, limitStore, fail);
    await watching;

    for (const t of tracked) {
      if (t.state.kind === 'busy') {
        t.decision.deliveries[0].log.info(
          { why: t.state.why },
          'decision busy elsewhere; it will come back',
        );
      }
      if (t.state.kind === 'duplicate') {
        metrics.add(MetricName.DuplicatesSuppressed, t.decision.deliveries.length);
        t.decision.deliveries[0].log.info('duplicate of a completed decision; acknowledged');
      }
      if (t.decision.deliveries.length > 1 && t.state.kind !== 'duplicate') {
        metrics.add(MetricName.DuplicatesSuppressed, t.decision.deliveries.length - 1);
      }
    }
    await scheduleRetries(
      tracked.filter((t) => t.state.kind === 'retry' || t.state.kind === 'busy'),
      finalDeadline,
      deps,
      limitStore,
      fail,
    );
  } catch (error) {
    // A defect, not a per-record problem: fail every message not yet settled rather than throw.
    deps.logger.error(
      { err: toError(error) },
      'unexpected error while processing the batch; failing it',
    );
    for (const record of event.Records ?? []) failures.add(record.messageId);
  } finally {
    metrics.flush();
  }

  return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
};
