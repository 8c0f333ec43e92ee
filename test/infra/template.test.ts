import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// Three `osls package` runs, in parallel, once for the whole file: the defaults with the real
// src/handler.ts; every optional feature switched on with non-default numbers and a probe
// handler that imports what the worker imports (see fixtures/probe-handler.ts); and multi-account
// mode with any account ('*'), the one variant the custom run cannot show at the same time.
const STAGE = 'ci';
const CUSTOM_PARAMS = {
  memorySize: '1024',
  timeout: '60',
  maximumBatchingWindow: '5',
  batchSize: '20',
  maximumConcurrency: '7',
  maxReceiveCount: '8',
  reservedConcurrency: '3',
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
};
const ANY_ACCOUNT_PARAMS = { consumerRoleName: 'revoker-spoke', consumerAccounts: '*' };
const EXISTING_BUS_ARN = CUSTOM_PARAMS.existingAuditEventBus;

let scratch: string;
let defaults: PackagedService;
let custom: PackagedService;
let anyAccount: PackagedService;
/** What CloudFormation would create from each template (conditions applied). */
let deployed: Template;
let deployedCustom: Template;
let deployedAnyAccount: Template;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'datashare-revoker-infra-'));
  const probe = await readFile(new URL('./fixtures/probe-handler.ts', import.meta.url), 'utf8');
  [defaults, custom, anyAccount] = await Promise.all([
    packageService({ workDir: join(scratch, 'defaults'), stage: STAGE }),
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
  ]);
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
      ReservedConcurrentExecutions: 3,
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
      REDSHIFT_MAX_CONCURRENCY: '5',
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

  it('keeps the function log group for logRetentionDays (30 by default)', () => {
    expect(properties(deployed, 'RevokerLogGroup').RetentionInDays).toBe(30);
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

  it('encrypts both queues with SSE-SQS and keeps DLQ messages for 14 days', () => {
    expect(properties(deployed, 'SourceQueue').SqsManagedSseEnabled).toBe(true);
    expect(properties(deployed, 'DeadLetterQueue')).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 60 * 60,
    });
  });

  it.each([
    ['SourceQueuePolicy', 'SourceQueue'],
    ['DeadLetterQueuePolicy', 'DeadLetterQueue'],
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

  it('allows no sender by default: the source queue policy only denies', () => {
    expect(queuePolicyStatements(deployed, 'SourceQueuePolicy').map((s) => s.Effect)).toEqual([
      'Deny',
    ]);
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
});

describe('IAM', () => {
  const ours = (template: Template) =>
    statementsBySid(roleStatements(template).filter((statement) => statement.Sid !== undefined));
  const normalised = (statements: Record<string, PolicyStatement>) =>
    Object.fromEntries(
      Object.entries(statements).map(([sid, { Effect, Action, Resource }]) => [
        sid,
        { Effect, Action: asList(Action), Resource },
      ]),
    );
  const expected = (datashareResources: Json, auditBusArn: Json) => ({
    RevokeDatashareConsumers: {
      Effect: 'Allow',
      Action: ['redshift:DisassociateDataShareConsumer'],
      Resource: datashareResources,
    },
    ConfirmDatashareAssociations: {
      Effect: 'Allow',
      Action: ['redshift:DescribeDataShares', 'redshift:DescribeDataSharesForConsumer'],
      Resource: '*',
    },
    PublishAuditEvents: { Effect: 'Allow', Action: ['events:PutEvents'], Resource: auditBusArn },
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

  it('scopes DisassociateDataShareConsumer to datashareArnPatterns and PutEvents to an existing bus', () => {
    const { AssumeConsumerAccountRoles: _, ...others } = normalised(ours(deployedCustom));
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
    const { AssumeConsumerAccountRoles, ...others } = ours(deployedCustom);
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

  it("allows the consumer role in any account only when consumerAccounts is '*'", () => {
    const { AssumeConsumerAccountRoles, ...others } = ours(deployedAnyAccount);
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

  it('archives events whose source is AUDIT_EVENT_SOURCE, for 365 days by default', () => {
    expect(properties(deployed, 'AuditEventArchive')).toMatchObject({
      SourceArn: getAtt('AuditEventBus', 'Arn'),
      RetentionDays: 365,
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
      RetentionInDays: 365,
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
  const mapSources = (run: PackagedService): string[] =>
    JSON.parse(run.zip.get('src/handler.mjs.map')?.toString('utf8') ?? '{}').sources ?? [];

  it('contains only the handler as an ESM bundle and its source map', () => {
    for (const run of [defaults, custom]) {
      expect([...run.zip.keys()].sort()).toEqual(['src/handler.mjs', 'src/handler.mjs.map']);
      const code = run.zip.get('src/handler.mjs')?.toString('utf8') ?? '';
      expect(code).toMatch(/^import\s*\{\s*createRequire/);
      expect(code).toMatch(/\/\/# sourceMappingURL=handler\.mjs\.map\s*$/);
    }
  });

  it('leaves nothing external: the only imports left are Node built-ins', () => {
    for (const run of [defaults, custom]) {
      const imports = staticImports(run.zip.get('src/handler.mjs')?.toString('utf8') ?? '');
      expect(imports.length).toBeGreaterThan(0);
      expect(imports.filter((specifier) => !isBuiltin(specifier))).toEqual([]);
    }
  });

  it("bundles the AWS SDK's tree-shakable ES modules, p-retry, pino, zod and p-limit", () => {
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
    for (const dependency of ['p-retry', 'pino', 'zod', 'p-limit']) {
      expect(sources.some((source) => source.includes(`node_modules/${dependency}/`))).toBe(true);
    }
  });

  it('runs as ESM on Node 22 without node_modules, and its stack traces map to the TypeScript', async () => {
    // Prepare: the package's files alone, as Lambda unpacks them (no node_modules up the tree)
    const dir = join(scratch, 'custom', 'unzipped');
    await mkdir(join(dir, 'src'), { recursive: true });
    for (const [name, content] of custom.zip) await writeFile(join(dir, name), content);
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
});

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
      const shown = value === null || value === '' ? '(none)' : `\`${String(value)}\``;
      expect(row?.[2], `${name}'s default`).toBe(shown);
    }
  });
});
