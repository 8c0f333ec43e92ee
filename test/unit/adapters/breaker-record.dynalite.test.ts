import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  BREAKER_ITEM_ID,
  readBreakerState,
  releaseRevocation,
  reserveRevocations,
} from '../../../src/adapters/breaker-record.js';
import {
  BUCKETS_PER_WINDOW,
  bucketOf,
  parseLegacyBreakerState,
  totalOf,
} from '../../../src/core/breaker.js';
import { IdempotencyStoreError } from '../../../src/core/errors.js';
import { breakerTrigger } from '../../helpers/breaker.js';
import { useLocalDynamoDb } from '../../helpers/dynalite.js';

/**
 * The breaker's record against dynalite (the real DynamoDB protocol): the fast path is one
 * conditional UpdateItem with no read, the item stays small whatever the count, the older form
 * is read without losing a count or an opening, and a lost answer errs high.
 */
const dynamo = useLocalDynamoDb();

const signal = () => AbortSignal.timeout(5000);
const T = Date.parse('2026-11-30T09:00:00Z');
const LIMIT = { maxRevocations: 5000, windowSeconds: 300 };
const trigger = breakerTrigger;
const requests = (count: number, at: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({ reservation: { at }, trigger: trigger(from + i) }));

const newClient = () =>
  new DynamoDBClient({
    region: 'us-east-1',
    endpoint: dynamo.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });

/** A client of its own that records the operation of every request it sends. */
const countingClient = () => {
  const client = newClient();
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize' },
  );
  return { client, sent };
};

const itemOf = async (tableName: string) =>
  (
    await dynamo.client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { id: { S: BREAKER_ITEM_ID } },
        ConsistentRead: true,
      }),
    )
  ).Item;

