import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbIdempotencyStore } from '../../../src/adapters/dynamodb-store.js';
import { FailureKind, IdempotencyStoreError } from '../../../src/core/errors.js';
import { RESOLUTION } from '../../helpers/store-contract.js';

const dynamo = mockClient(DynamoDBClient);

const TABLE = 'revoker-idempotency';
const NOW = Date.parse('2026-11-25T09:00:00Z');
const NOW_SECONDS = NOW / 1000;
const TTL_SECONDS = 3600;
const LEASE = { owner: 'req-1/me', until: NOW + 30_000 };
const SIGNAL = new AbortController().signal;

type Item = Record<string, AttributeValue>;

const store = () =>
  new DynamoDbIdempotencyStore({
    client: new DynamoDBClient({ region: 'us-east-1' }),
    tableName: TABLE,
    ttlSeconds: TTL_SECONDS,
    clock: () => NOW,
  });

/** The failure DynamoDB returns when a condition does not hold; `Item` is the old item, when asked for. */
const conditionFailed = (item?: Item) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
    ...(item && { Item: item }),
  });

const decision = (fields: {
  status: string;
  leaseUntil?: number;
  resolution?: unknown;
  expiration?: number;
}): Item => ({
  id: { S: 'event#evt-1' },
  status: { S: fields.status },
  ...(fields.leaseUntil !== undefined && { leaseUntil: { N: String(fields.leaseUntil) } }),
  ...(fields.resolution !== undefined && { resolution: { S: JSON.stringify(fields.resolution) } }),
  expiration: { N: String(fields.expiration ?? NOW_SECONDS + TTL_SECONDS) },
});

const throughputExceeded = () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400, requestId: 'req-ddb' },
  });

const updates = () => dynamo.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);

