import { DEFAULT_VISIBILITY_BACKOFF, visibilityBackoffSeconds } from '../core/backoff.js';
import { toError } from '../core/errors.js';
import { COMPLETED_OUTCOMES, CONFIRMING_OUTCOMES, Outcome } from '../core/outcome.js';
import { queueUrlFromArn } from '../core/sqs-arn.js';
import {
  type Invocation,
  storeCall,
  type Terminal,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import type {
  AuditEntryResult,
  ConfirmationEntry,
  QuarantineStage,
  Resolution,
  VisibilityChange,
} from './ports.js';
import { MetricName, messageIdsOf } from './ports.js';
import type { Delivery } from './prepare.js';

// ── Step 4: settle what the audit accepted, keep what it did not (rules 13, 14) ────────────────

/** Every message id a decision's resolution belongs to: this batch's and earlier ones'. */
const messageIdsOfDecision = (t: Tracked, resolution: Resolution): string[] => [
  ...new Set([
    ...messageIdsOf(resolution),
    ...t.decision.deliveries.map((delivery) => delivery.record.messageId),
  ]),
];

/**
 * Records, for every terminal, what its redelivery needs to know, and reports as failures the
 * messages whose audit was not accepted:
 * - quarantine stages for every message the DLQ copy stands for (`copied`; `settled` once
 *   audited), so no message of the decision is copied or audited twice;
 * - the decision itself, only by the invocation that holds it: COMPLETED (a duplicate is
 *   acknowledged), forgotten once a FAILED one is audited (a replay acts again), or RESOLVED with
 *   Redshift's answer when the audit failed (the return is audited without a second call).
 */
export const settle = async (
  terminals: Terminal[],
  quarantined: ReadonlySet<string>,
  published: ReadonlyMap<string, AuditEntryResult>,
  deps: WorkerDependencies,
  invocation: Invocation,
  fail: (deliveries: readonly Delivery[]) => void,
): Promise<void> => {
  const { finalDeadline: deadline, limitStore } = invocation;
  // One more try when time allows: a lost completion is the window where a later message of the
  // decision is audited again, and the SDK retries nothing.
  const write = (what: string, t: Terminal, call: (signal: AbortSignal) => Promise<void>) =>
    limitStore(() =>
      storeCall(deadline, call)
        .catch(() => storeCall(deadline, call))
        .catch((error: unknown) =>
          (t.deliveries[0] as Delivery).log.warn({ err: toError(error) }, `could not ${what}`),
        ),
    );
  const mark = (t: Terminal, messageIds: readonly string[], stage: QuarantineStage) =>
    Promise.all(
      messageIds.map((id) =>
        write(`record the quarantine stage of ${id}`, t, (signal) =>
          deps.store.markQuarantined(id, stage, signal),
        ),
      ),
    );

  const isAudited = (t: Terminal) => t.unaudited === true || published.get(t.key)?.ok === true;
  // Completions need no condition: they go together, in as few requests as the store allows, and
  // first: they wait for nothing else this step writes. Held back behind other decisions' slow
  // quarantine marks, a batch's completions met the deadline and its resends were audited again
  // (conservation seed 2). A decision with a DLQ copy is completed after its marks, alone.
  const completions: { t: Terminal; eventId: string; resolution: Resolution }[] = [];
  for (const t of terminals) {
    const tracked = t.tracked;
    const resolution = tracked?.state.kind === 'resolved' ? tracked.state.resolution : undefined;
    if (!isAudited(t) || t.quarantine || !tracked?.owned || !resolution) continue;
    if (!COMPLETED_OUTCOMES.has(resolution.outcome)) continue;
    tracked.owned = false;
    completions.push({ t, eventId: tracked.decision.eventId, resolution });
  }
  const completing = completeAll(completions, deps, invocation);
  await Promise.all(
    terminals.map(async (t) => {
      const primary = t.deliveries[0] as Delivery;
      const ok = isAudited(t);
      const tracked = t.tracked;
      const resolution = tracked?.state.kind === 'resolved' ? tracked.state.resolution : undefined;
      const ids =
        tracked && resolution
          ? messageIdsOfDecision(tracked, resolution)
          : t.deliveries.map((delivery) => delivery.record.messageId);
      if (!ok) {
        const result = published.get(t.key);
        fail(t.deliveries);
        primary.log.error(
          result && !result.ok ? { code: result.code, error: result.message } : {},
          result
            ? 'audit event not accepted; the message will come back'
            : 'not audited (its DLQ copy was not sent, or no time was left); the message will come back',
        );
        if (t.quarantine && quarantined.has(t.key)) await mark(t, ids, 'copied');
        if (tracked?.owned && resolution) {
          // Keep the outcome, so the return is audited without a second Redshift call (rule 13).
          tracked.owned = false;
          await write('keep the resolution; the return will call Redshift again', t, (signal) =>
            deps.store.resolve(
              tracked.decision.eventId,
              { ...resolution, messageIds: ids },
              signal,
            ),
          );
        }
        return;
      }
      // FAILED: every message of the decision is marked settled before the decision is forgotten,
      // so a message of it that comes back later finds its mark, whoever claims the decision.
      if (t.quarantine) await mark(t, ids, 'settled');
      if (tracked?.owned && resolution) {
        tracked.owned = false;
        const eventId = tracked.decision.eventId;
        if (COMPLETED_OUTCOMES.has(resolution.outcome))
          await write('record the completed decision', t, (signal) =>
            deps.store.complete(eventId, resolution, signal),
          );
        else
          await write('forget the failed decision', t, (signal) =>
            deps.store.forget(eventId, signal),
          );
      }
      if (!t.unaudited) recordOutcome(t, deps);
    }),
  );
  await completing;
};

/**
 * Marks the audited decisions completed, all at once, with the target confirmations the Redshift
 * step left waiting (`ConfirmationWriter.hold`), and once more those not written when time
 * allows: a lost completion is the window where a later message of the decision is audited again.
 */
const completeAll = async (
  completions: readonly { t: Terminal; eventId: string; resolution: Resolution }[],
  deps: WorkerDependencies,
  { finalDeadline: deadline, limitStore, confirmations: writer }: Invocation,
): Promise<void> => {
  if (completions.length === 0) return;
  const held = writer.takeHeld();
  let lastError: unknown;
  const attempt = (
    list: readonly { eventId: string; resolution: Resolution }[],
    confirmations: readonly ConfirmationEntry[],
  ) =>
    limitStore(() =>
      storeCall(deadline, (signal) => {
        const decisions = list.map(({ eventId, resolution }) => ({ eventId, resolution }));
        return confirmations.length === 0
          ? deps.store
              .completeMany(decisions, signal)
              .then((eventIds) => ({ eventIds, targetKeys: [] as string[] }))
          : deps.store.completeAndConfirm(decisions, confirmations, signal);
      }),
    ).catch((error: unknown) => {
      lastError = error;
      return {
        eventIds: list.map(({ eventId }) => eventId),
        targetKeys: confirmations.map(({ targetKey }) => targetKey),
      };
    });
  const entries = held?.entries ?? [];
  let first = await attempt(completions, entries);
  if (first.eventIds.length > 0 || first.targetKeys.length > 0) {
    const [eventIds, targetKeys] = [new Set(first.eventIds), new Set(first.targetKeys)];
    first = await attempt(
      completions.filter((c) => eventIds.has(c.eventId)),
      entries.filter((c) => targetKeys.has(c.targetKey)),
    );
  }
  held?.written(new Set(first.targetKeys));
  const unwritten = new Set(first.eventIds);
  for (const { t, eventId } of completions)
    if (unwritten.has(eventId))
      (t.deliveries[0] as Delivery).log.warn(
        lastError === undefined ? {} : { err: toError(lastError) },
        'could not record the completed decision',
      );
};

const OUTCOME_METRICS: Record<Outcome, MetricName> = {
  [Outcome.Revoked]: MetricName.Revoked,
  [Outcome.AlreadyRevoked]: MetricName.AlreadyRevoked,
  [Outcome.DryRun]: MetricName.DryRun,
  [Outcome.Rejected]: MetricName.Rejected,
  [Outcome.Failed]: MetricName.Failed,
  [Outcome.Superseded]: MetricName.Superseded,
};

const recordOutcome = (t: Terminal, deps: WorkerDependencies): void => {
  deps.metrics.add(OUTCOME_METRICS[t.outcome], 1);
  const primary = t.deliveries[0] as Delivery;
  const state = t.tracked?.state;
  const resolution = state?.kind === 'resolved' ? state.resolution : undefined;
  if (resolution && CONFIRMING_OUTCOMES.has(resolution.outcome) && t.tracked) {
    const issuedAt = Date.parse(t.tracked.decision.request.issuedAt);
    deps.metrics.add(
      MetricName.EnforcementLatency,
      Date.parse(resolution.processedAt) - issuedAt,
      'Milliseconds',
    );
  }
  const level = t.outcome === Outcome.Failed || t.outcome === Outcome.Rejected ? 'warn' : 'info';
  primary.log[level](
    {
      outcome: t.outcome,
      attempts: resolution?.attempts ?? 0,
      ...(resolution?.satisfiedBy && { satisfiedBy: resolution.satisfiedBy }),
      ...(resolution?.error && { error: resolution.error }),
      ...(t.quarantine && { deadLettered: true }),
      duplicatesInBatch: t.deliveries.length - 1,
    },
    `revocation ${t.outcome}`,
  );
};

// ── Step 6: retryable failures come back later, later each time (rule 11); leases end ──────────

/**
 * Delays the messages that must come back and ends every lease this invocation still holds: an
 * invocation that has returned holds nothing, so the return is never "busy" because of it.
 */
export const scheduleRetries = async (
  tracked: Tracked[],
  deps: WorkerDependencies,
  invocation: Invocation,
  fail: (deliveries: readonly Delivery[]) => void,
): Promise<void> => {
  const { finalDeadline: deadline, limitStore, lease } = invocation;
  const retries = tracked.filter((t) => t.state.kind === 'retry' || t.state.kind === 'busy');
  const changes: VisibilityChange[] = [];
  const comeBackAfter = (t: Tracked, seconds: (delivery: Delivery) => number) => {
    for (const delivery of t.decision.deliveries) {
      const queueArn = delivery.record.eventSourceARN;
      if (!queueArn) continue;
      changes.push({
        id: delivery.record.messageId,
        queueUrl: queueUrlFromArn(queueArn),
        receiptHandle: delivery.record.receiptHandle,
        visibilityTimeoutSeconds: seconds(delivery),
      });
    }
  };
  for (const t of retries) {
    fail(t.decision.deliveries);
    const state = t.state;
    if (state.kind === 'busy') {
      // Back just after the holder's lease ends: by then it has finished, or it died and the
      // decision can be taken over. Not sooner: every early return burns a receive.
      const { leaseUntil } = state;
      if (leaseUntil !== undefined) {
        const seconds = Math.min(
          43_200,
          Math.max(1, Math.ceil((leaseUntil - deps.clock()) / 1000) + 1),
        );
        comeBackAfter(t, () => seconds);
      }
      continue;
    }
    if (state.kind !== 'retry') continue;
    t.decision.deliveries[0].log.warn(
      { error: state.error, attempts: state.attempts },
      'revocation not finished; it will be retried',
    );
    // A decision that got no attempt at all (deadline) just comes back with the queue's timeout.
    if (state.attempts === 0) continue;
    deps.metrics.add(MetricName.RetriesScheduled, 1);
    // Never sooner than the queue's own visibility timeout: the backoff exists to give a
    // struggling target more time, not less than any other message gets.
    const floor = deps.settings.queueVisibilityTimeoutSeconds;
    const policy = {
      ...DEFAULT_VISIBILITY_BACKOFF,
      baseSeconds: deps.settings.retryBackoffBaseSeconds,
    };
    comeBackAfter(t, (delivery) =>
      Math.max(floor, visibilityBackoffSeconds(delivery.receiveCount, policy, deps.random)),
    );
  }
  const held = tracked.filter((t) => t.owned);
  await Promise.all([
    changes.length > 0 && deadline.allows(1)
      ? deps.queue
          .changeVisibility(changes, deadline.signal())
          .then((results) => {
            const failed = results.filter((result) => !result.ok).length;
            if (failed > 0)
              deps.logger.warn(
                { failed },
                'some visibility changes failed; those messages return with the queue default',
              );
          })
          .catch((error: unknown) =>
            deps.logger.warn({ err: toError(error) }, 'could not delay the retries'),
          )
      : undefined,
    ...held.map((t) =>
      limitStore(() => {
        t.owned = false;
        return storeCall(deadline, (signal) =>
          deps.store.release(t.decision.eventId, lease.owner, signal),
        ).catch((error: unknown) =>
          t.decision.deliveries[0].log.warn(
            { err: toError(error) },
            'could not end the lease; the decision is free again at this invocation’s deadline',
          ),
        );
      }),
    ),
  ]);
};
