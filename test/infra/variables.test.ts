import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { cfn } from './cloudformation.js';

type Resolver = (context: {
  resolveVariable: (variable: string) => Promise<unknown>;
}) => Promise<unknown>;
const variables = createRequire(import.meta.url)('../../infra/variables.cjs') as Record<
  | 'visibilityTimeout'
  | 'maxReceiveCount'
  | 'datashareArnPatterns'
  | 'producerPrincipalArns'
  | 'existingAuditEventBusName'
  | 'existingAuditEventBusArn'
  | 'intakeEventPattern'
  | 'intakeEnabled'
  | 'consumerRoleName'
  | 'consumerAccounts'
  | 'consumerRoleExternalId'
  | 'consumerRoleSessionSeconds'
  | 'roleStatements'
  | 'reservedConcurrency'
  | 'staleAfterSeconds'
  | 'allowBroadTargets'
  | 'allowedDatashares'
  | 'breakerMaxRevocations'
  | 'breakerWindowSeconds'
  | 'sourceQueueRetentionSeconds'
  | 'deadLetterAgeAlarmSeconds'
  | 'kmsKeyMode'
  | 'kmsKeyId'
  | 'sqsManagedSse'
  | 'dynamoDbSseType'
  | 'sourceQueueSendDeny'
  | 'auditLogRuleDimensions'
  | 'intakeRuleDimensions',
  Resolver
>;

/** Resolves `param:<name>` from a table, as the framework does (null when the param is unset). */
const withParams = (params: Record<string, unknown>) => ({
  resolveVariable: async (variable: string) => params[variable.replace(/^param:/, '')] ?? null,
});

/** The statements infra/iam.yml would give, as `file(infra/iam.yml):statements`. */
const FILE_STATEMENTS = [{ Sid: 'FromIamYml', Effect: 'Allow', Action: 'a:B', Resource: '*' }];
const multiAccount = (params: Record<string, unknown>) =>
  withParams({ ...params, 'file(infra/iam.yml):statements': FILE_STATEMENTS });

