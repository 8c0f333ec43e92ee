import {
  DescribeDataSharesCommand,
  DisassociateDataShareConsumerCommand,
  InvalidDataShareFault,
  InvalidNamespaceFault,
  RedshiftClient,
  RedshiftServiceException,
} from '@aws-sdk/client-redshift';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConsumerRoleCredentials } from '../../../src/adapters/consumer-role.js';
import { RedshiftClients, RedshiftDataShareRevoker } from '../../../src/adapters/redshift.js';
import { FailureKind, RedshiftCallError } from '../../../src/core/errors.js';
import { Outcome } from '../../../src/core/outcome.js';
import type { DisassociationTarget } from '../../../src/core/target.js';
import { CONSUMER_ARN, DATA_SHARE_ARN } from '../../helpers/requests.js';

const redshift = mockClient(RedshiftClient);
const sts = mockClient(STSClient);

const namespaceTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'namespace', arn: CONSUMER_ARN },
  accountId: '111122223333',
};
const regionTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'region', region: 'eu-central-1' },
  accountId: '111122223333',
};
const accountTarget: DisassociationTarget = {
  dataShareArn: DATA_SHARE_ARN,
  consumer: { kind: 'account' },
  accountId: '111122223333',
};

const CONSUMER_ACCOUNT = '111122223333';
/** Calls as the function itself (no WORKER_ROLE_ARN configured). */
const OWN_ACTOR = { accountId: CONSUMER_ACCOUNT, roleArn: null };
const GONE = { actor: OWN_ACTOR, requestId: 'req-ds' };

// Message texts as Redshift writes them (field notes).
const ARN_DOES_NOT_EXIST = `Can't disassociate consumer from datashare ${DATA_SHARE_ARN} because the ARN doesn't exist.`;
const EITHER_OR = `The datashare ${DATA_SHARE_ARN} either doesn't exist or isn't associated with this data consumer.`;
const NOT_ASSOCIATED = "The consumer isn't associated with the datashare.";

const dataShareFault = (message: string) =>
  new InvalidDataShareFault({
    message,
    $metadata: { httpStatusCode: 400, requestId: 'req-ds' },
  });

const throttling = () =>
  new RedshiftServiceException({
    name: 'Throttling',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400, requestId: 'req-throttle' },
  });

const revoker = () => new RedshiftDataShareRevoker(new RedshiftClients({ requestTimeoutMs: 1000 }));

const call = { region: 'eu-west-1', signal: new AbortController().signal, assumeRole: false };

/** What a revocation throws, to assert on. */
const failureOf = async (promise: Promise<unknown>): Promise<RedshiftCallError> => {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RedshiftCallError);
    return error as RedshiftCallError;
  }
  throw new Error('expected the call to fail');
};

