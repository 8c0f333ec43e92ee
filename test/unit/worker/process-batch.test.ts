import { describe, expect, it } from 'vitest';
import { DeadLetterAttribute } from '../../../src/core/dead-letter.js';
import { Outcome } from '../../../src/core/outcome.js';
import type { RevocationRequest } from '../../../src/core/request.js';
import { targetKey, targetOf } from '../../../src/core/target.js';
import { processBatch } from '../../../src/worker/process-batch.js';
import { RedshiftGates } from '../../../src/worker/redshift-gate.js';
import {
  callFailure,
  entryFailure,
  permanent,
  serverError,
  type TestWorker,
  testWorker,
  throttle,
} from '../../helpers/fakes.js';
import {
  CONSUMER_ARN,
  DATASHARE_ARN,
  lambdaContext,
  OTHER_CONSUMER_ARN,
  requestBody,
  SOURCE_QUEUE_URL,
  sqsEvent,
  sqsRecord,
  WORKER_ACCOUNT_ID,
} from '../../helpers/sqs-records.js';

const run = (worker: TestWorker, ...records: ReturnType<typeof sqsRecord>[]) =>
  processBatch(sqsEvent(...records), lambdaContext(worker.deps.clock), worker.deps);

const failedIds = (response: Awaited<ReturnType<typeof processBatch>>) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();

const targetFor = (body: Record<string, unknown>) =>
  targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID);

