/**
 * Regression tests of the reliability review: each is named after the defect it pins down, and
 * each failed on the code before the fix.
 */
import { describe, expect, it } from 'vitest';
import { DeadLetterAttribute } from '../../../src/core/dead-letter.js';
import { FailureKind, IdempotencyStoreError } from '../../../src/core/errors.js';
import { Outcome } from '../../../src/core/outcome.js';
import type { RevocationRequest } from '../../../src/core/request.js';
import { targetKey, targetOf } from '../../../src/core/target.js';
import { type IdempotencyStore, MetricName } from '../../../src/worker/ports.js';
import { processBatch } from '../../../src/worker/process-batch.js';
import {
  entryFailure,
  permanent,
  serverError,
  type TestWorker,
  testWorker,
} from '../../helpers/fakes.js';
import {
  lambdaContext,
  requestBody,
  sqsEvent,
  sqsRecord,
  WORKER_ACCOUNT_ID,
} from '../../helpers/sqs-records.js';

const run = (worker: TestWorker, records: ReturnType<typeof sqsRecord>[], timeoutMs = 30_000) =>
  processBatch(sqsEvent(...records), lambdaContext(worker.deps.clock, timeoutMs), worker.deps);

const failedIds = (response: Awaited<ReturnType<typeof processBatch>>) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();

const attribute = (
  copy: { attributes: Record<string, { stringValue?: string }> } | undefined,
  name: string,
) => copy?.attributes[name]?.stringValue;

const auditFailsFor = (worker: TestWorker, key: string) =>
  worker.audit.alwaysFail.set(key, entryFailure('InternalFailure', true));

const replayAttributes = {
  [DeadLetterAttribute.ReplayCount]: {
    dataType: 'Number',
    stringValue: '1',
    stringListValues: [],
    binaryListValues: [],
  },
};

const storeError = () =>
  new IdempotencyStoreError('DynamoDB claim failed: connection reset', {
    kind: FailureKind.Transient,
    code: 'ECONNRESET',
  });

