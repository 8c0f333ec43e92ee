import { createRequire } from 'node:module';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** The subset of dynalite's API the tests use (it ships no type declarations). */
interface DynaliteServer {
  listen(port: number, host: string, callback: (error?: Error) => void): void;
  address(): { port: number } | string | null;
  close(callback: (error?: Error | null) => void): void;
  closeAllConnections(): void;
}
type Dynalite = (options: { createTableMs: number }) => DynaliteServer;

// dynalite is CommonJS without types: load it through require, with the type above.
const dynalite = createRequire(import.meta.url)('dynalite') as Dynalite;

export interface LocalDynamoDb {
  client: DynamoDBClient;
  /** Creates a fresh table shaped like the idempotency table (partition key `id`, S). */
  createTable(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * An in-process DynamoDB (dynalite: the real JSON protocol, in memory) on a free local port, with a
 * client that talks to it. No network beyond the loopback interface.
 */
export const startLocalDynamoDb = async (): Promise<LocalDynamoDb> => {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve, reject) =>
    server.listen(0, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('dynalite did not bind');
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${address.port}`,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  let tables = 0;
  return {
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
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
};
