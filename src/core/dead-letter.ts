/**
 * What the worker adds to a message it copies to the dead-letter queue, so an operator can see
 * why it failed without reading logs. Pure: the SQS adapter turns these into SDK shapes.
 */
import { truncateUtf8 } from './text.js';

/** A message attribute as Lambda hands it over (binary values base64-encoded). */
export interface MessageAttribute {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
}

export const DeadLetterAttribute = {
  Outcome: 'revoker.outcome',
  ErrorCode: 'revoker.errorCode',
  ErrorMessage: 'revoker.errorMessage',
  SourceMessageId: 'revoker.sourceMessageId',
  ReceiveCount: 'revoker.receiveCount',
  FailedAt: 'revoker.failedAt',
  /** Set by the operator CLI on replay; its presence marks a message as replayed. */
  ReplayCount: 'revoker.replayCount',
  /** Holds the original attributes as JSON when they and ours would exceed SQS's limit of 10. */
  OriginalAttributes: 'revoker.originalMessageAttributes',
} as const;

/** SQS accepts at most 10 message attributes per message. */
export const SQS_MAX_MESSAGE_ATTRIBUTES = 10;
/** `revoker.errorMessage` is cut to this many UTF-8 bytes (SQS counts attribute values in bytes). */
export const MAX_ERROR_MESSAGE_BYTES = 1024;

export interface QuarantineReason {
  outcome: string;
  errorCode: string;
  errorMessage: string;
  sourceMessageId: string;
  receiveCount: number;
  failedAt: string;
}

const text = (value: string): MessageAttribute => ({ dataType: 'String', stringValue: value });

/**
 * The attributes of the dead-letter copy: the original ones, then ours. Our own `revoker.*`
 * failure attributes from an earlier trip through the DLQ are replaced, not duplicated. When the
 * total would pass SQS's limit of 10, the original attributes are folded into one JSON attribute
 * rather than dropped: nothing the producer sent is lost.
 */
export const deadLetterAttributes = (
  original: Readonly<Record<string, MessageAttribute>>,
  reason: QuarantineReason,
): Record<string, MessageAttribute> => {
  const ours: Record<string, MessageAttribute> = {
    [DeadLetterAttribute.Outcome]: text(reason.outcome),
    [DeadLetterAttribute.ErrorCode]: text(reason.errorCode),
    [DeadLetterAttribute.ErrorMessage]: text(
      truncateUtf8(reason.errorMessage || '(no message)', MAX_ERROR_MESSAGE_BYTES),
    ),
    [DeadLetterAttribute.SourceMessageId]: text(reason.sourceMessageId),
    [DeadLetterAttribute.ReceiveCount]: {
      dataType: 'Number',
      stringValue: String(reason.receiveCount),
    },
    [DeadLetterAttribute.FailedAt]: text(reason.failedAt),
  };
  const kept = Object.fromEntries(
    Object.entries(unfold(original)).filter(([name]) => !(name in ours)),
  );
  if (Object.keys(kept).length + Object.keys(ours).length <= SQS_MAX_MESSAGE_ATTRIBUTES) {
    return { ...kept, ...ours };
  }
  // The replay count stays on top: the loop guard and the audit's `replayed` flag read it there.
  const { [DeadLetterAttribute.ReplayCount]: replayCount, ...folded } = kept;
  return {
    ...ours,
    ...(replayCount && { [DeadLetterAttribute.ReplayCount]: replayCount }),
    [DeadLetterAttribute.OriginalAttributes]: text(JSON.stringify(folded)),
  };
};

/**
 * The original attributes with an earlier fold opened up, so a message that goes round the DLQ
 * twice keeps one flat fold, never a fold inside a fold.
 */
export const unfold = (
  attributes: Readonly<Record<string, MessageAttribute>>,
): Record<string, MessageAttribute> => {
  const { [DeadLetterAttribute.OriginalAttributes]: fold, ...rest } = attributes;
  if (!fold?.stringValue) return { ...rest };
  try {
    const inner = JSON.parse(fold.stringValue) as Record<string, MessageAttribute>;
    return { ...inner, ...rest };
  } catch {
    return { ...attributes };
  }
};
