import type { LimitFunction } from 'p-limit';
import { type Clock, systemClock } from '../core/deadline.js';
import {
  cutsAgain,
  type PaceState,
  peakAfterThrottle,
  rateAfterThrottle,
  rateAt,
  slotsOf,
} from '../core/shared-rate.js';
import type { PaceRecords } from './ports.js';
import {
  BURST_EARNED_AFTER_CUT_MS,
  type ControlPlaneGate,
  NOT_STARTED,
  type RunOptions,
  type SharedGateOptions,
  type Sleep,
  sleep,
} from './redshift-gate.js';

// ── The shared pace's gate (REDSHIFT_SHARED_PACE): read at init only when it is on ──

/** Calls whose slots one reservation takes at most (a batch's worth, and then some). */
const MAX_GROUP = 25;

/**
 * The next calls' slots are taken this long before the last slot taken is due: enough for the
 * store's answer, and no more, or slots taken at a rate about to change would be kept long after.
 */
const BOOK_AHEAD_MS = 50;

/** A container does not book slots beyond this far ahead of now (the schedule's end, as last seen). */
const BOOK_AHEAD_MAX_MS = 250;

/** On a busy schedule a container books at most this many seconds' worth of calls at once. */
const BUSY_GROUP_S = 0.1;

/** A pace request without a caller's signal gives up after this long (the caller paces alone). */
const PACE_REQUEST_TIMEOUT_MS = 1000;

interface Waiter {
  /** The slot, and when it was booked (the rate a throttle of that call cuts is the booking's). */
  resolve: (slot: { at: number; bookedAt: number } | typeof NOT_STARTED) => void;
  signal: (() => AbortSignal) | undefined;
  canStart: (waitMs: number) => boolean;
}

/**
 * The gate of a control plane whose pace all containers share (`src/core/shared-rate.ts`): each
 * call's slot is taken from the control plane's record in the idempotency table, so that five
 * containers call at the rate one would, and a container idle between batches leaves its share to
 * the others. Calls that ask together take their slots in one write (group commit: the calls of a
 * batch start within a tick of each other, so a batch costs one write per control plane).
 *
 * When the store fails or is slow, the container paces alone, at the shared rate it last saw (a
 * fallback as safe as the per-container gate: a throttle still cuts it), and says so through
 * `onFailure`.
 */
export class SharedRedshiftGate implements ControlPlaneGate {
  readonly #key: string;
  readonly #records: PaceRecords;
  readonly #limit: LimitFunction;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  readonly #maxBurst: number;
  readonly #onFailure: (error: unknown) => void;
  /** The record as this container last saw it; undefined until the first reservation. */
  #known: PaceState | undefined;
  #burst = 1;
  #lastThrottleAt = Number.NEGATIVE_INFINITY;
  #waiters: Waiter[] = [];
  #reserving = false;
  /** The end of the last span taken: where a reservation the store refused starts instead. */
  #lastSpanEnd = 0;
  /** After a throttle here, no call of this container goes before one interval at the new rate. */
  #notBefore = 0;

  constructor(options: SharedGateOptions) {
    this.#key = options.key;
    this.#records = options.records;
    this.#limit = options.inFlight;
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#maxBurst = options.maxConcurrency;
    this.#onFailure = options.onFailure ?? (() => undefined);
  }

  get burst(): number {
    return this.#burst;
  }

  get ratePerSecond(): number {
    return this.#rateAt(this.#clock());
  }

