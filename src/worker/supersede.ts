import { toError } from '../core/errors.js';
import { Outcome } from '../core/outcome.js';
import { activeAssociationsOf, supersessionOf } from '../core/supersession.js';
import { storeCall, type Tracked, type WorkerDependencies } from './batch-state.js';
import { type RetryOptions, withRedshiftRetry } from './disassociate.js';

// ── Step 2a: an old decision meets the target's associations before it acts (SUPERSEDED) ──────

/**
 * Reads the target's associations (`DescribeDataShares`, every page) through the same gate,
 * deadline, retries and credentials as the disassociate call, and settles what it can without
 * that call:
 * - no ACTIVE association for the target: every member is ALREADY_REVOKED, and the read is a
 *   confirmation (rule 5) from when it was sent;
 * - every ACTIVE association changed after a member's `issuedAt` + `CLOCK_SKEW_MARGIN_SECONDS`:
 *   that member is SUPERSEDED — completed, audited, but no confirmation is recorded: the consumer
 *   still has access, and a later decision must act;
 * - the others still need the call: they are returned.
 * A read whose answer was lost is simply read again: it changes nothing.
 *
 * @throws {DisassociationFailedError} when the read failed for good or ran out of attempts or time
 * (the members then fail or come back exactly as if the call itself had).
 */
export const checkSupersession = async (
  key: string,
  members: Tracked[],
  retry: Omit<RetryOptions, 'revoker' | 'satisfiedMeanwhile'>,
  deps: WorkerDependencies,
  nowIso: () => string,
): Promise<{ attempts: number; callers: Tracked[] }> => {
  const [first] = members;
  if (!first) return { attempts: 0, callers: [] };
  const { target } = first.decision;
  const log = first.decision.deliveries[0].log;
  const {
    result: read,
    attempts,
    sentAt,
  } = await withRedshiftRetry(target, retry, (signal) =>
    deps.revoker.describeAssociations(target, {
      region: retry.region,
      assumeRole: retry.assumeRole,
      signal,
    }),
  );
  const answered = {
    attempts,
    associations: read.associations,
    actor: read.actor,
    ...(read.requestId !== undefined && { redshiftRequestId: read.requestId }),
  };
  const active = activeAssociationsOf(target, read.associations);
  if (active.length === 0) {
    const processedAt = nowIso();
    for (const member of members)
      member.state = {
        kind: 'resolved',
        fromStore: false,
        resolution: { outcome: Outcome.AlreadyRevoked, processedAt, ...answered },
      };
    log.info({ target: key }, 'stale check: no ACTIVE association; nothing to revoke');
    await storeCall(retry.deadline, (signal) =>
      deps.store.confirmTarget(
        key,
        { confirmedAt: sentAt, eventId: first.decision.eventId },
        signal,
      ),
    ).catch((error: unknown) => {
      log.warn({ err: toError(error) }, 'could not record the target confirmation');
    });
    return { attempts, callers: [] };
  }
  const callers: Tracked[] = [];
  for (const member of members) {
    const verdict = supersessionOf(
      Date.parse(member.decision.request.issuedAt),
      active,
      deps.settings.clockSkewMarginSeconds,
    );
    if (verdict.kind !== 'superseded') {
      callers.push(member);
      continue;
    }
    const supersededBy = {
      associationChangedAt: verdict.associationChangedAt,
      status: verdict.status,
    };
    member.state = {
      kind: 'resolved',
      fromStore: false,
      resolution: { outcome: Outcome.Superseded, processedAt: nowIso(), ...answered, supersededBy },
    };
    member.decision.deliveries[0].log.info(
      { supersededBy, issuedAt: member.decision.request.issuedAt },
      'stale decision: the target was associated again after it; not revoking',
    );
  }
  return { attempts, callers };
};
