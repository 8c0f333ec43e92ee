import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { startDynamoDbEmulator } from '../../src/local/dynamodb-emulator/index.js';

export interface LocalDynamoDb {
  /** `http://127.0.0.1:PORT`, for calls the SDK would not send. */
  endpoint: string;
  client: DynamoDBClient;
  /** Creates a fresh table shaped like the idempotency table (partition key `id`, S). */
  createTable(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * An in-process DynamoDB (dynalite: the real JSON protocol, in memory, with TransactWriteItems) on
 * a free local port, with a client that talks to it. No network beyond the loopback interface.
 */
export const startLocalDynamoDb = async (): Promise<LocalDynamoDb> => {
  const emulator = await startDynamoDbEmulator({ createTableMs: 0 });
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: emulator.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let tables = 0;
  return {
    endpoint: emulator.endpoint,
    client,
    async createTable() {
      tables += 1;
      const tableName = `idempotency-${tables}`;
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      return tableName;
    },
    async stop() {
      client.destroy();
      await emulator.stop();
    },
  };
};

/**
 * `startLocalDynamoDb` for one test file: started before its tests, stopped after them. The
 * returned handle is usable inside tests and hooks (it throws if used before the start).
 */
export const useLocalDynamoDb = (): LocalDynamoDb => {
  let started: LocalDynamoDb | undefined;
  beforeAll(async () => {
    started = await startLocalDynamoDb();
  });
  afterAll(async () => {
    await started?.stop();
  });
  const get = (): LocalDynamoDb => {
    if (!started) throw new Error('the local DynamoDB is used before its beforeAll hook ran');
    return started;
  };
  return {
    get endpoint() {
      return get().endpoint;
    },
    get client() {
      return get().client;
    },
    createTable: () => get().createTable(),
    stop: () => get().stop(),
  };
};
