import {
  AssociateDataShareConsumerCommand,
  type DataShare,
  DescribeDataSharesCommand,
  DescribeDataSharesForConsumerCommand,
  DescribeDataSharesForProducerCommand,
  DisassociateDataShareConsumerCommand,
  InvalidDataShareFault,
  InvalidNamespaceFault,
  paginateDescribeDataShares,
  paginateDescribeDataSharesForConsumer,
  paginateDescribeDataSharesForProducer,
  RedshiftClient,
  type RedshiftClientConfig,
  RedshiftServiceException,
} from '@aws-sdk/client-redshift';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedshiftEmulator,
  type SeedFile,
  startRedshiftEmulator,
  targetKeyOf,
} from '../../src/local/redshift-emulator/index.js';
import { TokenBucket } from '../../src/local/redshift-emulator/token-bucket.js';

const EXAMPLES = new URL('../../examples/datashares.json', import.meta.url).pathname;
const SALES_DAILY =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_daily';
const SALES_PII =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_pii';
const MARKETING =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/marketing_attribution';
const LEDGER =
  'arn:aws:redshift:us-west-2:777788889999:datashare:4b3a2918-7c6d-4e5f-a1b2-c3d4e5f6a7b8/ledger_monthly';
const PROVISIONED_NS =
  'arn:aws:redshift:us-east-1:111122223333:namespace:2f9c6e7a-1b3d-4c5e-8f9a-0b1c2d3e4f5a';
const SERVERLESS_NS =
  'arn:aws:redshift-serverless:us-east-1:111122223333:namespace/6d1a9b2c-7e3f-4a5b-9c8d-1e2f3a4b5c6d';
const SALES_PRODUCER =
  'arn:aws:redshift:us-east-1:444455556666:namespace:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c';
const UNKNOWN_SHARE =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/nope';

let redshift: RedshiftEmulator;
const clients: RedshiftClient[] = [];

const clientFor = (
  emulator: RedshiftEmulator,
  extra: Partial<RedshiftClientConfig> = {},
): RedshiftClient => {
  const client = new RedshiftClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    ...extra,
  });
  clients.push(client);
  return client;
};

/** The rejection of a promise, for assertions on SDK exceptions. */
const failureOf = async (promise: Promise<unknown>): Promise<RedshiftServiceException> => {
  try {
    await promise;
  } catch (error) {
    return error as RedshiftServiceException;
  }
  throw new Error('expected the call to fail');
};

beforeAll(async () => {
  redshift = await startRedshiftEmulator({ datashares: EXAMPLES, seed: 1 });
});

afterEach(() => {
  redshift.reset();
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await redshift.stop();
});

