/**
 * The breaker's one item in the idempotency table (`id` = `breaker#revocations`), read and written
 * with optimistic concurrency: every write is conditional on the `version` it read, so containers
 * racing for the last reservation in the window cannot both get it. The item has no `expiration`:
 * TTL never deletes it, so an open breaker stays open until an operator closes it.
 *
 * `readBreakerState` is what `revoker status` uses to show the breaker.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type BreakerOpening,
  type BreakerState,
  closedBreakerState,
  parseBreakerState,
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

interface Versioned {
  state: BreakerState;
  /** 0 when the item does not exist. */
  version: number;
}

const isConditionalFailure = (
  error: unknown,
): error is Error & {
  Item?: Record<string, AttributeValue>;
} => error instanceof Error && error.name === 'ConditionalCheckFailedException';

const fromItem = (item: Record<string, AttributeValue> | undefined): Versioned => ({
  state: parseBreakerState(item?.state?.S),
  version: item?.version?.N === undefined ? 0 : Number(item.version.N),
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
 * undefined to write nothing. A write whose answer was lost is seen on the next round (reservations
 * carry ids, so applying it twice changes nothing).
 *
 * @returns what `change` returned with the state it was given last.
 * @throws {IdempotencyStoreError} when the table fails, or after `UPDATE_ROUNDS` lost races.
 */
export const updateBreakerRecord = async <T>(
  table: BreakerTable,
  signal: AbortSignal,
  change: (current: BreakerState) => { next: BreakerState | undefined; result: T },
): Promise<T> => {
  let current = await read(table, signal);
  for (let round = 0; round < UPDATE_ROUNDS; round += 1) {
    const { next, result } = change(current.state);
    if (next === undefined) return result;
    try {
      await table.client.send(
        new PutItemCommand({
          TableName: table.tableName,
          Item: {
            id: { S: BREAKER_ITEM_ID },
            state: { S: JSON.stringify(next) },
            version: { N: String(current.version + 1) },
          },
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
    next: current.open || current.reservations.length > 0 ? closedBreakerState() : undefined,
    result: current.open,
  }));
