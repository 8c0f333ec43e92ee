import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from 'pino';
import { ESM_LIMITS, FUNCTION_NAME_PATTERN, QUEUE_ARN_PATTERN, SQS_LIMITS } from './constants.js';
import { type EventSourceMappingError, InvalidEventSourceMappingOptionError } from './errors.js';
import type { BatchReport, MappingControl, SqsBatchHandler } from './types.js';

/** Options of {@link createEventSourceMapping}; names follow `CreateEventSourceMapping`. */
export interface EventSourceMappingOptions {
  /** Injected client. Against an emulator build it with `useQueueUrlAsEndpoint: false`. */
  sqs: SQSClient;
  queueUrl: string;
  /** `eventSourceARN` of the records; read from the queue (`QueueArn`) when omitted. */
  queueArn?: string;
  handler: SqsBatchHandler;
  /** 1..10000, default 10. Above 10 needs `maximumBatchingWindowInSeconds` ≥ 1. */
  batchSize?: number;
  /** 0..300, default 0: invoke as soon as a receive returns messages. */
  maximumBatchingWindowInSeconds?: number;
  /** Number of pollers, each with at most one batch in flight. 1..1000, default 1. */
  maximumConcurrency?: number;
  /** The function timeout, measured from invocation start. Default 30000 (Lambda's default is 3 s). */
  functionTimeoutMs?: number;
  /** Default `datashare-revoker-local`. */
  functionName?: string;
  /** `context.memoryLimitInMB`; 128..10240, default 128. */
  memoryLimitInMB?: number;
  /** `awsRegion` of the records; default: the region in the queue ARN. */
  region?: string;
  /**
   * The function's account, in `context.invokedFunctionArn` (the worker's own account); default:
   * the account in the queue ARN (fauxqs names every queue's account 000000000000).
   */
  accountId?: string;
  /** Long-poll duration per `ReceiveMessage`, 1..20 s, default 20 (what Lambda's pollers use). */
  waitTimeSeconds?: number;
  /** Backoff after failed SQS calls: full jitter, doubling from `baseDelayMs` up to `maxDelayMs`. */
  retry?: { baseDelayMs?: number; maxDelayMs?: number; deleteAttempts?: number };
  /** Default: a silent logger. */
  logger?: Logger;
  /** Called after each batch, once its deletes are done. A throw is logged, never propagated. */
  onBatch?: (report: BatchReport) => void;
  /** Called for each SQS failure and malformed message. A throw is logged, never propagated. */
  onError?: (error: EventSourceMappingError) => void;
  /**
   * The Lambda API's switch for this mapping (the Lambda emulator's `controlOf(uuid)`): disabled,
   * the mapping stops receiving and lets in-flight batches finish; enabled, it polls again if
   * `start()` was called. `start()` while disabled waits for the switch.
   */
  control?: MappingControl;
}

export interface ResolvedOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string | undefined;
  handler: SqsBatchHandler;
  batchSize: number;
  batchingWindowMs: number;
  maximumConcurrency: number;
  functionTimeoutMs: number;
  functionName: string;
  memoryLimitInMB: number;
  region: string | undefined;
  accountId: string | undefined;
  waitTimeSeconds: number;
  retry: { baseDelayMs: number; maxDelayMs: number; deleteAttempts: number };
  logger: Logger | undefined;
  onBatch: ((report: BatchReport) => void) | undefined;
  onError: ((error: EventSourceMappingError) => void) | undefined;
  control: MappingControl | undefined;
}

export const DEFAULTS = {
  batchSize: 10,
  maximumBatchingWindowInSeconds: 0,
  maximumConcurrency: 1,
  functionTimeoutMs: 30_000,
  functionName: 'datashare-revoker-local',
  memoryLimitInMB: 128,
  waitTimeSeconds: 20,
  retry: { baseDelayMs: 100, maxDelayMs: 10_000, deleteAttempts: 3 },
} as const;

const describe = (value: unknown): string =>
  typeof value === 'string'
    ? `'${value}'`
    : typeof value === 'number'
      ? String(value)
      : typeof value;

function integerIn(
  option: string,
  value: number | undefined,
  fallback: number,
  range: { min: number; max: number },
): number {
  const given = value ?? fallback;
  if (typeof given !== 'number' || !Number.isInteger(given)) {
    throw new InvalidEventSourceMappingOptionError(
      option,
      `${option} must be an integer, ${describe(given)} given`,
      given,
    );
  }
  if (given < range.min || given > range.max) {
    throw new InvalidEventSourceMappingOptionError(
      option,
      `${option} must be between ${range.min} and ${range.max}, ${describe(given)} given`,
      given,
    );
  }
  return given;
}

