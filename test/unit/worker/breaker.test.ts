import { describe, expect, it } from 'vitest';
import { totalOf } from '../../../src/core/breaker.js';
import { FailureKind, IdempotencyStoreError } from '../../../src/core/errors.js';
import { Outcome } from '../../../src/core/outcome.js';
import { SwitchDetailType } from '../../../src/core/switch-events.js';
import { Breaker } from '../../../src/worker/breaker.js';
import {
  type EventSourceSwitch,
  type MappingTarget,
  MetricName,
  type SwitchOutcome,
} from '../../../src/worker/ports.js';
import { processBatch } from '../../../src/worker/process-batch.js';
import { permanent, serverError, type TestWorker, testWorker } from '../../helpers/fakes.js';
import {
  lambdaContext,
  requestBody,
  SOURCE_QUEUE_ARN,
  SOURCE_QUEUE_URL,
  sqsEvent,
  sqsRecord,
} from '../../helpers/sqs-records.js';

/** The Lambda API twin: records every switch. */
class FakeSwitch implements EventSourceSwitch {
  readonly calls: { enabled: boolean; target: MappingTarget }[] = [];
  failNext = 0;
  async setEnabled(enabled: boolean, target: MappingTarget): Promise<SwitchOutcome> {
    this.calls.push({ enabled, target });
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('Lambda unavailable');
    }
    return {
      mappings: [{ uuid: 'm-1', state: enabled ? 'Enabling' : 'Disabling', changed: true }],
    };
  }
}

const consumer = (n: number) => `arn:aws:redshift:us-east-1:111122223333:namespace:consumer-${n}`;

/** A worker with the breaker on: at most `max` revocations in 60 s. */
const withBreaker = (max: number, shared?: TestWorker) => {
  const worker = testWorker(shared ? { store: shared.store, clock: shared.clock } : {});
  const mappings = new FakeSwitch();
  worker.deps.breaker = new Breaker(
    { maxRevocations: max, windowSeconds: 60 },
    SOURCE_QUEUE_ARN,
    mappings,
  );
  return { worker, mappings };
};

const run = (worker: TestWorker, records: ReturnType<typeof sqsRecord>[]) =>
  processBatch(sqsEvent(...records), lambdaContext(worker.deps.clock), worker.deps);

const records = (from: number, to: number, receiveCount = 1) =>
  Array.from({ length: to - from + 1 }, (_, i) =>
    sqsRecord(requestBody({ eventId: `evt-${from + i}`, consumerArn: consumer(from + i) }), {
      receiveCount,
    }),
  );

