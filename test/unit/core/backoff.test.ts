import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BackoffPolicy,
  DEFAULT_BACKOFF,
  DEFAULT_VISIBILITY_BACKOFF,
  fullJitterDelay,
  visibilityBackoffSeconds,
} from '../../../src/core/backoff.js';

const lowest = () => 0;
const highest = () => 0.999;

describe('fullJitterDelay', () => {
  it('draws 0 ms when the random source gives 0', () => {
    expect(fullJitterDelay(3, false, DEFAULT_BACKOFF, lowest)).toBe(0);
  });

  it.each([
    [0, 99],
    [1, 199],
    [2, 399],
    [5, 3196],
  ])(
    'stays under base × 2^retry for retry %i (the draw just under the ceiling is %i ms)',
    (retry, expected) => {
      expect(fullJitterDelay(retry, false, DEFAULT_BACKOFF, highest)).toBe(expected);
    },
  );

  it('uses the throttling base (500 ms) when the failure was a throttle', () => {
    expect(fullJitterDelay(0, true, DEFAULT_BACKOFF, highest)).toBe(499);
    expect(fullJitterDelay(2, true, DEFAULT_BACKOFF, highest)).toBe(1998);
  });

  it('never exceeds the cap, however many retries', () => {
    expect(fullJitterDelay(30, false, DEFAULT_BACKOFF, highest)).toBe(19_980);
    expect(fullJitterDelay(1000, true, DEFAULT_BACKOFF, highest)).toBe(19_980);
  });

  it('treats a negative retry number as the first retry', () => {
    expect(fullJitterDelay(-3, false, DEFAULT_BACKOFF, highest)).toBe(99);
  });

  it('honours a custom policy', () => {
    const policy: BackoffPolicy = { baseMs: 10, throttleBaseMs: 20, capMs: 50 };
    expect(fullJitterDelay(1, false, policy, highest)).toBe(19);
    expect(fullJitterDelay(4, true, policy, highest)).toBe(49);
  });

  it('always draws a whole number in [0, min(cap, base × 2^retry))', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 64 }),
        fc.boolean(),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, throttled, draw) => {
          const delay = fullJitterDelay(retry, throttled, DEFAULT_BACKOFF, () => draw);
          const base = throttled ? DEFAULT_BACKOFF.throttleBaseMs : DEFAULT_BACKOFF.baseMs;
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.min(DEFAULT_BACKOFF.capMs, base * 2 ** retry));
        },
      ),
    );
  });
});

describe('visibilityBackoffSeconds', () => {
  it('gives half the base after the first receive when the random source gives 0 (equal jitter)', () => {
    expect(visibilityBackoffSeconds(1, DEFAULT_VISIBILITY_BACKOFF, lowest)).toBe(15);
  });

  it('gives at most the base after the first receive', () => {
    expect(visibilityBackoffSeconds(1, DEFAULT_VISIBILITY_BACKOFF, highest)).toBe(30);
  });

  it('grows with the receive count', () => {
    // Act
    const delays = [1, 2, 3, 4, 5].map((count) =>
      visibilityBackoffSeconds(count, DEFAULT_VISIBILITY_BACKOFF, lowest),
    );
    // Assess
    expect(delays).toEqual([15, 30, 60, 120, 240]);
  });

  it('is bounded by the cap however often the message came back', () => {
    expect(visibilityBackoffSeconds(50, DEFAULT_VISIBILITY_BACKOFF, highest)).toBe(900);
    expect(visibilityBackoffSeconds(50, DEFAULT_VISIBILITY_BACKOFF, lowest)).toBe(450);
  });

  it('is never below 1 second, even with a tiny base', () => {
    expect(visibilityBackoffSeconds(1, { baseSeconds: 0.1, capSeconds: 10 }, lowest)).toBe(1);
    expect(visibilityBackoffSeconds(1, { baseSeconds: 0, capSeconds: 10 }, lowest)).toBe(1);
  });

  it("never exceeds SQS's 12-hour visibility limit, even with a larger cap", () => {
    expect(visibilityBackoffSeconds(40, { baseSeconds: 60, capSeconds: 100_000 }, highest)).toBe(
      43_200,
    );
  });

  it('treats a receive count of 0 like the first receive', () => {
    expect(visibilityBackoffSeconds(0, DEFAULT_VISIBILITY_BACKOFF, lowest)).toBe(15);
  });

  it('always lies between half the ceiling and the ceiling, in whole seconds of at least 1', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (receiveCount, draw) => {
          const seconds = visibilityBackoffSeconds(
            receiveCount,
            DEFAULT_VISIBILITY_BACKOFF,
            () => draw,
          );
          const ceiling = Math.min(900, 30 * 2 ** (receiveCount - 1));
          expect(Number.isInteger(seconds)).toBe(true);
          expect(seconds).toBeGreaterThanOrEqual(Math.max(1, ceiling / 2));
          expect(seconds).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });
});
