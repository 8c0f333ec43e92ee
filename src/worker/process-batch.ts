import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { serializeAuditDetail } from '../core/audit.js';
import { type Random, visibilityBackoffSeconds } from '../core/backoff.js';
import { deadLetterAttributes, type MessageAttribute } from '../core/dead-letter.js';
import { type Clock, Deadline } from '../core/deadline.js';
import { AwsCallError, DeadlineExceededError, toError } from '../core/errors.js';
import {
  COMPLETED_OUTCOMES,
  CONFIRMING_OUTCOMES,
  Outcome,
  QUARANTINED_OUTCOMES,
} from '../core/outcome.js';
import { queueUrlFromArn } from '../core/sqs-arn.js';
import { callRegionOf, targetKey } from '../core/target.js';
import { decisionAuditDetail, rejectionAuditDetail, type WorkerIdentity } from './audit-detail.js';
import { DisassociationFailedError, disassociateWithRetry } from './disassociate.js';
import type {
  AuditPublisher,
  DataShareRevoker,
  DeadLetterCopy,
  IdempotencyStore,
  MessageQueue,
  Metrics,
  QuarantineStage,
  Resolution,
  VisibilityChange,
} from './ports.js';
import { MetricName } from './ports.js';
import {
  type Decision,
  type Delivery,
  highestReceiveCount,
  prepareBatch,
  type RejectedDelivery,
} from './prepare.js';
import { publishAuditEntries } from './publish-audit.js';
import type { RedshiftGate, Sleep } from './redshift-gate.js';

export interface WorkerSettings {
  region: string;
  auditEventBusName: string;
  auditEventSource: string;
  maxReceiveCount: number;
  clockSkewMarginSeconds: number;
  redshiftMaxAttempts: number;
  redshiftRequestTimeoutMs: number;
  deadlineReserveMs: number;
  dryRun: boolean;
}

export interface WorkerDependencies {
  settings: WorkerSettings;
  revoker: DataShareRevoker;
  audit: AuditPublisher;
  queue: MessageQueue;
  store: IdempotencyStore;
  gate: RedshiftGate;
  metrics: Metrics;
  logger: Logger;
  clock: Clock;
  sleep: Sleep;
  random: Random;
}

/** The handler keeps this much time for returning its response after the last call. */
const RETURN_MARGIN_MS = 500;
/** No Redshift attempt starts with less time than this left before the deadline. */
const MIN_ATTEMPT_MS = 1000;
/** A call the gate held this long re-reads the target's confirmation first (another container may have acted). */
const RECHECK_AFTER_WAIT_MS = 50;
/** Time one `PutEvents` round needs. */
const AUDIT_ROUND_BUDGET_MS = 1000;
const AUDIT_MAX_ROUNDS = 4;
/** DynamoDB calls in flight at once per invocation. */
const STORE_CONCURRENCY = 16;

/** Where a decision stands while the batch is processed. */
type DecisionState =
  | { kind: 'pending' }
  | { kind: 'duplicate' }
  /** Held by another invocation until `leaseUntil` (when known): comes back after it. */
  | { kind: 'busy'; why: string; leaseUntil?: number }
  | { kind: 'resolved'; resolution: Resolution; fromStore: boolean }
  | { kind: 'retry'; error: { code: string; message: string }; attempts: number };

interface Tracked {
  decision: Decision;
  state: DecisionState;
}

/** A message (or decision) headed for a terminal audit event. */
interface Terminal {
  key: string;
  outcome: Outcome;
  deliveries: Delivery[];
  detail: string;
  resources: string[];
  quarantine?: DeadLetterCopy;
  tracked?: Tracked;
}

const errorSummary = (error: unknown): { code: string; message: string } => {
  if (error instanceof DisassociationFailedError) return errorSummary(error.cause);
  if (error instanceof AwsCallError) return { code: error.code, message: error.message };
  if (error instanceof DeadlineExceededError)
    return { code: 'DeadlineExceeded', message: error.message };
  const e = toError(error);
  return { code: e.name || 'Error', message: e.message };
};

const originalAttributes = (delivery: Delivery): Record<string, MessageAttribute> =>
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

/** The quarantine stage of every redelivered message (a first delivery has none). */
const quarantineStages = async (
  deliveries: readonly Delivery[],
  deps: WorkerDependencies,
  limit: ReturnType<typeof pLimit>,
): Promise<Map<string, QuarantineStage>> => {
  const stages = new Map<string, QuarantineStage>();
  await Promise.all(
    deliveries
      .filter((delivery) => delivery.receiveCount > 1)
      .map((delivery) =>
        limit(async () => {
          const stage = await deps.store
            .quarantineStage(delivery.record.messageId)
            .catch(() => undefined);
          if (stage) stages.set(delivery.record.messageId, stage);
        }),
      ),
  );
  return stages;
};

