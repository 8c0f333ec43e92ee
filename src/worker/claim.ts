import type { Deadline } from '../core/deadline.js';
import { toError } from '../core/errors.js';
import { Outcome } from '../core/outcome.js';
import type { StoreLimit } from './batch-state.js';
import { AUDIT_ROUND_BUDGET_MS, type Tracked, type WorkerDependencies } from './batch-state.js';
import type { QuarantineStage, Resolution } from './ports.js';
import type { Decision, Delivery } from './prepare.js';

// ── Step 1: claim each eventId in the idempotency store, and watch those held elsewhere (rules 2, 3, 14)

/** The quarantine stage of every redelivered message (a first delivery has none). */
export const quarantineStages = async (
  deliveries: readonly Delivery[],
  deps: WorkerDependencies,
  limit: StoreLimit,
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
export const reusable = (resolution: Resolution, decision: Decision): boolean =>
  resolution.outcome !== Outcome.Failed ||
  decision.deliveries.some((delivery) => delivery.record.messageId === resolution.messageId);

export const claimDecisions = async (
  tracked: Tracked[],
  leaseUntil: number,
  deps: WorkerDependencies,
  limit: StoreLimit,
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
export const watchBusyDecisions = async (
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
