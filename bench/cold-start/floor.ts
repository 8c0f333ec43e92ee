/**
 * The cold-start floor: a Lambda entry that loads nothing but what any handler doing this job
 * must — the four AWS SDK clients the worker uses and pino — and constructs them at module scope,
 * as the worker does. The worker's init and bundle are compared with this.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { RedshiftClient } from '@aws-sdk/client-redshift';
import { SQSClient } from '@aws-sdk/client-sqs';
import { pino } from 'pino';

export const clients = {
  redshift: new RedshiftClient({}),
  eventBridge: new EventBridgeClient({}),
  sqs: new SQSClient({}),
  dynamoDb: new DynamoDBClient({}),
};
export const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });

export const handler = async (): Promise<{ batchItemFailures: [] }> => ({ batchItemFailures: [] });
