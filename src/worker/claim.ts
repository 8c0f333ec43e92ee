import type { Deadline } from '../core/deadline.js';
import { toError } from '../core/errors.js';
import { Outcome } from '../core/outcome.js';
import { targetKey } from '../core/target.js';
import {
  BusyReason,
  type Invocation,
  MIN_ATTEMPT_MS,
  MIN_STORE_CALL_MS,
  RECHECK_AFTER_WAIT_MS,
  storeCall,
  type Tracked,
  type WorkerDependencies,
} from './batch-state.js';
import { type ClaimResult, messageIdsOf, type QuarantineStage, type Resolution } from './ports.js';
import { type Decision, type Delivery, highestReceiveCount } from './prepare.js';

// ── Step 1: claim each eventId in the idempotency store, and watch those held elsewhere (rules 2, 3, 14)

/** A redelivered message's quarantine stage could not be read: it may already be copied. */
export const UNKNOWN_STAGE = 'unknown' as const;
export type KnownStage = QuarantineStage | typeof UNKNOWN_STAGE;

/**
 * The quarantine stage of every redelivered message (a first delivery has none), or
 * `UNKNOWN_STAGE` when the store could not say: such a message may have been copied and audited
 * already, and must not be taken for one that was not. For decisions, read after the claim: a
 * holder that settled the decision marked its messages before it let go of the decision, so a
 * claim that got the decision sees those marks.
 */
export const quarantineStages = async (
  deliveries: readonly Delivery[],
  deps: WorkerDependencies,
  invocation: Pick<Invocation, 'limitStore'>,
  deadline: Deadline,
): Promise<Map<string, KnownStage>> => {
  const stages = new Map<string, KnownStage>();
  await Promise.all(
    deliveries
      .filter((delivery) => delivery.receiveCount > 1)
      .map((delivery) =>
        invocation.limitStore(async () => {
          const stage = await storeCall(deadline, (signal) =>
            deps.store.quarantineStage(delivery.record.messageId, signal),
          ).catch((error: unknown) => {
            delivery.log.warn(
              { err: toError(error) },
              'could not read how far this message was dead-lettered and audited',
            );
            return UNKNOWN_STAGE;
          });
          if (stage) stages.set(delivery.record.messageId, stage);
        }),
      ),
  );
  return stages;
};

/**
 * Whether a kept resolution answers this decision. A FAILED one only answers the messages that
 * failed (their return after a failed audit): a replay is a new message and must act again (rule 6).
 */
export const reusable = (resolution: Resolution, decision: Decision): boolean => {
  if (resolution.outcome !== Outcome.Failed) return true;
  const owners = new Set(messageIdsOf(resolution));
  return decision.deliveries.some((delivery) => owners.has(delivery.record.messageId));
};

const applyClaim = (t: Tracked, claim: ClaimResult): void => {
  if (claim.status === 'completed') {
    t.state = { kind: 'duplicate' };
    return;
  }
  if (claim.status === 'in-progress') {
    t.state = {
      kind: 'busy',
      why: BusyReason.InProgressElsewhere,
      detail: `in progress in another invocation until ${new Date(claim.leaseUntil).toISOString()}`,
      leaseUntil: claim.leaseUntil,
    };
    return;
  }
  t.owned = true;
  t.state =
    claim.resolution && reusable(claim.resolution, t.decision)
      ? { kind: 'resolved', resolution: claim.resolution, fromStore: true }
      : { kind: 'pending' };
};

/**
 * Reads, in one batched request, whether each decision is already completed and each target's
 * confirmation (rule 5). A completed decision is a duplicate at once — a strongly consistent read
 * of a COMPLETED item is final for the dedup window, so no claim is needed to know it; the
 * confirmations are kept for the Redshift step. Returns the eventIds the store had no decision
 * for: `claimDecisions` takes those in one request. If the read fails, nothing is lost: every
 * decision is claimed and every target read on its own, as without it.
 */
