import { describe, expect, it, vi } from 'vitest';
import type { CongestionMarks } from '../../../src/worker/ports.js';
import {
  CONGESTION_WINDOW_MS,
  DEFAULT_RATE,
  MARKED_DECREASE,
  MARKED_MIN_RATE,
  NOT_STARTED,
  type RateSettings,
  RedshiftGate,
} from '../../../src/worker/redshift-gate.js';
import { VirtualClock } from '../../helpers/fakes.js';

class Throttled extends Error {}
const isThrottle = (error: unknown) => error instanceof Throttled;
const always = () => true;

// Slow start off unless a test turns it on: the AIMD figures below are easier to read without it.
const gateOn = (clock: VirtualClock, rate: Partial<RateSettings> = {}, maxConcurrency = 1) =>
  new RedshiftGate({
    maxConcurrency,
    rate: {
      initialPerSecond: 10,
      slowStartIncrease: 0,
      slowStartDecrease: rate.decrease ?? 0.7,
      ...rate,
    },
    clock: clock.read,
    sleep: clock.sleep,
  });

describe('RedshiftGate', () => {
  it('spaces call starts by the current rate', async () => {
    const clock = new VirtualClock();
    const gate = gateOn(clock);
    const starts: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      await gate.run(async () => starts.push(clock.now), { canStart: always, isThrottle });
    }
    const gaps = starts.slice(1).map((at, i) => at - (starts[i] ?? 0));
    // 1000 / 10 calls per second, a little less each time as the rate climbs after each success.
    expect(gaps[0]).toBe(100);
    expect(gaps.every((gap) => gap > 98 && gap <= 100)).toBe(true);
  });

  it('cuts the rate multiplicatively on a throttle, and climbs back additively on success', async () => {
    const clock = new VirtualClock();
    const gate = gateOn(clock, { decrease: 0.5, increase: 1 });
    await expect(
      gate.run(() => Promise.reject(new Throttled()), { canStart: always, isThrottle }),
    ).rejects.toBeInstanceOf(Throttled);
    expect(gate.ratePerSecond).toBe(5);
    // The first answer after the cut comes before half the rate was used in a second: no growth.
    for (let i = 0; i < 6; i += 1)
      await gate.run(async () => 'ok', { canStart: always, isThrottle });
    expect(gate.ratePerSecond).toBeGreaterThan(5.9);
    expect(gate.ratePerSecond).toBeLessThan(6.1);
  });

  it('cuts once for throttles of calls that were sent before the last cut', async () => {
    const clock = new VirtualClock();
    const gate = gateOn(clock, { decrease: 0.5 }, 2);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = gate.run(
      async () => {
        await held;
        throw new Throttled();
      },
      { canStart: always, isThrottle },
    );
    const fast = gate.run(() => Promise.reject(new Throttled()), { canStart: always, isThrottle });
    await expect(fast).rejects.toBeInstanceOf(Throttled);
    release();
    await expect(slow).rejects.toBeInstanceOf(Throttled);
    expect(gate.ratePerSecond).toBe(5);
  });

  it('ignores failures that are not throttles', async () => {
    const clock = new VirtualClock();
    const gate = gateOn(clock);
    await expect(
      gate.run(() => Promise.reject(new Error('500')), { canStart: always, isThrottle }),
    ).rejects.toThrow('500');
    expect(gate.ratePerSecond).toBe(10);
  });

  it('never goes below the minimum rate nor above the maximum', async () => {
    const clock = new VirtualClock();
    const gate = gateOn(clock, { minPerSecond: 2, maxPerSecond: 11, decrease: 0.1 });
    for (let i = 0; i < 3; i += 1) {
      clock.advance(1000);
      await gate
        .run(() => Promise.reject(new Throttled()), { canStart: always, isThrottle })
        .catch(() => undefined);
    }
    expect(gate.ratePerSecond).toBe(2);
    for (let i = 0; i < 200; i += 1)
      await gate.run(async () => 'ok', { canStart: always, isThrottle });
    expect(gate.ratePerSecond).toBe(11);
  });

  it('does not start a call when the caller says the wait would end too late', async () => {
    const clock = new VirtualClock();
    const gate = gateOn(clock);
    let ran = 0;
    await gate.run(async () => ran++, { canStart: always, isThrottle });
    const waits: number[] = [];
    const result = await gate.run(async () => ran++, {
      canStart: (waitMs) => {
        waits.push(waitMs);
        return false;
      },
      isThrottle,
    });
    expect(result).toBe(NOT_STARTED);
    expect(ran).toBe(1);
    expect(waits).toEqual([100]);
  });

  it('caps the calls in flight', async () => {
    const clock = new VirtualClock();
    const gate = new RedshiftGate({
      maxConcurrency: 2,
      rate: { initialPerSecond: 1000 },
      clock: clock.read,
      sleep: clock.sleep,
    });
    let inFlight = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        gate.run(
          async () => {
            inFlight += 1;
            most = Math.max(most, inFlight);
            await new Promise((resolve) => setTimeout(resolve, 2));
            inFlight -= 1;
          },
          { canStart: always, isThrottle },
        ),
      ),
    );
    expect(most).toBe(2);
  });
});

