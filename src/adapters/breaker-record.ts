/**
 * The breaker's one item in the idempotency table (`id` = `breaker#revocations`): the window's
 * reservations counted per bucket (`counts`, a map of numbers, and their sum `total`), the opening
 * while open (`opening`, JSON), and a `version` every write bumps. The item has no `expiration`:
 * TTL never deletes it, so an open breaker stays open until an operator closes it.
 *
 * Two ways to write it:
 * - the fast path (`reserveRevocations`, `releaseRevocation`): one `UpdateItem` that adds to the
 *   current bucket and the total, on condition that the breaker is closed and the total leaves
 *   room. No read, and writers never race each other's reads: most reservations take this path.
 * - the full write (`updateBreakerRecord`): read, decide (`src/core/breaker.ts`), write on
 *   condition that the `version` is still the one read. It drops the buckets that left the
 *   window; the fast path falls back to it when its condition fails (the limit near, the breaker
 *   open, more than twice a window's buckets kept), so the decision near the limit is exact.
 *
 * `readBreakerState` is what `revoker status` uses to show the breaker.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type BreakerLimit,
  type BreakerOpening,
  type BreakerState,
  BUCKETS_PER_WINDOW,
  breakerStateOf,
  bucketOf,
  closedBreakerState,
  decideReservations,
  legacyMirrorOf,
  parseLegacyBreakerState,
  type ReservationOutcome,
  type ReservationRequest,
  totalOf,
} from '../core/breaker.js';
import { IdempotencyStoreError } from '../core/errors.js';
import { failureDetailsOf, messageOf } from './aws-error.js';

/** The item's key in the idempotency table. */
export const BREAKER_ITEM_ID = 'breaker#revocations';

/** Rounds of read → conditional write before a contended update gives up (and errs safe). */
const UPDATE_ROUNDS = 8;

const jitter = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

/** Where the record lives. */
export interface BreakerTable {
  client: DynamoDBClient;
  tableName: string;
}

export interface Versioned {
  state: BreakerState;
  /** 0 when the item does not exist. */
  version: number;
}

const isConditionalFailure = (
  error: unknown,
): error is Error & {
  Item?: Record<string, AttributeValue>;
} => error instanceof Error && error.name === 'ConditionalCheckFailedException';

/**
 * The record from its item: the bucketed form, or the older one (one entry per reservation, in
 * `state`) that a worker of the previous version wrote.
 */
const fromItem = (item: Record<string, AttributeValue> | undefined): Versioned => {
  const version = item?.version?.N === undefined ? 0 : Number(item.version.N);
  const counts = item?.counts?.M;
  if (counts === undefined) return { state: parseLegacyBreakerState(item?.state?.S), version };
  return {
    state: breakerStateOf(
      Object.fromEntries(Object.entries(counts).map(([key, n]) => [key, Number(n.N)])),
      item?.opening?.S,
    ),
    version,
  };
};

const toItem = (state: BreakerState, version: number): Record<string, AttributeValue> => ({
  id: { S: BREAKER_ITEM_ID },
  version: { N: String(version) },
  total: { N: String(totalOf(state.counts)) },
  counts: {
    M: Object.fromEntries(Object.entries(state.counts).map(([key, n]) => [key, { N: String(n) }])),
  },
  ...(state.open && { opening: { S: JSON.stringify(state.open) } }),
  state: { S: legacyMirrorOf(state) },
});

const storeError = (table: BreakerTable, operation: string, error: unknown) =>
  new IdempotencyStoreError(
    `DynamoDB ${operation} of the breaker on ${table.tableName} failed: ${messageOf(error)}`,
    failureDetailsOf(error),
    { table: table.tableName },
    { cause: error },
  );

const read = async (table: BreakerTable, signal: AbortSignal): Promise<Versioned> => {
  try {
    const output = await table.client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: { id: { S: BREAKER_ITEM_ID } },
        ConsistentRead: true,
      }),
      { abortSignal: signal },
    );
    return fromItem(output.Item);
  } catch (error) {
    throw storeError(table, 'read', error);
  }
};

/**
 * Reads the breaker's record (closed and empty when the item does not exist).
 *
 * @example
 * const state = await readBreakerState({ client, tableName }, AbortSignal.timeout(3000));
 * if (state.open) console.log('breaker open since', new Date(state.open.openedAt));
 * @throws {IdempotencyStoreError} when the table cannot be read.
 */
export const readBreakerState = async (
  table: BreakerTable,
  signal: AbortSignal,
): Promise<BreakerState> => (await read(table, signal)).state;

/**
 * Applies `change` to the record atomically: read, compute, write on condition that nobody wrote
 * in between; on a lost race, again from what the failed condition returned. `change` returns
 * undefined to write nothing. A write whose answer was lost is not tried again: the caller hears
 * a store error, and what the write carried may stand (a reservation then counts: errs high).
 *
 * @returns what `change` returned with the state it was given last.
 * @throws {IdempotencyStoreError} when the table fails, or after `UPDATE_ROUNDS` lost races.
 */
