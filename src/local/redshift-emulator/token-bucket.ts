/** Milliseconds from a monotonic clock; injectable so the bucket can be tested without sleeping. */
export type Clock = () => number;

/**
 * A token bucket over wall time: `ratePerSecond` tokens drip in continuously up to `burst`; a
 * call takes one token or is refused. This is how AWS control planes throttle (a steady rate
 * with some burst), so a client that paces itself at R/s never sees `Throttling`.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0))
      throw new RangeError(`ratePerSecond must be > 0, ${ratePerSecond} given`);
    if (!(burst >= 1)) throw new RangeError(`burst must be >= 1, ${burst} given`);
    this.tokens = burst;
    this.updatedAt = clock();
  }

  /** Takes one token if there is one; returns whether the call is admitted. */
  tryTake(): boolean {
    const now = this.clock();
    const elapsedSeconds = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.burst, this.tokens + elapsedSeconds * this.ratePerSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