describe('infra/variables.cjs', () => {
  it('computes the visibility timeout as 6 × timeout + batching window, from numbers or strings', async () => {
    await expect(
      variables.visibilityTimeout(withParams({ timeout: 30, maximumBatchingWindow: 0 })),
    ).resolves.toBe(180);
    await expect(
      variables.visibilityTimeout(withParams({ timeout: '900', maximumBatchingWindow: '300' })),
    ).resolves.toBe(5_700);
  });

  it.each([
    [
      { timeout: 'abc', maximumBatchingWindow: 0 },
      "'timeout': expected an integer between 1 and 900, 'abc' given.",
    ],
    [
      { timeout: 901, maximumBatchingWindow: 0 },
      "'timeout': expected an integer between 1 and 900, '901' given.",
    ],
    [
      { timeout: 30, maximumBatchingWindow: 2.5 },
      "'maximumBatchingWindow': expected an integer between 0 and 300, '2.5' given.",
    ],
    [{ timeout: 30 }, "'maximumBatchingWindow': expected an integer between 0 and 300, '' given."],
  ])(
    'rejects %o naming the parameter, the expectation and the value given',
    async (params, message) => {
      await expect(variables.visibilityTimeout(withParams(params))).rejects.toThrow(
        `Invalid parameter ${message}`,
      );
    },
  );

  it('gives maxReceiveCount as a number, between 1 and 1000', async () => {
    await expect(variables.maxReceiveCount(withParams({ maxReceiveCount: '8' }))).resolves.toBe(8);
    await expect(variables.maxReceiveCount(withParams({ maxReceiveCount: 0 }))).rejects.toThrow(
      "Invalid parameter 'maxReceiveCount'",
    );
  });

  it('splits datashare ARN patterns on commas and leaves pseudo parameters to Fn::Sub', async () => {
    await expect(
      variables.datashareArnPatterns(
        withParams({
          datashareArnPatterns: ` arn:${cfn('AWS::Partition')}:redshift:*:*:datashare:*/*, arn:aws:redshift:us-east-1:123456789012:datashare:ns/sales ,`,
        }),
      ),
    ).resolves.toEqual([
      { 'Fn::Sub': `arn:${cfn('AWS::Partition')}:redshift:*:*:datashare:*/*` },
      { 'Fn::Sub': 'arn:aws:redshift:us-east-1:123456789012:datashare:ns/sales' },
    ]);
  });

  it.each([
    ['', 'expected at least one datashare ARN pattern'],
    ['*', 'expected arn:<partition>:redshift:<region>:<account>:datashare:'],
    ['arn:aws:redshift:us-east-1:123456789012:namespace:abc', 'datashare'],
  ])('refuses datashareArnPatterns %j', async (given, message) => {
    await expect(
      variables.datashareArnPatterns(withParams({ datashareArnPatterns: given })),
    ).rejects.toThrow(message);
  });

  it('accepts no producer principals, or IAM principal ARNs and account ids', async () => {
    await expect(
      variables.producerPrincipalArns(withParams({ producerPrincipalArns: '' })),
    ).resolves.toEqual([]);
    await expect(
      variables.producerPrincipalArns(
        withParams({ producerPrincipalArns: 'arn:aws:iam::111122223333:role/a, 444455556666' }),
      ),
    ).resolves.toEqual(['arn:aws:iam::111122223333:role/a', '444455556666']);
    await expect(
      variables.producerPrincipalArns(withParams({ producerPrincipalArns: '*' })),
    ).rejects.toThrow("Invalid parameter 'producerPrincipalArns'");
  });

  it('takes an existing audit bus by name or ARN, and gives both its name and its ARN', async () => {
    const byArn = withParams({
      existingAuditEventBus: 'arn:aws:events:eu-west-1:123456789012:event-bus/audit',
    });
    await expect(variables.existingAuditEventBusName(byArn)).resolves.toBe('audit');
    await expect(variables.existingAuditEventBusArn(byArn)).resolves.toBe(
      'arn:aws:events:eu-west-1:123456789012:event-bus/audit',
    );

    const byName = withParams({ existingAuditEventBus: 'audit' });
    await expect(variables.existingAuditEventBusName(byName)).resolves.toBe('audit');
    await expect(variables.existingAuditEventBusArn(byName)).resolves.toEqual({
      'Fn::Sub': `arn:${cfn('AWS::Partition')}:events:${cfn('AWS::Region')}:${cfn('AWS::AccountId')}:event-bus/audit`,
    });

    await expect(
      variables.existingAuditEventBusName(withParams({ existingAuditEventBus: 'arn:aws:sqs:x' })),
    ).rejects.toThrow("Invalid parameter 'existingAuditEventBus'");
  });

  it('parses the intake event pattern from JSON, or takes it as an object', async () => {
    await expect(
      variables.intakeEventPattern(withParams({ intakeEventPattern: '{"source":["a"]}' })),
    ).resolves.toEqual({ source: ['a'] });
    await expect(
      variables.intakeEventPattern(withParams({ intakeEventPattern: { source: ['b'] } })),
    ).resolves.toEqual({ source: ['b'] });
    for (const given of ['{source', '[]', '{}', '"x"']) {
      await expect(
        variables.intakeEventPattern(withParams({ intakeEventPattern: given })),
      ).rejects.toThrow("Invalid parameter 'intakeEventPattern'");
    }
  });

  it("normalises intakeEnabled to 'true' or 'false' for Fn::Equals", async () => {
    await expect(variables.intakeEnabled(withParams({ intakeEnabled: true }))).resolves.toBe(
      'true',
    );
    await expect(variables.intakeEnabled(withParams({ intakeEnabled: 'FALSE' }))).resolves.toBe(
      'false',
    );
    await expect(variables.intakeEnabled(withParams({ intakeEnabled: 'yes' }))).rejects.toThrow(
      "Invalid parameter 'intakeEnabled': expected true or false, 'yes' given.",
    );
  });

  describe('multi-account params', () => {
    const spoke = (account: string) => ({
      'Fn::Sub': `arn:${cfn('AWS::Partition')}:iam::${account}:role/spoke`,
    });

    it('leaves everything empty and adds no statement while consumerRoleName is unset', async () => {
      const unset = multiAccount({ consumerRoleName: '', consumerRoleSessionSeconds: 3600 });
      await expect(variables.consumerRoleName(unset)).resolves.toBe('');
      await expect(variables.consumerAccounts(unset)).resolves.toBe('');
      await expect(variables.consumerRoleExternalId(unset)).resolves.toBe('');
      await expect(variables.consumerRoleSessionSeconds(unset)).resolves.toBe('');
      await expect(variables.roleStatements(unset)).resolves.toEqual(FILE_STATEMENTS);
    });

    it('appends sts:AssumeRole on the role in each listed account, once each', async () => {
      const params = multiAccount({
        consumerRoleName: ' spoke ',
        consumerAccounts: '111122223333, 444455556666,,111122223333',
        consumerRoleSessionSeconds: '900',
      });
      await expect(variables.consumerRoleName(params)).resolves.toBe('spoke');
      await expect(variables.consumerAccounts(params)).resolves.toBe('111122223333,444455556666');
      await expect(variables.consumerRoleSessionSeconds(params)).resolves.toBe('900');
      await expect(variables.roleStatements(params)).resolves.toEqual([
        ...FILE_STATEMENTS,
        {
          Sid: 'AssumeConsumerAccountRoles',
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: [spoke('111122223333'), spoke('444455556666')],
        },
      ]);
    });

    it("allows the role in any account for '*'", async () => {
      const params = multiAccount({ consumerRoleName: 'spoke', consumerAccounts: '*' });
      await expect(variables.consumerAccounts(params)).resolves.toBe('*');
      await expect(variables.roleStatements(params)).resolves.toEqual([
        ...FILE_STATEMENTS,
        {
          Sid: 'AssumeConsumerAccountRoles',
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Resource: [spoke('*')],
        },
      ]);
    });

    it.each([
      [
        { consumerRoleName: 'spoke', consumerAccounts: '' },
        "'consumerAccounts': expected comma-separated 12-digit account ids, or '*' for any account when 'consumerRoleName' is set, '' given.",
      ],
      [
        { consumerRoleName: 'spoke', consumerAccounts: '111122223333,12345' },
        "'consumerAccounts': expected comma-separated 12-digit account ids, or '*' for any account, '12345' given.",
      ],
      [
        { consumerRoleName: 'spoke', consumerAccounts: '*,111122223333' },
        "'consumerAccounts': expected comma-separated 12-digit account ids, or '*' for any account; '*' stands alone, '*,111122223333' given.",
      ],
      [
        { consumerRoleName: 'spoke', consumerAccounts: 'arn:aws:iam::111122223333:root' },
        "'consumerAccounts': expected comma-separated 12-digit account ids, or '*' for any account, 'arn:aws:iam::111122223333:root' given.",
      ],
      [
        { consumerAccounts: '111122223333' },
        "'consumerAccounts': expected no accounts while 'consumerRoleName' is unset, '111122223333' given.",
      ],
      [
        { consumerRoleName: 'role/spoke', consumerAccounts: '111122223333' },
        "'consumerRoleName': expected an IAM role name (1-64 characters of [A-Za-z0-9+=,.@_-]), 'role/spoke' given.",
      ],
    ])(
      'rejects %o naming the parameter, the expectation and the value given',
      async (params, message) => {
        await expect(variables.consumerAccounts(multiAccount(params))).rejects.toThrow(
          `Invalid parameter ${message}`,
        );
        await expect(variables.roleStatements(multiAccount(params))).rejects.toThrow(
          `Invalid parameter ${message}`,
        );
      },
    );

    it('rejects an external id or a session length that cannot work', async () => {
      await expect(
        variables.consumerRoleExternalId(multiAccount({ consumerRoleExternalId: 'abc' })),
      ).rejects.toThrow(
        "Invalid parameter 'consumerRoleExternalId': expected no value while 'consumerRoleName' is unset, 'abc' given.",
      );
      await expect(
        variables.consumerRoleExternalId(
          multiAccount({ consumerRoleName: 'spoke', consumerRoleExternalId: 'has space' }),
        ),
      ).rejects.toThrow("Invalid parameter 'consumerRoleExternalId'");
      await expect(
        variables.consumerRoleExternalId(
          multiAccount({ consumerRoleName: 'spoke', consumerRoleExternalId: 'revoker:prod/7f3a' }),
        ),
      ).resolves.toBe('revoker:prod/7f3a');
      await expect(
        variables.consumerRoleSessionSeconds(
          multiAccount({ consumerRoleName: 'spoke', consumerRoleSessionSeconds: '43200' }),
        ),
      ).rejects.toThrow(
        "Invalid parameter 'consumerRoleSessionSeconds': expected an integer between 900 and 3600, '43200' given.",
      );
    });
  });

  describe('guardrail params', () => {
    it('takes no reserved concurrency, or one at least maximumConcurrency', async () => {
      await expect(
        variables.reservedConcurrency(
          withParams({ reservedConcurrency: '', maximumConcurrency: 5 }),
        ),
      ).resolves.toBeNull();
      await expect(
        variables.reservedConcurrency(
          withParams({ reservedConcurrency: '5', maximumConcurrency: 5 }),
        ),
      ).resolves.toBe(5);
      await expect(
        variables.reservedConcurrency(
          withParams({ reservedConcurrency: 4, maximumConcurrency: '5' }),
        ),
      ).rejects.toThrow(
        "Invalid parameter 'reservedConcurrency': expected an integer at least maximumConcurrency (5), or no value, '4' given.",
      );
      await expect(
        variables.reservedConcurrency(
          withParams({ reservedConcurrency: 'x', maximumConcurrency: 5 }),
        ),
      ).rejects.toThrow("Invalid parameter 'reservedConcurrency'");
    });

    it('validates STALE_AFTER_SECONDS and ALLOW_BROAD_TARGETS', async () => {
      await expect(variables.staleAfterSeconds(withParams({ staleAfterSeconds: 0 }))).resolves.toBe(
        '0',
      );
      await expect(
        variables.staleAfterSeconds(withParams({ staleAfterSeconds: '-1' })),
      ).rejects.toThrow("Invalid parameter 'staleAfterSeconds': expected an integer between 0");
      await expect(
        variables.allowBroadTargets(withParams({ allowBroadTargets: false })),
      ).resolves.toBe('false');
      await expect(
        variables.allowBroadTargets(withParams({ allowBroadTargets: 'yes' })),
      ).rejects.toThrow(
        "Invalid parameter 'allowBroadTargets': expected true or false, 'yes' given.",
      );
    });

    it('takes datashare ARN prefixes for ALLOWED_DATASHARES as the worker does, and nothing else', async () => {
      await expect(
        variables.allowedDatashares(withParams({ allowedDatashares: '' })),
      ).resolves.toBe('');
      const prefixes = [
        'arn:aws:redshift:us-east-1:123456789012:datashare:',
        'arn:aws:redshift:eu-west-1:123456789012:datashare:ns-1/',
        'arn:aws:redshift:eu-west-1:123456789012:datashare:ns-1/sales_',
      ];
      await expect(
        variables.allowedDatashares(withParams({ allowedDatashares: ` ${prefixes.join(' , ')} ` })),
      ).resolves.toBe(prefixes.join(','));
      for (const given of [
        'sales',
        'arn:aws:redshift:',
        'arn:aws:redshift:us-east-1:123:datashare:',
      ]) {
        await expect(
          variables.allowedDatashares(withParams({ allowedDatashares: given })),
        ).rejects.toThrow(
          `Invalid parameter 'allowedDatashares': expected datashare ARN prefixes, each arn:<partition>:redshift:<region>:<producer account>:datashare: optionally followed by <producer namespace>/ and a name prefix, '${given}' given.`,
        );
      }
    });

    it('switches the breaker on only with both its params', async () => {
      const off = withParams({ breakerMaxRevocations: '', breakerWindowSeconds: '' });
      await expect(variables.breakerMaxRevocations(off)).resolves.toBe('');
      await expect(variables.breakerWindowSeconds(off)).resolves.toBe('');
      const on = withParams({ breakerMaxRevocations: 100, breakerWindowSeconds: '3600' });
      await expect(variables.breakerMaxRevocations(on)).resolves.toBe('100');
      await expect(variables.breakerWindowSeconds(on)).resolves.toBe('3600');
      await expect(
        variables.breakerWindowSeconds(withParams({ breakerMaxRevocations: '100' })),
      ).rejects.toThrow(
        "Invalid parameter 'breakerWindowSeconds': expected an integer between 1 and 86400 when 'breakerMaxRevocations' is set, '' given.",
      );
      await expect(
        variables.breakerWindowSeconds(withParams({ breakerWindowSeconds: '60' })),
      ).rejects.toThrow(
        "Invalid parameter 'breakerWindowSeconds': expected no value while 'breakerMaxRevocations' is unset, '60' given.",
      );
      for (const given of ['0', '5001']) {
        await expect(
          variables.breakerMaxRevocations(withParams({ breakerMaxRevocations: given })),
        ).rejects.toThrow(
          `Invalid parameter 'breakerMaxRevocations': expected an integer between 1 and 5000, '${given}' given.`,
        );
      }
    });

    it('keeps the source retention and the DLQ age alarm below the DLQ retention (14 days)', async () => {
      await expect(
        variables.sourceQueueRetentionSeconds(
          withParams({ sourceQueueRetentionSeconds: 1_209_599 }),
        ),
      ).resolves.toBe(1_209_599);
      await expect(
        variables.sourceQueueRetentionSeconds(
          withParams({ sourceQueueRetentionSeconds: 1_209_600 }),
        ),
      ).rejects.toThrow(
        "Invalid parameter 'sourceQueueRetentionSeconds': expected an integer between 60 and 1209599, '1209600' given.",
      );
      await expect(
        variables.deadLetterAgeAlarmSeconds(withParams({ deadLetterAgeAlarmSeconds: 1_209_600 })),
      ).rejects.toThrow("Invalid parameter 'deadLetterAgeAlarmSeconds'");
    });

    it("takes kmsKey as empty, 'create' or a key ARN, and refuses an alias", async () => {
      const arn = 'arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd';
      await expect(variables.kmsKeyMode(withParams({ kmsKey: '' }))).resolves.toBe('none');
      await expect(variables.kmsKeyMode(withParams({ kmsKey: 'create' }))).resolves.toBe('create');
      await expect(variables.kmsKeyMode(withParams({ kmsKey: arn }))).resolves.toBe('existing');
      const noValue = { Ref: 'AWS::NoValue' };
      await expect(variables.kmsKeyId(withParams({ kmsKey: ` ${arn} ` }))).resolves.toBe(arn);
      await expect(variables.kmsKeyId(withParams({ kmsKey: 'create' }))).resolves.toEqual({
        'Fn::GetAtt': ['KmsKey', 'Arn'],
      });
      await expect(variables.kmsKeyId(withParams({ kmsKey: '' }))).resolves.toEqual(noValue);
      await expect(variables.sqsManagedSse(withParams({ kmsKey: '' }))).resolves.toBe(true);
      await expect(variables.sqsManagedSse(withParams({ kmsKey: arn }))).resolves.toEqual(noValue);
      await expect(variables.dynamoDbSseType(withParams({ kmsKey: '' }))).resolves.toEqual(noValue);
      await expect(variables.dynamoDbSseType(withParams({ kmsKey: 'create' }))).resolves.toBe(
        'KMS',
      );
      await expect(
        variables.kmsKeyMode(withParams({ kmsKey: 'arn:aws:kms:eu-west-1:123456789012:alias/x' })),
      ).rejects.toThrow("Invalid parameter 'kmsKey'");
    });

    it('adds the KMS statement to the role only with a key', async () => {
      const withKey = multiAccount({ kmsKey: 'create' });
      const statements = (await variables.roleStatements(withKey)) as Array<{ Sid: string }>;
      expect(statements.map((s) => s.Sid)).toEqual(['FromIamYml', 'UseKeyThroughSqsAndDynamoDb']);
    });

    it('denies SendMessage to all but producer ARNs (by aws:PrincipalArn), producer accounts (by aws:PrincipalAccount), replayers and the intake rule', async () => {
      const deny = await variables.sourceQueueSendDeny(
        withParams({
          producerPrincipalArns: '111122223333',
          replayPrincipalArns: 'arn:aws:iam::123456789012:role/operator',
          intakeEnabled: false,
        }),
      );
      expect(deny).toMatchObject({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sqs:SendMessage',
        Condition: {
          ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/operator'] },
          StringNotEquals: { 'aws:PrincipalAccount': ['111122223333'] },
        },
      });
      await expect(
        variables.sourceQueueSendDeny(
          withParams({ replayPrincipalArns: '123456789012', intakeEnabled: false }),
        ),
      ).rejects.toThrow(
        "Invalid parameter 'replayPrincipalArns': expected an IAM role or user ARN",
      );
    });

    it('gives rule metrics EventBusName and RuleName on a custom bus, RuleName alone on the default one', async () => {
      const names = { 'self:service': 'svc', 'sls:stage': 'prod' };
      await expect(
        variables.auditLogRuleDimensions(withParams({ ...names, existingAuditEventBus: '' })),
      ).resolves.toEqual([
        { Name: 'EventBusName', Value: 'svc-prod-audit' },
        { Name: 'RuleName', Value: 'svc-prod-audit-to-logs' },
      ]);
      await expect(
        variables.auditLogRuleDimensions(
          withParams({
            ...names,
            existingAuditEventBus: 'arn:aws:events:eu-west-1:123456789012:event-bus/default',
          }),
        ),
      ).resolves.toEqual([{ Name: 'RuleName', Value: 'svc-prod-audit-to-logs' }]);
      await expect(
        variables.intakeRuleDimensions(
          withParams({
            ...names,
            intakeEventBusName: 'arn:aws:events:eu-west-1:123456789012:event-bus/pe',
          }),
        ),
      ).resolves.toEqual([
        { Name: 'EventBusName', Value: 'pe' },
        { Name: 'RuleName', Value: 'svc-prod-intake' },
      ]);
    });
  });
});
