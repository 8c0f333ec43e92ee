import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Logger } from 'pino';
import { ConsumerRoleCredentials, sessionNameOf } from './adapters/consumer-role.js';
import { DynamoDbIdempotencyStore } from './adapters/dynamodb-store.js';
import { EventBridgeAuditPublisher } from './adapters/eventbridge.js';
import { LambdaEventSourceSwitch } from './adapters/lambda-mapping.js';
import { InMemoryIdempotencyStore } from './adapters/memory-store.js';
import { DynamoDbPaceRecords } from './adapters/pace-record.js';
import { RedshiftClients, RedshiftDataShareRevoker } from './adapters/redshift.js';
import { minRetentionSeconds } from './adapters/retention.js';
import { SqsMessageQueue } from './adapters/sqs.js';
import type { Config } from './config.js';
import { systemClock } from './core/deadline.js';
import { createLogger } from './observability/logger.js';
import { EmfMetrics } from './observability/metrics.js';
import { Breaker } from './worker/breaker.js';
import type { WorkerDependencies } from './worker/process-batch.js';
import { RedshiftGates, sleep } from './worker/redshift-gate.js';

/** Requests to SQS, EventBridge and DynamoDB give up after this long, and really throw. */
const SUPPORT_REQUEST_TIMEOUT_MS = 3000;

const httpHandler = (requestTimeout: number) =>
  new NodeHttpHandler({ connectionTimeout: 2000, requestTimeout, throwOnRequestTimeout: true });

/**
 * One attempt per call, with a timeout that really throws. The SDK's default of 3 attempts would
 * multiply a call's time (up to 9 s per store call) behind the worker's back; every call is
 * bounded by the invocation's deadline instead, and retried by the worker where that is safe.
 */
const ONE_ATTEMPT = {
  maxAttempts: 1,
  requestHandler: httpHandler(SUPPORT_REQUEST_TIMEOUT_MS),
} as const;

/**
 * Builds the worker's dependencies from its configuration: the AWS clients (endpoints come from
 * the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables), the adapters and the container-wide
 * Redshift gate. Called once, at module scope, so clients are reused across invocations.
 */
export const createWorkerDependencies = (
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): WorkerDependencies => {
  const region = config.region;
  const retention = {
    ttlSeconds: config.dedupTtlSeconds,
    minRetentionSeconds: minRetentionSeconds(config.queueVisibilityTimeoutSeconds),
  };
  const table = config.idempotencyTableName
    ? {
        client: new DynamoDBClient({ region, ...ONE_ATTEMPT }),
        tableName: config.idempotencyTableName,
      }
    : undefined;
  const store = table
    ? new DynamoDbIdempotencyStore({
        ...table,
        ...retention,
      })
    : new InMemoryIdempotencyStore(retention);
  if (!config.idempotencyTableName) {
    logger.warn(
      'IDEMPOTENCY_TABLE_NAME is not set: deduplication is in memory, per container; duplicates reaching different containers will be processed twice',
    );
  }
  if (config.breaker && !config.idempotencyTableName) {
    logger.warn(
      'BREAKER_MAX_REVOCATIONS is set without IDEMPOTENCY_TABLE_NAME: the breaker counts per container, not across all of them',
    );
  }
  // Hub mode: one STS client (regional endpoint: the SDK's default in v3) for every consumer role,
  // built, and its SDK loaded, when a spoke's role is first assumed.
  const consumerRole =
    config.consumerRole &&
    new ConsumerRoleCredentials({
      clientConfig: { region, ...ONE_ATTEMPT },
      roleName: config.consumerRole.name,
      ...(config.consumerRole.externalId !== undefined && {
        externalId: config.consumerRole.externalId,
      }),
      sessionSeconds: config.consumerRole.sessionSeconds,
      sessionName: sessionNameOf(config.functionName, randomUUID().slice(0, 8)),
    });
  return {
    settings: config,
    revoker: new RedshiftDataShareRevoker(
      new RedshiftClients({
        requestTimeoutMs: config.redshiftRequestTimeoutMs,
        ...(consumerRole && { consumerRole }),
      }),
      config.workerRoleArn,
    ),
    audit: new EventBridgeAuditPublisher({
      client: new EventBridgeClient({ region, ...ONE_ATTEMPT }),
      eventBusName: config.auditEventBusName,
      source: config.auditEventSource,
    }),
    queue: new SqsMessageQueue({
      // Send to the configured endpoint, not the queue URL's host (see SqsMessageQueue).
      clientConfig: { region, useQueueUrlAsEndpoint: false, ...ONE_ATTEMPT },
      deadLetterQueueUrl: config.deadLetterQueueUrl,
    }),
    store,
    gate: new RedshiftGates({
      maxConcurrency: config.redshiftMaxConcurrency,
      // Every container paces each control plane from one shared record in the table: together
      // they call at the rate one would (see src/core/shared-rate.ts).
      ...(table &&
        config.redshiftSharedPace && {
          pace: {
            records: new DynamoDbPaceRecords(table),
            onFailure: (error: unknown) =>
              logger.warn(
                { err: error },
                'Could not use the shared Redshift pace; this container paces alone for now',
              ),
          },
        }),
    }),
    metrics: new EmfMetrics({
      namespace: 'DatashareRevoker',
      // Per function, so two stages in one account and region never share a metric (or an alarm).
      dimensions: { FunctionName: config.functionName },
    }),
    logger,
    clock: systemClock,
    sleep,
    random: Math.random,
    // The Lambda client is built, and its SDK loaded, only when the breaker first opens.
    ...(config.breaker && {
      breaker: new Breaker(
        {
          maxRevocations: config.breaker.maxRevocations,
          windowSeconds: config.breaker.windowSeconds,
        },
        config.breaker.sourceQueueArn,
        new LambdaEventSourceSwitch({ region, ...ONE_ATTEMPT }),
      ),
    }),
  };
};
