import { visibilityBackoffSeconds } from '../core/backoff.js';
import type { Deadline } from '../core/deadline.js';
import { toError } from '../core/errors.js';
import { COMPLETED_OUTCOMES, CONFIRMING_OUTCOMES, Outcome } from '../core/outcome.js';
import { queueUrlFromArn } from '../core/sqs-arn.js';
import type { StoreLimit, Terminal, Tracked, WorkerDependencies } from './batch-state.js';
import type { VisibilityChange } from './ports.js';
import { MetricName } from './ports.js';
import type { Delivery } from './prepare.js';

// ── Step 4: settle what the audit accepted (rule 14) ───────────────────────────────────────────

export const settle = async (
  auditable: Terminal[],
  published: Map<string, { ok: boolean; code?: string; message?: string }>,
  leaseUntil: number,
  deps: WorkerDependencies,
  limit: StoreLimit,
  fail: (deliveries: readonly Delivery[]) => void,
): Promise<void> => {
  await Promise.all(
    auditable.map((t) =>
      limit(async () => {
        const result = published.get(t.key);
        const primary = t.deliveries[0] as Delivery;
        if (!result?.ok) {
          fail(t.deliveries);
          primary.log.error(
            { code: result?.code, error: result?.message },
            'audit event not accepted; the message will come back',
          );
          if (t.quarantine)
            await deps.store
              .markQuarantined(primary.record.messageId, 'copied')
              .catch(() => undefined);
          const state = t.tracked?.state;
          if (t.tracked && state?.kind === 'resolved' && !state.fromStore) {
            // Keep the outcome, so the return is audited without a second Redshift call (rule 13).
            const resolution = { ...state.resolution, messageId: primary.record.messageId };
            await deps.store
              .resolve(t.tracked.decision.eventId, resolution, leaseUntil)
              .catch((error: unknown) =>
                primary.log.warn(
                  { err: toError(error) },
                  'could not keep the resolution; the return will call Redshift again',
                ),
              );
          }
          return;
        }
        if (t.quarantine) {
          await deps.store
            .markQuarantined(primary.record.messageId, 'settled')
            .catch((error: unknown) =>
              primary.log.warn({ err: toError(error) }, 'could not record the finished quarantine'),
            );
        }
        const tracked = t.tracked;
        if (tracked && tracked.state.kind === 'resolved') {
          const { resolution } = tracked.state;
          const eventId = tracked.decision.eventId;
          const write = COMPLETED_OUTCOMES.has(resolution.outcome)
            ? deps.store.complete(eventId, resolution)
            : deps.store.release(eventId);
          await write.catch((error: unknown) =>
            primary.log.error({ err: toError(error) }, 'could not record the completed decision'),
          );
        }
        recordOutcome(t, deps);
      }),
    ),
  );
};

const OUTCOME_METRICS: Record<Outcome, MetricName> = {
  [Outcome.Revoked]: MetricName.Revoked,
  [Outcome.AlreadyRevoked]: MetricName.AlreadyRevoked,
  [Outcome.DryRun]: MetricName.DryRun,
  [Outcome.Rejected]: MetricName.Rejected,
  [Outcome.Failed]: MetricName.Failed,
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

// ── Step 5: retryable failures come back later, later each time (rule 11) ─────────────────────

export const scheduleRetries = async (
  retries: Tracked[],
  deadline: Deadline,
  deps: WorkerDependencies,
  limit: StoreLimit,
  fail: (deliveries: readonly Delivery[]) => void,
): Promise<void> => {
  if (retries.length === 0) return;
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
    comeBackAfter(t, (delivery) =>
      visibilityBackoffSeconds(delivery.receiveCount, undefined, deps.random),
    );
  }
  await Promise.all([
    changes.length > 0
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
    ...retries
      .filter((t) => t.state.kind === 'retry')
      .map((t) => limit(() => deps.store.release(t.decision.eventId).catch(() => undefined))),
  ]);
};