describe('the breaker record on dynalite', () => {
  it('creates the record with a full write, then takes each group of reservations with one UpdateItem and no read, in a new bucket too', async () => {
    // Prepare
    const tableName = await dynamo.createTable();
    const { client, sent } = countingClient();
    const table = { client, tableName };
    // Act
    const first = await reserveRevocations(table, requests(1, T), LIMIT, signal());
    const firstRequests = [...sent];
    sent.length = 0;
    const second = await reserveRevocations(table, requests(10, T + 1000, 1), LIMIT, signal());
    const secondRequests = [...sent];
    sent.length = 0;
    const bucket = second[0]?.status === 'reserved' ? second[0].bucket : '';
    await releaseRevocation(table, bucket, signal());
    const releaseRequests = [...sent];
    sent.length = 0;
    const later = await reserveRevocations(table, requests(1, T + 60_000, 11), LIMIT, signal());
    // Assess
    expect(firstRequests).toEqual(['UpdateItem', 'GetItem', 'PutItem']);
    expect(first).toEqual([
      { status: 'reserved', revocationsInWindow: 1, bucket: bucketOf(T, LIMIT) },
    ]);
    expect(secondRequests).toEqual(['UpdateItem']);
    expect(second.map((r) => (r.status === 'reserved' ? r.revocationsInWindow : r.status))).toEqual(
      [2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    );
    expect(releaseRequests).toEqual(['UpdateItem']);
    expect(sent).toEqual(['UpdateItem']);
    expect(later).toEqual([
      { status: 'reserved', revocationsInWindow: 11, bucket: bucketOf(T + 60_000, LIMIT) },
    ]);
    expect((await readBreakerState(table, signal())).counts).toEqual({
      [bucketOf(T, LIMIT)]: 10,
      [bucketOf(T + 60_000, LIMIT)]: 1,
    });
    client.destroy();
  });

  it('keeps the item small whatever the count: 5,000 reservations over the window in at most 61 buckets, under 2 KB', async () => {
    // Prepare
    const tableName = await dynamo.createTable();
    const table = { client: dynamo.client, tableName };
    // Act: 50 groups of 100, 6 s apart (a 300 s window: 5 s buckets)
    for (let group = 0; group < 50; group += 1)
      await reserveRevocations(
        table,
        requests(100, T + group * 6000, group * 100),
        LIMIT,
        signal(),
      );
    const item = await itemOf(tableName);
    const opened = await reserveRevocations(table, requests(1, T + 299_000, 9999), LIMIT, signal());
    // Assess
    expect(Number(item?.total?.N)).toBe(5000);
    expect(Object.keys(item?.counts?.M ?? {}).length).toBeLessThanOrEqual(BUCKETS_PER_WINDOW + 1);
    expect(Buffer.byteLength(JSON.stringify(item))).toBeLessThan(2048);
    expect(opened[0]).toMatchObject({ status: 'open', openedNow: true });
  });

  it('gives the fast path up near the limit: the full write decides exactly who is reserved and who opens it', async () => {
    // Prepare: 3 of 5 taken, the bucket in the record
    const tableName = await dynamo.createTable();
    const table = { client: dynamo.client, tableName };
    const limit = { maxRevocations: 5, windowSeconds: 60 };
    await reserveRevocations(table, requests(3, T), limit, signal());
    // Act: four more in the same bucket: two fit
    const results = await reserveRevocations(table, requests(4, T + 100, 3), limit, signal());
    // Assess
    expect(results.map((r) => (r.status === 'open' ? `open ${r.openedNow}` : r.status))).toEqual([
      'reserved',
      'reserved',
      'open true',
      'open false',
    ]);
    const state = await readBreakerState(table, signal());
    expect(state.open?.trippedBy.eventId).toBe('evt-5');
    expect(totalOf(state.counts)).toBe(5);
  });

  it('reads the older form (a worker of the previous version) without losing a count or an opening, and rewrites it in the new one', async () => {
    // Prepare: the older form, two reservations 10 s ago
    const tableName = await dynamo.createTable();
    const table = { client: dynamo.client, tableName };
    await dynamo.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: BREAKER_ITEM_ID },
          version: { N: '7' },
          state: {
            S: JSON.stringify({
              reservations: [
                { id: 'a', at: T - 10_000 },
                { id: 'b', at: T - 10_000 },
              ],
            }),
          },
        },
      }),
    );
    // Act
    const [result] = await reserveRevocations(table, requests(1, T), LIMIT, signal());
    const item = await itemOf(tableName);
    // Assess
    expect(result).toMatchObject({ status: 'reserved', revocationsInWindow: 3 });
    expect(item?.version?.N).toBe('8');
    expect(Number(item?.total?.N)).toBe(3);
    // what a worker of the previous version still running reads there: closed, nothing counted
    expect(parseLegacyBreakerState(item?.state?.S)).toEqual({ counts: {} });
  });

  it('an open breaker in the older form stays open, and its opening is what the previous version reads too', async () => {
    // Prepare
    const tableName = await dynamo.createTable();
    const table = { client: dynamo.client, tableName };
    const opening = {
      openedAt: T - 1000,
      revocationsInWindow: 1,
      firstRevocationAt: T - 2000,
      maxRevocations: 1,
      windowSeconds: 60,
      trippedBy: trigger(1),
    };
    await dynamo.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: BREAKER_ITEM_ID },
          version: { N: '3' },
          state: {
            S: JSON.stringify({ reservations: [{ id: 'a', at: T - 2000 }], open: opening }),
          },
        },
      }),
    );
    // Act
    const [result] = await reserveRevocations(table, requests(1, T), LIMIT, signal());
    // Assess
    expect(result).toEqual({ status: 'open', opening, openedNow: false });
    expect((await readBreakerState(table, signal())).open).toEqual(opening);
  });

  it('a reservation whose answer was lost stays counted (errs high), and its caller hears a store error', async () => {
    // Prepare: the bucket in the record; then a client whose answers are lost after DynamoDB applied them
    const tableName = await dynamo.createTable();
    await reserveRevocations({ client: dynamo.client, tableName }, requests(1, T), LIMIT, signal());
    const lossy = newClient();
    lossy.middlewareStack.add(
      (next) => async (args) => {
        await next(args);
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      },
      { step: 'deserialize' },
    );
    // Act
    const lost = await reserveRevocations(
      { client: lossy, tableName },
      requests(1, T),
      LIMIT,
      signal(),
    ).catch((error: unknown) => error);
    // Assess
    expect(lost).toBeInstanceOf(IdempotencyStoreError);
    expect(
      totalOf((await readBreakerState({ client: dynamo.client, tableName }, signal())).counts),
    ).toBe(2);
    lossy.destroy();
  });

  it('racing containers never reserve more than the limit, on the fast path or the full write', async () => {
    // Prepare: 20 places, the bucket in the record with one taken
    const tableName = await dynamo.createTable();
    const table = { client: dynamo.client, tableName };
    const limit = { maxRevocations: 20, windowSeconds: 60 };
    await reserveRevocations(table, requests(1, T), limit, signal());
    // Act: 40 callers of 1 at once, some in the next bucket
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        reserveRevocations(table, requests(1, T + (n % 2) * 1000, n + 1), limit, signal()).catch(
          (error: unknown) => [{ status: 'error' as const, error }],
        ),
      ),
    );
    // Assess
    const outcomes = results.flat();
    const reserved = outcomes.filter((r) => r.status === 'reserved').length;
    const opened = outcomes.filter((r) => r.status === 'open' && r.openedNow).length;
    expect(reserved).toBeLessThanOrEqual(19);
    expect(opened).toBeLessThanOrEqual(1);
    const state = await readBreakerState(table, signal());
    expect(totalOf(state.counts)).toBe(reserved + 1);
  });
});

