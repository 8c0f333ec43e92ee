/**
 * Hub and spoke end to end: the real handler in hub mode against the STS emulator and the
 * account-aware Redshift emulator (which acts as whoever signed the call). Each decision must act
 * in the right account as the right role; credentials are assumed once per role per container
 * while valid, refreshed before they expire; STS throttling is retried; accounts outside
 * CONSUMER_ACCOUNTS and spokes without the role are refused visibly.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { dataShareArn, type Target } from './fixtures.js';
import {
  auditOf,
  coldStartFromConfig,
  createLambdaService,
  type E2eStack,
  type RunningWorker,
  startE2eStack,
} from './harness.js';

const HUB = '111122223333';
const SPOKE = '222233334444';
const NO_ROLE = '333344445555';
const OUTSIDER = '444455556666';
const ROLE_NAME = 'datashare-revoker-spoke';
const roleIn = (account: string) => `arn:aws:iam::${account}:role/${ROLE_NAME}`;
const share = dataShareArn('hub_and_spoke');
const consumerIn = (account: string, id: string): Target => ({
  dataShareArn: share,
  consumerArn: `arn:aws:redshift:us-east-1:${account}:namespace:${id}`,
});
const T = {
  hub: consumerIn(HUB, 'hub-1'),
  spoke: [1, 2, 3].map((i) => consumerIn(SPOKE, `spoke-${i}`)),
  refresh: [1, 2].map((i) => consumerIn(SPOKE, `refresh-${i}`)),
  throttled: consumerIn(SPOKE, 'throttled-1'),
  noRole: consumerIn(NO_ROLE, 'norole-1'),
  outsider: consumerIn(OUTSIDER, 'outsider-1'),
};
const all = [T.hub, ...T.spoke, ...T.refresh, T.throttled, T.noRole, T.outsider];

let e2e: E2eStack;
let worker: RunningWorker;

beforeAll(async () => {
  e2e = await startE2eStack({
    accounts: {
      accounts: {
        [HUB]: { roles: [] },
        [SPOKE]: { roles: [{ name: ROLE_NAME, externalId: 'ext-7' }] },
        [NO_ROLE]: { roles: [] },
      },
    },
    datashares: {
      datashares: [
        {
          dataShareArn: share,
          associations: all.map((target) => ({ consumerArn: target.consumerArn })),
        },
      ],
    },
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 8,
    seed: 10,
    workerEnv: {
      CONSUMER_ROLE_NAME: ROLE_NAME,
      CONSUMER_ACCOUNTS: `${SPOKE},${NO_ROLE}`,
      CONSUMER_ROLE_EXTERNAL_ID: 'ext-7',
      CONSUMER_ROLE_SESSION_SECONDS: '900',
      WORKER_ROLE_ARN: `arn:aws:iam::${HUB}:role/datashare-revoker`,
    },
  });
  // One container for the whole file: its credential cache is what is under test.
  const service = createLambdaService({ coldStart: coldStartFromConfig(e2e.env) });
  worker = await e2e.startWorker(service.handler, { functionTimeoutMs: 8000 });
});

afterAll(async () => {
  await worker?.stop();
  await e2e?.stop();
});

beforeEach(() => {
  e2e.stack.sts.setFaults({ failNext: [], credentialLifetimeSeconds: null });
});

const request = (eventId: string, target: Target) => ({
  eventId,
  dataShareArn: target.dataShareArn,
  consumerArn: target.consumerArn,
  policyId: 'pii-exposure-7',
  issuedAt: new Date(Date.now() - 60_000).toISOString(),
});

const associated = (target: Target, account: string) =>
  e2e.stack.redshift.isAssociated(target.dataShareArn, target.consumerArn, account);

it('acts in each consumer account as its spoke role and in its own as itself, with one AssumeRole per role while the credentials are valid; the audit names account, actor and request id', async () => {
  // Act: decisions for the hub and the spoke, in two waves (the second finds the cache warm)
  await e2e.send([request('hs/hub', T.hub), request('hs/spoke-1', T.spoke[0] as Target)]);
  await worker.drain({ idleTimeoutMs: 30_000 });
  await e2e.send(T.spoke.slice(1).map((target, i) => request(`hs/spoke-${i + 2}`, target)));
  await worker.drain({ idleTimeoutMs: 30_000 });

  // Assess: every target gone, each call made by the right account and role
  for (const target of [T.hub, ...T.spoke])
    expect(associated(target, target === T.hub ? HUB : SPOKE)).toBe(false);
  const redshift = e2e.stack.redshift;
  expect(
    redshift.countCalls({
      operation: 'DisassociateDataShareConsumer',
      callerAccountId: SPOKE,
      roleArn: roleIn(SPOKE),
    }).ok,
  ).toBe(3);
  expect(
    redshift.countCalls({ operation: 'DisassociateDataShareConsumer', callerAccountId: HUB }).ok,
  ).toBe(1);
  expect(e2e.stack.sts.assumeRoleCount(roleIn(SPOKE))).toBe(1);
  const [spokeAudit] = auditOf(e2e.auditEvents(), 'hs/spoke-1');
  expect(spokeAudit).toMatchObject({
    outcome: 'REVOKED',
    consumerAccountId: SPOKE,
    actor: { accountId: SPOKE, roleArn: roleIn(SPOKE) },
    redshiftRequestId: expect.any(String),
  });
  expect(auditOf(e2e.auditEvents(), 'hs/hub')[0]).toMatchObject({
    consumerAccountId: HUB,
    actor: { accountId: HUB, roleArn: `arn:aws:iam::${HUB}:role/datashare-revoker` },
  });
}, 90_000);

it('credentials that STS ended early are dropped and assumed afresh (the call retried); credentials within 5 minutes of expiry are refreshed before the call', async () => {
  // Prepare: the cached session is ended at STS; new ones are issued within the refresh margin
  const before = e2e.stack.sts.assumeRoleCount(roleIn(SPOKE));
  e2e.stack.sts.setFaults({ credentialLifetimeSeconds: 2 });
  e2e.stack.sts.expireCredentials(roleIn(SPOKE));
  // Act: the first decision meets the ended session; the second comes once the new 2 s session
  // is past half its life (short sessions are refreshed at half-life, long ones 5 min early)
  await e2e.send([request('hs/refresh-1', T.refresh[0] as Target)]);
  await worker.drain({ idleTimeoutMs: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 1200));
  await e2e.send([request('hs/refresh-2', T.refresh[1] as Target)]);
  await worker.drain({ idleTimeoutMs: 30_000 });
  // Assess: the first decision re-assumed after ExpiredToken; the second refreshed before calling
  expect(e2e.stack.sts.assumeRoleCount(roleIn(SPOKE)) - before).toBe(2);
  for (const target of T.refresh) expect(associated(target, SPOKE)).toBe(false);
  expect(
    T.refresh.map((_, i) => auditOf(e2e.auditEvents(), `hs/refresh-${i + 1}`)[0]?.outcome),
  ).toEqual(['REVOKED', 'REVOKED']);
  // The refresh came before the call: Redshift never saw the second decision's expired session
  expect(
    e2e.stack.redshift.countCalls({ consumer: (T.refresh[1] as Target).consumerArn }).total,
  ).toBe(1);
}, 90_000);

it('retries STS throttling with backoff, and revokes', async () => {
  const throttledBefore = e2e.stack.sts.countCalls({ operation: 'AssumeRole' }).throttled;
  // The 2 s session of the test before is due for refresh once past half its life.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  e2e.stack.sts.setFaults({
    credentialLifetimeSeconds: 240,
    failNext: [{ kind: 'throttle', count: 2 }],
  });
  await e2e.send([request('hs/throttled', T.throttled)]);
  await worker.drain({ idleTimeoutMs: 30_000 });
  expect(associated(T.throttled, SPOKE)).toBe(false);
  expect(auditOf(e2e.auditEvents(), 'hs/throttled')).toMatchObject([{ outcome: 'REVOKED' }]);
  expect(e2e.stack.sts.countCalls({ operation: 'AssumeRole' }).throttled - throttledBefore).toBe(2);
}, 90_000);

it('a spoke without the role: FAILED ConsumerRoleDenied naming the role, not retried, dead-lettered; an account outside CONSUMER_ACCOUNTS: REJECTED ConsumerAccountNotAllowed with no STS or Redshift call', async () => {
  // Prepare
  const stsBefore = e2e.stack.sts.countCalls({}).total;
  // Act
  await e2e.send([request('hs/no-role', T.noRole), request('hs/outsider', T.outsider)]);
  await worker.drain({ idleTimeoutMs: 30_000 });
  // Assess
  expect(auditOf(e2e.auditEvents(), 'hs/no-role')).toMatchObject([
    {
      outcome: 'FAILED',
      receiveCount: 1,
      error: { code: 'ConsumerRoleDenied', message: expect.stringContaining(roleIn(NO_ROLE)) },
    },
  ]);
  expect(e2e.stack.sts.assumeRoleCount(roleIn(NO_ROLE))).toBe(1);
  expect(auditOf(e2e.auditEvents(), 'hs/outsider')).toMatchObject([
    { outcome: 'REJECTED', error: { code: 'ConsumerAccountNotAllowed' } },
  ]);
  expect(e2e.stack.sts.countCalls({}).total - stsBefore).toBe(1);
  expect(e2e.stack.redshift.countCalls({ callerAccountId: OUTSIDER }).total).toBe(0);
  expect(e2e.stack.redshift.countCalls({ callerAccountId: NO_ROLE }).total).toBe(0);
  const letters = await e2e.deadLetters();
  const codes = letters.map((letter) => letter.revoker?.errorCode).sort();
  expect(codes).toEqual(['ConsumerAccountNotAllowed', 'ConsumerRoleDenied']);
}, 90_000);
