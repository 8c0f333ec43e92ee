import pLimit, { type LimitFunction } from 'p-limit';
import { type Clock, systemClock } from '../core/deadline.js';
import type { CongestionMarks, PaceRecords } from './ports.js';

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
   * last throttle) earns one more, up to the concurrency cap, as room that fills while the gate
   * rests; a throttle takes it back to one.
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
 *
 * The climb is 1.5 calls/s per second (it was 0.5): in a storm's last seconds the new targets
 * come one or two a batch, to whichever containers find them, and each container's share of the
 * rate is what paces its batches. With a burst that fills only while a gate rests
 * (`#roomNotTokens`), the slow start's exit no longer throttles 17–27 calls at once, and the
 * quicker climb costs the storm fewer throttles than the slower one did before (means of 21–23
 * a storm against 25–28; docs/performance.md, eighth session).
 */
export const DEFAULT_RATE: RateSettings = {
  initialPerSecond: 10,
  minPerSecond: 0.5,
  maxPerSecond: 100,
  decrease: 0.7,
  increase: 1.5,
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
  /**
   * Bounds the gate's own store requests (the shared pace, congestion marks), e.g. by the Lambda
   * deadline. Without it the gate makes none: a throttle is cut in full.
   */
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
  readonly #marks: CongestionMarks | undefined;
  readonly #key: string;

  /**
   * @param options.inFlight a concurrency limit shared with other gates (one per control plane),
   * so that the cap on calls in flight stays per container; default: its own.
   * @param options.marks congestion marks shared with other containers, and `key` this control
   * plane's in them: a throttle another container answered a moment ago is cut by
   * `MARKED_DECREASE` only; default: none.
   */
  constructor(options: {
    maxConcurrency: number;
    rate?: Partial<RateSettings>;
    clock?: Clock;
    sleep?: Sleep;
    inFlight?: LimitFunction;
    marks?: CongestionMarks;
    key?: string;
  }) {
    this.#limit = options.inFlight ?? pLimit(options.maxConcurrency);
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? sleep;
    this.#settings = { ...DEFAULT_RATE, ...options.rate };
    this.#rate = this.#settings.initialPerSecond;
    this.#maxBurst = options.maxConcurrency;
    this.#burst = Math.max(1, Math.min(this.#settings.initialBurst, this.#maxBurst));
    this.#marks = options.marks;
    this.#key = options.key ?? '';
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
        const burstBefore = this.burst;
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
        this.#roomNotTokens(this.burst - burstBefore);
        return result;
      } catch (error) {
        if (options.isThrottle(error)) await this.#onThrottled(sentAt, options.signal);
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

  /**
   * A burst grown by `grown` calls is room in the bucket, not calls to spend: it fills at the
   * rate while the gate rests, as a token bucket's does. The schedule moves on by as many
   * intervals, so that what may start at once stays what it was a moment ago. Without it, a gate
   * kept busy by back-to-back batches (a storm) would earn a burst of ten in its first batch and
   * start its second batch ten at once, with every other container's: at the slow start's exit,
   * 17–27 throttles in the storm's second second, each cutting a container's rate in half. A
   * gate that rests (a warm container between batches) still starts its next batch whole.
   */
  #roomNotTokens(grown: number): void {
    if (grown <= 0) return;
    this.#nextSlotAt = Math.max(this.#nextSlotAt, this.#clock()) + grown * (1000 / this.#rate);
  }

  /**
   * The cut of a throttle. Slow start's exit is cut by `slowStartDecrease`; after it, AIMD's cut
   * is `decrease` when this container answers the congestion, and `MARKED_DECREASE` when another
   * container marked it first. Alone, each container cut by `decrease` for every congestion it
   * met; but one empty bucket throttles every container that calls before the first cut is felt,
   * and five containers each cutting to 70 % took 30 % off the sum for the 1.5 s the climb back
   * needs (a storm's seconds at 27–31 calls of 40). Without the marks, or a signal to bound the
   * mark by, or below `MARKED_MIN_RATE`, or when the mark fails, it cuts in full, as alone.
   */
  async #onThrottled(sentAt: number, signal: (() => AbortSignal) | undefined): Promise<void> {
    // A call sent at the very moment of a cut did not benefit from it either.
    if (sentAt <= this.#lastCutAt) return;
    const slowStart = this.#cuts === 0;
    this.#lastCutAt = this.#clock();
    this.#cuts += 1;
    // Slots handed out at the old rate are void, and so is the burst: the next call waits one new
    // interval, and the burst is earned again, one answered call at a time. (The calls that wait
    // while the mark is written wait for the old rate's interval, then re-space at the new.)
    this.#burst = 1;
    this.#nextSlotAt = this.#lastCutAt + 1000 / this.#rate;
    const cut = slowStart
      ? this.#settings.slowStartDecrease
      : !this.#marks ||
          !signal ||
          this.#rate < MARKED_MIN_RATE ||
          (await this.#marks
            .mark(this.#key, { now: this.#lastCutAt, windowMs: CONGESTION_WINDOW_MS }, signal())
            .catch(() => true))
        ? this.#settings.decrease
        : MARKED_DECREASE;
    this.#rate = Math.max(this.#settings.minPerSecond, this.#rate * cut);
    this.#nextSlotAt = this.#lastCutAt + 1000 / this.#rate;
  }
}

/**
 * Throttles of several containers within this long of the first container's are one congestion:
 * a call takes 20–30 ms, and a bucket emptied by the sum of five containers' rates throttles
 * whoever calls next until the first cut is felt.
 */
export const CONGESTION_WINDOW_MS = 250;

/**
 * The cut of a throttle another container answered first (its congestion mark is younger than
 * `CONGESTION_WINDOW_MS`): the same empty bucket, already answered by a full cut.
 */
export const MARKED_DECREASE = 0.9;

/**
 * Below this rate (calls/s) a container cuts in full, marked or not. One full cut answers a
 * congestion only if it takes off more than the other containers add meanwhile: 30 % of a rate
 * r, against four more containers climbing 1.5 calls/s a second each over one interval (1/r s),
 * holds for r above about 4.5. Under it — a slow account shared by five containers, 2 calls/s
 * each — soft cuts kept its bucket empty: in stormMultiAccount the 10 calls/s spoke drew 49–52
 * throttles instead of 36–40, and one call in 5 runs was throttled until its attempts ran out,
 * its message back only after the visibility timeout (drain 3.35 × the floor).
 */
export const MARKED_MIN_RATE = 5;

/** The window in which a rate must be half used to grow. */
const RATE_VALIDATION_WINDOW_MS = 1000;

/**
 * Only calls sent this long after the last throttle earn burst: while the control plane keeps
 * throttling, calls stay evenly spaced.
 */
export const BURST_EARNED_AFTER_CUT_MS = 1000;

/** Returned by `RedshiftGate.run` when the caller's `canStart` said no. */
export const NOT_STARTED = Symbol('not started');

/** The options of the shared gate (`src/worker/shared-gate.ts`). */
export interface SharedGateOptions {
  key: string;
  records: PaceRecords;
  inFlight: LimitFunction;
  maxConcurrency: number;
  clock?: Clock;
  sleep?: Sleep;
  onFailure?: (error: unknown) => void;
}

/**
 * The shared pace: the idempotency table's records, and the gate that takes its slots from them
 * (`SharedRedshiftGate`, read only when `REDSHIFT_SHARED_PACE` is on).
 */
export interface SharedPace {
  records: PaceRecords;
  SharedGate: new (options: SharedGateOptions) => ControlPlaneGate;
  onFailure?: (error: unknown) => void;
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
  readonly #pace: SharedPace | undefined;

  /** @param options.marks congestion marks shared with other containers (see `RedshiftGate`). */
  constructor(
    options: Omit<ConstructorParameters<typeof RedshiftGate>[0], 'inFlight' | 'key'> & {
      pace?: SharedPace;
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
        ? new this.#pace.SharedGate({
            key,
            records: this.#pace.records,
            inFlight: this.#inFlight,
            maxConcurrency: this.#options.maxConcurrency,
            ...(this.#options.clock && { clock: this.#options.clock }),
            ...(this.#options.sleep && { sleep: this.#options.sleep }),
            ...(this.#pace.onFailure && { onFailure: this.#pace.onFailure }),
          })
        : new RedshiftGate({ ...this.#options, key });
      this.#gates.set(key, gate);
    }
    return gate;
  }
}