describe('processBatch — the revocation rules', () => {
  it('rule 1: processes the same eventId twice in one batch once and acknowledges every message with the one result', async () => {
    // Prepare
    const worker = testWorker();
    const body = requestBody();
    // Act
    const response = await run(worker, sqsRecord(body), sqsRecord(body), sqsRecord(body));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details()).toHaveLength(1);
    expect(worker.audit.details()[0]).toMatchObject({
      eventId: body.eventId,
      outcome: Outcome.Revoked,
    });
  });

  it('rule 2: acknowledges an eventId completed in an earlier invocation with no Redshift call and no new audit event', async () => {
    const worker = testWorker();
    const body = requestBody();
    await run(worker, sqsRecord(body));
    const response = await run(worker, sqsRecord(body));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.accepted).toHaveLength(1);
    expect(worker.metrics.count('DuplicatesSuppressed')).toBe(1);
  });

  it('rule 2: a completed eventId is acted on again once DEDUP_TTL_SECONDS has passed', async () => {
    const worker = testWorker();
    const body = requestBody();
    await run(worker, sqsRecord(body));
    worker.clock.advance(86_400_000 + 1000);
    await run(worker, sqsRecord(body));
    expect(worker.revoker.calls).toHaveLength(2);
  });

  it('rule 3: reports an eventId in progress in another invocation as a batch item failure', async () => {
    const worker = testWorker();
    const body = requestBody();
    await worker.store.claim(body.eventId as string, {
      owner: 'other',
      until: worker.clock.now + 30_000,
    });
    const record = sqsRecord(body);
    const response = await run(worker, record);
    expect(failedIds(response)).toEqual([record.messageId]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.accepted).toHaveLength(0);
  });

  it("rule 3: a decision held elsewhere comes back just after the holder's lease ends, not sooner", async () => {
    const worker = testWorker();
    const body = requestBody();
    const heldUntil = worker.clock.now + 30_000;
    await worker.store.claim(body.eventId as string, { owner: 'other', until: heldUntil });
    const record = sqsRecord(body);
    await run(worker, record);
    const [change] = worker.queue.visibilityChanges;
    expect(change?.receiptHandle).toBe(record.receiptHandle);
    expect(change?.visibilityTimeoutSeconds).toBe(
      Math.ceil((heldUntil - worker.clock.now) / 1000) + 1,
    );
  });

  it('rule 3: a decision that completes elsewhere while this batch runs is acknowledged as a duplicate, with no call and no audit', async () => {
    const worker = testWorker();
    const body = requestBody();
    const eventId = body.eventId as string;
    await worker.store.claim(eventId, { owner: 'other', until: worker.clock.now + 30_000 });
    const sleep = worker.deps.sleep;
    let sleeps = 0;
    worker.deps.sleep = async (ms) => {
      sleeps += 1;
      if (sleeps === 2)
        await worker.store.complete(eventId, {
          outcome: Outcome.Revoked,
          processedAt: new Date(worker.clock.now).toISOString(),
          attempts: 1,
        });
      await sleep(ms);
    };
    const response = await run(worker, sqsRecord(body));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.accepted).toHaveLength(0);
    expect(worker.metrics.count('DuplicatesSuppressed')).toBe(1);
  });

  it('rule 3: a decision that completes elsewhere is seen within one 200 ms re-check, however long it was held', async () => {
    // Prepare: the holder completes 1,450 ms into this batch (pauses that doubled, 200, 400, 800,
    // 1,000 ms, would re-check at 1,400 and next at 2,400)
    const worker = testWorker();
    const body = requestBody();
    const eventId = body.eventId as string;
    await worker.store.claim(eventId, { owner: 'other', until: worker.clock.now + 30_000 });
    const completeAt = worker.clock.now + 1450;
    const sleep = worker.deps.sleep;
    let completed = false;
    worker.deps.sleep = async (ms) => {
      const end = worker.clock.now + ms;
      if (!completed && end >= completeAt) {
        // The holder completes in the middle of this pause, on the virtual clock.
        await sleep(completeAt - worker.clock.now);
        completed = true;
        await worker.store.complete(eventId, {
          outcome: Outcome.Revoked,
          processedAt: new Date(completeAt).toISOString(),
          attempts: 1,
        });
      }
      await sleep(end - worker.clock.now);
    };

    // Act
    const response = await run(worker, sqsRecord(body));

    // Assess: acknowledged as a duplicate, at the first re-check after the holder completed
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.metrics.count('DuplicatesSuppressed')).toBe(1);
    expect(worker.clock.now - completeAt).toBeGreaterThan(0);
    expect(worker.clock.now - completeAt).toBeLessThanOrEqual(200);
  });

  it("rule 3: the in-progress lease expires with the owner's deadline, so a crashed owner blocks no longer", async () => {
    const worker = testWorker();
    const body = requestBody();
    await worker.store.claim(body.eventId as string, {
      owner: 'other',
      until: worker.clock.now + 30_000,
    });
    worker.clock.advance(30_001);
    const response = await run(worker, sqsRecord(body));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.accepted).toHaveLength(1);
  });

  it('rule 4: different eventIds naming the same target in one batch share one Redshift call, each with its own audit event', async () => {
    const worker = testWorker();
    const bodies = [requestBody(), requestBody(), requestBody()];
    const response = await run(worker, ...bodies.map((body) => sqsRecord(body)));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    const details = worker.audit.details();
    expect(details.map((detail) => detail.eventId).sort()).toEqual(
      bodies.map((body) => body.eventId).sort(),
    );
    expect(details.every((detail) => detail.outcome === Outcome.Revoked)).toBe(true);
  });

  it('rule 5: a request issued before a confirmed revocation (minus the skew margin) needs no call and names the eventId that confirmed it', async () => {
    const worker = testWorker();
    const first = requestBody({ issuedAt: '2026-11-25T08:59:00Z' });
    await run(worker, sqsRecord(first));
    worker.clock.advance(60_000);
    const earlier = requestBody({ issuedAt: '2026-11-25T08:50:00Z' });
    const response = await run(worker, sqsRecord(earlier));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details()[1]).toMatchObject({
      eventId: earlier.eventId,
      outcome: Outcome.AlreadyRevoked,
      satisfiedBy: first.eventId,
      attempts: 0,
    });
  });

  it('rule 5: a request issued after the confirmation, or within the skew margin of it, gets its own call', async () => {
    const worker = testWorker();
    await run(worker, sqsRecord(requestBody({ issuedAt: '2026-11-25T08:00:00Z' })));
    const confirmedAt = worker.clock.now;
    worker.clock.advance(120_000);
    const withinSkew = requestBody({ issuedAt: new Date(confirmedAt - 10_000).toISOString() });
    await run(worker, sqsRecord(withinSkew));
    worker.clock.advance(5_000);
    const after = requestBody({ issuedAt: new Date(worker.clock.now + 1_000).toISOString() });
    await run(worker, sqsRecord(after));
    expect(worker.revoker.calls).toHaveLength(3);
    expect(
      worker.audit
        .details()
        .slice(1)
        .map((detail) => detail.satisfiedBy),
    ).toEqual([undefined, undefined]);
  });

  it('rule 5: a call the gate held is skipped when another container confirms its target meanwhile', async () => {
    const worker = testWorker();
    const first = requestBody({ issuedAt: '2026-11-25T08:00:00Z' });
    // Same control plane (account and region) as the first: one gate holds both.
    const held = requestBody({
      issuedAt: '2026-11-25T08:00:00Z',
      consumerArn: CONSUMER_ARN.replace(/.{2}$/, '99'),
    });
    // While the gate holds the second call, another container confirms its target.
    const sleepThenConfirm = async (ms: number) => {
      await worker.store.confirmTarget(targetKey(targetFor(held)), {
        confirmedAt: worker.clock.now,
        eventId: 'evt-elsewhere',
      });
      await worker.clock.sleep(ms);
    };
    worker.deps.gate = new RedshiftGates({
      maxConcurrency: 1,
      rate: { initialPerSecond: 1 },
      clock: worker.deps.clock,
      sleep: sleepThenConfirm,
    });
    const response = await run(worker, sqsRecord(first), sqsRecord(held));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls.map((call) => call.target.consumer)).toEqual([
      { kind: 'namespace', arn: CONSUMER_ARN },
    ]);
    expect(worker.audit.details().find((detail) => detail.eventId === held.eventId)).toMatchObject({
      outcome: Outcome.AlreadyRevoked,
      satisfiedBy: 'evt-elsewhere',
      attempts: 0,
    });
  });

  it('rule 6: FAILED and REJECTED are never recorded as completed, so a replay acts again', async () => {
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(targetFor(body), permanent());
    await run(worker, sqsRecord(body));
    const replay = await run(worker, sqsRecord(body));
    expect(replay.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(2);
    expect(worker.audit.details().map((detail) => detail.outcome)).toEqual([
      Outcome.Failed,
      Outcome.Revoked,
    ]);
    const rejected = { ...requestBody(), dataShareArn: 'nope' };
    await run(worker, sqsRecord(rejected));
    await run(worker, sqsRecord(rejected));
    expect(
      worker.audit.details().filter((detail) => detail.outcome === Outcome.Rejected),
    ).toHaveLength(2);
  });

  it('rule 7: disassociates exactly the target given, in the consumer namespace region', async () => {
    // Region- and account-wide targets act only when the deployment opts in.
    const worker = testWorker({ settings: { allowBroadTargets: true } });
    await run(
      worker,
      sqsRecord(requestBody({ consumerArn: OTHER_CONSUMER_ARN })),
      sqsRecord(requestBody({ consumerArn: undefined, consumerRegion: 'eu-west-1' })),
      sqsRecord(requestBody({ consumerArn: undefined, disassociateEntireAccount: true })),
    );
    const seen = worker.revoker.calls.map((call) => ({
      consumer: call.target.consumer,
      region: call.region,
    }));
    expect(seen).toEqual(
      expect.arrayContaining([
        { consumer: { kind: 'namespace', arn: OTHER_CONSUMER_ARN }, region: 'us-west-2' },
        { consumer: { kind: 'region', region: 'eu-west-1' }, region: 'us-east-1' },
        { consumer: { kind: 'account' }, region: 'us-east-1' },
      ]),
    );
    expect(worker.revoker.calls.every((call) => call.target.dataShareArn === DATASHARE_ARN)).toBe(
      true,
    );
  });

  it('rule 7: retries throttling and server errors with growing backoff, then succeeds', async () => {
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(targetFor(body), throttle(), serverError(), throttle());
    const response = await run(worker, sqsRecord(body));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(4);
    const gaps = worker.revoker.calls
      .slice(1)
      .map((call, i) => call.at - (worker.revoker.calls[i]?.at ?? 0));
    expect(gaps.every((gap) => gap > 0)).toBe(true);
    expect(worker.audit.details()[0]).toMatchObject({ outcome: Outcome.Revoked, attempts: 4 });
    expect(worker.metrics.count('Throttles')).toBe(2);
    expect(worker.metrics.count('RedshiftAttempts')).toBe(4);
  });

  it("rule 7: a throttled call's retry waits the gate's new interval, not also the SDK's 500 ms throttle backoff", async () => {
    // Prepare: the highest draw, so that the backoff is as long as its base allows
    const worker = testWorker();
    worker.deps.random = () => 0.999_999;
    const body = requestBody();
    worker.revoker.script(targetFor(body), throttle());

    // Act
    await run(worker, sqsRecord(body));

    // Assess: the first throttle halves the fresh gate's 10/s (slow start's cut): 200 ms apart,
    // where a 500 ms base would have drawn 499 ms
    const [first, second] = worker.revoker.calls.map((call) => call.at);
    expect(worker.revoker.calls).toHaveLength(2);
    expect((second ?? 0) - (first ?? 0)).toBe(200);
    expect(worker.audit.details()[0]).toMatchObject({ outcome: Outcome.Revoked, attempts: 2 });
  });

  it('rule 7: caps concurrent Redshift calls per invocation at REDSHIFT_MAX_CONCURRENCY', async () => {
    const worker = testWorker();
    worker.deps.gate = new RedshiftGates({
      maxConcurrency: 2,
      clock: worker.deps.clock,
      sleep: worker.deps.sleep,
    });
    const bodies = Array.from({ length: 8 }, (_, i) =>
      requestBody({ consumerArn: CONSUMER_ARN.replace(/.{2}$/, String(10 + i)) }),
    );
    for (const body of bodies)
      worker.revoker.script(targetFor(body), async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { outcome: Outcome.Revoked, associations: [] };
      });
    await run(worker, ...bodies.map((body) => sqsRecord(body)));
    expect(worker.revoker.calls).toHaveLength(8);
    expect(worker.revoker.maxInFlight).toBe(2);
  });

  it('rule 7: a throttle slows the whole invocation down rather than each record hammering on its own', async () => {
    // Real time: the gate's spacing is what is checked, and only its lower bounds (load can only widen gaps).
    const worker = testWorker({ realTime: true });
    // One call at a time, so that no burst credit hides the spacing.
    worker.deps.gate = new RedshiftGates({ maxConcurrency: 1 });
    const bodies = Array.from({ length: 5 }, (_, i) =>
      requestBody({ consumerArn: CONSUMER_ARN.replace(/.{2}$/, String(10 + i)) }),
    );
    worker.revoker.script(targetFor(bodies[0] as Record<string, unknown>), throttle());
    const gate = worker.deps.gate.for(WORKER_ACCOUNT_ID, 'us-east-1');
    const rateBefore = gate.ratePerSecond;
    await processBatch(
      sqsEvent(...bodies.map((body) => sqsRecord(body))),
      lambdaContext(Date.now),
      worker.deps,
    );
    expect(worker.revoker.calls).toHaveLength(6);
    expect(gate.ratePerSecond).toBeLessThan(rateBefore);
    const starts = worker.revoker.calls.map((call) => call.at);
    const gaps = starts.slice(1).map((at, i) => at - (starts[i] ?? 0));
    // Every start waits its turn at the container's rate (10/s: 100 ms), whichever record it serves,
    const spacing = 1000 / rateBefore;
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(spacing * 0.9);
    // and after the throttle every record waits longer (the rate was cut to 70%).
    expect(gaps.slice(1).every((gap) => gap >= (spacing / 0.7) * 0.9)).toBe(true);
  });

  it('rule 8: never starts an attempt that cannot finish before the deadline; the unfinished are batch item failures', async () => {
    const worker = testWorker({ settings: { redshiftMaxAttempts: 20 } });
    const body = requestBody();
    worker.revoker.script(targetFor(body), ...Array.from({ length: 20 }, () => throttle()));
    const record = sqsRecord(body);
    const context = lambdaContext(worker.deps.clock, 10_000);
    const response = await processBatch(sqsEvent(record), context, worker.deps);
    expect(failedIds(response)).toEqual([record.messageId]);
    expect(worker.revoker.calls.length).toBeLessThan(20);
    const lastAttempt = worker.revoker.calls.at(-1)?.at ?? 0;
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(lastAttempt).toBeLessThanOrEqual(worker.clock.now);
    expect(worker.audit.accepted).toHaveLength(0);
  });

  it('rule 8: returns before the deadline even when Redshift hangs', async () => {
    const worker = testWorker({
      realTime: true,
      settings: { deadlineReserveMs: 2000, redshiftRequestTimeoutMs: 60_000 },
    });
    const body = requestBody();
    worker.revoker.script(targetFor(body), 'hang', 'hang', 'hang');
    const record = sqsRecord(body);
    const started = Date.now();
    const response = await processBatch(
      sqsEvent(record),
      lambdaContext(Date.now, 2500),
      worker.deps,
    );
    expect(Date.now() - started).toBeLessThan(2500);
    expect(failedIds(response)).toEqual([record.messageId]);
  });

  it('rule 8: an invocation started with too little time left touches nothing and returns every message', async () => {
    const worker = testWorker();
    const records = [sqsRecord(requestBody()), sqsRecord('garbage')];
    const response = await processBatch(
      sqsEvent(...records),
      lambdaContext(worker.deps.clock, 3500),
      worker.deps,
    );
    expect(failedIds(response)).toEqual(records.map((record) => record.messageId).sort());
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.calls).toHaveLength(0);
    expect(worker.queue.deadLetters).toHaveLength(0);
    expect(worker.store.decisions.size).toBe(0);
  });

  it('rule 9: already gone is success: ALREADY_REVOKED is audited and acknowledged', async () => {
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(targetFor(body), { outcome: Outcome.AlreadyRevoked, associations: [] });
    const response = await run(worker, sqsRecord(body));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.AlreadyRevoked,
      attempts: 1,
    });
    expect(worker.queue.deadLetters).toHaveLength(0);
  });

  it('rule 10: a permanent error fails at once with no retry: FAILED, dead-lettered, audited, acknowledged', async () => {
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(
      targetFor(body),
      permanent('InvalidNamespaceFault', 'namespace not found'),
    );
    const response = await run(worker, sqsRecord(body));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.Failed,
      error: { code: 'InvalidNamespaceFault' },
      attempts: 1,
    });
    expect(worker.queue.deadLetters).toHaveLength(1);
  });

  it('rule 11: a retryable failure left after the retries comes back later, with a visibility backoff growing with the receive count', async () => {
    const worker = testWorker({ settings: { redshiftMaxAttempts: 2 } });
    const body = requestBody();
    worker.revoker.script(targetFor(body), throttle(), throttle(), throttle(), throttle());
    const first = sqsRecord(body, { receiveCount: 1 });
    const third = sqsRecord(body, { receiveCount: 3 });
    const r1 = await run(worker, first);
    const r3 = await run(worker, third);
    expect(failedIds(r1)).toEqual([first.messageId]);
    expect(failedIds(r3)).toEqual([third.messageId]);
    const [v1, v3] = worker.queue.visibilityChanges;
    expect(v1).toMatchObject({ queueUrl: SOURCE_QUEUE_URL, receiptHandle: first.receiptHandle });
    expect(v3?.visibilityTimeoutSeconds).toBeGreaterThan(v1?.visibilityTimeoutSeconds ?? Infinity);
    expect(worker.audit.accepted).toHaveLength(0);
    expect(worker.queue.deadLetters).toHaveLength(0);
    expect(worker.metrics.count('RetriesScheduled')).toBe(2);
  });

  it('rule 11: at the last receive a retryable failure is FAILED and dead-lettered with its reason', async () => {
    const worker = testWorker({ settings: { redshiftMaxAttempts: 2, maxReceiveCount: 5 } });
    const body = requestBody();
    worker.revoker.script(targetFor(body), throttle(), throttle());
    const response = await run(worker, sqsRecord(body, { receiveCount: 5 }));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.Failed,
      error: { code: 'Throttling' },
      receiveCount: 5,
    });
    expect(
      worker.queue.deadLetters[0]?.attributes[DeadLetterAttribute.ErrorCode]?.stringValue,
    ).toBe('Throttling');
  });

  it('rule 12: quarantine copies the original body and attributes plus the revoker.* reasons, then acknowledges', async () => {
    const worker = testWorker();
    const record = sqsRecord('{not json', {
      receiveCount: 2,
      attributes: {
        tenant: {
          dataType: 'String',
          stringValue: 'acme',
          stringListValues: [],
          binaryListValues: [],
        },
      },
    });
    const response = await run(worker, record);
    expect(response.batchItemFailures).toEqual([]);
    const [copy] = worker.queue.deadLetters;
    expect(copy?.body).toBe('{not json');
    expect(copy?.attributes.tenant).toEqual({ dataType: 'String', stringValue: 'acme' });
    expect(copy?.attributes[DeadLetterAttribute.Outcome]?.stringValue).toBe(Outcome.Rejected);
    expect(copy?.attributes[DeadLetterAttribute.ErrorCode]?.stringValue).toBe('MalformedJson');
    expect(copy?.attributes[DeadLetterAttribute.SourceMessageId]?.stringValue).toBe(
      record.messageId,
    );
    expect(copy?.attributes[DeadLetterAttribute.ReceiveCount]?.stringValue).toBe('2');
    expect(copy?.attributes[DeadLetterAttribute.FailedAt]?.stringValue).toMatch(/^2026-/);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.Rejected,
      eventId: null,
      bodySha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('rule 12: when the dead-letter copy cannot be sent, the message is a batch item failure and is not audited', async () => {
    const worker = testWorker();
    const record = sqsRecord({ ...requestBody(), policyId: '' });
    worker.queue.failSendFor.add(record.messageId);
    const response = await run(worker, record);
    expect(failedIds(response)).toEqual([record.messageId]);
    expect(worker.audit.accepted).toHaveLength(0);
  });

  it('rule 13: publishes one audit event per eventId in as few PutEvents calls as possible', async () => {
    const worker = testWorker();
    const bodies = Array.from({ length: 25 }, () => requestBody());
    await run(worker, ...bodies.map((body) => sqsRecord(body)));
    expect(worker.audit.calls.map((call) => call.length)).toEqual([10, 10, 5]);
    expect(new Set(worker.audit.details().map((detail) => detail.eventId)).size).toBe(25);
  });

  it('rule 13: retries only the failed entries that are retryable, with backoff', async () => {
    const worker = testWorker();
    const bodies = [requestBody(), requestBody(), requestBody()];
    worker.audit.script([
      { ok: true },
      entryFailure('ThrottlingException', true),
      entryFailure('InternalFailure', true),
    ]);
    const response = await run(worker, ...bodies.map((body) => sqsRecord(body)));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.audit.calls.map((call) => call.length)).toEqual([3, 2]);
    expect(worker.audit.accepted).toHaveLength(3);
  });

  it('rule 13: a message whose audit entry finally fails comes back, and on its return is audited without a second Redshift call', async () => {
    const worker = testWorker();
    const body = requestBody();
    worker.audit.alwaysFail.set(
      body.eventId as string,
      entryFailure('AccessDeniedException', false),
    );
    const first = sqsRecord(body);
    const response = await run(worker, first);
    expect(failedIds(response)).toEqual([first.messageId]);
    worker.audit.alwaysFail.clear();
    worker.clock.advance(60_000);
    const again = await run(
      worker,
      sqsRecord(body, { messageId: first.messageId, receiveCount: 2 }),
    );
    expect(again.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details()).toHaveLength(1);
    expect(worker.audit.details()[0]).toMatchObject({ outcome: Outcome.Revoked, attempts: 1 });
  });

  it('rule 13: a whole PutEvents failure is retried, and when it persists every message of the call comes back', async () => {
    const worker = testWorker();
    worker.audit.script(callFailure(), callFailure(), callFailure(), callFailure());
    const records = [sqsRecord(requestBody()), sqsRecord(requestBody())];
    const response = await run(worker, ...records);
    expect(failedIds(response)).toEqual(records.map((record) => record.messageId).sort());
    expect(worker.audit.calls).toHaveLength(4);
  });

  it('rule 14: a FAILED decision whose audit failed after its dead-letter copy went out is neither copied nor called again on its return', async () => {
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(targetFor(body), permanent(), permanent());
    worker.audit.alwaysFail.set(
      body.eventId as string,
      entryFailure('AccessDeniedException', false),
    );
    const record = sqsRecord(body);
    const first = await run(worker, record);
    expect(failedIds(first)).toEqual([record.messageId]);
    expect(worker.queue.deadLetters).toHaveLength(1);
    worker.audit.alwaysFail.clear();
    worker.clock.advance(60_000);
    const second = await run(
      worker,
      sqsRecord(body, { messageId: record.messageId, receiveCount: 2 }),
    );
    expect(second.batchItemFailures).toEqual([]);
    expect(worker.queue.deadLetters).toHaveLength(1);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details().map((detail) => detail.outcome)).toEqual([Outcome.Failed]);
  });

  it('rule 14: a redelivery after a crash of REJECTED and FAILED messages already dead-lettered and audited acknowledges them, with nothing repeated', async () => {
    const worker = testWorker();
    const failing = requestBody();
    worker.revoker.script(targetFor(failing), permanent(), permanent());
    const records = [sqsRecord(failing), sqsRecord('garbage')];
    await run(worker, ...records);
    // The runtime crashed before Lambda saw the response: the whole batch comes back.
    const again = await run(
      worker,
      ...records.map((record) => ({
        ...record,
        attributes: { ...record.attributes, ApproximateReceiveCount: '2' },
      })),
    );
    expect(again.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.queue.deadLetters).toHaveLength(2);
    expect(worker.audit.accepted).toHaveLength(2);
  });

  it("rule 6: a replay of a FAILED decision (a new message) acts again even while the failed message's outcome is kept", async () => {
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(targetFor(body), permanent());
    worker.audit.alwaysFail.set(
      body.eventId as string,
      entryFailure('AccessDeniedException', false),
    );
    await run(worker, sqsRecord(body));
    worker.audit.alwaysFail.clear();
    worker.clock.advance(60_000);
    const replay = await run(
      worker,
      sqsRecord(body, {
        attributes: {
          'revoker.replayCount': {
            dataType: 'Number',
            stringValue: '1',
            stringListValues: [],
            binaryListValues: [],
          },
        },
      }),
    );
    expect(replay.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(2);
    expect(worker.audit.details()).toEqual([
      expect.objectContaining({ outcome: Outcome.Revoked, replayed: true }),
    ]);
  });

  it('rule 15: every itemIdentifier is a messageId of the batch, and a defect never makes the handler throw', async () => {
    const worker = testWorker();
    worker.deps.store.claim = () => {
      throw new TypeError('boom');
    };
    worker.deps.queue.changeVisibility = () => Promise.reject(new Error('nope'));
    const records = [sqsRecord(requestBody()), sqsRecord('garbage')];
    const response = await run(worker, ...records);
    const ids = new Set(records.map((record) => record.messageId));
    expect(response.batchItemFailures.every((failure) => ids.has(failure.itemIdentifier))).toBe(
      true,
    );
    expect(failedIds(response)).toEqual([records[0]?.messageId]);
  });

  it('rule 16: DRY_RUN=true does everything but the disassociate call', async () => {
    const worker = testWorker({ settings: { dryRun: true } });
    const response = await run(worker, sqsRecord(requestBody()));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.DryRun,
      dryRun: true,
      attempts: 0,
    });
  });

  it("rule 16: a request's dryRun: true is a dry run, and completes its eventId", async () => {
    const worker = testWorker();
    const body = requestBody({ dryRun: true });
    await run(worker, sqsRecord(body));
    await run(worker, sqsRecord(body));
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()).toHaveLength(1);
    expect(worker.audit.details()[0]).toMatchObject({ outcome: Outcome.DryRun });
  });
});

