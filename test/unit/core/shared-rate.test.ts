import { describe, expect, it } from 'vitest';
import {
  cutsAgain,
  DEFAULT_PACE,
  freshPace,
  type PaceState,
  rateAfterThrottle,
  rateAt,
  rateWhenIdle,
  slotsOf,
} from '../../../src/core/shared-rate.js';

const T = 1_000_000;

describe('rateAt', () => {
  it('doubles every second in slow start, for at most slowStartForMs, never above the maximum', () => {
    // Prepare
    const state = freshPace(T);
    // Act / Assess
    expect(rateAt(state, T)).toBe(DEFAULT_PACE.initialPerSecond);
    expect(rateAt(state, T + 1000)).toBeCloseTo(DEFAULT_PACE.initialPerSecond * 2);
    expect(rateAt(state, T + 60_000)).toBe(
      Math.min(
        DEFAULT_PACE.maxPerSecond,
        DEFAULT_PACE.initialPerSecond * 2 ** (DEFAULT_PACE.slowStartForMs / 1000),
      ),
    );
  });

  it('after a cut, climbs back to the peak in recoverMs, then probes above it by probePerSecond, for at most probeForMs', () => {
    // Prepare
    const state: PaceState = { slotAt: T, rate: 16, since: T, cuts: 1, peak: 20, cutAt: T };
    // Act / Assess
    expect(rateAt(state, T)).toBe(16);
    expect(rateAt(state, T + DEFAULT_PACE.recoverMs / 2)).toBeCloseTo(18);
    expect(rateAt(state, T + DEFAULT_PACE.recoverMs)).toBeCloseTo(20);
    expect(rateAt(state, T + DEFAULT_PACE.recoverMs + 1000)).toBeCloseTo(
      20 * (1 + DEFAULT_PACE.probePerSecond),
    );
    const capped = 20 * (1 + (DEFAULT_PACE.probePerSecond * DEFAULT_PACE.probeForMs) / 1000);
    expect(capped).toBeLessThan(DEFAULT_PACE.maxPerSecond);
    expect(rateAt(state, T + 3_600_000)).toBeCloseTo(capped);
  });

  it('never goes below the minimum', () => {
    expect(rateAt({ slotAt: T, rate: 0.01, since: T, cuts: 3, peak: 0.01, cutAt: T }, T)).toBe(
      DEFAULT_PACE.minPerSecond,
    );
  });
});

describe('rateAfterThrottle', () => {
  it('cuts the rate the throttled call was booked at: deeper in slow start than after it', () => {
    // Prepare
    const slow = freshPace(T);
    const steady: PaceState = { slotAt: T, rate: 40, since: T, cuts: 2, peak: 40, cutAt: T };
    // Act / Assess
    expect(rateAfterThrottle(slow, T + 1000)).toBeCloseTo(
      DEFAULT_PACE.initialPerSecond * 2 * DEFAULT_PACE.slowStartDecrease,
    );
    expect(rateAfterThrottle(steady, T)).toBeCloseTo(40 * DEFAULT_PACE.decrease);
  });
});

describe('freshPace', () => {
  it('starts a new slow start from the initial rate, or from half a higher rate learned before', () => {
    expect(freshPace(T).rate).toBe(DEFAULT_PACE.initialPerSecond);
    expect(freshPace(T, DEFAULT_PACE, 90).rate).toBe(45);
    expect(freshPace(T, DEFAULT_PACE, 4).rate).toBe(DEFAULT_PACE.initialPerSecond);
  });
});

describe('slotsOf', () => {
  it('spaces the calls of a span by the interval, each allowed the tolerance early, never before now', () => {
    expect(slotsOf(T + 100, 3, 25, 0, T)).toEqual([T + 100, T + 125, T + 150]);
    expect(slotsOf(T + 100, 3, 25, 50, T)).toEqual([T + 50, T + 75, T + 100]);
    expect(slotsOf(T, 3, 25, 1000, T + 10)).toEqual([T + 10, T + 10, T + 10]);
  });
});

describe('rateWhenIdle', () => {
  it('is the rate when the last slot passed: an idle schedule does not grow its rate', () => {
    const state: PaceState = { ...freshPace(T), slotAt: T + 1000 };
    expect(rateWhenIdle(state)).toBeCloseTo(DEFAULT_PACE.initialPerSecond * 2);
    expect(rateAt(state, T + 60_000)).toBeGreaterThan(rateWhenIdle(state));
  });
});

describe('cutsAgain', () => {
  it('cuts only for calls booked more than cutGraceMs after the last cut', () => {
    const state: PaceState = { slotAt: T, rate: 30, since: T, cuts: 1, peak: 40, cutAt: T };
    expect(cutsAgain(state, T - 1)).toBe(false);
    expect(cutsAgain(state, T + DEFAULT_PACE.cutGraceMs)).toBe(false);
    expect(cutsAgain(state, T + DEFAULT_PACE.cutGraceMs + 1)).toBe(true);
  });
});
