import fc from 'fast-check';

/**
 * fast-check arbitraries for the request contract, built from the documented ARN shapes rather
 * than from the schema's own regular expressions, so a property test checks the schema against
 * the contract and not against itself.
 */

const partition = fc.constantFrom('aws', 'aws-cn', 'aws-us-gov');

export const regionArbitrary = fc.oneof(
  fc.constantFrom('us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1', 'cn-north-1'),
  fc.stringMatching(/^[a-z]{2}-(?:north|south|east|west|central)-\d$/),
);

const account = fc.stringMatching(/^\d{12}$/);
const namespaceId = fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9-]{1,64}$/));

export const dataShareArnArbitrary = fc
  .tuple(
    partition,
    regionArbitrary,
    account,
    namespaceId,
    fc.stringMatching(/^[A-Za-z0-9_]{1,127}$/),
  )
  .map(
    ([p, region, acct, ns, name]) => `arn:${p}:redshift:${region}:${acct}:datashare:${ns}/${name}`,
  );

export const consumerArnArbitrary = fc
  .tuple(partition, regionArbitrary, account, namespaceId, fc.boolean())
  .map(([p, region, acct, ns, serverless]) =>
    serverless
      ? `arn:${p}:redshift-serverless:${region}:${acct}:namespace/${ns}`
      : `arn:${p}:redshift:${region}:${acct}:namespace:${ns}`,
  );

const isoTimestamp = fc
  .tuple(
    fc.date({
      min: new Date('2000-01-01T00:00:00Z'),
      max: new Date('2099-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    fc.constantFrom('Z', '+00:00', '+05:30', '-08:00'),
  )
  .map(([date, zone]) => date.toISOString().replace('Z', zone));

const target = fc.oneof(
  consumerArnArbitrary.map((consumerArn) => ({ consumerArn })),
  regionArbitrary.map((consumerRegion) => ({ consumerRegion })),
  fc.constant({ disassociateEntireAccount: true as const }),
);

/** Any request the contract accepts (version 1), as the object a policy engine would send. */
export const validRequestArbitrary = fc
  .tuple(
    fc.record(
      {
        eventId: fc.string({ minLength: 1, maxLength: 256 }),
        dataShareArn: dataShareArnArbitrary,
        policyId: fc.string({ minLength: 1, maxLength: 256 }),
        issuedAt: isoTimestamp,
        reason: fc.string({ maxLength: 1024 }),
        correlationId: fc.string({ maxLength: 256 }),
        dryRun: fc.boolean(),
      },
      { requiredKeys: ['eventId', 'dataShareArn', 'policyId', 'issuedAt'] },
    ),
    target,
  )
  .map(([fields, chosen]) => ({ ...fields, ...chosen }));
