import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cfn,
  effectiveTemplate,
  getAtt,
  type Json,
  type PolicyStatement,
  propertyOf,
  resourcesOfType,
  type Template,
} from './cloudformation.js';
import { loadYamlTemplate, type StackTemplate, withParameters } from './cloudformation-yaml.js';
import { REPO_ROOT } from './package-service.js';

// The spoke template is plain CloudFormation: read as YAML and instantiated here with parameter
// values, the way CloudFormation would, without packaging anything.
const TEMPLATE_PATH = join(REPO_ROOT, 'infra/consumer-role.yml');
const HUB_ROLE_ARN = 'arn:aws:iam::999988887777:role/datashare-revoker-prod-us-east-1-lambdaRole';

let template: StackTemplate;
beforeAll(async () => {
  template = await loadYamlTemplate(TEMPLATE_PATH);
});

const PRODUCER_DATASHARES = 'arn:aws:redshift:*:444455556666:datashare:*/*';
const deploy = (parameters: Record<string, string>): Template =>
  effectiveTemplate(
    withParameters(template, {
      HubRoleArn: HUB_ROLE_ARN,
      DatashareArnPatterns: PRODUCER_DATASHARES,
      ...parameters,
    }),
  );
/** A trust policy statement: a principal, and no Resource (the role itself is the resource). */
type TrustStatement = Omit<PolicyStatement, 'Resource'>;

const trustStatements = (stack: Template): TrustStatement[] =>
  propertyOf<{ Statement: TrustStatement[] }>(stack, 'SpokeRole', 'AssumeRolePolicyDocument')
    .Statement;
const permissionStatements = (stack: Template): PolicyStatement[] =>
  propertyOf<Array<{ PolicyDocument: { Statement: PolicyStatement[] } }>>(
    stack,
    'SpokeRole',
    'Policies',
  ).flatMap((policy) => policy.PolicyDocument.Statement);

const THIS_ACCOUNTS_NAMESPACES = {
  ArnLikeIfExists: {
    'redshift:ConsumerArn': [
      { 'Fn::Sub': `arn:${cfn('AWS::Partition')}:redshift:*:${cfn('AWS::AccountId')}:namespace:*` },
      {
        'Fn::Sub': `arn:${cfn('AWS::Partition')}:redshift-serverless:*:${cfn('AWS::AccountId')}:namespace/*`,
      },
    ],
  },
};
const permissions = (datashares: Json): PolicyStatement[] => [
  {
    Sid: 'RevokeThisAccountsDatashareConsumers',
    Effect: 'Allow',
    Action: 'redshift:DisassociateDataShareConsumer',
    Resource: datashares,
    Condition: THIS_ACCOUNTS_NAMESPACES,
  },
  {
    Sid: 'ConfirmDatashareAssociations',
    Effect: 'Allow',
    Action: 'redshift:DescribeDataShares',
    Resource: '*',
  },
];
const trust = (condition?: Json): TrustStatement[] => [
  {
    Sid: 'TrustHubRevoker',
    Effect: 'Allow',
    Principal: { AWS: HUB_ROLE_ARN },
    Action: 'sts:AssumeRole',
    ...(condition === undefined ? {} : { Condition: condition }),
  },
];