describe('Redshift emulator: operations through the real SDK', () => {
  it('DescribeDataShares round-trips every DataShare and DataShareAssociation member', async () => {
    // Act
    const out = await clientFor(redshift).send(
      new DescribeDataSharesCommand({ DataShareArn: SALES_DAILY }),
    );

    // Assess
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Marker).toBeUndefined();
    expect(out.DataShares).toEqual([
      {
        DataShareArn: SALES_DAILY,
        ProducerArn: SALES_PRODUCER,
        AllowPubliclyAccessibleConsumers: false,
        DataShareType: 'INTERNAL',
        DataShareAssociations: [
          {
            ConsumerIdentifier: PROVISIONED_NS,
            Status: 'ACTIVE',
            CreatedDate: new Date('2025-03-04T09:15:00.000Z'),
            StatusChangeDate: new Date('2025-03-04T09:15:00.000Z'),
          },
          expect.objectContaining({ ConsumerIdentifier: SERVERLESS_NS, Status: 'ACTIVE' }),
          expect.objectContaining({ Status: 'ACTIVE' }),
        ],
      },
    ]);
  });

  it('round-trips region-wide associations, write flags and empty association lists', async () => {
    // Prepare
    const client = clientFor(redshift);
    await client.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: MARKETING,
        ConsumerRegion: 'us-east-1',
      }),
    );

    // Act
    const all = await client.send(new DescribeDataSharesCommand({}));

    // Assess
    expect(redshift.isAssociated(MARKETING, 'region:us-east-1')).toBe(false);
    const marketing = all.DataShares?.find((s) => s.DataShareArn === MARKETING);
    expect(marketing).toMatchObject({
      AllowPubliclyAccessibleConsumers: true,
      DataShareAssociations: [],
    });
    const payroll = all.DataShares?.find((s) => s.DataShareArn?.endsWith('/payroll_restricted'));
    expect(payroll?.DataShareAssociations?.[0]).toMatchObject({
      ProducerAllowedWrites: false,
      ConsumerAcceptedWrites: false,
    });
    expect(all.DataShares).toHaveLength(6);
  });

  it('DisassociateDataShareConsumer removes the ACTIVE association and returns the remaining ones', async () => {
    // Act
    const out = await clientFor(redshift).send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: SALES_DAILY,
        ConsumerArn: SERVERLESS_NS,
      }),
    );

    // Assess
    expect(out.DataShareArn).toBe(SALES_DAILY);
    expect(out.DataShareAssociations?.map((a) => a.ConsumerIdentifier)).not.toContain(
      SERVERLESS_NS,
    );
    expect(out.DataShareAssociations).toHaveLength(2);
    expect(redshift.isAssociated(SALES_DAILY, SERVERLESS_NS)).toBe(false);
    expect(redshift.isAssociated(SALES_DAILY, PROVISIONED_NS)).toBe(true);
  });

  it('DisassociateEntireAccount removes every association the consumer account owns', async () => {
    // Act
    const out = await clientFor(redshift).send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: SALES_DAILY,
        DisassociateEntireAccount: true,
      }),
    );

    // Assess: only the other account's namespace remains
    expect(out.DataShareAssociations?.map((a) => a.ConsumerIdentifier)).toEqual([
      'arn:aws:redshift:us-east-1:123456789012:namespace:c0ffee00-1234-4abc-8def-0123456789ab',
    ]);
    expect(redshift.isAssociated(LEDGER, 'account:111122223333')).toBe(true);
  });

  it('AssociateDataShareConsumer makes a consumer ACTIVE again after a disassociation', async () => {
    // Prepare
    const client = clientFor(redshift);
    await client.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: SALES_PII,
        ConsumerArn: PROVISIONED_NS,
      }),
    );

    // Act
    const out = await client.send(
      new AssociateDataShareConsumerCommand({
        DataShareArn: SALES_PII,
        ConsumerArn: PROVISIONED_NS,
        AllowWrites: false,
      }),
    );

    // Assess
    expect(out.DataShareAssociations).toContainEqual(
      expect.objectContaining({
        ConsumerIdentifier: PROVISIONED_NS,
        Status: 'ACTIVE',
        ConsumerAcceptedWrites: false,
      }),
    );
    expect(redshift.isAssociated(SALES_PII, PROVISIONED_NS)).toBe(true);
  });

  it('DescribeDataSharesForConsumer shows only the consumer view, filtered by Status', async () => {
    // Prepare
    const client = clientFor(redshift);

    // Act
    const active = await client.send(
      new DescribeDataSharesForConsumerCommand({ ConsumerArn: PROVISIONED_NS, Status: 'ACTIVE' }),
    );
    const available = await client.send(
      new DescribeDataSharesForConsumerCommand({ Status: 'AVAILABLE' }),
    );

    // Assess: the us-east-1 region-wide association and the entire-account one (ledger) cover
    // the provisioned namespace too
    expect(active.DataShares?.map((s) => s.DataShareArn)).toEqual([
      MARKETING,
      SALES_DAILY,
      SALES_PII,
      LEDGER,
    ]);
    expect(active.DataShares?.[1]?.DataShareAssociations).toEqual([
      expect.objectContaining({ ConsumerIdentifier: PROVISIONED_NS }),
    ]);
    expect(available.DataShares?.map((s) => s.DataShareArn)).toEqual([SALES_PII]);
  });

  it('DescribeDataSharesForProducer filters by ProducerArn and association Status', async () => {
    // Act
    const out = await clientFor(redshift).send(
      new DescribeDataSharesForProducerCommand({
        ProducerArn:
          'arn:aws:redshift:us-west-2:777788889999:namespace:4b3a2918-7c6d-4e5f-a1b2-c3d4e5f6a7b8',
        Status: 'DEAUTHORIZED',
      }),
    );

    // Assess
    expect(out.DataShares?.map((s) => s.DataShareArn?.split('/')[1])).toEqual([
      'payroll_restricted',
    ]);
  });

  it('the SDK paginators walk every page of the three describes with MaxRecords + Marker', async () => {
    // Prepare
    const client = clientFor(redshift);
    const collect = async (pages: AsyncIterable<{ DataShares?: DataShare[] }>) => {
      const sizes: number[] = [];
      const arns: string[] = [];
      for await (const page of pages) {
        sizes.push(page.DataShares?.length ?? 0);
        arns.push(...(page.DataShares ?? []).map((s) => s.DataShareArn ?? ''));
      }
      return { sizes, arns };
    };

    // Act
    const all = await collect(paginateDescribeDataShares({ client, pageSize: 4 }, {}));
    const consumer = await collect(
      paginateDescribeDataSharesForConsumer({ client, pageSize: 1 }, { Status: 'ACTIVE' }),
    );
    const producer = await collect(
      paginateDescribeDataSharesForProducer(
        { client, pageSize: 2 },
        { ProducerArn: SALES_PRODUCER },
      ),
    );

    // Assess
    expect(all.sizes).toEqual([4, 2]);
    expect(new Set(all.arns).size).toBe(6);
    expect(consumer.sizes).toEqual([1, 1, 1, 1, 1, 1]);
    expect(producer.sizes).toEqual([2, 1]);
  });

  it('a marker resumes after the last datashare returned even if the list changed in between', async () => {
    // Prepare
    const client = clientFor(redshift);
    const first = await client.send(
      new DescribeDataSharesForConsumerCommand({ Status: 'ACTIVE', MaxRecords: 2 }),
    );
    const seen = first.DataShares?.map((s) => s.DataShareArn) ?? [];
    await client.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: MARKETING,
        ConsumerRegion: 'us-east-1',
      }),
    );

    // Act
    const rest = await client.send(
      new DescribeDataSharesForConsumerCommand({ Status: 'ACTIVE', Marker: first.Marker }),
    );

    // Assess
    const next = rest.DataShares?.map((s) => s.DataShareArn) ?? [];
    expect(next.some((arn) => seen.includes(arn))).toBe(false);
    expect(seen.length + next.length).toBe(6);
  });
});