/**
 * Applies defaults and checks every option against Lambda's limits, before any SQS call.
 *
 * @throws InvalidEventSourceMappingOptionError naming the option, the rule and the value given,
 *   e.g. "batchSize must be between 1 and 10000, 0 given".
 */
export function resolveOptions(options: EventSourceMappingOptions): ResolvedOptions {
  if (typeof options.queueUrl !== 'string' || options.queueUrl.length === 0) {
    throw new InvalidEventSourceMappingOptionError(
      'queueUrl',
      `queueUrl must be a non-empty string, ${describe(options.queueUrl)} given`,
      options.queueUrl,
    );
  }
  if (typeof options.handler !== 'function') {
    throw new InvalidEventSourceMappingOptionError(
      'handler',
      `handler must be a function, ${describe(options.handler)} given`,
      options.handler,
    );
  }
  if (options.queueArn !== undefined && !QUEUE_ARN_PATTERN.test(options.queueArn)) {
    throw new InvalidEventSourceMappingOptionError(
      'queueArn',
      `queueArn must look like arn:aws:sqs:<region>:<account>:<name>, ${describe(options.queueArn)} given`,
      options.queueArn,
    );
  }
  const functionName = options.functionName ?? DEFAULTS.functionName;
  if (!FUNCTION_NAME_PATTERN.test(functionName)) {
    throw new InvalidEventSourceMappingOptionError(
      'functionName',
      `functionName must be 1-64 letters, digits, hyphens or underscores, ${describe(functionName)} given`,
      functionName,
    );
  }

  const batchSize = integerIn(
    'batchSize',
    options.batchSize,
    DEFAULTS.batchSize,
    ESM_LIMITS.batchSize,
  );
  const windowSeconds = integerIn(
    'maximumBatchingWindowInSeconds',
    options.maximumBatchingWindowInSeconds,
    DEFAULTS.maximumBatchingWindowInSeconds,
    ESM_LIMITS.batchingWindowSeconds,
  );
  // CreateEventSourceMapping: "When you set BatchSize to a value greater than 10, you must set
  // MaximumBatchingWindowInSeconds to at least 1."
  if (batchSize > ESM_LIMITS.batchSizeWithoutWindow && windowSeconds < 1) {
    throw new InvalidEventSourceMappingOptionError(
      'maximumBatchingWindowInSeconds',
      `maximumBatchingWindowInSeconds must be at least 1 when batchSize is greater than ${ESM_LIMITS.batchSizeWithoutWindow}, ${windowSeconds} given`,
      windowSeconds,
    );
  }

  const retry = {
    baseDelayMs: integerIn(
      'retry.baseDelayMs',
      options.retry?.baseDelayMs,
      DEFAULTS.retry.baseDelayMs,
      {
        min: 1,
        max: 60_000,
      },
    ),
    maxDelayMs: integerIn(
      'retry.maxDelayMs',
      options.retry?.maxDelayMs,
      DEFAULTS.retry.maxDelayMs,
      {
        min: 1,
        max: 300_000,
      },
    ),
    deleteAttempts: integerIn(
      'retry.deleteAttempts',
      options.retry?.deleteAttempts,
      DEFAULTS.retry.deleteAttempts,
      { min: 1, max: 10 },
    ),
  };

  return {
    sqs: options.sqs,
    queueUrl: options.queueUrl,
    queueArn: options.queueArn,
    handler: options.handler,
    batchSize,
    batchingWindowMs: windowSeconds * 1000,
    maximumConcurrency: integerIn(
      'maximumConcurrency',
      options.maximumConcurrency,
      DEFAULTS.maximumConcurrency,
      ESM_LIMITS.concurrency,
    ),
    functionTimeoutMs: integerIn(
      'functionTimeoutMs',
      options.functionTimeoutMs,
      DEFAULTS.functionTimeoutMs,
      ESM_LIMITS.functionTimeoutMs,
    ),
    functionName,
    memoryLimitInMB: integerIn(
      'memoryLimitInMB',
      options.memoryLimitInMB,
      DEFAULTS.memoryLimitInMB,
      ESM_LIMITS.memoryLimitInMB,
    ),
    region: options.region,
    accountId: options.accountId,
    waitTimeSeconds: integerIn(
      'waitTimeSeconds',
      options.waitTimeSeconds,
      DEFAULTS.waitTimeSeconds,
      SQS_LIMITS.waitTimeSeconds,
    ),
    retry,
    logger: options.logger,
    onBatch: options.onBatch,
    onError: options.onError,
    control: options.control,
  };
}
