import pLimit from 'p-limit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdempotencyStoreError } from '../../../src/core/errors.js';
import { DEFAULT_PACE, freshPace, type PaceState } from '../../../src/core/shared-rate.js';
import type { PaceRecords, PaceReservation } from '../../../src/worker/ports.js';
import { SharedRedshiftGate } from '../../../src/worker/shared-gate.js';

/** The record's semantics in memory (the DynamoDB adapter's are tested on dynalite). */
class MemoryPaceRecords implements PaceRecords {
  readonly settings = DEFAULT_PACE;
  state: PaceState | undefined;
  reservations = 0;
  cuts = 0;
  failing = false;

  async reserve(_key: string, request: { spanMs: number; now: number }): Promise<PaceReservation> {
    this.reservations += 1;
    if (this.failing)
      throw new IdempotencyStoreError(
        'store down',
        { kind: 'transient', code: 'InternalServerError' },
        {},
      );
    const state = this.state ?? freshPace(request.now);
    const start = Math.max(state.slotAt, request.now);
    this.state = { ...state, slotAt: start + request.spanMs };
    return { start, state: this.state };
  }

  async cut(
    _key: string,
    request: { sentAt: number; now: number; known: PaceState },
  ): Promise<PaceState | undefined> {
    if (this.state === undefined || this.state.cutAt + DEFAULT_PACE.cutGraceMs >= request.sentAt)
      return undefined;
    this.cuts += 1;
    this.state = {
      ...this.state,
      rate: this.state.rate / 2,
      since: request.now,
      cutAt: request.now,
      cuts: 1,
    };
    return this.state;
  }
}

const throttle = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
const options = {
  canStart: () => true,
  isThrottle: (error: unknown) => error === throttle,
};

const gateOf = (records: PaceRecords, onFailure?: (error: unknown) => void) =>
  new SharedRedshiftGate({
    key: '111122223333|us-east-1',
    records,
    inFlight: pLimit(10),
    maxConcurrency: 10,
    ...(onFailure && { onFailure }),
  });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'Date'] });
  vi.setSystemTime(Date.parse('2026-11-30T09:00:00Z'));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SharedRedshiftGate', () => {
  it('two containers sharing a record call at the shared rate together, not each at it', async () => {
    // Prepare
    const records = new MemoryPaceRecords();
    const sent: number[] = [];
    const call = async () => {
      sent.push(Date.now());
      return 'ok';
    };
    const [a, b] = [gateOf(records), gateOf(records)];
    // Act: ten calls each, all at once
    const runs = [a, b].flatMap((gate) =>
      Array.from({ length: 10 }, () => gate.run(call, options)),
    );
    await vi.runAllTimersAsync();
    await Promise.all(runs);
    // Assess: 20 calls from an initial rate of 20/s (doubling every second in slow start) take
    // about 0.65 s; two containers pacing alone (10 calls each) were done in 0.2 s when this was checked
    sent.sort((x, y) => x - y);
    const spread = (sent.at(-1) as number) - (sent[0] as number);
    expect(sent).toHaveLength(20);
    expect(spread).toBeGreaterThanOrEqual(600);
  });

  it('a rested, warm container starts a whole batch at once (its earned burst)', async () => {
    // Prepare: ten answered calls earn the burst
    const records = new MemoryPaceRecords();
    const gate = gateOf(records);
    const warm = Array.from({ length: 10 }, () => gate.run(async () => 'ok', options));
    await vi.runAllTimersAsync();
    await Promise.all(warm);
    await vi.advanceTimersByTimeAsync(5000);
    const sent: number[] = [];
    const before = records.reservations;
    // Act
    const batch = Array.from({ length: 10 }, () =>
      gate.run(async () => {
        sent.push(Date.now());
      }, options),
    );
    await vi.runAllTimersAsync();
    await Promise.all(batch);
    // Assess
    expect(gate.burst).toBe(10);
    expect((sent.at(-1) as number) - (sent[0] as number)).toBe(0);
    expect(records.reservations - before).toBe(1);
  });

  it('throttles of calls booked before a cut do not cut the shared rate again', async () => {
    // Prepare: a control plane called for a second already
    const records = new MemoryPaceRecords();
    const gate = gateOf(records);
    const first = gate.run(async () => 'ok', options);
    await vi.runAllTimersAsync();
    await first;
    await vi.advanceTimersByTimeAsync(1000);
    const runs = Array.from({ length: 5 }, () =>
      gate
        .run(async () => {
          throw throttle;
        }, options)
        .catch((error: unknown) => error),
    );
    // Act
    await vi.runAllTimersAsync();
    const results = await Promise.all(runs);
    // Assess
    expect(results.every((result) => result === throttle)).toBe(true);
    expect(records.cuts).toBeGreaterThanOrEqual(1);
    expect(records.cuts).toBeLessThan(5);
    expect(gate.burst).toBe(1);
    expect(gate.ratePerSecond).toBeLessThan(DEFAULT_PACE.initialPerSecond * 2);
  });

  it('when the store fails, the calls still go, paced by this container alone, and the failure is reported', async () => {
    // Prepare
    const records = new MemoryPaceRecords();
    records.failing = true;
    const failures: unknown[] = [];
    const gate = gateOf(records, (error) => failures.push(error));
    const sent: number[] = [];
    // Act
    const runs = Array.from({ length: 4 }, () =>
      gate.run(async () => {
        sent.push(Date.now());
      }, options),
    );
    await vi.runAllTimersAsync();
    await Promise.all(runs);
    // Assess: not all at once (a fresh container's burst is one call; it earns more as it goes)
    expect(sent).toHaveLength(4);
    expect((sent[3] as number) - (sent[0] as number)).toBeGreaterThanOrEqual(
      1000 / DEFAULT_PACE.initialPerSecond,
    );
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures[0]).toBeInstanceOf(IdempotencyStoreError);
  });

  it('gives up a slot it may not wait for (the deadline), without calling', async () => {
    // Prepare
    const records = new MemoryPaceRecords();
    records.state = { ...freshPace(Date.now()), slotAt: Date.now() + 10_000 };
    const gate = gateOf(records);
    let called = false;
    // Act
    const run = gate.run(
      async () => {
        called = true;
      },
      { ...options, canStart: (waitMs) => waitMs < 1000 },
    );
    await vi.runAllTimersAsync();
    // Assess
    expect(typeof (await run)).toBe('symbol');
    expect(called).toBe(false);
  });
});

