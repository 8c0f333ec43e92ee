import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DeadLetterAttribute } from '../core/dead-letter.js';
import { parseMessageBody } from '../core/parse.js';
import {
  type Attributes,
  replayCountOf,
  stringAttribute,
  unfoldAttributes,
} from './message-attributes.js';

/** A message as received from the DLQ. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** Message attributes as SQS returned them (a fold is still folded). */
  attributes: Record<string, MessageAttributeValue>;
  /** System attributes: `ApproximateReceiveCount`, `SentTimestamp`, `DeadLetterQueueSourceArn`... */
  system: Partial<Record<string, string>>;
}

/** What an operator needs to know about one dead-lettered message. */
export interface DlqEntry {
  messageId: string;
  eventId: string | null;
  dataShareArn: string | null;
  /** The consumer ARN, `region <code>` or `entire account`. */
  consumer: string | null;
  outcome: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  /** One line: the recorded error, or why there is none. */
  why: string;
  /** SQS moved it here after maxReceiveCount (not the worker): no reason was recorded. */
  redrivenBySqs: boolean;
  sourceQueueArn: string | null;
  /** Receives before it failed (the worker's count), else SQS's count for this message. */
  receiveCount: number | null;
  failedAt: string | null;
  ageSeconds: number | null;
  replayCount: number;
  /** Why the worker would reject this body again, if it would. */
  bodyProblem: string | null;
  /** Why the attributes could not be unfolded, if they could not. */
  attributeProblems: string[];
}

/** A received message with its description and its unfolded attributes. */
export interface DescribedMessage {
  message: ReceivedMessage;
  entry: DlqEntry;
  flat: Attributes;
}

export const NO_REASON_REDRIVEN = 'redriven by SQS, no reason recorded';
const NO_REASON = 'no reason recorded';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stringField = (source: Record<string, unknown>, name: string): string | null =>
  typeof source[name] === 'string' ? (source[name] as string) : null;

const consumerOf = (request: {
  consumerArn?: string;
  consumerRegion?: string;
  disassociateEntireAccount?: boolean;
}): string | null => {
  if (request.consumerArn) return request.consumerArn;
  if (request.consumerRegion) return `region ${request.consumerRegion}`;
  return request.disassociateEntireAccount === true ? 'entire account' : null;
};

/** Reads what it can of a body, valid or not: the worker's parser first, then a best effort. */
const describeBody = (body: string) => {
  const parsed = parseMessageBody(body);
  if (parsed.ok) {
    const { eventId, dataShareArn } = parsed.request;
    return { eventId, dataShareArn, consumer: consumerOf(parsed.request), bodyProblem: null };
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const request = isObject(json) && isObject(json.detail) ? json.detail : json;
  const fields = isObject(request) ? request : {};
  return {
    eventId: stringField(fields, 'eventId') ?? parsed.rejection.eventId,
    dataShareArn: stringField(fields, 'dataShareArn'),
    consumer: consumerOf({
      consumerArn: stringField(fields, 'consumerArn') ?? undefined,
      consumerRegion: stringField(fields, 'consumerRegion') ?? undefined,
      disassociateEntireAccount: fields.disassociateEntireAccount === true,
    }),
    bodyProblem: `${parsed.rejection.code}: ${parsed.rejection.message}`,
  };
};

const integerOrNull = (value: string | null | undefined): number | null => {
  const number = Number(value);
  return value !== null && value !== undefined && value !== '' && Number.isFinite(number)
    ? number
    : null;
};

/**
 * Describes a dead-lettered message from its `revoker.*` attributes (unfolded) and its body.
 *
 * @example
 * const { entry } = describeMessage(message, Date.now());
 * console.log(entry.eventId, entry.why);
 */
export const describeMessage = (message: ReceivedMessage, now: number): DescribedMessage => {
  const { flat, problems } = unfoldAttributes(message.attributes);
  const body = describeBody(message.body);
  const outcome = stringAttribute(flat, DeadLetterAttribute.Outcome);
  const errorCode = stringAttribute(flat, DeadLetterAttribute.ErrorCode);
  const errorMessage = stringAttribute(flat, DeadLetterAttribute.ErrorMessage);
  const sourceQueueArn = message.system.DeadLetterQueueSourceArn ?? null;
  const recordedByWorker = outcome !== null || errorCode !== null;
  const redrivenBySqs = !recordedByWorker && sourceQueueArn !== null;
  const why = recordedByWorker
    ? [outcome, errorCode && `${errorCode}:`, errorMessage].filter(Boolean).join(' ')
    : redrivenBySqs
      ? NO_REASON_REDRIVEN
      : NO_REASON;
  const failedAt = stringAttribute(flat, DeadLetterAttribute.FailedAt);
  const failedAtMs = failedAt ? Date.parse(failedAt) : Number.NaN;
  const sentAtMs = integerOrNull(message.system.SentTimestamp);
  const since = Number.isFinite(failedAtMs) ? failedAtMs : sentAtMs;
  return {
    message,
    flat,
    entry: {
      messageId: message.messageId,
      ...body,
      outcome,
      errorCode,
      errorMessage,
      why,
      redrivenBySqs,
      sourceQueueArn,
      receiveCount:
        integerOrNull(stringAttribute(flat, DeadLetterAttribute.ReceiveCount)) ??
        integerOrNull(message.system.ApproximateReceiveCount),
      failedAt,
      ageSeconds: since === null ? null : Math.max(0, Math.round((now - since) / 1000)),
      replayCount: replayCountOf(flat),
      attributeProblems: problems,
    },
  };
};
