import pLimit, { type LimitFunction } from 'p-limit';
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

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RateSettings {
  /** Calls per second a fresh container starts with. */
  initialPerSecond: number;
  /** Never slower than this (calls per second). */
  minPerSecond: number;
  /** Never faster than this (calls per second). */
  maxPerSecond: number;
  /** A throttle multiplies the rate by this (multiplicative decrease). */
  decrease: number;
  /** Each success adds `increase / rate` calls per second: about `increase` calls/s per second. */
  increase: number;
  /**
   * Slow start, as TCP's: until its first throttle, each success adds this many calls per second
   * instead (the rate doubles about every second at 1). A control plane that never throttled is
   * found out quickly; the first throttle ends it for good (cutting by `slowStartDecrease`), and
   * AIMD takes over.
   */
  slowStartIncrease: number;
  /** The cut of the throttle that ends slow start: deeper, as slow start overshoots fast. */
  slowStartDecrease: number;
  /**
   * Calls a fresh gate may start at once. Each answered call (sent at least a second after the
   * last throttle) earns one more, up to the concurrency cap; a throttle takes it back to one.
   */
  initialBurst: number;
  /**
   * After the first throttle, a rested gate starts at most the calls its rate allows in this
   * many seconds at once (at least one), however much burst it earned. A control plane that has
   * throttled has shown a small bucket, and what it throttles then is containers' bursts landing
   * together. Before any throttle the earned burst stands, so a lone batch starts in one round.
   */
  burstWindowSeconds: number;
}

/**
 * AIMD, as TCP and the SDK's adaptive retry mode do: a slow, steady climb while Redshift answers,
 * a sharp cut when it throttles. With no published rate limit, this is how containers that share
 * an account's Redshift control plane, and know nothing of each other, settle near its capacity:
 * each cut is proportional to a container's own rate, so they converge to a fair share.
 */
export const DEFAULT_RATE: RateSettings = {
  initialPerSecond: 10,
  minPerSecond: 0.5,
  maxPerSecond: 100,
  decrease: 0.7,
  increase: 0.5,
  slowStartIncrease: 1,
  slowStartDecrease: 0.5,
  initialBurst: 1,
  burstWindowSeconds: 0.25,
};

/**
 * Keeps one container from hammering the Redshift control plane. It caps the calls in flight and
 * spaces their starts by an adaptive rate (see `DEFAULT_RATE`), allowing a rested gate a burst it
 * has earned: one call for a control plane it has not called yet, one more for each answered
 * call, up to its concurrency cap (the size of a batch, by default) — so a warm container starts
 * a whole batch at once, while fresh containers meeting a storm together do not. It lives at
 * module scope, so what it learned carries over to the next invocation of the same container.
 */
/** How a call asks a gate for its turn (see `RedshiftGate.run`). */
export interface RunOptions {
  /** Asked before waiting `waitMs`: false gives up (NOT_STARTED), e.g. past the deadline. */
  canStart: (waitMs: number) => boolean;
  /** Which failures are Redshift asking to slow down. */
  isThrottle: (error: unknown) => boolean;
  /** Bounds the gate's own store requests (the shared pace), e.g. by the Lambda deadline. */
  signal?: () => AbortSignal;
}

/** One control plane's gate: the per-container `RedshiftGate` or the shared `SharedRedshiftGate`. */
export interface ControlPlaneGate {
  run<T>(
    call: (waitedMs: number) => Promise<T>,
    options: RunOptions,
  ): Promise<T | typeof NOT_STARTED>;
  /** Calls it may start at once after a rest. */
  readonly burst: number;
  /** The current rate, in calls per second. */
  readonly ratePerSecond: number;
}

export class RedshiftGate implements ControlPlaneGate {
  readonly #limit: LimitFunction;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  readonly #settings: RateSettings;
  #rate: number;
  /** Calls a rested gate may start at once: earned by answered calls, up to `#maxBurst`. */
  #burst: number;
  /** As many as the container may have in flight. */
  readonly #maxBurst: number;
  #nextSlotAt = 0;
  /** Throttles of calls sent before the last cut are the same congestion: cut once for them. */
  #lastCutAt = Number.NEGATIVE_INFINITY;
  #cuts = 0;
  /** When the calls of the last `RATE_VALIDATION_WINDOW_MS` were sent, oldest first. */
  readonly #recentSends: number[] = [];

