import { type AwsFailureDetails, FailureKind } from './errors.js';

/**
 * The fields of an AWS SDK v3 error the classification reads. A structural type, so this module
 * imports no SDK: adapters pass their SDK errors straight in.
 */
export interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

// The SDK's own lists (@smithy/service-error-classification), plus Redshift's `Throttling`.
const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

const TRANSIENT_CODES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'AbortError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

const codeOf = (error: SdkErrorShape): string => {
  // Node network errors carry `code` (ECONNRESET); SDK service errors carry `name`.
  if (typeof error.code === 'string' && /^E[A-Z_]+$/.test(error.code)) return error.code;
  return error.name ?? error.code ?? 'UnknownError';
};

/**
 * Decides whether an AWS call that failed may be tried again, and whether it was throttled.
 * Anything unrecognised that the service blamed on the client is permanent; anything else that
 * is unrecognised (no HTTP status: the request never got an answer) is transient.
 */
export const classifyAwsError = (error: SdkErrorShape): AwsFailureDetails => {
  const code = codeOf(error);
  const httpStatusCode = error.$metadata?.httpStatusCode;
  const requestId = error.$metadata?.requestId;
  const base = {
    code,
    ...(httpStatusCode !== undefined && { httpStatusCode }),
    ...(requestId && { requestId }),
  };

  if (
    THROTTLING_CODES.has(code) ||
    httpStatusCode === 429 ||
    error.$retryable?.throttling === true
  ) {
    return { kind: FailureKind.Throttled, ...base };
  }
  if (
    TRANSIENT_CODES.has(code) ||
    (httpStatusCode !== undefined && TRANSIENT_STATUS.has(httpStatusCode)) ||
    error.$fault === 'server' ||
    error.$retryable !== undefined
  ) {
    return { kind: FailureKind.Transient, ...base };
  }
  if (httpStatusCode === undefined && error.$fault === undefined) {
    return { kind: FailureKind.Transient, ...base };
  }
  return { kind: FailureKind.Permanent, ...base };
};

/**
 * How Redshift says a consumer is no longer associated. AWS reports it as an
 * `InvalidDataShareFault` whose message is the only signal ("...because the ARN doesn't exist.",
 * "...either doesn't exist or isn't associated with this data consumer").
 */
export const GoneVerdict = {
  /** The message says plainly that the association is absent. */
  Gone: 'gone',
  /** The message could mean a mistyped ARN as well as a gone association: confirm with a describe. */
  Ambiguous: 'ambiguous',
  /** Not an "already gone" message. */
  NotGone: 'not-gone',
} as const;
export type GoneVerdict = (typeof GoneVerdict)[keyof typeof GoneVerdict];

const NOT_ASSOCIATED = /\b(isn't|is not|not) associated\b/i;
const DOES_NOT_EXIST = /\b(doesn't|does not|don't|do not) exist\b/i;

export const goneVerdictOf = (error: SdkErrorShape): GoneVerdict => {
  if (codeOf(error) !== 'InvalidDataShareFault') return GoneVerdict.NotGone;
  const message = error.message ?? '';
  const notAssociated = NOT_ASSOCIATED.test(message);
  const doesNotExist = DOES_NOT_EXIST.test(message);
  if (notAssociated && !doesNotExist) return GoneVerdict.Gone;
  if (notAssociated || doesNotExist) return GoneVerdict.Ambiguous;
  return GoneVerdict.NotGone;
};
