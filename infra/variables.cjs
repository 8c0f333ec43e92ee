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

/** A boolean parameter as the string 'true' or 'false' (YAML gives booleans, `--param` strings). */
const booleanParam = async (resolveVariable, name) => {
  const given = String(await param(resolveVariable, name))
    .trim()
    .toLowerCase();
  if (given !== 'true' && given !== 'false') fail(name, given, 'expected true or false');
  return given;
};

/** An optional integer parameter: null when empty, else validated like integerParam. */
const optionalIntegerParam = async (resolveVariable, name, min, max) => {
  const raw = await param(resolveVariable, name);
  if (raw === null || String(raw).trim() === '' || raw === 'null') return null;
  return integerParam(resolveVariable, name, min, max);
};

// SQS keeps a message 60 s up to 14 days (MessageRetentionPeriod); the DLQ keeps the maximum, so
// that a redriven message, which keeps its original enqueue time, never expires there first.
const DEAD_LETTER_RETENTION_SECONDS = 1_209_600;
const BREAKER_MAX_REVOCATIONS_LIMIT = 5000;

/** Whether the breaker is on: its held decisions go back to the source queue as the function. */
const breakerOn = async (resolveVariable) =>
  (await optionalIntegerParam(
    resolveVariable,
    'breakerMaxRevocations',
    1,
    BREAKER_MAX_REVOCATIONS_LIMIT,
  )) !== null;

/** CloudFormation's "leave this property out". */
const NO_VALUE = { Ref: 'AWS::NoValue' };
// AWS::KMS::Key ARNs (single- or multi-Region keys); log groups take a key ARN, not an alias.
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
// A datashare ARN prefix for ALLOWED_DATASHARES, as the worker's config accepts it (src/core/arn.ts,
// DATASHARE_ARN_PREFIX_PATTERN): up to `:datashare:`, then optionally `<namespace>/<name prefix>`.
// Checked here too, so a value the worker would refuse at cold start fails the deploy instead.
const DATASHARE_PREFIX =
  /^arn:aws[a-z-]*:redshift:[a-z]{2}(?:-[a-z]+)+-\d{1,2}:\d{12}:datashare:(?:[A-Za-z0-9-]{1,64}\/[A-Za-z0-9_.$-]{0,127})?$/;

/** `kmsKey`: 'none' (empty), 'create' (a key made by this stack) or 'existing' (a key ARN). */
const kmsKeyMode = async (resolveVariable) => {
  const given = String(await param(resolveVariable, 'kmsKey')).trim();
  if (given === '') return 'none';
  if (given === 'create') return 'create';
  if (KMS_KEY_ARN.test(given)) return 'existing';
  return fail(
    'kmsKey',
    given,
    "expected empty (AWS-managed encryption), 'create', or a KMS key ARN arn:<partition>:kms:<region>:<account>:key/<id>",
  );
};

/** Producer principals split into IAM ARNs and account ids (policies match them differently). */
const producerPrincipals = async (resolveVariable) => {
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
};

/** Operator roles that may put DLQ messages back on the source queue (`revoker replay`, redrive). */
const replayPrincipals = async (resolveVariable) => {
  const principals = await listParam(resolveVariable, 'replayPrincipalArns');
  for (const principal of principals) {
    if (!/^arn:aws[a-z-]*:(iam|sts)::\d{12}:[!-~]+$/.test(principal)) {
      fail('replayPrincipalArns', principal, 'expected an IAM role or user ARN');
    }
  }
  return principals;
};

/** The EventBridge metric dimensions of a rule: RuleName alone on the default bus (AWS/Events). */
const ruleDimensions = (busName, ruleName) =>
  busName === 'default'
    ? [{ Name: 'RuleName', Value: ruleName }]
    : [
        { Name: 'EventBusName', Value: busName },
        { Name: 'RuleName', Value: ruleName },
      ];