  /**
   * @param options.inFlight a concurrency limit shared with other gates (one per control plane),
   * so that the cap on calls in flight stays per container; default: its own.
   */
  constructor(options: {
    maxConcurrency: number;
    rate?: Partial<RateSettings>;
    clock?: Clock;
    sleep?: Sleep;
    inFlight?: LimitFunction;
  }) {
    this.#limit = options.inFlight ?? pLimit(options.maxConcurrency);
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#settings = { ...DEFAULT_RATE, ...options.rate };
    this.#rate = this.#settings.initialPerSecond;
    this.#maxBurst = options.maxConcurrency;
    this.#burst = Math.max(1, Math.min(this.#settings.initialBurst, this.#maxBurst));
  }

  /** Calls it may start at once after a rest: the earned burst, bounded by the rate once cut. */
  get burst(): number {
    if (this.#cuts === 0) return this.#burst;
    const allowed = Math.floor(this.#rate * this.#settings.burstWindowSeconds);
    return Math.min(this.#burst, Math.max(1, allowed));
  }

  /** The current rate, in calls per second. */
  get ratePerSecond(): number {
    return this.#rate;
  }

  /**
   * Runs one call when a concurrency slot and a rate slot are free, telling it how long it
   * waited. A rested gate may start as many calls at once as its earned burst (at most
   * `maxConcurrency`); after that, and after any throttle, calls are spaced by the rate. `canStart(waitMs)` is asked
   * before waiting, so a caller can give up when the wait would end past its deadline.
   * `isThrottle` tells the gate which failures are Redshift asking it to slow down.
   */
  async run<T>(
    call: (waitedMs: number) => Promise<T>,
    options: RunOptions,
  ): Promise<T | typeof NOT_STARTED> {
    const queuedAt = this.#clock();
    // The rate slot first, outside the in-flight cap: a slow control plane's paced calls must not
    // hold the slots that calls to other control planes need.
    const paced = await this.#pace(options.canStart);
    if (paced === NOT_STARTED) return NOT_STARTED;
    return this.#limit(async () => {
      // A cut while the call waited for its in-flight slot re-spaces it: a cut takes effect at once.
      if (paced !== this.#cuts && (await this.#pace(options.canStart)) === NOT_STARTED)
        return NOT_STARTED;
      if (!options.canStart(0)) return NOT_STARTED;
      const sentAt = this.#clock();
      const recent = this.#recentSends;
      recent.push(sentAt);
      while ((recent[0] ?? sentAt) <= sentAt - RATE_VALIDATION_WINDOW_MS) recent.shift();
      try {
        const result = await call(sentAt - queuedAt);
        // The rate grows only while it is used: at least half of it sent in the last second (as
        // TCP's congestion window validation, RFC 7661). Otherwise a warm container whose
        // batches fit its burst would carry a rate it never tested, far above what its control
        // plane allows, and come down from it one cut per congestion when it meets a throttle.
        if (recent.length >= this.#rate / 2)
          this.#rate = Math.min(
            this.#settings.maxPerSecond,
            this.#rate +
              (this.#cuts === 0
                ? this.#settings.slowStartIncrease
                : this.#settings.increase / this.#rate),
          );
        if (sentAt - this.#lastCutAt >= BURST_EARNED_AFTER_CUT_MS)
          this.#burst = Math.min(this.#maxBurst, this.#burst + 1);
        return result;
      } catch (error) {
        if (options.isThrottle(error)) this.#onThrottled(sentAt);
        throw error;
      }
    });
  }

  /** Waits for a rate slot; returns the number of cuts it was spaced by, or NOT_STARTED. */
  async #pace(canStart: (waitMs: number) => boolean): Promise<number | typeof NOT_STARTED> {
    // A cut while a call waits for its slot re-spaces it at the new rate: a cut takes effect at once.
    let cuts = -1;
    while (cuts !== this.#cuts) {
      cuts = this.#cuts;
      // GCRA (a token bucket as arithmetic): `#nextSlotAt` is the theoretical time of the next
      // call at the current rate; a call may go up to `burst - 1` intervals ahead of it.
      const now = this.#clock();
      const interval = 1000 / this.#rate;
      const theoretical = Math.max(now, this.#nextSlotAt);
      const slot = Math.max(now, theoretical - (this.burst - 1) * interval);
      if (!canStart(slot - now)) return NOT_STARTED;
      this.#nextSlotAt = theoretical + interval;
      if (slot > now) await this.#sleep(slot - now);
    }
    return cuts;
  }

  #onThrottled(sentAt: number): void {
    // A call sent at the very moment of a cut did not benefit from it either.
    if (sentAt <= this.#lastCutAt) return;
    const cut = this.#cuts === 0 ? this.#settings.slowStartDecrease : this.#settings.decrease;
    this.#rate = Math.max(this.#settings.minPerSecond, this.#rate * cut);
    this.#lastCutAt = this.#clock();
    this.#cuts += 1;
    // Slots handed out at the old rate are void, and so is the burst: the next call waits one new
    // interval, and the burst is earned again, one answered call at a time.
    this.#burst = 1;
    this.#nextSlotAt = this.#lastCutAt + 1000 / this.#rate;
  }
}

/** The window in which a rate must be half used to grow. */
const RATE_VALIDATION_WINDOW_MS = 1000;

/**
 * Only calls sent this long after the last throttle earn burst: while the control plane keeps
 * throttling, calls stay evenly spaced.
 */
const BURST_EARNED_AFTER_CUT_MS = 1000;

/** Returned by `RedshiftGate.run` when the caller's `canStart` said no. */
export const NOT_STARTED = Symbol('not started');

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

  constructor(options: {
    key: string;
    records: PaceRecords;
    inFlight: LimitFunction;
    maxConcurrency: number;
    clock?: Clock;
    sleep?: Sleep;
    onFailure?: (error: unknown) => void;
  }) {
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

/**
 * One adaptive rate per Redshift control plane (account and region), sharing one cap on calls in
 * flight for the container: a throttle in one account never slows calls to another. With `pace`
 * (the idempotency table's shared records), each control plane's rate and schedule are shared by
 * all containers (`SharedRedshiftGate`); without it, each container learns its own
 * (`RedshiftGate`).
 */
export class RedshiftGates {
  readonly #gates = new Map<string, ControlPlaneGate>();
  readonly #inFlight: LimitFunction;
  readonly #options: ConstructorParameters<typeof RedshiftGate>[0];
  readonly #pace: { records: PaceRecords; onFailure?: (error: unknown) => void } | undefined;

  constructor(
    options: Omit<ConstructorParameters<typeof RedshiftGate>[0], 'inFlight'> & {
      pace?: { records: PaceRecords; onFailure?: (error: unknown) => void };
    },
  ) {
    const { pace, ...gateOptions } = options;
    this.#inFlight = pLimit(options.maxConcurrency);
    this.#options = { ...gateOptions, inFlight: this.#inFlight };
    this.#pace = pace;
  }

  /** The gate of one control plane, made on first use. */
  for(accountId: string, region: string): ControlPlaneGate {
    const key = `${accountId}|${region}`;
    let gate = this.#gates.get(key);
    if (!gate) {
      gate = this.#pace
        ? new SharedRedshiftGate({
            key,
            records: this.#pace.records,
            inFlight: this.#inFlight,
            maxConcurrency: this.#options.maxConcurrency,
            ...(this.#options.clock && { clock: this.#options.clock }),
            ...(this.#options.sleep && { sleep: this.#options.sleep }),
            ...(this.#pace.onFailure && { onFailure: this.#pace.onFailure }),
          })
        : new RedshiftGate(this.#options);
      this.#gates.set(key, gate);
    }
    return gate;
  }
}