export const readSnapshot = async (
  tracked: Tracked[],
  deps: WorkerDependencies,
  invocation: Pick<Invocation, 'redshiftDeadline' | 'targetConfirmations'>,
): Promise<ReadonlySet<string>> => {
  const unheld = new Set<string>();
  if (tracked.length === 0) return unheld;
  const calling = (t: Tracked) => !deps.settings.dryRun && t.decision.request.dryRun !== true;
  const targetKeys = [...new Set(tracked.filter(calling).map((t) => targetKey(t.decision.target)))];
  const eventIds = tracked.map((t) => t.decision.eventId);
  try {
    const readAt = deps.clock();
    const snapshot = await storeCall(invocation.redshiftDeadline, (signal) =>
      deps.store.readMany({ eventIds, targetKeys }, signal),
    );
    invocation.targetConfirmations.readAt = readAt;
    for (const t of tracked) {
      if (snapshot.completed.has(t.decision.eventId)) t.state = { kind: 'duplicate' };
      else if (!snapshot.held.has(t.decision.eventId)) unheld.add(t.decision.eventId);
    }
    for (const [key, confirmation] of snapshot.confirmations)
      invocation.targetConfirmations.byKey.set(key, confirmation);
  } catch (error) {
    deps.logger.warn(
      { err: toError(error) },
      'could not read the batch’s decisions and targets at once; claiming and reading each',
    );
  }
  return unheld;
};

/**
 * Just before the Redshift calls: when the batch's read is older than a gate wait worth a
 * re-read (its claims took that long), the targets about to be called are read again, at once —
 * meanwhile another container may have confirmed one. If that read fails, each is read on its own.
 */
export const refreshConfirmations = async (
  targetKeys: readonly string[],
  deps: WorkerDependencies,
  invocation: Pick<Invocation, 'redshiftDeadline' | 'targetConfirmations'>,
): Promise<void> => {
  const known = invocation.targetConfirmations;
  const stale = targetKeys.filter((key) => known.byKey.has(key));
  if (stale.length === 0 || deps.clock() - known.readAt < RECHECK_AFTER_WAIT_MS) return;
  try {
    const readAt = deps.clock();
    const snapshot = await storeCall(invocation.redshiftDeadline, (signal) =>
      deps.store.readMany({ eventIds: [], targetKeys: stale }, signal),
    );
    known.readAt = readAt;
    for (const [key, confirmation] of snapshot.confirmations) known.byKey.set(key, confirmation);
  } catch {
    for (const key of stale) known.byKey.delete(key);
  }
};

/** Fewer new decisions than this are claimed one at a time. */
const MIN_JOINT_CLAIM = 2;

/**
 * Per container (its dependencies): whether its last batch was fresh traffic — only first
 * deliveries of decisions the store had never seen, for targets it had no confirmation of (each
 * one a call). A storm's batches are not: they hold duplicates and targets revoked already.
 * Unset, for a new container: yes.
 */
const lastBatchFresh = new WeakMap<WorkerDependencies, boolean>();

/** Only first deliveries are claimed ahead: a redelivery's decision may be held or kept already. */
const firstDelivery = (t: Tracked) => t.decision.deliveries.every((d) => d.receiveCount === 1);

/**
 * Fresh traffic: while a container's batches are fresh (`lastBatchFresh`), a batch's joint claim
 * (`claimNew`) is sent with its read instead of after it — one store round trip before the first
 * Redshift call instead of two — and so are the breaker's early reservations (`likelyCallers`).
 * Returns the claim's answer (the eventIds now this lease's: all or none), or nothing when the
 * batch does not qualify. Never rejects: a failed claim is an empty set, and the batch claims as
 * without it (`claimDecisions`) — a cancelled transaction wrote nothing, and one that took effect
 * with its answer lost is found as this lease's own by `claim`. A batch that is not fresh (a
 * duplicate, a decision held elsewhere, a redelivery, a target confirmed already, a failed read)
 * turns this off until one is fresh again: in a storm, claims and reservations wait for the read,
 * which spares a cancelled claim and the reservations of targets revoked already.
 */
