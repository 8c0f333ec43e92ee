import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Logger } from 'pino';
import { ConsumerRoleCredentials, sessionNameOf } from './adapters/consumer-role.js';
import { DynamoDbIdempotencyStore } from './adapters/dynamodb-store.js';
import { EventBridgeAuditPublisher } from './adapters/eventbridge.js';
import { onFirstUse } from './adapters/first-use.js';
import { RedshiftClients, RedshiftDataShareRevoker } from './adapters/redshift.js';
import { minRetentionSeconds } from './adapters/retention.js';
import type { Config } from './config.js';
import { systemClock } from './core/deadline.js';
import { createLogger } from './observability/logger.js';
import { EmfMetrics } from './observability/metrics.js';
import type { EventSourceSwitch, MessageQueue } from './worker/ports.js';
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
 * The queue, its adapter module imported and built at its first call: the worker calls SQS only
 * for what does not end acknowledged (a dead-letter copy, a message given back later), so a
 * container whose messages all end acknowledged never reads the adapter or the SQS SDK.
 */
const queueAtFirstCall = (build: () => Promise<MessageQueue>): MessageQueue => {
  const queue = onFirstUse(build);
  return {
    sendToDeadLetterQueue: async (copies, signal) =>
      (await queue()).sendToDeadLetterQueue(copies, signal),
    changeVisibility: async (changes, signal) => (await queue()).changeVisibility(changes, signal),
    requeue: async (copies, signal) => (await queue()).requeue(copies, signal),
  };
};

/** The breaker's switch, imported and built when the breaker first opens (as the queue). */
const switchAtFirstCall = (build: () => Promise<EventSourceSwitch>): EventSourceSwitch => {
  const mappings = onFirstUse(build);
  return {
    setEnabled: async (enabled, target, signal) =>
      (await mappings()).setEnabled(enabled, target, signal),
  };
};

/**
 * Builds the worker's dependencies from its configuration: the AWS clients (endpoints come from
 * the SDK's own `AWS_ENDPOINT_URL_<SERVICE>` variables), the adapters and the container-wide
 * Redshift gate. Called once, at module scope (`await`ed there), so clients are reused across
 * invocations.
 *
 * Asynchronous because what only a setting turns on is imported only when it does: the breaker
 * (`BREAKER_MAX_REVOCATIONS`), the shared pace's records (`REDSHIFT_SHARED_PACE`) and the
 * in-memory store (no table). Those modules are read at init when they are configured, and never
 * otherwise. The queue and the breaker's switch are imported at their first call.
 */
export const createWorkerDependencies = async (
  config: Config,
  logger: Logger = createLogger(config.logLevel),
): Promise<WorkerDependencies> => {
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
    : new (await import('./adapters/memory-store.js')).InMemoryIdempotencyStore(retention);
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
    queue: queueAtFirstCall(async () => {
      const { SqsMessageQueue } = await import('./adapters/sqs.js');
      return new SqsMessageQueue({
        // Send to the configured endpoint, not the queue URL's host (see SqsMessageQueue).
        clientConfig: { region, useQueueUrlAsEndpoint: false, ...ONE_ATTEMPT },
        deadLetterQueueUrl: config.deadLetterQueueUrl,
      });
    }),
    store,
    gate: new RedshiftGates({
      maxConcurrency: config.redshiftMaxConcurrency,
      // One full cut per congestion across containers; the adapter is read at the first throttle.
      marks: table && {
        async mark(...args) {
          return (await import('./adapters/pace-record.js')).mark(table, ...args);
        },
      },
      // Every container paces each control plane from one shared record in the table: together
      // they call at the rate one would (see src/core/shared-rate.ts).
      ...(table &&
        config.redshiftSharedPace && {
          pace: {
            records: new (await import('./adapters/pace-record.js')).DynamoDbPaceRecords(table),
            SharedGate: (await import('./worker/shared-gate.js')).SharedRedshiftGate,
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
    // The switch (its adapter and the Lambda SDK) is loaded only when the breaker first opens.
    ...(config.breaker && {
      breaker: new (await import('./worker/breaker.js')).Breaker(
        {
          maxRevocations: config.breaker.maxRevocations,
          windowSeconds: config.breaker.windowSeconds,
        },
        config.breaker.sourceQueueArn,
        switchAtFirstCall(async () => {
          const { LambdaEventSourceSwitch } = await import('./adapters/lambda-mapping.js');
          return new LambdaEventSourceSwitch({ region, ...ONE_ATTEMPT });
        }),
      ),
    }),
  };
};
