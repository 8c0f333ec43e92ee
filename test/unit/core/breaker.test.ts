import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  breakerStateOf,
  bucketOf,
  bucketWidthMs,
  decideReservations,
  emptyBreakerState,
  legacyMirrorOf,
  liveCounts,
  parseLegacyBreakerState,
  totalOf,
  viewBreaker,
  withoutReservation,
} from '../../../src/core/breaker.js';
import {
  BreakerOpenedDetailSchema,
  SwitchDetailSchema,
} from '../../../src/core/switch-event-schemas.js';
import { breakerOpenedDetail, switchDetail } from '../../../src/core/switch-events.js';
import { breakerTrigger } from '../../helpers/breaker.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const trigger = breakerTrigger;

describe('breaker rules (src/core/breaker.ts)', () => {
  it('status view: open or not, and the reservations inside the window only', () => {
    // Prepare
    const { state } = decideReservations(
      emptyBreakerState(),
      [1, 2, 3].map((n) => ({ reservation: { at: NOW - n * 20_000 }, trigger: trigger(n) })),
      { maxRevocations: 2, windowSeconds: 60 },
      NOW,
    );
    // Act + Assess
    expect(viewBreaker(state, 30, NOW)).toMatchObject({ open: true, revocationsInWindow: 1 });
    expect(viewBreaker(state, undefined, NOW).revocationsInWindow).toBe(2);
    expect(viewBreaker(state, 60, NOW).opening?.trippedBy.eventId).toBe('evt-3');
    expect(viewBreaker(emptyBreakerState(), 60, NOW)).toEqual({
      open: false,
      opening: null,
      revocationsInWindow: 0,
    });
  });

  it('status view of a closed breaker: the window its buckets were cut for, not the buckets a full write has not dropped yet', () => {
    // Prepare: a 300 s window (5 s buckets); 4 reservations 10 minutes ago, 2 now
    const counts = { [`${NOW - 600_000}:5000`]: 4, [`${NOW}:5000`]: 2 };
    // Act + Assess
    expect(viewBreaker({ counts }, undefined, NOW + 1000).revocationsInWindow).toBe(2);
    // the older form's entries (width 0) say nothing of the window: all count
    expect(
      viewBreaker({ counts: { [`${NOW - 600_000}:0`]: 3 } }, undefined, NOW).revocationsInWindow,
    ).toBe(3);
  });

  it('buckets: 1/60 of the window (at least 100 ms); a key carries its start and width', () => {
    const limit = (windowSeconds: number) => ({ maxRevocations: 10, windowSeconds });
    expect(bucketWidthMs(limit(300))).toBe(5000);
    expect(bucketWidthMs(limit(1))).toBe(100);
    expect(bucketWidthMs(limit(86_400))).toBe(1_440_000);
    expect(bucketOf(NOW + 3_500, limit(300))).toBe(`${NOW}:5000`);
    expect(bucketOf(NOW + 5_000, limit(300))).toBe(`${NOW + 5000}:5000`);
  });

  it('the window errs high, never low: a bucket counts until its end leaves the window', () => {
    // Prepare: a 60 s window (1 s buckets); one reservation at NOW + 0.9 s
    const counts = { [`${NOW}:1000`]: 1 };
    // Act + Assess: 60.5 s after the bucket started, its end (NOW + 1 s) is still in the window
    expect(totalOf(liveCounts(counts, 60, NOW + 60_500))).toBe(1);
    expect(totalOf(liveCounts(counts, 60, NOW + 61_000))).toBe(0);
    // A key that cannot be read counts until the breaker is closed
    expect(totalOf(liveCounts({ garbage: 2 }, 60, NOW + 1e9))).toBe(2);
  });

  it('decides in order: N reserved, the next opens it naming the oldest bucket, the rest find it open', () => {
    // Prepare: two reservations 30 s ago, in the window
    const limit = { maxRevocations: 3, windowSeconds: 60 };
    const before = decideReservations(
      emptyBreakerState(),
      [1, 2].map((n) => ({ reservation: { at: NOW - 30_000 }, trigger: trigger(n) })),
      limit,
      NOW - 30_000,
    ).state;
    // Act
    const { state, outcomes } = decideReservations(
      before,
      [3, 4, 5].map((n) => ({ reservation: { at: NOW }, trigger: trigger(n) })),
      limit,
      NOW,
    );
    // Assess
    expect(outcomes).toEqual([
      { status: 'reserved', revocationsInWindow: 3, bucket: `${NOW}:1000` },
      {
        status: 'open',
        openedNow: true,
        opening: {
          openedAt: NOW,
          revocationsInWindow: 3,
          firstRevocationAt: NOW - 30_000,
          maxRevocations: 3,
          windowSeconds: 60,
          trippedBy: trigger(4),
        },
      },
      expect.objectContaining({ status: 'open', openedNow: false }),
    ]);
    expect(state.counts).toEqual({ [`${NOW - 30_000}:1000`]: 2, [`${NOW}:1000`]: 1 });
  });

  it('a full write drops the buckets that left the window', () => {
    // Prepare
    const old = { counts: { [`${NOW - 120_000}:1000`]: 5 } };
    // Act
    const nothing = decideReservations(old, [], { maxRevocations: 3, windowSeconds: 60 }, NOW);
    const { state: after } = decideReservations(
      old,
      [{ reservation: { at: NOW }, trigger: trigger(1) }],
      { maxRevocations: 3, windowSeconds: 60 },
      NOW,
    );
    // Assess
    expect(nothing.changed).toBe(false);
    expect(after.counts).toEqual({ [`${NOW}:1000`]: 1 });
  });

  it('releases one reservation of a bucket, never below zero', () => {
    const state = { counts: { a: 1 } };
    expect(withoutReservation(state, 'a')).toEqual({ counts: { a: 0 } });
    expect(withoutReservation({ counts: { a: 0 } }, 'a')).toBeUndefined();
    expect(withoutReservation(state, 'b')).toBeUndefined();
  });

  it('an unreadable record counts as open (fail closed), saying why', () => {
    expect(parseLegacyBreakerState(undefined)).toEqual({ counts: {} });
    const broken = parseLegacyBreakerState('{"reservations": 3}');
    expect(broken.open?.trippedBy.eventId).toBe(
      'unreadable breaker record: reservations is not an array',
    );
    expect(parseLegacyBreakerState('not json').open).toBeDefined();
    expect(breakerStateOf({ a: 1.5 }, undefined).open?.trippedBy.eventId).toBe(
      'unreadable breaker record: a bucket count is not a whole number',
    );
    expect(breakerStateOf({}, '{"openedAt": 1}').open?.trippedBy.eventId).toBe(
      'unreadable breaker record: the opening has no openedAt or trippedBy',
    );
  });

  it("the record's older form (one entry per reservation) is read without losing a count or an opening", () => {
    // Prepare: what a worker of the previous version wrote
    const opening = {
      openedAt: NOW,
      revocationsInWindow: 3,
      firstRevocationAt: NOW - 2000,
      maxRevocations: 3,
      windowSeconds: 60,
      trippedBy: trigger(4),
    };
    const legacy = JSON.stringify({
      reservations: [
        { id: 'a', at: NOW - 2000 },
        { id: 'b', at: NOW - 2000 },
        { id: 'c', at: NOW - 1000 },
      ],
      open: opening,
    });
    // Act
    const state = parseLegacyBreakerState(legacy);
    // Assess: each instant is a bucket of width 0, exact to the millisecond
    expect(state).toEqual({
      counts: { [`${NOW - 2000}:0`]: 2, [`${NOW - 1000}:0`]: 1 },
      open: opening,
    });
    expect(totalOf(liveCounts(state.counts, 60, NOW + 57_000))).toBe(3);
    expect(totalOf(liveCounts(state.counts, 60, NOW + 58_500))).toBe(1);
    // and what the new form tells a previous worker: the opening, so that it holds its calls
    expect(parseLegacyBreakerState(legacyMirrorOf(state))).toEqual({ counts: {}, open: opening });
  });

  it('the events cap free text: a 5 KiB reason is cut to 1 KiB, ending in …', () => {
    // Act
    const detail = JSON.parse(
      switchDetail({
        caller: {
          arn: 'arn:aws:sts::111122223333:assumed-role/ops/alice',
          account: '111122223333',
          userId: null,
        },
        reason: 'x'.repeat(5 * 1024),
        at: new Date(NOW),
        functionName: 'revoker',
        queueArn: 'arn:aws:sqs:us-east-1:111122223333:q',
        mappings: [],
      }),
    ) as { reason: string };
    const opened = JSON.parse(
      breakerOpenedDetail(
        {
          openedAt: NOW,
          revocationsInWindow: 2,
          firstRevocationAt: null,
          maxRevocations: 2,
          windowSeconds: 60,
          trippedBy: { ...trigger(1), eventId: 'é'.repeat(2000) },
        },
        { functionName: 'revoker', awsRequestId: 'req' },
      ),
    ) as { trippedBy: { eventId: string }; openedAt: string; firstRevocationAt: null };
    // Assess
    expect(Buffer.byteLength(detail.reason)).toBeLessThanOrEqual(1024);
    expect(detail.reason.endsWith('…')).toBe(true);
    expect(Buffer.byteLength(opened.trippedBy.eventId)).toBeLessThanOrEqual(1536);
    expect(opened).toMatchObject({ openedAt: '2026-11-29T12:00:00.000Z', firstRevocationAt: null });
  });

  it('the events match their published schemas (schemas/breaker-opened-detail, switch-detail): no field missing or unknown', () => {
    // Prepare
    const opening = {
      openedAt: NOW,
      revocationsInWindow: 3,
      firstRevocationAt: NOW - 30_000,
      maxRevocations: 2,
      windowSeconds: 60,
      trippedBy: trigger(3),
    };
    const switched = {
      caller: {
        arn: 'arn:aws:sts::111122223333:assumed-role/ops/alice',
        account: '111122223333',
        userId: 'AROA:alice',
      },
      reason: 'policy engine bug',
      at: new Date(NOW),
      functionName: 'revoker',
      queueArn: 'arn:aws:sqs:us-east-1:111122223333:q',
      mappings: [{ uuid: 'm-1', state: 'Disabling', changed: true }],
    };
    // Act
    const opened = JSON.parse(
      breakerOpenedDetail(opening, { functionName: 'revoker', awsRequestId: 'req' }),
    );
    const paused = JSON.parse(switchDetail(switched));
    const resumed = JSON.parse(
      switchDetail({ ...switched, reason: undefined, breakerClosed: opening }),
    );
    const resumedNoBreaker = JSON.parse(switchDetail({ ...switched, breakerClosed: null }));
    // Assess
    expect(v.safeParse(BreakerOpenedDetailSchema, opened).issues).toBeUndefined();
    for (const detail of [paused, resumed, resumedNoBreaker])
      expect(v.safeParse(SwitchDetailSchema, detail).issues).toBeUndefined();
    expect(v.safeParse(SwitchDetailSchema, { ...paused, extra: 1 }).success).toBe(false);
  });
});
