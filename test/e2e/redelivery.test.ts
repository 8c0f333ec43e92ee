/**
 * Redelivery: when Lambda fails a whole batch — the handler crashed, or timed out — SQS hands every
 * message back, including those already acted on. Nothing may be lost, and nothing may act twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  callFilter,
  dataShareArn,
  MALFORMED_BODIES,
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
  type RunningWorker,
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
const QUARANTINED = { failed: target('quarantined-failed'), other: target('quarantined-other') };

let e2e: E2eStack;
let worker: RunningWorker;
let handlesBefore: number;

beforeAll(async () => {
  handlesBefore = networkHandles();
  e2e = await startE2eStack({
    datashares: seedOf(
      [...CRASH.revoked, CRASH.dryRun, ...TIMEOUT.revoked, TIMEOUT.dryRun, QUARANTINED.failed],
      [CRASH.notAssociated, TIMEOUT.notAssociated],
    ),
    maxReceiveCount: 5,
    visibilityTimeoutSeconds: 6,
    seed: 23,
    workerEnv: { DEADLINE_RESERVE_MS: '2000' },
  });
  worker = await e2e.startWorker(() => Promise.reject(new Error('no handler yet')), {
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
  });
});

afterAll(async () => {
  await worker?.stop();
  await e2e?.stop();
  await new Promise((resolve) => setTimeout(resolve, 50));
  // Each test file starts and stops its own stack: nothing of it may outlive the file.
  expect(networkHandles()).toBe(handlesBefore);
});

/** Runs the batch once with the first invocation's fate forced, then until the queue drains. */
const runWithFirstInvocation = async (
  fate: Fate,
  bodies: readonly (string | Record<string, unknown>)[],
) => {
  const service = createLambdaService({
    coldStart: coldStartFromModule,
    fate: (invocation) => (invocation === 1 ? fate : 'return'),
  });
  worker.use(service.handler);
  const sent = await e2e.send(bodies);
  const result = await worker.drain({ idleTimeoutMs: 45_000 });
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
  // The first batch fails as a whole; its redelivery ends acknowledged. Under load a message may
  // first find its earlier try's lease still running (rule 3) and come back once more.
  expect(reports[0]?.outcome).toBe('failed');
  expect(reports.at(-1)?.outcome).toBe('succeeded');
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
  // The first batch fails as a whole; its redelivery ends acknowledged. Under load a message may
  // first find its earlier try's lease still running (rule 3) and come back once more.
  expect(reports[0]?.outcome).toBe('failed');
  expect(reports.at(-1)?.outcome).toBe('succeeded');
  await expectNothingLostNorDoneTwice(
    TIMEOUT,
    sent,
    reports.flatMap((r) => r.deletedMessageIds),
  );
}, 60_000);

it('a handler that crashes after its side effects: its REJECTED and FAILED messages come back, and are neither dead-lettered nor audited twice, nor called again', async () => {
  // Prepare: a permanent error for the FAILED one
  const t = QUARANTINED.failed;
  e2e.stack.redshift.setFaults({
    failNext: [{ kind: 'accessDenied', dataShareArn: t.dataShareArn, consumer: t.consumerArn }],
  });
  const bodies = [
    MALFORMED_BODIES.notJson(7),
    MALFORMED_BODIES.wrongConsumer(7, QUARANTINED.other),
    JSON.stringify(revocationRequest('redelivery/quarantined/failed', t)),
  ];

  // Act
  const { sent, reports } = await runWithFirstInvocation('crash', bodies);

  // Assess
  // The first batch fails as a whole; its redelivery ends acknowledged. Under load a message may
  // first find its earlier try's lease still running (rule 3) and come back once more.
  expect(reports[0]?.outcome).toBe('failed');
  expect(reports.at(-1)?.outcome).toBe('succeeded');
  expect(e2e.stack.redshift.countCalls(callFilter(t)).total).toBe(1);
  const letters = await e2e.deadLetters();
  const events = e2e.auditEvents();
  const [notJson, wrongConsumer, failed] = sent;
  for (const message of [notJson, wrongConsumer]) {
    expect(letters.filter((d) => d.body === message?.body)).toMatchObject([
      { revoker: { outcome: 'REJECTED', sourceMessageId: message?.messageId, receiveCount: '1' } },
    ]);
    expect(events.filter((e) => e.detail.messageId === message?.messageId)).toHaveLength(1);
  }
  expect(letters.filter((d) => d.body === failed?.body)).toMatchObject([
    { revoker: { outcome: 'FAILED', errorCode: 'AccessDenied', receiveCount: '1' } },
  ]);
  expect(auditOf(events, 'redelivery/quarantined/failed')).toMatchObject([
    { outcome: 'FAILED', receiveCount: 1 },
  ]);
  expect(await e2e.depth('source')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
}, 60_000);
