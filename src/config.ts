import * as v from 'valibot';
import { REGION_PATTERN } from './core/arn.js';
import { BREAKER_MAX_REVOCATIONS_LIMIT } from './core/breaker.js';
import { ConfigurationError } from './core/errors.js';
import { matching, text } from './core/string-schemas.js';
import { DATASHARE_PREFIX_EXPECTED, isDataSharePrefix } from './core/target-fence.js';

/**
 * The worker's configuration. This is the one module that reads `process.env`: it validates every
 * variable once, at cold start, and fails with the variable's name, the value given and what is
 * expected, so a misconfigured deployment fails loudly before it touches a message.
 */

// Each schema carries its expectation as the message of its type and of every check (as
// `matching` and `text` do), so that every way a value can fail (missing, wrong type, too long...)
// reports the same words, never valibot's English defaults.

/** A whole number from `min` to `max`, written in decimal digits (a safe integer). */
const integer = (min: number, max: number) => {
  const expected = `a whole number from ${min} to ${max}`;
  return v.pipe(
    matching(expected, /^\d+$/),
    v.transform(Number),
    v.safeInteger(expected),
    v.minValue(min, expected),
    v.maxValue(max, expected),
  );
};

/** `integer(min, max)`, or `fallback` when unset (as the variable would be written). */
const integerOr = (min: number, max: number, fallback: number) =>
  v.optional(integer(min, max), String(fallback));

const booleanFlag = v.pipe(
  v.picklist(['true', 'false', '1', '0', ''], '"true" or "false"'),
  v.transform((value) => value === 'true' || value === '1'),
);
/** `booleanFlag`, false when unset. */
const flagOff = v.optional(booleanFlag, 'false');

const DEAD_LETTER_QUEUE_URL_EXPECTED =
  'the URL of the dead-letter queue, https://sqs.<region>.amazonaws.com/<account>/<name>';
const ALLOWED_DATASHARES_EXPECTED = `comma-separated datashare ARN prefixes, each ${DATASHARE_PREFIX_EXPECTED}`;

