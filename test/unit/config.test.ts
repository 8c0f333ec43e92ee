import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { ConfigurationError } from '../../src/core/errors.js';

const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/revocations-dlq';

/** The variables the worker cannot start without. */
const required = (): Record<string, string | undefined> => ({
  AWS_REGION: 'us-east-1',
  AUDIT_EVENT_BUS_NAME: 'governance-audit',
  DEAD_LETTER_QUEUE_URL: DLQ_URL,
});

/** The ConfigurationError message `loadConfig` throws for `env`. */
const failureOf = (env: Record<string, string | undefined>): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected loadConfig to throw');
};

describe('loadConfig — defaults', () => {
  it('fills every optional variable with its default', () => {
    expect(loadConfig(required())).toEqual({
      region: 'us-east-1',
      auditEventBusName: 'governance-audit',
      auditEventSource: 'governance.datashare-revoker',
      deadLetterQueueUrl: DLQ_URL,
      idempotencyTableName: undefined,
      maxReceiveCount: 5,
      queueVisibilityTimeoutSeconds: 30,
      retryBackoffBaseSeconds: 30,
      dedupTtlSeconds: 86_400,
      clockSkewMarginSeconds: 30,
      staleAfterSeconds: 300,
      redshiftMaxConcurrency: 10,
      redshiftMaxAttempts: 6,
      redshiftRequestTimeoutMs: 5000,
      deadlineReserveMs: 3000,
      dryRun: false,
      allowBroadTargets: false,
      redshiftSharedPace: false,
      logLevel: 'info',
      functionName: 'datashare-revoker',
    });
  });

  it('reads every variable when set', () => {
    // Prepare
    const env = {
      ...required(),
      AWS_REGION: 'eu-west-1',
      AUDIT_EVENT_SOURCE: 'acme.revoker',
      IDEMPOTENCY_TABLE_NAME: 'revoker-idempotency',
      MAX_RECEIVE_COUNT: '8',
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: '180',
      RETRY_BACKOFF_BASE_SECONDS: '10',
      DEDUP_TTL_SECONDS: '3600',
      CLOCK_SKEW_MARGIN_SECONDS: '0',
      STALE_AFTER_SECONDS: '0',
      REDSHIFT_MAX_CONCURRENCY: '2',
      REDSHIFT_MAX_ATTEMPTS: '3',
      REDSHIFT_REQUEST_TIMEOUT_MS: '2500',
      DEADLINE_RESERVE_MS: '2000',
      DRY_RUN: 'true',
      ALLOW_BROAD_TARGETS: 'true',
      REDSHIFT_SHARED_PACE: 'true',
      ALLOWED_DATASHARES:
        'arn:aws:redshift:us-east-1:444455556666:datashare:, arn:aws-cn:redshift:cn-north-1:444455556666:datashare:7b2c2b8a-1d1c/sales',
      CONSUMER_ROLE_NAME: 'datashare-revoker-spoke',
      CONSUMER_ACCOUNTS: '222233334444, 333344445555',
      CONSUMER_ROLE_EXTERNAL_ID: 'governance-7',
      CONSUMER_ROLE_SESSION_SECONDS: '900',
      AWS_LAMBDA_FUNCTION_NAME: 'revoker-prod',
      WORKER_ROLE_ARN: 'arn:aws:iam::111122223333:role/revoker-prod',
      LOG_LEVEL: 'debug',
    };
    // Act
    const config = loadConfig(env);
    // Assess
    expect(config).toEqual({
      region: 'eu-west-1',
      auditEventBusName: 'governance-audit',
      auditEventSource: 'acme.revoker',
      deadLetterQueueUrl: DLQ_URL,
      idempotencyTableName: 'revoker-idempotency',
      maxReceiveCount: 8,
      queueVisibilityTimeoutSeconds: 180,
      retryBackoffBaseSeconds: 10,
      dedupTtlSeconds: 3600,
      clockSkewMarginSeconds: 0,
      staleAfterSeconds: 0,
      redshiftMaxConcurrency: 2,
      redshiftMaxAttempts: 3,
      redshiftRequestTimeoutMs: 2500,
      deadlineReserveMs: 2000,
      dryRun: true,
      allowBroadTargets: true,
      redshiftSharedPace: true,
      allowedDataShares: [
        'arn:aws:redshift:us-east-1:444455556666:datashare:',
        'arn:aws-cn:redshift:cn-north-1:444455556666:datashare:7b2c2b8a-1d1c/sales',
      ],
      logLevel: 'debug',
      consumerRole: {
        name: 'datashare-revoker-spoke',
        accounts: new Set(['222233334444', '333344445555']),
        externalId: 'governance-7',
        sessionSeconds: 900,
      },
      workerRoleArn: 'arn:aws:iam::111122223333:role/revoker-prod',
      functionName: 'revoker-prod',
    });
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
  ])('reads DRY_RUN=%s as %s', (value, dryRun) => {
    expect(loadConfig({ ...required(), DRY_RUN: value }).dryRun).toBe(dryRun);
  });

  it('ALLOWED_DATASHARES: refuses an entry that is not a datashare ARN prefix stopping at a boundary, naming the variable and the value', () => {
    for (const bad of [
      'arn:aws:redshift:',
      'arn:aws:redshift:us-east-1:444455556666:datashare:7b2c',
      'arn:aws:s3:::bucket',
      'arn:aws:redshift:us-east-1:444455556666:datashare:, *',
      ' , ',
    ]) {
      const message = failureOf({ ...required(), ALLOWED_DATASHARES: bad });
      expect(message).toContain(
        'ALLOWED_DATASHARES: expected comma-separated datashare ARN prefixes',
      );
      expect(message).toContain(`given ${JSON.stringify(bad)}`);
    }
    expect(
      loadConfig({
        ...required(),
        ALLOWED_DATASHARES:
          'arn:aws:redshift:us-east-1:444455556666:datashare:7b2c2b8a-1d1c-4c61-9b1a-2f0d4b3c5e6f/',
      }).allowedDataShares,
    ).toEqual([
      'arn:aws:redshift:us-east-1:444455556666:datashare:7b2c2b8a-1d1c-4c61-9b1a-2f0d4b3c5e6f/',
    ]);
  });

  it('accepts the bounds of a numeric range', () => {
    const config = loadConfig({
      ...required(),
      MAX_RECEIVE_COUNT: '1',
      DEDUP_TTL_SECONDS: '31536000',
    });
    expect(config.maxReceiveCount).toBe(1);
    expect(config.dedupTtlSeconds).toBe(31_536_000);
  });

  it('accepts an event bus ARN as the bus name', () => {
    const arn = 'arn:aws:events:us-east-1:123456789012:event-bus/governance-audit';
    expect(loadConfig({ ...required(), AUDIT_EVENT_BUS_NAME: arn }).auditEventBusName).toBe(arn);
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ ...required(), PATH: '/usr/bin', FOO: 'bar' })).not.toThrow();
  });

  it('lists every variable it reads, so documentation cannot drift from the schema', () => {
    expect(CONFIG_VARIABLES).toEqual([
      'AWS_REGION',
      'AUDIT_EVENT_BUS_NAME',
      'DEAD_LETTER_QUEUE_URL',
      'IDEMPOTENCY_TABLE_NAME',
      'AUDIT_EVENT_SOURCE',
      'MAX_RECEIVE_COUNT',
      'QUEUE_VISIBILITY_TIMEOUT_SECONDS',
      'RETRY_BACKOFF_BASE_SECONDS',
      'DEDUP_TTL_SECONDS',
      'CLOCK_SKEW_MARGIN_SECONDS',
      'STALE_AFTER_SECONDS',
      'REDSHIFT_MAX_CONCURRENCY',
      'REDSHIFT_MAX_ATTEMPTS',
      'REDSHIFT_REQUEST_TIMEOUT_MS',
      'REDSHIFT_SHARED_PACE',
      'DEADLINE_RESERVE_MS',
      'DRY_RUN',
      'ALLOW_BROAD_TARGETS',
      'ALLOWED_DATASHARES',
      'CONSUMER_ROLE_NAME',
      'CONSUMER_ACCOUNTS',
      'CONSUMER_ROLE_EXTERNAL_ID',
      'CONSUMER_ROLE_SESSION_SECONDS',
      'AWS_LAMBDA_FUNCTION_NAME',
      'WORKER_ROLE_ARN',
      'BREAKER_MAX_REVOCATIONS',
      'BREAKER_WINDOW_SECONDS',
      'SOURCE_QUEUE_ARN',
      'LOG_LEVEL',
    ]);
  });
});