describe('the breaker record on dynalite: what the fast path leaves to the full write', () => {
  it('counts buckets that left the window until a full write drops them: past twice a window of buckets, the next reservation does one', async () => {
    // Prepare: a 60 s window (1 s buckets); one reservation a second for 122 s, each a new bucket
    const tableName = await dynamo.createTable();
    const { client, sent } = countingClient();
    const table = { client, tableName };
    const limit = { maxRevocations: 5000, windowSeconds: 60 };
    for (let s = 0; s < 2 * (BUCKETS_PER_WINDOW + 1); s += 1)
      await reserveRevocations(table, requests(1, T + s * 1000, s), limit, signal());
    const before = await itemOf(tableName);
    sent.length = 0;
    // Act
    const [result] = await reserveRevocations(
      table,
      requests(1, T + 122_000, 999),
      limit,
      signal(),
    );
    // Assess: the fast path refused (too many buckets), the full write dropped the old ones
    expect(Object.keys(before?.counts?.M ?? {})).toHaveLength(2 * (BUCKETS_PER_WINDOW + 1));
    expect(Number(before?.total?.N)).toBe(122);
    // (DynamoDB returns the record with the failed condition; dynalite does not, so it is read)
    expect(sent).toEqual(['UpdateItem', 'GetItem', 'PutItem']);
    expect(result).toMatchObject({ status: 'reserved', revocationsInWindow: 61 });
    const after = await itemOf(tableName);
    expect(Object.keys(after?.counts?.M ?? {}).length).toBeLessThanOrEqual(BUCKETS_PER_WINDOW + 1);
    client.destroy();
  });

  it('never lets through more than the limit in the window because of buckets it has not dropped yet', async () => {
    // Prepare: 3 of 3 taken a minute ago (out of the 60 s window now, still in the record)
    const tableName = await dynamo.createTable();
    const table = { client: dynamo.client, tableName };
    const limit = { maxRevocations: 3, windowSeconds: 60 };
    await reserveRevocations(table, requests(3, T), limit, signal());
    // Act: three more 61 s later, then a fourth
    const results = await reserveRevocations(table, requests(4, T + 61_000, 3), limit, signal());
    // Assess: the fast path saw no room (stale count 3): the full write counted the window only
    expect(results.map((r) => r.status)).toEqual(['reserved', 'reserved', 'reserved', 'open']);
    expect((await readBreakerState(table, signal())).counts).toEqual({
      [bucketOf(T + 61_000, limit)]: 3,
    });
  });
});
