import { readFileSync } from 'node:fs';
import {
  DescribeDataSharesCommand,
  DescribeDataSharesForConsumerCommand,
  DescribeDataSharesForProducerCommand,
  DisassociateDataShareConsumerCommand,
  RedshiftClient,
  type RedshiftServiceException,
} from '@aws-sdk/client-redshift';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type RedshiftEmulator,
  type RedshiftEmulatorOptions,
  startRedshiftEmulator,
} from '../../src/local/redshift-emulator/index.js';
import {
  type AccountsSeed,
  type StsEmulator,
  startStsEmulator,
} from '../../src/local/sts-emulator/index.js';

const DATASHARES = new URL('../../examples/datashares-multi-account.json', import.meta.url)
  .pathname;
const EXAMPLE_ACCOUNTS = JSON.parse(
  readFileSync(new URL('../../examples/accounts.json', import.meta.url), 'utf8'),
) as { accounts: NonNullable<AccountsSeed['accounts']> };

const HUB = '111122223333';
const SPOKE = '222233334444';
const BARE_SPOKE = '333344445555';
const PRODUCER = '444455556666';
const SPOKE_ROLE = `arn:aws:iam::${SPOKE}:role/datashare-revoker-spoke`;
const PRODUCER_ROLE = `arn:aws:iam::${PRODUCER}:role/auditor`;
const HUB_ROLE = `arn:aws:iam::${HUB}:role/datashare-revoker`;
const SALES_DAILY =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/sales_daily';
const MARKETING =
  'arn:aws:redshift:us-east-1:444455556666:datashare:8a6b2c1e-3f4d-4e5a-9b7c-0d1e2f3a4b5c/marketing_attribution';
const LEDGER =
  'arn:aws:redshift:us-west-2:777788889999:datashare:4b3a2918-7c6d-4e5f-a1b2-c3d4e5f6a7b8/ledger_monthly';
const HUB_NS =
  'arn:aws:redshift:us-east-1:111122223333:namespace:2f9c6e7a-1b3d-4c5e-8f9a-0b1c2d3e4f5a';
const SPOKE_NS =
  'arn:aws:redshift:us-east-1:222233334444:namespace:5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const SPOKE_WEST_NS =
  'arn:aws:redshift:us-west-2:222233334444:namespace:9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const BARE_SPOKE_NS =
  'arn:aws:redshift-serverless:us-east-1:333344445555:namespace/3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a';

let sts: StsEmulator;
let redshift: RedshiftEmulator;
const clients: { destroy(): void }[] = [];
const emulators: { stop(): Promise<void> }[] = [];

const LOCAL_KEY = { accessKeyId: 'local', secretAccessKey: 'local' };
type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

const redshiftClient = (credentials: Credentials, emulator = redshift): RedshiftClient => {
  const client = new RedshiftClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
  });
  clients.push(client);
  return client;
};

/** Temporary credentials of a role, from the STS emulator through the real SDK. */
const assume = async (roleArn: string, externalId?: string): Promise<Credentials> => {
  const client = new STSClient({
    endpoint: sts.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_KEY,
    maxAttempts: 1,
  });
  clients.push(client);
  const { Credentials } = await client.send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: 'revoker',
      ...(externalId === undefined ? {} : { ExternalId: externalId }),
    }),
  );
  return {
    accessKeyId: Credentials?.AccessKeyId ?? '',
    secretAccessKey: Credentials?.SecretAccessKey ?? '',
    sessionToken: Credentials?.SessionToken ?? '',
  };
};
const spokeCredentials = () => assume(SPOKE_ROLE, 'datashare-revoker');

const startAccountAwareRedshift = async (
  extra: Partial<RedshiftEmulatorOptions> = {},
): Promise<RedshiftEmulator> => {
  const emulator = await startRedshiftEmulator({
    datashares: DATASHARES,
    callers: sts.callers,
    visibility: 'caller',
    seed: 5,
    ...extra,
  });
  emulators.push(emulator);
  return emulator;
};

