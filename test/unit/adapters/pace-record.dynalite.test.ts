import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbPaceRecords, PACE_ITEM_PREFIX } from '../../../src/adapters/pace-record.js';
import { IdempotencyStoreError } from '../../../src/core/errors.js';
import { DEFAULT_PACE, type PaceState, rateWhenIdle } from '../../../src/core/shared-rate.js';
import { useLocalDynamoDb } from '../../helpers/dynalite.js';

/**
 * The shared pace's record against dynalite (the real DynamoDB protocol): proves DynamoDB accepts
 * its conditional updates, and that spans taken by racing containers never overlap.
 */
const dynamo = useLocalDynamoDb();

const signal = () => AbortSignal.timeout(5000);
const KEY = '111122223333|us-east-1';
const T = Date.parse('2026-11-30T09:00:00Z');

const records = async () => {
  const tableName = await dynamo.createTable();
  return { tableName, pace: new DynamoDbPaceRecords({ client: dynamo.client, tableName }) };
};

describe('DynamoDbPaceRecords on dynalite', () => {
  it('starts a fresh record in slow start at the initial rate, its span from now', async () => {
    // Prepare
    const { pace, tableName } = await records();
    // Act
    const reservation = await pace.reserve(
      KEY,
      { spanMs: 100, now: T, known: undefined },
      signal(),
    );
    // Assess
    expect(reservation.start).toBe(T);
    expect(reservation.state).toEqual({
      slotAt: T + 100,
      rate: DEFAULT_PACE.initialPerSecond,
      since: T,
      cuts: 0,
      peak: 0,
      cutAt: 0,
    });
    const { Item } = await dynamo.client.send(
      new GetItemCommand({ TableName: tableName, Key: { id: { S: PACE_ITEM_PREFIX + KEY } } }),
    );
    expect(Number(Item?.expiration?.N)).toBe(T / 1000 + 86_400);
  });

  it('extends a busy schedule from its end, and restarts an idle one from now, whatever the caller guessed', async () => {
    // Prepare
    const { pace } = await records();
    const first = await pace.reserve(KEY, { spanMs: 100, now: T, known: undefined }, signal());
    // Act: busy (the schedule ends at T+100), guessed wrongly as unknown
    const second = await pace.reserve(KEY, { spanMs: 50, now: T + 10, known: undefined }, signal());
    // Act: idle (T+150 < now), guessed wrongly as busy
    const third = await pace.reserve(
      KEY,
      { spanMs: 50, now: T + 1000, known: second.state },
      signal(),
    );
    // Assess
    expect(first.start).toBe(T);
    expect(second.start).toBe(T + 100);
    expect(third.start).toBe(T + 1000);
    expect(third.state.slotAt).toBe(T + 1050);
  });

  it('an idle schedule keeps the rate it had when its last slot passed: no growth without calls', async () => {
    // Prepare: one second of slots, then ten seconds idle
    const { pace } = await records();
    const first = await pace.reserve(KEY, { spanMs: 1000, now: T, known: undefined }, signal());
    // Act
    const again = await pace.reserve(
      KEY,
      { spanMs: 10, now: T + 11_000, known: first.state },
      signal(),
    );
    // Assess: the slow start's doubling counted the busy second only
    expect(again.start).toBe(T + 11_000);
    expect(again.state.rate).toBeCloseTo(DEFAULT_PACE.initialPerSecond * 2);
    expect(again.state.since).toBe(T + 11_000);
    expect(again.state.cuts).toBe(0);
  });

  it('an idle start does not overwrite a cut it did not see', async () => {
    // Prepare: a busy second, then a cut by another container
    const { pace } = await records();
    const first = await pace.reserve(KEY, { spanMs: 1000, now: T, known: undefined }, signal());
    const cut = (await pace.cut(
      KEY,
      { sentAt: T + 900, now: T + 950, known: first.state },
      signal(),
    )) as PaceState;
    // Act: this container still believes the record is as it was before the cut
    const again = await pace.reserve(
      KEY,
      { spanMs: 10, now: T + 5000, known: first.state },
      signal(),
    );
    // Assess
    expect(again.state.cuts).toBe(1);
    expect(again.state.rate).toBeCloseTo(rateWhenIdle(cut));
    expect(again.state.rate).toBeLessThan(rateWhenIdle(first.state));
    expect(again.start).toBe(T + 5000);
  });

  it('starts a new slow start from half the learned rate after idleRestartMs', async () => {
    // Prepare
    const { pace } = await records();
    const first = await pace.reserve(KEY, { spanMs: 10, now: T, known: undefined }, signal());
    const cut = (await pace.cut(
      KEY,
      { sentAt: T + 600, now: T + 620, known: { ...first.state, rate: 80 } },
      signal(),
    )) as PaceState;
    // Act
    const later = T + 620 + DEFAULT_PACE.idleRestartMs + 1;
    const again = await pace.reserve(KEY, { spanMs: 10, now: later, known: cut }, signal());
    // Assess
    expect(cut.cuts).toBe(1);
    expect(again.start).toBe(later);
    expect(again.state.cuts).toBe(0);
    expect(again.state.rate).toBe(Math.max(DEFAULT_PACE.initialPerSecond, cut.rate / 2));
  });

  it('gives racing containers spans that never overlap', async () => {
    // Prepare
    const { pace } = await records();
    await pace.reserve(KEY, { spanMs: 10, now: T, known: undefined }, signal());
    // Act: twenty containers at once, each with a stale view
    const spans = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        pace.reserve(KEY, { spanMs: 25, now: T + 1 + (index % 3), known: undefined }, signal()),
      ),
    );
    // Assess
    const starts = spans.map((span) => span.start).sort((a, b) => a - b);
    for (let index = 1; index < starts.length; index += 1) {
      expect((starts[index] as number) - (starts[index - 1] as number)).toBeGreaterThanOrEqual(25);
    }
  });

  it('cuts once per congestion: a throttle of a call booked before the last cut (or within cutGraceMs after it) changes nothing', async () => {
    // Prepare
    const { pace } = await records();
    const { state } = await pace.reserve(KEY, { spanMs: 10, now: T, known: undefined }, signal());
    const grace = DEFAULT_PACE.cutGraceMs;
    // Act
    const first = await pace.cut(KEY, { sentAt: T + 1000, now: T + 1100, known: state }, signal());
    const before = await pace.cut(KEY, { sentAt: T + 1050, now: T + 1110, known: state }, signal());
    const withinGrace = await pace.cut(
      KEY,
      { sentAt: T + 1100 + grace, now: T + 1120 + grace, known: first as PaceState },
      signal(),
    );
    const later = await pace.cut(
      KEY,
      { sentAt: T + 1101 + grace, now: T + 1200 + grace, known: first as PaceState },
      signal(),
    );
    // Assess
    expect(first?.cuts).toBe(1);
    expect(first?.since).toBe(T + 1100);
    // The throttle that ended the slow start: its rate was an overshoot, no ceiling to return to
    expect(first?.peak).toBeCloseTo(first?.rate ?? 0);
    expect(first?.rate).toBeCloseTo(
      DEFAULT_PACE.initialPerSecond * 2 * DEFAULT_PACE.slowStartDecrease,
    );
    expect(before).toBeUndefined();
    expect(withinGrace).toBeUndefined();
    expect(later?.cuts).toBe(2);
  });

  it('a reservation whose answer was lost leaves its span taken: the next one starts after it (errs slow), and the error names the record', async () => {
    // Prepare: a client whose requests take effect, and whose answers are lost
    const { pace, tableName } = await records();
    const first = await pace.reserve(KEY, { spanMs: 100, now: T, known: undefined }, signal());
    const lossy = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: await dynamo.client.config
        .endpoint?.()
        .then((e) => `${e.protocol}//${e.hostname}:${e.port}`),
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    lossy.middlewareStack.add(
      (next) => async (args) => {
        await next(args);
        throw Object.assign(new Error('socket hang up'), { name: 'ECONNRESET' });
      },
      { step: 'finalizeRequest' },
    );
    const lost = new DynamoDbPaceRecords({ client: lossy, tableName });
    // Act
    const failure = await lost
      .reserve(KEY, { spanMs: 500, now: T + 10, known: first.state }, signal())
      .catch((error: unknown) => error);
    const next = await pace.reserve(KEY, { spanMs: 10, now: T + 20, known: undefined }, signal());
    // Assess
    expect(failure).toBeInstanceOf(IdempotencyStoreError);
    expect((failure as Error).message).toContain(`shared pace of ${KEY} on ${tableName}`);
    expect(next.start).toBe(T + 600);
    lossy.destroy();
  });
});
