import { describe, expect, it } from 'vitest';
import { EventBridgeFaultPlan } from '../../src/local/eventbridge-emulator/faults.js';
import { ProxyFaultPlan } from '../../src/local/fault-proxy/faults.js';
import { applyLambdaFaults, noLambdaFaults } from '../../src/local/lambda-emulator/faults.js';
import { FaultPlan } from '../../src/local/redshift-emulator/faults.js';
import { parseSeedFile } from '../../src/local/redshift-emulator/seed-file.js';
import { parseAccountsSeed } from '../../src/local/sts-emulator/accounts-seed.js';
import { StsFaultPlan } from '../../src/local/sts-emulator/faults.js';

const DATASHARE =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_daily';
const NAMESPACE =
  'arn:aws:redshift:us-east-1:111122223333:namespace:11111111-2222-3333-4444-555555555555';

const messageOf = (act: () => unknown): string => {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(TypeError);
    return (error as TypeError).message;
  }
  throw new Error('expected a TypeError');
};

describe('emulator faults and seeds: every refusal names the field, the expectation and the value given', () => {
  it.each([
    [
      { failNext: [{ kind: 'throttle', count: 0 }] },
      'at failNext.0.count: Invalid value: Expected >=1 but received 0; given {"failNext":[{"kind":"throttle","count":0}]}',
    ],
    [
      { failNext: [{ kind: 'error', count: 1.5 }] },
      'at failNext.0.count: Invalid value: Expected an integer but received 1.5;',
    ],
    [
      { failNext: [{}] },
      'at failNext.0.kind: Missing key: Expected ("throttle" | "error" | "reset" | "lostAnswer") but received undefined;',
    ],
    [
      { latencyMs: 'x' },
      'at latencyMs: Invalid type: Expected number but received "x"; given {"latencyMs":"x"}',
    ],
    [
      { bogus: 1, other: 2 },
      'at (root): Unknown keys: Expected "failNext" | "latencyMs" | "transitionMs" but received "bogus", "other";',
    ],
    [[], 'at (root): Invalid type: Expected Object but received Array; given []'],
  ])('Lambda emulator faults %j', (patch, message) => {
    expect(messageOf(() => applyLambdaFaults(noLambdaFaults(), patch))).toContain(
      `invalid Lambda emulator faults ${message}`,
    );
  });

  it('lists every offending field of a patch, one line each, with its path', () => {
    // Act
    const message = messageOf(() =>
      new FaultPlan({}, 1).update({
        errorRate: 3,
        throttleRpsByAccount: { '123': 1 },
        failNext: [{ kind: 'error', httpStatus: 700 }],
      }),
    );

    // Assess
    expect(message).toBe(
      [
        'Invalid Redshift emulator faults:',
        '✖ Invalid key: Expected a 12-digit account id but received "123"',
        '  → at throttleRpsByAccount.123',
        '✖ Invalid value: Expected <=1 but received 3',
        '  → at errorRate',
        '✖ Invalid value: Expected <=599 but received 700',
        '  → at failNext[0].httpStatus',
      ].join('\n'),
    );
  });

  it.each([
    [
      { datashares: [{ dataShareArn: 'nope' }] },
      '✖ Invalid format: Expected arn:<partition>:redshift:<region>:<account>:datashare:<namespace>/<name> but received "nope"\n  → at datashares[0].dataShareArn',
    ],
    [
      {
        datashares: [
          { dataShareArn: DATASHARE, associations: [{ consumerArn: NAMESPACE, account: '1' }] },
        ],
      },
      '✖ Invalid format: Expected a 12-digit account id but received "1"\n  → at datashares[0].associations[0].account',
    ],
    [
      {
        datashares: [
          {
            dataShareArn: DATASHARE,
            associations: [{ consumerArn: NAMESPACE, account: '111122223333' }],
          },
        ],
      },
      '✖ Invalid targets: Expected either consumerArn alone, or account and/or consumerRegion but received consumerArn and account\n  → at datashares[0].associations[0]',
    ],
    [
      {
        datashares: [
          {
            dataShareArn: DATASHARE,
            associations: [{ consumerArn: NAMESPACE, createdDate: '2024-01-01T00:00:00+02:00' }],
          },
        ],
      },
      '✖ Invalid format: Expected an ISO 8601 date-time in UTC (2024-05-01T12:00:00Z, seconds required) but received "2024-01-01T00:00:00+02:00"\n  → at datashares[0].associations[0].createdDate',
    ],
  ])('Redshift emulator seed %#', (seed, message) => {
    expect(messageOf(() => parseSeedFile(seed))).toBe(
      `Invalid Redshift emulator seed:\n${message}`,
    );
  });

  it('STS emulator: the accounts seed and the faults', () => {
    expect(messageOf(() => parseAccountsSeed({ accounts: { '12345': { roles: [] } } }))).toBe(
      'Invalid STS emulator seed:\n✖ Invalid key: Expected a 12-digit account id but received "12345"\n  → at accounts.12345',
    );
    expect(
      messageOf(() => parseAccountsSeed({ accounts: { '222233334444': { roles: [{}] } } })),
    ).toBe(
      'Invalid STS emulator seed:\n✖ Missing key: Expected string but received undefined\n  → at accounts.222233334444.roles[0].name',
    );
    expect(messageOf(() => new StsFaultPlan({}, 1).update({ credentialLifetimeSeconds: 0 }))).toBe(
      'Invalid STS emulator faults:\n✖ Invalid value: Expected >=1 but received 0\n  → at credentialLifetimeSeconds',
    );
  });

  it('EventBridge emulator: an unknown key is told at its object, with the keys there are', () => {
    expect(
      messageOf(() =>
        new EventBridgeFaultPlan({}, 1).update({
          failNextCalls: [{ kind: 'throttle', later: true }],
        }),
      ),
    ).toBe(
      'Invalid EventBridge emulator faults:\n✖ Unknown key: Expected "kind" | "count" | "when" but received "later"\n  → at failNextCalls[0]',
    );
  });

  it('fault proxy: a scoped rate names its bad field, or else what it takes', () => {
    // Prepare
    const plan = new ProxyFaultPlan({}, 1, 'SQS fault proxy');

    // Act + Assess
    expect(messageOf(() => plan.update({ throttleRate: 'x' }))).toBe(
      'Invalid SQS fault proxy faults:\n✖ Invalid type: Expected a number from 0 to 1, or { rate, operations? } but received "x"\n  → at throttleRate',
    );
    expect(messageOf(() => plan.update({ throttleRate: { rate: 2 } }))).toBe(
      'Invalid SQS fault proxy faults:\n✖ Invalid value: Expected <=1 but received 2\n  → at throttleRate.rate',
    );
    expect(messageOf(() => plan.update({ latencyMs: { foo: 1 } }))).toBe(
      [
        'Invalid SQS fault proxy faults:',
        '✖ Missing key: Expected number but received undefined',
        '  → at latencyMs.ms',
        '✖ Unknown key: Expected "ms" | "operations" but received "foo"',
        '  → at latencyMs',
      ].join('\n'),
    );
  });

  it('refuses an array for an object and Infinity for a number, as before', () => {
    expect(() => new EventBridgeFaultPlan({}, 1).update({ failNextEntries: [[]] })).toThrow(
      /Expected Object but received Array\n {2}→ at failNextEntries\[0\]/,
    );
    expect(() => parseAccountsSeed({ accounts: [] })).toThrow(
      /Expected Object but received Array\n {2}→ at accounts$/,
    );
    expect(() => new FaultPlan({}, 1).update({ latencyMs: Number.POSITIVE_INFINITY })).toThrow(
      /Expected a finite number but received Infinity\n {2}→ at latencyMs$/,
    );
  });
});