describe('RedshiftDataShareRevoker — the DisassociateDataShareConsumer call', () => {
  beforeEach(() => {
    redshift.reset();
  });

  it.each([
    ['a consumer namespace', namespaceTarget, { ConsumerArn: CONSUMER_ARN }],
    ['a consumer region', regionTarget, { ConsumerRegion: 'eu-central-1' }],
    ['the entire account', accountTarget, { DisassociateEntireAccount: true }],
  ])('names %s and nothing else as the consumer', async (_, target, consumerFields) => {
    // Prepare
    redshift.on(DisassociateDataShareConsumerCommand).resolves({});
    // Act
    await revoker().disassociate(target, call);
    // Assess
    const calls = redshift.commandCalls(DisassociateDataShareConsumerCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({ DataShareArn: DATA_SHARE_ARN, ...consumerFields });
  });

  it('passes the abort signal to the SDK call, so the deadline can cut it short', async () => {
    // Prepare
    redshift.on(DisassociateDataShareConsumerCommand).resolves({});
    const controller = new AbortController();
    // Act
    await revoker().disassociate(namespaceTarget, {
      region: 'eu-west-1',
      assumeRole: false,
      signal: controller.signal,
    });
    // Assess
    // The mock types `args` as the command alone; the SDK passes the options second.
    const options = (
      redshift.commandCalls(DisassociateDataShareConsumerCommand)[0]?.args as unknown[] | undefined
    )?.[1];
    expect(options).toEqual({ abortSignal: controller.signal });
  });

  it('reports REVOKED with the associations Redshift returned, dates as ISO strings', async () => {
    // Prepare
    redshift.on(DisassociateDataShareConsumerCommand).resolves({
      DataShareArn: DATA_SHARE_ARN,
      DataShareAssociations: [
        {
          ConsumerIdentifier: CONSUMER_ARN,
          Status: 'DEAUTHORIZED',
          CreatedDate: new Date('2026-01-01T00:00:00Z'),
          StatusChangeDate: new Date('2026-11-25T08:00:01Z'),
        },
        { ConsumerRegion: 'eu-central-1', Status: 'ACTIVE' },
        {},
      ],
    });
    // Act
    const result = await revoker().disassociate(namespaceTarget, call);
    // Assess
    expect(result).toEqual({
      outcome: Outcome.Revoked,
      associations: [
        {
          consumerIdentifier: CONSUMER_ARN,
          status: 'DEAUTHORIZED',
          createdDate: '2026-01-01T00:00:00.000Z',
          statusChangeDate: '2026-11-25T08:00:01.000Z',
        },
        { consumerRegion: 'eu-central-1', status: 'ACTIVE' },
        {},
      ],
      actor: OWN_ACTOR,
    });
  });

  it('reports REVOKED with no associations when Redshift returned none', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).resolves({});
    expect(await revoker().disassociate(namespaceTarget, call)).toEqual({
      outcome: Outcome.Revoked,
      associations: [],
      actor: OWN_ACTOR,
    });
  });
});

