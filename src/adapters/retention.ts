/**
 * How long the idempotency store keeps an item. Two clocks bound it from below:
 * - the dedup window (`ttlSeconds`, `DEDUP_TTL_SECONDS`): how long a completed eventId and a
 *   confirmed target are remembered;
 * - the message that depends on the item (`minRetentionSeconds`): an IN_PROGRESS lease, a kept
 *   resolution or a quarantine stage is read again when its message comes back, which is at the
 *   latest the lease's end plus the queue's visibility timeout. An item that expired before that
 *   would let a resend take a live lease, or make the return act (and audit) a second time.
 */
export interface StoreRetention {
  ttlSeconds: number;
  /** The queue's visibility timeout plus a margin (see `minRetentionSeconds`); default 0. */
  minRetentionSeconds?: number;
}

/** Slack on top of the visibility timeout: a returning message is read a little after it is due. */
const RETURN_SLACK_SECONDS = 60;

/** What `StoreRetention.minRetentionSeconds` should be for a queue's visibility timeout. */
export const minRetentionSeconds = (queueVisibilityTimeoutSeconds: number): number =>
  queueVisibilityTimeoutSeconds + RETURN_SLACK_SECONDS;

/**
 * Epoch ms until which an item written at `now` must be kept; `heldUntil` is the end of the lease
 * it carries (0 when none).
 */
export const retentionUntil = (retention: StoreRetention, now: number, heldUntil = 0): number =>
  Math.max(
    now + retention.ttlSeconds * 1000,
    Math.max(now, heldUntil) + (retention.minRetentionSeconds ?? 0) * 1000,
  );