describe('loadConfig — empty optional variables', () => {
  it.each([
    ['IDEMPOTENCY_TABLE_NAME', 'idempotencyTableName', undefined],
    ['AUDIT_EVENT_SOURCE', 'auditEventSource', 'governance.datashare-revoker'],
    ['MAX_RECEIVE_COUNT', 'maxReceiveCount', 5],
    ['QUEUE_VISIBILITY_TIMEOUT_SECONDS', 'queueVisibilityTimeoutSeconds', 30],
    ['DEDUP_TTL_SECONDS', 'dedupTtlSeconds', 86_400],
    ['CLOCK_SKEW_MARGIN_SECONDS', 'clockSkewMarginSeconds', 30],
    ['REDSHIFT_MAX_CONCURRENCY', 'redshiftMaxConcurrency', 10],
    ['REDSHIFT_MAX_ATTEMPTS', 'redshiftMaxAttempts', 6],
    ['REDSHIFT_REQUEST_TIMEOUT_MS', 'redshiftRequestTimeoutMs', 5000],
    ['DEADLINE_RESERVE_MS', 'deadlineReserveMs', 3000],
    ['DRY_RUN', 'dryRun', false],
    ['LOG_LEVEL', 'logLevel', 'info'],
  ])(
    'treats an empty %s as unset (CloudFormation renders an unset parameter as "")',
    (name, key, value) => {
      expect(loadConfig({ ...required(), [name]: '' })).toHaveProperty(key, value);
    },
  );
});

