/**
 * Every outcome and processing rule of the contract (README, rules 1–16), seen from outside:
 * requests go in through SQS and the local event source mapping to the real handler module; the
 * tests read the queues, the audit bus and the Redshift emulator.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventBridgeEnvelope } from '../helpers/requests.js';
import {
  CONSUMER_ACCOUNT,
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
  coldStartFromConfig,
  coldStartFromModule,
  createLambdaService,
  type DrainOptions,
  type E2eStack,
  type LambdaService,
  type RunningWorker,
  reportsOf,
  type SentMessage,
  startE2eStack,
} from './harness.js';

const FUNCTION_TIMEOUT_MS = 6000;
const MAX_RECEIVE_COUNT = 2;

/** One target per test, so that no test sees another's state. */
const target = (name: string): Target => ({
  dataShareArn: dataShareArn(`share_${name}`),
  consumerArn: namespaceArn(name),
});

const T = {
  revoked: target('revoked'),
  notAssociated: target('not-associated'),
  unknownShare: target('unknown-share'),
  ambiguousActive: target('ambiguous-active'),
  dryRun: target('dry-run'),
  dryRunConfig: target('dry-run-config'),
  accessDenied: target('access-denied'),
  invalidNamespace: target('invalid-namespace'),
  dupWithin: target('dup-within'),
  dupAcross: target('dup-across'),
  sameTarget: target('same-target'),
  satisfied: target('satisfied'),
  exhausted: target('exhausted'),
  entryRetried: target('entry-retried'),
  auditPersists: target('audit-persists'),
  failedAuditPersists: target('failed-audit-persists'),
  envelope: target('envelope'),
  replayed: target('replayed'),
  auditHangs: target('audit-hangs'),
  dlqDown: target('dlq-down'),
  hangSlow: target('hang-slow'),
  hangFast: target('hang-fast'),
  throttled: Array.from({ length: 6 }, (_, i) => target(`throttled-${i}`)),
  slow: Array.from({ length: 10 }, (_, i) => target(`slow-${i}`)),
};

const REGION_WIDE = dataShareArn('share_region-wide');
const ENTIRE_ACCOUNT = dataShareArn('share_entire-account');
const ACCOUNT_NAMESPACE = namespaceArn('entire-account-ns');

const NAMESPACE_SEED = seedOf(
  [
    T.envelope,
    T.replayed,
    T.auditHangs,
    T.revoked,
    T.ambiguousActive,
    T.dryRun,
    T.dryRunConfig,
    T.accessDenied,
    T.invalidNamespace,
    T.dupWithin,
    T.dupAcross,
    T.sameTarget,
    T.satisfied,
    T.exhausted,
    T.entryRetried,
    T.auditPersists,
    T.failedAuditPersists,
    T.hangSlow,
    T.hangFast,
    ...T.throttled,
    ...T.slow,
  ],
  [T.notAssociated],
);
const SEED = {
  datashares: [
    ...NAMESPACE_SEED.datashares,
    { dataShareArn: REGION_WIDE, associations: [{ consumerRegion: 'us-east-1' }] },
    {
      dataShareArn: ENTIRE_ACCOUNT,
      associations: [{ account: CONSUMER_ACCOUNT }, { consumerArn: ACCOUNT_NAMESPACE }],
    },
  ],
};

let e2e: E2eStack;
let service: LambdaService;
let worker: RunningWorker;

/** Lets the mapping work until the queue is drained; the batches it ran meanwhile. */
const run = (options: DrainOptions = {}) => worker.drain(options);

const isAssociated = (t: Target) => e2e.stack.redshift.isAssociated(t.dataShareArn, t.consumerArn);
const disassociateCalls = (t: Target) => e2e.stack.redshift.countCalls(callFilter(t));