/**
 * Whether a kept resolution answers this decision. A FAILED one only answers the message that
 * failed (its return after a failed audit): a replay is a new message and must act again (rule 6).
 */
const reusable = (resolution: Resolution, decision: Decision): boolean =>
  resolution.outcome !== Outcome.Failed ||
  decision.deliveries.some((delivery) => delivery.record.messageId === resolution.messageId);

// ── Step 1: claim each eventId in the idempotency store (rules 2, 3) ───────────────────────────

const claimDecisions = async (
  tracked: Tracked[],
  leaseUntil: number,
  deps: WorkerDependencies,
  limit: ReturnType<typeof pLimit>,
): Promise<void> => {
  await Promise.all(
    tracked.map((t) =>
      limit(async () => {
        try {
          const claim = await deps.store.claim(t.decision.eventId, leaseUntil);
          if (claim.status === 'completed') t.state = { kind: 'duplicate' };
          else if (claim.status === 'in-progress')
            t.state = {
              kind: 'busy',
              why: `in progress in another invocation until ${new Date(claim.leaseUntil).toISOString()}`,
              leaseUntil: claim.leaseUntil,
            };
          else if (claim.resolution && reusable(claim.resolution, t.decision))
            t.state = { kind: 'resolved', resolution: claim.resolution, fromStore: true };
        } catch (error) {
          t.decision.deliveries[0].log.warn(
            { err: toError(error) },
            'idempotency store unavailable; retrying later',
          );
          t.state = { kind: 'busy', why: 'idempotency store unavailable' };
        }
      }),
    ),
  );
};

/** How long a batch waits, at most, for decisions another invocation holds. */
const MAX_BUSY_WAIT_MS = 5000;
/** The first re-check of a busy decision; each later one waits twice as long, up to 1 s. */
const FIRST_BUSY_RECHECK_MS = 200;

/**
 * Re-checks, with growing pauses, the decisions that another invocation holds: one that completes
 * meanwhile is a duplicate (acknowledged now); one whose holder gave it up is given up here too
 * (it comes back at once, to be processed by whoever receives it). Never past the deadline.
 */
const watchBusyDecisions = async (
  tracked: Tracked[],
  leaseUntil: number,
  deadline: Deadline,
  deps: WorkerDependencies,
): Promise<void> => {
  const busy = tracked.filter((t) => t.state.kind === 'busy' && t.state.leaseUntil !== undefined);
  await Promise.all(
    busy.map(async (t) => {
      let waited = 0;
      for (let pause = FIRST_BUSY_RECHECK_MS; ; pause = Math.min(1000, pause * 2)) {
        if (waited + pause > MAX_BUSY_WAIT_MS || !deadline.allows(pause + AUDIT_ROUND_BUDGET_MS))
          return;
        await deps.sleep(pause);
        waited += pause;
        const claim = await deps.store.claim(t.decision.eventId, leaseUntil).catch(() => undefined);
        if (!claim) return;
        if (claim.status === 'completed') {
          t.state = { kind: 'duplicate' };
          return;
        }
        if (claim.status === 'acquired') {
          // Its holder gave it up (to retry later, or as FAILED): leave it to the queue, at once.
          await deps.store.release(t.decision.eventId).catch(() => undefined);
          t.state = { kind: 'busy', why: 'released by its holder', leaseUntil: deps.clock() };
          return;
        }
        t.state = {
          kind: 'busy',
          why: t.state.kind === 'busy' ? t.state.why : '',
          leaseUntil: claim.leaseUntil,
        };
      }
    }),
  );
};

// ── Step 2: dry runs, confirmations and Redshift calls, one per target (rules 4, 5, 7–11, 16) ──

const resolveDecisions = async (
  tracked: Tracked[],
  deadline: Deadline,
  deps: WorkerDependencies,
  nowIso: () => string,
): Promise<void> => {
  const byTarget = new Map<string, Tracked[]>();
  for (const t of tracked) {
    if (t.state.kind !== 'pending') continue;
    if (deps.settings.dryRun || t.decision.request.dryRun === true) {
      t.state = {
        kind: 'resolved',
        fromStore: false,
        resolution: { outcome: Outcome.DryRun, processedAt: nowIso(), attempts: 0 },
      };
      continue;
    }
    const key = targetKey(t.decision.target);
    byTarget.set(key, [...(byTarget.get(key) ?? []), t]);
  }
  await Promise.all(
    [...byTarget].map(([key, members]) => resolveTarget(key, members, deadline, deps, nowIso)),
  );
};