describe('infra/consumer-role.yml', () => {
  it('is plain CloudFormation: no Serverless Framework variables', async () => {
    const text = await readFile(TEMPLATE_PATH, 'utf8');
    expect(text).not.toMatch(/\$\{(self|param|file|opt|sls|env|cf|ssm|s3):/);
    expect(template.AWSTemplateFormatVersion).toBe('2010-09-09');
  });

  it('creates one role, named RoleName (datashare-revoker-spoke by default), and outputs its ARN', () => {
    expect(Object.keys(template.Resources)).toEqual(['SpokeRole']);
    expect(resourcesOfType(template, 'AWS::IAM::Role')).toEqual(['SpokeRole']);
    expect(propertyOf(deploy({}), 'SpokeRole', 'RoleName')).toBe('datashare-revoker-spoke');
    expect(propertyOf(deploy({ RoleName: 'revoker' }), 'SpokeRole', 'RoleName')).toBe('revoker');
    expect(template.Outputs?.RoleArn?.Value).toEqual(getAtt('SpokeRole', 'Arn'));
  });

  it('trusts only the hub role, with no condition when PrincipalOrgId and ExternalId are empty', () => {
    expect(trustStatements(deploy({}))).toEqual(trust());
  });

  it.each([
    [
      'PrincipalOrgId and ExternalId',
      { PrincipalOrgId: 'o-abcdefghij', ExternalId: 'revoker-7f3a' },
      { 'aws:PrincipalOrgID': 'o-abcdefghij', 'sts:ExternalId': 'revoker-7f3a' },
    ],
    [
      'PrincipalOrgId only',
      { PrincipalOrgId: 'o-abcdefghij' },
      { 'aws:PrincipalOrgID': 'o-abcdefghij' },
    ],
    ['ExternalId only', { ExternalId: 'revoker-7f3a' }, { 'sts:ExternalId': 'revoker-7f3a' }],
  ])('requires exactly the trust conditions given (%s)', (_, parameters, condition) => {
    expect(trustStatements(deploy(parameters))).toEqual(trust({ StringEquals: condition }));
  });

  it('has no default for DatashareArnPatterns: a stack without it is refused, naming it', () => {
    expect(template.Parameters.DatashareArnPatterns).not.toHaveProperty('Default');
    expect(() => withParameters(template, { HubRoleArn: HUB_ROLE_ARN })).toThrow(
      'parameter DatashareArnPatterns has no default',
    );
  });

  it('allows DisassociateDataShareConsumer on the given datashares, for this account’s namespaces only, and DescribeDataShares', () => {
    const stack = deploy({});
    expect(permissionStatements(stack)).toEqual(permissions([PRODUCER_DATASHARES]));
    expect(propertyOf(stack, 'SpokeRole', 'Policies')).toHaveLength(1);
  });

  it('scopes DisassociateDataShareConsumer to DatashareArnPatterns when given', () => {
    const patterns = [
      'arn:aws:redshift:us-east-1:444455556666:datashare:ns-1/sales',
      'arn:aws:redshift:eu-west-1:444455556666:datashare:ns-2/*',
    ];
    expect(permissionStatements(deploy({ DatashareArnPatterns: patterns.join(',') }))).toEqual(
      permissions(patterns),
    );
  });

  it('grants no other action, and the trust policy no other principal', () => {
    const variants: Record<string, string>[] = [
      {},
      { PrincipalOrgId: 'o-abcdefghij', ExternalId: 'x-1' },
    ];
    for (const parameters of variants) {
      const stack = deploy(parameters);
      expect(permissionStatements(stack).flatMap((s) => s.Action)).toEqual([
        'redshift:DisassociateDataShareConsumer',
        'redshift:DescribeDataShares',
      ]);
      expect(trustStatements(stack).map((s) => [s.Effect, s.Principal, s.Action])).toEqual([
        ['Allow', { AWS: HUB_ROLE_ARN }, 'sts:AssumeRole'],
      ]);
    }
  });

  it.each([
    ['HubRoleArn', HUB_ROLE_ARN, 'arn:aws:iam::999988887777:user/someone'],
    ['HubRoleArn', 'arn:aws-us-gov:iam::999988887777:role/path/revoker', '999988887777'],
    ['RoleName', 'datashare-revoker-spoke', 'path/name'],
    ['PrincipalOrgId', '', 'o-short'],
    ['PrincipalOrgId', 'o-abcdefghij', 'r-abcdefghij'],
    ['ExternalId', '', 'x'],
    ['ExternalId', 'revoker:prod/7f3a', 'has space'],
  ])('constrains %s: accepts %j, refuses %j', (name, accepted, refused) => {
    const pattern = new RegExp(template.Parameters[name]?.AllowedPattern ?? '(?!)');
    expect(pattern.test(accepted)).toBe(true);
    expect(pattern.test(refused)).toBe(false);
  });

  it('describes every parameter, and docs/deploy.md documents each with its default', async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    const rows = doc
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    for (const [name, parameter] of Object.entries(template.Parameters)) {
      expect(parameter.Description, `${name}'s Description`).toMatch(/\S{3,}/);
      const row = rows.find((cells) => cells[1] === `\`${name}\``);
      expect(row, `no row for ${name} in docs/deploy.md`).toBeDefined();
      const shown =
        parameter.Default === undefined
          ? '(required)'
          : parameter.Default === ''
            ? '(none)'
            : `\`${parameter.Default}\``;
      expect(row?.[2], `${name}'s default`).toBe(shown);
    }
  });
});