const expectQueueDrained = async () => {
  expect(await e2e.depth('source')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
};

beforeAll(async () => {
  e2e = await startE2eStack({
    datashares: SEED,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    visibilityTimeoutSeconds: 6,
    seed: 11,
    // Rule 7 revokes a region-wide and an entire-account consumer: broad targets are opt-in.
    // A cap below the batch size (the default is 10), so that rule 7's cap shows in one batch.
    workerEnv: {
      DEADLINE_RESERVE_MS: '2000',
      ALLOW_BROAD_TARGETS: 'true',
      REDSHIFT_MAX_CONCURRENCY: '5',
    },
  });
  // The real module, cold-started as Lambda does it: env in place, then import.
  service = createLambdaService({ coldStart: coldStartFromModule });
  worker = await e2e.startWorker(service.handler, { functionTimeoutMs: FUNCTION_TIMEOUT_MS });
});

afterAll(async () => {
  await worker?.stop();
  await service?.settled();
  await e2e?.stop();
});

const resetFaults = () => {
  e2e.stack.redshift.setFaults({
    throttleRps: 0,
    latencyMs: 0,
    errorRate: 0,
    hangRate: 0,
    resetRate: 0,
    failNext: [],
  });
  e2e.stack.eventBridge.setFaults({
    entryFailureRate: 0,
    callFailureRate: 0,
    latencyMs: 0,
    failNextCalls: [],
    failNextEntries: [],
  });
};

/** Adds a targeted fault without dropping those other tests are counting on. */
const addFailNext = (
  ...rules: NonNullable<Parameters<E2eStack['stack']['redshift']['setFaults']>[0]['failNext']>
) => e2e.stack.redshift.setFaults({ failNext: [...e2e.stack.redshift.faults.failNext, ...rules] });

/**
 * Drains the queue; the first time an invocation carries a message that came back (receive count
 * above 1), `onReturn` runs before the handler does, e.g. to end an outage.
 */
const runUntilReturn = async (onReturn: () => void) => {
  let returned = false;
  worker.use((event, context) => {
    if (!returned && event.Records.some((r) => r.attributes.ApproximateReceiveCount !== '1')) {
      returned = true;
      onReturn();
    }
    return service.handler(event, context);
  });
  try {
    return await run({ idleTimeoutMs: 30_000 });
  } finally {
    worker.use(service.handler);
  }
};

/**
 * What each batch that carried the message did with it: `acknowledged`, `returned` (reported as a
 * batch item failure) or `returned: <why>` when Lambda failed the whole batch.
 */
const fatesOf = (message: SentMessage | undefined) =>
  reportsOf(worker.reports, message ? [message] : []).map((r) =>
    r.deletedMessageIds.includes(message?.messageId ?? '')
      ? 'acknowledged'
      : r.failure
        ? `returned: ${r.failure.reason} after ${r.durationMs} ms`
        : 'returned',
  );

describe('outcomes', () => {
  beforeEach(resetFaults);

  it('REVOKED: disassociates exactly the target given, publishes one audit event and acknowledges the message', async () => {
    // Prepare
    const [sent] = await e2e.send([revocationRequest('rules/revoked', T.revoked)]);

    // Act
    const { reports } = await run();

    // Assess
    expect(isAssociated(T.revoked)).toBe(false);
    expect(disassociateCalls(T.revoked).total).toBe(1);
    const events = e2e.auditEvents().filter((e) => e.detail.eventId === 'rules/revoked');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      source: 'governance.datashare-revoker',
      detailType: 'Datashare Revocation Result',
      resources: [T.revoked.dataShareArn, T.revoked.consumerArn],
      detail: {
        schemaVersion: 1,
        outcome: 'REVOKED',
        dataShareArn: T.revoked.dataShareArn,
        consumer: { arn: T.revoked.consumerArn },
        attempts: 1,
        receiveCount: 1,
        dryRun: false,
        messageId: sent?.messageId,
      },
    });
    expect(reports.flatMap((r) => r.deletedMessageIds)).toEqual([sent?.messageId]);
    await expectQueueDrained();
  });

  it('ALREADY_REVOKED: a consumer that is not associated is success, with no retry and no dead letter', async () => {
    // Act
    await e2e.send([revocationRequest('rules/not-associated', T.notAssociated)]);
    await run();

    // Assess
    expect(auditOf(e2e.auditEvents(), 'rules/not-associated')).toMatchObject([
      { outcome: 'ALREADY_REVOKED' },
    ]);
    expect(disassociateCalls(T.notAssociated).total).toBe(1);
    expect(
      (await e2e.deadLetters()).filter((d) => d.body.includes('rules/not-associated')),
    ).toEqual([]);
    await expectQueueDrained();
  });

  it('ALREADY_REVOKED: "the ARN doesn\'t exist" is ambiguous, and DescribeDataShares confirms it', async () => {
    // Act: a datashare the emulator was never seeded with
    await e2e.send([revocationRequest('rules/unknown-share', T.unknownShare)]);
    await run();

    // Assess
    expect(auditOf(e2e.auditEvents(), 'rules/unknown-share')).toMatchObject([
      { outcome: 'ALREADY_REVOKED' },
    ]);
    expect(disassociateCalls(T.unknownShare).total).toBe(1);
    expect(
      e2e.stack.redshift.countCalls({
        operation: 'DescribeDataShares',
        dataShareArn: T.unknownShare.dataShareArn,
      }).ok,
    ).toBeGreaterThanOrEqual(1);
    await expectQueueDrained();
  });

  it('an ambiguous "doesn\'t exist" is not taken for gone while DescribeDataShares still lists the association ACTIVE', async () => {
    // Prepare: the first answer claims the ARN is gone, but the association is still there
    e2e.stack.redshift.setFaults({
      failNext: [
        {
          kind: 'accessDenied',
          code: 'InvalidDataShareFault',
          httpStatus: 400,
          message: `Can't disassociate consumer from datashare ${T.ambiguousActive.dataShareArn} because the ARN doesn't exist.`,
          operation: 'DisassociateDataShareConsumer',
          dataShareArn: T.ambiguousActive.dataShareArn,
        },
      ],
    });

    // Act
    await e2e.send([revocationRequest('rules/ambiguous-active', T.ambiguousActive)]);
    await run();

    // Assess: retried, and the retry removed it
    expect(auditOf(e2e.auditEvents(), 'rules/ambiguous-active')).toMatchObject([
      { outcome: 'REVOKED' },
    ]);
    expect(isAssociated(T.ambiguousActive)).toBe(false);
    expect(disassociateCalls(T.ambiguousActive)).toMatchObject({ total: 2, injected: 1 });
  });

  it("DRY_RUN: a request's dryRun does everything but the disassociate call", async () => {
    // Act
    await e2e.send([revocationRequest('rules/dry-run', T.dryRun, { dryRun: true })]);
    await run();

    // Assess
    expect(isAssociated(T.dryRun)).toBe(true);
    expect(disassociateCalls(T.dryRun).total).toBe(0);
    expect(auditOf(e2e.auditEvents(), 'rules/dry-run')).toMatchObject([
      { outcome: 'DRY_RUN', dryRun: true },
    ]);
    await expectQueueDrained();
  });

  it('DRY_RUN=true never calls DisassociateDataShareConsumer', async () => {
    // Prepare: another deployment of the same code, configured for dry runs
    const dryService = createLambdaService({
      coldStart: coldStartFromConfig({ ...e2e.env, DRY_RUN: 'true' }),
    });

    // Act
    worker.use(dryService.handler);
    try {
      await e2e.send([revocationRequest('rules/dry-run-config', T.dryRunConfig)]);
      await run();
    } finally {
      worker.use(service.handler);
    }
    await dryService.settled();

    // Assess
    expect(isAssociated(T.dryRunConfig)).toBe(true);
    expect(disassociateCalls(T.dryRunConfig).total).toBe(0);
    expect(auditOf(e2e.auditEvents(), 'rules/dry-run-config')).toMatchObject([
      { outcome: 'DRY_RUN', dryRun: true },
    ]);
  });

  it('REJECTED: a malformed body is copied to the DLQ with its reason and audited with eventId null', async () => {
    // Prepare
    const notJson = MALFORMED_BODIES.notJson(1);
    const wrongConsumer = MALFORMED_BODIES.wrongConsumer(1, T.revoked);
    const producer = { DataType: 'String', StringValue: 'policy-engine-7' };

    // Act
    const sent = await e2e.send([notJson, wrongConsumer], { producer });
    await run();

    // Assess: the DLQ copies carry the original body and attributes plus the reason
    const [first, second] = sent;
    const letters = (await e2e.deadLetters()).filter((d) =>
      [first?.messageId, second?.messageId].includes(d.revoker?.sourceMessageId),
    );
    expect(letters).toHaveLength(2);
    const letterOf = (messageId: string | undefined) =>
      letters.find((d) => d.revoker?.sourceMessageId === messageId);
    expect(letterOf(first?.messageId)).toMatchObject({
      body: notJson,
      attributes: { producer: 'policy-engine-7' },
      revoker: { outcome: 'REJECTED', errorCode: 'MalformedJson', receiveCount: '1' },
    });
    expect(letterOf(second?.messageId)).toMatchObject({
      body: wrongConsumer,
      revoker: { outcome: 'REJECTED', errorCode: 'SchemaViolation', receiveCount: '1' },
    });
    expect(letterOf(second?.messageId)?.revoker?.errorMessage).toContain(
      'consumerArn: expected a consumer namespace ARN',
    );
    expect(letterOf(second?.messageId)?.revoker?.errorMessage).toContain('arn:aws:s3:::bucket');
    for (const letter of letters) {
      expect(Number.isNaN(Date.parse(letter.revoker?.failedAt ?? ''))).toBe(false);
      expect(letter.revoker?.errorMessage).not.toBe('');
    }

    // Assess: one REJECTED audit event each; the unreadable one with eventId null
    const rejectedOf = (messageId: string | undefined) =>
      e2e.auditEvents().filter((e) => e.detail.messageId === messageId);
    expect(rejectedOf(first?.messageId).map((e) => e.detail)).toMatchObject([
      {
        eventId: null,
        outcome: 'REJECTED',
        error: { code: 'MalformedJson' },
        bodySha256: createHash('sha256').update(notJson).digest('hex'),
      },
    ]);
    expect(rejectedOf(second?.messageId).map((e) => e.detail)).toMatchObject([
      { eventId: 'malformed-1', outcome: 'REJECTED', error: { code: 'SchemaViolation' } },
    ]);
    await expectQueueDrained();
  });

  it.each([
    ['access denied', T.accessDenied, { kind: 'accessDenied' as const }, 'AccessDenied'],
    [
      'InvalidNamespaceFault',
      T.invalidNamespace,
      {
        kind: 'accessDenied' as const,
        code: 'InvalidNamespaceFault',
        httpStatus: 400,
        message: `The namespace ARN ${T.invalidNamespace.consumerArn} isn't valid.`,
      },
      'InvalidNamespaceFault',
    ],
  ])(
    'FAILED: a permanent error (%s) is not retried; the message is dead-lettered with its reason and audited',
    async (_, t, fault, code) => {
      // Prepare
      e2e.stack.redshift.setFaults({
        failNext: [{ ...fault, dataShareArn: t.dataShareArn, consumer: t.consumerArn }],
      });
      const eventId = `rules/failed-${code}`;

      // Act
      const [sent] = await e2e.send([revocationRequest(eventId, t)]);
      await run();

      // Assess
      expect(disassociateCalls(t).total).toBe(1);
      expect(isAssociated(t)).toBe(true);
      expect(auditOf(e2e.auditEvents(), eventId)).toMatchObject([
        { outcome: 'FAILED', attempts: 1, error: { code } },
      ]);
      const letters = (await e2e.deadLetters()).filter(
        (d) => d.revoker?.sourceMessageId === sent?.messageId,
      );
      expect(letters).toMatchObject([
        { body: sent?.body, revoker: { outcome: 'FAILED', errorCode: code, receiveCount: '1' } },
      ]);
      await expectQueueDrained();
    },
  );

  it('rule 7: disassociates exactly the target given: a region-wide and an entire-account consumer', async () => {
    // Prepare
    const base = { policyId: 'pii-exposure-7', issuedAt: new Date().toISOString() };

    // Act
    await e2e.send([
      { ...base, eventId: 'rules/region', dataShareArn: REGION_WIDE, consumerRegion: 'us-east-1' },
      {
        ...base,
        eventId: 'rules/account',
        dataShareArn: ENTIRE_ACCOUNT,
        disassociateEntireAccount: true,
      },
    ]);
    await run();

    // Assess
    const redshift = e2e.stack.redshift;
    expect(redshift.isAssociated(REGION_WIDE, 'region:us-east-1')).toBe(false);
    expect(redshift.isAssociated(ENTIRE_ACCOUNT, `account:${CONSUMER_ACCOUNT}`)).toBe(false);
    expect(redshift.isAssociated(ENTIRE_ACCOUNT, ACCOUNT_NAMESPACE)).toBe(false);
    expect(
      redshift.countCalls({ dataShareArn: REGION_WIDE, consumer: 'region:us-east-1' }).total,
    ).toBe(1);
    expect(
      redshift.countCalls({ dataShareArn: ENTIRE_ACCOUNT, consumer: `account:${CONSUMER_ACCOUNT}` })
        .total,
    ).toBe(1);
    const events = e2e.auditEvents();
    expect(events.find((e) => e.detail.eventId === 'rules/region')).toMatchObject({
      resources: [REGION_WIDE],
      detail: { outcome: 'REVOKED', consumer: { region: 'us-east-1' } },
    });
    expect(events.find((e) => e.detail.eventId === 'rules/account')).toMatchObject({
      resources: [ENTIRE_ACCOUNT],
      detail: { outcome: 'REVOKED', consumer: { entireAccount: true } },
    });
  });

  it('a request in an EventBridge envelope is processed like a bare one', async () => {
    // Act
    await e2e.send([eventBridgeEnvelope(revocationRequest('rules/envelope', T.envelope))]);
    await run();

    // Assess
    expect(isAssociated(T.envelope)).toBe(false);
    expect(auditOf(e2e.auditEvents(), 'rules/envelope')).toMatchObject([{ outcome: 'REVOKED' }]);
  });

  it('rule 12: a REJECTED message whose DLQ copy cannot be sent is neither acknowledged nor audited; it comes back and is quarantined then', async () => {
    // Prepare: the first invocation runs in a container whose DLQ does not exist
    const broken = createLambdaService({
      coldStart: coldStartFromConfig({
        ...e2e.env,
        DEAD_LETTER_QUEUE_URL: `${e2e.stack.endpoints.sqs}/000000000000/no-such-queue`,
      }),
    });
    const body = MALFORMED_BODIES.notJson(12);
    worker.use(broken.handler);

    // Act
    const [sent] = await e2e.send([body]);
    const auditedAfterFirst: number[] = [];
    try {
      await run({
        idleTimeoutMs: 30_000,
        onBatch: () => {
          auditedAfterFirst.push(
            e2e.auditEvents().filter((e) => e.detail.messageId === sent?.messageId).length,
          );
          worker.use(service.handler);
        },
      });
    } finally {
      worker.use(service.handler);
    }
    await broken.settled();

    // Assess
    expect(fatesOf(sent)).toEqual(['returned', 'acknowledged']);
    expect(auditedAfterFirst[0]).toBe(0);
    expect(e2e.auditEvents().filter((e) => e.detail.messageId === sent?.messageId)).toMatchObject([
      { detail: { outcome: 'REJECTED', receiveCount: 2 } },
    ]);
    expect((await e2e.deadLetters()).filter((d) => d.body === body)).toMatchObject([
      { revoker: { outcome: 'REJECTED', sourceMessageId: sent?.messageId, receiveCount: '2' } },
    ]);
  }, 40_000);

  it("rule 12: when the original attributes and the six revoker.* ones pass SQS's 10, the originals are folded into one attribute, not dropped", async () => {
    // Prepare: five producer attributes
    const attributes = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [
        `producer${i}`,
        { DataType: 'String', StringValue: `value-${i}` },
      ]),
    );
    const body = MALFORMED_BODIES.notJson(120);

    // Act
    const [sent] = await e2e.send([body], attributes);
    await run();

    // Assess
    const [letter] = (await e2e.deadLetters()).filter(
      (d) => d.revoker?.sourceMessageId === sent?.messageId,
    );
    expect(Object.keys(letter?.attributes ?? {}).sort()).toEqual([
      'revoker.errorCode',
      'revoker.errorMessage',
      'revoker.failedAt',
      'revoker.originalMessageAttributes',
      'revoker.outcome',
      'revoker.receiveCount',
      'revoker.sourceMessageId',
    ]);
    const folded = JSON.parse(letter?.attributes['revoker.originalMessageAttributes'] ?? '{}');
    expect(folded).toEqual(
      Object.fromEntries(
        Array.from({ length: 5 }, (_, i) => [
          `producer${i}`,
          { dataType: 'String', stringValue: `value-${i}` },
        ]),
      ),
    );
  });
});