describe('DynamoDbIdempotencyStore.claim', () => {
  beforeEach(() => {
    dynamo.reset();
  });

  it('acquires a fresh decision with one conditional update that also asks for the old item', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).resolves({});
    // Act
    const result = await store().claim('evt-1', LEASE, SIGNAL);
    // Assess
    expect(result).toEqual({ status: 'acquired' });
    expect(updates()).toEqual([
      {
        TableName: TABLE,
        Key: { id: { S: 'event#evt-1' } },
        UpdateExpression:
          'SET #status = :inProgress, leaseUntil = :lease, #owner = :owner, expiration = :exp REMOVE resolution',
        ConditionExpression: 'attribute_not_exists(id) OR expiration < :nowSec',
        ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':inProgress': { S: 'IN_PROGRESS' },
          ':lease': { N: String(LEASE.until) },
          ':owner': { S: LEASE.owner },
          ':exp': { N: String(NOW_SECONDS + TTL_SECONDS) },
          ':nowSec': { N: String(NOW_SECONDS) },
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    ]);
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(0);
  });

  it('reports a decision whose old item is COMPLETED as completed, with its resolution, without a read', async () => {
    // Prepare
    dynamo
      .on(UpdateItemCommand)
      .rejects(conditionFailed(decision({ status: 'COMPLETED', resolution: RESOLUTION })));
    // Act
    const result = await store().claim('evt-1', LEASE, SIGNAL);
    // Assess
    expect(result).toEqual({ status: 'completed', resolution: RESOLUTION });
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(updates()).toHaveLength(1);
  });

  it('reports a decision whose lease is still held as in progress until that lease ends', async () => {
    dynamo
      .on(UpdateItemCommand)
      .rejects(conditionFailed(decision({ status: 'IN_PROGRESS', leaseUntil: NOW + 5_000 })));
    expect(await store().claim('evt-1', LEASE, SIGNAL)).toEqual({
      status: 'in-progress',
      leaseUntil: NOW + 5_000,
    });
    expect(updates()).toHaveLength(1);
  });

  it('takes over a decision whose lease ran out, conditionally on that very lease', async () => {
    // Prepare
    const expired = NOW - 1;
    dynamo
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed(decision({ status: 'IN_PROGRESS', leaseUntil: expired })))
      .resolvesOnce({});
    // Act
    const result = await store().claim('evt-1', LEASE, SIGNAL);
    // Assess
    expect(result).toEqual({ status: 'acquired' });
    expect(updates()[1]).toEqual({
      TableName: TABLE,
      Key: { id: { S: 'event#evt-1' } },
      UpdateExpression: 'SET leaseUntil = :lease, #owner = :owner, expiration = :exp',
      ConditionExpression: 'leaseUntil = :expired AND #status <> :completed',
      ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
      ExpressionAttributeValues: {
        ':lease': { N: String(LEASE.until) },
        ':owner': { S: LEASE.owner },
        ':exp': { N: String(NOW_SECONDS + TTL_SECONDS) },
        ':expired': { N: String(expired) },
        ':completed': { S: 'COMPLETED' },
      },
    });
  });

  it('returns the stored resolution when it takes over a RESOLVED decision', async () => {
    dynamo
      .on(UpdateItemCommand)
      .rejectsOnce(
        conditionFailed(
          decision({ status: 'RESOLVED', leaseUntil: NOW - 1, resolution: RESOLUTION }),
        ),
      )
      .resolvesOnce({});
    expect(await store().claim('evt-1', LEASE, SIGNAL)).toEqual({
      status: 'acquired',
      resolution: RESOLUTION,
    });
  });

  it('reads the item with GetItem (strongly consistent) when the exception carries no Item', async () => {
    // Prepare
    dynamo.on(UpdateItemCommand).rejects(conditionFailed());
    dynamo
      .on(GetItemCommand)
      .resolves({ Item: decision({ status: 'COMPLETED', resolution: RESOLUTION }) });
    // Act
    const result = await store().claim('evt-1', LEASE, SIGNAL);
    // Assess
    expect(result).toEqual({ status: 'completed', resolution: RESOLUTION });
    expect(dynamo.commandCalls(GetItemCommand).map((c) => c.args[0].input)).toEqual([
      { TableName: TABLE, Key: { id: { S: 'event#evt-1' } }, ConsistentRead: true },
    ]);
  });

  it('claims again when the item it lost to was released before it could read it', async () => {
    dynamo.on(UpdateItemCommand).rejectsOnce(conditionFailed()).resolvesOnce({});
    dynamo.on(GetItemCommand).resolves({});
    expect(await store().claim('evt-1', LEASE, SIGNAL)).toEqual({ status: 'acquired' });
    expect(updates()).toHaveLength(2);
  });

  it('claims again when another invocation won the take-over race, and then sees its lease', async () => {
    // Prepare
    const winner = NOW + 20_000;
    dynamo
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed(decision({ status: 'IN_PROGRESS', leaseUntil: NOW - 1 })))
      .rejectsOnce(conditionFailed())
      .rejectsOnce(conditionFailed(decision({ status: 'IN_PROGRESS', leaseUntil: winner })));
    // Act
    const result = await store().claim('evt-1', LEASE, SIGNAL);
    // Assess
    expect(result).toEqual({ status: 'in-progress', leaseUntil: winner });
    expect(updates()).toHaveLength(3);
  });

  it('calls the decision in progress after three lost rounds rather than loop', async () => {
    dynamo.on(UpdateItemCommand).rejects(conditionFailed());
    dynamo.on(GetItemCommand).resolves({});
    expect(await store().claim('evt-1', LEASE, SIGNAL)).toEqual({
      status: 'in-progress',
      leaseUntil: LEASE.until,
    });
    expect(updates()).toHaveLength(3);
  });

  it('treats a stored resolution it cannot read as none, and takes the decision over without it', async () => {
    dynamo
      .on(UpdateItemCommand)
      .rejectsOnce(
        conditionFailed({
          ...decision({ status: 'RESOLVED', leaseUntil: NOW - 1 }),
          resolution: { S: '{not json' },
        }),
      )
      .resolvesOnce({});
    expect(await store().claim('evt-1', LEASE, SIGNAL)).toEqual({ status: 'acquired' });
  });

  it('treats an item read back past its expiration as absent', async () => {
    dynamo.on(UpdateItemCommand).rejectsOnce(conditionFailed()).resolvesOnce({});
    dynamo.on(GetItemCommand).resolves({
      Item: decision({ status: 'COMPLETED', resolution: RESOLUTION, expiration: NOW_SECONDS - 1 }),
    });
    expect(await store().claim('evt-1', LEASE, SIGNAL)).toEqual({ status: 'acquired' });
  });

  it('wraps a throttled claim in an IdempotencyStoreError naming the table and eventId, with the cause', async () => {
    // Prepare
    const original = throughputExceeded();
    dynamo.on(UpdateItemCommand).rejects(original);
    // Act
    const error = await store()
      .claim('evt-1', LEASE, SIGNAL)
      .catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({
      kind: FailureKind.Throttled,
      code: 'ProvisionedThroughputExceededException',
      requestId: 'req-ddb',
      context: { eventId: 'evt-1', table: TABLE },
      message: `DynamoDB claim on ${TABLE} failed: The level of configured provisioned throughput for the table was exceeded.`,
      cause: original,
    });
  });

  it('wraps a failed read-back in an IdempotencyStoreError', async () => {
    dynamo.on(UpdateItemCommand).rejects(conditionFailed());
    dynamo
      .on(GetItemCommand)
      .rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const error = await store()
      .claim('evt-1', LEASE, SIGNAL)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ kind: FailureKind.Transient, code: 'ECONNRESET' });
  });

  it('wraps a failed take-over in an IdempotencyStoreError', async () => {
    dynamo
      .on(UpdateItemCommand)
      .rejectsOnce(conditionFailed(decision({ status: 'IN_PROGRESS', leaseUntil: NOW - 1 })))
      .rejectsOnce(throughputExceeded());
    const error = await store()
      .claim('evt-1', LEASE, SIGNAL)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
  });
});

