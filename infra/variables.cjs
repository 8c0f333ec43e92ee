'use strict';
/**
 * Values that Serverless variables and CloudFormation cannot compute: arithmetic, list splitting,
 * JSON parsing and ARN normalisation. Each one reads the same `params:` as serverless.yml, so a
 * parameter has one source of truth. Referenced as `${file(infra/variables.cjs):<name>}`.
 *
 * Why a resolver file: CloudFormation has no arithmetic (Fn::Sub/Fn::Join only concatenate) and
 * Serverless variables only substitute. A CloudFormation macro or custom resource could compute at
 * deploy time, but needs a Lambda of its own and is invisible to `osls package`; this file runs at
 * package time, works offline, and is supported by the `file` source of both v3 (osls) and v4.
 *
 * `--param` values arrive as strings; every reader here validates and coerces, and fails naming
 * the parameter, what was given and what was expected.
 */

const fail = (name, given, expected) => {
  const error = new Error(`Invalid parameter '${name}': ${expected}, '${given}' given.`);
  error.stack = error.message; // the framework prints the stack: the message is what matters
  throw error;
};

const param = async (resolveVariable, name) => {
  const value = await resolveVariable(`param:${name}`);
  return value == null ? '' : value;
};

const integerParam = async (resolveVariable, name, min, max) => {
  const raw = await param(resolveVariable, name);
  const value = Number(raw);
  if (String(raw).trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, raw, `expected an integer between ${min} and ${max}`);
  }
  return value;
};

/** Splits a comma-separated parameter into trimmed, non-empty items. */
const listParam = async (resolveVariable, name) =>
  String(await param(resolveVariable, name))
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const PRINCIPAL = /^(\d{12}|arn:aws[a-z-]*:(iam|sts)::\d{12}:[!-~]+)$/;
// Wildcards and the Fn::Sub pseudo parameters are allowed in the partition, region and account.
const DATASHARE_ARN =
  /^arn:(aws[a-z-]*|\$\{AWS::Partition\}):redshift:([a-z0-9-*]*|\$\{AWS::Region\}):([0-9*]*|\$\{AWS::AccountId\}):datashare:[!-~]+$/;
const EVENT_BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/([.\-_A-Za-z0-9]+)$/;
const EVENT_BUS_NAME = /^[.\-_A-Za-z0-9]{1,256}$/;
// IAM role names: 1-64 of [\w+=,.@-] (IAM API reference, CreateRole RoleName). No path: the worker
// builds arn:<partition>:iam::<account>:role/<name>.
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCOUNT_ID = /^\d{12}$/;
// STS AssumeRole ExternalId: 2-1224 characters of [\w+=,.@:/-] (STS API reference).
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/** `consumerRoleName`, validated; '' when unset (single-account mode). */
const consumerRoleName = async (resolveVariable) => {
  const given = String(await param(resolveVariable, 'consumerRoleName')).trim();
  if (given !== '' && !ROLE_NAME.test(given)) {
    fail(
      'consumerRoleName',
      given,
      'expected an IAM role name (1-64 characters of [A-Za-z0-9+=,.@_-])',
    );
  }
  return given;
};

/**
 * `consumerAccounts` as a list: 12-digit account ids, or ['*'] for any account. Empty when
 * `consumerRoleName` is unset; required when it is set.
 */
const consumerAccounts = async (resolveVariable) => {
  const roleName = await consumerRoleName(resolveVariable);
  const raw = String(await param(resolveVariable, 'consumerAccounts')).trim();
  const accounts = [...new Set(await listParam(resolveVariable, 'consumerAccounts'))];
  if (roleName === '') {
    if (accounts.length > 0) {
      fail('consumerAccounts', raw, "expected no accounts while 'consumerRoleName' is unset");
    }
    return [];
  }
  const expected = "expected comma-separated 12-digit account ids, or '*' for any account";
  if (accounts.length === 0)
    fail('consumerAccounts', raw, `${expected} when 'consumerRoleName' is set`);
  if (accounts.includes('*') && accounts.length > 1) {
    fail('consumerAccounts', raw, `${expected}; '*' stands alone`);
  }
  for (const account of accounts) {
    if (account !== '*' && !ACCOUNT_ID.test(account)) fail('consumerAccounts', account, expected);
  }
  return accounts;
};

/** An optional param that only means something with `consumerRoleName` set. */
const consumerRoleOption = async (resolveVariable, name) => {
  const given = String(await param(resolveVariable, name)).trim();
  if (given !== '' && (await consumerRoleName(resolveVariable)) === '') {
    fail(name, given, "expected no value while 'consumerRoleName' is unset");
  }
  return given;
};

