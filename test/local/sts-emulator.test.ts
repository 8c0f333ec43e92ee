import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  GetCallerIdentityCommand,
  STSClient,
  type STSClientConfig,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyAwsError } from '../../src/core/classify.js';
import { FailureKind } from '../../src/core/errors.js';
import { type StsEmulator, startStsEmulator } from '../../src/local/sts-emulator/index.js';

const ACCOUNTS = new URL('../../examples/accounts.json', import.meta.url).pathname;
const HUB = '111122223333';
const SPOKE = '222233334444';
const BARE_SPOKE = '333344445555';
const SPOKE_ROLE = `arn:aws:iam::${SPOKE}:role/datashare-revoker-spoke`;
const MISSING_ROLE = `arn:aws:iam::${BARE_SPOKE}:role/datashare-revoker-spoke`;
const HUB_CALLER = `arn:aws:sts::${HUB}:assumed-role/datashare-revoker/local`;
const EXTERNAL_ID = 'datashare-revoker';

let sts: StsEmulator;
const clients: STSClient[] = [];

const clientFor = (extra: Partial<STSClientConfig> = {}): STSClient => {
  const client = new STSClient({
    endpoint: sts.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    ...extra,
  });
  clients.push(client);
  return client;
};

const assume = (input: Partial<AssumeRoleCommandInput> = {}, client = clientFor()) =>
  client.send(
    new AssumeRoleCommand({
      RoleArn: SPOKE_ROLE,
      RoleSessionName: 'revoker-test',
      ExternalId: EXTERNAL_ID,
      ...input,
    }),
  );

/** The rejection of a promise, for assertions on SDK exceptions. */
const failureOf = async (promise: Promise<unknown>): Promise<STSServiceException> => {
  try {
    await promise;
  } catch (error) {
    return error as STSServiceException;
  }
  throw new Error('expected the call to fail');
};

/** A client signing with the credentials of an AssumeRole answer. */
const clientWith = (credentials: Awaited<ReturnType<typeof assume>>['Credentials']) =>
  clientFor({
    credentials: {
      accessKeyId: credentials?.AccessKeyId ?? '',
      secretAccessKey: credentials?.SecretAccessKey ?? '',
      sessionToken: credentials?.SessionToken ?? '',
    },
  });

beforeAll(async () => {
  sts = await startStsEmulator({ accounts: ACCOUNTS, seed: 3 });
});

afterEach(() => {
  sts.reset();
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await sts.stop();
});

