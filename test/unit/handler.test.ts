import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DisassociateDataShareConsumerCommand, RedshiftClient } from '@aws-sdk/client-redshift';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext, requestBody, sqsEvent, sqsRecord } from '../helpers/sqs-records.js';

const ENV = {
  AWS_REGION: 'us-east-1',
  AUDIT_EVENT_BUS_NAME: 'revoker-audit',
  DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/revocations-dlq',
  IDEMPOTENCY_TABLE_NAME: 'revoker-idempotency',
  LOG_LEVEL: 'silent',
};

describe('handler (module wiring)', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    vi.resetModules();
    Object.assign(process.env, ENV);
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('fails the cold start with the variable name, the value and what is expected when the configuration is bad', async () => {
    process.env.MAX_RECEIVE_COUNT = 'five';
    await expect(import('../../src/handler.js')).rejects.toThrow(
      /MAX_RECEIVE_COUNT: expected a whole number from 1 to 1000; given "five"/,
    );
  });

  it('wires the real adapters: a request flows to Redshift, DynamoDB and EventBridge', async () => {
    // Prepare
    const redshift = mockClient(RedshiftClient);
    const dynamo = mockClient(DynamoDBClient);
    const events = mockClient(EventBridgeClient);
    const sqs = mockClient(SQSClient);
    redshift.on(DisassociateDataShareConsumerCommand).resolves({ DataShareAssociations: [] });
    dynamo.on(UpdateItemCommand).resolves({}).on(PutItemCommand).resolves({});
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const { handler } = await import('../../src/handler.js');
    // Fresh (issued now): no DescribeDataShares before the call (STALE_AFTER_SECONDS).
    const body = requestBody({ issuedAt: new Date().toISOString() });
    // Act
    const response = await handler(sqsEvent(sqsRecord(body)), lambdaContext(Date.now));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(redshift.commandCalls(DisassociateDataShareConsumerCommand)[0]?.args[0].input).toEqual({
      DataShareArn: body.dataShareArn,
      ConsumerArn: body.consumerArn,
    });
    const detail = JSON.parse(
      events.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail ?? '{}',
    );
    expect(detail).toMatchObject({ eventId: body.eventId, outcome: 'REVOKED' });
    expect(dynamo.commandCalls(UpdateItemCommand).length).toBeGreaterThan(0);
    expect(sqs.calls()).toHaveLength(0);
    for (const mock of [redshift, dynamo, events, sqs]) mock.restore();
  });
});
