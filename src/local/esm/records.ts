import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type {
  SQSMessageAttribute,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import { EVENT_SOURCE } from './constants.js';
import { MalformedMessageError } from './errors.js';

/** Where the records come from: the same for every record of a mapping. */
export interface RecordSource {
  eventSourceARN: string;
  awsRegion: string;
}

// The four system attributes Lambda always puts in `attributes` (see @types/aws-lambda
// SQSRecordAttributes). Others (AWSTraceHeader, SequenceNumber, MessageGroupId,
// MessageDeduplicationId, DeadLetterQueueSourceArn...) are passed through when SQS returns them.
const REQUIRED_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
] as const;

type Binary = Uint8Array | string;

const toBase64 = (value: Binary): string =>
  typeof value === 'string' ? value : Buffer.from(value).toString('base64');

const isBinary = (value: unknown): value is Binary =>
  typeof value === 'string' || value instanceof Uint8Array;

/**
 * Lambda's shape of a message attribute: camelCase, binary as base64, and the two list fields
 * (reserved by SQS) always present as arrays.
 */
function toLambdaAttribute(
  name: string,
  value: MessageAttributeValue,
  problems: string[],
): SQSMessageAttribute {
  const binary = (item: unknown, field: string): string[] => {
    if (isBinary(item)) return [toBase64(item)];
    problems.push(`MessageAttributes.${name}.${field}`);
    return [];
  };
  // Lambda lists stringValue/binaryValue first; keep its order so logged events look familiar.
  return {
    ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
    ...(value.BinaryValue !== undefined && {
      binaryValue: binary(value.BinaryValue, 'BinaryValue')[0],
    }),
    stringListValues: [...(value.StringListValues ?? [])],
    binaryListValues: (value.BinaryListValues ?? []).flatMap((item) =>
      binary(item, 'BinaryListValues'),
    ),
    dataType: value.DataType ?? 'String',
  };
}

/**
 * Builds the record Lambda would put in `event.Records` for a message received with
 * `MessageSystemAttributeNames: ['All']` and `MessageAttributeNames: ['All']`.
 *
 * @example
 * const record = toSqsRecord(message, { eventSourceARN: queueArn, awsRegion: 'eu-west-1' });
 * @throws MalformedMessageError when SQS left out a field every Lambda record has.
 */
export function toSqsRecord(message: Message, source: RecordSource): SQSRecord {
  const problems: string[] = [];
  const { MessageId, ReceiptHandle, Body, MD5OfBody } = message;
  if (!MessageId) problems.push('MessageId');
  if (!ReceiptHandle) problems.push('ReceiptHandle');
  if (Body === undefined) problems.push('Body');
  if (MD5OfBody === undefined) problems.push('MD5OfBody');

  const received: Record<string, string | undefined> = { ...message.Attributes };
  for (const name of REQUIRED_ATTRIBUTES) {
    if (received[name] === undefined) problems.push(`Attributes.${name}`);
  }

  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = toLambdaAttribute(name, value, problems);
  }

  if (problems.length > 0 || !MessageId || !ReceiptHandle || Body === undefined || !MD5OfBody) {
    throw new MalformedMessageError(MessageId, problems);
  }

  // Lambda's four first, then whatever else SQS returned.
  const attributes: Record<string, string> = {};
  for (const name of [...REQUIRED_ATTRIBUTES, ...Object.keys(received)]) {
    const value = received[name];
    if (value !== undefined && !(name in attributes)) attributes[name] = value;
  }

  return {
    messageId: MessageId,
    receiptHandle: ReceiptHandle,
    body: Body,
    // The check above proved the four required attributes present.
    attributes: attributes as unknown as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: MD5OfBody,
    // Present only when the message has attributes, as in Lambda's events.
    ...(message.MD5OfMessageAttributes !== undefined && {
      md5OfMessageAttributes: message.MD5OfMessageAttributes,
    }),
    eventSource: EVENT_SOURCE,
    eventSourceARN: source.eventSourceARN,
    awsRegion: source.awsRegion,
  };
}

/** Size of the record in the invocation payload, to stay under Lambda's 6 MB. */
export const recordPayloadBytes = (record: SQSRecord): number =>
  Buffer.byteLength(JSON.stringify(record));
