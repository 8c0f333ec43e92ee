import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { BatchFailedError, SqsOperationError } from './errors.js';

/**
 * A Lambda handler for SQS with `ReportBatchItemFailures`, as the event source mapping invokes it.
 * The return type admits `void` because Lambda reads "no response" as "every record succeeded".
 */
export type SqsBatchHandler = (
  event: SQSEvent,
  context: Context,
  // biome-ignore lint/suspicious/noConfusingVoidType: Lambda's own SQSHandler type returns `SQSBatchResponse | void`.
) => Promise<SQSBatchResponse | void>;

export const BATCH_OUTCOMES = {
  /** Every record succeeded and was deleted (or its delete was attempted). */
  succeeded: 'succeeded',
  /** The handler reported some records in `batchItemFailures`: only the others were deleted. */
  partiallyFailed: 'partially-failed',
  /** Lambda would treat the whole batch as failed: nothing was deleted. */
  failed: 'failed',
} as const;
export type BatchOutcome = (typeof BATCH_OUTCOMES)[keyof typeof BATCH_OUTCOMES];

/** What happened to one invocation, passed to `onBatch` once its deletes are done. */
export interface BatchReport {
  /** Which poller (0-based) ran the batch. */
  poller: number;
  awsRequestId: string;
  messageIds: readonly string[];
  outcome: BatchOutcome;
  /** Records left for SQS to redeliver: the reported failures, or the whole batch. */
  failedMessageIds: readonly string[];
  /** Why the whole batch failed, when it did. */
  failure?: BatchFailedError;
  deletedMessageIds: readonly string[];
  /** Deletes SQS refused or that kept failing: those messages will be redelivered. */
  deleteFailures: readonly SqsOperationError[];
  /** From invocation start to the end of the deletes. */
  durationMs: number;
}

/**
 * The Lambda API's on/off switch for a mapping (the Lambda emulator's `controlOf(uuid)`): updates
 * that disable or enable it call `apply`, which resolves once the mapping has stopped (in-flight
 * batches finished) or started.
 */
export interface MappingControl {
  /** Subscribes; returns the unsubscribe. */
  connect(apply: (enabled: boolean) => Promise<void>): () => void;
  /** Whether the mapping is (or is becoming) enabled right now. */
  enabled(): boolean;
}