describe('RedshiftDataShareRevoker — "already gone" answers', () => {
  beforeEach(() => {
    redshift.reset();
  });

  it('reports ALREADY_REVOKED, with no describe call, when Redshift says plainly the consumer is not associated', async () => {
    // Prepare
    redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(NOT_ASSOCIATED));
    // Act
    const result = await revoker().disassociate(namespaceTarget, call);
    // Assess
    expect(result).toEqual({ outcome: Outcome.AlreadyRevoked, associations: [], ...GONE });
    expect(redshift.commandCalls(DescribeDataSharesCommand)).toHaveLength(0);
  });

  it.each([
    ['"…because the ARN doesn\'t exist."', ARN_DOES_NOT_EXIST],
    ['"…either doesn\'t exist or isn\'t associated…"', EITHER_OR],
  ])(
    'confirms an ambiguous %s with DescribeDataShares: not listed → ALREADY_REVOKED',
    async (_, message) => {
      // Prepare
      redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(message));
      redshift.on(DescribeDataSharesCommand).resolves({ DataShares: [] });
      // Act
      const result = await revoker().disassociate(namespaceTarget, call);
      // Assess
      expect(result).toEqual({ outcome: Outcome.AlreadyRevoked, associations: [], ...GONE });
      const describes = redshift.commandCalls(DescribeDataSharesCommand);
      expect(describes).toHaveLength(1);
      expect(describes[0]?.args[0].input).toMatchObject({ DataShareArn: DATA_SHARE_ARN });
    },
  );

  it('confirms ALREADY_REVOKED when the datashare lists no ACTIVE association for the consumer, and reports what it lists', async () => {
    // Prepare
    redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(ARN_DOES_NOT_EXIST));
    redshift.on(DescribeDataSharesCommand).resolves({
      DataShares: [
        {
          DataShareArn: DATA_SHARE_ARN,
          DataShareAssociations: [
            { ConsumerIdentifier: CONSUMER_ARN, Status: 'DEAUTHORIZED' },
            {
              ConsumerIdentifier: 'arn:aws:redshift:eu-west-1:111122223333:namespace:other',
              Status: 'ACTIVE',
            },
          ],
        },
      ],
    });
    // Act
    const result = await revoker().disassociate(namespaceTarget, call);
    // Assess
    expect(result).toEqual({
      outcome: Outcome.AlreadyRevoked,
      associations: [
        { consumerIdentifier: CONSUMER_ARN, status: 'DEAUTHORIZED' },
        {
          consumerIdentifier: 'arn:aws:redshift:eu-west-1:111122223333:namespace:other',
          status: 'ACTIVE',
        },
      ],
      ...GONE,
    });
  });

  it('confirms ALREADY_REVOKED when DescribeDataShares itself says InvalidDataShareFault: the consumer cannot see the share', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(ARN_DOES_NOT_EXIST));
    redshift
      .on(DescribeDataSharesCommand)
      .rejects(dataShareFault('There is an error with the datashare.'));
    expect(await revoker().disassociate(namespaceTarget, call)).toEqual({
      outcome: Outcome.AlreadyRevoked,
      associations: [],
      ...GONE,
    });
  });

  it('fails transient (AssociationStillActive) when the describe still lists an ACTIVE association for the consumer', async () => {
    // Prepare
    const original = dataShareFault(EITHER_OR);
    redshift.on(DisassociateDataShareConsumerCommand).rejects(original);
    redshift.on(DescribeDataSharesCommand).resolves({
      DataShares: [
        {
          DataShareArn: DATA_SHARE_ARN,
          DataShareAssociations: [{ ConsumerIdentifier: CONSUMER_ARN, Status: 'ACTIVE' }],
        },
      ],
    });
    // Act
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    // Assess
    expect(error.kind).toBe(FailureKind.Transient);
    expect(error.code).toBe('AssociationStillActive');
    expect(error.retryable).toBe(true);
    expect(error.cause).toBe(original);
    expect(error.context).toMatchObject({ dataShareArn: DATA_SHARE_ARN });
    expect(error.message).toContain(EITHER_OR);
  });

  it('matches a region target against the association of that region', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(ARN_DOES_NOT_EXIST));
    redshift.on(DescribeDataSharesCommand).resolves({
      DataShares: [
        {
          DataShareArn: DATA_SHARE_ARN,
          DataShareAssociations: [{ ConsumerRegion: 'eu-central-1', Status: 'ACTIVE' }],
        },
      ],
    });
    const error = await failureOf(revoker().disassociate(regionTarget, call));
    expect(error.code).toBe('AssociationStillActive');
  });

  it('matches an account target against an ACTIVE association of a 12-digit account', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(ARN_DOES_NOT_EXIST));
    redshift.on(DescribeDataSharesCommand).resolves({
      DataShares: [
        {
          DataShareArn: DATA_SHARE_ARN,
          DataShareAssociations: [{ ConsumerIdentifier: CONSUMER_ACCOUNT, Status: 'ACTIVE' }],
        },
      ],
    });
    const error = await failureOf(revoker().disassociate(accountTarget, call));
    expect(error.code).toBe('AssociationStillActive');
  });

  it('reads every page of DescribeDataShares before it decides', async () => {
    // Prepare: the association shows up on the second page
    redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(ARN_DOES_NOT_EXIST));
    redshift
      .on(DescribeDataSharesCommand)
      .resolvesOnce({ DataShares: [], Marker: 'page-2' })
      .resolvesOnce({
        DataShares: [
          {
            DataShareArn: DATA_SHARE_ARN,
            DataShareAssociations: [{ ConsumerIdentifier: CONSUMER_ARN, Status: 'ACTIVE' }],
          },
        ],
      });
    // Act
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    // Assess
    expect(error.code).toBe('AssociationStillActive');
    const describes = redshift.commandCalls(DescribeDataSharesCommand);
    // (the SDK paginator reuses one input object, so only the last Marker can be read back)
    expect(describes).toHaveLength(2);
    expect(describes[1]?.args[0].input).toMatchObject({ Marker: 'page-2', MaxRecords: 100 });
  });

  it('keeps the datashare found on an earlier page when a later page lists only others', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(ARN_DOES_NOT_EXIST));
    redshift
      .on(DescribeDataSharesCommand)
      .resolvesOnce({
        DataShares: [
          {
            DataShareArn: DATA_SHARE_ARN,
            DataShareAssociations: [{ ConsumerIdentifier: CONSUMER_ARN, Status: 'ACTIVE' }],
          },
        ],
        Marker: 'page-2',
      })
      .resolvesOnce({ DataShares: [{ DataShareArn: `${DATA_SHARE_ARN}_other` }] });
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    expect(error.code).toBe('AssociationStillActive');
  });

  it('wraps a throttled describe in a RedshiftCallError of kind throttled, naming the describe', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).rejects(dataShareFault(ARN_DOES_NOT_EXIST));
    redshift.on(DescribeDataSharesCommand).rejects(throttling());
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    expect(error.kind).toBe(FailureKind.Throttled);
    expect(error.message).toBe('DescribeDataShares failed: Throttling: Rate exceeded');
    expect(error.context).toMatchObject({ operation: 'DescribeDataShares' });
  });
});