describe('RedshiftGate — slow start', () => {
  it('climbs by one call per second per answered call until its first throttle, then by AIMD', async () => {
    const clock = new VirtualClock();
    const gate = gateOn(clock, { slowStartIncrease: 1, slowStartDecrease: 0.5, decrease: 0.7 });
    for (let i = 0; i < 14; i += 1)
      await gate.run(async () => undefined, { canStart: always, isThrottle });
    // The first four calls used less than half the rate (10 calls/s) within a second: the rate
    // grows only on the ten after them.
    expect(gate.ratePerSecond).toBe(20);
    // The throttle that ends slow start halves the rate; later ones cut by `decrease`.
    await gate
      .run(() => Promise.reject(new Throttled()), { canStart: always, isThrottle })
      .catch(() => undefined);
    expect(gate.ratePerSecond).toBe(10);
    await gate.run(async () => undefined, { canStart: always, isThrottle });
    // After the first throttle: increase / rate (1.5 / 10), never slow start again.
    expect(gate.ratePerSecond).toBeCloseTo(10.15, 5);
    clock.advance(1000);
    await gate
      .run(() => Promise.reject(new Throttled()), { canStart: always, isThrottle })
      .catch(() => undefined);
    expect(gate.ratePerSecond).toBeCloseTo(10.15 * 0.7, 5);
  });

  it('grows only while half the rate is used within a second: a warm container whose batches fit its burst keeps about twice the rate it uses, not one it never tested', async () => {
    // Prepare: a warm gate with a burst of 5, called in rested batches of 5 (as a quiet queue does)
    const clock = new VirtualClock();
    const gate = new RedshiftGate({
      maxConcurrency: 5,
      rate: { initialPerSecond: 10, initialBurst: 5 },
      clock: clock.read,
      sleep: clock.sleep,
    });

    // Act: 20 batches of 5, a second apart
    for (let batch = 0; batch < 20; batch += 1) {
      for (let i = 0; i < 5; i += 1)
        await gate.run(async () => undefined, { canStart: always, isThrottle });
      clock.advance(1000);
    }

    // Assess: 100 answered calls at 5 a second: 11 calls/s (5 ≥ 10 / 2 once), not 110
    expect(gate.ratePerSecond).toBe(11);
    expect(gate.burst).toBe(5);
  });
});