describe('duplicates and shared targets', () => {
  beforeEach(resetFaults);

  it('rule 1: the same eventId twice within a batch is processed once; every message is acknowledged', async () => {
    // Prepare: three copies sent together, so they arrive in one batch
    const body = revocationRequest('rules/dup-within', T.dupWithin);
    const sent = await e2e.send([body, body, body]);

    // Act
    const { reports } = await run();

    // Assess
    expect(reports.map((r) => r.messageIds.length)).toEqual([3]);
    expect(reports[0]?.deletedMessageIds).toHaveLength(3);
    expect(disassociateCalls(T.dupWithin).total).toBe(1);
    expect(auditOf(e2e.auditEvents(), 'rules/dup-within')).toMatchObject([
      { outcome: 'REVOKED', messageId: sent[0]?.messageId },
    ]);
    await expectQueueDrained();
  });

  it('rule 2: an eventId already completed is acknowledged in a later batch with no Redshift call and no new audit event', async () => {
    // Prepare
    const body = revocationRequest('rules/dup-across', T.dupAcross);
    await e2e.send([body]);
    await run();

    // Act: the policy engine sends it again
    const [again] = await e2e.send([body]);
    const { reports } = await run();

    // Assess
    expect(reports.flatMap((r) => r.deletedMessageIds)).toEqual([again?.messageId]);
    expect(disassociateCalls(T.dupAcross).total).toBe(1);
    expect(auditOf(e2e.auditEvents(), 'rules/dup-across')).toHaveLength(1);
    await expectQueueDrained();
  });

  it('rule 4: different eventIds naming the same target in one batch share one Redshift call; each gets its own audit event', async () => {
    // Act
    await e2e.send([
      revocationRequest('rules/same-target-a', T.sameTarget),
      revocationRequest('rules/same-target-b', T.sameTarget),
    ]);
    await run();

    // Assess
    expect(disassociateCalls(T.sameTarget).total).toBe(1);
    expect(auditOf(e2e.auditEvents(), 'rules/same-target-a')).toMatchObject([
      { outcome: 'REVOKED' },
    ]);
    expect(auditOf(e2e.auditEvents(), 'rules/same-target-b')).toMatchObject([
      { outcome: 'REVOKED' },
    ]);
  });

  it('rule 5: a confirmed revocation satisfies earlier decisions; a decision issued later gets its own call', async () => {
    // Prepare
    await e2e.send([revocationRequest('rules/satisfied-first', T.satisfied)]);
    await run();

    // Act
    await e2e.send([
      revocationRequest('rules/satisfied-earlier', T.satisfied, {
        issuedAt: new Date(Date.now() - 3_600_000).toISOString(),
      }),
    ]);
    await run();
    const callsAfterEarlier = disassociateCalls(T.satisfied).total;
    await e2e.send([
      revocationRequest('rules/satisfied-later', T.satisfied, {
        issuedAt: new Date(Date.now() + 60_000).toISOString(),
      }),
    ]);
    await run();

    // Assess
    expect(callsAfterEarlier).toBe(1);
    expect(auditOf(e2e.auditEvents(), 'rules/satisfied-earlier')).toMatchObject([
      { outcome: 'ALREADY_REVOKED', satisfiedBy: 'rules/satisfied-first', attempts: 0 },
    ]);
    expect(disassociateCalls(T.satisfied).total).toBe(2);
    expect(auditOf(e2e.auditEvents(), 'rules/satisfied-later')).toMatchObject([
      { outcome: 'ALREADY_REVOKED' },
    ]);
    expect(auditOf(e2e.auditEvents(), 'rules/satisfied-later')[0]?.satisfiedBy).toBeUndefined();
  });

  it('rule 6: a FAILED decision is not recorded as completed: replayed from the DLQ it acts again; a replay of a completed decision is a duplicate', async () => {
    // Prepare: FAILED for an access denial that the operator then fixes
    const t = T.replayed;
    e2e.stack.redshift.setFaults({
      failNext: [{ kind: 'accessDenied', dataShareArn: t.dataShareArn, consumer: t.consumerArn }],
    });
    const [sent] = await e2e.send([revocationRequest('rules/replayed', t)]);
    await run();
    const [letter] = (await e2e.deadLetters()).filter((d) => d.body === sent?.body);
    const replay = { 'revoker.replayCount': { DataType: 'Number', StringValue: '1' } };

    // Act: the operator replays the DLQ copy, then (by mistake) once more
    await e2e.send([letter?.body ?? ''], replay);
    await run();
    await e2e.send([letter?.body ?? ''], replay);
    await run();

    // Assess
    expect(letter?.revoker).toMatchObject({ outcome: 'FAILED', errorCode: 'AccessDenied' });
    expect(isAssociated(t)).toBe(false);
    expect(disassociateCalls(t).total).toBe(2);
    expect(auditOf(e2e.auditEvents(), 'rules/replayed')).toMatchObject([
      { outcome: 'FAILED', replayed: false },
      { outcome: 'REVOKED', replayed: true },
    ]);
  });
});