describe("RedshiftDataShareRevoker — reading a target's associations (stale decisions)", () => {
  beforeEach(() => {
    redshift.reset();
    sts.reset();
  });

  it('reads every page of DescribeDataShares for the datashare and returns its associations with their dates, the actor and the request id', async () => {
    // Prepare
    redshift
      .on(DescribeDataSharesCommand)
      .resolvesOnce({
        DataShares: [
          {
            DataShareArn: DATA_SHARE_ARN,
            DataShareAssociations: [
              {
                ConsumerIdentifier: CONSUMER_ARN,
                Status: 'ACTIVE',
                CreatedDate: new Date('2026-01-01T00:00:00Z'),
                StatusChangeDate: new Date('2026-11-25T08:30:00Z'),
              },
            ],
          },
        ],
        Marker: 'page-2',
        $metadata: { requestId: 'req-page-1' },
      })
      .resolvesOnce({
        DataShares: [
          {
            DataShareArn: `${DATA_SHARE_ARN}_other`,
            DataShareAssociations: [{ Status: 'ACTIVE' }],
          },
          {
            DataShareArn: DATA_SHARE_ARN,
            DataShareAssociations: [{ ConsumerIdentifier: '111122223333', Status: 'ACTIVE' }],
          },
        ],
        $metadata: { requestId: 'req-page-2' },
      });
    // Act
    const read = await revoker().describeAssociations(namespaceTarget, call);
    // Assess
    expect(read).toEqual({
      associations: [
        {
          consumerIdentifier: CONSUMER_ARN,
          status: 'ACTIVE',
          createdDate: '2026-01-01T00:00:00.000Z',
          statusChangeDate: '2026-11-25T08:30:00.000Z',
        },
        { consumerIdentifier: '111122223333', status: 'ACTIVE' },
      ],
      actor: OWN_ACTOR,
      requestId: 'req-page-2',
    });
    const describes = redshift.commandCalls(DescribeDataSharesCommand);
    expect(describes).toHaveLength(2);
    expect(describes[0]?.args[0].input).toMatchObject({ DataShareArn: DATA_SHARE_ARN });
    expect(redshift.commandCalls(DisassociateDataShareConsumerCommand)).toHaveLength(0);
  });

  it('passes the abort signal to every page, so the deadline can cut the read short', async () => {
    redshift.on(DescribeDataSharesCommand).resolves({ DataShares: [] });
    const controller = new AbortController();
    await revoker().describeAssociations(namespaceTarget, { ...call, signal: controller.signal });
    // The mock types `args` as the command alone; the SDK passes the options second.
    const options = (
      redshift.commandCalls(DescribeDataSharesCommand)[0]?.args as unknown[] | undefined
    )?.[1];
    expect(options).toMatchObject({ abortSignal: controller.signal });
  });

  it('answers no associations when the account cannot see the datashare (InvalidDataShareFault)', async () => {
    redshift
      .on(DescribeDataSharesCommand)
      .rejects(dataShareFault(`The datashare ${DATA_SHARE_ARN} doesn't exist.`));
    const read = await revoker().describeAssociations(namespaceTarget, call);
    expect(read).toEqual({ associations: [], actor: OWN_ACTOR, requestId: 'req-ds' });
  });

  it('classifies a throttled read as throttled and an access denial as permanent, naming DescribeDataShares', async () => {
    redshift
      .on(DescribeDataSharesCommand)
      .rejectsOnce(throttling())
      .rejectsOnce(
        new RedshiftServiceException({
          name: 'AccessDenied',
          $fault: 'client',
          message: 'not authorized to perform: redshift:DescribeDataShares',
          $metadata: { httpStatusCode: 403 },
        }),
      );
    const throttled = await failureOf(revoker().describeAssociations(namespaceTarget, call));
    expect(throttled.kind).toBe(FailureKind.Throttled);
    expect(throttled.context).toMatchObject({ operation: 'DescribeDataShares' });
    const denied = await failureOf(revoker().describeAssociations(namespaceTarget, call));
    expect(denied.kind).toBe(FailureKind.Permanent);
    expect(denied.message).toContain('DescribeDataShares failed: AccessDenied');
  });

  it('hub mode: reads as the consumer role of the target account, like the disassociate call', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIASPOKE',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(Date.now() + 3_600_000),
      },
    });
    redshift.on(DescribeDataSharesCommand).resolves({ DataShares: [] });
    const consumerRole = new ConsumerRoleCredentials({
      clientConfig: { region: 'us-east-1' },
      roleName: 'spoke',
      sessionSeconds: 3600,
      sessionName: 'revoker-test',
    });
    const hub = new RedshiftDataShareRevoker(
      new RedshiftClients({ requestTimeoutMs: 1000, consumerRole }),
    );
    const spokeTarget = { ...accountTarget, accountId: '222233334444' };
    // Act
    const read = await hub.describeAssociations(spokeTarget, { ...call, assumeRole: true });
    // Assess
    expect(read.actor).toEqual({
      accountId: '222233334444',
      roleArn: 'arn:aws:iam::222233334444:role/spoke',
    });
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toMatchObject({
      RoleArn: 'arn:aws:iam::222233334444:role/spoke',
    });
  });
});