describe('Redshift emulator: API errors map to the SDK exception classes', () => {
  it('an unknown datashare ARN is InvalidDataShareFault "because the ARN doesn\'t exist"', async () => {
    // Act
    const error = await failureOf(
      clientFor(redshift).send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: UNKNOWN_SHARE,
          ConsumerArn: PROVISIONED_NS,
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidDataShareFault);
    expect(error.$fault).toBe('client');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toBe(
      `Can't disassociate consumer from datashare ${UNKNOWN_SHARE} because the ARN doesn't exist.`,
    );
  });

  it('disassociating a consumer twice is InvalidDataShareFault "isn\'t associated with this data consumer"', async () => {
    // Prepare
    const client = clientFor(redshift);
    const input = { DataShareArn: SALES_DAILY, ConsumerArn: PROVISIONED_NS };
    await client.send(new DisassociateDataShareConsumerCommand(input));

    // Act
    const error = await failureOf(client.send(new DisassociateDataShareConsumerCommand(input)));

    // Assess
    expect(error).toBeInstanceOf(InvalidDataShareFault);
    expect(error.message).toBe(
      `The datashare ${SALES_DAILY} either doesn't exist or isn't associated with this data consumer.`,
    );
  });

  it('a non-ACTIVE association cannot be disassociated', async () => {
    // Act
    const error = await failureOf(
      clientFor(redshift).send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: SALES_PII,
          ConsumerArn:
            'arn:aws:redshift-serverless:us-east-1:111122223333:namespace/9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b',
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidDataShareFault);
  });

  it('a ConsumerArn that is not a namespace ARN is InvalidNamespaceFault', async () => {
    // Act
    const error = await failureOf(
      clientFor(redshift).send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: SALES_DAILY,
          ConsumerArn: 'arn:aws:redshift:us-east-1:111122223333:cluster:analytics',
        }),
      ),
    );

    // Assess
    expect(error).toBeInstanceOf(InvalidNamespaceFault);
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it.each([
    ['no target', {}],
    ['two targets', { ConsumerArn: PROVISIONED_NS, ConsumerRegion: 'us-east-1' }],
    [
      'an arn and the entire account',
      { ConsumerArn: PROVISIONED_NS, DisassociateEntireAccount: true },
    ],
  ])('%s is InvalidParameterCombination', async (_name, target) => {
    // Act
    const error = await failureOf(
      clientFor(redshift).send(
        new DisassociateDataShareConsumerCommand({ DataShareArn: SALES_DAILY, ...target }),
      ),
    );

    // Assess
    expect(error.name).toBe('InvalidParameterCombination');
    expect(error).toBeInstanceOf(RedshiftServiceException);
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it.each([
    ['MaxRecords above 100', { MaxRecords: 101 }, 'MaxRecords'],
    ['an unknown Status', { Status: 'DEAUTHORIZED' as 'ACTIVE' }, 'Status'],
    ['a Marker the emulator did not issue', { Marker: 'bm9wZQ' }, 'Marker'],
  ])('%s is 400 InvalidParameterValue naming the parameter', async (_name, input, parameter) => {
    // Act
    const error = await failureOf(
      clientFor(redshift).send(new DescribeDataSharesForConsumerCommand(input)),
    );

    // Assess
    expect(error.name).toBe('InvalidParameterValue');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toContain(parameter);
  });

  it('a request without DataShareArn is 400 MissingParameter', async () => {
    // Act
    const error = await failureOf(
      clientFor(redshift).send(
        new DisassociateDataShareConsumerCommand({
          ConsumerRegion: 'us-east-1',
        } as unknown as { DataShareArn: string }),
      ),
    );

    // Assess
    expect(error.name).toBe('MissingParameter');
    expect(error.message).toContain('DataShareArn');
  });

  it('an unknown Action is 400 InvalidAction in the awsQuery error shape', async () => {
    // Act
    const response = await fetch(redshift.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=DescribeClusters&Version=2012-12-01',
    });

    // Assess
    expect(response.status).toBe(400);
    const xml = await response.text();
    expect(xml).toContain('<Type>Sender</Type><Code>InvalidAction</Code>');
    expect(xml).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/);
  });
});

