import type { Logger } from 'pino';
import { isOldDecision } from '../core/decision-age.js';
import { DeadlineExceededError, FailureKind, RedshiftCallError, toError } from '../core/errors.js';
import { Outcome } from '../core/outcome.js';
import { callRegionOf, targetKey } from '../core/target.js';
import {
  errorSummary,
  type Invocation,
  MIN_ATTEMPT_MS,
  RECHECK_AFTER_AGE_MS,
  RECHECK_AFTER_WAIT_MS,
  storeCall,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import { refreshConfirmations } from './claim.js';
import { DisassociationFailedError, disassociateWithRetry } from './disassociate.js';
import { MetricName } from './ports.js';
import { highestReceiveCount } from './prepare.js';

// ── Step 2: dry runs, confirmations, stale checks and Redshift calls, one per target (rules 4, 5, 7–11, 16) ──

/** What the Redshift step uses of the invocation. */
type ResolveInvocation = Pick<
  Invocation,
  | 'redshiftDeadline'
  | 'finalDeadline'
  | 'scope'
  | 'breaker'
  | 'targetConfirmations'
  | 'confirmations'
  | 'pendingWrites'
>;

export const resolveDecisions = async (
  tracked: Tracked[],
  invocation: ResolveInvocation,
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
  // Read again at once, just before the calls, the targets whose batch read is getting old.
  await refreshConfirmations([...byTarget.keys()], deps, invocation);
  await Promise.all(
    [...byTarget].map(([key, members]) => resolveTarget(key, members, invocation, deps, nowIso)),
  );
};

const resolveTarget = async (
  key: string,
  members: Tracked[],
  invocation: ResolveInvocation,
  deps: WorkerDependencies,
  nowIso: () => string,
): Promise<void> => {
  const { settings, store, metrics, clock } = deps;
  const { redshiftDeadline: deadline, breaker, targetConfirmations: known } = invocation;
  const ownAccountId = invocation.scope.ownAccountId;
  // Read with the batch's decisions when that read succeeded; on its own otherwise. Store calls
  // of this phase end with it: the audit's reserve is not theirs to spend.
  const fromBatch = known.byKey.has(key);
  const readAt = fromBatch ? known.readAt : clock();
  const read = () =>
    fromBatch
      ? Promise.resolve(known.byKey.get(key))
      : storeCall(deadline, (signal) => store.getTargetConfirmation(key, signal));
  const confirmation = await read().catch((error: unknown) => {
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
  if (callers.length === 0) return;
  const log = (callers[0] as Tracked).decision.deliveries[0].log;
  const { target } = (callers[0] as Tracked).decision;
  const region = callRegionOf(target, settings.region);
  // A reservation is given back only when no disassociate call of this target can have taken
  // effect: a transient failure (timeout, 5xx, reset) may have landed with its answer lost, so it
  // stays counted (the breaker errs high, never low).
  let mayHaveLanded = false;
  const retry = {
    // One adaptive rate per control plane: a throttle in one account never slows another.
    gate: deps.gate.for(target.accountId, region),
    region,
    // Hub and spoke: in a consumer account, as its consumer role; in our own, as ourselves.
    assumeRole: target.accountId !== ownAccountId,
    deadline,
    maxAttempts: settings.redshiftMaxAttempts,
    requestTimeoutMs: settings.redshiftRequestTimeoutMs,
    minAttemptMs: MIN_ATTEMPT_MS,
    random: deps.random,
    sleep: deps.sleep,
    clock,
    onAttempt: () => metrics.add(MetricName.RedshiftAttempts, 1),
    onRetryableFailure: (error: RedshiftCallError) => {
      if (error.kind === FailureKind.Transient) mayHaveLanded = true;
      if (error.kind === 'throttled') metrics.add(MetricName.Throttles, 1);
      log.warn(
        { code: error.code, httpStatusCode: error.httpStatusCode },
        'Redshift call failed; will retry',
      );
    },
  };
  // The breaker counts the call before any Redshift call for it, the stale check's included (and
  // sets the callers' state when it may not be made).
  const reservation = breaker
    ? await breaker.reserve(callers, deadline, invocation.finalDeadline, deps)
    : undefined;
  if (breaker && reservation === undefined) return;
  const giveBackReservation = async () => {
    if (reservation !== undefined && !mayHaveLanded)
      await breaker?.release(reservation, deadline, deps);
  };
  let checkAttempts = 0;
  try {
    // Old decisions first read the target's associations: a consumer associated again after the
    // decision must not lose that newer grant (SUPERSEDED). Fresh ones take no extra call.
    if (
      callers.some((member) => isOldDecision(ageOf(member), clock(), settings.staleAfterSeconds))
    ) {
      // Read at the first old decision, not at cold start.
      const { checkSupersession } = await import('./supersede.js');
      const checked = await checkSupersession(key, callers, retry, deps, nowIso);
      checkAttempts = checked.attempts;
      callers = checked.callers;
    }
  } catch (error) {
    // A describe never revokes: whatever failed, the place goes back.
    mayHaveLanded = false;
    await giveBackReservation();
    failCallers(callers, error, 0, settings.maxReceiveCount, log, nowIso);
    return;
  }
  // Only the disassociate call's own failures say whether it may have landed.
  mayHaveLanded = false;
  const [leader] = callers;
  if (!leader) {
    await giveBackReservation();
    return;
  }
  try {
    const {
      result,
      attempts: callAttempts,
      sentAt,
      satisfiedBy,
    } = await disassociateWithRetry(target, {
      ...retry,
      revoker: deps.revoker,
      satisfiedMeanwhile: async (waitedMs) => {
        // Only worth a read when the gate held the call, or the last read is old enough, for
        // another container to have acted meanwhile.
        if (waitedMs < RECHECK_AFTER_WAIT_MS && clock() - readAt < RECHECK_AFTER_AGE_MS)
          return undefined;
        const latest = await storeCall(deadline, (signal) =>
          store.getTargetConfirmation(key, signal),
        ).catch(() => undefined);
        if (!latest) return undefined;
        const cutoff = latest.confirmedAt - settings.clockSkewMarginSeconds * 1000;
        const all = callers.every(
          (member) => Date.parse(member.decision.request.issuedAt) < cutoff,
        );
        return all ? latest.eventId : undefined;
      },
    });
    // Every Redshift call made for the decisions: the read of the associations too.
    const attempts = checkAttempts + callAttempts;
    // Rule 5 counts from when the successful call was sent, not from its answer: a consumer
    // associated again while the call (and any describe pages) was under way is not covered.
    const confirmedAt = sentAt;
    const processedAt = new Date(clock()).toISOString();
    for (const member of callers) {
      member.state = {
        kind: 'resolved',
        fromStore: false,
        resolution: satisfiedBy
          ? { outcome: Outcome.AlreadyRevoked, processedAt, attempts, satisfiedBy }
          : {
              outcome: result.outcome,
              processedAt,
              attempts,
              associations: result.associations,
              ...(result.actor && { actor: result.actor }),
              ...(result.requestId !== undefined && { redshiftRequestId: result.requestId }),
            },
      };
    }
    if (satisfiedBy || result.outcome !== Outcome.Revoked) await giveBackReservation();
    // A confirmation read from the store is not ours to record again. The audit does not wait
    // for it: it is written while the batch publishes and settles, and awaited before returning.
    if (satisfiedBy) return;
    invocation.pendingWrites.push(
      invocation.confirmations
        .confirm(key, { confirmedAt, eventId: leader.decision.eventId })
        .catch((error: unknown) => {
          log.warn({ err: toError(error) }, 'could not record the target confirmation');
        }),
    );
  } catch (error) {
    const last = error instanceof DisassociationFailedError ? error.cause : error;
    if (!(last instanceof RedshiftCallError) || last.kind === FailureKind.Transient)
      mayHaveLanded ||= !(last instanceof DeadlineExceededError);
    await giveBackReservation();
    failCallers(callers, error, checkAttempts, settings.maxReceiveCount, log, nowIso);
  }
};

/**
 * The decisions whose target the Redshift step will most likely call, one per target, as the
 * batch's read left them: new (`unheld`: this invocation claims them next), not dry runs, fresh
 * (no stale check first), their target with no confirmation. What the breaker reserves early.
 * With fresh traffic (`claimAhead`) they are reserved before the read: every target counts as
 * unconfirmed, and a reservation no call takes is given back after the Redshift step.
 */
export const likelyCallers = (
  candidates: readonly Tracked[],
  unheld: ReadonlySet<string>,
  invocation: Pick<Invocation, 'targetConfirmations'>,
  deps: Pick<WorkerDependencies, 'settings' | 'clock'>,
  targets: 'read' | 'not read yet' = 'read',
): Tracked[] => {
  const leaders = new Map<string, Tracked>();
  const now = deps.clock();
  for (const t of candidates) {
    const key = targetKey(t.decision.target);
    const known = invocation.targetConfirmations.byKey;
    if (
      t.state.kind === 'pending' &&
      unheld.has(t.decision.eventId) &&
      !deps.settings.dryRun &&
      t.decision.request.dryRun !== true &&
      (targets === 'not read yet' || (known.has(key) && known.get(key) === undefined)) &&
      !isOldDecision(ageOf(t), now, deps.settings.staleAfterSeconds) &&
      !leaders.has(key)
    )
      leaders.set(key, t);
  }
  return [...leaders.values()];
};

/** The age of a decision, for `isOldDecision`. */
export const ageOf = ({ decision }: Tracked) => ({
  issuedAtMs: Date.parse(decision.request.issuedAt),
  replayed: decision.deliveries.some((delivery) => delivery.replayed),
  receiveCount: highestReceiveCount(decision),
});

/**
 * The Redshift work for `callers` failed: a retryable failure comes back later (rule 11), except
 * at the last receive; anything else is FAILED.
 */
const failCallers = (
  callers: Tracked[],
  error: unknown,
  earlierAttempts: number,
  maxReceiveCount: number,
  log: Logger,
  nowIso: () => string,
): void => {
  const summary = errorSummary(error);
  const retryable = !(error instanceof DisassociationFailedError) || error.retryable;
  const attempts =
    earlierAttempts + (error instanceof DisassociationFailedError ? error.attempts : 0);
  for (const member of callers) {
    const lastReceive = highestReceiveCount(member.decision) >= maxReceiveCount;
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
};