const failureOf = async (promise: Promise<unknown>): Promise<RedshiftServiceException> => {
  try {
    await promise;
  } catch (error) {
    return error as RedshiftServiceException;
  }
  throw new Error('expected the call to fail');
};

const disassociate = (client: RedshiftClient, input: Record<string, unknown>) =>
  client.send(new DisassociateDataShareConsumerCommand({ DataShareArn: SALES_DAILY, ...input }));

beforeAll(async () => {
  sts = await startStsEmulator({
    seed: 4,
    accounts: {
      accounts: {
        ...EXAMPLE_ACCOUNTS.accounts,
        [PRODUCER]: { roles: [{ name: 'auditor' }] },
      },
    },
  });
  emulators.push(sts);
  redshift = await startAccountAwareRedshift();
});

afterEach(() => {
  redshift.reset();
  sts.reset();
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(emulators.map((emulator) => emulator.stop()));
});

describe('Redshift emulator: each call acts in the account of its SigV4 key', () => {
  it("a spoke's STS credentials disassociate the spoke's namespace, recorded with the spoke account and role", async () => {
    // Prepare
    const client = redshiftClient(await spokeCredentials());

    // Act
    const out = await disassociate(client, { ConsumerArn: SPOKE_NS });

    // Assess
    expect(redshift.isAssociated(SALES_DAILY, SPOKE_NS)).toBe(false);
    expect(redshift.isAssociated(SALES_DAILY, HUB_NS)).toBe(true);
    expect(out.DataShareAssociations).toEqual([]);
    expect(redshift.calls).toEqual([
      expect.objectContaining({
        operation: 'DisassociateDataShareConsumer',
        accessKeyId: expect.stringMatching(new RegExp(`^ASIA${SPOKE}`)),
        callerAccountId: SPOKE,
        callerArn: `arn:aws:sts::${SPOKE}:assumed-role/datashare-revoker-spoke/revoker`,
        roleArn: SPOKE_ROLE,
        consumer: SPOKE_NS,
        outcome: 'ok',
        applied: true,
      }),
    ]);
  });

  it("the static local key acts in the worker's own account with the hub role", async () => {
    // Act
    await disassociate(redshiftClient(LOCAL_KEY), { ConsumerArn: HUB_NS });

    // Assess
    expect(redshift.calls[0]).toMatchObject({
      accessKeyId: 'local',
      callerAccountId: HUB,
      callerArn: `arn:aws:sts::${HUB}:assumed-role/datashare-revoker/local`,
      roleArn: HUB_ROLE,
    });
    expect(redshift.countCalls({ callerAccountId: HUB, roleArn: HUB_ROLE }).ok).toBe(1);
    expect(redshift.countCalls({ callerAccountId: SPOKE }).total).toBe(0);
  });

  it('a namespace of another account is refused as not associated with this data consumer, and stays associated', async () => {
    // Prepare
    const hub = redshiftClient(LOCAL_KEY);
    const spoke = redshiftClient(await spokeCredentials());

    // Act
    const fromHub = await failureOf(disassociate(hub, { ConsumerArn: SPOKE_NS }));
    const fromSpoke = await failureOf(disassociate(spoke, { ConsumerArn: BARE_SPOKE_NS }));

    // Assess
    for (const error of [fromHub, fromSpoke]) {
      expect(error.name).toBe('InvalidDataShareFault');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toBe(
        `The datashare ${SALES_DAILY} either doesn't exist or isn't associated with this data consumer.`,
      );
    }
    expect(redshift.isAssociated(SALES_DAILY, SPOKE_NS)).toBe(true);
    expect(redshift.isAssociated(SALES_DAILY, BARE_SPOKE_NS)).toBe(true);
    expect(redshift.stats().all).toMatchObject({ rejected: 2, injected: 0 });
  });

  it("crossAccountAnswer accessDenied refuses another account's namespace with 403 AccessDenied", async () => {
    // Prepare
    const emulator = await startAccountAwareRedshift({ crossAccountAnswer: 'accessDenied' });

    // Act
    const error = await failureOf(
      disassociate(redshiftClient(LOCAL_KEY, emulator), { ConsumerArn: SPOKE_NS }),
    );

    // Assess
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toContain(
      `User: arn:aws:sts::${HUB}:assumed-role/datashare-revoker/local is not authorized to perform: redshift:DisassociateDataShareConsumer`,
    );
    expect(emulator.isAssociated(SALES_DAILY, SPOKE_NS)).toBe(true);
  });

  it("DisassociateEntireAccount removes only the calling account's associations", async () => {
    // Prepare
    const client = redshiftClient(await spokeCredentials());

    // Act
    await client.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: LEDGER,
        DisassociateEntireAccount: true,
      }),
    );

    // Assess
    expect(redshift.associations(LEDGER).map((a) => a.consumerIdentifier)).toEqual([
      HUB,
      BARE_SPOKE,
    ]);
    expect(redshift.isAssociated(LEDGER, `account:${SPOKE}`)).toBe(false);
    expect(redshift.isAssociated(LEDGER, `account:${HUB}`)).toBe(true);
    expect(redshift.calls[0]?.consumer).toBe(`account:${SPOKE}`);
  });

  it("ConsumerRegion removes the calling account's region-wide association, not the hub's", async () => {
    // Prepare
    const client = redshiftClient(await spokeCredentials());

    // Act
    await client.send(
      new DisassociateDataShareConsumerCommand({
        DataShareArn: MARKETING,
        ConsumerRegion: 'us-east-1',
      }),
    );

    // Assess
    expect(redshift.isAssociated(MARKETING, 'region:us-east-1', SPOKE)).toBe(false);
    expect(redshift.isAssociated(MARKETING, 'region:us-east-1', HUB)).toBe(true);
  });
});

