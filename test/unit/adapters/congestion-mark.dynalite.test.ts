import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { CONGESTION_ITEM_PREFIX, mark } from '../../../src/adapters/pace-record.js';
import { IdempotencyStoreError } from '../../../src/core/errors.js';
import type { CongestionMarks } from '../../../src/worker/ports.js';
import { useLocalDynamoDb } from '../../helpers/dynalite.js';

/**
 * Congestion marks against dynalite (the real DynamoDB protocol): DynamoDB accepts the
 * conditional put, and of containers marking one congestion at once exactly one is first.
 */
const dynamo = useLocalDynamoDb();

const signal = () => AbortSignal.timeout(5000);
const KEY = '111122223333|us-east-1';
const OTHER = '222233334444|us-east-1';
const T = Date.parse('2026-11-30T09:00:00Z');
const WINDOW = 250;

const marksOf = (tableName: string): CongestionMarks => ({
  mark: (key, request, signal) => mark({ client: dynamo.client, tableName }, key, request, signal),
});

const marksOn = async () => {
  const tableName = await dynamo.createTable();
  return { tableName, marks: marksOf(tableName) };
};

describe('DynamoDbCongestionMarks on dynalite', () => {
  it('is first for a control plane with no mark, and not within the window of the last mark; per control plane', async () => {
    // Prepare
    const { marks, tableName } = await marksOn();
    // Act
    const first = await marks.mark(KEY, { now: T, windowMs: WINDOW }, signal());
    const within = await marks.mark(KEY, { now: T + WINDOW - 1, windowMs: WINDOW }, signal());
    const elsewhere = await marks.mark(OTHER, { now: T + 10, windowMs: WINDOW }, signal());
    const after = await marks.mark(KEY, { now: T + WINDOW, windowMs: WINDOW }, signal());
    // Assess
    expect([first, within, elsewhere, after]).toEqual([true, false, true, true]);
    const { Item } = await dynamo.client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { id: { S: CONGESTION_ITEM_PREFIX + KEY } },
      }),
    );
    // The mark that was refused left the first one in place; the one after the window replaced it.
    expect(Item?.markedAt?.N).toBe(String(T + WINDOW));
    expect(Number(Item?.expiration?.N)).toBe(Math.floor((T + WINDOW) / 1000) + 86_400);
  });

  it('of five containers marking one congestion at once, exactly one is first', async () => {
    const { marks } = await marksOn();
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        marks.mark(KEY, { now: T + i * 20, windowMs: WINDOW }, signal()),
      ),
    );
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('throws an IdempotencyStoreError naming the control plane and table when DynamoDB fails', async () => {
    const marks = marksOf('no-such-table');
    const error = await marks
      .mark(KEY, { now: T, windowMs: WINDOW }, signal())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect((error as Error).message).toContain(KEY);
    expect((error as Error).message).toContain('no-such-table');
  });
});