describe('retries', () => {
  beforeEach(resetFaults);

  it('rule 7: at most REDSHIFT_MAX_CONCURRENCY calls are in flight per container', async () => {
    // Prepare: every answer takes 400 ms; ten targets in one batch, a cap of 5 (set for this file)
    e2e.stack.redshift.setFaults({ latencyMs: 400 });
    const bodies = T.slow.map((t, i) => revocationRequest(`rules/slow-${i}`, t));

    // Act
    await e2e.send(bodies);
    await run();

    // Assess: all revoked, never more than 5 calls within one answer's time
    const calls = e2e.stack.redshift.calls.filter((c) =>
      T.slow.some((t) => t.dataShareArn === c.dataShareArn),
    );
    expect(e2e.env.REDSHIFT_MAX_CONCURRENCY).toBe('5');
    expect(calls).toHaveLength(T.slow.length);
    const inFlight = Math.max(
      ...calls.map((call) => calls.filter((c) => c.at >= call.at && c.at < call.at + 350).length),
    );
    expect(inFlight).toBeLessThanOrEqual(5);
    for (const t of T.slow) expect(isAssociated(t)).toBe(false);
  });

  it('rule 7: throttled calls are retried with backoff until REVOKED, without hammering Redshift', async () => {
    // Prepare: Redshift accepts 3 calls per second, 2 at once
    e2e.stack.redshift.setFaults({ throttleRps: 3, burst: 2 });
    const bodies = T.throttled.map((t, i) => revocationRequest(`rules/throttled-${i}`, t));

    // Act
    await e2e.send(bodies);
    const { reports } = await run();

    // Assess: all revoked in the first invocation
    expect(reports.map((r) => r.outcome)).toEqual(['succeeded']);
    for (const [i, t] of T.throttled.entries()) {
      expect(isAssociated(t)).toBe(false);
      expect(auditOf(e2e.auditEvents(), `rules/throttled-${i}`)).toMatchObject([
        { outcome: 'REVOKED' },
      ]);
    }
    const calls = e2e.stack.redshift.calls.filter(
      (c) =>
        c.operation === 'DisassociateDataShareConsumer' &&
        T.throttled.some((t) => t.dataShareArn === c.dataShareArn),
    );
    const throttled = calls.filter((c) => c.outcome === 'throttled');
    expect(throttled.length).toBeGreaterThan(0);
    // Without backoff, 6 targets × 6 attempts would all be spent within a few milliseconds.
    expect(calls.length).toBeLessThan(T.throttled.length * 3);
    const busiestSecond = Math.max(
      ...calls.map((call) => calls.filter((c) => c.at >= call.at && c.at < call.at + 1000).length),
    );
    expect(busiestSecond).toBeLessThanOrEqual(2 * T.throttled.length);
  });
});