const EnvironmentSchema = v.object({
  AWS_REGION: matching('an AWS region code such as us-east-1', REGION_PATTERN),
  AUDIT_EVENT_BUS_NAME: text('the name or ARN of the audit event bus', 1),
  DEAD_LETTER_QUEUE_URL: v.pipe(
    v.string(DEAD_LETTER_QUEUE_URL_EXPECTED),
    v.url(DEAD_LETTER_QUEUE_URL_EXPECTED),
  ),
  IDEMPOTENCY_TABLE_NAME: v.optional(text('a DynamoDB table name (3 to 255 characters)', 3, 255)),
  AUDIT_EVENT_SOURCE: v.optional(
    v.pipe(
      text('a source of 1 to 256 characters', 1, 256),
      v.check(
        (source) => !source.startsWith('aws.'),
        'a source that does not begin with "aws." (EventBridge reserves it)',
      ),
    ),
    'governance.datashare-revoker',
  ),
  MAX_RECEIVE_COUNT: integerOr(1, 1000, 5),
  // Set by the infrastructure from the same number that configures the queue. SQS's default.
  QUEUE_VISIBILITY_TIMEOUT_SECONDS: integerOr(0, 43_200, 30),
  // Rule 11: the first retry comes back after base/2..base seconds, doubling per receive.
  RETRY_BACKOFF_BASE_SECONDS: integerOr(1, 900, 30),
  DEDUP_TTL_SECONDS: integerOr(60, 31_536_000, 86_400),
  CLOCK_SKEW_MARGIN_SECONDS: integerOr(0, 3600, 30),
  // A decision older than this (or replayed, or received again) is checked against the target's
  // associations before it acts: a consumer associated again since must not lose access.
  STALE_AFTER_SECONDS: integerOr(0, 31_536_000, 300),
  REDSHIFT_MAX_CONCURRENCY: integerOr(1, 100, 10),
  REDSHIFT_MAX_ATTEMPTS: integerOr(1, 20, 6),
  REDSHIFT_REQUEST_TIMEOUT_MS: integerOr(100, 120_000, 5000),
  // Pace every container's Redshift calls from one record per control plane in the idempotency
  // table, rather than each container on its own (README, design notes). Off by default for now.
  REDSHIFT_SHARED_PACE: flagOff,
  // At least the return margin (500 ms), a DLQ copy and one audit round (1 s each, when there is
  // time for either; short of it they are not sent and the message comes back): below that, the
  // Redshift phase could end after the audit's own deadline.
  DEADLINE_RESERVE_MS: integerOr(2000, 60_000, 3000),
  DRY_RUN: flagOff,
  // Guardrails: region- and account-wide targets are opt-in; datashares can be fenced.
  ALLOW_BROAD_TARGETS: flagOff,
  ALLOWED_DATASHARES: v.optional(
    v.pipe(
      v.string(ALLOWED_DATASHARES_EXPECTED),
      v.check(
        (list) => list.split(',').every((prefix) => isDataSharePrefix(prefix.trim())),
        ALLOWED_DATASHARES_EXPECTED,
      ),
    ),
  ),
  // Hub and spoke: the role the worker assumes in each consumer account, and where it may act.
  CONSUMER_ROLE_NAME: v.optional(
    matching('an IAM role name (1 to 64 of letters, digits and +=,.@_-)', /^[\w+=,.@-]{1,64}$/),
  ),
  CONSUMER_ACCOUNTS: v.optional(
    matching('"*" or comma-separated 12-digit AWS account ids', /^(\*|\d{12}(\s*,\s*\d{12})*)$/),
  ),
  CONSUMER_ROLE_EXTERNAL_ID: v.optional(
    matching(
      'an external id (2 to 1224 of letters, digits and +=,.@:/_-)',
      /^[\w+=,.@:/-]{2,1224}$/,
    ),
  ),
  // A Lambda role's credentials are a role session: assuming a role from it is role chaining,
  // which STS caps at one hour whatever the role's own maximum.
  CONSUMER_ROLE_SESSION_SECONDS: integerOr(900, 3600, 3600),
  // Set by Lambda; names the worker in the consumer accounts' CloudTrail (the STS session name).
  AWS_LAMBDA_FUNCTION_NAME: v.optional(text('a function name', 1), 'datashare-revoker'),
  WORKER_ROLE_ARN: v.optional(
    matching(
      "the ARN of the function's own role, arn:<partition>:iam::<account>:role/<name>",
      /^arn:[a-z-]+:iam::\d{12}:role\/[\w+=,.@/-]+$/,
    ),
  ),
  // The breaker (off unless BREAKER_MAX_REVOCATIONS is set): at most this many revocations in
  // any BREAKER_WINDOW_SECONDS across all containers, counted per bucket of the window in one
  // DynamoDB item (see src/core/breaker.ts).
  BREAKER_MAX_REVOCATIONS: v.optional(integer(1, BREAKER_MAX_REVOCATIONS_LIMIT)),
  BREAKER_WINDOW_SECONDS: v.optional(integer(1, 86_400)),
  // The worker's source queue: with the function's name, finds its own event source mapping.
  SOURCE_QUEUE_ARN: v.optional(
    matching(
      'an SQS queue ARN, arn:<partition>:sqs:<region>:<account>:<name>',
      /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[\w-]{1,80}(\.fifo)?$/,
    ),
  ),
  LOG_LEVEL: v.optional(
    v.picklist(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      'one of fatal, error, warn, info, debug, trace, silent',
    ),
    'info',
  ),
});

