/**
 * The shared rate of one Redshift control plane (account and region): what every container of the
 * worker reads from, and writes to, one item of the idempotency table (`PaceRecords`), so that
 * containers that know nothing of each other pace their calls as one caller would.
 *
 * Two things are shared:
 * - **the schedule** — `slotAt`, the theoretical time of the control plane's next free call slot
 *   (GCRA's "theoretical arrival time"). A container takes a span of it for the calls it is about
 *   to make, so the calls of all containers together are spaced by the rate, whichever container
 *   makes them. A container that is idle between batches holds no slots, and the others use them.
 * - **the rate** — learned as TCP learns a path's capacity, but by the containers together: a
 *   slow start (the rate doubles every second) until the first throttle, then a cut and a steady
 *   climb back. Between writes the rate is a function of time since the last (`rateAt`), so a
 *   reservation of a busy schedule never writes it. Only a cut, and the first reservation after
 *   the schedule was idle (which keeps the rate it had when it went idle: `rateWhenIdle`), write
 *   it — the latter on condition nobody cut meanwhile, so a stale climb never overwrites a cut.
 *
 * Pure: no I/O, no clock of its own.
 */

export interface PaceState {
  /** Epoch ms: the next free slot of the schedule (in the past when it is idle). */
  slotAt: number;
  /** Calls per second at `since` (the last cut, or the start of the slow start). */
  rate: number;
  /** Epoch ms the rate was set. */
  since: number;
  /** Throttles that cut the rate since the record was started; 0: still in slow start. */
  cuts: number;
  /** The rate the last throttled call was sent at (0 before the first): where the climb aims. */
  peak: number;
  /** Epoch ms of the last cut (0: none since the record started): one cut per congestion. */
  cutAt: number;
}

export interface PaceSettings {
  /** The rate a control plane starts with (calls per second, all containers together). */
  initialPerSecond: number;
  minPerSecond: number;
  maxPerSecond: number;
  /** A throttle in slow start multiplies the rate its call was sent at by this. */
  slowStartDecrease: number;
  /** A throttle after slow start multiplies the rate its call was sent at by this. */
  decrease: number;
  /** After a cut the rate climbs back to the peak (the rate that throttled) in this long… */
  recoverMs: number;
  /** …then probes above it, by this fraction of the peak per second… */
  probePerSecond: number;
  /** …for at most this long: a control plane left alone does not grow a rate it never tried. */
  probeForMs: number;
  /** Slow start never runs on for longer than this without a throttle (the same reason). */
  slowStartForMs: number;
  /** A schedule idle this long starts again in slow start, from half the rate it had learned. */
  idleRestartMs: number;
  /**
   * Throttles of calls booked within this long after a cut are the same congestion (the control
   * plane's bucket is still empty from before it): they do not cut again.
   */
  cutGraceMs: number;
  /**
   * A throttle less than this long after the previous cut means the rate that throttled is no
   * ceiling to climb back to (the rate was far too high, e.g. learned on a quieter day): the climb
   * after this cut is the slow probe only.
   */
  peakTrustMs: number;
}

/**
 * One caller's numbers, not five: the cut can be gentle (0.8, not TCP's 0.5 or the per-container
 * gate's 0.7) because every container sees it at its next reservation, and the climb back is quick
 * (the rate that throttled again within 1.5 s, as CUBIC returns to its last maximum, then a slow
 * probe above it) because there is one rate to probe, not one per container.
 */
export const DEFAULT_PACE: PaceSettings = {
  initialPerSecond: 20,
  minPerSecond: 0.5,
  maxPerSecond: 100,
  slowStartDecrease: 0.5,
  decrease: 0.7,
  recoverMs: 1500,
  probePerSecond: 0.1,
  probeForMs: 10_000,
  slowStartForMs: 4000,
  idleRestartMs: 60_000,
  cutGraceMs: 0,
  peakTrustMs: 3000,
};

/** Whether a throttle of a call booked at `bookedAt` cuts the rate (once per congestion). */
export const cutsAgain = (
  state: PaceState,
  bookedAt: number,
  settings: PaceSettings = DEFAULT_PACE,
): boolean => bookedAt > state.cutAt + settings.cutGraceMs;

/** The state of a control plane nobody has called yet (or not for `idleRestartMs`). */
export const freshPace = (
  now: number,
  settings: PaceSettings = DEFAULT_PACE,
  learnedRate?: number,
): PaceState => ({
  slotAt: now,
  rate: Math.max(
    settings.initialPerSecond,
    Math.min(settings.maxPerSecond, (learnedRate ?? 0) / 2),
  ),
  since: now,
  cuts: 0,
  peak: 0,
  cutAt: 0,
});

/** The shared rate at `at` (calls per second, all containers together). */
export const rateAt = (
  state: PaceState,
  at: number,
  settings: PaceSettings = DEFAULT_PACE,
): number => {
  const elapsed = Math.max(0, at - state.since);
  let rate: number;
  if (state.cuts === 0) {
    rate = state.rate * 2 ** (Math.min(elapsed, settings.slowStartForMs) / 1000);
  } else {
    const peak = Math.max(state.peak, state.rate);
    rate =
      elapsed < settings.recoverMs
        ? state.rate + ((peak - state.rate) * elapsed) / settings.recoverMs
        : peak *
          (1 +
            (settings.probePerSecond *
              Math.min(elapsed - settings.recoverMs, settings.probeForMs)) /
              1000);
  }
  return Math.min(settings.maxPerSecond, Math.max(settings.minPerSecond, rate));
};

/**
 * The rate to keep while the schedule is idle: its rate when its last slot passed. The climb
 * (or the slow start) resumes from there when calls come again, so the rate only grows while
 * calls are being paced — it never grows on time alone, without a call to show for it.
 */
export const rateWhenIdle = (state: PaceState, settings: PaceSettings = DEFAULT_PACE): number =>
  rateAt(state, state.slotAt, settings);

/** The rate after a throttle of a call sent at `sentAt`: a cut of the rate that call went at. */
export const rateAfterThrottle = (
  state: PaceState,
  sentAt: number,
  settings: PaceSettings = DEFAULT_PACE,
): number =>
  Math.max(
    settings.minPerSecond,
    rateAt(state, sentAt, settings) *
      (state.cuts === 0 ? settings.slowStartDecrease : settings.decrease),
  );

/**
 * Where the climb after a throttle of a call sent at `sentAt` aims: the rate it was sent at, unless
 * that rate was no ceiling — the throttle ended the slow start (which overshoots by design, as
 * TCP's does), or came less than `peakTrustMs` after the previous cut — then the cut rate itself,
 * from which the slow probe climbs.
 */
export const peakAfterThrottle = (
  state: PaceState,
  sentAt: number,
  settings: PaceSettings = DEFAULT_PACE,
): number =>
  state.cuts > 0 && sentAt - state.cutAt >= settings.peakTrustMs
    ? rateAt(state, sentAt, settings)
    : rateAfterThrottle(state, sentAt, settings);

/**
 * The start times of `count` calls given the span `[start, start + count × interval)` of the
 * schedule, each allowed `tolerance` ms early (a burst a rested schedule admits), never before `now`.
 */
export const slotsOf = (
  start: number,
  count: number,
  intervalMs: number,
  toleranceMs: number,
  now: number,
): number[] =>
  Array.from({ length: count }, (_, index) =>
    Math.max(now, start + index * intervalMs - toleranceMs),
  );