describe('DynamoDbIdempotencyStore.claimNew', () => {
  beforeEach(() => {
    dynamo.reset();
  });

  const cancelled = () =>
    new TransactionCanceledException({
      message:
        'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]',
      $metadata: { httpStatusCode: 400 },
      CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }],
    });
  const transactions = () =>
    dynamo.commandCalls(TransactWriteItemsCommand).map((c) => c.args[0].input);

  it('claims in one transaction, each item the very update claim sends, at most 100 a transaction', async () => {
    // Prepare
    dynamo.on(TransactWriteItemsCommand).resolves({});
    dynamo.on(UpdateItemCommand).resolves({});
    const eventIds = Array.from({ length: 150 }, (_, i) => `evt-${i}`);
    // Act
    const claimed = await store().claimNew([...eventIds, 'evt-0'], LEASE, SIGNAL);
    await store().claim('evt-0', LEASE, SIGNAL);
    // Assess: every eventId once; the items are claim's own update
    expect(claimed).toEqual(new Set(eventIds));
    expect(transactions().map((t) => t.TransactItems?.length)).toEqual([100, 50]);
    expect(transactions()[0]?.TransactItems?.[0]).toEqual({ Update: updates()[0] });
  });

  it('answers a cancelled transaction with none of its decisions claimed, not an error', async () => {
    // Prepare
    dynamo.on(TransactWriteItemsCommand).rejectsOnce(cancelled()).resolves({});
    const eventIds = Array.from({ length: 101 }, (_, i) => `evt-${i}`);
    // Act
    const claimed = await store().claimNew(eventIds, LEASE, SIGNAL);
    // Assess: the second transaction (evt-100) went through
    expect(claimed).toEqual(new Set(['evt-100']));
  });

  it('throws an IdempotencyStoreError naming the table when no transaction was answered', async () => {
    // Prepare
    const original = throughputExceeded();
    dynamo.on(TransactWriteItemsCommand).rejects(original);
    // Act
    const error = await store()
      .claimNew(['evt-1', 'evt-2'], LEASE, SIGNAL)
      .catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({
      kind: FailureKind.Throttled,
      context: { table: TABLE },
      message: `DynamoDB claimNew on ${TABLE} failed: The level of configured provisioned throughput for the table was exceeded.`,
      cause: original,
    });
  });

  it("passes the caller's signal to every transaction", async () => {
    // Prepare
    dynamo.on(TransactWriteItemsCommand).resolves({});
    const controller = new AbortController();
    // Act
    await store().claimNew(['evt-1', 'evt-2'], LEASE, controller.signal);
    // Assess
    expect(
      (dynamo.commandCalls(TransactWriteItemsCommand)[0]?.args as unknown[] | undefined)?.[1],
    ).toEqual({ abortSignal: controller.signal });
  });
});

