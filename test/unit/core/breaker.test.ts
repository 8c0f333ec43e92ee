import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  type BreakerTrigger,
  decideReservations,
  emptyBreakerState,
  parseBreakerState,
  viewBreaker,
} from '../../../src/core/breaker.js';
import {
  BreakerOpenedDetailSchema,
  SwitchDetailSchema,
} from '../../../src/core/switch-event-schemas.js';
import { breakerOpenedDetail, switchDetail } from '../../../src/core/switch-events.js';

const NOW = Date.parse('2026-11-29T12:00:00Z');
const trigger = (n: number): BreakerTrigger => ({
  eventId: `evt-${n}`,
  target: `t-${n}`,
  dataShareArn: 'arn:aws:redshift:us-east-1:444455556666:datashare:p/s',
  policyId: 'pol',
  messageId: `m-${n}`,
});

describe('breaker rules (src/core/breaker.ts)', () => {
  it('status view: open or not, and the reservations inside the window only', () => {
    // Prepare
    const { state } = decideReservations(
      emptyBreakerState(),
      [1, 2, 3].map((n) => ({
        reservation: { id: `r${n}`, at: NOW - n * 20_000 },
        trigger: trigger(n),
      })),
      { maxRevocations: 2, windowSeconds: 3600 },
    );
    // Act + Assess
    expect(viewBreaker(state, 30, NOW)).toMatchObject({ open: true, revocationsInWindow: 1 });
    expect(viewBreaker(state, undefined, NOW).revocationsInWindow).toBe(2);
    expect(viewBreaker(state, 3600, NOW).opening?.trippedBy.eventId).toBe('evt-3');
    expect(viewBreaker(emptyBreakerState(), 60, NOW)).toEqual({
      open: false,
      opening: null,
      revocationsInWindow: 0,
    });
  });

  it('an unreadable record counts as open (fail closed), saying why', () => {
    expect(parseBreakerState(undefined)).toEqual({ reservations: [] });
    const broken = parseBreakerState('{"reservations": 3}');
    expect(broken.open?.trippedBy.eventId).toBe(
      'unreadable breaker record: reservations is not an array',
    );
    expect(parseBreakerState('not json').open).toBeDefined();
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
