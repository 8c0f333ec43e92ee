import { type BackoffPolicy, fullJitterDelay, sleep } from './backoff.js';
import { SQS_LIMITS } from './constants.js';
import { SQS_OPERATIONS, type SqsOperationError } from './errors.js';
import { type DeleteEntry, type SourceQueue, toSqsOperationError } from './source-queue.js';

export interface AcknowledgeResult {
  deletedMessageIds: string[];
  /** Messages still in the queue after every attempt: SQS will redeliver them. */
  failures: SqsOperationError[];
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * Deletes the messages that succeeded, 10 per `DeleteMessageBatch`, retrying transient failures
 * (a failed call, or entries refused without a sender fault) up to `attempts` times.
 *
 * Retrying longer would be pointless: a receipt handle stops working once the visibility timeout
 * expires, and the message is then redelivered anyway (at-least-once, as in Lambda).
 * Deletes are not aborted by `stop()`: finishing them is what makes the stop graceful.
 */
export async function deleteProcessed(
  queue: SourceQueue,
  entries: readonly DeleteEntry[],
  retry: BackoffPolicy & { deleteAttempts: number },
): Promise<AcknowledgeResult> {
  const deletedMessageIds: string[] = [];
  const failures: SqsOperationError[] = [];

  for (const batch of chunk(entries, SQS_LIMITS.messagesPerCall)) {
    let pending: readonly DeleteEntry[] = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const last = attempt >= retry.deleteAttempts;
      let retryable: SqsOperationError[];
      try {
        const result = await queue.deleteBatch(pending);
        deletedMessageIds.push(...result.deletedMessageIds);
        const again = (failure: SqsOperationError): boolean =>
          failure.retryable && !last && failure.messageIds.length > 0;
        failures.push(...result.failures.filter((failure) => !again(failure)));
        retryable = result.failures.filter(again);
      } catch (error) {
        const wrapped = toSqsOperationError(
          error,
          SQS_OPERATIONS.delete,
          queue.queueUrl,
          pending.map((entry) => entry.messageId),
        );
        if (!wrapped.retryable || last) {
          failures.push(wrapped);
          break;
        }
        retryable = [wrapped];
      }
      const again = new Set(retryable.flatMap((failure) => failure.messageIds));
      pending = pending.filter((entry) => again.has(entry.messageId));
      if (pending.length > 0) await sleep(fullJitterDelay(attempt, retry));
    }
  }
  return { deletedMessageIds, failures };
}
