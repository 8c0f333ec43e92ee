/**
 * TransactWriteItems on the local DynamoDB (dynalite plus our transaction), through the real SDK
 * over HTTP: what DynamoDB validates, the all-or-nothing outcome, the cancellation reasons as the
 * SDK parses them, and isolation against concurrent single-item writes.
 */
import {
  type AttributeValue,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/local/random.js';
import { useLocalDynamoDb } from '../helpers/dynalite.js';

const dynamo = useLocalDynamoDb();
let table: string;

beforeEach(async () => {
  table = await dynamo.createTable();
});

const NOW_SEC = 1_800_000_000;

/** The worker's claim of one decision: free, or its previous claim expired. */
const claim = (id: string, owner: string): TransactWriteItem => ({
  Update: {
    TableName: table,
    Key: { id: { S: id } },
    ConditionExpression: 'attribute_not_exists(id) OR expiration < :nowSec',
    UpdateExpression:
      'SET #status = :inProgress, leaseUntil = :lease, #owner = :owner, expiration = :exp REMOVE resolution',
    ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
    ExpressionAttributeValues: {
      ':nowSec': { N: String(NOW_SEC) },
      ':inProgress': { S: 'IN_PROGRESS' },
      ':lease': { N: String(NOW_SEC * 1000 + 30_000) },
      ':owner': { S: owner },
      ':exp': { N: String(NOW_SEC + 3600) },
    },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  },
});

const put = (item: Record<string, AttributeValue>) =>
  dynamo.client.send(new PutItemCommand({ TableName: table, Item: item }));

const get = async (id: string) =>
  (
    await dynamo.client.send(
      new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }),
    )
  ).Item;

const transact = (items: TransactWriteItem[]) =>
  dynamo.client.send(new TransactWriteItemsCommand({ TransactItems: items }));

/** What a call threw (the test fails if it did not throw). */
const failureOf = async (call: Promise<unknown>) => {
  const outcome = await call.then(
    () => undefined,
    (error: unknown) => error as Error & { $metadata?: { httpStatusCode?: number } },
  );
  if (outcome === undefined) throw new Error('expected the call to fail, it succeeded');
  return outcome;
};