describe('SharedRedshiftGate and the deadline', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setImmediate', 'Date'] });
  });

  it('a call that may not wait while the schedule is booked far ahead gives up at once, unbooked', async () => {
    // Prepare: the schedule is booked 5 s ahead, and this container has seen it
    const records = new MemoryPaceRecords();
    records.state = { ...freshPace(Date.now()), slotAt: Date.now() + 5000 };
    const gate = gateOf(records);
    const first = gate.run(async () => 'ok', options);
    await vi.advanceTimersByTimeAsync(10);
    const reservations = records.reservations;
    const askedAt = Date.now();
    let answeredAt = 0;
    // Act: a call that may wait one second at most
    const late = gate
      .run(async () => 'called', { ...options, canStart: (waitMs) => waitMs < 1000 })
      .then((result) => {
        answeredAt = Date.now();
        return result;
      });
    await vi.advanceTimersByTimeAsync(10);
    // Assess
    expect(typeof (await late)).toBe('symbol');
    expect(answeredAt - askedAt).toBeLessThan(100);
    expect(records.reservations).toBe(reservations);
    await vi.runAllTimersAsync();
    expect(await first).toBe('ok');
  });
});

describe('SharedRedshiftGate, calls that ask while a reservation ends', () => {
  it('a call asking for its turn just as the last reservation finished still gets one', async () => {
    // Prepare
    vi.useRealTimers();
    const records = new MemoryPaceRecords();
    const gate = gateOf(records);
    const done: string[] = [];
    // Act: each call starts the next from inside itself, at the moment its own turn came
    const chain = (depth: number): Promise<unknown> =>
      gate.run(async () => {
        done.push(`call ${depth}`);
        if (depth < 5) await chain(depth + 1);
      }, options);
    await Promise.race([
      chain(1),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('a call never got its turn')), 3000),
      ),
    ]);
    // Assess
    expect(done).toEqual(['call 1', 'call 2', 'call 3', 'call 4', 'call 5']);
  });
});
