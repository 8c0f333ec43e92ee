import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SQS_LIMITS } from './constants.js';
import { type QueueDepth, SQS_OPERATIONS, type SqsOperation, SqsOperationError } from './errors.js';

export interface QueueDescription {
  queueArn: string | undefined;
  visibilityTimeoutSeconds: number;
  fifo: boolean;
}

export interface DeleteEntry {
  messageId: string;
  receiptHandle: string;
}

export interface DeleteResult {
  deletedMessageIds: string[];
  /** One per entry SQS refused; `retryable` is false for sender faults. */
  failures: SqsOperationError[];
}

/** The SQS calls the event source mapping makes: a port, so the loop never sees SDK types. */
export interface SourceQueue {
  readonly queueUrl: string;
  describe(): Promise<QueueDescription>;
  receive(
    request: { maxMessages: number; waitTimeSeconds: number },
    signal: AbortSignal,
  ): Promise<Message[]>;
  /** At most 10 entries per call. */
  deleteBatch(entries: readonly DeleteEntry[]): Promise<DeleteResult>;
  depth(signal?: AbortSignal): Promise<QueueDepth>;
}

// Error names the SDK's standard retry strategy treats as throttling or transient, plus the Node
// socket errors it retries (field notes, "AWS SDK for JavaScript v3").
const RETRYABLE_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestLimitExceeded',
  'SlowDown',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
]);
const RETRYABLE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The SDK rejects an aborted call with an error named `AbortError`. */
export const isAbortError = (error: unknown): boolean =>
  error instanceof Error && error.name === 'AbortError';

/** Wraps any failure of an SQS call once, classifying it as retryable or not. */
export function toSqsOperationError(
  error: unknown,
  operation: SqsOperation,
  queueUrl: string,
  messageIds?: readonly string[],
): SqsOperationError {
  if (error instanceof SqsOperationError) return error;
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : 'UnknownError';
  const code = typeof shape.code === 'string' ? shape.code : undefined;
  const status = shape.$metadata?.httpStatusCode;
  const statusCode = typeof status === 'number' ? status : undefined;
  const retryable =
    shape.$retryable !== undefined ||
    shape.$fault === 'server' ||
    statusCode === 429 ||
    (statusCode !== undefined && statusCode >= 500) ||
    RETRYABLE_NAMES.has(name) ||
    (code !== undefined && RETRYABLE_CODES.has(code));
  const message = error instanceof Error ? error.message : String(error);
  return new SqsOperationError(
    `${operation} on ${queueUrl} failed: ${code ?? name}: ${message}`,
    {
      operation,
      queueUrl,
      code: code ?? name,
      statusCode,
      retryable,
      ...(messageIds && { messageIds }),
    },
    { cause: error },
  );
}

const count = (attributes: Record<string, string> | undefined, name: string): number =>
  Number(attributes?.[name] ?? '0');

/**
 * The {@link SourceQueue} over a real (or emulated) SQS.
 *
 * @example
 * const queue = createSqsSourceQueue(new SQSClient({}), queueUrl);
 */
export function createSqsSourceQueue(sqs: SQSClient, queueUrl: string): SourceQueue {
  const call = async <T>(
    operation: SqsOperation,
    send: () => Promise<T>,
    messageIds?: readonly string[],
  ): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      // An abort is the mapping stopping, not an SQS failure: let the caller recognise it.
      if (isAbortError(error)) throw error;
      throw toSqsOperationError(error, operation, queueUrl, messageIds);
    }
  };

  return {
    queueUrl,

    async describe() {
      const { Attributes } = await call(SQS_OPERATIONS.getQueueAttributes, () =>
        sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: ['QueueArn', 'VisibilityTimeout', 'FifoQueue'],
          }),
        ),
      );
      return {
        queueArn: Attributes?.QueueArn,
        visibilityTimeoutSeconds: Number(Attributes?.VisibilityTimeout ?? '30'),
        fifo: Attributes?.FifoQueue === 'true' || queueUrl.endsWith('.fifo'),
      };
    },

    async receive({ maxMessages, waitTimeSeconds }, signal) {
      const { Messages } = await call(SQS_OPERATIONS.receive, () =>
        sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(maxMessages, SQS_LIMITS.messagesPerCall),
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        ),
      );
      return Messages ?? [];
    },

    async deleteBatch(entries) {
      const byId = new Map(entries.map((entry, index) => [String(index), entry]));
      const messageIds = entries.map((entry) => entry.messageId);
      const output = await call(
        SQS_OPERATIONS.delete,
        () =>
          sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: queueUrl,
              // Entry ids need only be unique within the call, and messageIds may exceed 80 chars.
              Entries: [...byId].map(([Id, entry]) => ({ Id, ReceiptHandle: entry.receiptHandle })),
            }),
          ),
        messageIds,
      );
      const deletedMessageIds = (output.Successful ?? []).flatMap(({ Id }) => {
        const entry = Id === undefined ? undefined : byId.get(Id);
        return entry ? [entry.messageId] : [];
      });
      const failures = (output.Failed ?? []).map(({ Id, Code, Message: text, SenderFault }) => {
        const messageId = (Id === undefined ? undefined : byId.get(Id))?.messageId;
        return new SqsOperationError(
          `DeleteMessageBatch on ${queueUrl} refused message ${messageId ?? `entry ${Id}`}: ${Code}: ${text ?? ''}`,
          {
            operation: SQS_OPERATIONS.delete,
            queueUrl,
            code: Code ?? 'UnknownError',
            statusCode: undefined,
            retryable: SenderFault === false,
            messageIds: messageId === undefined ? [] : [messageId],
          },
        );
      });
      return { deletedMessageIds, failures };
    },

    async depth(signal) {
      const { Attributes } = await call(SQS_OPERATIONS.getQueueAttributes, () =>
        sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesNotVisible',
              'ApproximateNumberOfMessagesDelayed',
            ],
          }),
          signal ? { abortSignal: signal } : {},
        ),
      );
      return {
        visible: count(Attributes, 'ApproximateNumberOfMessages'),
        notVisible: count(Attributes, 'ApproximateNumberOfMessagesNotVisible'),
        delayed: count(Attributes, 'ApproximateNumberOfMessagesDelayed'),
      };
    },
  };
}