const resolveTarget = async (
  key: string,
  members: Tracked[],
  deadline: Deadline,
  deps: WorkerDependencies,
  nowIso: () => string,
): Promise<void> => {
  const { settings, store, metrics, clock } = deps;
  const confirmation = await store.getTargetConfirmation(key).catch((error: unknown) => {
    deps.logger.warn(
      { err: toError(error), target: key },
      'could not read the target confirmation; calling Redshift',
    );
    return undefined;
  });
  let callers = members;
  if (confirmation) {
    const cutoff = confirmation.confirmedAt - settings.clockSkewMarginSeconds * 1000;
    callers = [];
    for (const member of members) {
      if (Date.parse(member.decision.request.issuedAt) < cutoff) {
        member.state = {
          kind: 'resolved',
          fromStore: false,
          resolution: {
            outcome: Outcome.AlreadyRevoked,
            processedAt: nowIso(),
            attempts: 0,
            satisfiedBy: confirmation.eventId,
          },
        };
      } else {
        callers.push(member);
      }
    }
  }
  const [leader] = callers;
  if (!leader) return;
  const { target } = leader.decision;
  const log = leader.decision.deliveries[0].log;
  try {
    const { result, attempts, satisfiedBy } = await disassociateWithRetry(target, {
      revoker: deps.revoker,
      gate: deps.gate,
      region: callRegionOf(target, settings.region),
      deadline,
      maxAttempts: settings.redshiftMaxAttempts,
      requestTimeoutMs: settings.redshiftRequestTimeoutMs,
      minAttemptMs: MIN_ATTEMPT_MS,
      random: deps.random,
      sleep: deps.sleep,
      onAttempt: () => metrics.add(MetricName.RedshiftAttempts, 1),
      satisfiedMeanwhile: async (waitedMs) => {
        // Only worth a read when the gate held the call long enough for another container to act.
        if (waitedMs < RECHECK_AFTER_WAIT_MS) return undefined;
        const latest = await store.getTargetConfirmation(key).catch(() => undefined);
        if (!latest) return undefined;
        const cutoff = latest.confirmedAt - settings.clockSkewMarginSeconds * 1000;
        const all = callers.every(
          (member) => Date.parse(member.decision.request.issuedAt) < cutoff,
        );
        return all ? latest.eventId : undefined;
      },
      onRetryableFailure: (error) => {
        if (error.kind === 'throttled') metrics.add(MetricName.Throttles, 1);
        log.warn(
          { code: error.code, httpStatusCode: error.httpStatusCode },
          'Redshift call failed; will retry',
        );
      },
    });
    const confirmedAt = clock();
    const processedAt = new Date(confirmedAt).toISOString();
    for (const member of callers) {
      member.state = {
        kind: 'resolved',
        fromStore: false,
        resolution: satisfiedBy
          ? { outcome: Outcome.AlreadyRevoked, processedAt, attempts, satisfiedBy }
          : { outcome: result.outcome, processedAt, attempts, associations: result.associations },
      };
    }
    // A confirmation read from the store is not ours to record again.
    if (satisfiedBy) return;
    await store
      .confirmTarget(key, { confirmedAt, eventId: leader.decision.eventId })
      .catch((error: unknown) => {
        log.warn({ err: toError(error) }, 'could not record the target confirmation');
      });
  } catch (error) {
    const summary = errorSummary(error);
    const retryable = !(error instanceof DisassociationFailedError) || error.retryable;
    const attempts = error instanceof DisassociationFailedError ? error.attempts : 0;
    for (const member of callers) {
      const lastReceive = highestReceiveCount(member.decision) >= settings.maxReceiveCount;
      member.state =
        retryable && !lastReceive
          ? { kind: 'retry', error: summary, attempts }
          : {
              kind: 'resolved',
              fromStore: false,
              resolution: {
                outcome: Outcome.Failed,
                processedAt: nowIso(),
                attempts,
                error: summary,
              },
            };
    }
    if (!(error instanceof DisassociationFailedError))
      log.error({ err: toError(error) }, 'unexpected error calling Redshift');
  }
};

// ── Step 3: terminal outcomes become dead-letter copies and audit entries (rules 12, 13) ────────

const resourcesOf = (dataShareArn: string, consumerArn: string | undefined): string[] =>
  consumerArn ? [dataShareArn, consumerArn] : [dataShareArn];

const terminalOfDecision = (
  t: Tracked,
  worker: WorkerIdentity,
  deps: WorkerDependencies,
): Terminal[] => {
  if (t.state.kind !== 'resolved') return [];
  const { decision } = t;
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

const terminalOfRejection = (
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

const deadLetterCopy = (
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
const quarantine = async (
  terminals: Terminal[],
  stages: ReadonlyMap<string, QuarantineStage>,
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
  const results = await deps.queue
    .sendToDeadLetterQueue(copies, deadline.signal())
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

// ── Step 4: settle what the audit accepted (rule 14) ───────────────────────────────────────────

const settle = async (
  auditable: Terminal[],
  published: Map<string, { ok: boolean; code?: string; message?: string }>,
  leaseUntil: number,
  deps: WorkerDependencies,
  limit: ReturnType<typeof pLimit>,
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

const scheduleRetries = async (
  retries: Tracked[],
  deadline: Deadline,
  deps: WorkerDependencies,
  limit: ReturnType<typeof pLimit>,
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
