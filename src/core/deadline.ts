/** A clock in epoch milliseconds; injectable so tests control time. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/**
 * The point in time by which the invocation must have returned, minus a safety margin for
 * finishing up (audit, dead-letter copies, visibility changes) and for returning itself.
 */
export class Deadline {
  readonly at: number;
  readonly #clock: Clock;

  /**
   * @param remainingMs `context.getRemainingTimeInMillis()` at the start of the invocation.
   * @param reserveMs time kept back for everything that follows the Redshift calls.
   */
  constructor(remainingMs: number, reserveMs: number, clock: Clock = systemClock) {
    this.#clock = clock;
    this.at = clock() + remainingMs - reserveMs;
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.#clock());
  }

  /** A signal that aborts when the deadline comes, or after `capMs` if that is sooner. */
  signal(capMs = Number.POSITIVE_INFINITY): AbortSignal {
    // AbortSignal.timeout takes whole milliseconds only, and at least 1.
    return AbortSignal.timeout(Math.max(1, Math.floor(Math.min(capMs, this.remainingMs()))));
  }

  /** Whether something that takes `durationMs` can still start and finish in time. */
  allows(durationMs: number): boolean {
    return this.remainingMs() >= durationMs;
  }
}