describe('DynamoDbIdempotencyStore — resolve, complete, release', () => {
  beforeEach(() => {
    dynamo.reset();
  });

  it('resolve writes the RESOLVED status, the resolution as JSON, an ended lease and the TTL, never over a COMPLETED item', async () => {
    dynamo.on(PutItemCommand).resolves({});
    await store().resolve('evt-1', RESOLUTION, SIGNAL);
    expect(dynamo.commandCalls(PutItemCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        id: { S: 'event#evt-1' },
        status: { S: 'RESOLVED' },
        resolution: { S: JSON.stringify(RESOLUTION) },
        leaseUntil: { N: '0' },
        expiration: { N: String(NOW_SECONDS + TTL_SECONDS) },
      },
      ConditionExpression: 'attribute_not_exists(id) OR #status <> :completed',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':completed': { S: 'COMPLETED' } },
    });
  });

  it('resolve over a COMPLETED item is a no-op, not an error', async () => {
    dynamo.on(PutItemCommand).rejects(conditionFailed());
    await expect(store().resolve('evt-1', RESOLUTION, SIGNAL)).resolves.toBeUndefined();
  });

  it("passes the caller's signal to every call, so the deadline bounds it", async () => {
    // Prepare
    const controller = new AbortController();
    dynamo.on(PutItemCommand).resolves({});
    // Act
    await store().complete('evt-1', RESOLUTION, controller.signal);
    // Assess
    expect((dynamo.commandCalls(PutItemCommand)[0]?.args as unknown[] | undefined)?.[1]).toEqual({
      abortSignal: controller.signal,
    });
  });

  it('complete writes the COMPLETED status and the resolution, with no lease', async () => {
    dynamo.on(PutItemCommand).resolves({});
    await store().complete('evt-1', RESOLUTION, SIGNAL);
    expect(dynamo.commandCalls(PutItemCommand)[0]?.args[0].input.Item).toEqual({
      id: { S: 'event#evt-1' },
      status: { S: 'COMPLETED' },
      resolution: { S: JSON.stringify(RESOLUTION) },
      expiration: { N: String(NOW_SECONDS + TTL_SECONDS) },
    });
  });

  it("release ends the owner's lease and keeps the item (a takeover never deletes a stored result)", async () => {
    dynamo.on(UpdateItemCommand).resolves({});
    await store().release('evt-1', LEASE.owner, SIGNAL);
    expect(updates()).toEqual([
      {
        TableName: TABLE,
        Key: { id: { S: 'event#evt-1' } },
        UpdateExpression: 'SET leaseUntil = :ended',
        ConditionExpression: '#owner = :owner AND #status <> :completed',
        ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
        ExpressionAttributeValues: {
          ':ended': { N: '0' },
          ':owner': { S: LEASE.owner },
          ':completed': { S: 'COMPLETED' },
        },
      },
    ]);
    expect(dynamo.commandCalls(DeleteItemCommand)).toHaveLength(0);
  });

  it('release of a decision held by someone else, or completed, is a no-op', async () => {
    dynamo.on(UpdateItemCommand).rejects(conditionFailed());
    await expect(store().release('evt-1', LEASE.owner, SIGNAL)).resolves.toBeUndefined();
  });

  it('forget deletes the decision item', async () => {
    dynamo.on(DeleteItemCommand).resolves({});
    await store().forget('evt-1', SIGNAL);
    expect(dynamo.commandCalls(DeleteItemCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { id: { S: 'event#evt-1' } },
    });
  });

  it.each([
    ['resolve', () => store().resolve('evt-1', RESOLUTION, SIGNAL)],
    ['complete', () => store().complete('evt-1', RESOLUTION, SIGNAL)],
  ])('%s wraps a store error in an IdempotencyStoreError', async (_, act) => {
    dynamo.on(PutItemCommand).rejects(throughputExceeded());
    const error = await act().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ context: { eventId: 'evt-1', table: TABLE } });
  });

  it('release wraps a store error in an IdempotencyStoreError', async () => {
    dynamo.on(UpdateItemCommand).rejects(throughputExceeded());
    const error = await store()
      .release('evt-1', LEASE.owner, SIGNAL)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as Error).message).toMatch(/^DynamoDB release on revoker-idempotency failed: /);
  });
});

