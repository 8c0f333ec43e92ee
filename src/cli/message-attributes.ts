import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DeadLetterAttribute, SQS_MAX_MESSAGE_ATTRIBUTES } from '../core/dead-letter.js';

/**
 * Message attributes as the CLI sees them: reading the worker's `revoker.*` attributes off a
 * dead-lettered message, unfolding `revoker.originalMessageAttributes`, and building the attributes
 * of a replayed message within SQS's limit of 10. Pure: no SDK call.
 */

/** Set by `revoker dlq replay` next to `revoker.replayCount`. */
export const ReplayAttribute = {
  ReplayCount: DeadLetterAttribute.ReplayCount,
  ReplayedBy: 'revoker.replayedBy',
  ReplayedAt: 'revoker.replayedAt',
  ReplayReason: 'revoker.replayReason',
} as const;

/**
 * Every attribute name the worker or the CLI writes: none of them is the producer's. The fold
 * itself is not listed: after unfolding it is only left when it could not be read, and then it is
 * the only copy of the producer's attributes.
 */
const OWN_ATTRIBUTES: ReadonlySet<string> = new Set(
  [...Object.values(DeadLetterAttribute), ...Object.values(ReplayAttribute)].filter(
    (name) => name !== DeadLetterAttribute.OriginalAttributes,
  ),
);

export type Attributes = Record<string, MessageAttributeValue>;

/** The JSON form the worker folds originals into (`src/core/dead-letter.ts`): binary as base64. */
interface FoldedAttribute {
  dataType: string;
  stringValue?: string;
  binaryValue?: string;
}

const isFoldedAttribute = (value: unknown): value is FoldedAttribute =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as FoldedAttribute).dataType === 'string' &&
  ((value as FoldedAttribute).stringValue === undefined ||
    typeof (value as FoldedAttribute).stringValue === 'string') &&
  ((value as FoldedAttribute).binaryValue === undefined ||
    typeof (value as FoldedAttribute).binaryValue === 'string');

const fromFolded = (folded: FoldedAttribute): MessageAttributeValue => ({
  DataType: folded.dataType,
  ...(folded.stringValue !== undefined && { StringValue: folded.stringValue }),
  ...(folded.binaryValue !== undefined && {
    BinaryValue: Buffer.from(folded.binaryValue, 'base64'),
  }),
});

const toFolded = (value: MessageAttributeValue): FoldedAttribute => ({
  dataType: value.DataType ?? 'String',
  ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
  ...(value.BinaryValue !== undefined && {
    binaryValue: Buffer.from(value.BinaryValue).toString('base64'),
  }),
});

export interface UnfoldedAttributes {
  /** Every attribute, folded ones lifted to the top; the most recent fold wins a name clash. */
  flat: Attributes;
  /** Why a fold could not be read (it is then kept as it is, so nothing is lost). */
  problems: string[];
}

/**
 * Lifts the attributes folded into `revoker.originalMessageAttributes` back to the top, however
 * deep: a replayed message that fails again is folded again, with the earlier fold inside.
 */
export const unfoldAttributes = (attributes: Readonly<Attributes>): UnfoldedAttributes => {
  const problems: string[] = [];
  const unfold = (level: Readonly<Attributes>): Attributes => {
    const { [DeadLetterAttribute.OriginalAttributes]: folded, ...rest } = level;
    if (folded === undefined) return { ...rest };
    let parsed: unknown;
    try {
      parsed = JSON.parse(folded.StringValue ?? '');
    } catch (error) {
      problems.push(
        `${DeadLetterAttribute.OriginalAttributes} is not JSON (${error instanceof Error ? error.message : String(error)}); kept as it is`,
      );
      return { ...level };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      problems.push(
        `${DeadLetterAttribute.OriginalAttributes} is not a JSON object; kept as it is`,
      );
      return { ...level };
    }
    const malformed = Object.entries(parsed).find(([, value]) => !isFoldedAttribute(value));
    if (malformed) {
      problems.push(`folded attribute ${malformed[0]} is malformed; the fold is kept as it is`);
      return { ...level };
    }
    const inner: Attributes = Object.fromEntries(
      Object.entries(parsed as Record<string, FoldedAttribute>).map(([name, value]) => [
        name,
        fromFolded(value),
      ]),
    );
    // Deeper folds are older: what sits at this level is more recent and wins.
    return { ...unfold(inner), ...rest };
  };
  return { flat: unfold(attributes), problems };
};

/** A `revoker.*` attribute's text, if present. */
export const stringAttribute = (flat: Readonly<Attributes>, name: string): string | null =>
  flat[name]?.StringValue ?? null;

/** How many times the message was replayed already (0 when never). */
export const replayCountOf = (flat: Readonly<Attributes>): number => {
  const count = Number(flat[ReplayAttribute.ReplayCount]?.StringValue);
  return Number.isInteger(count) && count > 0 ? count : 0;
};

/** The producer's own attributes: everything the worker or the CLI did not add. */
export const originalAttributesOf = (flat: Readonly<Attributes>): Attributes =>
  Object.fromEntries(Object.entries(flat).filter(([name]) => !OWN_ATTRIBUTES.has(name)));

export interface ReplayStamp {
  replayCount: number;
  replayedBy: string;
  replayedAt: string;
  reason?: string;
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/**
 * The attributes of a replayed message: the producer's originals, then the replay stamp
 * (`revoker.replayCount` — which the worker reads to mark its audit event `replayed` — and who, when
 * and why). SQS refuses more than 10 attributes; when originals and stamp would pass that, the
 * originals are folded into `revoker.originalMessageAttributes` exactly as the worker folds them,
 * so nothing is dropped and the next replay unfolds them again.
 */
export const replayAttributes = (
  original: Readonly<Attributes>,
  stamp: ReplayStamp,
): Attributes => {
  const ours: Attributes = {
    [ReplayAttribute.ReplayCount]: { DataType: 'Number', StringValue: String(stamp.replayCount) },
    [ReplayAttribute.ReplayedBy]: text(stamp.replayedBy),
    [ReplayAttribute.ReplayedAt]: text(stamp.replayedAt),
    ...(stamp.reason !== undefined && { [ReplayAttribute.ReplayReason]: text(stamp.reason) }),
  };
  const originals = originalAttributesOf(original);
  if (Object.keys(originals).length + Object.keys(ours).length <= SQS_MAX_MESSAGE_ATTRIBUTES) {
    return { ...originals, ...ours };
  }
  const folded = Object.fromEntries(
    Object.entries(originals).map(([name, value]) => [name, toFolded(value)]),
  );
  return { [DeadLetterAttribute.OriginalAttributes]: text(JSON.stringify(folded)), ...ours };
};