module.exports = {
  /** CONSUMER_ROLE_NAME: the spoke role's name in every consumer account; '' in single-account mode. */
  consumerRoleName: async ({ resolveVariable }) => consumerRoleName(resolveVariable),

  /** CONSUMER_ACCOUNTS: the accounts whose spoke role the worker may assume ('*': any); '' when unset. */
  consumerAccounts: async ({ resolveVariable }) =>
    (await consumerAccounts(resolveVariable)).join(','),

  /** CONSUMER_ROLE_EXTERNAL_ID: the sts:ExternalId the spoke roles' trust policy requires; may be ''. */
  consumerRoleExternalId: async ({ resolveVariable }) => {
    const given = await consumerRoleOption(resolveVariable, 'consumerRoleExternalId');
    if (given !== '' && !EXTERNAL_ID.test(given)) {
      fail(
        'consumerRoleExternalId',
        given,
        'expected 2-1224 characters of [A-Za-z0-9+=,.@:/_-] (an STS external id)',
      );
    }
    return given;
  },

  /**
   * CONSUMER_ROLE_SESSION_SECONDS: '' in single-account mode. STS accepts 900 up to the role's
   * MaxSessionDuration, which is 3600 unless the role raises it (infra/consumer-role.yml does not).
   */
  consumerRoleSessionSeconds: async ({ resolveVariable }) => {
    if ((await consumerRoleName(resolveVariable)) === '') return '';
    return String(await integerParam(resolveVariable, 'consumerRoleSessionSeconds', 900, 3600));
  },

  /**
   * The function's statements: infra/iam.yml, plus sts:AssumeRole on exactly the spoke role in each
   * of `consumerAccounts` when `consumerRoleName` is set (no statement at all otherwise). The
   * framework's schema wants every statement to be a plain object, so a CloudFormation Fn::If
   * cannot switch the statement off; this resolver leaves it out instead.
   */
  roleStatements: async ({ resolveVariable }) => {
    const statements = await resolveVariable('file(infra/iam.yml):statements');
    const roleName = await consumerRoleName(resolveVariable);
    const accounts = await consumerAccounts(resolveVariable);
    if (roleName === '') return statements;
    return [
      ...statements,
      {
        Sid: 'AssumeConsumerAccountRoles',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: accounts.map((account) => ({
          'Fn::Sub': `arn:\${AWS::Partition}:iam::${account}:role/${roleName}`,
        })),
      },
    ];
  },

  /** `intakeEnabled` as the string 'true' or 'false', for Fn::Equals (YAML and `--param` differ). */
  intakeEnabled: async ({ resolveVariable }) => {
    const given = String(await param(resolveVariable, 'intakeEnabled'))
      .trim()
      .toLowerCase();
    if (given !== 'true' && given !== 'false') {
      fail('intakeEnabled', given, 'expected true or false');
    }
    return given;
  },

  /**
   * The source queue's visibility timeout: 6 × the function timeout + the batching window, as the
   * Lambda developer guide advises for SQS event sources ("Configuring a queue to use with Lambda"),
   * so a message is not redelivered while a retried invocation may still hold it.
   */
  visibilityTimeout: async ({ resolveVariable }) => {
    const timeout = await integerParam(resolveVariable, 'timeout', 1, 900);
    const window = await integerParam(resolveVariable, 'maximumBatchingWindow', 0, 300);
    // SQS caps VisibilityTimeout at 12 hours; 6 × 900 + 300 stays below it.
    return 6 * timeout + window;
  },

  /** Receives before SQS redrives to the DLQ: the redrive policy and MAX_RECEIVE_COUNT share it. */
  maxReceiveCount: async ({ resolveVariable }) =>
    integerParam(resolveVariable, 'maxReceiveCount', 1, 1000),

  /** Datashare ARN patterns for DisassociateDataShareConsumer; `${AWS::...}` is left to Fn::Sub. */
  datashareArnPatterns: async ({ resolveVariable }) => {
    const patterns = await listParam(resolveVariable, 'datashareArnPatterns');
    if (patterns.length === 0) {
      fail('datashareArnPatterns', '', 'expected at least one datashare ARN pattern');
    }
    for (const pattern of patterns) {
      if (!DATASHARE_ARN.test(pattern)) {
        fail(
          'datashareArnPatterns',
          pattern,
          'expected arn:<partition>:redshift:<region>:<account>:datashare:<namespace>/<name> (wildcards allowed)',
        );
      }
    }
    return patterns.map((pattern) => ({ 'Fn::Sub': pattern }));
  },

  /** IAM principals (ARNs or account ids) allowed to SendMessage to the source queue; may be empty. */
  producerPrincipalArns: async ({ resolveVariable }) => {
    const principals = await listParam(resolveVariable, 'producerPrincipalArns');
    for (const principal of principals) {
      if (!PRINCIPAL.test(principal)) {
        fail(
          'producerPrincipalArns',
          principal,
          'expected an IAM principal ARN or a 12-digit account id',
        );
      }
    }
    return principals;
  },

  /** The existing audit bus, given by name or ARN, as a name (PutEvents and rules take either). */
  existingAuditEventBusName: async ({ resolveVariable }) => {
    const given = String(await param(resolveVariable, 'existingAuditEventBus')).trim();
    if (given === '') return '';
    const fromArn = EVENT_BUS_ARN.exec(given);
    if (fromArn) return fromArn[1];
    if (!EVENT_BUS_NAME.test(given) || given.startsWith('arn:')) {
      fail(
        'existingAuditEventBus',
        given,
        'expected an event bus name or arn:<partition>:events:<region>:<account>:event-bus/<name>',
      );
    }
    return given;
  },

  /** The existing audit bus's ARN: as given, or built from its name in this account and region. */
  existingAuditEventBusArn: async ({ resolveVariable }) => {
    const given = String(await param(resolveVariable, 'existingAuditEventBus')).trim();
    if (given === '' || EVENT_BUS_ARN.test(given)) return given;
    return {
      'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${given}`,
    };
  },

  /** The intake rule's event pattern: a JSON object (given as a JSON string on the command line). */
  intakeEventPattern: async ({ resolveVariable }) => {
    const given = await param(resolveVariable, 'intakeEventPattern');
    if (typeof given === 'object') return given;
    let pattern;
    try {
      pattern = JSON.parse(given);
    } catch {
      fail('intakeEventPattern', given, 'expected an EventBridge event pattern as a JSON object');
    }
    if (
      pattern === null ||
      typeof pattern !== 'object' ||
      Array.isArray(pattern) ||
      Object.keys(pattern).length === 0
    ) {
      fail(
        'intakeEventPattern',
        given,
        'expected a non-empty EventBridge event pattern JSON object',
      );
    }
    return pattern;
  },
};
