import { describe, expect, it } from 'vitest';
import { failureDetailsOf, messageOf } from '../../../src/adapters/aws-error.js';
import { FailureKind } from '../../../src/core/errors.js';

describe('failureDetailsOf', () => {
  it('classifies an SDK error by its fields', () => {
    expect(
      failureDetailsOf({
        name: 'Throttling',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    ).toEqual({ kind: FailureKind.Throttled, code: 'Throttling', httpStatusCode: 400 });
  });

  it.each([
    ['a string', 'boom', 'boom'],
    ['undefined', undefined, 'undefined'],
    ['null', null, 'null'],
  ])('classifies a thrown %s as a transient failure named after it', (_, thrown, code) => {
    expect(failureDetailsOf(thrown)).toEqual({ kind: FailureKind.Transient, code });
  });
});

describe('messageOf', () => {
  it("reads an Error's message", () => {
    expect(messageOf(new Error('Rate exceeded'))).toBe('Rate exceeded');
  });

  it('turns anything else into a string', () => {
    expect(messageOf('boom')).toBe('boom');
    expect(messageOf(42)).toBe('42');
  });
});
