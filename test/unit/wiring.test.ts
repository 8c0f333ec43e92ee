import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DynamoDbIdempotencyStore } from '../../src/adapters/dynamodb-store.js';
import { InMemoryIdempotencyStore } from '../../src/adapters/memory-store.js';
import { loadConfig } from '../../src/config.js';
import { createWorkerDependencies } from '../../src/wiring.js';

const env = {
  AWS_REGION: 'us-east-1',
  AUDIT_EVENT_BUS_NAME: 'revoker-audit',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/revocations-dlq',
};

const capture = () => {
  const lines: { level: number; msg: string }[] = [];
  return {
    lines,
    logger: pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) }),
  };
};

describe('createWorkerDependencies', () => {
  it('rule 6: without IDEMPOTENCY_TABLE_NAME the store is in memory, with one warning logged at start', async () => {
    const { lines, logger } = capture();
    const deps = await createWorkerDependencies(loadConfig(env), logger);
    expect(deps.store).toBeInstanceOf(InMemoryIdempotencyStore);
    expect(lines.filter((line) => /IDEMPOTENCY_TABLE_NAME is not set/.test(line.msg))).toHaveLength(
      1,
    );
  });

  it('rule 6: with IDEMPOTENCY_TABLE_NAME the store is DynamoDB, and nothing is warned', async () => {
    const { lines, logger } = capture();
    const deps = await createWorkerDependencies(
      loadConfig({ ...env, IDEMPOTENCY_TABLE_NAME: 'revoker-idempotency' }),
      logger,
    );
    expect(deps.store).toBeInstanceOf(DynamoDbIdempotencyStore);
    expect(lines).toHaveLength(0);
  });
});