describe('STS emulator: AssumeRole through the real SDK', () => {
  it('issues temporary credentials whose key names the role account, valid for DurationSeconds', async () => {
    // Prepare
    const before = Date.now();

    // Act
    const out = await assume({ DurationSeconds: 900 });

    // Assess
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Credentials?.AccessKeyId).toMatch(new RegExp(`^ASIA${SPOKE}[0-9A-Z]{4}$`));
    expect(out.Credentials?.SecretAccessKey).toHaveLength(40);
    expect(out.Credentials?.SessionToken).toBeTruthy();
    const expiresIn = (out.Credentials?.Expiration?.getTime() ?? 0) - before;
    expect(expiresIn).toBeGreaterThan(898_000);
    expect(expiresIn).toBeLessThanOrEqual(901_000);
    expect(out.AssumedRoleUser).toEqual({
      AssumedRoleId: expect.stringMatching(/^AROA[0-9A-Z]{17}:revoker-test$/),
      Arn: `arn:aws:sts::${SPOKE}:assumed-role/datashare-revoker-spoke/revoker-test`,
    });
  });

  it('DurationSeconds defaults to one hour', async () => {
    // Act
    const out = await assume({ ExternalId: EXTERNAL_ID });

    // Assess
    const expiresIn = (out.Credentials?.Expiration?.getTime() ?? 0) - Date.now();
    expect(expiresIn).toBeGreaterThan(3_590_000);
    expect(expiresIn).toBeLessThanOrEqual(3_600_000);
  });

  it('GetCallerIdentity names the hub role session for the static local key', async () => {
    // Act
    const out = await clientFor().send(new GetCallerIdentityCommand({}));

    // Assess
    expect(out).toMatchObject({ Account: HUB, Arn: HUB_CALLER });
    expect(out.UserId).toMatch(/:local$/);
  });

  it('GetCallerIdentity with issued credentials names the assumed role session in the spoke', async () => {
    // Prepare
    const { Credentials, AssumedRoleUser } = await assume();

    // Act
    const out = await clientWith(Credentials).send(new GetCallerIdentityCommand({}));

    // Assess
    expect(out).toEqual(
      expect.objectContaining({
        Account: SPOKE,
        Arn: AssumedRoleUser?.Arn,
        UserId: AssumedRoleUser?.AssumedRoleId,
      }),
    );
  });

  it('refuses a role the account does not have with 403 AccessDenied in AWS words', async () => {
    // Act
    const error = await failureOf(assume({ RoleArn: MISSING_ROLE }));

    // Assess
    expect(error).toBeInstanceOf(STSServiceException);
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.$fault).toBe('client');
    expect(error.message).toBe(
      `User: ${HUB_CALLER} is not authorized to perform: sts:AssumeRole on resource: ${MISSING_ROLE}`,
    );
  });

  it('refuses a wrong or missing ExternalId with the same AccessDenied text', async () => {
    // Act
    const wrong = await failureOf(assume({ ExternalId: 'not-the-one' }));
    const missing = await failureOf(assume({ ExternalId: undefined }));

    // Assess
    for (const error of [wrong, missing]) {
      expect(error.name).toBe('AccessDenied');
      expect(error.$metadata.httpStatusCode).toBe(403);
      expect(error.message).toBe(
        `User: ${HUB_CALLER} is not authorized to perform: sts:AssumeRole on resource: ${SPOKE_ROLE}`,
      );
    }
  });

  it('refuses a caller the trust policy does not name', async () => {
    // Prepare: the spoke's own session is not the hub role the trust policy names
    const { Credentials } = await assume();

    // Act
    const error = await failureOf(assume({}, clientWith(Credentials)));

    // Assess
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toContain(
      `User: arn:aws:sts::${SPOKE}:assumed-role/datashare-revoker-spoke/revoker-test is not authorized`,
    );
  });

  it.each([
    [
      'a',
      "Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
    ],
    ['x'.repeat(65), 'Member must have length less than or equal to 64'],
    ['bad name!', 'Member must satisfy regular expression pattern: [\\w+=,.@-]*'],
  ])('validates RoleSessionName %j: 400 ValidationError', async (name, text) => {
    // Act
    const error = await failureOf(assume({ RoleSessionName: name }));

    // Assess
    expect(error.name).toBe('ValidationError');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.message).toContain('1 validation error detected: ');
    expect(error.message).toContain(text);
  });

  it('accepts every RoleSessionName character AWS allows', async () => {
    // Act
    const out = await assume({ RoleSessionName: 'r_1+=,.@-x' });

    // Assess
    expect(out.AssumedRoleUser?.Arn).toMatch(/\/r_1\+=,\.@-x$/);
  });

  it('DurationSeconds below 900 and above the role maximum are ValidationError', async () => {
    // Act
    const short = await failureOf(assume({ DurationSeconds: 899 }));
    const long = await failureOf(assume({ DurationSeconds: 7200 }));

    // Assess
    expect(short.name).toBe('ValidationError');
    expect(short.message).toContain('Member must have value greater than or equal to 900');
    expect(long.name).toBe('ValidationError');
    expect(long.message).toBe(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  });

  it('a role allowing 12 hours still gives a chained session at most one hour', async () => {
    // Prepare
    sts.seed({
      accounts: { [SPOKE]: { roles: [{ name: 'long', maxSessionDurationSeconds: 43200 }] } },
    });

    // Act
    const error = await failureOf(
      assume({ RoleArn: `arn:aws:iam::${SPOKE}:role/long`, DurationSeconds: 7200 }),
    );

    // Assess
    expect(error.name).toBe('ValidationError');
    expect(error.message).toContain('1 hour session limit for roles assumed by role chaining');
  });

  it('an unknown Action is 400 InvalidAction', async () => {
    // Act
    const response = await fetch(sts.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetSessionToken&Version=2011-06-15',
    });

    // Assess
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain('<Code>InvalidAction</Code>');
    expect(text).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
  });
});

