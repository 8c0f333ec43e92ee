import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

/** The worker's own account (its function ARN's), where the test consumers live. */
export const WORKER_ACCOUNT_ID = '111122223333';

export const SOURCE_QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:revocations';
export const SOURCE_QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/revocations';

export const DATASHARE_ARN =
  'arn:aws:redshift:us-east-1:444455556666:datashare:7b2c2b8a-1d1c-4c61-9b1a-2f0d4b3c5e6f/sales';
export const CONSUMER_ARN =
  'arn:aws:redshift:us-east-1:111122223333:namespace:2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a';
export const OTHER_CONSUMER_ARN =
  'arn:aws:redshift:us-west-2:111122223333:namespace:9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d';

/** A valid request body, version 1. */
export const requestBody = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  eventId: `evt-${randomUUID()}`,
  dataShareArn: DATASHARE_ARN,
  consumerArn: CONSUMER_ARN,
  policyId: 'pii-exposure-7',
  issuedAt: '2026-11-25T08:00:00Z',
  reason: 'consumer lost its data-processing agreement',
  correlationId: 'corr-1',
  ...overrides,
});

/** An SQS record as Lambda delivers it. */
export const sqsRecord = (
  body: unknown,
  options: {
    messageId?: string;
    receiveCount?: number;
    attributes?: SQSRecord['messageAttributes'];
  } = {},
): SQSRecord => ({
  messageId: options.messageId ?? randomUUID(),
  receiptHandle: `rh-${randomUUID()}`,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: {
    ApproximateReceiveCount: String(options.receiveCount ?? 1),
    SentTimestamp: '1764057600000',
    SenderId: 'AIDAEXAMPLE',
    ApproximateFirstReceiveTimestamp: '1764057600001',
  },
  messageAttributes: options.attributes ?? {},
  md5OfBody: 'd41d8cd98f00b204e9800998ecf8427e',
  eventSource: 'aws:sqs',
  eventSourceARN: SOURCE_QUEUE_ARN,
  awsRegion: 'us-east-1',
});

export const sqsEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

/** A Lambda context whose remaining time follows the given clock. */
export const lambdaContext = (clock: () => number, timeoutMs = 30_000): Context => {
  const deadline = clock() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'revoker-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:${WORKER_ACCOUNT_ID}:function:revoker-test`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/revoker-test',
    logStreamName: '2026/11/25/[$LATEST]abc',
    getRemainingTimeInMillis: () => Math.max(0, deadline - clock()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};
