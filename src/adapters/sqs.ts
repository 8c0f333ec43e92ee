import {
  ChangeMessageVisibilityBatchCommand,
  type MessageAttributeValue,
  SendMessageBatchCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { packBatches, sqsMessageBytes } from '../core/batch-size.js';
import type { MessageAttribute } from '../core/dead-letter.js';
import { AwsCallError } from '../core/errors.js';
import type {
  DeadLetterCopy,
  MessageQueue,
  RequeueCopy,
  SendResult,
  VisibilityChange,
} from '../worker/ports.js';
import { failureDetailsOf, messageOf } from './aws-error.js';

/** SQS batch calls take at most 10 entries. */
const SQS_MAX_BATCH = 10;

/**
 * The messages of one `SendMessageBatch` call, counted as SQS counts message size (body plus
 * every attribute's name, type and value), must not total more than the batch payload limit.
 * The API reference now says 1 MiB (raised in 2025, with the message size), but queues created
 * earlier may still have `MaximumMessageSize` 256 KiB, and the 256 KiB batch total is what every
 * queue has always accepted: an extra call for a batch of large copies costs little, a refused
 * batch costs its copies. A single copy over this bound is sent alone; SQS answers for it.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
export const SEND_MESSAGE_BATCH_MAX_BYTES = 256 * 1024;

const chunk = <T>(items: readonly T[]): T[][] => {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += SQS_MAX_BATCH)
    chunks.push(items.slice(i, i + SQS_MAX_BATCH));
  return chunks;
};

/** Lambda gives binary attributes base64-encoded; SQS wants the bytes. */
export const toSqsAttribute = (attribute: MessageAttribute): MessageAttributeValue => ({
  DataType: attribute.dataType,
  ...(attribute.stringValue !== undefined && { StringValue: attribute.stringValue }),
  ...(attribute.binaryValue !== undefined && {
    BinaryValue: Buffer.from(attribute.binaryValue, 'base64'),
  }),
});

/** Batch entry ids allow only letters, digits, `-` and `_`, up to 80 characters. */
const entryId = (index: number): string => `m${index}`;

/**
 * `MessageQueue` over SQS. The worker imports this module (and with it the SQS SDK) at the
 * queue's first call (`queueAtFirstCall` in `src/wiring.ts`): a container whose messages all end
 * acknowledged never reads either. Its
 * configuration must say `useQueueUrlAsEndpoint: false` when the endpoint is overridden (local
 * emulators): otherwise the SDK sends each call to the host of the queue URL instead of the
 * configured endpoint.
 */
export class SqsMessageQueue implements MessageQueue {
  readonly #deadLetterQueueUrl: string;
  readonly #client: SQSClient;

  constructor(options: { clientConfig: SQSClientConfig; deadLetterQueueUrl: string }) {
    this.#deadLetterQueueUrl = options.deadLetterQueueUrl;
    this.#client = new SQSClient(options.clientConfig);
  }

  sendToDeadLetterQueue(
    copies: readonly DeadLetterCopy[],
    signal: AbortSignal,
  ): Promise<SendResult[]> {
    return this.#send(this.#deadLetterQueueUrl, copies, 0, signal);
  }

  async requeue(copies: readonly RequeueCopy[], signal: AbortSignal): Promise<SendResult[]> {
    const resultById = new Map<string, SendResult>();
    const groups = new Map<string, RequeueCopy[]>();
    for (const copy of copies) {
      const key = `${copy.queueUrl} ${copy.delaySeconds}`;
      groups.set(key, [...(groups.get(key) ?? []), copy]);
    }
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const first = group[0] as RequeueCopy;
        const results = await this.#send(first.queueUrl, group, first.delaySeconds, signal);
        group.forEach((copy, index) => {
          resultById.set(copy.id, results[index] ?? { ok: false, code: 'Missing', message: '' });
        });
      }),
    );
    return copies.map(
      (copy) => resultById.get(copy.id) ?? { ok: false, code: 'Missing', message: 'no result' },
    );
  }

  async #send(
    queueUrl: string,
    copies: readonly DeadLetterCopy[],
    delaySeconds: number,
    signal: AbortSignal,
  ): Promise<SendResult[]> {
    const results = await Promise.all(
      packBatches(copies, {
        maxCount: SQS_MAX_BATCH,
        maxBytes: SEND_MESSAGE_BATCH_MAX_BYTES,
        sizeOf: (copy) => sqsMessageBytes(copy.body, copy.attributes),
      }).map((group) =>
        this.#batch('SendMessageBatch', group.length, async () => {
          const output = await this.#client.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: group.map((copy, index) => ({
                Id: entryId(index),
                MessageBody: copy.body,
                ...(delaySeconds > 0 && { DelaySeconds: delaySeconds }),
                MessageAttributes: Object.fromEntries(
                  Object.entries(copy.attributes).map(([name, value]) => [
                    name,
                    toSqsAttribute(value),
                  ]),
                ),
              })),
            }),
            { abortSignal: signal },
          );
          return { successful: output.Successful ?? [], failed: output.Failed ?? [] };
        }).catch((error: unknown) => {
          // Only this group failed: report its entries, not the whole call, so the caller
          // does not send the other groups' copies a second time.
          const code = error instanceof AwsCallError ? error.code : 'Error';
          return group.map((): SendResult => ({ ok: false, code, message: messageOf(error) }));
        }),
      ),
    );
    return results.flat();
  }

  async changeVisibility(
    changes: readonly VisibilityChange[],
    signal: AbortSignal,
  ): Promise<SendResult[]> {
    const byQueue = new Map<string, VisibilityChange[]>();
    for (const change of changes)
      byQueue.set(change.queueUrl, [...(byQueue.get(change.queueUrl) ?? []), change]);
    const resultById = new Map<string, SendResult>();
    await Promise.all(
      [...byQueue].flatMap(([queueUrl, queueChanges]) =>
        chunk(queueChanges).map(async (group) => {
          const results = await this.#batch(
            'ChangeMessageVisibilityBatch',
            group.length,
            async () => {
              const output = await this.#client.send(
                new ChangeMessageVisibilityBatchCommand({
                  QueueUrl: queueUrl,
                  Entries: group.map((change, index) => ({
                    Id: entryId(index),
                    ReceiptHandle: change.receiptHandle,
                    VisibilityTimeout: change.visibilityTimeoutSeconds,
                  })),
                }),
                { abortSignal: signal },
              );
              return { successful: output.Successful ?? [], failed: output.Failed ?? [] };
            },
          ).catch((error: unknown) =>
            group.map((): SendResult => ({ ok: false, code: 'Error', message: messageOf(error) })),
          );
          group.forEach((change, index) => {
            resultById.set(
              change.id,
              results[index] ?? { ok: false, code: 'Missing', message: 'no result' },
            );
          });
        }),
      ),
    );
    return changes.map(
      (change) => resultById.get(change.id) ?? { ok: false, code: 'Missing', message: 'no result' },
    );
  }

  /** Runs one batch call and maps its Successful/Failed lists back to entry order. */
  async #batch(
    operation: string,
    size: number,
    call: () => Promise<{
      successful: { Id?: string }[];
      failed: { Id?: string; Code?: string; Message?: string }[];
    }>,
  ): Promise<SendResult[]> {
    let output: Awaited<ReturnType<typeof call>>;
    try {
      output = await call();
    } catch (error) {
      throw new AwsCallError(
        `${operation} failed: ${messageOf(error)}`,
        failureDetailsOf(error),
        { operation },
        { cause: error },
      );
    }
    const failedById = new Map(output.failed.map((entry) => [entry.Id, entry]));
    const okIds = new Set(output.successful.map((entry) => entry.Id));
    return Array.from({ length: size }, (_, index): SendResult => {
      const id = entryId(index);
      const failed = failedById.get(id);
      if (failed)
        return { ok: false, code: failed.Code ?? 'Unknown', message: failed.Message ?? '' };
      return okIds.has(id)
        ? { ok: true }
        : { ok: false, code: 'Missing', message: `${operation} returned no result for the entry` };
    });
  }
}