describe('loadConfig — bad values fail with the variable, the value given and what is expected', () => {
  it.each([
    ['AWS_REGION', 'US-EAST-1', 'an AWS region code such as us-east-1'],
    ['AWS_REGION', '', 'an AWS region code such as us-east-1'],
    [
      'DEAD_LETTER_QUEUE_URL',
      'revocations-dlq',
      'the URL of the dead-letter queue, https://sqs.<region>.amazonaws.com/<account>/<name>',
    ],
    ['IDEMPOTENCY_TABLE_NAME', 'ab', 'a DynamoDB table name (3 to 255 characters)'],
    ['IDEMPOTENCY_TABLE_NAME', 't'.repeat(256), 'a DynamoDB table name (3 to 255 characters)'],
    [
      'AUDIT_EVENT_SOURCE',
      'aws.revoker',
      'a source that does not begin with "aws." (EventBridge reserves it)',
    ],
    ['AUDIT_EVENT_SOURCE', 's'.repeat(257), 'a source of 1 to 256 characters'],
    ['MAX_RECEIVE_COUNT', '0', 'a whole number from 1 to 1000'],
    ['MAX_RECEIVE_COUNT', '1001', 'a whole number from 1 to 1000'],
    ['MAX_RECEIVE_COUNT', 'five', 'a whole number from 1 to 1000'],
    ['MAX_RECEIVE_COUNT', '5.5', 'a whole number from 1 to 1000'],
    ['MAX_RECEIVE_COUNT', '-1', 'a whole number from 1 to 1000'],
    ['MAX_RECEIVE_COUNT', ' 5', 'a whole number from 1 to 1000'],
    ['QUEUE_VISIBILITY_TIMEOUT_SECONDS', '43201', 'a whole number from 0 to 43200'],
    ['DEDUP_TTL_SECONDS', '59', 'a whole number from 60 to 31536000'],
    ['DEDUP_TTL_SECONDS', '99999999999999999999', 'a whole number from 60 to 31536000'],
    ['CLOCK_SKEW_MARGIN_SECONDS', '3601', 'a whole number from 0 to 3600'],
    ['REDSHIFT_MAX_CONCURRENCY', '101', 'a whole number from 1 to 100'],
    ['REDSHIFT_MAX_ATTEMPTS', '21', 'a whole number from 1 to 20'],
    ['REDSHIFT_REQUEST_TIMEOUT_MS', '99', 'a whole number from 100 to 120000'],
    ['DEADLINE_RESERVE_MS', '60001', 'a whole number from 2000 to 60000'],
    ['DEADLINE_RESERVE_MS', '1999', 'a whole number from 2000 to 60000'],
    ['DRY_RUN', 'yes', '"true" or "false"'],
    ['DRY_RUN', 'TRUE', '"true" or "false"'],
    ['LOG_LEVEL', 'verbose', 'one of fatal, error, warn, info, debug, trace, silent'],
  ])('rejects %s=%j', (name, value, expected) => {
    // Act
    const message = failureOf({ ...required(), [name]: value });
    // Assess
    expect(message).toBe(
      `Invalid configuration: ${name}: expected ${expected}; given ${JSON.stringify(value)}`,
    );
  });

  it.each([
    ['AWS_REGION', 'an AWS region code such as us-east-1'],
    ['AUDIT_EVENT_BUS_NAME', 'the name or ARN of the audit event bus'],
    [
      'DEAD_LETTER_QUEUE_URL',
      'the URL of the dead-letter queue, https://sqs.<region>.amazonaws.com/<account>/<name>',
    ],
  ])('rejects a missing %s, saying what it should be', (name, expected) => {
    const message = failureOf({ ...required(), [name]: undefined });
    expect(message).toBe(
      `Invalid configuration: ${name}: expected ${expected}; given nothing (unset)`,
    );
  });

  it('reports an empty required variable as unset', () => {
    expect(failureOf({ ...required(), AUDIT_EVENT_BUS_NAME: '' })).toBe(
      'Invalid configuration: AUDIT_EVENT_BUS_NAME: expected the name or ARN of the audit event bus; given nothing (unset)',
    );
  });

  it('names every problem at once, so one deployment fixes them all', () => {
    const message = failureOf({ MAX_RECEIVE_COUNT: 'x', LOG_LEVEL: 'loud' });
    for (const name of [
      'AWS_REGION',
      'AUDIT_EVENT_BUS_NAME',
      'DEAD_LETTER_QUEUE_URL',
      'MAX_RECEIVE_COUNT',
      'LOG_LEVEL',
    ]) {
      expect(message).toContain(`${name}: expected `);
    }
    expect(message.split('; given ')).toHaveLength(6);
  });

  it('states its own expectation for any value of any variable, never a generic one', () => {
    // A check without our text would say valibot's English default ("Invalid type: Expected ...").
    const expectations: Record<string, readonly string[]> = {
      AWS_REGION: ['an AWS region code such as us-east-1'],
      AUDIT_EVENT_BUS_NAME: ['the name or ARN of the audit event bus'],
      DEAD_LETTER_QUEUE_URL: [
        'the URL of the dead-letter queue, https://sqs.<region>.amazonaws.com/<account>/<name>',
      ],
      IDEMPOTENCY_TABLE_NAME: ['a DynamoDB table name (3 to 255 characters)'],
      AUDIT_EVENT_SOURCE: [
        'a source of 1 to 256 characters',
        'a source that does not begin with "aws." (EventBridge reserves it)',
      ],
      MAX_RECEIVE_COUNT: ['a whole number from 1 to 1000'],
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: ['a whole number from 0 to 43200'],
      RETRY_BACKOFF_BASE_SECONDS: ['a whole number from 1 to 900'],
      DEDUP_TTL_SECONDS: ['a whole number from 60 to 31536000'],
      CLOCK_SKEW_MARGIN_SECONDS: ['a whole number from 0 to 3600'],
      STALE_AFTER_SECONDS: ['a whole number from 0 to 31536000'],
      REDSHIFT_MAX_CONCURRENCY: ['a whole number from 1 to 100'],
      REDSHIFT_MAX_ATTEMPTS: ['a whole number from 1 to 20'],
      REDSHIFT_REQUEST_TIMEOUT_MS: ['a whole number from 100 to 120000'],
      REDSHIFT_SHARED_PACE: ['"true" or "false"'],
      DEADLINE_RESERVE_MS: ['a whole number from 2000 to 60000'],
      DRY_RUN: ['"true" or "false"'],
      ALLOW_BROAD_TARGETS: ['"true" or "false"'],
      ALLOWED_DATASHARES: [
        'comma-separated datashare ARN prefixes, each arn:<partition>:redshift:<region>:<producer account>:datashare: optionally followed by <producer namespace>/ and a name prefix',
      ],
      CONSUMER_ROLE_NAME: [
        'an IAM role name (1 to 64 of letters, digits and +=,.@_-)',
        "the consumer role's name when CONSUMER_ACCOUNTS is set (single-account mode acts in its own account only)",
      ],
      CONSUMER_ACCOUNTS: [
        '"*" or comma-separated 12-digit AWS account ids',
        '"*" or comma-separated 12-digit AWS account ids when CONSUMER_ROLE_NAME is set (hub mode)',
      ],
      CONSUMER_ROLE_EXTERNAL_ID: ['an external id (2 to 1224 of letters, digits and +=,.@:/_-)'],
      CONSUMER_ROLE_SESSION_SECONDS: ['a whole number from 900 to 3600'],
      AWS_LAMBDA_FUNCTION_NAME: ['a function name'],
      WORKER_ROLE_ARN: [
        "the ARN of the function's own role, arn:<partition>:iam::<account>:role/<name>",
      ],
      BREAKER_MAX_REVOCATIONS: [
        'a whole number from 1 to 5000',
        'a whole number from 1 to 5000 when BREAKER_WINDOW_SECONDS is set (unset both to turn the breaker off)',
      ],
      BREAKER_WINDOW_SECONDS: [
        'a whole number from 1 to 86400',
        'a whole number from 1 to 86400 when BREAKER_MAX_REVOCATIONS is set',
      ],
      SOURCE_QUEUE_ARN: [
        'an SQS queue ARN, arn:<partition>:sqs:<region>:<account>:<name>',
        "the source queue's ARN when BREAKER_MAX_REVOCATIONS is set (the breaker disables the function's event source mapping on it)",
      ],
      LOG_LEVEL: ['one of fatal, error, warn, info, debug, trace, silent'],
    };
    expect(Object.keys(expectations)).toEqual(CONFIG_VARIABLES);
    const value = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.stringMatching(/^-?\d{1,22}(\.\d{1,3})?$/),
      fc.constantFrom('aws.x', 'https://', 'http://x', 'True', ' 1', '1e3', '0x10'),
    );
    fc.assert(
      fc.property(fc.constantFrom(...CONFIG_VARIABLES), value, (name, given) => {
        // The hub's two variables come as a pair: each is checked with a valid partner.
        const partner: Record<string, Record<string, string>> = {
          CONSUMER_ROLE_NAME: { CONSUMER_ACCOUNTS: '*' },
          CONSUMER_ACCOUNTS: { CONSUMER_ROLE_NAME: 'spoke' },
          BREAKER_MAX_REVOCATIONS: { BREAKER_WINDOW_SECONDS: '60', SOURCE_QUEUE_ARN: QUEUE_ARN },
          BREAKER_WINDOW_SECONDS: { BREAKER_MAX_REVOCATIONS: '10', SOURCE_QUEUE_ARN: QUEUE_ARN },
        };
        const env = { ...required(), ...partner[name], [name]: given };
        let message: string;
        try {
          loadConfig(env);
          return;
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigurationError);
          message = (error as Error).message;
        }
        const shown =
          given === '' && name !== 'AWS_REGION' ? 'nothing (unset)' : JSON.stringify(given);
        expect(
          expectations[name]?.map(
            (expected) => `Invalid configuration: ${name}: expected ${expected}; given ${shown}`,
          ),
        ).toContain(message);
      }),
    );
  });
});