describe('DynamoDbIdempotencyStore — target confirmations and quarantine marks', () => {
  const TARGET = 'arn:share|namespace|arn:consumer';

  beforeEach(() => {
    dynamo.reset();
  });

  it('records a confirmation only if none, or an older one, is recorded', async () => {
    dynamo.on(PutItemCommand).resolves({});
    await store().confirmTarget(TARGET, { confirmedAt: NOW, eventId: 'evt-1' }, SIGNAL);
    expect(dynamo.commandCalls(PutItemCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        id: { S: `target#${TARGET}` },
        confirmedAt: { N: String(NOW) },
        eventId: { S: 'evt-1' },
        expiration: { N: String(NOW_SECONDS + TTL_SECONDS) },
      },
      ConditionExpression: 'attribute_not_exists(id) OR confirmedAt < :confirmedAt',
      ExpressionAttributeValues: { ':confirmedAt': { N: String(NOW) } },
    });
  });

  it('ignores ConditionalCheckFailed on confirmTarget: a later confirmation is already recorded', async () => {
    dynamo.on(PutItemCommand).rejects(conditionFailed());
    await expect(
      store().confirmTarget(TARGET, { confirmedAt: NOW, eventId: 'evt-1' }, SIGNAL),
    ).resolves.toBeUndefined();
  });

  it('wraps any other confirmTarget failure in an IdempotencyStoreError', async () => {
    dynamo.on(PutItemCommand).rejects(throughputExceeded());
    const error = await store()
      .confirmTarget(TARGET, { confirmedAt: NOW, eventId: 'evt-1' }, SIGNAL)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ context: { eventId: 'evt-1' } });
  });

  it('reads a recorded confirmation', async () => {
    dynamo.on(GetItemCommand).resolves({
      Item: {
        id: { S: `target#${TARGET}` },
        confirmedAt: { N: String(NOW - 5) },
        eventId: { S: 'evt-0' },
        expiration: { N: String(NOW_SECONDS + 10) },
      },
    });
    expect(await store().getTargetConfirmation(TARGET, SIGNAL)).toEqual({
      confirmedAt: NOW - 5,
      eventId: 'evt-0',
    });
    expect(dynamo.commandCalls(GetItemCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Key: { id: { S: `target#${TARGET}` } },
      ConsistentRead: true,
    });
  });

  it('treats a confirmation past its expiration as absent (TTL deletion lags)', async () => {
    dynamo.on(GetItemCommand).resolves({
      Item: {
        id: { S: `target#${TARGET}` },
        confirmedAt: { N: String(NOW - 5) },
        eventId: { S: 'evt-0' },
        expiration: { N: String(NOW_SECONDS - 1) },
      },
    });
    expect(await store().getTargetConfirmation(TARGET, SIGNAL)).toBeUndefined();
  });

  it('treats a confirmation item missing its fields as absent', async () => {
    dynamo.on(GetItemCommand).resolves({ Item: { id: { S: `target#${TARGET}` } } });
    expect(await store().getTargetConfirmation(TARGET, SIGNAL)).toBeUndefined();
  });

  it('marks a message quarantined with an item that expires with the dedup window', async () => {
    dynamo.on(PutItemCommand).resolves({});
    await store().markQuarantined('msg-1', 'settled', SIGNAL);
    expect(dynamo.commandCalls(PutItemCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        id: { S: 'quarantine#msg-1' },
        stage: { S: 'settled' },
        expiration: { N: String(NOW_SECONDS + TTL_SECONDS) },
      },
    });
  });

  it('reads the quarantine stage while its mark lasts, and nothing after', async () => {
    dynamo
      .on(GetItemCommand)
      .resolvesOnce({
        Item: {
          id: { S: 'quarantine#msg-1' },
          stage: { S: 'settled' },
          expiration: { N: String(NOW_SECONDS + 1) },
        },
      })
      .resolvesOnce({
        Item: { id: { S: 'quarantine#msg-1' }, expiration: { N: String(NOW_SECONDS - 1) } },
      })
      .resolvesOnce({});
    const quarantine = store();
    expect(await quarantine.quarantineStage('msg-1', SIGNAL)).toBe('settled');
    expect(await quarantine.quarantineStage('msg-1', SIGNAL)).toBeUndefined();
    expect(await quarantine.quarantineStage('msg-1', SIGNAL)).toBeUndefined();
  });

  it('wraps a failed quarantine read in an IdempotencyStoreError naming only the table', async () => {
    dynamo.on(GetItemCommand).rejects(throughputExceeded());
    const error = await store()
      .quarantineStage('msg-1', SIGNAL)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as IdempotencyStoreError).context).toEqual({ table: TABLE });
  });
});

