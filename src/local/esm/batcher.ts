import type { Message } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { sleep } from './backoff.js';
import { ESM_LIMITS, SQS_LIMITS } from './constants.js';
import { EventSourceMappingError, SQS_OPERATIONS } from './errors.js';
import { type RecordSource, recordPayloadBytes, toSqsRecord } from './records.js';
import { isAbortError, type SourceQueue, toSqsOperationError } from './source-queue.js';

export interface BatchAssembly {
  queue: SourceQueue;
  source: RecordSource;
  batchSize: number;
  batchingWindowMs: number;
  waitTimeSeconds: number;
  /** A message SQS returned that cannot become a record, or a receive that failed mid-batch. */
  onProblem: (error: EventSourceMappingError) => void;
  now?: () => number;
}

/**
 * Gathers one batch the way Lambda's pollers do: wait (long poll) for the first messages, then, if
 * a batching window is set, keep reading until the batch is full, the window (which opens with the
 * first message) expires, or the payload reaches Lambda's 6 MB.
 *
 * Returns an empty array when a long poll found nothing or `signal` aborted before any message;
 * returns what it has when `signal` aborts mid-window, so a stop never strands received messages.
 *
 * @throws SqsOperationError when the first receive fails (the caller backs off). A failure after
 *   some messages were received ends the batch early instead, reported through `onProblem`.
 */
export async function assembleBatch(
  spec: BatchAssembly,
  signal: AbortSignal,
): Promise<SQSRecord[]> {
  const now = spec.now ?? Date.now;
  // Keyed by messageId: a message whose visibility expired mid-window can come back; its latest
  // receipt handle is the one that can delete it.
  const records = new Map<string, SQSRecord>();
  let payloadBytes = 0;
  let deadline: number | undefined;

  const receive = async (waitTimeSeconds: number): Promise<Message[] | undefined> => {
    try {
      return await spec.queue.receive(
        {
          maxMessages: Math.min(SQS_LIMITS.messagesPerCall, spec.batchSize - records.size),
          waitTimeSeconds,
        },
        signal,
      );
    } catch (error) {
      if (isAbortError(error) && signal.aborted) return undefined;
      const wrapped =
        error instanceof EventSourceMappingError
          ? error
          : toSqsOperationError(error, SQS_OPERATIONS.receive, spec.queue.queueUrl);
      if (records.size === 0) throw wrapped;
      spec.onProblem(wrapped);
      return undefined;
    }
  };

  const add = (messages: readonly Message[]): void => {
    for (const message of messages) {
      try {
        const record = toSqsRecord(message, spec.source);
        records.delete(record.messageId);
        records.set(record.messageId, record);
        payloadBytes += recordPayloadBytes(record);
      } catch (error) {
        // Left in flight: it reappears after the visibility timeout and, if it stays malformed,
        // ends in the DLQ through the queue's redrive policy.
        if (error instanceof EventSourceMappingError) spec.onProblem(error);
        else throw error;
      }
    }
    if (deadline === undefined && records.size > 0) deadline = now() + spec.batchingWindowMs;
  };

  const full = (): boolean =>
    records.size >= spec.batchSize || payloadBytes >= ESM_LIMITS.payloadBytes;

  while (!full() && !signal.aborted) {
    const remainingMs = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now();
    if (remainingMs <= 0) break;
    const waitTimeSeconds = Math.min(spec.waitTimeSeconds, Math.floor(remainingMs / 1000));
    const messages = await receive(waitTimeSeconds);
    if (messages === undefined) break;
    add(messages);
    if (records.size === 0) break;
    if (waitTimeSeconds === 0 && messages.length === 0) {
      // Long polls take whole seconds: under a second before the deadline, short-poll, and if the
      // queue had nothing, sleep to the deadline and short-poll once more.
      await sleep(remainingMs, signal);
      add((await receive(0)) ?? []);
      break;
    }
  }
  return [...records.values()];
}
