import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DeadLetterAttribute } from '../../core/dead-letter.js';
import { parseMessageBody } from '../../core/parse.js';

/** One message found in the DLQ, with the reason the worker recorded. */
export interface DeadLetterRow {
  messageId: string;
  /** The message id the worker received (`revoker.sourceMessageId`). */
  sourceMessageId: string | null;
  /** Read from the body; null when the body has none the worker could read. */
  eventId: string | null;
  /** `revoker.outcome`: REJECTED or FAILED; null when SQS's redrive moved it (no reason). */
  outcome: string | null;
  errorCode: string | null;
  errorMessage: string | null;
}

/** Receives at most this many times: a DLQ of the demo holds a handful of messages. */
const MAX_RECEIVES = 100;
/** Long enough to finish the scan without seeing a message twice; released right after. */
const HOLD_SECONDS = 30;

const text = (message: Message, name: string): string | null =>
  message.MessageAttributes?.[name]?.StringValue ?? null;

const rowOf = (message: Message): DeadLetterRow => {
  const parsed = parseMessageBody(message.Body ?? '');
  return {
    messageId: message.MessageId ?? '',
    sourceMessageId: text(message, DeadLetterAttribute.SourceMessageId),
    eventId: parsed.ok ? parsed.request.eventId : parsed.rejection.eventId,
    outcome: text(message, DeadLetterAttribute.Outcome),
    errorCode: text(message, DeadLetterAttribute.ErrorCode),
    errorMessage: text(message, DeadLetterAttribute.ErrorMessage),
  };
};

/**
 * Receives every message of the DLQ with its `revoker.*` attributes, then makes them visible
 * again: nothing is deleted, so the AWS CLI or the operator CLI can still see them afterwards.
 */
export const readDeadLetterQueue = async (
  sqs: SQSClient,
  queueUrl: string,
): Promise<DeadLetterRow[]> => {
  const received: Message[] = [];
  for (let round = 0; round < MAX_RECEIVES; round++) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: HOLD_SECONDS,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    received.push(...Messages);
  }
  for (let i = 0; i < received.length; i += 10) {
    const entries = received.slice(i, i + 10).map((message, index) => ({
      Id: String(index),
      ReceiptHandle: message.ReceiptHandle ?? '',
      VisibilityTimeout: 0,
    }));
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
    );
  }
  return received.map(rowOf);
};
