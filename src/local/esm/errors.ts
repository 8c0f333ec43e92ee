/** The base of every error the local event source mapping raises or reports. */
export class EventSourceMappingError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventSourceMappingError';
  }
}

/** An option of `createEventSourceMapping` (or a queue setting it depends on) is out of range. */
export class InvalidEventSourceMappingOptionError extends EventSourceMappingError {
  readonly option: string;
  readonly given: unknown;

  constructor(option: string, message: string, given: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidEventSourceMappingOptionError';
    this.option = option;
    this.given = given;
  }
}

/** `start()` was called while a previous `stop()` had not finished. */
export class EventSourceMappingStateError extends EventSourceMappingError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventSourceMappingStateError';
  }
}

export const SQS_OPERATIONS = {
  receive: 'ReceiveMessage',
  delete: 'DeleteMessageBatch',
  getQueueAttributes: 'GetQueueAttributes',
} as const;
export type SqsOperation = (typeof SQS_OPERATIONS)[keyof typeof SQS_OPERATIONS];

export interface SqsOperationErrorDetails {
  operation: SqsOperation;
  queueUrl: string;
  /** SDK error name or per-entry error code, e.g. `ReceiptHandleIsInvalid`. */
  code: string;
  statusCode: number | undefined;
  retryable: boolean;
  messageIds?: readonly string[];
}

/**
 * An SQS call failed, wrapped once at the edge with what an operator needs to act on it.
 * The SDK error survives as `cause`.
 */
export class SqsOperationError extends EventSourceMappingError {
  readonly operation: SqsOperation;
  readonly queueUrl: string;
  readonly code: string;
  readonly statusCode: number | undefined;
  readonly retryable: boolean;
  readonly messageIds: readonly string[];

  constructor(message: string, details: SqsOperationErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SqsOperationError';
    this.operation = details.operation;
    this.queueUrl = details.queueUrl;
    this.code = details.code;
    this.statusCode = details.statusCode;
    this.retryable = details.retryable;
    this.messageIds = details.messageIds ?? [];
  }
}

/** SQS returned a message without a field Lambda always puts in a record. */
export class MalformedMessageError extends EventSourceMappingError {
  readonly messageId: string | undefined;
  readonly missing: readonly string[];

  constructor(messageId: string | undefined, missing: readonly string[], options?: ErrorOptions) {
    super(
      `SQS message ${messageId ?? '(no MessageId)'} lacks ${missing.join(', ')}: it is left in the queue`,
      options,
    );
    this.name = 'MalformedMessageError';
    this.messageId = messageId;
    this.missing = missing;
  }
}

export const BATCH_FAILURE_REASONS = {
  /** The handler threw or its promise rejected. */
  handlerError: 'handler-error',
  /** The handler settled with something Lambda cannot read as an `SQSBatchResponse`. */
  invalidResponse: 'invalid-response',
  /** The handler had not settled when the function timeout elapsed. */
  timeout: 'timeout',
} as const;
export type BatchFailureReason = (typeof BATCH_FAILURE_REASONS)[keyof typeof BATCH_FAILURE_REASONS];

/** Lambda treated the whole batch as failed: no message of it is deleted. */
export class BatchFailedError extends EventSourceMappingError {
  readonly reason: BatchFailureReason;
  readonly awsRequestId: string;
  readonly messageIds: readonly string[];

  constructor(
    reason: BatchFailureReason,
    message: string,
    context: { awsRequestId: string; messageIds: readonly string[] },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BatchFailedError';
    this.reason = reason;
    this.awsRequestId = context.awsRequestId;
    this.messageIds = context.messageIds;
  }
}

export interface QueueDepth {
  visible: number;
  notVisible: number;
  delayed: number;
}

/** `waitForIdle` gave up: the queue was still not drained when its timeout elapsed. */
export class WaitForIdleTimeoutError extends EventSourceMappingError {
  readonly queueUrl: string;
  readonly lastDepth: QueueDepth | undefined;
  readonly inFlightBatches: number;

  constructor(
    queueUrl: string,
    timeoutMs: number,
    state: { lastDepth: QueueDepth | undefined; inFlightBatches: number },
    options?: ErrorOptions,
  ) {
    const depth = state.lastDepth
      ? `visible=${state.lastDepth.visible} notVisible=${state.lastDepth.notVisible} delayed=${state.lastDepth.delayed}`
      : 'depth unknown';
    super(
      `${queueUrl} was not idle after ${timeoutMs} ms (${depth}, in-flight batches=${state.inFlightBatches})`,
      options,
    );
    this.name = 'WaitForIdleTimeoutError';
    this.queueUrl = queueUrl;
    this.lastDepth = state.lastDepth;
    this.inFlightBatches = state.inFlightBatches;
  }
}