describe('RedshiftGate — burst', () => {
  it('a fresh gate starts one call at once: a storm of fresh containers does not burst together', async () => {
    const clock = new VirtualClock();
    const waits: number[] = [];
    const gate = new RedshiftGate({
      maxConcurrency: 3,
      rate: { initialPerSecond: 10 },
      clock: clock.read,
      sleep: async (ms) => {
        waits.push(ms);
        await clock.sleep(ms);
      },
    });
    expect(gate.burst).toBe(1);
    await Promise.all(
      Array.from({ length: 3 }, () =>
        gate.run(async () => undefined, { canStart: always, isThrottle }),
      ),
    );
    // The first at once, the two others one interval (100 ms at 10 calls/s) after each other.
    expect(waits).toEqual([100, 100]);
    expect(gate.burst).toBe(3);
  });

  it('earns one call of burst per answered call, up to its concurrency cap, and then starts that many at once after a rest', async () => {
    const clock = new VirtualClock();
    const gate = gateOn(clock, {}, 3);
    for (let i = 0; i < 5; i += 1)
      await gate.run(async () => undefined, { canStart: always, isThrottle });
    expect(gate.burst).toBe(3);
    clock.advance(1000);
    const starts: number[] = [];
    const t0 = clock.now;
    for (let i = 0; i < 5; i += 1)
      await gate.run(async () => starts.push(clock.now - t0), { canStart: always, isThrottle });
    // At once, give or take the rate's climb after each success (a few ms at most).
    expect(starts.slice(0, 3).every((at) => at < 5)).toBe(true);
    expect((starts[4] ?? 0) - (starts[3] ?? 0)).toBeGreaterThan(90);
  });

  it('a burst earned while busy is room, not calls: back-to-back batches stay paced, a rested gate starts its batch whole', async () => {
    // Prepare: timers that run together (a batch's calls wait for their slots at the same time)
    vi.useFakeTimers({ now: Date.parse('2026-11-25T09:00:00Z') });
    try {
      const gate = new RedshiftGate({
        maxConcurrency: 10,
        rate: { initialPerSecond: 10, slowStartIncrease: 0 },
        clock: Date.now,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      });
      const batch = async (runFor: number) => {
        const starts: number[] = [];
        const done = Promise.all(
          Array.from({ length: 10 }, () =>
            gate.run(async () => starts.push(Date.now()), { canStart: always, isThrottle }),
          ),
        );
        await vi.advanceTimersByTimeAsync(runFor);
        await done;
        return starts;
      };
      // A fresh gate's first batch goes one call per interval and earns it a burst of 10.
      const first = await batch(1000);
      expect(gate.burst).toBe(10);

      // Act: the next batch at once (a storm's back-to-back batches), then one after a rest
      const second = await batch(1500);
      vi.advanceTimersByTime(2000);
      const third = await batch(0);

      // Assess: the second batch paced by the rate (10 calls/s, a little more as it climbs), not
      // nine at once; the rested gate's batch all at once
      const gaps = second.map((at, i) => at - ((i === 0 ? first[9] : second[i - 1]) ?? 0));
      expect(gaps.every((gap) => gap > 80 && gap <= 100)).toBe(true);
      expect(third.every((at) => at === third[0])).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('loses its burst on a throttle: the next calls are paced at the cut rate, the burst earned again', async () => {
    const clock = new VirtualClock();
    // A window wide enough that the rate (5 calls/s after the cut) does not bound the burst.
    const gate = gateOn(clock, { decrease: 0.5, burstWindowSeconds: 1 }, 3);
    for (let i = 0; i < 3; i += 1)
      await gate.run(async () => undefined, { canStart: always, isThrottle });
    clock.advance(1000);
    await gate
      .run(() => Promise.reject(new Throttled()), { canStart: always, isThrottle })
      .catch(() => undefined);
    expect(gate.burst).toBe(1);
    const starts: number[] = [];
    const t0 = clock.now;
    for (let i = 0; i < 3; i += 1)
      await gate.run(async () => starts.push(clock.now - t0), { canStart: always, isThrottle });
    expect(starts[0]).toBeGreaterThanOrEqual(180);
    expect((starts[1] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(170);
    // Calls sent within a second of the throttle earn nothing; later ones earn it back.
    expect(gate.burst).toBe(1);
    clock.advance(1000);
    for (let i = 0; i < 3; i += 1)
      await gate.run(async () => undefined, { canStart: always, isThrottle });
    expect(gate.burst).toBe(3);
  });

  it('once throttled, bounds a rested burst by what its rate allows in the burst window: bursts landing together are what a throttling control plane refuses', async () => {
    // Prepare: a warm gate of 10 that earned a burst of 10, then one throttle at 40 calls/s.
    const clock = new VirtualClock();
    const waits: number[] = [];
    const gate = new RedshiftGate({
      maxConcurrency: 10,
      rate: { initialPerSecond: 40, slowStartIncrease: 0, decrease: 0.5, slowStartDecrease: 0.5 },
      clock: clock.read,
      sleep: async (ms) => {
        waits.push(ms);
        await clock.sleep(ms);
      },
    });
    for (let i = 0; i < 10; i += 1)
      await gate.run(async () => undefined, { canStart: always, isThrottle });
    expect(gate.burst).toBe(10);
    clock.advance(1000);
    await gate
      .run(() => Promise.reject(new Throttled()), { canStart: always, isThrottle })
      .catch(() => undefined);
    // Earn the burst back, a second after the throttle.
    clock.advance(1000);
    for (let i = 0; i < 10; i += 1)
      await gate.run(async () => undefined, { canStart: always, isThrottle });
    expect(gate.ratePerSecond).toBeGreaterThan(20);
    expect(gate.ratePerSecond).toBeLessThan(21);

    // Act: a batch of 10 after a rest
    clock.advance(1000);
    waits.length = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        gate.run(async () => undefined, { canStart: always, isThrottle }),
      ),
    );

    // Assess: 5 start at once (20 calls/s × 0.25 s), the 5 others wait their turn, not 10 at once
    // (A wait under a millisecond is the interval arithmetic's rounding, not a held call.)
    const held = waits.filter((ms) => ms >= 1);
    expect(gate.burst).toBe(5);
    expect(held).toHaveLength(5);
    expect(held.every((ms) => ms > 40 && ms <= 50)).toBe(true);
  });
});

describe('RedshiftGate — congestion marks shared by containers', () => {
  const KEY = '111122223333|us-east-1';
  const signal = () => AbortSignal.timeout(1000);
  /** The marks as the table keeps them: one per key, refused while younger than the window. */
  const sharedMarks = (fail = false) => {
    const markedAt = new Map<string, number>();
    const calls: { key: string; now: number; windowMs: number }[] = [];
    const marks: CongestionMarks = {
      mark: async (key, { now, windowMs }) => {
        calls.push({ key, now, windowMs });
        if (fail) throw new Error('store unavailable');
        const last = markedAt.get(key);
        if (last !== undefined && last > now - windowMs) return false;
        markedAt.set(key, now);
        return true;
      },
    };
    return { marks, calls };
  };
  const containerGate = (clock: VirtualClock, marks: CongestionMarks) =>
    new RedshiftGate({
      maxConcurrency: 1,
      rate: { initialPerSecond: 10, slowStartIncrease: 0, slowStartDecrease: 0.5 },
      clock: clock.read,
      sleep: clock.sleep,
      marks,
      key: KEY,
    });
  const throttle = (gate: RedshiftGate, withSignal = true) =>
    gate
      .run(() => Promise.reject(new Throttled()), {
        canStart: always,
        isThrottle,
        ...(withSignal && { signal }),
      })
      .catch(() => undefined);

  it('one congestion, one full cut: the first container to mark it cuts by `decrease`, the others throttled within the window by `markedDecrease`', async () => {
    // Prepare: two containers past their slow start (one cut each, 10 → 5 calls/s), a second ago
    const clock = new VirtualClock();
    const { marks, calls } = sharedMarks();
    const first = containerGate(clock, marks);
    const second = containerGate(clock, marks);
    await throttle(first);
    await throttle(second);
    expect(calls).toHaveLength(0); // the slow start's exit is cut alone, without a mark
    clock.advance(1000);
    // Act: both throttled by one empty bucket, 100 ms apart
    await throttle(first);
    clock.advance(100);
    await throttle(second);
    // Assess
    expect(first.ratePerSecond).toBeCloseTo(5 * DEFAULT_RATE.decrease, 9);
    expect(second.ratePerSecond).toBeCloseTo(5 * MARKED_DECREASE, 9);
    expect(calls.map((c) => [c.key, c.windowMs])).toEqual([
      [KEY, CONGESTION_WINDOW_MS],
      [KEY, CONGESTION_WINDOW_MS],
    ]);
    // Act: a throttle past the window is a new congestion, and its first container cuts in full
    clock.advance(CONGESTION_WINDOW_MS);
    await throttle(second);
    expect(second.ratePerSecond).toBeCloseTo(5 * MARKED_DECREASE * DEFAULT_RATE.decrease, 9);
  });

  it('below MARKED_MIN_RATE cuts in full without marking: a slow account shared by several containers needs every cut', async () => {
    // Prepare: two containers of a slow control plane, past their slow start at 4 calls/s
    const clock = new VirtualClock();
    const { marks, calls } = sharedMarks();
    const slowGate = () =>
      new RedshiftGate({
        maxConcurrency: 1,
        rate: { initialPerSecond: 8, slowStartIncrease: 0, slowStartDecrease: 0.5 },
        clock: clock.read,
        sleep: clock.sleep,
        marks,
        key: KEY,
      });
    const first = slowGate();
    const second = slowGate();
    await throttle(first);
    await throttle(second);
    expect(second.ratePerSecond).toBeLessThan(MARKED_MIN_RATE);
    clock.advance(1000);
    // Act: both throttled by one empty bucket, 100 ms apart
    await throttle(first);
    clock.advance(100);
    await throttle(second);
    // Assess: both cut in full; no mark was written
    expect(first.ratePerSecond).toBeCloseTo(4 * DEFAULT_RATE.decrease, 9);
    expect(second.ratePerSecond).toBeCloseTo(4 * DEFAULT_RATE.decrease, 9);
    expect(calls).toHaveLength(0);
  });

  it('cuts in full, as alone, when the mark fails or the caller gives no signal to bound it', async () => {
    const clock = new VirtualClock();
    const failing = sharedMarks(true);
    const gate = containerGate(clock, failing.marks);
    await throttle(gate);
    clock.advance(1000);
    await throttle(gate);
    expect(failing.calls).toHaveLength(1);
    expect(gate.ratePerSecond).toBeCloseTo(5 * DEFAULT_RATE.decrease, 9);

    const working = sharedMarks();
    const other = containerGate(clock, working.marks);
    const unbounded = containerGate(clock, working.marks);
    await throttle(other);
    await throttle(unbounded);
    clock.advance(1000);
    await throttle(other);
    clock.advance(10);
    await throttle(unbounded, false);
    expect(working.calls).toHaveLength(1);
    expect(unbounded.ratePerSecond).toBeCloseTo(5 * DEFAULT_RATE.decrease, 9);
  });

  it('re-spaces a call that waited while the mark was written at the rate the mark decided', async () => {
    // Prepare: timers that run together, and a mark that takes 30 ms to answer that another
    // container was first
    vi.useFakeTimers({ now: Date.parse('2026-11-25T09:00:00Z') });
    try {
      const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
      const marks: CongestionMarks = {
        mark: async () => {
          await wait(30);
          return false;
        },
      };
      const gate = new RedshiftGate({
        maxConcurrency: 2,
        rate: { initialPerSecond: 10, slowStartIncrease: 0, slowStartDecrease: 0.5 },
        clock: Date.now,
        sleep: wait,
        marks,
        key: KEY,
      });
      await throttle(gate); // the slow start's exit: 5 calls/s
      vi.advanceTimersByTime(1000);
      const cutAt = Date.now();
      const starts: number[] = [];
      // Act: a throttle, and a call queued behind it
      const throttled = throttle(gate);
      const next = gate.run(async () => starts.push(Date.now()), {
        canStart: always,
        isThrottle,
        signal,
      });
      await vi.advanceTimersByTimeAsync(1000);
      await Promise.all([throttled, next]);
      // Assess: it started one interval of the marked cut's rate (4.5 calls/s: 222 ms) after the
      // cut, not one of the old rate (200 ms) nor of a full cut (3.5 calls/s: 286 ms)
      expect(gate.ratePerSecond).toBeCloseTo(5 * MARKED_DECREASE, 9);
      expect(starts).toHaveLength(1);
      expect((starts[0] ?? 0) - cutAt).toBeGreaterThanOrEqual(222);
      expect((starts[0] ?? 0) - cutAt).toBeLessThanOrEqual(223);
    } finally {
      vi.useRealTimers();
    }
  });
});
