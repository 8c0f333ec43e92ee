import { describe, expect, it } from 'vitest';
import {
  DeadLetterAttribute,
  deadLetterAttributes,
  MAX_ERROR_MESSAGE_BYTES,
  type MessageAttribute,
  type QuarantineReason,
  SQS_MAX_MESSAGE_ATTRIBUTES,
  unfold,
} from '../../../src/core/dead-letter.js';
import { truncateUtf8 } from '../../../src/core/text.js';

const reason = (overrides: Partial<QuarantineReason> = {}): QuarantineReason => ({
  outcome: 'REJECTED',
  errorCode: 'SchemaViolation',
  errorMessage: 'eventId: expected a string of 1 to 256 characters; given ""',
  sourceMessageId: 'msg-1',
  receiveCount: 3,
  failedAt: '2026-11-25T09:00:00.000Z',
  ...overrides,
});

const text = (value: string): MessageAttribute => ({ dataType: 'String', stringValue: value });

/** Whether a string survives UTF-8 encoding, i.e. holds no half of a surrogate pair. */
const isWellFormed = (value: string): boolean =>
  Buffer.from(value, 'utf8').toString('utf8') === value;

const producerAttributes = (count: number): Record<string, MessageAttribute> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`attr${i}`, text(`value-${i}`)]));

describe('deadLetterAttributes', () => {
  it('keeps the original attributes and adds the reason of the failure', () => {
    // Prepare
    const original = {
      tenant: text('acme'),
      blob: { dataType: 'Binary', binaryValue: 'AAEC' },
    };
    // Act
    const attributes = deadLetterAttributes(original, reason());
    // Assess
    expect(attributes).toEqual({
      tenant: text('acme'),
      blob: { dataType: 'Binary', binaryValue: 'AAEC' },
      [DeadLetterAttribute.Outcome]: text('REJECTED'),
      [DeadLetterAttribute.ErrorCode]: text('SchemaViolation'),
      [DeadLetterAttribute.ErrorMessage]: text(
        'eventId: expected a string of 1 to 256 characters; given ""',
      ),
      [DeadLetterAttribute.SourceMessageId]: text('msg-1'),
      [DeadLetterAttribute.ReceiveCount]: { dataType: 'Number', stringValue: '3' },
      [DeadLetterAttribute.FailedAt]: text('2026-11-25T09:00:00.000Z'),
    });
  });

  it('replaces the revoker.* failure attributes of an earlier trip through the DLQ instead of duplicating them', () => {
    // Prepare: a message that failed once, was replayed by an operator, and failed again
    const earlier = deadLetterAttributes(
      { tenant: text('acme') },
      reason({ errorCode: 'Throttling', sourceMessageId: 'msg-0', receiveCount: 6 }),
    );
    const replayed = { ...earlier, [DeadLetterAttribute.ReplayCount]: text('1') };
    // Act
    const attributes = deadLetterAttributes(replayed, reason({ sourceMessageId: 'msg-1' }));
    // Assess
    expect(Object.keys(attributes)).toHaveLength(8);
    expect(attributes[DeadLetterAttribute.ErrorCode]).toEqual(text('SchemaViolation'));
    expect(attributes[DeadLetterAttribute.SourceMessageId]).toEqual(text('msg-1'));
    expect(attributes[DeadLetterAttribute.ReceiveCount]?.stringValue).toBe('3');
    expect(attributes[DeadLetterAttribute.ReplayCount]).toEqual(text('1'));
    expect(attributes.tenant).toEqual(text('acme'));
  });

  it('keeps the originals as they are when they and ours make exactly 10 attributes', () => {
    const attributes = deadLetterAttributes(producerAttributes(4), reason());
    expect(Object.keys(attributes)).toHaveLength(SQS_MAX_MESSAGE_ATTRIBUTES);
    expect(attributes.attr3).toEqual(text('value-3'));
    expect(attributes).not.toHaveProperty(DeadLetterAttribute.OriginalAttributes);
  });

  it('folds the originals into revoker.originalMessageAttributes as JSON when the total would pass 10', () => {
    // Prepare
    const original = producerAttributes(5);
    // Act
    const attributes = deadLetterAttributes(original, reason());
    // Assess
    expect(Object.keys(attributes)).toHaveLength(7);
    expect(Object.keys(attributes).every((name) => name.startsWith('revoker.'))).toBe(true);
    const folded = attributes[DeadLetterAttribute.OriginalAttributes];
    expect(folded?.dataType).toBe('String');
    expect(JSON.parse(folded?.stringValue ?? '')).toEqual(original);
  });

  it('folds the originals without our own failure attributes of an earlier trip', () => {
    const earlier = deadLetterAttributes(producerAttributes(4), reason({ errorCode: 'Old' }));
    const attributes = deadLetterAttributes(
      { ...earlier, extra: text('x') },
      reason({ errorCode: 'New' }),
    );
    const folded = JSON.parse(
      attributes[DeadLetterAttribute.OriginalAttributes]?.stringValue ?? '',
    );
    expect(Object.keys(folded).sort()).toEqual(['attr0', 'attr1', 'attr2', 'attr3', 'extra']);
    expect(attributes[DeadLetterAttribute.ErrorCode]).toEqual(text('New'));
  });

  it('truncates the error message to at most 1 KiB of UTF-8', () => {
    const attributes = deadLetterAttributes({}, reason({ errorMessage: 'é'.repeat(2000) }));
    const message = attributes[DeadLetterAttribute.ErrorMessage]?.stringValue ?? '';
    expect(Buffer.byteLength(message, 'utf8')).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_BYTES);
    expect(message.endsWith('…')).toBe(true);
    expect(message.startsWith('éé')).toBe(true);
  });

  it('writes "(no message)" in place of an empty error message', () => {
    const attributes = deadLetterAttributes({}, reason({ errorMessage: '' }));
    expect(attributes[DeadLetterAttribute.ErrorMessage]).toEqual(text('(no message)'));
  });
});