describe('breaker (BREAKER_MAX_REVOCATIONS / BREAKER_WINDOW_SECONDS)', () => {
  it('opens exactly when the N+1th revocation would happen: N calls, the rest held and requeued', async () => {
    // Prepare: N = 3, five distinct targets in one batch
    const { worker, mappings } = withBreaker(3);
    const batch = records(1, 5);
    // Act
    const response = await run(worker, batch);
    // Assess
    expect(worker.revoker.calls).toHaveLength(3);
    expect(worker.audit.details().filter((d) => d.outcome === Outcome.Revoked)).toHaveLength(3);
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.queue.requeued.map((c) => c.id).sort()).toEqual(
      batch
        .filter((r) => !worker.audit.details().some((d) => d.messageId === r.messageId))
        .map((r) => r.messageId)
        .sort(),
    );
    expect(worker.queue.requeued[0]).toMatchObject({
      queueUrl: SOURCE_QUEUE_URL,
      delaySeconds: 30,
    });
    expect(worker.queue.deadLetters).toEqual([]);
    expect(mappings.calls).toEqual([
      { enabled: false, target: { functionName: 'revoker-test', queueArn: SOURCE_QUEUE_ARN } },
    ]);
    expect(worker.metrics.count(MetricName.BreakerOpened)).toBe(1);
    const opened = worker.audit.accepted.filter(
      (e) => e.detailType === SwitchDetailType.BreakerOpened,
    );
    expect(opened).toHaveLength(1);
    expect(JSON.parse(opened[0]?.detail ?? '{}')).toMatchObject({
      revocationsInWindow: 3,
      maxRevocations: 3,
      windowSeconds: 60,
    });
    expect((await worker.store.readBreaker(new AbortController().signal)).open).toBeDefined();
  });

  it('counts across containers sharing the store; the second container is held, announces nothing, still disables', async () => {
    // Prepare
    const { worker: first } = withBreaker(2);
    const { worker: second, mappings } = withBreaker(2, first);
    await run(first, records(1, 2));
    // Act
    const response = await run(second, records(3, 4));
    const later = await run(second, records(5, 5));
    // Assess
    expect(first.revoker.calls).toHaveLength(2);
    expect(second.revoker.calls).toHaveLength(0);
    expect(response.batchItemFailures).toEqual([]);
    expect(later.batchItemFailures).toEqual([]);
    expect(second.queue.requeued).toHaveLength(3);
    expect(second.metrics.count(MetricName.BreakerOpened)).toBe(1);
    // opened by the second container's first batch, announced once; its later batch does not
    // disable again
    expect(
      second.audit.accepted.filter((e) => e.detailType === SwitchDetailType.BreakerOpened),
    ).toHaveLength(1);
    expect(mappings.calls).toHaveLength(1);
  });

  it('never dead-letters a held message, even at its last receive', async () => {
    // Prepare
    const { worker } = withBreaker(1);
    await run(worker, records(1, 1));
    // Act: at MAX_RECEIVE_COUNT (5)
    const response = await run(worker, records(2, 3, 5));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.queue.deadLetters).toEqual([]);
    expect(worker.queue.requeued).toHaveLength(2);
    expect(worker.revoker.calls).toHaveLength(1);
  });

  it('a held message whose copy SQS refuses comes back as it is (batch item failure)', async () => {
    // Prepare
    const { worker } = withBreaker(1);
    await run(worker, records(1, 1));
    worker.queue.failRequeue = true;
    const batch = records(2, 2);
    // Act
    const response = await run(worker, batch);
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: batch[0]?.messageId }]);
    expect(worker.queue.deadLetters).toEqual([]);
  });

  it('a held message whose copy SQS refuses at its last receive is dead-lettered with the reason, not left to SQS', async () => {
    // Prepare
    const { worker } = withBreaker(1);
    await run(worker, records(1, 1));
    worker.queue.failRequeue = true;
    const batch = records(2, 2, 5);
    // Act
    const response = await run(worker, batch);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.queue.deadLetters).toHaveLength(1);
    expect(worker.queue.deadLetters[0]).toMatchObject({
      id: batch[0]?.messageId,
      attributes: {
        'revoker.outcome': { stringValue: Outcome.Failed },
        'revoker.errorCode': { stringValue: 'BreakerOpen' },
      },
    });
    expect(worker.revoker.calls).toHaveLength(1);
  });

  it('a held message at its last receive whose copies are both refused comes back (SQS redrives it)', async () => {
    // Prepare
    const { worker } = withBreaker(1);
    await run(worker, records(1, 1));
    worker.queue.failRequeue = true;
    worker.queue.failAllSends = true;
    const batch = records(2, 2, 5);
    // Act
    const response = await run(worker, batch);
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: batch[0]?.messageId }]);
  });

  it('gives back the reservation of a call that did not revoke (ALREADY_REVOKED, permanent failure)', async () => {
    // Prepare
    const { worker } = withBreaker(2);
    worker.revoker.script(targetKeyOf(1), { outcome: Outcome.AlreadyRevoked, associations: [] });
    const batch = records(1, 2);
    worker.revoker.script(targetKeyOf(2), permanent('InvalidNamespaceFault'));
    // Act
    await run(worker, batch);
    const next = await run(worker, records(3, 4));
    // Assess: both first calls gave their reservation back, so two more revoke
    expect(worker.revoker.calls).toHaveLength(4);
    expect(next.batchItemFailures).toEqual([]);
    expect(worker.queue.requeued).toHaveLength(0);
  });

  it('keeps the reservation of a call that failed transiently (it may have landed): errs high', async () => {
    // Prepare
    const { worker } = withBreaker(1);
    worker.deps.settings = { ...worker.deps.settings, redshiftMaxAttempts: 1 };
    worker.revoker.script(targetKeyOf(1), serverError());
    // Act
    await run(worker, records(1, 1));
    await run(worker, records(2, 2));
    // Assess: the 5xx call counted; the next one is held
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.queue.requeued).toHaveLength(1);
  });

  it('makes no call when the count cannot be taken (store down): the message comes back', async () => {
    // Prepare
    const { worker } = withBreaker(5);
    worker.store.reserveRevocations = async () => {
      throw new IdempotencyStoreError('DynamoDB write of the breaker failed', {
        kind: FailureKind.Transient,
        code: 'ECONNRESET',
      });
    };
    const batch = records(1, 1);
    // Act
    const response = await run(worker, batch);
    // Assess
    expect(worker.revoker.calls).toHaveLength(0);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: batch[0]?.messageId }]);
  });

  it('retries disabling the mapping in the next invocation when Lambda failed', async () => {
    // Prepare
    const { worker, mappings } = withBreaker(1);
    mappings.failNext = 1;
    await run(worker, records(1, 2));
    // Act
    await run(worker, records(3, 3));
    // Assess
    expect(mappings.calls.map((c) => c.enabled)).toEqual([false, false]);
  });

  it('reserves a batch’s targets in few writes, one at a time (group commit): they never race each other', async () => {
    // Prepare
    const { worker } = withBreaker(100);
    const writes: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const original = worker.store.reserveRevocations.bind(worker.store);
    worker.store.reserveRevocations = async (requests, limit, signal) => {
      writes.push(requests.length);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return original(requests, limit, signal);
    };
    // Act
    await run(worker, records(1, 10));
    // Assess
    expect(worker.revoker.calls).toHaveLength(10);
    expect(writes.reduce((a, b) => a + b, 0)).toBe(10);
    expect(writes.length).toBeLessThanOrEqual(3);
    expect(maxInFlight).toBe(1);
  });

  it('reserves a batch’s likely calls while its claims are written, in one write', async () => {
    // Prepare: a claim that takes 20 ms; the time each store call starts and ends
    const { worker } = withBreaker(100);
    const log: string[] = [];
    const claimNew = worker.store.claimNew.bind(worker.store);
    worker.store.claimNew = async (eventIds, lease, signal) => {
      log.push('claim started');
      await new Promise((resolve) => setTimeout(resolve, 20));
      log.push('claim done');
      return claimNew(eventIds, lease, signal);
    };
    const reserve = worker.store.reserveRevocations.bind(worker.store);
    const writes: number[] = [];
    worker.store.reserveRevocations = async (requests, limit, signal) => {
      log.push('reservation');
      writes.push(requests.length);
      return reserve(requests, limit, signal);
    };
    // Act
    await run(worker, records(1, 10));
    // Assess: the reservation went before the claims were done, one write for the ten targets
    expect(log).toEqual(['claim started', 'reservation', 'claim done']);
    expect(writes).toEqual([10]);
    expect(worker.revoker.calls).toHaveLength(10);
    expect(totalOf(worker.store.breaker.counts)).toBe(10);
  });

  it('gives back an early reservation whose decision another container claimed meanwhile', async () => {
    // Prepare: between this batch's read and its claims, another container takes evt-1
    const { worker } = withBreaker(100);
    const claimNew = worker.store.claimNew.bind(worker.store);
    worker.store.claimNew = async (eventIds, lease, signal) => {
      await worker.store.claim('evt-1', { owner: 'other', until: lease.until }, signal);
      return claimNew(eventIds, lease, signal);
    };
    // Act
    const response = await run(worker, records(1, 3));
    // Assess: no call for evt-1 (busy elsewhere: it comes back), and its place given back
    expect(worker.revoker.calls).toHaveLength(2);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(totalOf(worker.store.breaker.counts)).toBe(2);
  });

  it('reserves nothing early for a target already confirmed or a decision old enough for the stale check', async () => {
    // Prepare: target 1 confirmed by an earlier batch (a redelivery: the traffic is not fresh,
    // so the next batch reserves after its read); decision 2 issued an hour ago
    const { worker } = withBreaker(100);
    await run(worker, records(1, 1, 2));
    const requests: number[] = [];
    const reserve = worker.store.reserveRevocations.bind(worker.store);
    worker.store.reserveRevocations = async (batch, limit, signal) => {
      requests.push(batch.length);
      return reserve(batch, limit, signal);
    };
    const old = new Date(worker.deps.clock() - 3_600_000).toISOString();
    // Act
    await run(worker, [
      sqsRecord(requestBody({ eventId: 'evt-1b', consumerArn: consumer(1) })),
      sqsRecord(requestBody({ eventId: 'evt-2', consumerArn: consumer(2), issuedAt: old })),
    ]);
    // Assess: target 1 needs no call; target 2 is reserved when its turn comes (before its check)
    expect(requests).toEqual([1]);
    expect(totalOf(worker.store.breaker.counts)).toBe(2);
  });

  it('with fresh traffic reserves before the read, and gives back what a confirmation covers', async () => {
    // Prepare: target 1 confirmed by an earlier batch of new decisions
    const { worker } = withBreaker(100);
    await run(worker, records(1, 1));
    const log: string[] = [];
    const reserve = worker.store.reserveRevocations.bind(worker.store);
    worker.store.reserveRevocations = async (batch, limit, signal) => {
      log.push(`reserve ${batch.length}`);
      return reserve(batch, limit, signal);
    };
    const readMany = worker.store.readMany.bind(worker.store);
    worker.store.readMany = async (keys, signal) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      log.push('read answered');
      return readMany(keys, signal);
    };
    // Act
    await run(worker, [
      sqsRecord(requestBody({ eventId: 'evt-1b', consumerArn: consumer(1) })),
      sqsRecord(requestBody({ eventId: 'evt-3', consumerArn: consumer(3) })),
    ]);
    // Assess: both targets in one write, sent before the read answered; target 1's place given back
    expect(log).toEqual(['reserve 2', 'read answered']);
    expect(worker.revoker.calls).toHaveLength(2);
    expect(totalOf(worker.store.breaker.counts)).toBe(2);
  });

  it('is off without BREAKER_MAX_REVOCATIONS: no reservation, no hold', async () => {
    const worker = testWorker();
    await run(worker, records(1, 5));
    expect(worker.revoker.calls).toHaveLength(5);
    expect(worker.store.breaker.counts).toEqual({});
  });
});

function targetKeyOf(n: number): string {
  return `${requestBody().dataShareArn}|namespace|${consumer(n)}`;
}