describe('TransactWriteItems on the local DynamoDB', () => {
  it('applies every action when every condition holds: the claim update (SET and REMOVE), a put, a delete', async () => {
    // Prepare
    await put({ id: { S: 'expired' }, expiration: { N: '1' }, resolution: { S: 'REVOKED' } });
    await put({ id: { S: 'gone' }, note: { S: 'x' } });
    await put({ id: { S: 'checked' }, flag: { BOOL: true } });

    // Act
    const output = await transact([
      claim('free', 'worker-a'),
      claim('expired', 'worker-a'),
      { Put: { TableName: table, Item: { id: { S: 'new' }, n: { N: '1' } } } },
      { Delete: { TableName: table, Key: { id: { S: 'gone' } } } },
      {
        ConditionCheck: {
          TableName: table,
          Key: { id: { S: 'checked' } },
          ConditionExpression: 'flag = :yes',
          ExpressionAttributeValues: { ':yes': { BOOL: true } },
        },
      },
    ]);

    // Assess
    const { $metadata, ...answer } = output;
    expect($metadata.httpStatusCode).toBe(200);
    expect(answer).toEqual({});
    const claimed = {
      status: { S: 'IN_PROGRESS' },
      leaseUntil: { N: String(NOW_SEC * 1000 + 30_000) },
      owner: { S: 'worker-a' },
      expiration: { N: String(NOW_SEC + 3600) },
    };
    expect(await get('free')).toEqual({ id: { S: 'free' }, ...claimed });
    expect(await get('expired')).toEqual({ id: { S: 'expired' }, ...claimed });
    expect(await get('new')).toEqual({ id: { S: 'new' }, n: { N: '1' } });
    expect(await get('gone')).toBeUndefined();
    expect(await get('checked')).toEqual({ id: { S: 'checked' }, flag: { BOOL: true } });
  });

  it('writes nothing when one condition fails, and gives the reasons in order with the old item only for ALL_OLD', async () => {
    // Prepare
    const held = { id: { S: 'held' }, expiration: { N: String(NOW_SEC + 60) }, owner: { S: 'b' } };
    const other = { id: { S: 'other' }, expiration: { N: String(NOW_SEC + 60) } };
    await put(held);
    await put(other);
    await put({ id: { S: 'doomed' } });
    const noOldItem = claim('other', 'worker-a');
    if (noOldItem.Update) noOldItem.Update.ReturnValuesOnConditionCheckFailure = 'NONE';

    // Act
    const error = await failureOf(
      transact([
        claim('free', 'worker-a'),
        claim('held', 'worker-a'),
        noOldItem,
        { Delete: { TableName: table, Key: { id: { S: 'doomed' } } } },
      ]),
    );

    // Assess
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.name).toBe('TransactionCanceledException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, ConditionalCheckFailed, None]',
    );
    expect((error as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', Item: held },
      { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' },
      { Code: 'None' },
    ]);
    expect(await get('free')).toBeUndefined();
    expect(await get('held')).toEqual(held);
    expect(await get('other')).toEqual(other);
    expect(await get('doomed')).toEqual({ id: { S: 'doomed' } });
  });

  it('cancels with ValidationError when an update cannot apply to its item, and writes nothing', async () => {
    // Prepare
    await put({ id: { S: 'text' }, n: { S: 'not a number' } });

    // Act
    const error = await failureOf(
      transact([
        claim('free', 'worker-a'),
        {
          Update: {
            TableName: table,
            Key: { id: { S: 'text' } },
            UpdateExpression: 'SET n = n + :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
          },
        },
      ]),
    );

    // Assess
    expect(error.name).toBe('TransactionCanceledException');
    expect((error as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'None' },
      {
        Code: 'ValidationError',
        Message: 'An operand in the update expression has an incorrect data type',
      },
    ]);
    expect(await get('free')).toBeUndefined();
  });

  it('refuses two actions on one item with ValidationException, writing nothing', async () => {
    // Act
    const error = await failureOf(
      transact([
        claim('a', 'worker-a'),
        { ConditionCheck: { ...claimKey('a'), ConditionExpression: 'attribute_not_exists(id)' } },
      ]),
    );

    // Assess
    expect(error).toMatchObject({
      name: 'ValidationException',
      message: 'Transaction request cannot include multiple operations on one item',
    });
    expect(await get('a')).toBeUndefined();
  });

  it('takes 100 actions and refuses 101 with ValidationException', async () => {
    // Prepare
    const claims = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => claim(`${prefix}-${i}`, 'worker-a'));

    // Act
    await transact(claims('hundred', 100));
    const error = await failureOf(transact(claims('too-many', 101)));

    // Assess
    expect(await get('hundred-99')).toMatchObject({ owner: { S: 'worker-a' } });
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(
      /^1 validation error detected: Value '.*' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100$/s,
    );
    expect(await get('too-many-0')).toBeUndefined();
  });

  it('requires UpdateExpression and ConditionCheck.ConditionExpression, naming their path as DynamoDB does', async () => {
    // Prepare
    const noUpdate = claim('a', 'worker-a');
    if (noUpdate.Update) {
      noUpdate.Update.UpdateExpression = undefined as unknown as string;
      noUpdate.Update.ExpressionAttributeValues = { ':nowSec': { N: '1' } };
      noUpdate.Update.ExpressionAttributeNames = undefined;
    }

    // Act
    const error = await failureOf(
      transact([noUpdate, { ConditionCheck: { ...claimKey('b') } as never }]),
    );

    // Assess
    expect(error).toMatchObject({
      name: 'ValidationException',
      message:
        "2 validation errors detected: Value null at 'transactItems.1.member.update.updateExpression' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'transactItems.2.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
    });
  });

  it("refuses a malformed update expression with dynalite's own UpdateItem message", async () => {
    // Prepare
    const malformed = {
      TableName: table,
      Key: { id: { S: 'a' } },
      UpdateExpression: 'SET = :v',
      ExpressionAttributeValues: { ':v': { N: '1' } },
    };
    const single = await failureOf(dynamo.client.send(new UpdateItemCommand(malformed)));

    // Act
    const error = await failureOf(transact([{ Update: malformed }]));

    // Assess
    expect(single.message).toMatch(/^Invalid UpdateExpression: Syntax error; /);
    expect(error).toMatchObject({ name: 'ValidationException', message: single.message });
  });

  it('refuses an item with no action or with two', async () => {
    // Act
    const none = await failureOf(transact([{}]));
    const two = await failureOf(
      transact([
        {
          Put: { TableName: table, Item: { id: { S: 'a' } } },
          Delete: { TableName: table, Key: { id: { S: 'b' } } },
        },
      ]),
    );

    // Assess
    for (const error of [none, two])
      expect(error).toMatchObject({
        name: 'ValidationException',
        message: 'TransactItems can only contain one of Check, Put, Update or Delete',
      });
    expect(await get('a')).toBeUndefined();
  });

  it('validates ReturnValuesOnConditionCheckFailure (ALL_OLD or NONE)', async () => {
    // Prepare
    const wrong = claim('a', 'worker-a');
    if (wrong.Update) wrong.Update.ReturnValuesOnConditionCheckFailure = 'ALL_NEW' as never;

    // Act
    const error = await failureOf(transact([wrong]));

    // Assess
    expect(error).toMatchObject({
      name: 'ValidationException',
      message:
        "1 validation error detected: Value 'ALL_NEW' at 'transactItems.1.member.update.returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]",
    });
  });

  it('answers ResourceNotFoundException for an unknown table, writing nothing', async () => {
    // Prepare
    const elsewhere = claim('a', 'worker-a');
    if (elsewhere.Update) elsewhere.Update.TableName = 'no-such-table';

    // Act
    const error = await failureOf(transact([claim('a', 'worker-a'), elsewhere]));

    // Assess
    expect(error).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Requested resource not found',
    });
    expect(await get('a')).toBeUndefined();
  });

  it('refuses tables with secondary indexes rather than updating them half-atomically', async () => {
    // Prepare
    const indexed = `${table}-indexed`;
    await dynamo.client.send(
      new CreateTableCommand({
        TableName: indexed,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'id', AttributeType: 'S' },
          { AttributeName: 'owner', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'by-owner',
            KeySchema: [{ AttributeName: 'owner', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      }),
    );

    // Act
    const error = await failureOf(
      transact([{ Put: { TableName: indexed, Item: { id: { S: 'a' }, owner: { S: 'x' } } } }]),
    );

    // Assess
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(
      /does not support TransactWriteItems on tables with secondary indexes/,
    );
  });

  it('refuses a transaction whose items add up to more than 4 MB, writing nothing', async () => {
    // Prepare: 11 items of 390 KB each, each under the 400 KB item limit
    const big = (i: number): TransactWriteItem => ({
      Put: { TableName: table, Item: { id: { S: `big-${i}` }, data: { S: 'x'.repeat(390_000) } } },
    });

    // Act
    const error = await failureOf(transact(Array.from({ length: 11 }, (_, i) => big(i))));

    // Assess
    expect(error.name).toBe('ValidationException');
    expect(error.message).toMatch(/4MB limit/);
    expect(await get('big-0')).toBeUndefined();
  });

  it('accepts ClientRequestToken and ReturnConsumedCapacity, and answers no capacity (not implemented)', async () => {
    // Act
    const output = await dynamo.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [claim('a', 'worker-a')],
        ClientRequestToken: 'token-1',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );

    // Assess
    expect(output.ConsumedCapacity).toBeUndefined();
    expect(await get('a')).toMatchObject({ owner: { S: 'worker-a' } });
  });

  it('requires an Authorization header, as dynalite does for its own operations', async () => {
    // Act
    const response = await fetch(dynamo.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.TransactWriteItems',
      },
      body: JSON.stringify({ TransactItems: [] }),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amz-crc32')).toMatch(/^\d+$/);
    expect(await response.json()).toEqual({
      __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
      message: 'Request is missing Authentication Token',
    });
  });
});

