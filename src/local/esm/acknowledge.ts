import pLimit from 'p-limit';
import { type BackoffPolicy, fullJitterDelay, sleep } from './backoff.js';
import { SQS_LIMITS } from './constants.js';
import { SQS_OPERATIONS, type SqsOperationError } from './errors.js';
import { type DeleteEntry, type SourceQueue, toSqsOperationError } from './source-queue.js';

export interface AcknowledgeResult {
  deletedMessageIds: string[];
  /** Messages still in the queue after every attempt: SQS will redeliver them. */
  failures: SqsOperationError[];
}

export type DeleteRetryPolicy = BackoffPolicy & { deleteAttempts: number };

// A 10,000-record batch needs 1,000 calls: one after the other they could outlast the visibility
// timeout, and every receipt handle with it.
const PARALLEL_DELETE_CALLS = 10;

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** One `DeleteMessageBatch` of ≤ 10 entries, retrying what failed transiently. */
async function deleteChunk(
  queue: SourceQueue,
  entries: readonly DeleteEntry[],
  retry: DeleteRetryPolicy,
): Promise<AcknowledgeResult> {
  const deletedMessageIds: string[] = [];
  const failures: SqsOperationError[] = [];
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const last = attempt >= retry.deleteAttempts;
    const retryLater = (failure: SqsOperationError): boolean =>
      failure.retryable && !last && failure.messageIds.length > 0;
    let again: SqsOperationError[];
    try {
      const result = await queue.deleteBatch(pending);
      deletedMessageIds.push(...result.deletedMessageIds);
      failures.push(...result.failures.filter((failure) => !retryLater(failure)));
      again = result.failures.filter(retryLater);
    } catch (error) {
      const messageIds = pending.map((entry) => entry.messageId);
      const failure = toSqsOperationError(error, SQS_OPERATIONS.delete, queue.queueUrl, messageIds);
      if (!retryLater(failure)) {
        failures.push(failure);
        break;
      }
      again = [failure];
    }
    const retried = new Set(again.flatMap((failure) => failure.messageIds));
    pending = pending.filter((entry) => retried.has(entry.messageId));
    if (pending.length > 0) await sleep(fullJitterDelay(attempt, retry));
  }
  return { deletedMessageIds, failures };
}

/**
 * Deletes the messages that succeeded, 10 per `DeleteMessageBatch`, retrying transient failures
 * (a failed call, or entries refused without a sender fault) up to `deleteAttempts` times.
 *
 * Retrying longer would be pointless: a receipt handle stops working once the visibility timeout
 * expires, and the message is then redelivered anyway (at-least-once, as in Lambda).
 * Deletes are not aborted by `stop()`: finishing them is what makes the stop graceful.
 */
export async function deleteProcessed(
  queue: SourceQueue,
  entries: readonly DeleteEntry[],
  retry: DeleteRetryPolicy,
): Promise<AcknowledgeResult> {
  const limit = pLimit(PARALLEL_DELETE_CALLS);
  const results = await Promise.all(
    chunk(entries, SQS_LIMITS.messagesPerCall).map((entriesOfCall) =>
      limit(() => deleteChunk(queue, entriesOfCall, retry)),
    ),
  );
  return {
    deletedMessageIds: results.flatMap((result) => result.deletedMessageIds),
    failures: results.flatMap((result) => result.failures),
  };
}
