import { describe, expect, it } from 'vitest';
import { Deadline, systemClock } from '../../../src/core/deadline.js';

const clockAt = (start: number) => {
  const clock = { now: start, read: () => clock.now };
  return clock;
};

describe('Deadline', () => {
  it('falls the reserve before the end of the invocation', () => {
    // Prepare
    const clock = clockAt(1_000_000);
    // Act
    const deadline = new Deadline(30_000, 3_000, clock.read);
    // Assess
    expect(deadline.at).toBe(1_027_000);
    expect(deadline.remainingMs()).toBe(27_000);
  });

  it('counts down as the clock moves', () => {
    const clock = clockAt(0);
    const deadline = new Deadline(10_000, 1_000, clock.read);
    clock.now = 4_000;
    expect(deadline.remainingMs()).toBe(5_000);
  });

  it('never reports negative time left', () => {
    const clock = clockAt(0);
    const deadline = new Deadline(10_000, 1_000, clock.read);
    clock.now = 60_000;
    expect(deadline.remainingMs()).toBe(0);
  });

  it('allows work that can finish by the deadline, including exactly at it', () => {
    const clock = clockAt(0);
    const deadline = new Deadline(10_000, 1_000, clock.read);
    expect(deadline.allows(9_000)).toBe(true);
    expect(deadline.allows(9_001)).toBe(false);
  });

  it('allows nothing when the reserve exceeds the remaining time', () => {
    const deadline = new Deadline(2_000, 3_000, clockAt(0).read);
    expect(deadline.remainingMs()).toBe(0);
    expect(deadline.allows(1)).toBe(false);
    expect(deadline.allows(0)).toBe(true);
  });

  it('uses the system clock by default', () => {
    const before = Date.now();
    const deadline = new Deadline(5_000, 0);
    expect(deadline.at).toBeGreaterThanOrEqual(before + 5_000);
    expect(Math.abs(systemClock() - Date.now())).toBeLessThan(1_000);
  });

  it('gives a signal that aborts with a TimeoutError when the deadline comes', async () => {
    // Prepare: 20 ms left on the real clock
    const deadline = new Deadline(20, 0);
    // Act
    const signal = deadline.signal();
    const reason = await new Promise<unknown>((resolve) =>
      signal.addEventListener('abort', () => resolve(signal.reason)),
    );
    // Assess
    expect(signal.aborted).toBe(true);
    expect(reason).toMatchObject({ name: 'TimeoutError' });
  });

  it('gives a signal that aborts at the cap when the cap comes before the deadline', async () => {
    const deadline = new Deadline(60_000, 0);
    const startedAt = Date.now();
    const signal = deadline.signal(10);
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('gives a signal that aborts at once (after 1 ms) when the deadline has passed', async () => {
    const deadline = new Deadline(0, 3_000);
    const signal = deadline.signal();
    await new Promise((resolve) => signal.addEventListener('abort', resolve));
    expect(signal.aborted).toBe(true);
  });

  it('gives a signal that has not aborted while time is left', () => {
    expect(new Deadline(60_000, 0).signal(30_000).aborted).toBe(false);
  });
});