describe('audit', () => {
  beforeEach(resetFaults);

  it('rule 13: an audit entry that fails with a retryable code is retried within the invocation', async () => {
    // Prepare
    e2e.stack.eventBridge.setFaults({
      failNextEntries: [{ code: 'ThrottlingException', count: 1 }],
    });
    const before = e2e.stack.eventBridge.stats().injectedEntryFailures;

    // Act
    await e2e.send([revocationRequest('rules/entry-retried', T.entryRetried)]);
    const { reports } = await run();

    // Assess
    expect(e2e.stack.eventBridge.stats().injectedEntryFailures).toBe(before + 1);
    expect(reports.map((r) => r.outcome)).toEqual(['succeeded']);
    expect(auditOf(e2e.auditEvents(), 'rules/entry-retried')).toMatchObject([
      { outcome: 'REVOKED' },
    ]);
    expect(disassociateCalls(T.entryRetried).total).toBe(1);
  });

  it('rule 13: a message whose audit entry finally fails comes back, and is then audited without a second Redshift call', async () => {
    // Prepare: every entry fails until the message comes back
    e2e.stack.eventBridge.setFaults({ entryFailureRate: 1 });
    const [sent] = await e2e.send([revocationRequest('rules/audit-persists', T.auditPersists)]);

    // Act
    await runUntilReturn(() => e2e.stack.eventBridge.setFaults({ entryFailureRate: 0 }));

    // Assess
    expect(fatesOf(sent)).toEqual(['returned', 'acknowledged']);
    expect(isAssociated(T.auditPersists)).toBe(false);
    expect(disassociateCalls(T.auditPersists).total).toBe(1);
    expect(auditOf(e2e.auditEvents(), 'rules/audit-persists')).toMatchObject([
      { outcome: 'REVOKED', receiveCount: 2 },
    ]);
  }, 40_000);

  it('rule 13: a FAILED decision whose audit finally fails comes back, and is then audited without a second Redshift call nor a second DLQ copy', async () => {
    // Prepare: a permanent error, then every audit entry fails until the message comes back
    const t = T.failedAuditPersists;
    e2e.stack.redshift.setFaults({
      failNext: [{ kind: 'accessDenied', dataShareArn: t.dataShareArn, consumer: t.consumerArn }],
    });
    e2e.stack.eventBridge.setFaults({ entryFailureRate: 1 });
    const [sent] = await e2e.send([revocationRequest('rules/failed-audit-persists', t)]);

    // Act
    await runUntilReturn(() => e2e.stack.eventBridge.setFaults({ entryFailureRate: 0 }));

    // Assess
    expect(fatesOf(sent)).toEqual(['returned', 'acknowledged']);
    expect(disassociateCalls(t).total).toBe(1);
    expect(isAssociated(t)).toBe(true);
    expect(auditOf(e2e.auditEvents(), 'rules/failed-audit-persists')).toMatchObject([
      { outcome: 'FAILED', receiveCount: 2, error: { code: 'AccessDenied' } },
    ]);
    expect((await e2e.deadLetters()).filter((d) => d.body === sent?.body)).toMatchObject([
      { revoker: { outcome: 'FAILED', errorCode: 'AccessDenied', receiveCount: '1' } },
    ]);
  }, 40_000);

  it('rule 13: a REJECTED message whose audit finally fails comes back, and is then audited without a second DLQ copy', async () => {
    // Prepare: every entry fails until the message comes back
    e2e.stack.eventBridge.setFaults({ entryFailureRate: 1 });
    const body = MALFORMED_BODIES.twoTargets(13, T.revoked);
    const [sent] = await e2e.send([body]);

    // Act
    await runUntilReturn(() => e2e.stack.eventBridge.setFaults({ entryFailureRate: 0 }));

    // Assess
    expect(fatesOf(sent)).toEqual(['returned', 'acknowledged']);
    expect(e2e.auditEvents().filter((e) => e.detail.messageId === sent?.messageId)).toMatchObject([
      { detail: { outcome: 'REJECTED', eventId: 'malformed-13', receiveCount: 2 } },
    ]);
    expect((await e2e.deadLetters()).filter((d) => d.body === body)).toMatchObject([
      { revoker: { outcome: 'REJECTED', errorCode: 'SchemaViolation', receiveCount: '1' } },
    ]);
  }, 40_000);

  it('rule 8: a PutEvents call that hangs is given up before the deadline, leaving time to keep the resolution: the handler returns in time, and the message is audited on its return without a second Redshift call', async () => {
    // Prepare: the first two PutEvents calls never answer
    e2e.stack.eventBridge.setFaults({ failNextCalls: [{ kind: 'hang', count: 2 }] });

    // Act
    const [sent] = await e2e.send([revocationRequest('rules/audit-hangs', T.auditHangs)]);
    await run({ idleTimeoutMs: 30_000 });

    // Assess
    const [first] = reportsOf(worker.reports, sent ? [sent] : []);
    expect(first?.failure).toBeUndefined();
    expect(first?.durationMs).toBeLessThan(FUNCTION_TIMEOUT_MS);
    expect(fatesOf(sent)).toEqual(['returned', 'acknowledged']);
    expect(disassociateCalls(T.auditHangs).total).toBe(1);
    expect(auditOf(e2e.auditEvents(), 'rules/audit-hangs')).toMatchObject([
      { outcome: 'REVOKED', receiveCount: 2 },
    ]);
  }, 40_000);
});