describe('STS emulator: issued credentials expire', () => {
  it('a session key is ExpiredToken (403) once its Expiration has passed', async () => {
    // Prepare
    sts.setFaults({ credentialLifetimeSeconds: 1 });
    const { Credentials } = await assume({ DurationSeconds: 900 });
    const client = clientWith(Credentials);
    await client.send(new GetCallerIdentityCommand({}));

    // Act
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const error = await failureOf(client.send(new GetCallerIdentityCommand({})));

    // Assess
    expect(Credentials?.Expiration?.getTime()).toBeLessThanOrEqual(Date.now());
    expect(error.name).toBe('ExpiredToken');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toBe('The security token included in the request is expired');
  });

  it('expireCredentials ends the sessions of one role at once, and a new AssumeRole works', async () => {
    // Prepare
    const first = await assume();

    // Act
    const expired = sts.expireCredentials(SPOKE_ROLE);
    const error = await failureOf(
      clientWith(first.Credentials).send(new GetCallerIdentityCommand({})),
    );
    const second = await assume();

    // Assess
    expect(expired).toBe(1);
    expect(error.name).toBe('ExpiredToken');
    expect(second.Credentials?.AccessKeyId).not.toBe(first.Credentials?.AccessKeyId);
    await expect(
      clientWith(second.Credentials).send(new GetCallerIdentityCommand({})),
    ).resolves.toMatchObject({ Account: SPOKE });
  });

  it('an issued key with the wrong session token is 403 InvalidClientTokenId', async () => {
    // Prepare
    const { Credentials } = await assume();

    // Act
    const error = await failureOf(
      clientWith({ ...Credentials, SessionToken: 'forged' } as typeof Credentials).send(
        new GetCallerIdentityCommand({}),
      ),
    );

    // Assess
    expect(error.name).toBe('InvalidClientTokenId');
    expect(error.$metadata.httpStatusCode).toBe(403);
  });
});

describe('STS emulator: faults', () => {
  it('throttles beyond throttleRps: the SDK sees a throttling error (400 Throttling "Rate exceeded")', async () => {
    // Prepare
    sts.setFaults({ throttleRps: 1, burst: 2 });
    const client = clientFor();

    // Act
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => client.send(new GetCallerIdentityCommand({}))),
    );

    // Assess
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failures).toHaveLength(2);
    const error = failures[0]?.reason as STSServiceException;
    expect(error.name).toBe('Throttling');
    expect(error.message).toBe('Rate exceeded');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(classifyAwsError(error).kind).toBe(FailureKind.Throttled);
    expect(sts.stats().all.throttled).toBe(2);
  });

  it('the SDK retries a throttled AssumeRole by itself when allowed a second attempt', async () => {
    // Prepare
    sts.setFaults({ failNext: [{ kind: 'throttle', operation: 'AssumeRole' }] });

    // Act
    const out = await assume({}, clientFor({ maxAttempts: 2 }));

    // Assess
    expect(out.$metadata.attempts).toBe(2);
    expect(sts.assumeRoleCount(SPOKE_ROLE)).toBe(2);
  });

  it('failNext targets one role: throttle, then 500, then the call succeeds', async () => {
    // Prepare
    sts.setFaults({
      failNext: [
        { kind: 'throttle', roleArn: SPOKE_ROLE },
        { kind: 'error', roleArn: SPOKE_ROLE },
      ],
    });

    // Act
    const identity = await clientFor().send(new GetCallerIdentityCommand({}));
    const throttled = await failureOf(assume());
    const failed = await failureOf(assume());
    const ok = await assume();

    // Assess
    expect(identity.Account).toBe(HUB);
    expect(throttled.name).toBe('Throttling');
    expect(failed.$metadata.httpStatusCode).toBe(500);
    expect(failed.$fault).toBe('server');
    expect(ok.Credentials?.AccessKeyId).toBeTruthy();
    expect(sts.countCalls({ roleArn: SPOKE_ROLE })).toMatchObject({
      total: 3,
      throttled: 1,
      error: 1,
      ok: 1,
      injected: 2,
      issued: 1,
    });
  });

  it('a lost answer issues credentials the caller never sees', async () => {
    // Prepare
    sts.setFaults({ failNext: [{ kind: 'error', when: 'after', operation: 'AssumeRole' }] });

    // Act
    const error = await failureOf(assume());

    // Assess
    expect(error.$metadata.httpStatusCode).toBe(500);
    expect(sts.sessions()).toHaveLength(1);
    expect(sts.calls[0]).toMatchObject({ issued: true, lostAnswer: true, injected: true });
  });

  it('a reset is seen by the SDK as ECONNRESET, a hang as a request timeout', async () => {
    // Prepare
    sts.setFaults({ failNext: [{ kind: 'reset' }, { kind: 'hang' }] });
    const { NodeHttpHandler } = await import('@smithy/node-http-handler');
    const client = clientFor({
      requestHandler: new NodeHttpHandler({ requestTimeout: 200, throwOnRequestTimeout: true }),
    });

    // Act
    const reset = await failureOf(client.send(new GetCallerIdentityCommand({})));
    const hung = await failureOf(client.send(new GetCallerIdentityCommand({})));

    // Assess
    expect((reset as unknown as { code?: string }).code).toBe('ECONNRESET');
    expect(hung.name).toBe('TimeoutError');
    expect(sts.stats().all).toMatchObject({ reset: 1, hang: 1 });
  });

  it('refuses random rates that add up to more than 1', () => {
    expect(() => sts.setFaults({ throttleRate: 0.6, errorRate: 0.5 })).toThrow(
      /must be <= 1, 1.1 given/,
    );
  });
});