describe('DynamoDbIdempotencyStore batched reads and writes', () => {
  beforeEach(() => {
    dynamo.reset();
  });

  it('reads at most 100 keys a BatchGetItem, strongly consistent, only the attributes it needs', async () => {
    // Prepare
    dynamo.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    const eventIds = Array.from({ length: 120 }, (_, i) => `evt-${i}`);

    // Act
    const snapshot = await store().readMany({ eventIds, targetKeys: ['t-1'] }, SIGNAL);

    // Assess
    const calls = dynamo.commandCalls(BatchGetItemCommand);
    expect(calls.map((c) => c.args[0].input.RequestItems?.[TABLE]?.Keys?.length)).toEqual([
      100, 21,
    ]);
    expect(calls[0]?.args[0].input.RequestItems?.[TABLE]).toMatchObject({
      ConsistentRead: true,
      ProjectionExpression: 'id, #status, expiration, confirmedAt, eventId',
    });
    expect(snapshot.completed.size).toBe(0);
    expect([...snapshot.confirmations]).toEqual([['t-1', undefined]]);
  });

  it('asks again for the keys DynamoDB left unprocessed, and finds them', async () => {
    // Prepare
    dynamo
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ id: { S: 'event#evt-1' } }] } },
      })
      .resolves({ Responses: { [TABLE]: [decision({ status: 'COMPLETED' })] } });

    // Act
    const snapshot = await store().readMany({ eventIds: ['evt-1'], targetKeys: [] }, SIGNAL);

    // Assess
    expect([...snapshot.completed]).toEqual(['evt-1']);
    const calls = dynamo.commandCalls(BatchGetItemCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.args[0].input.RequestItems?.[TABLE]?.Keys).toEqual([
      { id: { S: 'event#evt-1' } },
    ]);
  });

  it('gives up on keys still unprocessed after its retries, naming how many', async () => {
    // Prepare
    dynamo.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [] },
      UnprocessedKeys: { [TABLE]: { Keys: [{ id: { S: 'event#evt-1' } }] } },
    });

    // Act
    const error = await store()
      .readMany({ eventIds: ['evt-1'], targetKeys: [] }, SIGNAL)
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({
      message: `DynamoDB readMany on ${TABLE} failed: 1 keys still unprocessed after 4 retries`,
      kind: FailureKind.Throttled,
      code: 'UnprocessedKeys',
      context: { table: TABLE },
    });
    expect(dynamo.commandCalls(BatchGetItemCommand)).toHaveLength(5);
  });

  it('stops retrying unprocessed keys when the signal aborts', async () => {
    // Prepare
    dynamo.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [] },
      UnprocessedKeys: { [TABLE]: { Keys: [{ id: { S: 'event#evt-1' } }] } },
    });
    const controller = new AbortController();
    controller.abort(new Error('deadline'));

    // Act / Assess
    await expect(
      store().readMany({ eventIds: ['evt-1'], targetKeys: [] }, controller.signal),
    ).rejects.toThrow('deadline');
    expect(dynamo.commandCalls(BatchGetItemCommand)).toHaveLength(1);
  });

  it('reads a COMPLETED item past its expiration as absent', async () => {
    // Prepare
    dynamo.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [decision({ status: 'COMPLETED', expiration: NOW_SECONDS - 1 })] },
    });

    // Act
    const snapshot = await store().readMany({ eventIds: ['evt-1'], targetKeys: [] }, SIGNAL);

    // Assess
    expect(snapshot.completed.size).toBe(0);
  });

  it('writes completions 25 to a BatchWriteItem, the item complete writes', async () => {
    // Prepare
    dynamo.on(BatchWriteItemCommand).resolves({});
    const completions = Array.from({ length: 30 }, (_, i) => ({
      eventId: `evt-${i}`,
      resolution: RESOLUTION,
    }));

    // Act
    const unwritten = await store().completeMany(completions, SIGNAL);

    // Assess
    expect(unwritten).toEqual([]);
    const calls = dynamo.commandCalls(BatchWriteItemCommand);
    expect(calls.map((c) => c.args[0].input.RequestItems?.[TABLE]?.length)).toEqual([25, 5]);
    expect(calls[0]?.args[0].input.RequestItems?.[TABLE]?.[0]).toEqual({
      PutRequest: {
        Item: {
          id: { S: 'event#evt-0' },
          status: { S: 'COMPLETED' },
          resolution: { S: JSON.stringify(RESOLUTION) },
          expiration: { N: String(NOW_SECONDS + TTL_SECONDS) },
        },
      },
    });
  });

  it('splits completions by bytes too: no request carries more than 4 MiB of items', async () => {
    // Prepare: 300 KB resolutions (under DynamoDB's 400 KB item limit), 14 per 4 MiB at most.
    dynamo.on(BatchWriteItemCommand).resolves({});
    const big = { ...RESOLUTION, satisfiedBy: 'x'.repeat(300_000) };
    const completions = Array.from({ length: 20 }, (_, i) => ({
      eventId: `evt-${i}`,
      resolution: big,
    }));

    // Act
    await store().completeMany(completions, SIGNAL);

    // Assess
    const sizes = dynamo
      .commandCalls(BatchWriteItemCommand)
      .map((c) => JSON.stringify(c.args[0].input.RequestItems?.[TABLE]).length);
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(4 * 1024 * 1024 + 1000);
  });

  it('sends unprocessed items again, and reports those never written', async () => {
    // Prepare
    const unprocessed = (eventId: string) => ({
      PutRequest: {
        Item: {
          id: { S: `event#${eventId}` },
          status: { S: 'COMPLETED' },
          resolution: { S: '{}' },
          expiration: { N: '1' },
        },
      },
    });
    dynamo
      .on(BatchWriteItemCommand)
      .resolvesOnce({ UnprocessedItems: { [TABLE]: [unprocessed('evt-1'), unprocessed('evt-2')] } })
      .resolves({ UnprocessedItems: { [TABLE]: [unprocessed('evt-2')] } });

    // Act
    const unwritten = await store().completeMany(
      ['evt-0', 'evt-1', 'evt-2'].map((eventId) => ({ eventId, resolution: RESOLUTION })),
      SIGNAL,
    );

    // Assess
    expect(unwritten).toEqual(['evt-2']);
    expect(dynamo.commandCalls(BatchWriteItemCommand)).toHaveLength(5);
  });

  it('completes and confirms in one BatchWriteItem, and reports what of each stayed unwritten, by kind', async () => {
    // Prepare: an eventId spelled as a target key; both stay unprocessed every round
    const unprocessed = (id: string) => ({ PutRequest: { Item: { id: { S: id } } } });
    dynamo.on(BatchWriteItemCommand).resolves({
      UnprocessedItems: { [TABLE]: [unprocessed('event#t-1'), unprocessed('target#t-1')] },
    });

    // Act
    const unwritten = await store().completeAndConfirm(
      ['evt-0', 't-1'].map((eventId) => ({ eventId, resolution: RESOLUTION })),
      [
        { targetKey: 't-1', confirmation: { confirmedAt: NOW, eventId: 'evt-0' } },
        { targetKey: 't-2', confirmation: { confirmedAt: NOW, eventId: 'evt-0' } },
      ],
      SIGNAL,
    );

    // Assess
    expect(unwritten).toEqual({ eventIds: ['t-1'], targetKeys: ['t-1'] });
    const first = dynamo.commandCalls(BatchWriteItemCommand)[0]?.args[0].input;
    expect(first?.RequestItems?.[TABLE]?.map((r) => r.PutRequest?.Item?.id?.S)).toEqual([
      'event#evt-0',
      'event#t-1',
      'target#t-1',
      'target#t-2',
    ]);
  });

  it('writes confirmations in one BatchWriteItem, one item per target, the latest when a target comes twice', async () => {
    // Prepare
    dynamo.on(BatchWriteItemCommand).resolves({});

    // Act
    const unwritten = await store().confirmTargets(
      [
        { targetKey: 't-1', confirmation: { confirmedAt: NOW - 5, eventId: 'evt-old' } },
        { targetKey: 't-1', confirmation: { confirmedAt: NOW, eventId: 'evt-new' } },
        { targetKey: 't-2', confirmation: { confirmedAt: NOW, eventId: 'evt-2' } },
      ],
      SIGNAL,
    );

    // Assess
    expect(unwritten).toEqual([]);
    const calls = dynamo.commandCalls(BatchWriteItemCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.RequestItems?.[TABLE]).toEqual([
      {
        PutRequest: {
          Item: {
            id: { S: 'target#t-1' },
            confirmedAt: { N: String(NOW) },
            eventId: { S: 'evt-new' },
            expiration: { N: String(NOW_SECONDS + TTL_SECONDS) },
          },
        },
      },
      {
        PutRequest: {
          Item: {
            id: { S: 'target#t-2' },
            confirmedAt: { N: String(NOW) },
            eventId: { S: 'evt-2' },
            expiration: { N: String(NOW_SECONDS + TTL_SECONDS) },
          },
        },
      },
    ]);
  });

  it('throws the store error when no completion request got through', async () => {
    // Prepare
    dynamo.on(BatchWriteItemCommand).rejects(throughputExceeded());

    // Act / Assess
    await expect(
      store().completeMany([{ eventId: 'evt-1', resolution: RESOLUTION }], SIGNAL),
    ).rejects.toBeInstanceOf(IdempotencyStoreError);
  });

  it('reports the completions of a failed request as unwritten when another request got through', async () => {
    // Prepare
    dynamo.on(BatchWriteItemCommand).resolvesOnce({}).rejects(throughputExceeded());
    const completions = Array.from({ length: 26 }, (_, i) => ({
      eventId: `evt-${i}`,
      resolution: RESOLUTION,
    }));

    // Act
    const unwritten = await store().completeMany(completions, SIGNAL);

    // Assess
    expect(unwritten).toEqual(['evt-25']);
  });
});