/** A bus given by name or ARN, as its name. */
const busNameOf = (given) => EVENT_BUS_ARN.exec(given)?.[1] ?? given;

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
    const kms = await kmsKeyMode(resolveVariable);
    return [
      ...statements,
      // The breaker's hold: held decisions go back to the source queue as new messages.
      ...((await breakerOn(resolveVariable))
        ? [
            {
              Sid: 'RequeueHeldDecisions',
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': ['SourceQueue', 'Arn'] },
            },
          ]
        : []),
      ...(roleName === ''
        ? []
        : [
            {
              Sid: 'AssumeConsumerAccountRoles',
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Resource: accounts.map((account) => ({
                'Fn::Sub': `arn:\${AWS::Partition}:iam::${account}:role/${roleName}`,
              })),
            },
          ]),
      // With a customer-managed key, SQS (receive, DLQ copies) and DynamoDB use it on the
      // function's behalf; kms:ViaService keeps the role from using the key directly.
      ...(kms === 'none'
        ? []
        : [
            {
              Sid: 'UseKeyThroughSqsAndDynamoDb',
              Effect: 'Allow',
              Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
              Resource:
                kms === 'create'
                  ? { 'Fn::GetAtt': ['KmsKey', 'Arn'] }
                  : String(await param(resolveVariable, 'kmsKey')).trim(),
              Condition: {
                StringEquals: {
                  'kms:ViaService': [
                    { 'Fn::Sub': `sqs.\${AWS::Region}.amazonaws.com` },
                    { 'Fn::Sub': `dynamodb.\${AWS::Region}.amazonaws.com` },
                  ],
                },
              },
            },
          ]),
    ];
  },

  /** `intakeEnabled` as the string 'true' or 'false', for Fn::Equals (YAML and `--param` differ). */
  intakeEnabled: async ({ resolveVariable }) => booleanParam(resolveVariable, 'intakeEnabled'),

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
      fail(
        'datashareArnPatterns',
        '',
        'expected at least one datashare ARN pattern (there is no default: name the datashares the worker may revoke consumers from, --param="datashareArnPatterns=arn:aws:redshift:<region>:<producer account>:datashare:<namespace>/<name>")',
      );
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
  producerPrincipalArns: async ({ resolveVariable }) => producerPrincipals(resolveVariable),

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

  // ── Guardrails (issue 11) ──────────────────────────────────────────────────────────────────

  /**
   * The function's reserved concurrency, or null for none. It must be at least the event source's
   * `maximumConcurrency`: with less, the event source starts invocations that Lambda throttles, and
   * the throttled messages come back with a receive burned (Lambda developer guide, "Configuring
   * maximum concurrency for Amazon SQS event sources").
   */
  reservedConcurrency: async ({ resolveVariable }) => {
    const reserved = await optionalIntegerParam(resolveVariable, 'reservedConcurrency', 0, 10_000);
    if (reserved === null) return null;
    const maximum = await integerParam(resolveVariable, 'maximumConcurrency', 2, 1000);
    if (reserved < maximum) {
      fail(
        'reservedConcurrency',
        reserved,
        `expected an integer at least maximumConcurrency (${maximum}), or no value`,
      );
    }
    return reserved;
  },

  /** STALE_AFTER_SECONDS: decisions older than this are checked against newer grants. */
  staleAfterSeconds: async ({ resolveVariable }) =>
    String(await integerParam(resolveVariable, 'staleAfterSeconds', 0, 31_536_000)),

  /** ALLOW_BROAD_TARGETS: 'true' lets region- and account-wide requests through. */
  allowBroadTargets: async ({ resolveVariable }) =>
    booleanParam(resolveVariable, 'allowBroadTargets'),

  /** ALLOWED_DATASHARES: comma-separated datashare ARN prefixes; '' when unset. */
  allowedDatashares: async ({ resolveVariable }) => {
    const prefixes = [...new Set(await listParam(resolveVariable, 'allowedDatashares'))];
    for (const prefix of prefixes) {
      if (!DATASHARE_PREFIX.test(prefix)) {
        fail(
          'allowedDatashares',
          prefix,
          'expected datashare ARN prefixes, each arn:<partition>:redshift:<region>:<producer account>:datashare: optionally followed by <producer namespace>/ and a name prefix',
        );
      }
    }
    return prefixes.join(',');
  },

  /**
   * BREAKER_MAX_REVOCATIONS: '' (breaker off) or 1-5000, the bound the worker's config applies
   * (the window's reservations live in one DynamoDB item, src/core/breaker.ts).
   */
  breakerMaxRevocations: async ({ resolveVariable }) => {
    const max = await optionalIntegerParam(
      resolveVariable,
      'breakerMaxRevocations',
      1,
      BREAKER_MAX_REVOCATIONS_LIMIT,
    );
    return max === null ? '' : String(max);
  },

  /** BREAKER_WINDOW_SECONDS: required with breakerMaxRevocations, refused without it. */
  breakerWindowSeconds: async ({ resolveVariable }) => {
    const max = await optionalIntegerParam(
      resolveVariable,
      'breakerMaxRevocations',
      1,
      BREAKER_MAX_REVOCATIONS_LIMIT,
    );
    const window = await optionalIntegerParam(resolveVariable, 'breakerWindowSeconds', 1, 86_400);
    if (max === null && window !== null) {
      fail(
        'breakerWindowSeconds',
        window,
        "expected no value while 'breakerMaxRevocations' is unset",
      );
    }
    if (max !== null && window === null) {
      fail(
        'breakerWindowSeconds',
        '',
        "expected an integer between 1 and 86400 when 'breakerMaxRevocations' is set",
      );
    }
    return window === null ? '' : String(window);
  },

  /** The source queue's retention: explicit, and below the DLQ's 14 days. */
  sourceQueueRetentionSeconds: async ({ resolveVariable }) =>
    integerParam(
      resolveVariable,
      'sourceQueueRetentionSeconds',
      60,
      DEAD_LETTER_RETENTION_SECONDS - 1,
    ),

  /** The DLQ's retention (SQS's maximum): the source queue's must stay below it. */
  deadLetterRetentionSeconds: async () => DEAD_LETTER_RETENTION_SECONDS,

  /** Alarm when the oldest DLQ message is older than this: before the DLQ's retention drops it. */
  deadLetterAgeAlarmSeconds: async ({ resolveVariable }) =>
    integerParam(
      resolveVariable,
      'deadLetterAgeAlarmSeconds',
      60,
      DEAD_LETTER_RETENTION_SECONDS - 1,
    ),

  /** The duration alarm's threshold: 90% of the function timeout, in milliseconds. */
  durationAlarmThresholdMs: async ({ resolveVariable }) =>
    (await integerParam(resolveVariable, 'timeout', 1, 900)) * 900,

  /** `kmsKey` as 'none', 'create' or 'existing', for the template's conditions. */
  kmsKeyMode: async ({ resolveVariable }) => kmsKeyMode(resolveVariable),

  /**
   * The key for a resource's key property: the created key, the given one, or AWS::NoValue (the
   * property left out: AWS-managed encryption). Decided here, at package time, rather than with an
   * Fn::If whose unused branch would have to hold a placeholder.
   */
  kmsKeyId: async ({ resolveVariable }) => {
    const mode = await kmsKeyMode(resolveVariable);
    if (mode === 'none') return NO_VALUE;
    if (mode === 'create') return { 'Fn::GetAtt': ['KmsKey', 'Arn'] };
    return String(await param(resolveVariable, 'kmsKey')).trim();
  },

  /** SqsManagedSseEnabled: true without a customer key; left out with one (they exclude each other). */
  sqsManagedSse: async ({ resolveVariable }) =>
    (await kmsKeyMode(resolveVariable)) === 'none' ? true : NO_VALUE,

  /** The table's SSEType: KMS with a customer key; left out (the aws/dynamodb key) without. */
  dynamoDbSseType: async ({ resolveVariable }) =>
    (await kmsKeyMode(resolveVariable)) === 'none' ? NO_VALUE : 'KMS',

  /** `auditLogResourcePolicy` as 'true' or 'false'. */
  auditLogResourcePolicy: async ({ resolveVariable }) =>
    booleanParam(resolveVariable, 'auditLogResourcePolicy'),

  /**
   * The audit rule waits for the log group's resource policy when this stack creates one. A
   * DependsOn naming a resource whose condition is false fails the deploy, so it is computed;
   * without the policy, the log group (a dependency the target's Fn::Sub makes anyway).
   */
  auditLogRuleDependsOn: async ({ resolveVariable }) =>
    (await booleanParam(resolveVariable, 'auditLogResourcePolicy')) === 'true'
      ? ['AuditLogGroupResourcePolicy']
      : ['AuditLogGroup'],

  /**
   * The source queue policy's deny: sqs:SendMessage (which also authorizes SendMessageBatch) by any
   * principal other than the producers, the replay operators and the intake rule. Only
   * SendMessage: administrators keep every other action on the queue. Conditions of one statement
   * must all hold for the deny to apply; a negated operator holds when its key is absent, so the
   * rule's delivery (a service principal: no aws:PrincipalArn) is spared by aws:SourceArn alone.
   */
  sourceQueueSendDeny: async ({ resolveVariable }) => {
    const producers = await producerPrincipals(resolveVariable);
    const replayers = await replayPrincipals(resolveVariable);
    const intake = (await booleanParam(resolveVariable, 'intakeEnabled')) === 'true';
    // With the breaker on, the function sends the decisions it held back to this queue as new
    // messages (README, Guardrails: held, not burned), so its own role is spared too.
    const worker = (await breakerOn(resolveVariable))
      ? [{ 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] }]
      : [];
    const arns = [...producers.filter((p) => !ACCOUNT_ID.test(p)), ...replayers, ...worker];
    const accounts = producers.filter((p) => ACCOUNT_ID.test(p));
    const condition = {
      ...(arns.length > 0 && { ArnNotLike: { 'aws:PrincipalArn': arns } }),
      ...(accounts.length > 0 && { StringNotEquals: { 'aws:PrincipalAccount': accounts } }),
      ...(intake && { ArnNotEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['IntakeRule', 'Arn'] } } }),
    };
    return {
      Sid: 'DenySendExceptProducersReplayersAndIntake',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': ['SourceQueue', 'Arn'] },
      ...(Object.keys(condition).length > 0 && { Condition: condition }),
    };
  },

  /** The rules whose failed deliveries the rule DLQ receives: the audit rule, and intake's. */
  ruleDeadLetterSources: async ({ resolveVariable }) => [
    { 'Fn::GetAtt': ['AuditLogRule', 'Arn'] },
    ...((await booleanParam(resolveVariable, 'intakeEnabled')) === 'true'
      ? [{ 'Fn::GetAtt': ['IntakeRule', 'Arn'] }]
      : []),
  ],

  /** AWS/Events dimensions of the audit rule's metrics (the bus created here is never `default`). */
  auditLogRuleDimensions: async ({ resolveVariable }) => {
    const service = await resolveVariable('self:service');
    const stage = await resolveVariable('sls:stage');
    const existing = String(await param(resolveVariable, 'existingAuditEventBus')).trim();
    const bus = existing === '' ? `${service}-${stage}-audit` : busNameOf(existing);
    return ruleDimensions(bus, `${service}-${stage}-audit-to-logs`);
  },

  /** AWS/Events dimensions of the intake rule's metrics. */
  intakeRuleDimensions: async ({ resolveVariable }) => {
    const service = await resolveVariable('self:service');
    const stage = await resolveVariable('sls:stage');
    const bus = busNameOf(String(await param(resolveVariable, 'intakeEventBusName')).trim());
    return ruleDimensions(bus, `${service}-${stage}-intake`);
  },
};
