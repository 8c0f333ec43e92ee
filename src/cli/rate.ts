import { UsageError } from './errors.js';

/** StartMessageMoveTask allows at most 500 messages per second; we use the same ceiling. */
export const MAX_RATE_PER_SECOND = 500;

/** Parses `--rate`: `5`, `5/s` or `0.5/s` messages per second. */
export const parseRate = (flag: string, value: string): number => {
  const match = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(value.trim());
  const rate = match ? Number(match[1]) : Number.NaN;
  if (!(rate > 0 && rate <= MAX_RATE_PER_SECOND)) {
    throw new UsageError(
      `${flag} must be a number of messages per second from more than 0 to ${MAX_RATE_PER_SECOND}, such as 5 or 5/s; '${value}' given`,
    );
  }
  return rate;
};

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Paces work to `ratePerSecond`: `take(n)` waits until n more items may go. */
export class Pacer {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  #nextAt = 0;

  constructor(ratePerSecond: number, now: () => number, sleep: Sleep) {
    this.#intervalMs = 1000 / ratePerSecond;
    this.#now = now;
    this.#sleep = sleep;
  }

  async take(count: number, signal?: AbortSignal): Promise<void> {
    const wait = this.#nextAt - this.#now();
    if (wait > 0) await this.#sleep(wait, signal);
    this.#nextAt = Math.max(this.#now(), this.#nextAt) + count * this.#intervalMs;
  }
}