describe('loadConfig — hub and spoke', () => {
  it('is single-account mode when CONSUMER_ROLE_NAME is unset', () => {
    expect(loadConfig(required()).consumerRole).toBeUndefined();
  });

  it('reads CONSUMER_ACCOUNTS=* as any account, given explicitly', () => {
    const config = loadConfig({
      ...required(),
      CONSUMER_ROLE_NAME: 'spoke',
      CONSUMER_ACCOUNTS: '*',
    });
    expect(config.consumerRole).toEqual({ name: 'spoke', accounts: '*', sessionSeconds: 3600 });
  });

  it('fails closed: CONSUMER_ROLE_NAME without CONSUMER_ACCOUNTS fails the cold start, naming the variable', () => {
    expect(() => loadConfig({ ...required(), CONSUMER_ROLE_NAME: 'spoke' })).toThrow(
      'CONSUMER_ACCOUNTS: expected "*" or comma-separated 12-digit AWS account ids when CONSUMER_ROLE_NAME is set (hub mode); given nothing (unset)',
    );
  });

  it('refuses an account list without a role to act with', () => {
    expect(() => loadConfig({ ...required(), CONSUMER_ACCOUNTS: '222233334444' })).toThrow(
      /CONSUMER_ROLE_NAME: expected the consumer role's name/,
    );
  });

  it.each(['22223333444', '222233334444,', '*,222233334444', 'all'])(
    'rejects CONSUMER_ACCOUNTS=%s',
    (accounts) => {
      expect(() =>
        loadConfig({ ...required(), CONSUMER_ROLE_NAME: 'spoke', CONSUMER_ACCOUNTS: accounts }),
      ).toThrow(
        `CONSUMER_ACCOUNTS: expected "*" or comma-separated 12-digit AWS account ids; given ${JSON.stringify(accounts)}`,
      );
    },
  );
});

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:111122223333:revocations';

