import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  asList,
  cfn,
  conditionHolds,
  effectiveTemplate,
  getAtt,
  type Json,
  type PolicyStatement,
  propertyOf,
  queuePolicyStatements,
  ref,
  resourceOf,
  resourcesOfType,
  roleStatements,
  type Template,
} from './cloudformation.js';
import { type PackagedService, packageService, REPO_ROOT } from './package-service.js';

// Three `osls package` runs, in parallel, once for the whole file: the defaults (and the one
// required param) with the real src/handler.ts; every optional feature switched on with
// non-default numbers and a probe handler that imports what the worker imports (see
// fixtures/probe-handler.ts); and multi-account mode with any account ('*') and an existing KMS key,
// the variants the custom run cannot show at the same time. Two more runs must fail.
const STAGE = 'ci';
/** datashareArnPatterns has no default: every run gives it. */
const DATASHARES = `arn:${cfn('AWS::Partition')}:redshift:*:*:datashare:*/*`;
const DEFAULT_PARAMS = { datashareArnPatterns: DATASHARES };
const CUSTOM_PARAMS = {
  memorySize: '1024',
  timeout: '60',
  maximumBatchingWindow: '5',
  batchSize: '20',
  maximumConcurrency: '7',
  maxReceiveCount: '8',
  reservedConcurrency: '10',
  dryRun: 'true',
  logLevel: 'debug',
  datashareArnPatterns:
    `arn:${cfn('AWS::Partition')}:redshift:us-east-1:123456789012:datashare:*/sales*, ` +
    'arn:aws:redshift:eu-west-1:123456789012:datashare:ns-1/hr',
  existingAuditEventBus: 'arn:aws:events:us-east-1:123456789012:event-bus/governance-audit',
  auditArchiveRetentionDays: '30',
  producerPrincipalArns: 'arn:aws:iam::111122223333:role/policy-engine,444455556666',
  intakeEnabled: 'true',
  intakeEventBusName: 'policy-engine',
  intakeEventPattern: '{"source":["governance.policy-engine"],"detail-type":["Revoke"]}',
  oldestMessageAgeAlarmSeconds: '600',
  alarmEmail: 'oncall@example.com',
  consumerRoleName: 'datashare-revoker-spoke',
  consumerAccounts: '111122223333, 444455556666,111122223333',
  consumerRoleExternalId: 'revoker-7f3a',
  consumerRoleSessionSeconds: '1800',
  staleAfterSeconds: '0',
  allowBroadTargets: 'true',
  allowedDatashares:
    'arn:aws:redshift:us-east-1:123456789012:datashare:ns-1/, arn:aws:redshift:eu-west-1:123456789012:datashare:',
  breakerMaxRevocations: '50',
  breakerWindowSeconds: '600',
  replayPrincipalArns: 'arn:aws:iam::123456789012:role/revoker-operator',
  sourceQueueRetentionSeconds: '86400',
  deadLetterAgeAlarmSeconds: '259200',
  redshiftThrottlesAlarmThreshold: '10',
  auditLogResourcePolicy: 'false',
  kmsKey: 'create',
};
const EXISTING_KEY_ARN =
  'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ANY_ACCOUNT_PARAMS = {
  ...DEFAULT_PARAMS,
  consumerRoleName: 'revoker-spoke',
  consumerAccounts: '*',
  kmsKey: EXISTING_KEY_ARN,
  intakeEnabled: 'true',
};
const EXISTING_BUS_ARN = CUSTOM_PARAMS.existingAuditEventBus;

let scratch: string;
let defaults: PackagedService;
let custom: PackagedService;
let anyAccount: PackagedService;
/** What CloudFormation would create from each template (conditions applied). */
let deployed: Template;
let deployedCustom: Template;
let deployedAnyAccount: Template;
/** What `osls package` printed when it refused, by case. */
let refusals: Record<'noDatashares' | 'reservedBelowMaximum', string>;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'datashare-revoker-infra-'));
  const probe = await readFile(new URL('./fixtures/probe-handler.ts', import.meta.url), 'utf8');
  const refused = async (name: string, params: Record<string, string>): Promise<string> => {
    try {
      await packageService({
        workDir: join(scratch, name),
        stage: STAGE,
        params,
        handlerSource: probe,
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      return `${stdout}${stderr}`;
    }
    return 'packaged';
  };
  let noDatashares: string;
  let reservedBelowMaximum: string;
  [defaults, custom, anyAccount, noDatashares, reservedBelowMaximum] = await Promise.all([
    packageService({ workDir: join(scratch, 'defaults'), stage: STAGE, params: DEFAULT_PARAMS }),
    packageService({
      workDir: join(scratch, 'custom'),
      stage: STAGE,
      params: CUSTOM_PARAMS,
      handlerSource: probe,
    }),
    packageService({
      workDir: join(scratch, 'any-account'),
      stage: STAGE,
      params: ANY_ACCOUNT_PARAMS,
      handlerSource: probe,
    }),
    refused('no-datashares', {}),
    refused('reserved-below-maximum', {
      ...DEFAULT_PARAMS,
      reservedConcurrency: '4',
      maximumConcurrency: '5',
    }),
  ]);
  refusals = { noDatashares, reservedBelowMaximum };
  deployed = effectiveTemplate(defaults.template);
  deployedCustom = effectiveTemplate(custom.template);
  deployedAnyAccount = effectiveTemplate(anyAccount.template);
}, 120_000);