describe('defect 2: no message ever reaches the DLQ by SQS’s own redrive', () => {
  it('dead-letters a decision held by another invocation at its last receive, with InProgressElsewhere, acknowledged and not audited (its holder audits)', async () => {
    // Prepare: another invocation holds the eventId for longer than this one can wait
    const worker = testWorker();
    const body = requestBody();
    await worker.store.claim(
      body.eventId as string,
      { owner: 'other', until: worker.clock.now + 600_000 },
      new AbortController().signal,
    );
    const record = sqsRecord(body, { receiveCount: 5 });
    // Act
    const response = await run(worker, [record]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.accepted).toHaveLength(0);
    expect(worker.queue.deadLetters).toHaveLength(1);
    const [copy] = worker.queue.deadLetters;
    expect(attribute(copy, DeadLetterAttribute.Outcome)).toBe(Outcome.Failed);
    expect(attribute(copy, DeadLetterAttribute.ErrorCode)).toBe('InProgressElsewhere');
    expect(attribute(copy, DeadLetterAttribute.SourceMessageId)).toBe(record.messageId);
  });

  it('dead-letters a decision whose store is unreachable at its last receive as FAILED with StoreUnavailable, audits it, and acknowledges it', async () => {
    // Prepare: a DynamoDB incident
    const worker = testWorker();
    worker.deps.store.claim = () => Promise.reject(storeError());
    const body = requestBody();
    // Act
    const response = await run(worker, [sqsRecord(body, { receiveCount: 5 })]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(attribute(worker.queue.deadLetters[0], DeadLetterAttribute.ErrorCode)).toBe(
      'StoreUnavailable',
    );
    expect(worker.audit.details()).toEqual([
      expect.objectContaining({
        eventId: body.eventId,
        outcome: Outcome.Failed,
        error: expect.objectContaining({ code: 'StoreUnavailable' }),
      }),
    ]);
  });

  it('returns a decision whose store is unreachable before its last receive, with nothing dead-lettered', async () => {
    const worker = testWorker();
    worker.deps.store.claim = () => Promise.reject(storeError());
    const record = sqsRecord(requestBody(), { receiveCount: 4 });
    const response = await run(worker, [record]);
    expect(failedIds(response)).toEqual([record.messageId]);
    expect(worker.queue.deadLetters).toHaveLength(0);
    expect(worker.audit.accepted).toHaveLength(0);
  });

  it('dead-letters a revocation whose audit fails at its last receive with its outcome and AuditUnavailable; its replay is audited without a second Redshift call', async () => {
    // Prepare: Redshift revokes; the audit bus refuses the entry every time
    const worker = testWorker();
    const body = requestBody();
    auditFailsFor(worker, body.eventId as string);
    // Act
    const response = await run(worker, [sqsRecord(body, { receiveCount: 5 })]);
    worker.audit.alwaysFail.clear();
    const replay = await run(worker, [sqsRecord(body, { attributes: replayAttributes })]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [copy] = worker.queue.deadLetters;
    expect(attribute(copy, DeadLetterAttribute.Outcome)).toBe(Outcome.Revoked);
    expect(attribute(copy, DeadLetterAttribute.ErrorCode)).toBe('AuditUnavailable');
    expect(worker.metrics.count(MetricName.AuditPublishFailures)).toBe(1);
    expect(replay.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details()).toEqual([
      expect.objectContaining({ eventId: body.eventId, outcome: Outcome.Revoked, replayed: true }),
    ]);
  });

  it('acknowledges a FAILED message whose DLQ copy is sent but whose audit fails at its last receive, without a second copy', async () => {
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(
      targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID),
      permanent(),
    );
    auditFailsFor(worker, body.eventId as string);
    const response = await run(worker, [sqsRecord(body, { receiveCount: 5 })]);
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.queue.deadLetters).toHaveLength(1);
  });

  it('finds its own claim whose answer was lost (applied, then a reset) on the second try, and processes the decision', async () => {
    // Prepare: the first claim takes effect; its caller sees a connection reset
    const worker = testWorker();
    const store: IdempotencyStore = worker.store;
    const claim = store.claim.bind(store);
    let calls = 0;
    worker.deps.store.claim = async (eventId, lease, signal) => {
      calls += 1;
      const result = await claim(eventId, lease, signal);
      if (calls === 1) throw storeError();
      return result;
    };
    // Act
    const response = await run(worker, [sqsRecord(requestBody())]);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.accepted).toHaveLength(1);
  });
});

describe('defect 3: every call is bounded by the deadline', () => {
  it('with a store that answers every call after 1.5 s, the handler returns before its Lambda deadline', async () => {
    // Prepare: real time; each store call waits 1.5 s (or until its signal aborts) before acting
    const worker = testWorker({ realTime: true });
    const store = worker.deps.store;
    const slow =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        const signal = args.find((arg): arg is AbortSignal => arg instanceof AbortSignal);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 1500);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(signal.reason);
          });
        });
        return call(...args);
      };
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(store)).filter(
      (name) => name !== 'constructor',
    );
    worker.deps.store = Object.fromEntries(
      methods.map((name) => {
        const method = (
          store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
        )[name];
        return [
          name,
          slow((...args: unknown[]) =>
            (method as (...a: unknown[]) => Promise<unknown>).apply(store, args),
          ),
        ];
      }),
    ) as unknown as IdempotencyStore;
    const timeoutMs = 4000;
    const startedAt = Date.now();
    // Act
    await processBatch(
      sqsEvent(sqsRecord(requestBody())),
      lambdaContext(Date.now, timeoutMs),
      worker.deps,
    );
    // Assess
    expect(Date.now() - startedAt).toBeLessThan(timeoutMs);
  }, 10_000);
});