describe('loadConfig — the breaker (BREAKER_MAX_REVOCATIONS, BREAKER_WINDOW_SECONDS, SOURCE_QUEUE_ARN)', () => {
  it('is off when unset', () => {
    expect(loadConfig(required()).breaker).toBeUndefined();
  });

  it('reads the limit, the window and the source queue', () => {
    const config = loadConfig({
      ...required(),
      BREAKER_MAX_REVOCATIONS: '50',
      BREAKER_WINDOW_SECONDS: '600',
      SOURCE_QUEUE_ARN: QUEUE_ARN,
    });
    expect(config.breaker).toEqual({
      maxRevocations: 50,
      windowSeconds: 600,
      sourceQueueArn: QUEUE_ARN,
    });
  });

  it('fails closed when the limit comes without its window or its queue, or the window alone', () => {
    expect(() =>
      loadConfig({ ...required(), BREAKER_MAX_REVOCATIONS: '5', SOURCE_QUEUE_ARN: QUEUE_ARN }),
    ).toThrow(
      'BREAKER_WINDOW_SECONDS: expected a whole number from 1 to 86400 when BREAKER_MAX_REVOCATIONS is set; given nothing (unset)',
    );
    expect(() =>
      loadConfig({ ...required(), BREAKER_MAX_REVOCATIONS: '5', BREAKER_WINDOW_SECONDS: '60' }),
    ).toThrow(
      "SOURCE_QUEUE_ARN: expected the source queue's ARN when BREAKER_MAX_REVOCATIONS is set",
    );
    expect(() => loadConfig({ ...required(), BREAKER_WINDOW_SECONDS: '60' })).toThrow(
      'BREAKER_MAX_REVOCATIONS: expected a whole number from 1 to 5000 when BREAKER_WINDOW_SECONDS is set',
    );
    expect(() =>
      loadConfig({
        ...required(),
        BREAKER_MAX_REVOCATIONS: '5001',
        BREAKER_WINDOW_SECONDS: '60',
        SOURCE_QUEUE_ARN: QUEUE_ARN,
      }),
    ).toThrow('BREAKER_MAX_REVOCATIONS: expected a whole number from 1 to 5000; given "5001"');
  });
});