  async run<T>(
    call: (waitedMs: number) => Promise<T>,
    options: RunOptions,
  ): Promise<T | typeof NOT_STARTED> {
    const queuedAt = this.#clock();
    const slot = await new Promise<{ at: number; bookedAt: number } | typeof NOT_STARTED>(
      (resolve) => {
        this.#waiters.push({ resolve, signal: options.signal, canStart: options.canStart });
        this.#reserveSoon();
      },
    );
    if (slot === NOT_STARTED) return NOT_STARTED;
    const now = this.#clock();
    // A slot given up is not given back: the schedule errs slow.
    if (!options.canStart(slot.at - now)) return NOT_STARTED;
    if (slot.at > now) await this.#sleep(slot.at - now);
    return this.#limit(async () => {
      if (!options.canStart(0)) return NOT_STARTED;
      const sentAt = this.#clock();
      try {
        const result = await call(sentAt - queuedAt);
        if (sentAt - this.#lastThrottleAt >= BURST_EARNED_AFTER_CUT_MS)
          this.#burst = Math.min(this.#maxBurst, this.#burst + 1);
        return result;
      } catch (error) {
        if (options.isThrottle(error)) await this.#onThrottled(slot.bookedAt, options.signal);
        throw error;
      }
    });
  }

  #rateAt(at: number): number {
    if (this.#known === undefined) return this.#records.settings.initialPerSecond;
    // An idle schedule's rate stood still (the store keeps it so at the next reservation).
    return rateAt(this.#known, Math.min(at, this.#known.slotAt), this.#records.settings);
  }

  #see(state: PaceState): void {
    // Another container's cut ends this one's burst too: the control plane is congested.
    if (this.#known !== undefined && state.cuts > this.#known.cuts) {
      this.#burst = 1;
      this.#lastThrottleAt = this.#clock();
    }
    this.#known = state;
  }

  /** Starts a reservation for every call waiting, after this tick (so a batch's calls join). */
  #reserveSoon(): void {
    if (this.#reserving) return;
    this.#reserving = true;
    setImmediate(() => {
      void this.#reserveWaiting().finally(() => {
        this.#reserving = false;
        // A call may have asked after the loop saw no one waiting, and before this ran.
        if (this.#waiters.length > 0) this.#reserveSoon();
      });
    });
  }

  async #reserveWaiting(): Promise<void> {
    while (this.#waiters.length > 0) {
      // As many as it may start at once: a rested container its earned burst, a congested one
      // one call at a time, booked just before it is due (below), so that the schedule is
      // booked no further ahead than the calls about to start, at the rate of the moment.
      let now = this.#clock();
      // The schedule is booked far enough ahead (by every container) already: wait, so that the
      // slots taken are spaced by the rate of the moment, not of a second ago.
      const booked = (this.#known?.slotAt ?? now) - now - BOOK_AHEAD_MAX_MS;
      if (booked > 0) {
        this.#giveUpUnlessCanWait(booked);
        if (this.#waiters.length === 0) return;
        await this.#sleep(booked);
        now = this.#clock();
      }
      const rate = this.#rateAt(now);
      const rested = (this.#known?.slotAt ?? now) <= now;
      const group = this.#waiters.splice(
        0,
        Math.max(
          1,
          Math.min(MAX_GROUP, this.#burst, rested ? MAX_GROUP : Math.ceil(rate * BUSY_GROUP_S)),
        ),
      );
      const intervalMs = 1000 / rate;
      const spanMs = Math.ceil(group.length * intervalMs);
      let start: number;
      try {
        const signal = group[0]?.signal?.() ?? AbortSignal.timeout(PACE_REQUEST_TIMEOUT_MS);
        const reservation = await this.#records.reserve(
          this.#key,
          { spanMs, now, known: this.#known },
          signal,
        );
        this.#see(reservation.state);
        start = reservation.start;
      } catch (error) {
        this.#onFailure(error);
        start = Math.max(now, this.#lastSpanEnd);
      }
      this.#lastSpanEnd = Math.max(this.#lastSpanEnd, start + spanMs);
      const slots = slotsOf(
        Math.max(start, this.#notBefore),
        group.length,
        spanMs / group.length,
        // A rested schedule admits the earned burst (any cut, here or elsewhere, takes it back).
        (this.#burst - 1) * intervalMs,
        this.#clock(),
      );
      for (const [index, waiter] of group.entries()) {
        waiter.resolve({ at: slots[index] as number, bookedAt: now });
      }
      const lead = (slots.at(-1) as number) - this.#clock() - BOOK_AHEAD_MS;
      if (lead > 0) this.#giveUpUnlessCanWait(lead);
      if (this.#waiters.length > 0 && lead > 0) await this.#sleep(lead);
    }
  }

  /** Calls that may not wait `waitMs` more (their deadline) give up now, unbooked. */
  #giveUpUnlessCanWait(waitMs: number): void {
    this.#waiters = this.#waiters.filter((waiter) => {
      if (waiter.canStart(waitMs)) return true;
      waiter.resolve(NOT_STARTED);
      return false;
    });
  }

  /**
   * A throttle of a call whose slot was booked at `bookedAt` cuts the rate it was booked at,
   * unless the rate was cut (here or elsewhere) since: slots booked before a cut are the same
   * congestion, whenever they are sent, and cutting again for each would halve a rate that one
   * cut already corrected.
   */
  async #onThrottled(bookedAt: number, signal: (() => AbortSignal) | undefined): Promise<void> {
    this.#burst = 1;
    this.#lastThrottleAt = this.#clock();
    // Nothing more from here until one interval has passed (at the cut rate, when it cuts).
    this.#notBefore = this.#lastThrottleAt + 1000 / this.#rateAt(this.#lastThrottleAt);
    const known = this.#known;
    const sentAt = bookedAt;
    if (known === undefined || !cutsAgain(known, sentAt, this.#records.settings)) return;
    const now = this.#clock();
    // This container slows down at once, whatever the store says.
    this.#known = {
      ...known,
      rate: rateAfterThrottle(known, sentAt, this.#records.settings),
      peak: peakAfterThrottle(known, sentAt, this.#records.settings),
      since: now,
      cutAt: now,
      cuts: known.cuts + 1,
    };
    this.#notBefore = now + 1000 / this.#known.rate;
    try {
      const state = await this.#records.cut(
        this.#key,
        { sentAt, now, known },
        signal?.() ?? AbortSignal.timeout(PACE_REQUEST_TIMEOUT_MS),
      );
      if (state !== undefined) this.#known = state;
    } catch (error) {
      this.#onFailure(error);
    }
  }
}