describe('STS emulator: call log and admin routes', () => {
  it('counts AssumeRole per role ARN and records who asked for what', async () => {
    // Act
    await assume({ RoleSessionName: 'one' });
    await assume({ RoleSessionName: 'two', SourceIdentity: 'revoker' });
    await failureOf(assume({ RoleArn: MISSING_ROLE }));

    // Assess
    expect(sts.assumeRoleCount(SPOKE_ROLE)).toBe(2);
    expect(sts.assumeRoleCount(MISSING_ROLE)).toBe(1);
    expect(sts.stats().byRole[MISSING_ROLE]).toMatchObject({ total: 1, rejected: 1, issued: 0 });
    expect(sts.calls[1]).toMatchObject({
      operation: 'AssumeRole',
      accessKeyId: 'local',
      callerAccountId: HUB,
      callerArn: HUB_CALLER,
      roleArn: SPOKE_ROLE,
      roleSessionName: 'two',
      externalIdGiven: true,
      sourceIdentity: 'revoker',
      outcome: 'ok',
      issued: true,
      issuedAccessKeyId: expect.stringMatching(new RegExp(`^ASIA${SPOKE}`)),
    });
    expect(sts.calls[2]).toMatchObject({ code: 'AccessDenied', httpStatus: 403 });
  });

  it('the admin routes show state and calls, change faults, expire sessions and reset', async () => {
    // Prepare
    await assume();
    const post = (path: string, body: unknown) =>
      fetch(`${sts.endpoint}${path}`, { method: 'POST', body: JSON.stringify(body) });

    // Act
    const state = (await (await fetch(`${sts.endpoint}/__emulator/state`)).json()) as {
      roles: { arn: string }[];
      sessions: { accessKeyId: string; secretAccessKey?: string }[];
    };
    const calls = (await (await fetch(`${sts.endpoint}/__emulator/calls`)).json()) as {
      stats: { byRole: Record<string, { ok: number }> };
    };
    const expired = await (await post('/__emulator/expire', { roleArn: SPOKE_ROLE })).json();
    const badFaults = await post('/__emulator/faults', { throttleRps: -1 });
    const reset = await post('/__emulator/reset', {});

    // Assess
    expect(state.roles.map((r) => r.arn)).toEqual([SPOKE_ROLE]);
    expect(state.sessions).toHaveLength(1);
    expect(state.sessions[0]?.secretAccessKey).toBeUndefined();
    expect(calls.stats.byRole[SPOKE_ROLE]?.ok).toBe(1);
    expect(expired).toEqual({ expired: 1 });
    expect(badFaults.status).toBe(400);
    expect(reset.status).toBe(200);
    expect(sts.calls).toHaveLength(0);
    expect(sts.sessions()).toHaveLength(0);
  });

  it('an accounts seed with a bad account id or a duplicate role is refused with its path', async () => {
    expect(() => sts.seed({ accounts: { '12345': { roles: [] } } })).toThrow(/accounts\.12345/);
    expect(() =>
      sts.seed({ accounts: { [SPOKE]: { roles: [{ name: 'a' }, { name: 'A' }] } } }),
    ).toThrow(/has the role 'a' twice/);
    await expect(startStsEmulator({ accounts: '/nonexistent.json' })).rejects.toThrow(/ENOENT/);
  });
});
