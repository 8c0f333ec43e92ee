/**
 * The operator CLI's errors and exit codes. SDK failures are translated here, once, into errors
 * whose message is the single line an operator reads on stderr; the SDK error stays as `cause`.
 */

/** Exit codes: 0 all done, 1 ran but something failed, 2 could not run at all. */
export const ExitCode = {
  Ok: 0,
  /** Some messages failed to move or to be deleted, or the input was rejected. */
  Failed: 1,
  /** Nothing was done: bad usage, unknown queue, no credentials, access denied, unreachable. */
  Unusable: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Base class of every error the CLI reports on purpose: `message` is the whole story. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A flag or argument is wrong; says which, what was given and what is expected. */
export class UsageError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.Unusable, options);
    this.name = 'UsageError';
  }
}

/** The operator must confirm, and cannot (stdin is not a terminal) or said no. */
export class ConfirmationRefusedError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Unusable);
    this.name = 'ConfirmationRefusedError';
  }
}

/** An AWS call failed in a way no retry can fix: wrong queue URL, credentials, permissions. */
export class AwsAccessError extends CliError {
  readonly code: string;
  readonly operation: string;
  readonly queueUrl: string | undefined;

  constructor(
    message: string,
    details: { code: string; operation: string; queueUrl?: string },
    options?: ErrorOptions,
  ) {
    super(message, ExitCode.Unusable, options);
    this.name = 'AwsAccessError';
    this.code = details.code;
    this.operation = details.operation;
    this.queueUrl = details.queueUrl;
  }
}

/** Any other failed AWS call (throttling after the SDK's retries, 5xx, a timeout). */
export class AwsCallFailedError extends CliError {
  readonly code: string;
  readonly operation: string;

  constructor(
    message: string,
    details: { code: string; operation: string },
    options?: ErrorOptions,
  ) {
    super(message, ExitCode.Failed, options);
    this.name = 'AwsCallFailedError';
    this.code = details.code;
    this.operation = details.operation;
  }
}

interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

// SQS's JSON protocol names the error `QueueDoesNotExist`; the query protocol (and the error's
// `Code` field) still say `AWS.SimpleQueueService.NonExistentQueue`.
const QUEUE_MISSING = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue']);
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'KMS.AccessDeniedException',
  'UnauthorizedOperation',
]);
const BAD_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSecurity',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const firstLine = (text: string): string => text.split('\n')[0]?.trim() ?? '';

/**
 * Turns whatever an SQS call threw into a {@link CliError} naming the operation and the queue.
 *
 * @example
 * try { await sqs.send(cmd) } catch (error) { throw toCliError(error, 'ReceiveMessage', url) }
 */
export const toCliError = (
  error: unknown,
  operation: string,
  queueUrl?: string,
  service = 'SQS',
): CliError => {
  if (error instanceof CliError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const name = e.name ?? 'Error';
  const code = typeof e.code === 'string' ? e.code : name;
  const message = firstLine(e.message ?? String(error));
  const where = queueUrl ? ` (${operation} on ${queueUrl})` : ` (${operation})`;
  const access = (text: string, errorCode: string) =>
    new AwsAccessError(
      text,
      { code: errorCode, operation, ...(queueUrl && { queueUrl }) },
      {
        cause: error,
      },
    );

  if (QUEUE_MISSING.has(name) || (e.Code !== undefined && QUEUE_MISSING.has(e.Code))) {
    return access(
      `queue does not exist: ${queueUrl ?? '(unknown URL)'} — check the URL, the account and --region`,
      name,
    );
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return access(
      `no AWS credentials found${where}: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in (aws sso login)`,
      'CredentialsProviderError',
    );
  }
  if (BAD_CREDENTIALS.has(name)) {
    return access(`AWS rejected the credentials${where}: ${name}: ${message}`, name);
  }
  if (DENIED.has(name) || e.$metadata?.httpStatusCode === 403) {
    return access(`access denied${where}: ${message}`, name);
  }
  if (/Region is missing/i.test(message)) {
    return access('no AWS region: pass --region or set AWS_REGION', 'RegionMissing');
  }
  if (UNREACHABLE.has(code)) {
    return access(`cannot reach the ${service} endpoint${where}: ${code}: ${message}`, code);
  }
  return new AwsCallFailedError(
    `${operation} failed${queueUrl ? ` on ${queueUrl}` : ''}: ${name}: ${message}`,
    {
      code: name,
      operation,
    },
    { cause: error },
  );
};

/** A stage could not be resolved: no such stack, or the stack lacks an output a command needs. */
export class StageError extends CliError {
  readonly stage: string;
  readonly stackName: string;

  constructor(
    message: string,
    details: { stage: string; stackName: string },
    options?: ErrorOptions,
  ) {
    super(message, ExitCode.Unusable, options);
    this.name = 'StageError';
    this.stage = details.stage;
    this.stackName = details.stackName;
  }
}

/**
 * Runs one call of any AWS service; whatever it throws becomes a one-line CLI error naming the
 * service, the operation and the resource.
 */
export const awsCall = async <T>(
  service: string,
  operation: string,
  resource: string,
  call: () => Promise<T>,
): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    throw toCliError(error, operation, resource, service);
  }
};

/** The one line printed for an error that reached the top of the CLI, and its exit code. */
export const describeFailure = (error: unknown): { line: string; exitCode: ExitCode } => {
  if (error instanceof CliError) return { line: error.message, exitCode: error.exitCode };
  const message = error instanceof Error ? error.message : String(error);
  return { line: `unexpected error: ${firstLine(message)}`, exitCode: ExitCode.Failed };
};
