import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import pLimit from 'p-limit';
import { accountOfFunctionArn } from '../core/arn.js';
import { Deadline } from '../core/deadline.js';
import { toError } from '../core/errors.js';
import type { WorkerIdentity } from './audit-detail.js';
import { confirmationWriter } from './confirmations.js';
import { MetricName } from './ports.js';
import { type Delivery, prepareBatch } from './prepare.js';
import { publishAuditEntries } from './publish-audit.js';

export type { WorkerDependencies, WorkerSettings } from './batch-state.js';

import {
  AUDIT_MAX_ROUNDS,
  AUDIT_ROUND_BUDGET_MS,
  atLastReceive,
  BusyReason,
  type Invocation,
  MIN_ATTEMPT_MS,
  RETURN_MARGIN_MS,
  SETTLE_BUDGET_MS,
  STORE_CONCURRENCY,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import {
  claimAhead,
  claimDecisions,
  giveBack,
  quarantineStages,
  readSnapshot,
  UNKNOWN_STAGE,
  watchBusyDecisions,
} from './claim.js';
import { quarantine, terminalOfDecision, terminalOfRejection } from './quarantine.js';
import { likelyCallers, resolveDecisions } from './resolve.js';
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
  const redshiftDeadline = new Deadline(remainingAtStart, settings.deadlineReserveMs, clock);
  const invocation: Invocation = {
    scope: {
      ownAccountId: accountOfFunctionArn(context.invokedFunctionArn),
      ...(settings.consumerRole && { consumerAccounts: settings.consumerRole.accounts }),
    },
    // The lease ends with the invocation's own deadline, so a crashed holder never blocks a
    // decision longer; the owner is unique even where request ids are not (local harnesses).
    lease: {
      owner: `${context.awsRequestId}/${randomUUID()}`,
      until: startedAt + remainingAtStart,
    },
    redshiftDeadline,
    finalDeadline: new Deadline(remainingAtStart, RETURN_MARGIN_MS, clock),
    limitStore: pLimit(STORE_CONCURRENCY),
    ...(deps.breaker && {
      breaker: deps.breaker.begin({
        functionName: context.functionName,
        awsRequestId: context.awsRequestId,
      }),
    }),
    targetConfirmations: { readAt: startedAt, byKey: new Map() },
    // Confirmations are written in the Redshift phase: they end with it, as the other store calls.
    confirmations: confirmationWriter(deps, redshiftDeadline),
    pendingWrites: [],
  };
  const worker: WorkerIdentity = {
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    awsRequestId: context.awsRequestId,
  };
  const failures = new Set<string>();
  const fail = (deliveries: readonly Delivery[]) => {
    for (const delivery of deliveries) failures.add(delivery.record.messageId);
  };
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
      invocation.scope,
      settings,
    );
    // What only a message at its last receive needs is read when one comes (a chunk of its own).
    const lastReceive = atLastReceive(
      [...decisions.flatMap((d) => d.deliveries), ...rejected.map((r) => r.delivery)],
      settings,
    )
      ? import('./set-aside.js')
      : undefined;
    // Awaited below; until then a failed import must not count as unhandled.
    lastReceive?.catch(() => {});
    const candidates: Tracked[] = decisions.map((decision) => ({
      decision,
      state: { kind: 'pending' },
    }));
    // One read for the whole batch first: duplicates of completed decisions need no claim, and the
    // targets' confirmations are known before any call. Then claims, then the quarantine stages of
    // redelivered messages: whoever settled a decision marked its messages before letting go of
    // it, so a claim that got it sees the marks.
    // With fresh traffic the new decisions' claim, and the breaker's reservations of their calls,
    // go with the read (`claimAhead`); otherwise after it, the reservations while the claims are
    // written.
    const ahead = claimAhead(candidates, deps, invocation);
    const reserveEarly = (unheld: ReadonlySet<string>, targets: 'read' | 'not read yet') =>
      invocation.breaker?.reserveEarly(
        likelyCallers(candidates, unheld, invocation, deps, targets),
        invocation.redshiftDeadline,
        deps,
      );
    if (ahead) reserveEarly(ahead.eventIds, 'not read yet');
    const [, stages] = await Promise.all([
      readSnapshot(candidates, deps, invocation).then((unheld) => {
        if (!ahead) reserveEarly(unheld, 'read');
        return claimDecisions(candidates, deps, invocation, unheld, ahead);
      }),
      quarantineStages(
        rejected.map((r) => r.delivery),
        deps,
        invocation,
        invocation.finalDeadline,
      ),
    ]);
    for (const [id, stage] of await quarantineStages(
      decisions.flatMap((d) => d.deliveries),
      deps,
      invocation,
      invocation.redshiftDeadline,
    ))
      stages.set(id, stage);
    // A redelivered message whose quarantine already finished (a crash after it) is done: drop it.
    const unsettled = (delivery: Delivery) => {
      if (stages.get(delivery.record.messageId) !== 'settled') return true;
      delivery.log.info('already dead-lettered and audited; acknowledged');
      return false;
    };
    const tracked: Tracked[] = [];
    const settledElsewhere: Tracked[] = [];
    for (const t of candidates) {
      const [first, ...rest] = t.decision.deliveries.filter(unsettled);
      if (first) tracked.push({ ...t, decision: { ...t.decision, deliveries: [first, ...rest] } });
      else if (t.owned) settledElsewhere.push(t);
    }
    await Promise.all(
      settledElsewhere.map((t) =>
        invocation.limitStore(() =>
          giveBack(t, deps, invocation.finalDeadline, invocation.lease.owner),
        ),
      ),
    );
    // A redelivered message whose stage the store could not give may be copied and audited
    // already: it comes back for a later try, rather than risk a second copy and audit event —
    // except at its last receive, where a second copy beats SQS's silent redrive.
    const stageUnknown = (delivery: Delivery) =>
      stages.get(delivery.record.messageId) === UNKNOWN_STAGE &&
      !atLastReceive([delivery], settings);
    const rejectedNow = rejected.filter((r) => {
      if (!unsettled(r.delivery)) return false;
      if (!stageUnknown(r.delivery)) return true;
      fail([r.delivery]);
      return false;
    });
    for (const t of tracked)
      if (t.decision.deliveries.some(stageUnknown))
        t.state = {
          kind: 'busy',
          why: BusyReason.StoreUnavailable,
          detail: 'could not read the quarantine stage of a redelivered message',
        };

    // While this batch works, watch the decisions another invocation holds: most finish in
    // moments, and waiting here beats coming back a whole lease later.
    await Promise.all([
      watchBusyDecisions(tracked, deps, invocation),
      resolveDecisions(tracked, invocation, deps, nowIso),
    ]);
    // The confirmations still waiting to be written go with the completions (`settle`).
    invocation.confirmations.hold();
    await invocation.breaker?.releaseUnused(
      invocation.redshiftDeadline,
      invocation.finalDeadline,
      deps,
    );
    const atLast = await lastReceive;
    atLast?.setAsideAtLastReceive(tracked, deps, nowIso);

    const terminals = [
      ...tracked.flatMap((t) => terminalOfDecision(t, worker, deps, nowIso)),
      ...rejectedNow.map((r) => terminalOfRejection(r, nowIso(), worker, deps)),
    ];
    const quarantined = await quarantine(terminals, stages, invocation.finalDeadline, deps);
    const auditable = terminals.filter(
      (t) => !t.unaudited && (!t.quarantine || quarantined.has(t.key)),
    );
    // The breaker's `Opened` event, when this invocation opened it, goes out with the audit.
    const announcements = (await invocation.breaker?.announcements()) ?? [];
    const published = await publishAuditEntries(
      [
        ...auditable.map((t) => ({ key: t.key, detail: t.detail, resources: t.resources })),
        ...announcements,
      ],
      {
        publisher: deps.audit,
        deadline: invocation.finalDeadline,
        maxRounds: AUDIT_MAX_ROUNDS,
        roundBudgetMs: AUDIT_ROUND_BUDGET_MS,
        // Time to settle what the audit decided, and at the last receive for the DLQ copy that
        // follows a failed audit.
        keepAfterMs:
          SETTLE_BUDGET_MS +
          (auditable.some((t) => atLastReceive(t.deliveries, settings))
            ? AUDIT_ROUND_BUDGET_MS
            : 0),
        sleep: deps.sleep,
        random: deps.random,
      },
    );
    // Every audit event not accepted counts (the AuditPublishFailures alarm): a result's comes
    // back or is dead-lettered with AuditUnavailable, but an operator should hear of it now.
    const auditFailures = auditable.filter((t) => published.get(t.key)?.ok !== true).length;
    if (auditFailures > 0) metrics.add(MetricName.AuditPublishFailures, auditFailures);
    for (const entry of announcements)
      if (published.get(entry.key)?.ok !== true) {
        metrics.add(MetricName.AuditPublishFailures, 1);
        deps.logger.error(
          { audit: published.get(entry.key), detail: entry.detail },
          'the breaker opened, but its event was not accepted (the BreakerOpened metric and alarm stand)',
        );
      }
    for (const t of terminals) if (t.unaudited && !quarantined.has(t.key)) fail(t.deliveries);
    const [, acknowledged] = await Promise.all([
      settle(
        terminals.filter((t) => !t.unaudited || quarantined.has(t.key)),
        quarantined,
        published,
        deps,
        invocation,
        fail,
      ),
      atLast?.deadLetterAtLastReceive(
        terminals,
        quarantined,
        published,
        deps,
        invocation,
        nowIso,
      ) ?? [],
    ]);
    for (const delivery of acknowledged) failures.delete(delivery.record.messageId);
    // No completion took them (none was written, or the audit failed): alone.
    invocation.confirmations.flushHeld();

    for (const t of tracked) {
      if (t.state.kind === 'busy') {
        t.decision.deliveries[0].log.info(
          { why: t.state.why, detail: t.state.detail },
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
    await Promise.all([
      // Only the breaker holds decisions: without one there is nothing to send back.
      invocation.breaker?.hold(tracked, deps, invocation, fail),
      invocation.breaker?.finish(),
    ]);
    await scheduleRetries(tracked, deps, invocation, fail);
  } catch (error) {
    // A defect, not a per-record problem: fail every message not yet settled rather than throw.
    deps.logger.error(
      { err: toError(error) },
      'unexpected error while processing the batch; failing it',
    );
    for (const record of event.Records ?? []) failures.add(record.messageId);
  } finally {
    // Target confirmations still being written (each handles its own failure; bounded by the
    // Redshift phase's deadline): an invocation that has returned leaves nothing running.
    invocation.confirmations.flushHeld();
    await Promise.all(invocation.pendingWrites);
    metrics.flush();
  }

  return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
};
