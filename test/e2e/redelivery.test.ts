/**
 * Redelivery: when Lambda fails a whole batch — the handler crashed, or timed out — SQS hands every
 * message back, including those already acted on. Nothing may be lost, and nothing may act twice.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  callFilter,
  dataShareArn,
  namespaceArn,
  revocationRequest,
  seedOf,
  type Target,
} from './fixtures.js';
import {
  auditOf,
  coldStartFromModule,
  createLambdaService,
  type E2eStack,
  type Fate,
  networkHandles,
  type SentMessage,
  startE2eStack,
} from './harness.js';

const FUNCTION_TIMEOUT_MS = 6000;

const target = (name: string): Target => ({
  dataShareArn: dataShareArn(`redelivery_${name}`),
  consumerArn: namespaceArn(`redelivery-${name}`),
});

/** A batch with every non-failing outcome and a duplicate, per scenario. */
const scenario = (name: string) => {
  const revoked = [target(`${name}-a`), target(`${name}-b`), target(`${name}-c`)];
  const notAssociated = target(`${name}-gone`);
  const dryRun = target(`${name}-dry`);
  return {
    revoked,
    notAssociated,
    dryRun,
    requests: [
      ...revoked.map((t, i) => revocationRequest(`redelivery/${name}/${i}`, t)),
      revocationRequest(`redelivery/${name}/gone`, notAssociated),
      revocationRequest(`redelivery/${name}/dry`, dryRun, { dryRun: true }),
      // A duplicate within the batch
      revocationRequest(`redelivery/${name}/0`, revoked[0] as Target),
    ],
  };
};

const CRASH = scenario('crash');
const TIMEOUT = scenario('timeout');
const HANG = { slow: target('hang-slow'), fast: target('hang-fast') };

let e2e: E2eStack;
let handlesBefore: number;

beforeAll(async () => {
  handlesBefore = networkHandles();
  e2e = await startE2eStack({
    datashares: seedOf(
      [...CRASH.revoked, CRASH.dryRun, ...TIMEOUT.revoked, TIMEOUT.dryRun, HANG.slow, HANG.fast],
      [CRASH.notAssociated, TIMEOUT.notAssociated],
    ),
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 6,
    seed: 23,
    workerEnv: { DEADLINE_RESERVE_MS: '1000' },
  });
});

afterAll(async () => {
  await e2e?.stop();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // Each test file starts and stops its own stack: nothing of it may outlive the file.
  expect(networkHandles()).toBe(handlesBefore);
});

beforeEach(() => {
  e2e.stack.redshift.setFaults({ failNext: [], latencyMs: 0 });
});

/** Runs the batch once with the first invocation's fate forced, then until the queue drains. */
const runWithFirstInvocation = async (fate: Fate, bodies: Record<string, unknown>[]) => {
  const service = createLambdaService({
    coldStart: coldStartFromModule,
    fate: (invocation) => (invocation === 1 ? fate : 'return'),
  });
  const sent = await e2e.send(bodies);
  const result = await e2e.run(service.handler, {
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
    idleTimeoutMs: 45_000,
  });
  await service.settled();
  return { sent, ...result, counts: service.counts };
};

