import { describe, expect, it } from 'vitest';
import {
  AwsCallError,
  ConfigurationError,
  DeadlineExceededError,
  FailureKind,
  IdempotencyStoreError,
  RedshiftCallError,
  RevokerError,
  toError,
} from '../../../src/core/errors.js';

describe('the error classes', () => {
  it.each([
    ['RevokerError', () => new RevokerError('m')],
    ['ConfigurationError', () => new ConfigurationError('m')],
    ['DeadlineExceededError', () => new DeadlineExceededError('m')],
    ['AwsCallError', () => new AwsCallError('m', { kind: FailureKind.Transient, code: 'X' })],
    [
      'RedshiftCallError',
      () => new RedshiftCallError('m', { kind: FailureKind.Transient, code: 'X' }),
    ],
    [
      'IdempotencyStoreError',
      () => new IdempotencyStoreError('m', { kind: FailureKind.Transient, code: 'X' }),
    ],
  ])('%s sets its own name and is a RevokerError', (name, make) => {
    const error = make();
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(RevokerError);
    expect(error).toBeInstanceOf(Error);
  });

  it('keeps the original error as cause and the context an operator needs', () => {
    // Prepare
    const cause = new Error('socket hang up');
    // Act
    const error = new RedshiftCallError(
      'DisassociateDataShareConsumer failed',
      { kind: FailureKind.Throttled, code: 'Throttling', httpStatusCode: 400, requestId: 'r-1' },
      { eventId: 'evt-1', dataShareArn: 'arn:share' },
      { cause },
    );
    // Assess
    expect(error.cause).toBe(cause);
    expect(error.context).toEqual({ eventId: 'evt-1', dataShareArn: 'arn:share' });
    expect(error).toMatchObject({
      kind: FailureKind.Throttled,
      code: 'Throttling',
      httpStatusCode: 400,
      requestId: 'r-1',
    });
    expect(error).toBeInstanceOf(AwsCallError);
  });

  it.each([
    [FailureKind.Throttled, true],
    [FailureKind.Transient, true],
    [FailureKind.Permanent, false],
  ])('an AwsCallError of kind %s is retryable: %s', (kind, retryable) => {
    expect(new AwsCallError('m', { kind, code: 'X' }).retryable).toBe(retryable);
  });

  it('leaves httpStatusCode and requestId undefined when the failure had none', () => {
    const error = new AwsCallError('m', { kind: FailureKind.Transient, code: 'ECONNRESET' });
    expect(error.httpStatusCode).toBeUndefined();
    expect(error.requestId).toBeUndefined();
    expect(error.context).toEqual({});
  });
});

describe('toError', () => {
  it('returns an Error unchanged', () => {
    const error = new TypeError('x');
    expect(toError(error)).toBe(error);
  });

  it('wraps a thrown string as the message', () => {
    expect(toError('boom').message).toBe('boom');
  });

  it('wraps any other thrown value as its JSON', () => {
    expect(toError({ code: 42 }).message).toBe('{"code":42}');
  });
});
