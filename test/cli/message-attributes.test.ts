import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { toSqsAttribute } from '../../src/adapters/sqs.js';
import { describeMessage, NO_REASON_REDRIVEN } from '../../src/cli/dlq-entry.js';
import {
  originalAttributesOf,
  ReplayAttribute,
  replayAttributes,
  replayCountOf,
  unfoldAttributes,
} from '../../src/cli/message-attributes.js';
import { decideReplay } from '../../src/cli/replay.js';
import { DeadLetterAttribute, deadLetterAttributes } from '../../src/core/dead-letter.js';
import {
  failureReason,
  producerAttributes,
  producerAttributesAsSqs,
  requestBody,
} from './helpers.js';

const asSqs = (attributes: ReturnType<typeof deadLetterAttributes>) =>
  Object.fromEntries(Object.entries(attributes).map(([n, v]) => [n, toSqsAttribute(v)]));

const stamp = { replayCount: 1, replayedBy: 'alice', replayedAt: '2026-11-25T09:00:00.000Z' };

describe('replay attributes', () => {
  it('unfolds the originals the worker folded into revoker.originalMessageAttributes, binary included', () => {
    // Prepare: 6 originals + 6 revoker.* > 10, so the worker folded them
    const dead = asSqs(deadLetterAttributes(producerAttributes(6), failureReason()));
    expect(dead[DeadLetterAttribute.OriginalAttributes]).toBeDefined();

    // Act
    const originals = originalAttributesOf(unfoldAttributes(dead).flat);

    // Assess
    expect(originals).toEqual(producerAttributesAsSqs(6));
  });

  it('unfolds a fold nested in a fold (a replayed message that failed again), newest first', () => {
    // Prepare: replayed with 5 originals (5 + 3 ≤ 10), failed again: folded again, count inside
    const firstCopy = asSqs(deadLetterAttributes(producerAttributes(5), failureReason()));
    const replayed = replayAttributes(originalAttributesOf(unfoldAttributes(firstCopy).flat), {
      ...stamp,
      replayCount: 2,
    });
    const lambdaShape = Object.fromEntries(
      Object.entries(replayed).map(([n, v]) => [
        n,
        {
          dataType: v.DataType ?? '',
          ...(v.StringValue !== undefined && { stringValue: v.StringValue }),
          ...(v.BinaryValue !== undefined && {
            binaryValue: Buffer.from(v.BinaryValue).toString('base64'),
          }),
        },
      ]),
    );
    const secondCopy = asSqs(
      deadLetterAttributes(lambdaShape, failureReason({ errorCode: 'ThrottlingException' })),
    );

    // Act
    const { flat, problems } = unfoldAttributes(secondCopy);

    // Assess
    expect(problems).toEqual([]);
    expect(replayCountOf(flat)).toBe(2);
    expect(flat[DeadLetterAttribute.ErrorCode]?.StringValue).toBe('ThrottlingException');
    expect(originalAttributesOf(flat)).toEqual(producerAttributesAsSqs(5));
  });

  it('removes every revoker.* failure attribute and stamps count, who, when and why', () => {
    // Prepare
    const dead = asSqs(deadLetterAttributes(producerAttributes(2), failureReason()));

    // Act
    const attributes = replayAttributes(originalAttributesOf(unfoldAttributes(dead).flat), {
      ...stamp,
      reason: 'INC-1: fixed',
    });

    // Assess
    expect(Object.keys(attributes).sort()).toEqual(
      [
        'attr0',
        'attr1',
        ReplayAttribute.ReplayCount,
        ReplayAttribute.ReplayedAt,
        ReplayAttribute.ReplayedBy,
        ReplayAttribute.ReplayReason,
      ].sort(),
    );
    expect(attributes[ReplayAttribute.ReplayCount]).toEqual({
      DataType: 'Number',
      StringValue: '1',
    });
    expect(attributes[ReplayAttribute.ReplayReason]?.StringValue).toBe('INC-1: fixed');
  });

  it('keeps within SQS limit of 10 by folding the originals, losing none', () => {
    for (let originals = 0; originals <= 10; originals++) {
      // Act
      const attributes = replayAttributes(producerAttributesAsSqs(originals), {
        ...stamp,
        reason: 'why',
      });

      // Assess
      expect(Object.keys(attributes).length).toBeLessThanOrEqual(10);
      expect(originalAttributesOf(unfoldAttributes(attributes).flat)).toEqual(
        producerAttributesAsSqs(originals),
      );
      expect(attributes[ReplayAttribute.ReplayCount]?.StringValue).toBe('1');
    }
  });

  it('keeps an unreadable fold as it is rather than dropping it', () => {
    // Prepare
    const broken: Record<string, MessageAttributeValue> = {
      [DeadLetterAttribute.OriginalAttributes]: { DataType: 'String', StringValue: '{not json' },
    };

    // Act
    const { flat, problems } = unfoldAttributes(broken);

    // Assess
    expect(problems[0]).toContain('is not JSON');
    expect(originalAttributesOf(flat)).toEqual(broken);
  });
});

describe('describing a dead-lettered message', () => {
  const received = (system: Record<string, string>, attributes = {}) => ({
    messageId: 'm-1',
    receiptHandle: 'r-1',
    body: requestBody('evt-1'),
    attributes,
    system,
  });

  it('says "redriven by SQS, no reason recorded" when SQS moved it (DeadLetterQueueSourceArn) and the worker recorded nothing', () => {
    // Act
    const { entry } = describeMessage(
      received({
        DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:111122223333:revocations',
        ApproximateReceiveCount: '6',
      }),
      Date.now(),
    );

    // Assess
    expect(entry).toMatchObject({
      redrivenBySqs: true,
      why: NO_REASON_REDRIVEN,
      sourceQueueArn: 'arn:aws:sqs:us-east-1:111122223333:revocations',
      receiveCount: 6,
    });
  });

  it('reads what it can of a body the worker rejected, and says why it would be rejected again', () => {
    // Prepare
    const message = { ...received({}), body: '{"eventId":"evt-bad","dataShareArn":"nope"}' };

    // Act
    const { entry } = describeMessage(message, Date.now());

    // Assess
    expect(entry.eventId).toBe('evt-bad');
    expect(entry.dataShareArn).toBe('nope');
    expect(entry.bodyProblem).toMatch(/^SchemaViolation: .*dataShareArn/);
    expect(decideReplay(entry, { maxReplays: 3, force: false }).action).toBe('skip');
    expect(decideReplay(entry, { maxReplays: 3, force: true }).action).toBe('replay');
  });
});