export const updateBreakerRecord = async <T>(
  table: BreakerTable,
  signal: AbortSignal,
  change: (current: BreakerState) => { next: BreakerState | undefined; result: T },
  /** The record as just seen (a failed fast path's item): saves the first read. */
  seen?: Versioned,
): Promise<T> => {
  let current = seen ?? (await read(table, signal));
  for (let round = 0; round < UPDATE_ROUNDS; round += 1) {
    const { next, result } = change(current.state);
    if (next === undefined) return result;
    try {
      await table.client.send(
        new PutItemCommand({
          TableName: table.tableName,
          Item: toItem(next, current.version + 1),
          ConditionExpression:
            current.version === 0 ? 'attribute_not_exists(id)' : 'version = :version',
          ...(current.version === 0
            ? {}
            : { ExpressionAttributeValues: { ':version': { N: String(current.version) } } }),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return result;
    } catch (error) {
      if (!isConditionalFailure(error)) throw storeError(table, 'write', error);
      // Another container wrote first: back off a little (full jitter), so that racing writers
      // spread out rather than collide again.
      await jitter(Math.random() * 10 * 2 ** Math.min(round, 4), signal);
      current = error.Item ? fromItem(error.Item) : await read(table, signal);
    }
  }
  throw new IdempotencyStoreError(
    `The breaker's record on ${table.tableName} changed under ${UPDATE_ROUNDS} writes in a row; gave up (the call does not go ahead)`,
    { kind: 'transient', code: 'BreakerContention' },
    { table: table.tableName },
  );
};

/**
 * Closes the breaker and starts a new window (what `revoker resume` does).
 *
 * @returns the opening it closed, or undefined when the breaker was not open.
 * @throws {IdempotencyStoreError} when the table fails.
 */
export const closeBreakerRecord = (
  table: BreakerTable,
  signal: AbortSignal,
): Promise<BreakerOpening | undefined> =>
  updateBreakerRecord(table, signal, (current) => ({
    next: current.open || totalOf(current.counts) > 0 ? closedBreakerState() : undefined,
    result: current.open,
  }));

/**
 * The fast path adds buckets without dropping old ones; past this many the full write drops those
 * that left the window (at most `BUCKETS_PER_WINDOW + 1` stay).
 */
const MAX_BUCKETS = 2 * (BUCKETS_PER_WINDOW + 1);

/** The expression names of the fast path: the bucket's key is a map key, never inlined. */
const fastNames = (bucket: string): Record<string, string> => ({
  '#total': 'total',
  '#counts': 'counts',
  '#bucket': bucket,
  '#version': 'version',
});

/**
 * Counts disassociate calls against the window, in order, in one write (`decideReservations`):
 * each is reserved, or — the first that would be one more than `limit.maxRevocations` — opens the
 * breaker, or finds it open.
 *
 * The fast path adds them all to the current bucket in one `UpdateItem`, on condition that the
 * breaker is closed and the total leaves room for all of them. The total it checks still counts
 * the buckets that left the window since the last full write (so it errs high: what it lets
 * through, an exact count would too). When the condition fails (the limit near by that count,
 * the breaker open, too many buckets kept, no record yet), the full write decides them from the
 * record the failed condition returned, counting only the window. A write whose answer was lost
 * may have counted them: they stay counted (errs high).
 *
 * @throws {IdempotencyStoreError} when the table fails, or the full write lost every race.
 */
export const reserveRevocations = async (
  table: BreakerTable,
  requests: readonly ReservationRequest[],
  limit: BreakerLimit,
  signal: AbortSignal,
): Promise<ReservationOutcome[]> => {
  if (requests.length === 0) return [];
  const now = Math.max(...requests.map((r) => r.reservation.at));
  const bucket = bucketOf(now, limit);
  const room = limit.maxRevocations - requests.length;
  let seen: Versioned | undefined;
  if (room >= 0 && requests.every((r) => bucketOf(r.reservation.at, limit) === bucket)) {
    try {
      const output = await table.client.send(
        new UpdateItemCommand({
          TableName: table.tableName,
          Key: { id: { S: BREAKER_ITEM_ID } },
          UpdateExpression:
            'SET #total = #total + :n, #counts.#bucket = if_not_exists(#counts.#bucket, :zero) + :n, #version = #version + :one',
          ConditionExpression:
            'attribute_not_exists(#opening) AND #total <= :room AND size(#counts) < :buckets',
          ExpressionAttributeNames: { ...fastNames(bucket), '#opening': 'opening' },
          ExpressionAttributeValues: {
            ':n': { N: String(requests.length) },
            ':one': { N: '1' },
            ':zero': { N: '0' },
            ':room': { N: String(room) },
            ':buckets': { N: String(MAX_BUCKETS) },
          },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      // The total after them (the limit when the answer lacks it: what `status` shows errs high).
      const total = Number(output.Attributes?.total?.N ?? limit.maxRevocations);
      return requests.map((_, index) => ({
        status: 'reserved',
        revocationsInWindow: total - requests.length + index + 1,
        bucket,
      }));
    } catch (error) {
      if (!isConditionalFailure(error)) throw storeError(table, 'reservation', error);
      seen = error.Item ? fromItem(error.Item) : undefined;
    }
  }
  return updateBreakerRecord(
    table,
    signal,
    (current) => {
      const { state, changed, outcomes } = decideReservations(current, requests, limit, now);
      return { next: changed ? state : undefined, result: outcomes };
    },
    seen,
  );
};

/**
 * Gives one reservation of `bucket` back (its call did not revoke): one `UpdateItem`, on condition
 * that the bucket still counts one. A bucket that left the window (or a record closed since) has
 * nothing to give back: a no-op. A release whose answer was lost is not tried again: at worst the
 * reservation stays counted (errs high).
 *
 * @throws {IdempotencyStoreError} when the table fails.
 */
export const releaseRevocation = async (
  table: BreakerTable,
  bucket: string,
  signal: AbortSignal,
): Promise<void> => {
  try {
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: { id: { S: BREAKER_ITEM_ID } },
        UpdateExpression:
          'SET #total = #total - :one, #counts.#bucket = #counts.#bucket - :one, #version = #version + :one',
        ConditionExpression: '#counts.#bucket >= :one',
        ExpressionAttributeNames: fastNames(bucket),
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    if (!isConditionalFailure(error)) throw storeError(table, 'release', error);
  }
};