// Both wait for a visibility backoff (rule 11: 15 to 30 s on the first return), so they wait
// together. Their faults are targeted: neither disturbs the other.
describe.concurrent('messages that come back after a visibility backoff', () => {
  beforeAll(resetFaults);

  it('rule 11: a retryable failure that lasts until the last receive (MAX_RECEIVE_COUNT) is FAILED and dead-lettered with its reason', async () => {
    // Prepare: every call for this target fails with a 5xx
    addFailNext({
      kind: 'error',
      count: 100,
      dataShareArn: T.exhausted.dataShareArn,
      consumer: T.exhausted.consumerArn,
    });

    // Act
    const [sent] = await e2e.send([revocationRequest('rules/exhausted', T.exhausted)]);
    await run({ idleTimeoutMs: 50_000 });

    // Assess: retried on the first receive, FAILED on the second (the last)
    expect(e2e.env.MAX_RECEIVE_COUNT).toBe(String(MAX_RECEIVE_COUNT));
    expect(fatesOf(sent)).toEqual(['returned', 'acknowledged']);
    expect(isAssociated(T.exhausted)).toBe(true);
    expect(disassociateCalls(T.exhausted).total).toBeGreaterThan(2);
    expect(auditOf(e2e.auditEvents(), 'rules/exhausted')).toMatchObject([
      { outcome: 'FAILED', receiveCount: MAX_RECEIVE_COUNT, error: { code: 'InternalFailure' } },
    ]);
    const letters = (await e2e.deadLetters()).filter((d) => d.body === sent?.body);
    expect(letters).toMatchObject([
      {
        revoker: {
          outcome: 'FAILED',
          errorCode: 'InternalFailure',
          sourceMessageId: sent?.messageId,
          receiveCount: String(MAX_RECEIVE_COUNT),
        },
      },
    ]);
  }, 60_000);

  it('rule 8: a call that took effect but hangs past the deadline does not hold the batch: the handler returns in time, and the return neither changes state again nor audits twice', async () => {
    // Prepare: the slow target's disassociation is applied, then its answer never comes
    addFailNext({
      kind: 'hang',
      when: 'after',
      dataShareArn: T.hangSlow.dataShareArn,
      consumer: T.hangSlow.consumerArn,
    });

    // Act
    const [slow, fast] = await e2e.send([
      revocationRequest('rules/hang-slow', T.hangSlow),
      revocationRequest('rules/hang-fast', T.hangFast),
    ]);
    await run({ idleTimeoutMs: 50_000 });

    // Assess: no Lambda timeout; the fast one did not wait for the slow one, which came back
    const [first] = reportsOf(worker.reports, [slow as SentMessage]);
    expect(first?.failure).toBeUndefined();
    expect(first?.durationMs).toBeLessThan(FUNCTION_TIMEOUT_MS);
    expect(fatesOf(fast)).toEqual(['acknowledged']);
    expect(fatesOf(slow)).toEqual(['returned', 'acknowledged']);
    const slowCalls = e2e.stack.redshift.calls.filter(
      (c) =>
        c.operation === 'DisassociateDataShareConsumer' &&
        c.dataShareArn === T.hangSlow.dataShareArn,
    );
    expect(slowCalls.filter((c) => c.applied)).toHaveLength(1);
    expect(isAssociated(T.hangSlow)).toBe(false);
    expect(auditOf(e2e.auditEvents(), 'rules/hang-slow')).toMatchObject([
      { outcome: expect.stringMatching(/^(REVOKED|ALREADY_REVOKED)$/), receiveCount: 2 },
    ]);
    expect(auditOf(e2e.auditEvents(), 'rules/hang-fast')).toMatchObject([
      { outcome: 'REVOKED', receiveCount: 1 },
    ]);
  }, 60_000);
});

it('leaves nothing in flight: the source queue is empty and no message is invisible', async () => {
  await expectQueueDrained();
});
