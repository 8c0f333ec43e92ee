/**
 * The worker's own errors. Adapters translate AWS SDK failures into these once, at the edge, so the
 * core never sees SDK types. Every error keeps the original as `cause`.
 */

/** What an operator needs to know about a failure, beside its message. */
export interface ErrorContext {
  eventId?: string;
  messageId?: string;
  dataShareArn?: string;
  [key: string]: unknown;
}

/** Base class of every error the worker raises on purpose. */
export class RevokerError extends Error {
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RevokerError';
    this.context = context;
  }
}

/** An environment variable is missing or malformed; raised at cold start. */
export class ConfigurationError extends RevokerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, {}, options);
    this.name = 'ConfigurationError';
  }
}

/** How a failed AWS call should be treated. */
export const FailureKind = {
  /** The service asked us to slow down: retry later, and slow everyone down. */
  Throttled: 'throttled',
  /** A 5xx, a timeout or a network fault: retry later. */
  Transient: 'transient',
  /** Retrying cannot help (validation, access denied, unknown namespace...). */
  Permanent: 'permanent',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

export interface AwsFailureDetails {
  kind: FailureKind;
  /** The service's error code (`Throttling`, `InvalidNamespaceFault`, `ECONNRESET`...). */
  code: string;
  httpStatusCode?: number;
  requestId?: string;
}

/** A call to an AWS service failed; `kind` says whether to retry. */
export class AwsCallError extends RevokerError {
  readonly kind: FailureKind;
  readonly code: string;
  readonly httpStatusCode: number | undefined;
  readonly requestId: string | undefined;

  constructor(
    message: string,
    details: AwsFailureDetails,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(message, context, options);
    this.name = 'AwsCallError';
    this.kind = details.kind;
    this.code = details.code;
    this.httpStatusCode = details.httpStatusCode;
    this.requestId = details.requestId;
  }

  get retryable(): boolean {
    return this.kind !== FailureKind.Permanent;
  }
}

/** `DisassociateDataShareConsumer` (or its confirming describe) failed. */
export class RedshiftCallError extends AwsCallError {
  constructor(
    message: string,
    details: AwsFailureDetails,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(message, details, context, options);
    this.name = 'RedshiftCallError';
  }
}

/**
 * STS `AssumeRole` of a consumer account's role failed. A subclass of `RedshiftCallError`, so the
 * retry loop treats it as a failed attempt: denied is permanent (`ConsumerRoleDenied`), STS
 * throttling and 5xx are retried with the same backoff and deadline rules as Redshift's.
 */
export class ConsumerRoleError extends RedshiftCallError {
  constructor(
    message: string,
    details: AwsFailureDetails,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(message, details, context, options);
    this.name = 'ConsumerRoleError';
  }
}

/** No time is left before the Lambda deadline to start another attempt and still finish. */
export class DeadlineExceededError extends RevokerError {
  constructor(message: string, context: ErrorContext = {}, options?: ErrorOptions) {
    super(message, context, options);
    this.name = 'DeadlineExceededError';
  }
}

/** The idempotency store could not be read or written. */
export class IdempotencyStoreError extends AwsCallError {
  constructor(
    message: string,
    details: AwsFailureDetails,
    context: ErrorContext = {},
    options?: ErrorOptions,
  ) {
    super(message, details, context, options);
    this.name = 'IdempotencyStoreError';
  }
}

/** The error a caller sees when anything non-Error was thrown. */
export const toError = (value: unknown): Error =>
  value instanceof Error
    ? value
    : new Error(typeof value === 'string' ? value : JSON.stringify(value));
