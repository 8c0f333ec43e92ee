import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbIdempotencyStore } from '../../../src/adapters/dynamodb-store.js';
import { useLocalDynamoDb } from '../../helpers/dynalite.js';
import { describeIdempotencyStoreContract } from '../../helpers/store-contract.js';

/**
 * The DynamoDB store against dynalite, an implementation of the real DynamoDB protocol: proves that
 * DynamoDB accepts the store's condition and update expressions, not only that the store sends them.
 */
const dynamo = useLocalDynamoDb();

describe('DynamoDbIdempotencyStore on dynalite (IdempotencyStore contract)', () => {
  describeIdempotencyStoreContract(async (retention) => {
    const tableName = await dynamo.createTable();
    return new DynamoDbIdempotencyStore({ client: dynamo.client, tableName, ...retention });
  });
});

describe('DynamoDbIdempotencyStore on dynalite', () => {
  it('writes the decision item the table design describes: key, status, lease and TTL in epoch seconds', async () => {
    // Prepare
    const tableName = await dynamo.createTable();
    const now = Date.parse('2026-11-25T09:00:00Z');
    const store = new DynamoDbIdempotencyStore({
      client: dynamo.client,
      tableName,
      ttlSeconds: 3600,
      clock: () => now,
    });
    // Act
    await store.claim(
      'evt-1',
      { owner: 'req-1/x', until: now + 30_000 },
      new AbortController().signal,
    );
    // Assess
    const { Item } = await dynamo.client.send(
      new GetItemCommand({ TableName: tableName, Key: { id: { S: 'event#evt-1' } } }),
    );
    expect(Item).toEqual({
      id: { S: 'event#evt-1' },
      status: { S: 'IN_PROGRESS' },
      leaseUntil: { N: String(now + 30_000) },
      owner: { S: 'req-1/x' },
      expiration: { N: String(now / 1000 + 3600) },
    });
  });

  it('does not return the old item on ConditionalCheckFailedException with ReturnValuesOnConditionCheckFailure (dynalite 4), so the store falls back to GetItem', async () => {
    // Prepare
    const tableName = await dynamo.createTable();
    const update = () =>
      new UpdateItemCommand({
        TableName: tableName,
        Key: { id: { S: 'k' } },
        UpdateExpression: 'SET v = :v',
        ConditionExpression: 'attribute_not_exists(id)',
        ExpressionAttributeValues: { ':v': { N: '1' } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
    await dynamo.client.send(update());
    // Act
    const error = await dynamo.client.send(update()).catch((caught: unknown) => caught);
    // Assess: real DynamoDB would set `Item` here (API reference, ConditionalCheckFailedException)
    expect(error).toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect((error as { Item?: unknown }).Item).toBeUndefined();
  });
});