const expectNothingLostNorDoneTwice = async (
  s: ReturnType<typeof scenario>,
  sent: SentMessage[],
  deleted: string[],
) => {
  // Every message acknowledged exactly once, none left, none dead-lettered
  expect([...deleted].sort()).toEqual(sent.map((m) => m.messageId).sort());
  expect(await e2e.depth('source')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  const ids = new Set(sent.map((m) => m.messageId));
  expect(
    (await e2e.deadLetters()).filter((d) => ids.has(d.revoker?.sourceMessageId ?? '')),
  ).toEqual([]);
  // One state change per target and one audit event per eventId
  for (const t of s.revoked) {
    expect(e2e.stack.redshift.isAssociated(t.dataShareArn, t.consumerArn)).toBe(false);
    expect(e2e.stack.redshift.countCalls(callFilter(t)).total).toBe(1);
  }
  expect(e2e.stack.redshift.countCalls(callFilter(s.notAssociated)).total).toBe(1);
  expect(e2e.stack.redshift.countCalls(callFilter(s.dryRun)).total).toBe(0);
  expect(e2e.stack.redshift.isAssociated(s.dryRun.dataShareArn, s.dryRun.consumerArn)).toBe(true);
  const events = e2e.auditEvents();
  for (const request of s.requests) {
    expect(auditOf(events, String(request.eventId))).toHaveLength(1);
  }
};

it('a handler that crashes after its side effects loses no message, and the redelivery changes no state and audits nothing twice', async () => {
  // Act
  const { sent, reports, stats, counts } = await runWithFirstInvocation('crash', CRASH.requests);

  // Assess: the whole first batch came back and was acknowledged on its return
  expect(counts.crashes).toBe(1);
  expect(stats.batchFailures['handler-error']).toBe(1);
  expect(reports.map((r) => r.outcome)).toEqual(['failed', 'succeeded']);
  await expectNothingLostNorDoneTwice(
    CRASH,
    sent,
    reports.flatMap((r) => r.deletedMessageIds),
  );
}, 60_000);

it('an invocation that times out after its side effects loses no message, and the redelivery changes no state and audits nothing twice', async () => {
  // Act
  const { sent, reports, stats, counts } = await runWithFirstInvocation(
    'timeout',
    TIMEOUT.requests,
  );

  // Assess
  expect(counts.timeouts).toBe(1);
  expect(stats.batchFailures.timeout).toBe(1);
  expect(reports.map((r) => r.outcome)).toEqual(['failed', 'succeeded']);
  await expectNothingLostNorDoneTwice(
    TIMEOUT,
    sent,
    reports.flatMap((r) => r.deletedMessageIds),
  );
}, 60_000);

it('rule 8: a Redshift call that took effect but hangs past the deadline: the handler still returns in time, and the return neither changes state again nor audits twice', async () => {
  // Prepare: the slow target's disassociation is applied, then its answer never comes
  e2e.stack.redshift.setFaults({
    failNext: [
      {
        kind: 'hang',
        when: 'after',
        dataShareArn: HANG.slow.dataShareArn,
        consumer: HANG.slow.consumerArn,
      },
    ],
  });

  // Act
  const { sent, reports, stats } = await runWithFirstInvocation('return', [
    revocationRequest('redelivery/hang/slow', HANG.slow),
    revocationRequest('redelivery/hang/fast', HANG.fast),
  ]);

  // Assess: no Lambda timeout; the slow one came back, the fast one did not wait for it
  const [slow, fast] = sent;
  expect(stats.batchFailures.timeout).toBe(0);
  expect(reports[0]?.failedMessageIds).toEqual([slow?.messageId]);
  expect(reports[0]?.deletedMessageIds).toEqual([fast?.messageId]);
  expect(reports[0]?.durationMs).toBeLessThan(FUNCTION_TIMEOUT_MS);
  expect(reports.flatMap((r) => r.deletedMessageIds).sort()).toEqual(
    [slow?.messageId, fast?.messageId].sort(),
  );
  const slowCalls = e2e.stack.redshift.calls.filter(
    (c) =>
      c.operation === 'DisassociateDataShareConsumer' && c.dataShareArn === HANG.slow.dataShareArn,
  );
  expect(slowCalls.filter((c) => c.applied)).toHaveLength(1);
  expect(slowCalls.length).toBeGreaterThanOrEqual(2);
  expect(e2e.stack.redshift.isAssociated(HANG.slow.dataShareArn, HANG.slow.consumerArn)).toBe(
    false,
  );
  const events = e2e.auditEvents();
  expect(auditOf(events, 'redelivery/hang/slow')).toMatchObject([
    { outcome: expect.stringMatching(/^(REVOKED|ALREADY_REVOKED)$/), receiveCount: 2 },
  ]);
  expect(auditOf(events, 'redelivery/hang/fast')).toMatchObject([
    { outcome: 'REVOKED', receiveCount: 1 },
  ]);
  expect(await e2e.depth('source')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
}, 60_000);