afterAll(async () => {
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

const properties = (template: Template, id: string): Record<string, Json> =>
  resourceOf(template, id).Properties;
const environment = (template: Template): Record<string, Json> =>
  propertyOf<{ Variables: Record<string, Json> }>(template, 'RevokerLambdaFunction', 'Environment')
    .Variables;
const redrivePolicy = (template: Template) =>
  propertyOf<{ deadLetterTargetArn: Json; maxReceiveCount: Json }>(
    template,
    'SourceQueue',
    'RedrivePolicy',
  );
const eventSourceMapping = (template: Template): Record<string, Json> => {
  const [id] = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
  return properties(template, id ?? 'missing event source mapping');
};
/** A logs resource policy's document: Fn::Sub [a JSON string, its variables]. */
const logsPolicy = (template: Template, id: string) => {
  const [document, variables] = propertyOf<{ 'Fn::Sub': [string, Json] }>(
    template,
    id,
    'PolicyDocument',
  )['Fn::Sub'];
  return { ...(JSON.parse(document) as { Statement: PolicyStatement[] }), variables };
};
const statementsBySid = (statements: PolicyStatement[]): Record<string, PolicyStatement> =>
  Object.fromEntries(statements.map((statement) => [statement.Sid ?? '(no Sid)', statement]));
/** The created KMS key's policy statements; none when the stack creates no key. */
const keyPolicyStatements = (template: Template): PolicyStatement[] =>
  template.Resources.KmsKey === undefined
    ? []
    : propertyOf<{ Statement: PolicyStatement[] }>(template, 'KmsKey', 'KeyPolicy').Statement;

describe('packaging', () => {
  it('packages offline, without AWS credentials, with no configuration warnings', () => {
    for (const run of [defaults, custom, anyAccount]) {
      expect(run.output).toContain('Service packaged');
      expect(run.output).not.toMatch(/warning/i);
    }
  });
});

describe('function', () => {
  it('runs src/handler.handler on nodejs22.x, arm64, with 512 MB and 30 s by default', () => {
    const fn = properties(deployed, 'RevokerLambdaFunction');
    expect(fn).toMatchObject({
      Handler: 'src/handler.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 30,
    });
    expect(fn).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it('takes memory, timeout and reserved concurrency from params', () => {
    expect(properties(deployedCustom, 'RevokerLambdaFunction')).toMatchObject({
      MemorySize: 1024,
      Timeout: 60,
      ReservedConcurrentExecutions: 10,
    });
  });

  it('wires the environment from the resources and params, with source maps enabled', () => {
    expect(environment(deployed)).toEqual({
      AUDIT_EVENT_BUS_NAME: ref('AuditEventBus'),
      DEAD_LETTER_QUEUE_URL: ref('DeadLetterQueue'),
      IDEMPOTENCY_TABLE_NAME: ref('IdempotencyTable'),
      AUDIT_EVENT_SOURCE: 'governance.datashare-revoker',
      MAX_RECEIVE_COUNT: '5',
      QUEUE_VISIBILITY_TIMEOUT_SECONDS: '180',
      DEDUP_TTL_SECONDS: '86400',
      CLOCK_SKEW_MARGIN_SECONDS: '30',
      STALE_AFTER_SECONDS: '300',
      ALLOW_BROAD_TARGETS: 'false',
      ALLOWED_DATASHARES: '',
      BREAKER_MAX_REVOCATIONS: '',
      BREAKER_WINDOW_SECONDS: '',
      SOURCE_QUEUE_ARN: getAtt('SourceQueue', 'Arn'),
      REDSHIFT_MAX_CONCURRENCY: '10',
      REDSHIFT_SHARED_PACE: 'false',
      DRY_RUN: 'false',
      LOG_LEVEL: 'info',
      CONSUMER_ROLE_NAME: '',
      CONSUMER_ACCOUNTS: '',
      CONSUMER_ROLE_EXTERNAL_ID: '',
      CONSUMER_ROLE_SESSION_SECONDS: '',
      WORKER_ROLE_ARN: getAtt('IamRoleLambdaExecution', 'Arn'),
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(environment(deployedCustom)).toMatchObject({
      AUDIT_EVENT_BUS_NAME: 'governance-audit',
      MAX_RECEIVE_COUNT: '8',
      DRY_RUN: 'true',
      LOG_LEVEL: 'debug',
    });
  });

  it('leaves the CONSUMER_* variables empty (single-account mode) unless consumerRoleName is set', () => {
    const multiAccount = (template: Template) =>
      Object.fromEntries(
        Object.entries(environment(template)).filter(([name]) => name.startsWith('CONSUMER_')),
      );
    expect(multiAccount(deployedCustom)).toEqual({
      CONSUMER_ROLE_NAME: 'datashare-revoker-spoke',
      CONSUMER_ACCOUNTS: '111122223333,444455556666',
      CONSUMER_ROLE_EXTERNAL_ID: 'revoker-7f3a',
      CONSUMER_ROLE_SESSION_SECONDS: '1800',
    });
    expect(multiAccount(deployedAnyAccount)).toEqual({
      CONSUMER_ROLE_NAME: 'revoker-spoke',
      CONSUMER_ACCOUNTS: '*',
      CONSUMER_ROLE_EXTERNAL_ID: '',
      CONSUMER_ROLE_SESSION_SECONDS: '3600',
    });
  });

  it('passes the guardrail params to the worker, validated and normalised', () => {
    expect(environment(deployedCustom)).toMatchObject({
      STALE_AFTER_SECONDS: '0',
      ALLOW_BROAD_TARGETS: 'true',
      ALLOWED_DATASHARES:
        'arn:aws:redshift:us-east-1:123456789012:datashare:ns-1/,arn:aws:redshift:eu-west-1:123456789012:datashare:',
      BREAKER_MAX_REVOCATIONS: '50',
      BREAKER_WINDOW_SECONDS: '600',
      SOURCE_QUEUE_ARN: getAtt('SourceQueue', 'Arn'),
    });
  });

  it('keeps the function log group for logRetentionDays (400 by default)', () => {
    expect(properties(deployed, 'RevokerLogGroup').RetentionInDays).toBe(400);
  });
});

describe('SQS event source', () => {
  it('reports batch item failures and caps concurrency with ScalingConfig.MaximumConcurrency', () => {
    expect(eventSourceMapping(deployed)).toMatchObject({
      EventSourceArn: getAtt('SourceQueue', 'Arn'),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    expect(eventSourceMapping(deployedCustom)).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 20,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 7 },
    });
  });
});

describe('queues', () => {
  it.each([
    ['defaults', () => deployed, 30, 0],
    ['timeout 60 s, window 5 s', () => deployedCustom, 60, 5],
  ])(
    'sets the source visibility timeout to 6 × timeout + batching window (%s)',
    (_, template, timeout, window) => {
      const visibilityTimeout = properties(template(), 'SourceQueue').VisibilityTimeout;
      expect(properties(template(), 'RevokerLambdaFunction').Timeout).toBe(timeout);
      expect(eventSourceMapping(template()).MaximumBatchingWindowInSeconds).toBe(window);
      expect(visibilityTimeout).toBeGreaterThanOrEqual(6 * timeout + window);
      expect(visibilityTimeout).toBe(6 * timeout + window);
      expect(environment(template()).QUEUE_VISIBILITY_TIMEOUT_SECONDS).toBe(
        String(visibilityTimeout),
      );
    },
  );

  it('redrives to the DLQ after the same maxReceiveCount the function gets as MAX_RECEIVE_COUNT', () => {
    for (const [template, expected] of [
      [deployed, 5],
      [deployedCustom, 8],
    ] as const) {
      const redrive = redrivePolicy(template);
      expect(redrive.deadLetterTargetArn).toEqual(getAtt('DeadLetterQueue', 'Arn'));
      expect(redrive.maxReceiveCount).toBe(expected);
      expect(environment(template).MAX_RECEIVE_COUNT).toBe(String(redrive.maxReceiveCount));
    }
  });

  it('encrypts the queues with SSE-SQS by default, and with the kmsKey key when given', () => {
    const queues = ['SourceQueue', 'DeadLetterQueue', 'RuleDeadLetterQueue'];
    for (const queue of queues) {
      expect(properties(deployed, queue).SqsManagedSseEnabled).toBe(true);
      expect(properties(deployed, queue)).not.toHaveProperty('KmsMasterKeyId');
      expect(properties(deployedCustom, queue).KmsMasterKeyId).toEqual(getAtt('KmsKey', 'Arn'));
      expect(properties(deployedCustom, queue)).not.toHaveProperty('SqsManagedSseEnabled');
      expect(properties(deployedAnyAccount, queue).KmsMasterKeyId).toBe(EXISTING_KEY_ARN);
    }
  });

  it('keeps DLQ messages 14 days, and source messages explicitly less (4 days by default)', () => {
    for (const template of [deployed, deployedCustom]) {
      const dlq = properties(template, 'DeadLetterQueue').MessageRetentionPeriod;
      expect(dlq).toBe(14 * 24 * 60 * 60);
      expect(properties(template, 'RuleDeadLetterQueue').MessageRetentionPeriod).toBe(dlq);
      expect(properties(template, 'SourceQueue').MessageRetentionPeriod).toBeLessThan(Number(dlq));
    }
    expect(properties(deployed, 'SourceQueue').MessageRetentionPeriod).toBe(4 * 24 * 60 * 60);
    expect(properties(deployedCustom, 'SourceQueue').MessageRetentionPeriod).toBe(86_400);
  });

  it('lets only the source queue use the DLQ (RedriveAllowPolicy byQueue, ARN built without a cycle)', () => {
    expect(properties(deployed, 'DeadLetterQueue').RedriveAllowPolicy).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [
        {
          'Fn::Sub': `arn:${cfn('AWS::Partition')}:sqs:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:datashare-revoker-${STAGE}-requests`,
        },
      ],
    });
    expect(properties(deployed, 'SourceQueue').QueueName).toBe(
      `datashare-revoker-${STAGE}-requests`,
    );
  });

  it.each([
    ['SourceQueuePolicy', 'SourceQueue'],
    ['DeadLetterQueuePolicy', 'DeadLetterQueue'],
    ['RuleDeadLetterQueuePolicy', 'RuleDeadLetterQueue'],
  ])('%s denies every request made without TLS', (policy, queue) => {
    expect(properties(deployed, policy).Queues).toEqual([ref(queue)]);
    expect(queuePolicyStatements(deployed, policy)).toContainEqual({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:*',
      Resource: getAtt(queue, 'Arn'),
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  const sendDeny = (template: Template) =>
    statementsBySid(queuePolicyStatements(template, 'SourceQueuePolicy'))
      .DenySendExceptProducersReplayersAndIntake;

  it('denies SendMessage to every principal by default, and nothing but SendMessage', () => {
    expect(sendDeny(deployed)).toEqual({
      Sid: 'DenySendExceptProducersReplayersAndIntake',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:SendMessage',
      Resource: getAtt('SourceQueue', 'Arn'),
    });
    expect(queuePolicyStatements(deployed, 'SourceQueuePolicy').map((s) => s.Effect)).toEqual([
      'Deny',
      'Deny',
    ]);
  });

  it('spares from the deny exactly the producer roles and accounts, the replay operators and the intake rule', () => {
    expect(sendDeny(deployedCustom)?.Condition).toEqual({
      ArnNotLike: {
        'aws:PrincipalArn': [
          'arn:aws:iam::111122223333:role/policy-engine',
          'arn:aws:iam::123456789012:role/revoker-operator',
          // The breaker is on in CUSTOM_PARAMS: the function's own role requeues what it held.
          getAtt('IamRoleLambdaExecution', 'Arn'),
        ],
      },
      StringNotEquals: { 'aws:PrincipalAccount': ['444455556666'] },
      ArnNotEquals: { 'aws:SourceArn': getAtt('IntakeRule', 'Arn') },
    });
    // Intake on, no producers: only the rule is spared.
    expect(sendDeny(deployedAnyAccount)?.Condition).toEqual({
      ArnNotEquals: { 'aws:SourceArn': getAtt('IntakeRule', 'Arn') },
    });
  });

  it('allows SendMessage, and nothing else, to the producer principals and the intake rule', () => {
    const allowed = queuePolicyStatements(deployedCustom, 'SourceQueuePolicy').filter(
      (statement) => statement.Effect === 'Allow',
    );
    expect(allowed).toEqual([
      {
        Sid: 'AllowProducersToSendRequests',
        Effect: 'Allow',
        Principal: { AWS: ['arn:aws:iam::111122223333:role/policy-engine', '444455556666'] },
        Action: 'sqs:SendMessage',
        Resource: getAtt('SourceQueue', 'Arn'),
      },
      {
        Sid: 'AllowIntakeRuleToSendRequests',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: getAtt('SourceQueue', 'Arn'),
        Condition: { ArnEquals: { 'aws:SourceArn': getAtt('IntakeRule', 'Arn') } },
      },
    ]);
  });

  it('lets EventBridge dead-letter only from our rules into the rule DLQ', () => {
    const allow = (template: Template) =>
      statementsBySid(queuePolicyStatements(template, 'RuleDeadLetterQueuePolicy'))
        .AllowOurRulesToDeadLetter;
    expect(allow(deployed)).toEqual({
      Sid: 'AllowOurRulesToDeadLetter',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: getAtt('RuleDeadLetterQueue', 'Arn'),
      Condition: { ArnEquals: { 'aws:SourceArn': [getAtt('AuditLogRule', 'Arn')] } },
    });
    expect(allow(deployedCustom)?.Condition).toEqual({
      ArnEquals: { 'aws:SourceArn': [getAtt('AuditLogRule', 'Arn'), getAtt('IntakeRule', 'Arn')] },
    });
    const deadLetter = { DeadLetterConfig: { Arn: getAtt('RuleDeadLetterQueue', 'Arn') } };
    expect(propertyOf<Json[]>(deployedCustom, 'AuditLogRule', 'Targets')).toEqual([
      expect.objectContaining(deadLetter),
    ]);
    expect(propertyOf<Json[]>(deployedCustom, 'IntakeRule', 'Targets')).toEqual([
      expect.objectContaining(deadLetter),
    ]);
  });
});

describe('idempotency table', () => {
  it('is on-demand, keyed by id (S), expires items on `expiration`, with PITR and SSE', () => {
    expect(properties(deployed, 'IdempotencyTable')).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('encrypts with the kmsKey key when given (SSEType KMS)', () => {
    expect(properties(deployedCustom, 'IdempotencyTable').SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: getAtt('KmsKey', 'Arn'),
    });
    expect(properties(deployedAnyAccount, 'IdempotencyTable').SSESpecification).toEqual({
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: EXISTING_KEY_ARN,
    });
  });
});

describe('IAM', () => {
  const ours = (template: Template) =>
    statementsBySid(roleStatements(template).filter((statement) => statement.Sid !== undefined));
  const normalised = (statements: Record<string, PolicyStatement>) =>
    Object.fromEntries(
      Object.entries(statements).map(([sid, { Effect, Action, Resource, Condition }]) => [
        sid,
        { Effect, Action: asList(Action), Resource, ...(Condition && { Condition }) },
      ]),
    );
  const functionArn = (qualifier: string) => ({
    'Fn::Sub':
      `arn:${cfn('AWS::Partition')}:lambda:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}` +
      `:function:datashare-revoker-${STAGE}-revoker${qualifier}`,
  });
  const expected = (datashareResources: Json, auditBusArn: Json) => ({
    RevokeDatashareConsumers: {
      Effect: 'Allow',
      Action: ['redshift:DisassociateDataShareConsumer'],
      Resource: datashareResources,
      Condition: {
        ArnLikeIfExists: {
          'redshift:ConsumerArn': [
            {
              'Fn::Sub': `arn:${cfn('AWS::Partition')}:redshift:*:${cfn('AWS::AccountId')}:namespace:*`,
            },
            {
              'Fn::Sub': `arn:${cfn('AWS::Partition')}:redshift-serverless:*:${cfn('AWS::AccountId')}:namespace/*`,
            },
          ],
        },
      },
    },
    ConfirmDatashareAssociations: {
      Effect: 'Allow',
      Action: ['redshift:DescribeDataShares', 'redshift:DescribeDataSharesForConsumer'],
      Resource: '*',
    },
    PublishAuditEvents: {
      Effect: 'Allow',
      Action: ['events:PutEvents'],
      Resource: auditBusArn,
      Condition: { StringEquals: { 'events:source': 'governance.datashare-revoker' } },
    },
    QuarantineToDeadLetterQueue: {
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: getAtt('DeadLetterQueue', 'Arn'),
    },
    DeferSourceMessages: {
      Effect: 'Allow',
      Action: ['sqs:ChangeMessageVisibility'],
      Resource: getAtt('SourceQueue', 'Arn'),
    },
    RecordProcessedRequests: {
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
      ],
      Resource: getAtt('IdempotencyTable', 'Arn'),
    },
    FindOwnEventSourceMapping: {
      Effect: 'Allow',
      Action: ['lambda:ListEventSourceMappings'],
      Resource: '*',
    },
    PauseOwnEventSourceMapping: {
      Effect: 'Allow',
      Action: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
      Resource: {
        'Fn::Sub': `arn:${cfn('AWS::Partition')}:lambda:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:event-source-mapping:*`,
      },
      Condition: { ArnLike: { 'lambda:FunctionArn': [functionArn(''), functionArn(':*')] } },
    },
  });

  it('grants exactly one statement per need, each scoped to its resource', () => {
    const sids = roleStatements(deployed).flatMap((statement) => statement.Sid ?? []);
    expect(sids).toHaveLength(new Set(sids).size);
    expect(normalised(ours(deployed))).toEqual(
      expected(
        [{ 'Fn::Sub': `arn:${cfn('AWS::Partition')}:redshift:*:*:datashare:*/*` }],
        getAtt('AuditEventBus', 'Arn'),
      ),
    );
  });

  it('limits the pause to its own event source mapping: the function ARN, built from its name', () => {
    expect(properties(deployed, 'RevokerLambdaFunction').FunctionName).toBe(
      `datashare-revoker-${STAGE}-revoker`,
    );
    // Built with Fn::Sub, not Fn::GetAtt: the role must not depend on the function it serves.
    expect(JSON.stringify(ours(deployed).PauseOwnEventSourceMapping)).not.toContain(
      'RevokerLambdaFunction',
    );
  });

  it('uses the KMS key only through SQS and DynamoDB, and only when kmsKey is set', () => {
    const viaServices = {
      StringEquals: {
        'kms:ViaService': [
          { 'Fn::Sub': `sqs.${cfn('AWS::Region')}.amazonaws.com` },
          { 'Fn::Sub': `dynamodb.${cfn('AWS::Region')}.amazonaws.com` },
        ],
      },
    };
    const statement = (resource: Json) => ({
      Sid: 'UseKeyThroughSqsAndDynamoDb',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      Resource: resource,
      Condition: viaServices,
    });
    expect(ours(deployedCustom).UseKeyThroughSqsAndDynamoDb).toEqual(
      statement(getAtt('KmsKey', 'Arn')),
    );
    expect(ours(deployedAnyAccount).UseKeyThroughSqsAndDynamoDb).toEqual(
      statement(EXISTING_KEY_ARN),
    );
    expect(ours(deployed)).not.toHaveProperty('UseKeyThroughSqsAndDynamoDb');
  });

  it('scopes DisassociateDataShareConsumer to datashareArnPatterns and PutEvents to an existing bus', () => {
    const {
      AssumeConsumerAccountRoles: _,
      UseKeyThroughSqsAndDynamoDb: __,
      RequeueHeldDecisions: ___,
      ...others
    } = normalised(ours(deployedCustom));
    expect(others).toEqual(
      expected(
        [
          {
            'Fn::Sub': `arn:${cfn('AWS::Partition')}:redshift:us-east-1:123456789012:datashare:*/sales*`,
          },
          { 'Fn::Sub': 'arn:aws:redshift:eu-west-1:123456789012:datashare:ns-1/hr' },
        ],
        EXISTING_BUS_ARN,
      ),
    );
  });

  it('grants no sts:AssumeRole at all in single-account mode', () => {
    const actions = roleStatements(deployed).flatMap((statement) => asList(statement.Action));
    expect(actions.filter((action) => action.startsWith('sts:'))).toEqual([]);
  });

  it('adds sts:AssumeRole on exactly the consumer role in each listed account, and nothing else', () => {
    const {
      AssumeConsumerAccountRoles,
      UseKeyThroughSqsAndDynamoDb: _,
      RequeueHeldDecisions: __,
      ...others
    } = ours(deployedCustom);
    expect(AssumeConsumerAccountRoles).toEqual({
      Sid: 'AssumeConsumerAccountRoles',
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Resource: [
        {
          'Fn::Sub': `arn:${cfn('AWS::Partition')}:iam::111122223333:role/datashare-revoker-spoke`,
        },
        {
          'Fn::Sub': `arn:${cfn('AWS::Partition')}:iam::444455556666:role/datashare-revoker-spoke`,
        },
      ],
    });
    expect(Object.keys(others)).toEqual(Object.keys(ours(deployed)));
  });

  it('lets the function send to its source queue only with the breaker on (its hold requeues)', () => {
    expect(ours(deployedCustom).RequeueHeldDecisions).toEqual({
      Sid: 'RequeueHeldDecisions',
      Effect: 'Allow',
      Action: ['sqs:SendMessage'],
      Resource: getAtt('SourceQueue', 'Arn'),
    });
    expect(ours(deployed).RequeueHeldDecisions).toBeUndefined();
    const deny = statementsBySid(
      queuePolicyStatements(deployed, 'SourceQueuePolicy'),
    ).DenySendExceptProducersReplayersAndIntake;
    expect(JSON.stringify(deny)).not.toContain('IamRoleLambdaExecution');
  });

  it("allows the consumer role in any account only when consumerAccounts is '*'", () => {
    const {
      AssumeConsumerAccountRoles,
      UseKeyThroughSqsAndDynamoDb: _,
      ...others
    } = ours(deployedAnyAccount);
    expect(AssumeConsumerAccountRoles).toEqual({
      Sid: 'AssumeConsumerAccountRoles',
      Effect: 'Allow',
      Action: ['sts:AssumeRole'],
      Resource: [{ 'Fn::Sub': `arn:${cfn('AWS::Partition')}:iam::*:role/revoker-spoke` }],
    });
    expect(normalised(others)).toEqual(normalised(ours(deployed)));
  });

  it('outputs the function role ARN (RevokerRoleArn), the principal the spoke roles trust', () => {
    expect(defaults.template.Outputs?.RevokerRoleArn?.Value).toEqual(
      getAtt('IamRoleLambdaExecution', 'Arn'),
    );
  });

  it("adds only the framework's log statements and the event source's statement on the source queue", () => {
    const frameworks = roleStatements(deployed).filter((statement) => statement.Sid === undefined);
    const sqs = frameworks.filter((statement) =>
      asList(statement.Action).some((a) => a.startsWith('sqs:')),
    );
    expect(sqs).toEqual([
      {
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        Resource: [getAtt('SourceQueue', 'Arn')],
      },
    ]);
    for (const statement of frameworks.filter((s) => !sqs.includes(s))) {
      expect(asList(statement.Action).every((action) => action.startsWith('logs:'))).toBe(true);
      for (const resource of asList(statement.Resource)) {
        expect(JSON.stringify(resource)).toContain(
          `log-group:/aws/lambda/datashare-revoker-${STAGE}`,
        );
      }
    }
  });

  it('has no wildcard action in the role, and no "*" action anywhere in the template', () => {
    for (const template of [deployed, deployedCustom, deployedAnyAccount]) {
      const roleActions = roleStatements(template).flatMap((statement) => asList(statement.Action));
      expect(roleActions.filter((action) => action.includes('*'))).toEqual([]);

      // Every other policy: only the TLS denies may use a wildcard (sqs:*), and it widens a deny.
      const others = [
        ...resourcesOfType(template, 'AWS::SQS::QueuePolicy').flatMap((id) =>
          queuePolicyStatements(template, id),
        ),
        ...resourcesOfType(template, 'AWS::Logs::ResourcePolicy').flatMap(
          (id) => logsPolicy(template, id).Statement,
        ),
        // The key's default statement (kms:* for the account root) is the one allowed exception.
        ...keyPolicyStatements(template).filter((s) => s.Sid !== 'EnableIamPolicies'),
      ];
      for (const statement of others) {
        for (const action of asList(statement.Action)) {
          expect(action).not.toBe('*');
          if (action.includes('*')) expect(statement.Effect).toBe('Deny');
        }
      }
    }
  });
});

describe('audit trail', () => {
  it('creates the audit bus unless an existing one is given', () => {
    expect(properties(deployed, 'AuditEventBus').Name).toBe(`datashare-revoker-${STAGE}-audit`);
    expect(conditionHolds(custom.template, 'CreateAuditEventBus')).toBe(false);
    expect(deployedCustom.Resources).not.toHaveProperty('AuditEventBus');
  });

  it('archives events whose source is AUDIT_EVENT_SOURCE, for 400 days by default', () => {
    expect(properties(deployed, 'AuditEventArchive')).toMatchObject({
      SourceArn: getAtt('AuditEventBus', 'Arn'),
      RetentionDays: 400,
      EventPattern: { source: [environment(deployed).AUDIT_EVENT_SOURCE ?? null] },
    });
    expect(properties(deployedCustom, 'AuditEventArchive')).toMatchObject({
      SourceArn: EXISTING_BUS_ARN,
      RetentionDays: '30',
    });
  });

  it('copies audit events into a log group that EventBridge may write to', () => {
    const logGroupArn = {
      'Fn::Sub':
        `arn:${cfn('AWS::Partition')}:logs:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}` +
        `:log-group:${cfn('AuditLogGroup')}`,
    };
    expect(properties(deployed, 'AuditLogRule')).toMatchObject({
      EventBusName: ref('AuditEventBus'),
      EventPattern: { source: ['governance.datashare-revoker'] },
      State: 'ENABLED',
      Targets: [{ Arn: logGroupArn }],
    });
    expect(properties(deployedCustom, 'AuditLogRule').EventBusName).toBe('governance-audit');
    expect(properties(deployed, 'AuditLogGroup')).toMatchObject({
      LogGroupName: `/aws/events/datashare-revoker-${STAGE}-audit`,
      RetentionInDays: 400,
    });
    const policy = logsPolicy(deployed, 'AuditLogGroupResourcePolicy');
    expect(policy.Statement).toEqual([
      {
        Sid: 'TrustEventsToStoreAuditLogEvents',
        Effect: 'Allow',
        Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: cfn('LogGroupArn'),
      },
    ]);
    expect(policy.variables).toEqual({ LogGroupArn: getAtt('AuditLogGroup', 'Arn') });
  });
});

describe('evidence that survives', () => {
  it('retains the audit bus, archive and log group on stack deletion and replacement', () => {
    for (const id of ['AuditEventBus', 'AuditEventArchive', 'AuditLogGroup']) {
      expect(resourceOf(defaults.template, id), id).toMatchObject({
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
    // An existing bus is not this stack's: not created, so nothing to retain.
    expect(deployedCustom.Resources).not.toHaveProperty('AuditEventBus');
    expect(resourceOf(custom.template, 'AuditEventArchive')).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('keeps audit events and logs at least 400 days by default', () => {
    for (const name of ['auditArchiveRetentionDays', 'auditLogRetentionDays', 'logRetentionDays']) {
      expect(Number(defaults.defaultParams[name]), name).toBeGreaterThanOrEqual(400);
    }
    expect(properties(deployed, 'AuditEventArchive').RetentionDays).toBe(400);
    expect(properties(deployed, 'AuditLogGroup').RetentionInDays).toBe(400);
    expect(properties(deployed, 'RevokerLogGroup').RetentionInDays).toBe(400);
  });

  it('skips the log-group resource policy when auditLogResourcePolicy is false, and the rule no longer waits for it', () => {
    expect(resourceOf(deployed, 'AuditLogRule').DependsOn).toEqual(['AuditLogGroupResourcePolicy']);
    expect(deployedCustom.Resources).not.toHaveProperty('AuditLogGroupResourcePolicy');
    expect(resourceOf(deployedCustom, 'AuditLogRule').DependsOn).toEqual(['AuditLogGroup']);
    expect(properties(deployedCustom, 'AuditLogRule').Targets).toEqual([
      expect.objectContaining({ Id: 'audit-log-group' }),
    ]);
  });
});

describe('customer-managed KMS key (kmsKey)', () => {
  const keyed = [
    ['AuditEventArchive', 'KmsKeyIdentifier'],
    ['AuditLogGroup', 'KmsKeyId'],
    ['RevokerLogGroup', 'KmsKeyId'],
    ['AlarmTopic', 'KmsMasterKeyId'],
  ] as const;

  it('is off by default: no key, and no key on any resource', () => {
    expect(resourcesOfType(deployed, 'AWS::KMS::Key')).toEqual([]);
    for (const [id, key] of keyed) expect(properties(deployed, id), id).not.toHaveProperty(key);
  });

  it("with 'create', makes a retained, rotated key and encrypts the archive, log groups and topic with it", () => {
    expect(resourceOf(custom.template, 'KmsKey')).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(properties(deployedCustom, 'KmsKey').EnableKeyRotation).toBe(true);
    expect(properties(deployedCustom, 'KmsKeyAlias')).toEqual({
      AliasName: `alias/datashare-revoker-${STAGE}`,
      TargetKeyId: ref('KmsKey'),
    });
    for (const [id, key] of keyed) {
      expect(properties(deployedCustom, id)[key], id).toEqual(getAtt('KmsKey', 'Arn'));
    }
  });

  it('with a key ARN, uses that key and creates none', () => {
    expect(resourcesOfType(deployedAnyAccount, 'AWS::KMS::Key')).toEqual([]);
    for (const [id, key] of keyed) {
      expect(properties(deployedAnyAccount, id)[key], id).toBe(EXISTING_KEY_ARN);
    }
  });

  it('has a key policy that lets EventBridge, CloudWatch Logs, CloudWatch alarms and the producers use it, each for its own need', () => {
    const statements = statementsBySid(keyPolicyStatements(deployedCustom));
    const service = (name: Json) => ({ Service: name });
    expect(statements.EnableIamPolicies).toMatchObject({
      Principal: {
        AWS: { 'Fn::Sub': `arn:${cfn('AWS::Partition')}:iam::${cfn('AWS::AccountId')}:root` },
      },
      Action: 'kms:*',
    });
    expect(statements.AllowEventBridgeToSendToEncryptedQueues).toMatchObject({
      Principal: service('events.amazonaws.com'),
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    });
    expect(statements.AllowEventBridgeToEncryptAuditArchive).toMatchObject({
      Principal: service('events.amazonaws.com'),
      Action: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
      Condition: {
        StringEquals: { 'kms:EncryptionContext:aws:events:event-bus:arn': EXISTING_BUS_ARN },
      },
    });
    const logGroupArn = (name: string) => ({
      'Fn::Sub': `arn:${cfn('AWS::Partition')}:logs:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:log-group:${name}`,
    });
    expect(statements.AllowCloudWatchLogsToEncryptLogGroups).toMatchObject({
      Principal: service({ 'Fn::Sub': `logs.${cfn('AWS::Region')}.amazonaws.com` }),
      Condition: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': [
            logGroupArn(`/aws/events/datashare-revoker-${STAGE}-audit`),
            logGroupArn(`/aws/lambda/datashare-revoker-${STAGE}-revoker`),
          ],
        },
      },
    });
    // The log group names in the key policy are the log groups' own.
    expect(properties(deployedCustom, 'AuditLogGroup').LogGroupName).toBe(
      `/aws/events/datashare-revoker-${STAGE}-audit`,
    );
    expect(properties(deployedCustom, 'RevokerLogGroup').LogGroupName).toBe(
      `/aws/lambda/datashare-revoker-${STAGE}-revoker`,
    );
    expect(statements.AllowCloudWatchAlarmsToPublishToTopic).toMatchObject({
      Principal: service('cloudwatch.amazonaws.com'),
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: {
        StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
        ArnLike: {
          'aws:SourceArn': {
            'Fn::Sub': `arn:${cfn('AWS::Partition')}:cloudwatch:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:alarm:datashare-revoker-${STAGE}-*`,
          },
        },
      },
    });
    // Every alarm of the stage matches that pattern.
    for (const id of resourcesOfType(deployedCustom, 'AWS::CloudWatch::Alarm')) {
      expect(properties(deployedCustom, id).AlarmName).toMatch(
        new RegExp(`^datashare-revoker-${STAGE}-`),
      );
    }
    expect(statements.AllowProducersToSendToEncryptedQueue).toMatchObject({
      Principal: { AWS: ['arn:aws:iam::111122223333:role/policy-engine', '444455556666'] },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Sub': `sqs.${cfn('AWS::Region')}.amazonaws.com` },
        },
      },
    });
    expect(Object.keys(statements)).toEqual([
      'EnableIamPolicies',
      'AllowEventBridgeToSendToEncryptedQueues',
      'AllowEventBridgeToDescribeKey',
      'AllowEventBridgeToEncryptAuditArchive',
      'AllowCloudWatchLogsToEncryptLogGroups',
      'AllowCloudWatchAlarmsToPublishToTopic',
      'AllowProducersToSendToEncryptedQueue',
    ]);
  });
});

describe('outputs for the CLI', () => {
  it('outputs what `revoker --stage` reads, the worker function included', () => {
    const outputs = defaults.template.Outputs ?? {};
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AlarmTopicArn',
        'AuditEventBusName',
        'AuditEventSource',
        'AuditLogGroupName',
        'DeadLetterQueueUrl',
        'IdempotencyTableName',
        'RevokerRoleArn',
        'ServerlessDeploymentBucketName',
        'SourceQueueArn',
        'SourceQueueUrl',
        'WorkerFunctionArn',
        'WorkerFunctionName',
      ].sort(),
    );
    expect(outputs.WorkerFunctionName?.Value).toEqual(ref('RevokerLambdaFunction'));
    expect(outputs.WorkerFunctionArn?.Value).toEqual(getAtt('RevokerLambdaFunction', 'Arn'));
    expect(outputs.AuditEventSource?.Value).toBe(environment(deployed).AUDIT_EVENT_SOURCE);
  });
});

describe('package-time validation', () => {
  it('refuses to package without datashareArnPatterns, naming it', () => {
    expect(refusals.noDatashares).toContain("Invalid parameter 'datashareArnPatterns'");
    expect(refusals.noDatashares).toContain('there is no default');
  });

  it('refuses a reserved concurrency below maximumConcurrency, naming both', () => {
    expect(refusals.reservedBelowMaximum).toContain(
      "Invalid parameter 'reservedConcurrency': expected an integer at least maximumConcurrency (5), or no value, '4' given.",
    );
  });
});

describe('intake', () => {
  it('is off by default', () => {
    expect(deployed.Resources).not.toHaveProperty('IntakeRule');
  });

  it("routes matching events' detail from the policy engine's bus to the source queue", () => {
    expect(properties(deployedCustom, 'IntakeRule')).toMatchObject({
      EventBusName: 'policy-engine',
      EventPattern: { source: ['governance.policy-engine'], 'detail-type': ['Revoke'] },
      State: 'ENABLED',
      Targets: [{ Arn: getAtt('SourceQueue', 'Arn'), InputPath: '$.detail' }],
    });
  });
});

describe('alarms', () => {
  const alarm = (template: Template, id: string) => properties(template, id);

  it('alarms on DLQ messages, old source messages, function errors and throttles, to one topic', () => {
    const topic = [ref('AlarmTopic')];
    expect(alarm(deployed, 'DeadLetterQueueNotEmptyAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('DeadLetterQueue', 'QueueName') }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: topic,
    });
    expect(alarm(deployed, 'SourceQueueBacklogAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('SourceQueue', 'QueueName') }],
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: topic,
    });
    expect(alarm(deployedCustom, 'SourceQueueBacklogAlarm').Threshold).toBe('600');
    for (const [id, metric] of [
      ['FunctionErrorsAlarm', 'Errors'],
      ['FunctionThrottlesAlarm', 'Throttles'],
    ]) {
      expect(alarm(deployed, id ?? '')).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [{ Name: 'FunctionName', Value: ref('RevokerLambdaFunction') }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: topic,
      });
    }
  });

  const topic = [ref('AlarmTopic')];
  const worker = (metric: string) => ({
    Namespace: 'DatashareRevoker',
    MetricName: metric,
    // The worker's EMF lines carry exactly this dimension (src/wiring.ts): an alarm with another
    // set of dimensions would watch a metric that never receives data.
    Dimensions: [{ Name: 'FunctionName', Value: ref('RevokerLambdaFunction') }],
    Statistic: 'Sum',
    ComparisonOperator: 'GreaterThanThreshold',
    AlarmActions: topic,
  });

  it('watches the namespace and dimension the worker writes its metrics with (src/wiring.ts)', async () => {
    const wiring = await readFile(join(REPO_ROOT, 'src/wiring.ts'), 'utf8');
    expect(wiring).toMatch(
      /new EmfMetrics\(\{\s*namespace: 'DatashareRevoker',\s*(\/\/[^\n]*\n\s*)*dimensions: \{ FunctionName: config\.functionName \}/,
    );
  });

  it("alarms on the worker's Failed, AuditPublishFailures and BreakerOpened at the first one, and on Throttles above a threshold", () => {
    expect(alarm(deployed, 'WorkerFailedAlarm')).toMatchObject({
      ...worker('Failed'),
      Threshold: 0,
    });
    expect(alarm(deployed, 'AuditPublishFailuresAlarm')).toMatchObject({
      ...worker('AuditPublishFailures'),
      Threshold: 0,
    });
    expect(alarm(deployed, 'BreakerOpenedAlarm')).toMatchObject({
      ...worker('BreakerOpened'),
      Threshold: 0,
      Period: 60,
    });
    expect(alarm(deployed, 'RedshiftThrottlesAlarm')).toMatchObject({
      ...worker('Throttles'),
      Threshold: 50,
      Period: 300,
    });
    expect(alarm(deployedCustom, 'RedshiftThrottlesAlarm').Threshold).toBe('10');
  });

  it('alarms when the oldest DLQ message ages past deadLetterAgeAlarmSeconds, below the 14-day retention', () => {
    for (const [template, seconds] of [
      [deployed, 604_800],
      [deployedCustom, 259_200],
    ] as const) {
      expect(alarm(template, 'DeadLetterQueueAgeAlarm')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: getAtt('DeadLetterQueue', 'QueueName') }],
        Statistic: 'Maximum',
        Threshold: seconds,
        AlarmActions: topic,
      });
      expect(seconds).toBeLessThan(
        Number(properties(template, 'DeadLetterQueue').MessageRetentionPeriod),
      );
    }
  });

  it('alarms when an invocation takes over 90% of the timeout', () => {
    for (const [template, timeout] of [
      [deployed, 30],
      [deployedCustom, 60],
    ] as const) {
      expect(properties(template, 'RevokerLambdaFunction').Timeout).toBe(timeout);
      expect(alarm(template, 'FunctionDurationNearTimeoutAlarm')).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Dimensions: [{ Name: 'FunctionName', Value: ref('RevokerLambdaFunction') }],
        Statistic: 'Maximum',
        Threshold: timeout * 900,
        AlarmActions: topic,
      });
    }
  });

  it('alarms on failed deliveries of the audit and intake rules, with the dimensions of their bus', () => {
    const failures = (dimensions: Json) => ({
      Namespace: 'AWS/Events',
      MetricName: 'FailedInvocations',
      Dimensions: dimensions,
      Threshold: 0,
      AlarmActions: topic,
    });
    const rule = (name: string) => ({
      Name: 'RuleName',
      Value: `datashare-revoker-${STAGE}-${name}`,
    });
    const bus = (name: string) => ({ Name: 'EventBusName', Value: name });
    // Rules on a custom bus report EventBusName and RuleName; on the default bus, RuleName alone.
    expect(alarm(deployed, 'AuditRuleDeliveryFailuresAlarm')).toMatchObject(
      failures([bus(`datashare-revoker-${STAGE}-audit`), rule('audit-to-logs')]),
    );
    expect(properties(deployed, 'AuditLogRule').Name).toBe(
      `datashare-revoker-${STAGE}-audit-to-logs`,
    );
    expect(alarm(deployedCustom, 'AuditRuleDeliveryFailuresAlarm')).toMatchObject(
      failures([bus('governance-audit'), rule('audit-to-logs')]),
    );
    expect(deployed.Resources).not.toHaveProperty('IntakeRuleDeliveryFailuresAlarm');
    expect(alarm(deployedCustom, 'IntakeRuleDeliveryFailuresAlarm')).toMatchObject(
      failures([bus('policy-engine'), rule('intake')]),
    );
    expect(properties(deployedCustom, 'IntakeRule').Name).toBe(`datashare-revoker-${STAGE}-intake`);
    expect(alarm(deployedAnyAccount, 'IntakeRuleDeliveryFailuresAlarm')).toMatchObject(
      failures([rule('intake')]),
    );
    expect(alarm(deployed, 'RuleDeadLetterQueueNotEmptyAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('RuleDeadLetterQueue', 'QueueName') }],
      Threshold: 0,
      AlarmActions: topic,
    });
  });

  it('subscribes alarmEmail to the topic only when it is given', () => {
    expect(deployed.Resources).not.toHaveProperty('AlarmEmailSubscription');
    expect(properties(deployedCustom, 'AlarmEmailSubscription')).toEqual({
      TopicArn: ref('AlarmTopic'),
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

describe('naming', () => {
  it('names every named resource after the service and the stage', () => {
    const nameKeys = ['QueueName', 'TableName', 'Name', 'ArchiveName', 'LogGroupName'];
    const moreNameKeys = ['PolicyName', 'TopicName', 'AlarmName', 'FunctionName'];
    const names = Object.values(deployedCustom.Resources).flatMap((resource) =>
      [...nameKeys, ...moreNameKeys]
        .map((key) => resource.Properties?.[key])
        .filter((name): name is string => typeof name === 'string')
        .filter((name) => name !== 'policy-engine' && name !== 'governance-audit'),
    );
    expect(names.length).toBeGreaterThanOrEqual(15);
    for (const name of names) expect(name).toContain(`datashare-revoker-${STAGE}-`);
  });
});

describe('bundle', () => {
  // Import statements as esbuild writes them (and the banner's): at the start of a statement.
  // Anchoring on the statement boundary skips `import "..."` inside the SDK's error messages.
  const IMPORT_STATEMENT =
    /(?:^|[;}\n])\s*import\s*(?:(?:\{[^}]*\}|\*\s*as\s+[\w$]+|[\w$]+(?:\s*,\s*\{[^}]*\})?)\s*from\s*)?["']([^"']+)["']/g;
  const staticImports = (code: string): string[] =>
    [...code.matchAll(IMPORT_STATEMENT)].map((match) => match[1] ?? '');
  // `import("./chunks/...")` as esbuild writes a split dynamic import (relative, so no SDK text).
  const DYNAMIC_IMPORT = /\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g;
  const dynamicImports = (code: string): string[] =>
    [...code.matchAll(DYNAMIC_IMPORT)].map((match) => match[1] ?? '');
  const codeOf = (run: PackagedService, file: string): string =>
    run.zip.get(file)?.toString('utf8') ?? '';
  /** A relative specifier of `from`, as a path in the zip. */
  const inZip = (from: string, specifier: string): string =>
    posix.normalize(posix.join(posix.dirname(from), specifier));
  /** The files Node reads to import `entry`: it and its static imports in the zip, transitively. */
  const readAtImport = (run: PackagedService, entry: string): string[] => {
    const files = [entry];
    for (let i = 0; i < files.length; i++) {
      const file = files[i] ?? '';
      for (const specifier of staticImports(codeOf(run, file)).filter((s) => !isBuiltin(s))) {
        const target = inZip(file, specifier);
        if (!files.includes(target)) files.push(target);
      }
    }
    return files;
  };
  const codeFiles = (run: PackagedService): string[] =>
    [...run.zip.keys()].filter((file) => file.endsWith('.mjs'));
  const mapSources = (run: PackagedService): string[] =>
    [...run.zip.keys()]
      .filter((file) => file.endsWith('.mjs.map'))
      .flatMap((file) => JSON.parse(codeOf(run, file)).sources ?? []);

  it('contains the handler and its chunks (src/chunks/), each an ES module with the banner and its source map, and nothing else', () => {
    for (const run of [defaults, custom]) {
      const files = [...run.zip.keys()];
      expect(files).toContain('src/handler.mjs');
      expect(files.filter((f) => f !== 'src/handler.mjs' && f !== 'src/handler.mjs.map')).toEqual(
        files.filter((f) => /^src\/chunks\/[\w-]+\.mjs(\.map)?$/.test(f)),
      );
      for (const file of codeFiles(run)) {
        expect(files).toContain(`${file}.map`);
        expect(codeOf(run, file)).toMatch(/^import\s*\{\s*createRequire/);
        const name = posix.basename(file).replaceAll('.', '\\.');
        expect(codeOf(run, file)).toMatch(new RegExp(`//# sourceMappingURL=${name}\\.map\\s*$`));
      }
    }
    // The SDK's credential providers are imported with import(): chunks even for the probe.
    expect(codeFiles(defaults).length).toBeGreaterThan(2);
    expect(codeFiles(custom).length).toBeGreaterThan(2);
  });

  it('leaves nothing external: every import is a Node built-in or a file of the zip', () => {
    for (const run of [defaults, custom]) {
      const unresolved = codeFiles(run).flatMap((file) => {
        const code = codeOf(run, file);
        const relative = [
          ...staticImports(code).filter((specifier) => !isBuiltin(specifier)),
          ...dynamicImports(code),
        ];
        return relative
          .filter(
            (specifier) => !/^\.{1,2}\//.test(specifier) || !run.zip.has(inZip(file, specifier)),
          )
          .map((specifier) => `${file} imports ${specifier}`);
      });
      expect(unresolved).toEqual([]);
      expect(
        staticImports(codeOf(run, 'src/handler.mjs')).filter(isBuiltin).length,
      ).toBeGreaterThan(0);
    }
  });

  // The SDK's credential providers hold an STSClient of their own (@aws-sdk/nested-clients), also
  // read only through import(): `holders` counts the files that hold one, `chunk` is ours.
  it.each([
    {
      client: 'LambdaClient',
      use: "the breaker's",
      holders: 1,
      chunk: /\/lambda-sdk-[\w-]+\.mjs$/,
    },
    {
      client: 'STSClient',
      use: "a hub's consumer roles'",
      holders: 2,
      chunk: /\/sts-sdk-[\w-]+\.mjs$/,
    },
    {
      client: 'SQSClient',
      use: 'the dead-letter and visibility queue’s',
      holders: 1,
      chunk: /\/sqs-[\w-]+\.mjs$/,
    },
  ])(
    'reads $use $client only through import(): it is in the zip, outside what importing the handler reads',
    ({ client, holders: count, chunk }) => {
      // Prepare: the client's class name (kept by keepNames) marks the files that hold it
      const atInit = readAtImport(defaults, 'src/handler.mjs');
      const holders = codeFiles(defaults).filter((f) =>
        codeOf(defaults, f).includes(`"${client}"`),
      );

      // Assess
      expect(atInit.length).toBeGreaterThan(1);
      expect(holders).toHaveLength(count);
      for (const holder of holders) expect(atInit).not.toContain(holder);
      // Imported by the handler's files or by a chunk they import (the queue's and the switch's
      // adapters are themselves read at their first call).
      const dynamicTargets = codeFiles(defaults).flatMap((file) =>
        dynamicImports(codeOf(defaults, file)).map((specifier) => inZip(file, specifier)),
      );
      const ours = holders.filter((holder) => chunk.test(holder));
      expect(ours).toHaveLength(1);
      expect(dynamicTargets).toContain(ours[0]);
    },
  );

  it("bundles the AWS SDK's tree-shakable ES modules, p-retry, pino, valibot and p-limit", () => {
    const sources = mapSources(custom);
    for (const client of [
      'client-redshift',
      'client-sqs',
      'client-eventbridge',
      'client-dynamodb',
    ]) {
      expect(sources.some((source) => source.includes(`@aws-sdk/${client}/dist-es/`))).toBe(true);
    }
    expect(sources.filter((source) => /@aws-sdk\/[^/]+\/dist-cjs\//.test(source))).toEqual([]);
    for (const dependency of ['p-retry', 'pino', 'valibot', 'p-limit']) {
      expect(sources.some((source) => source.includes(`node_modules/${dependency}/`))).toBe(true);
    }
  });

  it('runs as ESM on Node 22 without node_modules, and its stack traces map to the TypeScript', async () => {
    // Prepare: the package's files alone, as Lambda unpacks them (no node_modules up the tree)
    const dir = await unzipTo(custom, join(scratch, 'custom', 'unzipped'));
    await writeFile(
      join(dir, 'invoke.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        "const bundle = await import('./src/handler.mjs');",
        'const result = await bundle.handler({ Records: [] });',
        'let stack = "";',
        'try { bundle.throwFromSource(); } catch (error) { stack = error.stack; }',
        "writeFileSync('outcome.json', JSON.stringify({ result, stack }));",
      ].join('\n'),
    );

    // Act
    const { stdout } = await promisify(execFile)(process.execPath, ['invoke.mjs'], {
      cwd: dir,
      env: { PATH: process.env.PATH, NODE_OPTIONS: '--enable-source-maps' },
      timeout: 20_000,
    });

    // Assess
    const { result, stack } = JSON.parse(await readFile(join(dir, 'outcome.json'), 'utf8'));
    expect(result).toEqual({
      retried: 'e-1',
      attempts: 2,
      clients: 4,
      commands: 4,
      errorName: 'ProbeError',
      constructorName: 'ProbeError',
    });
    expect(stdout).toContain('"msg":"probe ran"');
    expect(stack).toMatch(
      /^ProbeError: thrown from the probe handler\n\s+at .*\/src\/handler\.ts:\d+:\d+\)/,
    );
  });

  it('the real handler imports on Node 22 without node_modules, and every chunk it reads only through import() loads as an ES module', async () => {
    // Prepare: the package alone; the files read at import, and the others
    const dir = await unzipTo(defaults, join(scratch, 'defaults', 'unzipped'));
    const atInit = readAtImport(defaults, 'src/handler.mjs');
    const lazy = codeFiles(defaults).filter((file) => !atInit.includes(file));
    await writeFile(
      join(dir, 'load.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        "const { handler } = await import('./src/handler.mjs');",
        `const lazy = ${JSON.stringify(lazy.map((file) => `./${file}`))};`,
        'const loaded = [];',
        'for (const file of lazy) { await import(file); loaded.push(file.slice(2)); }',
        "writeFileSync('outcome.json', JSON.stringify({ handler: typeof handler, loaded }));",
      ].join('\n'),
    );

    // Act
    await promisify(execFile)(process.execPath, ['load.mjs'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        NODE_OPTIONS: '--enable-source-maps',
        AWS_REGION: 'us-east-1',
        AUDIT_EVENT_BUS_NAME: 'revoker-audit',
        DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/revocations-dlq',
        IDEMPOTENCY_TABLE_NAME: 'revoker-idempotency',
        LOG_LEVEL: 'silent',
      },
      timeout: 20_000,
    });

    // Assess
    const outcome = JSON.parse(await readFile(join(dir, 'outcome.json'), 'utf8'));
    expect(lazy.length).toBeGreaterThan(0);
    expect(outcome).toEqual({ handler: 'function', loaded: lazy });
  });
});

/** Writes a package's files under `dir` (the folders they name included); returns `dir`. */
const unzipTo = async (run: PackagedService, dir: string): Promise<string> => {
  for (const [name, content] of run.zip) {
    await mkdir(join(dir, posix.dirname(name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  return dir;
};

/** Params with no default: packaging without them fails (see 'package-time validation'). */
const REQUIRED_PARAMS = ['datashareArnPatterns'];

describe('docs/deploy.md', () => {
  it('documents every parameter with its default', async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    const rows = doc
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    for (const [name, value] of Object.entries(defaults.defaultParams)) {
      const row = rows.find((cells) => cells[1] === `\`${name}\``);
      expect(row, `no row for ${name}`).toBeDefined();
      const shown = REQUIRED_PARAMS.includes(name)
        ? '(required)'
        : value === null || value === ''
          ? '(none)'
          : `\`${String(value)}\``;
      expect(row?.[2], `${name}'s default`).toBe(shown);
    }
  });
});
