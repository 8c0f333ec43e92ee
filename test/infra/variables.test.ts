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
  | 'intakeEnabled',
  Resolver
>;

/** Resolves `param:<name>` from a table, as the framework does (null when the param is unset). */
const withParams = (params: Record<string, unknown>) => ({
  resolveVariable: async (variable: string) => params[variable.replace(/^param:/, '')] ?? null,
});

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
});