describe('defect 4: redelivery bookkeeping covers every message of a decision', () => {
  const scenario = () => {
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(
      targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID),
      permanent(),
    );
    const m1 = sqsRecord(body, { messageId: 'm-1' });
    const m2 = sqsRecord(body, { messageId: 'm-2' });
    const back = (record: typeof m1) => ({
      ...record,
      attributes: { ...record.attributes, ApproximateReceiveCount: '2' },
    });
    return { worker, body, m1, m2, back };
  };

  it.each([
    ['separately, first message first', (m1: string, m2: string) => [[m1], [m2]]],
    ['separately, second message first', (m1: string, m2: string) => [[m2], [m1]]],
    ['together', (m1: string, m2: string) => [[m1, m2]]],
  ])(
    'two messages of one eventId, a permanent error and a failed audit, coming back %s: one FAILED audit event, no second Redshift call, at most one DLQ copy per message',
    async (_, order) => {
      // Prepare: both in one batch; Redshift refuses for good; the audit fails
      const { worker, body, m1, m2, back } = scenario();
      auditFailsFor(worker, body.eventId as string);
      const first = await run(worker, [m1, m2]);
      worker.audit.alwaysFail.clear();
      const records = new Map([
        ['m-1', back(m1)],
        ['m-2', back(m2)],
      ]);
      // Act
      const returns = [];
      for (const batch of order('m-1', 'm-2'))
        returns.push(
          await run(
            worker,
            batch.map((id) => records.get(id) as typeof m1),
          ),
        );
      // Assess
      expect(failedIds(first)).toEqual(['m-1', 'm-2']);
      expect(returns.every((response) => response.batchItemFailures.length === 0)).toBe(true);
      expect(worker.revoker.calls).toHaveLength(1);
      expect(worker.audit.details()).toEqual([
        expect.objectContaining({ eventId: body.eventId, outcome: Outcome.Failed }),
      ]);
      const copiesPerMessage = new Map<string, number>();
      for (const copy of worker.queue.deadLetters)
        copiesPerMessage.set(copy.id, (copiesPerMessage.get(copy.id) ?? 0) + 1);
      expect([...copiesPerMessage.values()].every((count) => count === 1)).toBe(true);
    },
  );
});

describe('defect 5: a takeover never deletes a stored result', () => {
  it('a decision resolved by an invocation whose audit failed is audited by the next one without a second Redshift call, whatever the leases', async () => {
    // Prepare: invocation A revokes, its audit fails; its 6 s lease would run 2 s into B's work
    const worker = testWorker();
    const body = requestBody();
    auditFailsFor(worker, body.eventId as string);
    const a = await run(worker, [sqsRecord(body, { messageId: 'm-a' })], 6000);
    worker.audit.alwaysFail.clear();
    worker.clock.advance(4000);
    // Act: B has a resend of the same decision (another message)
    const b = await run(worker, [sqsRecord(body, { messageId: 'm-b' })]);
    worker.clock.advance(60_000);
    const again = await run(worker, [sqsRecord(body, { messageId: 'm-b', receiveCount: 2 })]);
    // Assess
    expect(failedIds(a)).toEqual(['m-a']);
    expect([...b.batchItemFailures, ...again.batchItemFailures]).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details()).toEqual([
      expect.objectContaining({ eventId: body.eventId, outcome: Outcome.Revoked }),
    ]);
  });
});

describe('defect 7: rule 5’s confirmation time is when the successful call was sent', () => {
  it('records the confirmation at the instant the call went out, not when its answer came back', async () => {
    // Prepare: Redshift takes 5 s to answer
    const worker = testWorker();
    const body = requestBody();
    const target = targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID);
    let sentAt = 0;
    worker.revoker.script(target, async () => {
      sentAt = worker.clock.now;
      worker.clock.advance(5000);
      return { outcome: Outcome.Revoked, associations: [] };
    });
    // Act
    await run(worker, [sqsRecord(body)]);
    // Assess
    const confirmation = await worker.store.getTargetConfirmation(targetKey(target));
    expect(confirmation?.confirmedAt).toBe(sentAt);
  });

  it('a decision issued while the call was under way gets its own call', async () => {
    // Prepare: the first call takes 60 s; a second decision is issued 40 s into it
    const worker = testWorker({ settings: { clockSkewMarginSeconds: 10 } });
    const first = requestBody({ issuedAt: new Date(worker.clock.now - 1000).toISOString() });
    const target = targetOf(first as unknown as RevocationRequest, WORKER_ACCOUNT_ID);
    worker.revoker.script(target, async () => {
      worker.clock.advance(60_000);
      return { outcome: Outcome.Revoked, associations: [] };
    });
    const startedAt = worker.clock.now;
    await run(worker, [sqsRecord(first)], 120_000);
    const second = requestBody({ issuedAt: new Date(startedAt + 40_000).toISOString() });
    // Act
    await run(worker, [sqsRecord(second)]);
    // Assess
    expect(worker.revoker.callsFor(target)).toBe(2);
  });
});

