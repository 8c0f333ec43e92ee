import { describe, expect, it } from 'vitest';
import {
  classifyAwsError,
  GoneVerdict,
  goneVerdictOf,
  type SdkErrorShape,
} from '../../../src/core/classify.js';
import { FailureKind } from '../../../src/core/errors.js';

const kindOf = (error: SdkErrorShape) => classifyAwsError(error).kind;

describe('classifyAwsError — throttling', () => {
  it.each([
    'Throttling',
    'ThrottlingException',
    'TooManyRequestsException',
    'RequestLimitExceeded',
    'ProvisionedThroughputExceededException',
    'RequestThrottledException',
    'SlowDown',
  ])(
    'classifies an error named %s as throttled, even from a client fault with HTTP 400',
    (name) => {
      expect(kindOf({ name, $fault: 'client', $metadata: { httpStatusCode: 400 } })).toBe(
        FailureKind.Throttled,
      );
    },
  );

  it('classifies a throttling code carried in `code` rather than `name` as throttled', () => {
    expect(kindOf({ code: 'Throttling' })).toBe(FailureKind.Throttled);
  });

  it('classifies any HTTP 429 as throttled, whatever its name', () => {
    expect(kindOf({ name: 'SomethingNew', $metadata: { httpStatusCode: 429 } })).toBe(
      FailureKind.Throttled,
    );
  });

  it('classifies an error the SDK marked $retryable.throttling as throttled', () => {
    expect(kindOf({ name: 'Custom', $fault: 'client', $retryable: { throttling: true } })).toBe(
      FailureKind.Throttled,
    );
  });
});

describe('classifyAwsError — transient', () => {
  it.each([500, 502, 503, 504])('classifies HTTP %i as transient', (httpStatusCode) => {
    expect(kindOf({ name: 'Whatever', $fault: 'client', $metadata: { httpStatusCode } })).toBe(
      FailureKind.Transient,
    );
  });

  it.each([
    'TimeoutError',
    'RequestTimeout',
    'InternalFailure',
    'InternalError',
    'ServiceUnavailable',
    'AbortError',
  ])('classifies an error named %s as transient', (name) => {
    expect(kindOf({ name, $fault: 'client', $metadata: { httpStatusCode: 400 } })).toBe(
      FailureKind.Transient,
    );
  });

  it.each([
    'ECONNRESET',
    'ECONNREFUSED',
    'ECONNABORTED',
    'EPIPE',
    'ETIMEDOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EHOSTUNREACH',
    'ENETUNREACH',
  ])(
    'classifies the network error %s as transient and reports its code, not the Error name',
    (code) => {
      // Prepare: Node network errors are plain Errors whose `code` says what happened
      const error = Object.assign(new Error(`connect ${code} 10.0.0.1:443`), { code });
      // Act
      const details = classifyAwsError(error);
      // Assess
      expect(details).toEqual({ kind: FailureKind.Transient, code });
    },
  );

  it('classifies a server fault with an unknown name as transient', () => {
    expect(
      kindOf({ name: 'BrandNewFault', $fault: 'server', $metadata: { httpStatusCode: 400 } }),
    ).toBe(FailureKind.Transient);
  });

  it('classifies an error the SDK marked $retryable (not throttling) as transient', () => {
    expect(kindOf({ name: 'Custom', $fault: 'client', $retryable: {} })).toBe(
      FailureKind.Transient,
    );
  });

  it('classifies an unknown error that never got an HTTP answer as transient', () => {
    expect(kindOf({ name: 'Error', message: 'socket hang up' })).toBe(FailureKind.Transient);
  });
});

describe('classifyAwsError — permanent', () => {
  it.each([
    'InvalidNamespaceFault',
    'InvalidDataShareFault',
    'AccessDeniedException',
    'UnauthorizedOperation',
    'ValidationException',
  ])('classifies the client fault %s as permanent', (name) => {
    expect(kindOf({ name, $fault: 'client', $metadata: { httpStatusCode: 400 } })).toBe(
      FailureKind.Permanent,
    );
  });

  it('classifies an unknown error with a 4xx status and no $fault as permanent', () => {
    expect(kindOf({ name: 'Forbidden', $metadata: { httpStatusCode: 403 } })).toBe(
      FailureKind.Permanent,
    );
  });

  it('classifies an unknown client fault without a status as permanent', () => {
    expect(kindOf({ name: 'Mystery', $fault: 'client' })).toBe(FailureKind.Permanent);
  });
});

describe('classifyAwsError — details', () => {
  it('reports the code, HTTP status and request id', () => {
    expect(
      classifyAwsError({
        name: 'InvalidNamespaceFault',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, requestId: 'req-123' },
      }),
    ).toEqual({
      kind: FailureKind.Permanent,
      code: 'InvalidNamespaceFault',
      httpStatusCode: 400,
      requestId: 'req-123',
    });
  });

  it('reports UnknownError when the error has neither name nor code', () => {
    expect(classifyAwsError({})).toEqual({ kind: FailureKind.Transient, code: 'UnknownError' });
  });

  it('prefers the name over a `code` that is not a network error code', () => {
    expect(
      classifyAwsError({ name: 'InvalidNamespaceFault', code: 'Sender', $fault: 'client' }).code,
    ).toBe('InvalidNamespaceFault');
  });
});

describe('goneVerdictOf — the real Redshift message texts', () => {
  const fault = (message: string, name = 'InvalidDataShareFault'): SdkErrorShape => ({
    name,
    message,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

  it('calls "…because the ARN doesn\'t exist." ambiguous: a mistyped ARN reads the same', () => {
    expect(
      goneVerdictOf(
        fault(
          "Can't disassociate consumer from datashare arn:aws:redshift:us-east-1:444455556666:datashare:ns/share because the ARN doesn't exist.",
        ),
      ),
    ).toBe(GoneVerdict.Ambiguous);
  });

  it('calls "…either doesn\'t exist or isn\'t associated with this data consumer" ambiguous', () => {
    expect(
      goneVerdictOf(
        fault(
          "The datashare arn:aws:redshift:us-east-1:444455556666:datashare:ns/share either doesn't exist or isn't associated with this data consumer.",
        ),
      ),
    ).toBe(GoneVerdict.Ambiguous);
  });

  it('calls "The consumer isn\'t associated with the datashare" gone', () => {
    expect(goneVerdictOf(fault("The consumer isn't associated with the datashare."))).toBe(
      GoneVerdict.Gone,
    );
  });

  it('reads "is not associated" and "does not exist" like their contractions', () => {
    expect(goneVerdictOf(fault('The consumer is not associated with the datashare.'))).toBe(
      GoneVerdict.Gone,
    );
    expect(goneVerdictOf(fault('The datashare does not exist.'))).toBe(GoneVerdict.Ambiguous);
  });

  it('calls any other InvalidDataShareFault not gone', () => {
    expect(goneVerdictOf(fault('There is an error with the datashare.'))).toBe(GoneVerdict.NotGone);
    expect(goneVerdictOf(fault('The datashare is not in an authorized state.'))).toBe(
      GoneVerdict.NotGone,
    );
  });

  it('calls an InvalidDataShareFault without a message not gone', () => {
    expect(goneVerdictOf({ name: 'InvalidDataShareFault' })).toBe(GoneVerdict.NotGone);
  });

  it.each(['InvalidNamespaceFault', 'AccessDeniedException', 'Throttling'])(
    'calls %s not gone, even with an "isn\'t associated" message',
    (name) => {
      expect(goneVerdictOf(fault("The consumer isn't associated with the datashare.", name))).toBe(
        GoneVerdict.NotGone,
      );
    },
  );
});
