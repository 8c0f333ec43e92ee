/**
 * The target fence end to end (README, Guardrails → Broad targets and datashare fence): the real
 * handler, cold-started from its environment with the defaults (broad targets not allowed) and
 * ALLOWED_DATASHARES naming one producer namespace's datashares. What the fence refuses is
 * REJECTED with its code, dead-lettered and audited, with no Redshift call and its grant intact;
 * what it lets through is revoked as usual.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  CONSUMER_ACCOUNT,
  callFilter,
  dataShareArn,
  namespaceArn,
  PRODUCER_ACCOUNT,
  revocationRequest,
  type Target,
} from './fixtures.js';
import {
  auditOf,
  coldStartFromConfig,
  createLambdaService,
  type E2eStack,
  type RunningWorker,
  startE2eStack,
} from './harness.js';

const inside: Target = {
  dataShareArn: dataShareArn('fence_inside'),
  consumerArn: namespaceArn('f1'),
};
// Another producer namespace of the same account: outside the allowed prefix.
const OTHER_SHARE = `arn:aws:redshift:us-east-1:${PRODUCER_ACCOUNT}:datashare:0a0b0c0d-0000-4000-8000-000000000000/fence_outside`;
const outside: Target = { dataShareArn: OTHER_SHARE, consumerArn: namespaceArn('f2') };
const REGION_WIDE = dataShareArn('fence_region');
const ENTIRE_ACCOUNT = dataShareArn('fence_account');
/** The producer namespace's prefix: `…:datashare:<namespace>/`. */
const ALLOWED_PREFIX = inside.dataShareArn.slice(0, inside.dataShareArn.lastIndexOf('/') + 1);

let e2e: E2eStack;
let worker: RunningWorker;

beforeAll(async () => {
  e2e = await startE2eStack({
    datashares: {
      datashares: [
        { dataShareArn: inside.dataShareArn, associations: [{ consumerArn: inside.consumerArn }] },
        { dataShareArn: OTHER_SHARE, associations: [{ consumerArn: outside.consumerArn }] },
        { dataShareArn: REGION_WIDE, associations: [{ consumerRegion: 'us-east-1' }] },
        { dataShareArn: ENTIRE_ACCOUNT, associations: [{ account: CONSUMER_ACCOUNT }] },
      ],
    },
    maxReceiveCount: 3,
    visibilityTimeoutSeconds: 8,
    seed: 12,
    // ALLOW_BROAD_TARGETS is left unset: its default (false) is what is under test.
    workerEnv: { ALLOWED_DATASHARES: ALLOWED_PREFIX },
  });
  const service = createLambdaService({ coldStart: coldStartFromConfig(e2e.env) });
  worker = await e2e.startWorker(service.handler, { functionTimeoutMs: 8000 });
});

afterAll(async () => {
  await worker?.stop();
  await e2e?.stop();
});

it('rejects broad targets by default and datashares outside ALLOWED_DATASHARES, with no Redshift call; revokes what is inside', async () => {
  // Prepare
  const issuedAt = new Date(Date.now() - 60_000).toISOString();
  const base = { policyId: 'pii-exposure-7', issuedAt };

  // Act
  await e2e.send([
    revocationRequest('fence/inside', inside),
    revocationRequest('fence/outside', outside),
    { ...base, eventId: 'fence/region', dataShareArn: REGION_WIDE, consumerRegion: 'us-east-1' },
    {
      ...base,
      eventId: 'fence/account',
      dataShareArn: ENTIRE_ACCOUNT,
      disassociateEntireAccount: true,
    },
  ]);
  await worker.drain({ idleTimeoutMs: 30_000 });

  // Assess: the one inside the fence is revoked
  const redshift = e2e.stack.redshift;
  const events = e2e.auditEvents();
  expect(auditOf(events, 'fence/inside')).toMatchObject([{ outcome: 'REVOKED' }]);
  expect(redshift.isAssociated(inside.dataShareArn, inside.consumerArn)).toBe(false);
  // …the others are refused, visibly, and untouched
  expect(auditOf(events, 'fence/outside')).toMatchObject([
    {
      outcome: 'REJECTED',
      error: { code: 'DatashareNotAllowed', message: expect.stringContaining(OTHER_SHARE) },
    },
  ]);
  for (const eventId of ['fence/region', 'fence/account'])
    expect(auditOf(events, eventId)).toMatchObject([
      { outcome: 'REJECTED', error: { code: 'BroadTargetNotAllowed' } },
    ]);
  expect(redshift.countCalls(callFilter(outside)).total).toBe(0);
  expect(redshift.countCalls({ dataShareArn: REGION_WIDE }).total).toBe(0);
  expect(redshift.countCalls({ dataShareArn: ENTIRE_ACCOUNT }).total).toBe(0);
  expect(redshift.isAssociated(outside.dataShareArn, outside.consumerArn)).toBe(true);
  expect(redshift.isAssociated(REGION_WIDE, 'region:us-east-1')).toBe(true);
  expect(redshift.isAssociated(ENTIRE_ACCOUNT, `account:${CONSUMER_ACCOUNT}`)).toBe(true);
  // …and dead-lettered with their reason, once each
  const codes = (await e2e.deadLetters()).map((letter) => letter.revoker?.errorCode).sort();
  expect(codes).toEqual(['BroadTargetNotAllowed', 'BroadTargetNotAllowed', 'DatashareNotAllowed']);
  expect(await e2e.depth('source')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
}, 90_000);