describe('defect 8: rule 11’s backoff never brings a message back sooner than the queue’s visibility timeout', () => {
  it('delays a retryable failure by at least QUEUE_VISIBILITY_TIMEOUT_SECONDS', async () => {
    // Prepare: a 180 s queue; Redshift fails with 5xx for this invocation
    const worker = testWorker({
      settings: { redshiftMaxAttempts: 2, queueVisibilityTimeoutSeconds: 180 },
    });
    const body = requestBody();
    worker.revoker.script(
      targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID),
      serverError(),
      serverError(),
    );
    // Act
    const response = await run(worker, [sqsRecord(body)]);
    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(worker.queue.visibilityChanges).toHaveLength(1);
    expect(worker.queue.visibilityChanges[0]?.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(180);
  });
});

describe('defect 9: an invocation that has returned holds no lease', () => {
  it('a resolution kept for the return is available at once to the next receive, even one that comes back early', async () => {
    // Prepare: the audit fails; the invocation's lease would have run 30 s more
    const worker = testWorker();
    const body = requestBody();
    auditFailsFor(worker, body.eventId as string);
    const record = sqsRecord(body);
    await run(worker, [record]);
    worker.audit.alwaysFail.clear();
    // Act: an operator's redrive brings it back at once
    const back = await run(worker, [
      sqsRecord(body, { messageId: record.messageId, receiveCount: 2 }),
    ]);
    // Assess
    expect(back.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details()).toEqual([expect.objectContaining({ outcome: Outcome.Revoked })]);
  });

  it('a decision given up for a retry is free at once for another message of it', async () => {
    const worker = testWorker({ settings: { redshiftMaxAttempts: 1 } });
    const body = requestBody();
    worker.revoker.script(
      targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID),
      serverError(),
    );
    await run(worker, [sqsRecord(body)]);
    const resend = await run(worker, [sqsRecord(body)]);
    expect(resend.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(2);
  });
});

describe('rule 14 under store faults (found by the soak): a stage the store cannot read is not taken for "never copied"', () => {
  it('a redelivered REJECTED message whose quarantine stage cannot be read comes back, rather than being copied and audited a second time', async () => {
    // Prepare: copied, audited and marked settled; then the message comes back (a Lambda timeout)
    const worker = testWorker();
    const record = sqsRecord('{not json', { messageId: 'm-bad' });
    await run(worker, [record]);
    const read = worker.deps.store.quarantineStage.bind(worker.deps.store);
    worker.deps.store.quarantineStage = () => Promise.reject(storeError());
    const back = { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: '2' } };
    // Act
    const during = await run(worker, [back]);
    worker.deps.store.quarantineStage = read;
    const after = await run(worker, [
      { ...back, attributes: { ...back.attributes, ApproximateReceiveCount: '3' } },
    ]);
    // Assess
    expect(failedIds(during)).toEqual(['m-bad']);
    expect(after.batchItemFailures).toEqual([]);
    expect(worker.queue.deadLetters).toHaveLength(1);
    expect(worker.audit.accepted).toHaveLength(1);
  });

  it('a redelivered decision whose quarantine stage cannot be read comes back, with no second Redshift call, DLQ copy or audit event', async () => {
    // Prepare: FAILED, copied; the audit fails; on the return the stage cannot be read
    const worker = testWorker();
    const body = requestBody();
    worker.revoker.script(
      targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID),
      permanent(),
    );
    auditFailsFor(worker, body.eventId as string);
    const record = sqsRecord(body, { messageId: 'm-1' });
    await run(worker, [record]);
    worker.audit.alwaysFail.clear();
    worker.deps.store.quarantineStage = () => Promise.reject(storeError());
    // Act
    const back = await run(worker, [sqsRecord(body, { messageId: 'm-1', receiveCount: 2 })]);
    // Assess
    expect(failedIds(back)).toEqual(['m-1']);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.queue.deadLetters).toHaveLength(1);
    expect(worker.audit.accepted).toHaveLength(0);
  });
});