describe('Redshift emulator: each account has its own rate limit', () => {
  it('throttleRpsByAccount throttles a listed account on its own bucket, the others on throttleRps', async () => {
    // Prepare: the spoke may make 1 call (burst 1, 1 call/s), the hub is unlimited
    redshift.setFaults({ throttleRps: 0, throttleRpsByAccount: { [SPOKE]: 1 }, burst: 1 });
    const spoke = redshiftClient(await spokeCredentials());
    const hub = redshiftClient(LOCAL_KEY);
    const describe = (client: RedshiftClient) =>
      client.send(new DescribeDataSharesCommand({ DataShareArn: SALES_DAILY }));

    // Act
    await describe(spoke);
    const throttled = await failureOf(describe(spoke));
    for (let i = 0; i < 3; i++) await describe(hub);

    // Assess
    expect(throttled.name).toBe('Throttling');
    expect(redshift.countCalls({ callerAccountId: SPOKE })).toMatchObject({ ok: 1, throttled: 1 });
    expect(redshift.countCalls({ callerAccountId: HUB })).toMatchObject({ ok: 3, throttled: 0 });
  });
});

describe('Redshift emulator: describes show what the calling account may see', () => {
  it('DescribeDataShares shows a consumer account only its own associations', async () => {
    // Prepare
    const spoke = redshiftClient(await spokeCredentials());

    // Act
    const fromSpoke = await spoke.send(new DescribeDataSharesCommand({}));
    const fromHub = await redshiftClient(LOCAL_KEY).send(
      new DescribeDataSharesCommand({ DataShareArn: SALES_DAILY }),
    );

    // Assess
    expect(
      fromSpoke.DataShares?.map((s) => [
        s.DataShareArn?.split('/')[1],
        s.DataShareAssociations?.map((a) => a.ConsumerIdentifier),
      ]),
    ).toEqual([
      ['marketing_attribution', [SPOKE]],
      ['sales_daily', [SPOKE_NS]],
      ['ledger_monthly', [SPOKE, SPOKE_WEST_NS]],
    ]);
    expect(
      fromHub.DataShares?.[0]?.DataShareAssociations?.map((a) => a.ConsumerIdentifier),
    ).toEqual([HUB_NS]);
  });

  it('the producer account sees its datashares with every consumer, and only its own', async () => {
    // Prepare
    const producer = redshiftClient(await assume(PRODUCER_ROLE));

    // Act
    const described = await producer.send(
      new DescribeDataSharesCommand({ DataShareArn: SALES_DAILY }),
    );
    const forProducer = await producer.send(new DescribeDataSharesForProducerCommand({}));
    const hubForProducer = await redshiftClient(LOCAL_KEY).send(
      new DescribeDataSharesForProducerCommand({}),
    );

    // Assess
    expect(described.DataShares?.[0]?.DataShareAssociations).toHaveLength(3);
    expect(forProducer.DataShares?.map((s) => s.DataShareArn)).toEqual([MARKETING, SALES_DAILY]);
    expect(hubForProducer.DataShares).toEqual([]);
  });

  it("DescribeDataSharesForConsumer about another account's namespace is empty", async () => {
    // Act
    const foreign = await redshiftClient(LOCAL_KEY).send(
      new DescribeDataSharesForConsumerCommand({ ConsumerArn: SPOKE_NS }),
    );
    const own = await redshiftClient(await spokeCredentials()).send(
      new DescribeDataSharesForConsumerCommand({ ConsumerArn: SPOKE_NS, Status: 'ACTIVE' }),
    );

    // Assess
    expect(foreign.DataShares).toEqual([]);
    // Its own association, its account's region-wide one and its entire-account one
    expect(own.DataShares?.map((s) => s.DataShareArn)).toEqual([MARKETING, SALES_DAILY, LEDGER]);
  });
});