describe('Redshift emulator: fault injection', () => {
  it('the token bucket admits burst calls then refills at the configured rate', () => {
    // Prepare
    let now = 0;
    const bucket = new TokenBucket(2, 3, () => now);

    // Act
    const burst = [bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()];
    now = 499;
    const tooSoon = bucket.tryTake();
    now = 500;
    const refilled = bucket.tryTake();

    // Assess
    expect(burst).toEqual([true, true, true, false]);
    expect(tooSoon).toBe(false);
    expect(refilled).toBe(true);
  });

  it('throttles the SDK beyond throttleRps with 400 Throttling "Rate exceeded"', async () => {
    // Prepare
    redshift.setFaults({ throttleRps: 1, burst: 5 });
    const client = clientFor(redshift);

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, () => client.send(new DescribeDataSharesCommand({}))),
    );

    // Assess
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const error = (rejected[0] as PromiseRejectedResult).reason as RedshiftServiceException;
    expect(error.name).toBe('Throttling');
    expect(error.message).toBe('Rate exceeded');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(redshift.stats().all.throttled).toBe(7);
  });

  it('a client pacing itself under throttleRps is never throttled', async () => {
    // Prepare
    redshift.setFaults({ throttleRps: 20, burst: 1 });
    const client = clientFor(redshift);

    // Act
    for (let i = 0; i < 5; i++) {
      await client.send(new DescribeDataSharesCommand({}));
      await new Promise((resolve) => setTimeout(resolve, 60));
    }

    // Assess
    expect(redshift.stats().all.throttled).toBe(0);
  });

  it('500 InternalFailure and 503 ServiceUnavailable reach the SDK as server faults', async () => {
    // Prepare
    redshift.setFaults({
      failNext: [
        { kind: 'error', operation: 'DescribeDataShares' },
        { kind: 'unavailable', operation: 'DescribeDataShares' },
      ],
    });
    const client = clientFor(redshift);

    // Act
    const first = await failureOf(client.send(new DescribeDataSharesCommand({})));
    const second = await failureOf(client.send(new DescribeDataSharesCommand({})));

    // Assess
    expect([first.name, first.$fault, first.$metadata.httpStatusCode]).toEqual([
      'InternalFailure',
      'server',
      500,
    ]);
    expect([second.name, second.$fault, second.$metadata.httpStatusCode]).toEqual([
      'ServiceUnavailable',
      'server',
      503,
    ]);
  });

  it('accessDenied answers 403 AccessDenied naming the IAM action', async () => {
    // Prepare
    redshift.setFaults({ failNext: [{ kind: 'accessDenied' }] });

    // Act
    const error = await failureOf(
      clientFor(redshift).send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: SALES_DAILY,
          ConsumerArn: PROVISIONED_NS,
        }),
      ),
    );

    // Assess
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toContain('redshift:DisassociateDataShareConsumer');
    expect(redshift.isAssociated(SALES_DAILY, PROVISIONED_NS)).toBe(true);
  });

  it('a reset is seen by the SDK as ECONNRESET (which the SDK names TimeoutError)', async () => {
    // Prepare
    redshift.setFaults({ failNext: [{ kind: 'reset' }] });

    // Act
    const error = await failureOf(clientFor(redshift).send(new DescribeDataSharesCommand({})));

    // Assess
    expect((error as unknown as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(error.name).toBe('TimeoutError');
    expect(redshift.calls.at(-1)).toMatchObject({ outcome: 'reset', injected: true });
  });

  it('a hang is seen by the SDK as a request timeout, and by an abortSignal as an abort', async () => {
    // Prepare
    redshift.setFaults({ failNext: [{ kind: 'hang', count: 2 }] });
    const client = clientFor(redshift, {
      requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true },
    });

    // Act
    const timedOut = await failureOf(client.send(new DescribeDataSharesCommand({})));
    const aborted = await failureOf(
      clientFor(redshift).send(new DescribeDataSharesCommand({}), {
        abortSignal: AbortSignal.timeout(100),
      }),
    );

    // Assess
    expect(timedOut.name).toBe('TimeoutError');
    expect((timedOut as unknown as NodeJS.ErrnoException).code).toBe('ETIMEDOUT');
    expect(aborted.name).toBe('AbortError');
    expect(redshift.stats().all.hang).toBe(2);
  });

  it('stop() ends requests that are still hanging', async () => {
    // Prepare
    const emulator = await startRedshiftEmulator({ faults: { hangRate: 1 } });
    const pending = failureOf(clientFor(emulator).send(new DescribeDataSharesCommand({})));
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Act
    await emulator.stop();

    // Assess: the client sees the connection go, not its own timeout
    expect(((await pending) as unknown as NodeJS.ErrnoException).code).toBe('ECONNRESET');
  });

  it('a fault "when: after" applies the disassociation, then fails the answer', async () => {
    // Prepare
    redshift.setFaults({
      failNext: [{ kind: 'reset', operation: 'DisassociateDataShareConsumer', when: 'after' }],
    });
    const client = clientFor(redshift);
    const input = { DataShareArn: SALES_DAILY, ConsumerArn: PROVISIONED_NS };

    // Act
    const lost = await failureOf(client.send(new DisassociateDataShareConsumerCommand(input)));
    const retry = await failureOf(client.send(new DisassociateDataShareConsumerCommand(input)));

    // Assess
    expect((lost as unknown as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(retry).toBeInstanceOf(InvalidDataShareFault);
    expect(redshift.isAssociated(SALES_DAILY, PROVISIONED_NS)).toBe(false);
    expect(redshift.calls.map((c) => [c.outcome, c.applied])).toEqual([
      ['reset', true],
      ['rejected', false],
    ]);
  });

  it('lostAnswerRate applies the disassociation, then answers 500: the consumer is gone and the call counts as a lost answer', async () => {
    // Prepare
    redshift.setFaults({ lostAnswerRate: 1 });
    const client = clientFor(redshift);

    // Act
    const lost = await failureOf(
      client.send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: SALES_DAILY,
          ConsumerArn: PROVISIONED_NS,
        }),
      ),
    );

    // Assess
    expect(lost.name).toBe('InternalFailure');
    expect(lost.$metadata.httpStatusCode).toBe(500);
    expect(redshift.isAssociated(SALES_DAILY, PROVISIONED_NS)).toBe(false);
    expect(redshift.calls.map((c) => [c.outcome, c.applied, c.lostAnswer])).toEqual([
      ['error', true, true],
    ]);
    expect(redshift.stats().all).toMatchObject({ total: 1, error: 1, injected: 1, lostAnswer: 1 });
  });

  it('lostAs: reset shows a random lost answer as ECONNRESET, the disassociation done', async () => {
    // Prepare
    redshift.setFaults({ lostAnswerRate: 1, lostAs: 'reset' });
    const client = clientFor(redshift);

    // Act
    const lost = await failureOf(
      client.send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: SALES_DAILY,
          ConsumerArn: SERVERLESS_NS,
        }),
      ),
    );

    // Assess
    expect((lost as unknown as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(redshift.isAssociated(SALES_DAILY, SERVERLESS_NS)).toBe(false);
    expect(redshift.stats().all).toMatchObject({ reset: 1, lostAnswer: 1 });
  });

  it('counts state changes per target: a lost answer and its rejected retry are one change', async () => {
    // Prepare
    redshift.setFaults({
      failNext: [{ kind: 'error', operation: 'DisassociateDataShareConsumer', when: 'after' }],
    });
    const client = clientFor(redshift);
    const input = { DataShareArn: SALES_DAILY, ConsumerArn: PROVISIONED_NS };

    // Act
    await failureOf(client.send(new DisassociateDataShareConsumerCommand(input)));
    await failureOf(client.send(new DisassociateDataShareConsumerCommand(input)));

    // Assess
    expect(
      redshift.countCalls({ dataShareArn: SALES_DAILY, consumer: PROVISIONED_NS }),
    ).toMatchObject({ total: 2, applied: 1 });
  });

  it('a fault "when: before" is not a lost answer: nothing changes and lostAnswer stays 0', async () => {
    // Prepare
    redshift.setFaults({ failNext: [{ kind: 'error' }] });

    // Act
    await failureOf(
      clientFor(redshift).send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: SALES_DAILY,
          ConsumerArn: PROVISIONED_NS,
        }),
      ),
    );

    // Assess
    expect(redshift.isAssociated(SALES_DAILY, PROVISIONED_NS)).toBe(true);
    expect(redshift.stats().all).toMatchObject({ error: 1, injected: 1, lostAnswer: 0 });
  });

  it('refuses random rates that add up to more than 1, lostAnswerRate included', () => {
    expect(() => redshift.setFaults({ errorRate: 0.5, lostAnswerRate: 0.6 })).toThrow(
      /lostAnswerRate must be <= 1, 1\.1 given/,
    );
  });

  it('failNext targets one datashare and consumer, and a custom code overrides the answer', async () => {
    // Prepare
    redshift.setFaults({
      failNext: [
        {
          kind: 'error',
          dataShareArn: SALES_DAILY,
          consumer: SERVERLESS_NS,
          httpStatus: 400,
          code: 'InvalidDataShareFault',
          message: 'There is an error with the datashare.',
        },
      ],
    });
    const client = clientFor(redshift);

    // Act
    const other = await client.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: SALES_DAILY,
        ConsumerArn: PROVISIONED_NS,
      }),
    );
    const targeted = await failureOf(
      client.send(
        new DisassociateDataShareConsumerCommand({
          DataShareArn: SALES_DAILY,
          ConsumerArn: SERVERLESS_NS,
        }),
      ),
    );

    // Assess
    expect(other.DataShareArn).toBe(SALES_DAILY);
    expect(targeted).toBeInstanceOf(InvalidDataShareFault);
    expect(targeted.message).toBe('There is an error with the datashare.');
    expect(redshift.faults.failNext).toEqual([]);
  });

  it('latencyMs delays every answer', async () => {
    // Prepare
    redshift.setFaults({ latencyMs: 120 });
    const started = performance.now();

    // Act
    await clientFor(redshift).send(new DescribeDataSharesCommand({}));

    // Assess
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('journals a call whose client gave up before the answer as clientGone: it ran, and nobody injected its loss', async () => {
    // Prepare: answers come after 300 ms; this client waits 100 ms for them
    redshift.setFaults({ latencyMs: 300 });
    const impatient = clientFor(redshift, {
      requestHandler: new NodeHttpHandler({ requestTimeout: 100, throwOnRequestTimeout: true }),
    });
    const patient = clientFor(redshift);
    const disassociate = new DisassociateDataShareConsumerCommand({
      DataShareArn: SALES_DAILY,
      ConsumerArn: PROVISIONED_NS,
    });

    // Act
    const gaveUp = await failureOf(impatient.send(disassociate));
    await new Promise((resolve) => setTimeout(resolve, 400)); // the answer is due, and written
    await patient.send(new DescribeDataSharesCommand({ DataShareArn: SALES_DAILY }));

    // Assess
    expect(gaveUp.name).toMatch(/Timeout/);
    const [call, read] = redshift.calls;
    expect(call).toMatchObject({ outcome: 'ok', applied: true, injected: false, clientGone: true });
    expect(read?.clientGone).toBeUndefined();
    expect(
      redshift.countCalls({ dataShareArn: SALES_DAILY, consumer: PROVISIONED_NS }),
    ).toMatchObject({ total: 1, ok: 1, applied: 1, injected: 0, clientGone: 1 });
  });

  it('random faults from the same seed replay identically', async () => {
    // Prepare
    const run = async () => {
      const emulator = await startRedshiftEmulator({
        seed: 42,
        faults: { errorRate: 0.3, resetRate: 0.2 },
      });
      const client = clientFor(emulator);
      for (let i = 0; i < 20; i++)
        await client.send(new DescribeDataSharesCommand({})).catch(() => {});
      await emulator.stop();
      return emulator.calls.map((c) => c.code ?? c.outcome);
    };

    // Act
    const first = await run();
    const second = await run();

    // Assess
    expect(first).toEqual(second);
    expect(new Set(first)).toEqual(
      new Set(['ok', 'reset', 'InternalFailure', 'ServiceUnavailable']),
    );
  });
});

