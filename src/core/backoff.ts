/** A source of uniform numbers in [0, 1); injectable so tests are deterministic. */
export type Random = () => number;

export interface BackoffPolicy {
  /** Base delay of the first retry, in ms. */
  baseMs: number;
  /** Base delay when the failure was a throttle, in ms (the SDK uses 500 ms). */
  throttleBaseMs: number;
  /** No single delay exceeds this, in ms. */
  capMs: number;
}

/** The SDK's standard-mode numbers (field notes: base 100 ms, throttling base 500 ms, cap 20 s). */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, throttleBaseMs: 500, capMs: 20_000 };

/**
 * "Full jitter" exponential backoff: a uniform draw in [0, min(cap, base × 2^retry)). Spreads the
 * retries of many callers that failed together, which plain exponential backoff does not
 * (AWS Architecture Blog, "Exponential Backoff And Jitter").
 *
 * @param retry 0 for the first retry.
 */
export const fullJitterDelay = (
  retry: number,
  throttled: boolean,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: Random = Math.random,
): number => {
  const base = throttled ? policy.throttleBaseMs : policy.baseMs;
  const ceiling = Math.min(policy.capMs, base * 2 ** Math.max(0, retry));
  return Math.floor(random() * ceiling);
};

export interface VisibilityBackoffPolicy {
  /** Delay after the first receive, in seconds. */
  baseSeconds: number;
  /** Largest delay, in seconds (SQS allows up to 12 hours). */
  capSeconds: number;
}

export const DEFAULT_VISIBILITY_BACKOFF: VisibilityBackoffPolicy = {
  baseSeconds: 30,
  capSeconds: 900,
};

/** SQS's upper bound for a visibility timeout: 12 hours. */
const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/**
 * The visibility timeout to give a message that must come back later: it grows with the receive
 * count so a struggling target is tried less and less often, with "equal jitter" (half fixed,
 * half random) so that a storm of messages that failed together does not return together.
 */
export const visibilityBackoffSeconds = (
  receiveCount: number,
  policy: VisibilityBackoffPolicy = DEFAULT_VISIBILITY_BACKOFF,
  random: Random = Math.random,
): number => {
  const ceiling = Math.min(
    policy.capSeconds,
    policy.baseSeconds * 2 ** Math.max(0, receiveCount - 1),
  );
  const seconds = Math.ceil(ceiling / 2 + random() * (ceiling / 2));
  return Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.max(1, seconds));
};