const claimKey = (id: string) => ({ TableName: table, Key: { id: { S: id } } });

describe('TransactWriteItems isolation', () => {
  it('concurrent transactions and single-item claims of overlapping keys: each key has one owner, each transaction all or nothing', async () => {
    // Prepare: 4 rounds of 40 keys, each claimed by 25 transactions of 4 keys and 50 single updates
    const random = seededRandom(7);
    const pickKeys = (keys: string[], n: number) => {
      const picked = new Set<string>();
      while (picked.size < n) picked.add(keys[Math.floor(random() * keys.length)] as string);
      return [...picked];
    };
    type Claimant = { owner: string; keys: string[]; kind: 'transaction' | 'single' };
    const claimants: Claimant[] = [];
    for (let round = 0; round < 4; round++) {
      const keys = Array.from({ length: 40 }, (_, i) => `r${round}-k${i}`);
      const roundClaimants: Claimant[] = [
        ...Array.from({ length: 25 }, (_, i) => ({
          owner: `tx-${round}-${i}`,
          keys: pickKeys(keys, 4),
          kind: 'transaction' as const,
        })),
        ...Array.from({ length: 50 }, (_, i) => ({
          owner: `single-${round}-${i}`,
          keys: pickKeys(keys, 1),
          kind: 'single' as const,
        })),
      ];
      roundClaimants.sort(() => random() - 0.5);
      claimants.push(...roundClaimants);
    }
    const send = ({ owner, keys, kind }: Claimant) => {
      if (kind === 'transaction') return transact(keys.map((key) => claim(key, owner)));
      const { Update } = claim(keys[0] as string, owner);
      return dynamo.client.send(new UpdateItemCommand(Update as never));
    };

    // Act
    const started = performance.now();
    const outcomes = await Promise.allSettled(claimants.map(send));
    const elapsed = performance.now() - started;

    // Assess
    const owners = new Map<string, string | undefined>();
    for (const key of new Set(claimants.flatMap((c) => c.keys)))
      owners.set(key, (await get(key))?.owner?.S);
    const winsByKey = new Map<string, number>();
    let transactionsApplied = 0;
    let transactionsCancelled = 0;
    claimants.forEach((claimant, i) => {
      const outcome = outcomes[i];
      const owned = claimant.keys.filter((key) => owners.get(key) === claimant.owner);
      if (outcome?.status === 'fulfilled') {
        expect(owned).toEqual(claimant.keys);
        for (const key of claimant.keys) winsByKey.set(key, (winsByKey.get(key) ?? 0) + 1);
        if (claimant.kind === 'transaction') transactionsApplied += 1;
      } else {
        expect(outcome?.reason).toMatchObject({
          name:
            claimant.kind === 'transaction'
              ? 'TransactionCanceledException'
              : 'ConditionalCheckFailedException',
        });
        expect(owned).toEqual([]);
        if (claimant.kind === 'transaction') transactionsCancelled += 1;
      }
    });
    for (const [key, owner] of owners) expect(winsByKey.get(key) ?? 0).toBe(owner ? 1 : 0);
    expect(transactionsApplied).toBeGreaterThan(0);
    expect(transactionsCancelled).toBeGreaterThan(0);
    expect(claimants).toHaveLength(300);
    expect(elapsed).toBeLessThan(5000);
  });
});
