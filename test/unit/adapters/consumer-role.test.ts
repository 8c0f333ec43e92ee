import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ConsumerRoleCredentials,
  REFRESH_BEFORE_EXPIRY_MS,
  sessionNameOf,
} from '../../../src/adapters/consumer-role.js';
import { ConsumerRoleError, FailureKind } from '../../../src/core/errors.js';

const sts = mockClient(STSClient);
const ROLE = 'arn:aws:iam::222233334444:role/datashare-revoker-spoke';
const OTHER_ROLE = 'arn:aws:iam::333344445555:role/datashare-revoker-spoke';
const signal = new AbortController().signal;

let now = Date.parse('2026-11-29T12:00:00Z');
const credentials = (expiresInMs: number, key = 'ASIAEXAMPLE') => ({
  Credentials: {
    AccessKeyId: key,
    SecretAccessKey: 'secret',
    SessionToken: 'token',
    Expiration: new Date(now + expiresInMs),
  },
});

const role = (options: { externalId?: string } = {}) =>
  new ConsumerRoleCredentials({
    clientConfig: { region: 'us-east-1' },
    roleName: 'datashare-revoker-spoke',
    sessionSeconds: 3600,
    sessionName: 'revoker-prod-1a2b3c4d',
    clock: () => now,
    ...options,
  });

const denied = () =>
  new STSServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    message: `User: arn:aws:sts::111122223333:assumed-role/revoker/x is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    $metadata: { httpStatusCode: 403 },
  });

const throttled = () =>
  new STSServiceException({
    name: 'Throttling',
    $fault: 'client',
    message: 'Rate exceeded',
    $metadata: { httpStatusCode: 400 },
  });

describe('ConsumerRoleCredentials', () => {
  beforeEach(() => {
    sts.reset();
    now = Date.parse('2026-11-29T12:00:00Z');
  });

  it('assumes the role with the session name, duration and ExternalId configured', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(credentials(3_600_000));
    // Act
    const got = await role({ externalId: 'governance-7' }).get(ROLE, signal);
    // Assess
    expect(got).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', sessionToken: 'token' });
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: ROLE,
      RoleSessionName: 'revoker-prod-1a2b3c4d',
      DurationSeconds: 3600,
      ExternalId: 'governance-7',
    });
  });

  it('caches credentials per role until 5 minutes before they expire, then refreshes them', async () => {
    // Prepare
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(credentials(3_600_000, 'FIRST'))
      .resolvesOnce(credentials(3_600_000, 'SECOND'));
    const consumer = role();
    // Act
    const first = await consumer.get(ROLE, signal);
    now += 3_600_000 - REFRESH_BEFORE_EXPIRY_MS - 1;
    const cached = await consumer.get(ROLE, signal);
    now += 2;
    const refreshed = await consumer.get(ROLE, signal);
    // Assess
    expect([first.accessKeyId, cached.accessKeyId, refreshed.accessKeyId]).toEqual([
      'FIRST',
      'FIRST',
      'SECOND',
    ]);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('uses short sessions (under 10 minutes) for the first half of their life, not refetching them at every call', async () => {
    sts.on(AssumeRoleCommand).resolves(credentials(240_000));
    const consumer = role();
    await consumer.get(ROLE, signal);
    now += 119_000;
    await consumer.get(ROLE, signal);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    now += 2000;
    await consumer.get(ROLE, signal);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('assumes afresh after invalidate (a service refused the session)', async () => {
    sts.on(AssumeRoleCommand).resolves(credentials(3_600_000));
    const consumer = role();
    await consumer.get(ROLE, signal);
    consumer.invalidate(ROLE);
    await consumer.get(ROLE, signal);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('makes one AssumeRole call for concurrent misses of one role, and one per role', async () => {
    sts.on(AssumeRoleCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return credentials(3_600_000);
    });
    const consumer = role();
    await Promise.all([
      consumer.get(ROLE, signal),
      consumer.get(ROLE, signal),
      consumer.get(ROLE, signal),
      consumer.get(OTHER_ROLE, signal),
    ]);
    const roles = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleArn);
    expect(roles.sort()).toEqual([ROLE, OTHER_ROLE].sort());
  });

  it('maps access denied (role missing, trust or ExternalId wrong) to a permanent ConsumerRoleDenied naming the role', async () => {
    sts.on(AssumeRoleCommand).rejects(denied());
    const error = await role()
      .get(ROLE, signal)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConsumerRoleError);
    expect(error).toMatchObject({ code: 'ConsumerRoleDenied', kind: FailureKind.Permanent });
    expect((error as Error).message).toContain(ROLE);
  });

  it('retries STS throttling as a transient fault (it must not slow the Redshift gate), and caches nothing failed', async () => {
    sts.on(AssumeRoleCommand).rejectsOnce(throttled()).resolves(credentials(3_600_000));
    const consumer = role();
    const error = await consumer.get(ROLE, signal).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'Throttling', kind: FailureKind.Transient });
    expect((await consumer.get(ROLE, signal)).accessKeyId).toBe('ASIAEXAMPLE');
  });

  it("gives up waiting when the caller's signal aborts, without failing the shared call", async () => {
    sts.on(AssumeRoleCommand).callsFake(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return credentials(3_600_000);
    });
    const consumer = role();
    const impatient = consumer.get(ROLE, AbortSignal.timeout(5)).catch((caught: unknown) => caught);
    const patient = consumer.get(ROLE, signal);
    expect(await impatient).toMatchObject({ kind: FailureKind.Transient });
    expect((await patient).accessKeyId).toBe('ASIAEXAMPLE');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it('names the role ARN in the partition given', () => {
    expect(role().roleArn('222233334444', 'aws-cn')).toBe(
      'arn:aws-cn:iam::222233334444:role/datashare-revoker-spoke',
    );
  });
});

describe('sessionNameOf', () => {
  it("keeps within STS's rule: 2 to 64 characters of [\\w+=,.@-]", () => {
    expect(sessionNameOf('revoker-prod', '1a2b3c4d')).toBe('revoker-prod-1a2b3c4d');
    expect(sessionNameOf('a:b/c', 'x')).toBe('a-b-c-x');
    const long = sessionNameOf('f'.repeat(80), '1a2b3c4d');
    expect(long).toHaveLength(64);
    expect(long.endsWith('-1a2b3c4d')).toBe(true);
  });
});