describe('Redshift emulator: temporary credentials are checked', () => {
  it('expired STS credentials are 403 ExpiredToken and change nothing', async () => {
    // Prepare
    const client = redshiftClient(await spokeCredentials());
    sts.expireCredentials(SPOKE_ROLE);
    redshift.setFaults({ failNext: [{ kind: 'throttle' }] });

    // Act
    const error = await failureOf(disassociate(client, { ConsumerArn: SPOKE_NS }));

    // Assess: refused before faults, so the throttle is still armed
    expect(error.name).toBe('ExpiredToken');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toBe('The security token included in the request is expired');
    expect(redshift.isAssociated(SALES_DAILY, SPOKE_NS)).toBe(true);
    expect(redshift.faults.failNext).toHaveLength(1);
    expect(redshift.calls[0]).toMatchObject({ outcome: 'rejected', code: 'ExpiredToken' });
    expect(redshift.calls[0]?.callerAccountId).toBeUndefined();
  });

  it('an issued key with a forged session token is 403 InvalidClientTokenId', async () => {
    // Prepare
    const credentials = await spokeCredentials();

    // Act
    const error = await failureOf(
      disassociate(redshiftClient({ ...credentials, sessionToken: 'forged' }), {
        ConsumerArn: SPOKE_NS,
      }),
    );

    // Assess
    expect(error.name).toBe('InvalidClientTokenId');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(redshift.isAssociated(SALES_DAILY, SPOKE_NS)).toBe(true);
  });

  it('an injected AccessDenied names the role session that signed the call', async () => {
    // Prepare
    redshift.setFaults({ failNext: [{ kind: 'accessDenied' }] });
    const client = redshiftClient(await spokeCredentials());

    // Act
    const error = await failureOf(disassociate(client, { ConsumerArn: SPOKE_NS }));

    // Assess
    expect(error.message).toContain(
      `User: arn:aws:sts::${SPOKE}:assumed-role/datashare-revoker-spoke/revoker is not authorized`,
    );
  });
});