export interface Config {
  region: string;
  auditEventBusName: string;
  auditEventSource: string;
  deadLetterQueueUrl: string;
  idempotencyTableName: string | undefined;
  maxReceiveCount: number;
  queueVisibilityTimeoutSeconds: number;
  retryBackoffBaseSeconds: number;
  dedupTtlSeconds: number;
  clockSkewMarginSeconds: number;
  /** Decisions older than this are checked for a newer association before acting (SUPERSEDED). */
  staleAfterSeconds: number;
  redshiftMaxConcurrency: number;
  redshiftMaxAttempts: number;
  redshiftRequestTimeoutMs: number;
  deadlineReserveMs: number;
  dryRun: boolean;
  /** Whether `consumerRegion` / `disassociateEntireAccount` requests may act at all. */
  allowBroadTargets: boolean;
  /** Containers share each control plane's pace through the idempotency table. */
  redshiftSharedPace: boolean;
  /** Datashare ARN prefixes a request must start with; undefined: any datashare. */
  allowedDataShares?: readonly string[];
  logLevel: string;
  /** Hub mode, when set: the role assumed in each consumer account other than the worker's own. */
  consumerRole?: {
    name: string;
    /** The accounts it may act in besides its own, or any (`'*'`). */
    accounts: ReadonlySet<string> | '*';
    externalId?: string;
    sessionSeconds: number;
  };
  /** The function's own role, for the audit's `actor` (unknown: null). */
  workerRoleArn?: string;
  functionName: string;
  /** The breaker, when `BREAKER_MAX_REVOCATIONS` is set. */
  breaker?: { maxRevocations: number; windowSeconds: number; sourceQueueArn: string };
}

/** Variable names, so documentation and error messages cannot drift from the schema. */
export const CONFIG_VARIABLES = Object.keys(EnvironmentSchema.entries);

const quoteValue = (value: unknown): string =>
  value === undefined ? 'nothing (unset)' : JSON.stringify(value);

/**
 * Reads and validates the worker's environment.
 *
 * @throws {ConfigurationError} naming every variable that is missing or malformed.
 * @example
 * const config = loadConfig(process.env);
 */
