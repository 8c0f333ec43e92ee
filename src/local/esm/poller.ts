import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { Logger } from 'pino';
import { deleteProcessed } from './acknowledge.js';
import { fullJitterDelay, sleep } from './backoff.js';
import { readBatchResponse } from './batch-response.js';
import { assembleBatch } from './batcher.js';
import { createLambdaContext, createLogStreamName, type FunctionIdentity } from './context.js';
import {
  BATCH_FAILURE_REASONS,
  BatchFailedError,
  EventSourceMappingError,
  SQS_OPERATIONS,
} from './errors.js';
import { type InvocationOutcome, invokeWithTimeout } from './invoke.js';
import type { ResolvedOptions } from './options.js';
import type { RecordSource } from './records.js';
import type { SourceQueue } from './source-queue.js';
import type { EventSourceMappingStats } from './stats.js';
import { BATCH_OUTCOMES, type BatchReport } from './types.js';

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

function judge(
  outcome: InvocationOutcome,
  records: readonly SQSRecord[],
  context: { awsRequestId: string; timeoutMs: number },
): { failed: BatchFailedError } | { failedMessageIds: ReadonlySet<string> } {
  const messageIds = records.map((record) => record.messageId);
  const ids = { awsRequestId: context.awsRequestId, messageIds };
  switch (outcome.kind) {
    case 'threw':
      return {
        failed: new BatchFailedError(
          BATCH_FAILURE_REASONS.handlerError,
          `the handler failed: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`,
          ids,
          { cause: outcome.error },
        ),
      };
    case 'timed-out':
      return {
        failed: new BatchFailedError(
          BATCH_FAILURE_REASONS.timeout,
          `the handler did not settle within the function timeout (${context.timeoutMs} ms)`,
          ids,
        ),
      };
    case 'returned': {
      const verdict = readBatchResponse(outcome.response, new Set(messageIds));
      if (verdict.kind === 'invalid') {
        return {
          failed: new BatchFailedError(
            BATCH_FAILURE_REASONS.invalidResponse,
            `Lambda would fail the whole batch: ${verdict.problem}`,
            ids,
          ),
        };
      }
      return { failedMessageIds: verdict.failedMessageIds };
    }
  }
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
    logger.debug({ records: records.length }, 'invoking the handler');
    const outcome = await invokeWithTimeout(
      options.handler,
      { Records: records },
      context,
      options.functionTimeoutMs,
    );
    if (outcome.kind === 'timed-out') {
      stats.runawayInvocations++;
      void outcome.settled.finally(() => {
        stats.runawayInvocations--;
      });
    }

    const verdict = judge(outcome, records, { awsRequestId, timeoutMs: options.functionTimeoutMs });
    const failed =
      'failed' in verdict
        ? new Set(records.map((record) => record.messageId))
        : verdict.failedMessageIds;
    if ('failed' in verdict) {
      stats.batchFailures[verdict.failed.reason]++;
      logger.warn({ err: verdict.failed, reason: verdict.failed.reason }, 'whole batch failed');
    } else {
      stats.itemFailuresReported += failed.size;
    }

    const toDelete = records
      .filter((record) => !failed.has(record.messageId))
      .map(({ messageId, receiptHandle }) => ({ messageId, receiptHandle }));
    const deletion = await deleteProcessed(env.queue, toDelete, options.retry);
    stats.messagesDeleted += deletion.deletedMessageIds.length;
    for (const failure of deletion.failures) {
      stats.deleteFailures += failure.messageIds.length;
      env.emitError(failure);
    }

    env.emitBatch({
      poller,
      awsRequestId,
      messageIds: records.map((record) => record.messageId),
      outcome:
        'failed' in verdict
          ? BATCH_OUTCOMES.failed
          : failed.size > 0
            ? BATCH_OUTCOMES.partiallyFailed
            : BATCH_OUTCOMES.succeeded,
      failedMessageIds: [...failed],
      ...('failed' in verdict && { failure: verdict.failed }),
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