describe('Redshift emulator: call accounting and admin routes', () => {
  it('counts Disassociate calls per target, with the failures injected on it', async () => {
    // Prepare
    redshift.setFaults({
      failNext: [
        { kind: 'throttle', dataShareArn: SALES_DAILY, consumer: PROVISIONED_NS, count: 2 },
      ],
    });
    const client = clientFor(redshift);
    const input = { DataShareArn: SALES_DAILY, ConsumerArn: PROVISIONED_NS };

    // Act
    for (let i = 0; i < 3; i++) {
      await client.send(new DisassociateDataShareConsumerCommand(input)).catch(() => {});
    }

    // Assess
    const target = redshift.stats().byTarget[targetKeyOf(SALES_DAILY, PROVISIONED_NS)];
    expect(target).toMatchObject({ total: 3, ok: 1, throttled: 2, injected: 2 });
    expect(target?.total).toBeLessThanOrEqual(1 + (target?.injected ?? 0));
    expect(redshift.countCalls({ operation: 'DisassociateDataShareConsumer' }).total).toBe(3);
  });

  it('POST /__emulator/faults changes faults while running; a bad patch is 400', async () => {
    // Act
    const set = await fetch(`${redshift.endpoint}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ failNext: [{ kind: 'throttle' }] }),
    });
    const bad = await fetch(`${redshift.endpoint}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ errorRate: 2 }),
    });
    const error = await failureOf(clientFor(redshift).send(new DescribeDataSharesCommand({})));

    // Assess
    expect(set.status).toBe(200);
    expect(bad.status).toBe(400);
    expect((await bad.json()) as unknown).toMatchObject({
      error: expect.stringContaining('errorRate'),
    });
    expect(error.name).toBe('Throttling');
  });

  it('GET /__emulator/state and /__emulator/calls report datashares and calls', async () => {
    // Prepare
    await clientFor(redshift).send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: SALES_DAILY,
        ConsumerArn: PROVISIONED_NS,
      }),
    );

    // Act
    const state = (await (await fetch(`${redshift.endpoint}/__emulator/state`)).json()) as {
      datashares: { dataShareArn: string; associations: unknown[] }[];
    };
    const calls = (await (await fetch(`${redshift.endpoint}/__emulator/calls`)).json()) as {
      calls: { operation: string; outcome: string }[];
      stats: { all: { total: number } };
    };

    // Assess
    expect(state.datashares.find((s) => s.dataShareArn === SALES_DAILY)?.associations).toHaveLength(
      2,
    );
    expect(calls.calls).toEqual([
      expect.objectContaining({ operation: 'DisassociateDataShareConsumer', outcome: 'ok' }),
    ]);
    expect(calls.stats.all.total).toBe(1);
  });

  it('POST /__emulator/seed replaces the datashares; reset() restores the start seed', async () => {
    // Prepare
    const seed: SeedFile = {
      datashares: [
        { dataShareArn: UNKNOWN_SHARE, associations: [{ consumerArn: PROVISIONED_NS }] },
      ],
    };

    // Act
    const response = await fetch(`${redshift.endpoint}/__emulator/seed`, {
      method: 'POST',
      body: JSON.stringify(seed),
    });
    const seeded = redshift.datashares().map((s) => s.dataShareArn);
    await fetch(`${redshift.endpoint}/__emulator/reset`, { method: 'POST' });

    // Assess
    expect(response.status).toBe(200);
    expect(seeded).toEqual([UNKNOWN_SHARE]);
    expect(redshift.datashares()).toHaveLength(6);
  });

  it('POST /__emulator/associate associates a revoked consumer again, dated now (or `at`), and DescribeDataShares serves its CreatedDate and StatusChangeDate', async () => {
    // Prepare: revoke the namespace through the API
    const client = clientFor(redshift);
    await client.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: SALES_DAILY,
        ConsumerArn: PROVISIONED_NS,
      }),
    );
    expect(redshift.isAssociated(SALES_DAILY, PROVISIONED_NS)).toBe(false);
    const before = Date.now();

    // Act
    const response = await fetch(`${redshift.endpoint}/__emulator/associate`, {
      method: 'POST',
      body: JSON.stringify({ dataShareArn: SALES_DAILY, consumer: PROVISIONED_NS }),
    });
    const dated = await fetch(`${redshift.endpoint}/__emulator/associate`, {
      method: 'POST',
      body: JSON.stringify({
        dataShareArn: SALES_DAILY,
        consumer: 'region:eu-west-1',
        at: '2026-11-25T08:30:00Z',
      }),
    });
    const described = await client.send(
      new DescribeDataSharesCommand({ DataShareArn: SALES_DAILY }),
    );

    // Assess
    expect(response.status).toBe(200);
    expect(dated.status).toBe(200);
    expect(redshift.isAssociated(SALES_DAILY, PROVISIONED_NS)).toBe(true);
    const associations = described.DataShares?.[0]?.DataShareAssociations ?? [];
    const again = associations.find((a) => a.ConsumerIdentifier === PROVISIONED_NS);
    expect(again?.Status).toBe('ACTIVE');
    expect(again?.CreatedDate?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(again?.StatusChangeDate?.getTime()).toBe(again?.CreatedDate?.getTime());
    expect(associations.find((a) => a.ConsumerRegion === 'eu-west-1')).toMatchObject({
      ConsumerIdentifier: redshift.consumerAccountId,
      Status: 'ACTIVE',
      CreatedDate: new Date('2026-11-25T08:30:00Z'),
      StatusChangeDate: new Date('2026-11-25T08:30:00Z'),
    });
  });

  it('POST /__emulator/associate refuses an unknown datashare or a malformed body with 400, naming the problem', async () => {
    const unknown = await fetch(`${redshift.endpoint}/__emulator/associate`, {
      method: 'POST',
      body: JSON.stringify({ dataShareArn: UNKNOWN_SHARE, consumer: PROVISIONED_NS }),
    });
    const malformed = await fetch(`${redshift.endpoint}/__emulator/associate`, {
      method: 'POST',
      body: JSON.stringify({ dataShareArn: SALES_DAILY, consumer: 'nobody', at: 'yesterday' }),
    });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toContain('InvalidDataShareFault');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: string }).error).toMatch(/at|consumer/);
  });

  it('a seeded association without dates is dated long before any decision, so it never looks newer than one', () => {
    redshift.seed({
      datashares: [
        { dataShareArn: UNKNOWN_SHARE, associations: [{ consumerArn: PROVISIONED_NS }] },
      ],
    });
    const [association] = redshift.associations(UNKNOWN_SHARE);
    expect(association?.createdDate.toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(association?.statusChangeDate.toISOString()).toBe('2000-01-01T00:00:00.000Z');
  });

  it('a seed with an invalid ARN is rejected with the offending path', () => {
    // Act
    const act = () =>
      redshift.seed({ datashares: [{ dataShareArn: 'arn:aws:redshift:us-east-1:1:datashare:x' }] });

    // Assess
    expect(act).toThrow(/datashares\[0\]\.dataShareArn/);
  });
});