describe('truncateUtf8', () => {
  it('returns a string that fits unchanged', () => {
    expect(truncateUtf8('a'.repeat(1024), 1024)).toBe('a'.repeat(1024));
  });

  it('cuts an ASCII string to the limit, ellipsis included', () => {
    // Prepare / Act
    const cut = truncateUtf8('a'.repeat(2000), 1024);
    // Assess: the ellipsis is 3 bytes
    expect(cut).toBe(`${'a'.repeat(1021)}…`);
    expect(Buffer.byteLength(cut)).toBe(1024);
  });

  it.each([
    ['two-byte', 'é'],
    ['three-byte', '€'],
    ['four-byte (surrogate pair)', '😀'],
  ])('never splits a %s character, whatever the offset', (_, char) => {
    for (let offset = 0; offset < 8; offset += 1) {
      // Prepare
      const value = `${'a'.repeat(1010 + offset)}${char.repeat(20)}`;
      // Act
      const cut = truncateUtf8(value, 1024);
      // Assess
      expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(1024);
      expect(isWellFormed(cut)).toBe(true);
      expect(value.startsWith(cut.slice(0, -1))).toBe(true);
    }
  });
});

describe('deadLetterAttributes — a second trip through the DLQ', () => {
  it('keeps revoker.replayCount on top when it folds the originals', () => {
    const original = {
      ...producerAttributes(6),
      [DeadLetterAttribute.ReplayCount]: { dataType: 'Number', stringValue: '2' },
    };
    const attributes = deadLetterAttributes(original, reason());
    expect(attributes[DeadLetterAttribute.ReplayCount]).toEqual({
      dataType: 'Number',
      stringValue: '2',
    });
    const folded = JSON.parse(
      attributes[DeadLetterAttribute.OriginalAttributes]?.stringValue ?? '{}',
    );
    expect(Object.keys(folded)).toHaveLength(6);
    expect(Object.keys(attributes).length).toBeLessThanOrEqual(10);
  });

  it('opens an earlier fold instead of folding it again', () => {
    const first = deadLetterAttributes(producerAttributes(6), reason());
    const second = deadLetterAttributes(first, reason({ errorCode: 'Again' }));
    const folded = JSON.parse(second[DeadLetterAttribute.OriginalAttributes]?.stringValue ?? '{}');
    expect(Object.keys(folded).sort()).toEqual(Object.keys(producerAttributes(6)).sort());
    expect(second[DeadLetterAttribute.ErrorCode]?.stringValue).toBe('Again');
  });

  it('unfold returns the attributes as they were when there is no fold, or a fold that is not JSON', () => {
    expect(unfold(producerAttributes(2))).toEqual(producerAttributes(2));
    const broken = { [DeadLetterAttribute.OriginalAttributes]: text('{oops') };
    expect(unfold(broken)).toEqual(broken);
  });
});
