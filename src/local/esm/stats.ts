import {
  BATCH_FAILURE_REASONS,
  type BatchFailureReason,
  SQS_OPERATIONS,
  type SqsOperation,
} from './errors.js';

/** Counters since the mapping was created. `stats` returns a copy: read it again to refresh. */
export interface EventSourceMappingStats {
  batchesInvoked: number;
  recordsInvoked: number;
  messagesDeleted: number;
  /** Records the handler listed in `batchItemFailures`. */
  itemFailuresReported: number;
  /** Batches Lambda would treat as failed as a whole, by reason. */
  batchFailures: Record<BatchFailureReason, number>;
  /** Messages whose delete SQS refused or that kept failing. */
  deleteFailures: number;
  /** Messages SQS returned without a field Lambda requires; left in the queue. */
  malformedMessages: number;
  /** Failed SQS calls, by operation (retried ones count once per attempt). */
  sqsErrors: Record<SqsOperation, number>;
  /** Batches between invocation start and the end of their deletes. */
  inFlightBatches: number;
  /** Timed-out handlers that have not settled yet: they still run in this process. */
  runawayInvocations: number;
}

const zeroes = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;

export const createStats = (): EventSourceMappingStats => ({
  batchesInvoked: 0,
  recordsInvoked: 0,
  messagesDeleted: 0,
  itemFailuresReported: 0,
  batchFailures: zeroes(Object.values(BATCH_FAILURE_REASONS)),
  deleteFailures: 0,
  malformedMessages: 0,
  sqsErrors: zeroes(Object.values(SQS_OPERATIONS)),
  inFlightBatches: 0,
  runawayInvocations: 0,
});

export const snapshotStats = (stats: EventSourceMappingStats): EventSourceMappingStats =>
  structuredClone(stats);
