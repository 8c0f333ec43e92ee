/**
 * Limits of the AWS Lambda SQS event source mapping and of the SQS API, with the documentation
 * that sets them. The local mapping enforces the same numbers so that a configuration that works
 * here also passes `CreateEventSourceMapping`.
 */
export const ESM_LIMITS = {
  /** `BatchSize` for standard queues (Lambda API reference, CreateEventSourceMapping). */
  batchSize: { min: 1, max: 10_000 },
  /** Above this batch size Lambda requires `MaximumBatchingWindowInSeconds` ≥ 1. */
  batchSizeWithoutWindow: 10,
  /** `BatchSize` for FIFO queues. */
  fifoBatchSize: 10,
  /** `MaximumBatchingWindowInSeconds`, whole seconds. */
  batchingWindowSeconds: { min: 0, max: 300 },
  /** `ScalingConfig.MaximumConcurrency` is 2..1000 in AWS; 1 is allowed locally for determinism. */
  concurrency: { min: 1, max: 1_000 },
  /** Lambda function timeout: 1 ms locally (tests), 900 s in AWS. */
  functionTimeoutMs: { min: 1, max: 900_000 },
  /** Lambda memory size, MB. */
  memoryLimitInMB: { min: 128, max: 10_240 },
  /** Lambda invokes synchronously: the event payload is capped at 6 MB. */
  payloadBytes: 6 * 1024 * 1024,
} as const;

export const SQS_LIMITS = {
  /** `ReceiveMessage.MaxNumberOfMessages` and entries per `DeleteMessageBatch`. */
  messagesPerCall: 10,
  /** `ReceiveMessage.WaitTimeSeconds`; 0 (short polling) is refused here to avoid a busy loop. */
  waitTimeSeconds: { min: 1, max: 20 },
} as const;

/** Lambda function names: 1-64 letters, digits, hyphens and underscores. */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** `arn:<partition>:sqs:<region>:<account>:<queue-name>` */
export const QUEUE_ARN_PATTERN =
  /^arn:[a-z0-9-]+:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,80})$/;

export const EVENT_SOURCE = 'aws:sqs';
