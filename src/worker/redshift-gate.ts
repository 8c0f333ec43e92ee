import pLimit, { type LimitFunction } from 'p-limit';
import { DEFAULT_BACKOFF, fullJitterDelay, type Random } from '../core/backoff.js';
import { type Clock, systemClock } from '../core/deadline.js';

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Keeps one container from hammering the Redshift control plane. It caps the calls in flight, and
 * when Redshift throttles any call, it pauses every call of the container for a jittered,
 * growing time instead of letting each caller retry on its own schedule. It lives at module scope,
 * so what it learned carries over to the next invocation of the same container.
 */
export class RedshiftGate {
  readonly #limit: LimitFunction;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  readonly #random: Random;
  #pausedUntil = 0;
  #consecutiveThrottles = 0;

  constructor(options: { maxConcurrency: number; clock?: Clock; sleep?: Sleep; random?: Random }) {
    this.#limit = pLimit(options.maxConcurrency);
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#random = options.random ?? Math.random;
  }

  /** How long calls are held back now, in ms. */
  pauseRemainingMs(): number {
    return Math.max(0, this.#pausedUntil - this.#clock());
  }

  /**
   * Runs one call when a slot is free and no throttle pause is in force.
   * `canStart` is asked after the wait, so a caller can give up when its deadline has come.
   */
  run<T>(call: () => Promise<T>, canStart: () => boolean): Promise<T | typeof NOT_STARTED> {
    return this.#limit(async () => {
      for (let wait = this.pauseRemainingMs(); wait > 0; wait = this.pauseRemainingMs()) {
        if (!canStart()) return NOT_STARTED;
        await this.#sleep(wait);
      }
      if (!canStart()) return NOT_STARTED;
      return call();
    });
  }

  onThrottled(): void {
    const pause = fullJitterDelay(this.#consecutiveThrottles, true, DEFAULT_BACKOFF, this.#random);
    this.#consecutiveThrottles += 1;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock() + pause);
  }

  onSuccess(): void {
    this.#consecutiveThrottles = 0;
  }
}

/** Returned by `RedshiftGate.run` when the caller's `canStart` said no. */
export const NOT_STARTED = Symbol('not started');