export const loadConfig = (env: Readonly<Record<string, string | undefined>>): Config => {
  // Treat an empty optional variable as unset: CloudFormation renders an unset parameter as "".
  const present = Object.fromEntries(
    CONFIG_VARIABLES.map((name) => [
      name,
      env[name] === '' && name !== 'AWS_REGION' ? undefined : env[name],
    ]),
  );
  const parsed = v.safeParse(EnvironmentSchema, present);
  if (!parsed.success) {
    // One problem per variable: a value can fail several checks (1e20 is neither a safe integer
    // nor under the maximum) that all say the same thing.
    const problems = new Map<string, string>();
    for (const issue of parsed.issues) {
      const name = String(issue.path?.[0]?.key);
      if (!problems.has(name))
        problems.set(
          name,
          `${name}: expected ${issue.message}; given ${quoteValue(present[name])}`,
        );
    }
    throw new ConfigurationError(`Invalid configuration: ${[...problems.values()].join('; ')}`);
  }
  const e = parsed.output;
  // Fail closed: a hub with no account list would not know where it may act.
  if (e.CONSUMER_ROLE_NAME !== undefined && e.CONSUMER_ACCOUNTS === undefined)
    throw new ConfigurationError(
      `Invalid configuration: CONSUMER_ACCOUNTS: expected "*" or comma-separated 12-digit AWS account ids when CONSUMER_ROLE_NAME is set (hub mode); given nothing (unset)`,
    );
  if (e.CONSUMER_ROLE_NAME === undefined && e.CONSUMER_ACCOUNTS !== undefined)
    throw new ConfigurationError(
      `Invalid configuration: CONSUMER_ROLE_NAME: expected the consumer role's name when CONSUMER_ACCOUNTS is set (single-account mode acts in its own account only); given nothing (unset)`,
    );
  // The breaker needs its window, and its queue to find the mapping it disables: fail closed.
  if (e.BREAKER_MAX_REVOCATIONS !== undefined && e.BREAKER_WINDOW_SECONDS === undefined)
    throw new ConfigurationError(
      `Invalid configuration: BREAKER_WINDOW_SECONDS: expected a whole number from 1 to 86400 when BREAKER_MAX_REVOCATIONS is set; given nothing (unset)`,
    );
  if (e.BREAKER_MAX_REVOCATIONS !== undefined && e.SOURCE_QUEUE_ARN === undefined)
    throw new ConfigurationError(
      `Invalid configuration: SOURCE_QUEUE_ARN: expected the source queue's ARN when BREAKER_MAX_REVOCATIONS is set (the breaker disables the function's event source mapping on it); given nothing (unset)`,
    );
  if (e.BREAKER_MAX_REVOCATIONS === undefined && e.BREAKER_WINDOW_SECONDS !== undefined)
    throw new ConfigurationError(
      `Invalid configuration: BREAKER_MAX_REVOCATIONS: expected a whole number from 1 to ${BREAKER_MAX_REVOCATIONS_LIMIT} when BREAKER_WINDOW_SECONDS is set (unset both to turn the breaker off); given nothing (unset)`,
    );
  const consumerAccounts =
    e.CONSUMER_ACCOUNTS === undefined
      ? undefined
      : e.CONSUMER_ACCOUNTS === '*'
        ? ('*' as const)
        : new Set(e.CONSUMER_ACCOUNTS.split(',').map((id) => id.trim()));
  return {
    region: e.AWS_REGION,
    auditEventBusName: e.AUDIT_EVENT_BUS_NAME,
    auditEventSource: e.AUDIT_EVENT_SOURCE,
    deadLetterQueueUrl: e.DEAD_LETTER_QUEUE_URL,
    idempotencyTableName: e.IDEMPOTENCY_TABLE_NAME,
    maxReceiveCount: e.MAX_RECEIVE_COUNT,
    queueVisibilityTimeoutSeconds: e.QUEUE_VISIBILITY_TIMEOUT_SECONDS,
    retryBackoffBaseSeconds: e.RETRY_BACKOFF_BASE_SECONDS,
    dedupTtlSeconds: e.DEDUP_TTL_SECONDS,
    clockSkewMarginSeconds: e.CLOCK_SKEW_MARGIN_SECONDS,
    staleAfterSeconds: e.STALE_AFTER_SECONDS,
    redshiftMaxConcurrency: e.REDSHIFT_MAX_CONCURRENCY,
    redshiftMaxAttempts: e.REDSHIFT_MAX_ATTEMPTS,
    redshiftRequestTimeoutMs: e.REDSHIFT_REQUEST_TIMEOUT_MS,
    deadlineReserveMs: e.DEADLINE_RESERVE_MS,
    dryRun: e.DRY_RUN,
    allowBroadTargets: e.ALLOW_BROAD_TARGETS,
    redshiftSharedPace: e.REDSHIFT_SHARED_PACE,
    ...(e.ALLOWED_DATASHARES !== undefined && {
      allowedDataShares: e.ALLOWED_DATASHARES.split(',').map((prefix) => prefix.trim()),
    }),
    logLevel: e.LOG_LEVEL,
    ...(e.CONSUMER_ROLE_NAME !== undefined &&
      consumerAccounts !== undefined && {
        consumerRole: {
          name: e.CONSUMER_ROLE_NAME,
          accounts: consumerAccounts,
          ...(e.CONSUMER_ROLE_EXTERNAL_ID !== undefined && {
            externalId: e.CONSUMER_ROLE_EXTERNAL_ID,
          }),
          sessionSeconds: e.CONSUMER_ROLE_SESSION_SECONDS,
        },
      }),
    ...(e.WORKER_ROLE_ARN !== undefined && { workerRoleArn: e.WORKER_ROLE_ARN }),
    functionName: e.AWS_LAMBDA_FUNCTION_NAME,
    ...(e.BREAKER_MAX_REVOCATIONS !== undefined &&
      e.BREAKER_WINDOW_SECONDS !== undefined &&
      e.SOURCE_QUEUE_ARN !== undefined && {
        breaker: {
          maxRevocations: e.BREAKER_MAX_REVOCATIONS,
          windowSeconds: e.BREAKER_WINDOW_SECONDS,
          sourceQueueArn: e.SOURCE_QUEUE_ARN,
        },
      }),
  };
};