describe('processBatch — the audit event', () => {
  it('carries every field of the contract for a revoked decision', async () => {
    const worker = testWorker();
    const body = requestBody({ issuedAt: '2026-11-25T08:59:00Z' });
    const record = sqsRecord(
      {
        version: '0',
        id: 'e1',
        'detail-type': 'Revocation Decision',
        source: 'policy.engine',
        account: '123456789012',
        time: '2026-11-25T08:59:00Z',
        region: 'us-east-1',
        resources: [],
        detail: body,
      },
      {
        attributes: {
          [DeadLetterAttribute.ReplayCount]: {
            dataType: 'Number',
            stringValue: '1',
            stringListValues: [],
            binaryListValues: [],
          },
        },
      },
    );
    worker.revoker.script(targetFor(body), {
      outcome: Outcome.Revoked,
      associations: [{ consumerIdentifier: 'x', status: 'ACTIVE' }],
      actor: { accountId: WORKER_ACCOUNT_ID, roleArn: 'arn:aws:iam::111122223333:role/revoker' },
      requestId: 'req-redshift-1',
    });
    await run(worker, record);
    const [entry] = worker.audit.accepted;
    expect(entry?.resources).toEqual([DATASHARE_ARN, CONSUMER_ARN]);
    expect(JSON.parse(entry?.detail ?? '{}')).toEqual({
      schemaVersion: 1,
      eventId: body.eventId,
      outcome: Outcome.Revoked,
      dataShareArn: DATASHARE_ARN,
      consumer: { arn: CONSUMER_ARN },
      policyId: body.policyId,
      reason: body.reason,
      correlationId: body.correlationId,
      issuedAt: body.issuedAt,
      processedAt: new Date(worker.clock.now).toISOString(),
      // From processedAt, in whole ms (the gate's pacing may leave the virtual clock fractional).
      latencyMs: Math.floor(worker.clock.now) - Date.parse('2026-11-25T08:59:00Z'),
      // A replay reads the target's associations first (one DescribeDataShares), then disassociates.
      attempts: 2,
      receiveCount: 1,
      replayed: true,
      dryRun: false,
      associations: [{ consumerIdentifier: 'x', status: 'ACTIVE' }],
      consumerAccountId: WORKER_ACCOUNT_ID,
      actor: { accountId: WORKER_ACCOUNT_ID, roleArn: 'arn:aws:iam::111122223333:role/revoker' },
      redshiftRequestId: 'req-redshift-1',
      messageId: record.messageId,
      worker: {
        functionName: 'revoker-test',
        functionVersion: '$LATEST',
        awsRequestId: expect.any(String),
      },
    });
  });
});