export const claimAhead = (
  tracked: readonly Tracked[],
  deps: WorkerDependencies,
  invocation: Pick<Invocation, 'redshiftDeadline' | 'lease' | 'limitStore'>,
): { eventIds: ReadonlySet<string>; claimed: Promise<ReadonlySet<string>> } | undefined => {
  if (lastBatchFresh.get(deps) === false) return undefined;
  if (tracked.length < MIN_JOINT_CLAIM || !tracked.every(firstDelivery)) return undefined;
  const eventIds = new Set(tracked.map((t) => t.decision.eventId));
  const claimed = invocation
    .limitStore(() =>
      storeCall(invocation.redshiftDeadline, (signal) =>
        deps.store.claimNew([...eventIds], invocation.lease, signal),
      ),
    )
    .catch((error: unknown): ReadonlySet<string> => {
      deps.logger.warn(
        { err: toError(error) },
        'could not claim the batch’s decisions with its read; claiming after it',
      );
      return new Set();
    });
  return { eventIds, claimed };
};

/** A claim that failed is tried once more after this pause, when the deadline allows. */
const CLAIM_RETRY_PAUSE_MS = 100;

/**
 * Claims every decision: those the batch's read found no decision for (`unheld`) at once, in one
 * request, and the others — and any the joint claim did not take — one at a time. Claims belong to
 * the acting phase: they end by the Redshift deadline, so that a slow store leaves the reserve to
 * dead-letter and audit what it held up.
 */
export const claimDecisions = async (
  tracked: Tracked[],
  deps: WorkerDependencies,
  invocation: Invocation,
  unheld: ReadonlySet<string>,
  ahead?: ReturnType<typeof claimAhead>,
): Promise<void> => {
  const { redshiftDeadline: deadline, lease } = invocation;
  const claimedAhead = (await ahead?.claimed) ?? new Set<string>();
  // Ours, whatever the read saw: it may have seen the claim itself (held) or, within a second of
  // a decision's window ending, a decision the claim found expired.
  for (const t of tracked)
    if (claimedAhead.has(t.decision.eventId)) applyClaim(t, { status: 'acquired' });
  const confirmations = invocation.targetConfirmations.byKey;
  lastBatchFresh.set(
    deps,
    tracked.every((t) => {
      const target = targetKey(t.decision.target);
      return (
        firstDelivery(t) &&
        (claimedAhead.has(t.decision.eventId) || unheld.has(t.decision.eventId)) &&
        confirmations.has(target) &&
        confirmations.get(target) === undefined
      );
    }),
  );
  const fresh = tracked.filter(
    (t) => t.state.kind === 'pending' && !t.owned && unheld.has(t.decision.eventId),
  );
  // One alone is one conditional write either way, and a transaction's writes cost DynamoDB twice.
  if (fresh.length >= MIN_JOINT_CLAIM) {
    const claimed = await invocation
      .limitStore(() =>
        storeCall(deadline, (signal) =>
          deps.store.claimNew(
            fresh.map((t) => t.decision.eventId),
            lease,
            signal,
          ),
        ),
      )
      .catch((error: unknown) => {
        deps.logger.warn(
          { err: toError(error) },
          'could not claim the batch’s new decisions at once; claiming each',
        );
        return new Set<string>();
      });
    for (const t of fresh)
      if (claimed.has(t.decision.eventId)) applyClaim(t, { status: 'acquired' });
  }
  const claimOnce = (eventId: string) =>
    storeCall(deadline, (signal) => deps.store.claim(eventId, lease, signal));
  await Promise.all(
    tracked
      .filter((t) => t.state.kind === 'pending' && !t.owned)
      .map((t) =>
        invocation.limitStore(async () => {
          try {
            applyClaim(
              t,
              await claimOnce(t.decision.eventId).catch(async (error: unknown) => {
                // One more try: the SDK retries nothing. If the first claim landed and only its
                // answer was lost, the lease's owner makes this one find it ours.
                // Only while the decision could still be acted on after it.
                if (!deadline.allows(CLAIM_RETRY_PAUSE_MS + 2 * MIN_ATTEMPT_MS)) throw error;
                t.decision.deliveries[0].log.warn(
                  { err: toError(error) },
                  'claim failed; trying once more',
                );
                await deps.sleep(CLAIM_RETRY_PAUSE_MS);
                return claimOnce(t.decision.eventId);
              }),
            );
          } catch (error) {
            t.decision.deliveries[0].log.warn(
              { err: toError(error) },
              'idempotency store unavailable; the message will come back',
            );
            t.state = {
              kind: 'busy',
              why: BusyReason.StoreUnavailable,
              detail: `idempotency store unavailable: ${toError(error).message}`,
            };
          }
        }),
      ),
  );
};