describe('RedshiftDataShareRevoker — failures', () => {
  beforeEach(() => {
    redshift.reset();
  });

  it('wraps a throttling error in a RedshiftCallError of kind throttled, keeping code, status, request id and cause', async () => {
    // Prepare
    const original = throttling();
    redshift.on(DisassociateDataShareConsumerCommand).rejects(original);
    // Act
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    // Assess
    expect(error).toMatchObject({
      name: 'RedshiftCallError',
      kind: FailureKind.Throttled,
      code: 'Throttling',
      httpStatusCode: 400,
      requestId: 'req-throttle',
      message: 'DisassociateDataShareConsumer failed: Throttling: Rate exceeded',
      context: { dataShareArn: DATA_SHARE_ARN, operation: 'DisassociateDataShareConsumer' },
    });
    expect(error.cause).toBe(original);
  });

  it('wraps InvalidNamespaceFault as permanent', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).rejects(
      new InvalidNamespaceFault({
        message: 'The namespace does not exist.',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    expect(error.kind).toBe(FailureKind.Permanent);
    expect(error.code).toBe('InvalidNamespaceFault');
    expect(error.retryable).toBe(false);
  });

  it('wraps an InvalidDataShareFault that is not an "already gone" message as permanent, with no describe', async () => {
    redshift
      .on(DisassociateDataShareConsumerCommand)
      .rejects(dataShareFault('There is an error with the datashare.'));
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    expect(error.kind).toBe(FailureKind.Permanent);
    expect(error.code).toBe('InvalidDataShareFault');
    expect(redshift.commandCalls(DescribeDataSharesCommand)).toHaveLength(0);
  });

  it('wraps a server error as transient', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).rejects(
      new RedshiftServiceException({
        name: 'InternalFailure',
        $fault: 'server',
        message: 'We encountered an internal error.',
        $metadata: { httpStatusCode: 500 },
      }),
    );
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    expect(error.kind).toBe(FailureKind.Transient);
  });

  it('wraps a network error as transient, with its code', async () => {
    redshift
      .on(DisassociateDataShareConsumerCommand)
      .rejects(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    expect(error).toMatchObject({ kind: FailureKind.Transient, code: 'ECONNRESET' });
  });

  it('wraps an SDK-shaped plain object as its classification says', async () => {
    redshift.on(DisassociateDataShareConsumerCommand).rejects({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'not authorized to perform redshift:DisassociateDataShareConsumer',
    });
    const error = await failureOf(revoker().disassociate(namespaceTarget, call));
    expect(error).toMatchObject({ kind: FailureKind.Permanent, code: 'AccessDenied' });
  });
});

