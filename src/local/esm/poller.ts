import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { Logger } from 'pino';
import { deleteProcessed } from './acknowledge.js';
import { fullJitterDelay, sleep } from './backoff.js';
import { assembleBatch } from './batcher.js';
import { createLambdaContext, createLogStreamName, type FunctionIdentity } from './context.js';
import { EventSourceMappingError, SQS_OPERATIONS } from './errors.js';
import { invokeWithTimeout } from './invoke.js';
import { judgeInvocation } from './judge.js';
import type { ResolvedOptions } from './options.js';
import type { RecordSource } from './records.js';
import type { SourceQueue } from './source-queue.js';
import type { EventSourceMappingStats } from './stats.js';
import type { BatchReport } from './types.js';

/** Everything one poller needs; shared by all pollers of a mapping. */
export interface PollerEnvironment {
  options: ResolvedOptions;
  queue: SourceQueue;
  source: RecordSource;
  identity: FunctionIdentity;
  stats: EventSourceMappingStats;
  logger: Logger;
  emitBatch: (report: BatchReport) => void;
  emitError: (error: EventSourceMappingError) => void;
}

/** Invoke → judge → delete, for one batch. Never throws. */
async function processBatch(
  env: PollerEnvironment,
  poller: number,
  logStreamName: string,
  records: SQSRecord[],
): Promise<void> {
  const { options, stats } = env;
  const awsRequestId = randomUUID();
  const logger = env.logger.child({ awsRequestId });
  const startedAt = Date.now();
  stats.inFlightBatches++;
  stats.batchesInvoked++;
  stats.recordsInvoked += records.length;
  try {
    const context = createLambdaContext(
      env.identity,
      logStreamName,
      startedAt + options.functionTimeoutMs,
      awsRequestId,
    );
    const messageIds = records.map((record) => record.messageId);
    logger.debug({ records: records.length }, 'invoking the handler');
    // Lambda hands the function a serialised copy: whatever the handler does to the event cannot
    // change which receipt handles get deleted.
    const outcome = await invokeWithTimeout(
      options.handler,
      { Records: structuredClone(records) },
      context,
      options.functionTimeoutMs,
    );
    if (outcome.kind === 'timed-out') {
      stats.runawayInvocations++;
      void outcome.settled.finally(() => {
        stats.runawayInvocations--;
      });
    }

    const judgement = judgeInvocation(outcome, messageIds, {
      awsRequestId,
      timeoutMs: options.functionTimeoutMs,
    });
    const { failure, failedMessageIds } = judgement;
    if (failure) {
      stats.batchFailures[failure.reason]++;
      logger.warn({ err: failure, reason: failure.reason }, 'whole batch failed');
    } else {
      stats.itemFailuresReported += failedMessageIds.size;
    }

    const toDelete = records
      .filter((record) => !failedMessageIds.has(record.messageId))
      .map(({ messageId, receiptHandle }) => ({ messageId, receiptHandle }));
    const deletion = await deleteProcessed(env.queue, toDelete, options.retry);
    stats.messagesDeleted += deletion.deletedMessageIds.length;
    for (const refused of deletion.failures) {
      stats.deleteFailures += refused.messageIds.length;
      env.emitError(refused);
    }

    env.emitBatch({
      poller,
      awsRequestId,
      messageIds,
      outcome: judgement.outcome,
      failedMessageIds: [...failedMessageIds],
      ...(failure && { failure }),
      deletedMessageIds: deletion.deletedMessageIds,
      deleteFailures: deletion.failures,
      durationMs: Date.now() - startedAt,
    });
  } catch (error) {
    // Only a bug gets here; the messages are simply redelivered after the visibility timeout.
    env.emitError(
      new EventSourceMappingError('processing a batch failed unexpectedly', { cause: error }),
    );
  } finally {
    stats.inFlightBatches--;
  }
}

/**
 * One poller: receive → invoke → delete, until `signal` aborts. Each poller is one "execution
 * environment": one batch at a time, its own log stream. Never rejects: SQS failures are reported
 * and retried with full-jitter backoff, so a transient outage cannot end the loop.
 */
export async function runPoller(
  env: PollerEnvironment,
  poller: number,
  signal: AbortSignal,
): Promise<void> {
  const logStreamName = createLogStreamName();
  let consecutiveFailures = 0;
  while (!signal.aborted) {
    let records: SQSRecord[];
    try {
      records = await assembleBatch(
        {
          queue: env.queue,
          source: env.source,
          batchSize: env.options.batchSize,
          batchingWindowMs: env.options.batchingWindowMs,
          waitTimeSeconds: env.options.waitTimeSeconds,
          onProblem: env.emitError,
        },
        signal,
      );
      consecutiveFailures = 0;
    } catch (error) {
      consecutiveFailures++;
      env.emitError(
        error instanceof EventSourceMappingError
          ? error
          : new EventSourceMappingError(`${SQS_OPERATIONS.receive} loop failed unexpectedly`, {
              cause: error,
            }),
      );
      await sleep(fullJitterDelay(consecutiveFailures, env.options.retry), signal);
      continue;
    }
    if (records.length > 0) await processBatch(env, poller, logStreamName, records);
  }
}