/** How long a batch waits, at most, for decisions another invocation holds. */
const MAX_BUSY_WAIT_MS = 5000;
/**
 * A busy decision is re-checked this often. Not growing: a holder's batch ends when its own slowest
 * call does, so a watcher that doubled its pauses (200, 400, 800 ms, …) saw it end up to a second
 * late, holding its own batch and every message in it that long (storm drain, `--worker-only`, 4
 * paired runs: 1.166–1.183 against 1.187–1.209). The cost is one conditional claim request per
 * 200 ms of watching, on the few messages a storm finds held elsewhere (≈ 1 %).
 */
const BUSY_RECHECK_MS = 200;

/**
 * Re-checks, every `BUSY_RECHECK_MS`, the decisions that another invocation holds: one that
 * completes meanwhile is a duplicate (acknowledged now); one whose holder kept a resolution and let
 * go is taken up (audited now, without a Redshift call); one whose holder let go with nothing kept is
 * given back (it comes back at once, to be processed by whoever receives it). Ends by the Redshift
 * deadline, so the batch's own audit keeps its reserve. At the last receive it waits as long as
 * that allows: the message has no later receive to come back to.
 */
export const watchBusyDecisions = async (
  tracked: Tracked[],
  deps: WorkerDependencies,
  invocation: Invocation,
): Promise<void> => {
  const { redshiftDeadline: deadline, lease } = invocation;
  const busy = tracked.filter((t) => t.state.kind === 'busy' && t.state.leaseUntil !== undefined);
  await Promise.all(
    busy.map(async (t) => {
      const lastReceive = highestReceiveCount(t.decision) >= deps.settings.maxReceiveCount;
      const maxWait = lastReceive ? Number.POSITIVE_INFINITY : MAX_BUSY_WAIT_MS;
      const pause = BUSY_RECHECK_MS;
      for (let waited = pause; ; waited += pause) {
        if (waited > maxWait || !deadline.allows(pause + MIN_STORE_CALL_MS)) return;
        await deps.sleep(pause);
        const claim = await storeCall(deadline, (signal) =>
          deps.store.claim(t.decision.eventId, lease, signal),
        ).catch(() => undefined);
        if (!claim) return;
        if (claim.status === 'in-progress') {
          if (t.state.kind === 'busy') t.state = { ...t.state, leaseUntil: claim.leaseUntil };
          continue;
        }
        applyClaim(t, claim);
        if (t.state.kind === 'pending') {
          // Its holder gave it up with nothing kept (to retry later): this batch's Redshift phase is
          // under way without it, so give it back and let it come back at once.
          await giveBack(t, deps, deadline, lease.owner);
          t.state = {
            kind: 'busy',
            why: BusyReason.InProgressElsewhere,
            detail: 'released by its holder',
            leaseUntil: deps.clock(),
          };
        }
        return;
      }
    }),
  );
};

/** Ends this invocation's lease on a decision, keeping anything stored with it. */
export const giveBack = async (
  t: Tracked,
  deps: WorkerDependencies,
  deadline: Deadline,
  owner: string,
): Promise<void> => {
  t.owned = false;
  await storeCall(deadline, (signal) =>
    deps.store.release(t.decision.eventId, owner, signal),
  ).catch((error: unknown) =>
    t.decision.deliveries[0].log.warn(
      { err: toError(error) },
      'could not give the decision back; it is free again when this invocation’s lease ends',
    ),
  );
};