describe('RedshiftClients', () => {
  afterEach(() => {
    redshift.reset();
  });

  it('builds one client per region and reuses it', async () => {
    // Prepare
    const clients = new RedshiftClients({ requestTimeoutMs: 1000 });
    // Act
    const first = clients.for('eu-west-1');
    const again = clients.for('eu-west-1');
    const other = clients.for('us-east-1');
    // Assess
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(await first.config.region()).toBe('eu-west-1');
    expect(await other.config.region()).toBe('us-east-1');
  });

  it("turns the SDK retries off (maxAttempts 1) so they do not multiply with the worker's own", async () => {
    const client = new RedshiftClients({ requestTimeoutMs: 1000 }).for('eu-west-1');
    expect(await client.config.maxAttempts()).toBe(1);
  });

  it('gives each client a Node HTTP handler (request timeout enforced by the handler)', () => {
    const client = new RedshiftClients({ requestTimeoutMs: 1000 }).for('eu-west-1');
    expect(client.config.requestHandler).toBeInstanceOf(NodeHttpHandler);
  });

  it('uses a prebuilt client for its region instead of building one', () => {
    const prebuilt = new RedshiftClient({ region: 'eu-west-1' });
    const clients = new RedshiftClients({ requestTimeoutMs: 1000 }, { 'eu-west-1': prebuilt });
    expect(clients.for('eu-west-1')).toBe(prebuilt);
  });

  it('sends each call to the client of the region it is given', async () => {
    // Prepare
    const east = new RedshiftClient({ region: 'us-east-1' });
    const west = new RedshiftClient({ region: 'eu-west-1' });
    const eastMock = mockClient(east).on(DisassociateDataShareConsumerCommand).resolves({});
    const westMock = mockClient(west).on(DisassociateDataShareConsumerCommand).resolves({});
    const revoker = new RedshiftDataShareRevoker(
      new RedshiftClients({ requestTimeoutMs: 1000 }, { 'us-east-1': east, 'eu-west-1': west }),
    );
    // Act
    await revoker.disassociate(namespaceTarget, { ...call, region: 'eu-west-1' });
    // Assess
    expect(westMock.commandCalls(DisassociateDataShareConsumerCommand)).toHaveLength(1);
    expect(eastMock.commandCalls(DisassociateDataShareConsumerCommand)).toHaveLength(0);
    eastMock.restore();
    westMock.restore();
  });
});
