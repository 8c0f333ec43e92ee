/**
 * How many store requests a batch costs, and that batching them changes no rule: one read for
 * the batch's decisions and targets, claims only for decisions not already completed, one write
 * for the batch's completions — and, when a batched request fails, the per-item path.
 */
import { describe, expect, it } from 'vitest';
import { Outcome } from '../../../src/core/outcome.js';
import type { RevocationRequest } from '../../../src/core/request.js';
import { targetKey, targetOf } from '../../../src/core/target.js';
import type { IdempotencyStore } from '../../../src/worker/ports.js';
import { processBatch } from '../../../src/worker/process-batch.js';
import { RedshiftGates } from '../../../src/worker/redshift-gate.js';
import { callFailure, type TestWorker, testWorker } from '../../helpers/fakes.js';
import {
  CONSUMER_ARN,
  lambdaContext,
  requestBody,
  sqsEvent,
  sqsRecord,
  WORKER_ACCOUNT_ID,
} from '../../helpers/sqs-records.js';

const run = (worker: TestWorker, ...records: ReturnType<typeof sqsRecord>[]) =>
  processBatch(sqsEvent(...records), lambdaContext(worker.deps.clock), worker.deps);

/** Counts the store's calls by method (each one DynamoDB request in the real adapter). */
const countCalls = (worker: TestWorker): Map<string, number> => {
  const counts = new Map<string, number>();
  worker.deps.store = new Proxy(worker.deps.store, {
    get: (target, property, receiver) => {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => {
        counts.set(property, (counts.get(property) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as IdempotencyStore;
  return counts;
};

const tenTargets = () =>
  Array.from({ length: 10 }, (_, i) =>
    requestBody({ consumerArn: CONSUMER_ARN.replace(/.{2}$/, String(10 + i)) }),
  );

/**
 * A point one step of the batch reaches and another waits for: at most 200 ms, so that a worker
 * doing things in the old order fails the test's order assertion rather than hanging it.
 */
const milestone = () => {
  let reach = () => {};
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  return {
    reach: () => reach(),
    waitAtMost200Ms: () => Promise.race([reached, new Promise((r) => setTimeout(r, 200))]),
  };
};

/**
 * Runs one batch of a redelivered message (of a target of its own), after which the container's
 * traffic is no longer fresh: its next batch claims after its read (`claimAhead`). Returns the
 * Redshift calls made so far.
 */
const afterARedelivery = async (worker: TestWorker): Promise<number> => {
  const body = requestBody({ consumerArn: CONSUMER_ARN.replace(/.{2}$/, '99') });
  await run(worker, sqsRecord(body, { receiveCount: 2 }));
  return worker.revoker.calls.length;
};

/** Records when each store method was called and when its answer came, in order. */
const timeline = (worker: TestWorker): string[] => {
  const events: string[] = [];
  const store = worker.deps.store;
  worker.deps.store = new Proxy(store, {
    get: (target, property, receiver) => {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        events.push(`${property} sent`);
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          events.push(`${property} answered`);
        }
      };
    },
  }) as IdempotencyStore;
  return events;
};

/** Three new decisions for three targets, the first held by another invocation. */
const oneHeldElsewhere = async (worker: TestWorker) => {
  const bodies = tenTargets().slice(0, 3) as [
    Record<string, unknown>,
    ...Record<string, unknown>[],
  ];
  await worker.store.claim(String(bodies[0].eventId), {
    owner: 'another-invocation',
    until: worker.clock.now + 600_000,
  });
  return bodies;
};

/** Records the eventIds of every joint claim (`claimNew`), in order. */
const jointClaims = (worker: TestWorker): string[][] => {
  const jointly: string[][] = [];
  const claimNew = worker.store.claimNew.bind(worker.store);
  worker.deps.store.claimNew = (eventIds, lease, signal) => {
    jointly.push([...eventIds]);
    return claimNew(eventIds, lease, signal);
  };
  return jointly;
};

describe('store requests of a batch', () => {
  it('a batch of 10 new decisions for 10 targets: one read, one joint claim, and one write for the completions with the confirmations', async () => {
    // Prepare: a gate that holds no call (a held call re-reads its target first).
    const worker = testWorker();
    worker.deps.gate = new RedshiftGates({
      maxConcurrency: 10,
      rate: { initialPerSecond: 1000 },
      clock: worker.clock.read,
      sleep: worker.clock.sleep,
    });
    const counts = countCalls(worker);

    // Act
    const response = await run(worker, ...tenTargets().map((body) => sqsRecord(body)));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(10);
    expect(Object.fromEntries(counts)).toEqual({
      readMany: 1,
      claimNew: 1,
      completeAndConfirm: 1,
    });
    expect(worker.store.targets.size).toBe(10);
  });

  it('claims at once only what the batch read found no decision for: one held elsewhere is claimed on its own', async () => {
    // Prepare
    const worker = testWorker();
    const [held, ...fresh] = await oneHeldElsewhere(worker);
    const callsBefore = await afterARedelivery(worker);
    const counts = countCalls(worker);
    const jointly = jointClaims(worker);

    // Act
    const response = await run(worker, ...[held, ...fresh].map((body) => sqsRecord(body)));

    // Assess: the two new ones acted on; the held one comes back later
    expect(jointly).toEqual([fresh.map((body) => String(body.eventId))]);
    expect(counts.get('claim')).toBeGreaterThanOrEqual(1);
    expect(worker.revoker.calls.length - callsBefore).toBe(2);
    expect(response.batchItemFailures).toHaveLength(1);
  });

  it('a joint claim that loses a race takes none: each is then claimed on its own, and only the lost one waits', async () => {
    // Prepare: between the batch read and the joint claim, another invocation claims one of them
    const worker = testWorker();
    const bodies = tenTargets().slice(0, 3);
    const callsBefore = await afterARedelivery(worker);
    const counts = countCalls(worker);
    const claimNew = worker.store.claimNew.bind(worker.store);
    worker.deps.store.claimNew = async (eventIds, lease, signal) => {
      await worker.store.claim(String(eventIds[1]), {
        owner: 'another-invocation',
        until: lease.until,
      });
      return claimNew(eventIds, lease, signal);
    };

    // Act
    const response = await run(worker, ...bodies.map((body) => sqsRecord(body)));

    // Assess
    expect(counts.get('claimNew')).toBe(1);
    expect(counts.get('claim')).toBeGreaterThanOrEqual(3);
    expect(worker.revoker.calls.length - callsBefore).toBe(2);
    expect(response.batchItemFailures).toHaveLength(1);
  });

  it('a joint claim whose answer was lost: each decision is claimed on its own, found this invocation’s, and acted on once', async () => {
    // Prepare
    const worker = testWorker();
    const counts = countCalls(worker);
    const claimNew = worker.store.claimNew.bind(worker.store);
    worker.deps.store.claimNew = async (eventIds, lease, signal) => {
      await claimNew(eventIds, lease, signal);
      throw new Error('socket hang up');
    };

    // Act
    const response = await run(worker, ...tenTargets().map((body) => sqsRecord(body)));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(10);
    expect(worker.audit.accepted).toHaveLength(10);
    expect(counts.get('claim')).toBe(10);
    expect(
      worker.logs.filter((l) =>
        String(l.msg).startsWith('could not claim the batch’s new decisions'),
      ),
    ).toHaveLength(1);
  });

  it('fresh traffic: a new container sends its batch’s joint claim with its read, not after it', async () => {
    // Prepare: the read answers only once the claim was sent (at most 200 ms later)
    const worker = testWorker();
    const events = timeline(worker);
    const claimSent = milestone();
    const store = worker.store;
    const { readMany, claimNew } = store;
    worker.deps.store.readMany = async (keys, signal) => {
      await claimSent.waitAtMost200Ms();
      return readMany.call(store, keys, signal);
    };
    worker.deps.store.claimNew = (eventIds, lease, signal) => {
      claimSent.reach();
      return claimNew.call(store, eventIds, lease, signal);
    };

    // Act
    const response = await run(worker, ...tenTargets().map((body) => sqsRecord(body)));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(10);
    expect(events.indexOf('claimNew sent')).toBeLessThan(events.indexOf('readMany answered'));
    expect(events.filter((e) => e === 'claimNew sent')).toHaveLength(1);
    expect(events.filter((e) => e === 'claim sent')).toHaveLength(0);
  });

  it('fresh traffic ends with a batch that is not all new, and comes back with one that is', async () => {
    // Prepare: a redelivery turns it off
    const worker = testWorker();
    await afterARedelivery(worker);
    const events = timeline(worker);
    const [first, second] = [tenTargets().slice(0, 3), tenTargets().slice(3, 6)];

    // Act: all new, claimed after the read; then all new again, claimed with it
    await run(worker, ...first.map((body) => sqsRecord(body)));
    const afterRead = [...events];
    events.length = 0;
    let readAnswered = false;
    const { readMany, claimNew } = worker.store;
    let claimedBeforeReadAnswered: boolean | undefined;
    worker.deps.store.readMany = async (keys, signal) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const snapshot = await readMany.call(worker.store, keys, signal);
      readAnswered = true;
      return snapshot;
    };
    worker.deps.store.claimNew = (eventIds, lease, signal) => {
      claimedBeforeReadAnswered ??= !readAnswered;
      return claimNew.call(worker.store, eventIds, lease, signal);
    };
    const response = await run(worker, ...second.map((body) => sqsRecord(body)));

    // Assess
    expect(afterRead.indexOf('readMany answered')).toBeLessThan(afterRead.indexOf('claimNew sent'));
    expect(claimedBeforeReadAnswered).toBe(true);
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1 + 3 + 3);
  });

  it('a batch with a target revoked already ends fresh traffic: the next batch claims after its read', async () => {
    // Prepare: targets 0 and 1 revoked by a first batch
    const worker = testWorker();
    const targets = tenTargets();
    await run(worker, ...targets.slice(0, 2).map((body) => sqsRecord(body)));
    await run(
      worker,
      sqsRecord(requestBody({ consumerArn: String(targets[0]?.consumerArn) })),
      sqsRecord(targets[2]),
    );
    let readAnswered = false;
    let claimedAfterReadAnswered: boolean | undefined;
    const { readMany, claimNew } = worker.store;
    worker.deps.store.readMany = async (keys, signal) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      readAnswered = true;
      return readMany.call(worker.store, keys, signal);
    };
    worker.deps.store.claimNew = (eventIds, lease, signal) => {
      claimedAfterReadAnswered ??= readAnswered;
      return claimNew.call(worker.store, eventIds, lease, signal);
    };

    // Act
    const response = await run(worker, ...targets.slice(3, 5).map((body) => sqsRecord(body)));

    // Assess
    expect(claimedAfterReadAnswered).toBe(true);
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(2 + 1 + 2);
  });

  it('a claim sent with the read that another invocation beat wrote nothing: the others are claimed after the read, and the held one comes back', async () => {
    // Prepare: a new container; one decision of its batch is held elsewhere
    const worker = testWorker();
    const [held, ...fresh] = await oneHeldElsewhere(worker);
    const jointly = jointClaims(worker);

    // Act
    const response = await run(worker, ...[held, ...fresh].map((body) => sqsRecord(body)));

    // Assess
    expect(jointly).toEqual([
      [held, ...fresh].map((body) => String(body.eventId)),
      fresh.map((body) => String(body.eventId)),
    ]);
    expect(worker.revoker.calls).toHaveLength(2);
    expect(worker.audit.accepted).toHaveLength(2);
    expect(response.batchItemFailures).toHaveLength(1);
  });

  it('a claim sent with the read whose answer was lost: each decision is found this invocation’s and acted on once', async () => {
    // Prepare: the first joint claim takes effect and its answer is lost; later ones answer
    const worker = testWorker();
    const counts = countCalls(worker);
    const claimNew = worker.store.claimNew.bind(worker.store);
    let lost = 0;
    worker.deps.store.claimNew = async (eventIds, lease, signal) => {
      const claimed = await claimNew(eventIds, lease, signal);
      if (lost++ === 0) throw new Error('socket hang up');
      return claimed;
    };

    // Act
    const response = await run(worker, ...tenTargets().map((body) => sqsRecord(body)));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(10);
    expect(new Set(worker.revoker.calls.map((c) => JSON.stringify(c))).size).toBe(10);
    expect(worker.audit.accepted).toHaveLength(10);
    expect(counts.get('claim')).toBeGreaterThanOrEqual(1);
    expect(
      worker.logs.filter((l) =>
        String(l.msg).startsWith('could not claim the batch’s decisions with its read'),
      ),
    ).toHaveLength(1);
  });

  it('rule 2: a duplicate of a completed decision, seen by the batch read, is acknowledged with no claim, no call and no audit', async () => {
    // Prepare
    const worker = testWorker();
    const body = requestBody();
    await run(worker, sqsRecord(body));
    const counts = countCalls(worker);

    // Act
    const response = await run(worker, sqsRecord(body));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.accepted).toHaveLength(1);
    expect(worker.metrics.count('DuplicatesSuppressed')).toBe(1);
    expect(Object.fromEntries(counts)).toEqual({ readMany: 1 });
  });

  it('rule 5: a target confirmed earlier is known from the batch read, with no read of its own', async () => {
    // Prepare
    const worker = testWorker();
    const body = requestBody({ issuedAt: '2026-11-25T08:00:00Z' });
    await worker.store.confirmTarget(
      targetKey(targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID)),
      { confirmedAt: worker.clock.now, eventId: 'evt-earlier' },
    );
    const counts = countCalls(worker);

    // Act
    await run(worker, sqsRecord(body));

    // Assess
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.AlreadyRevoked,
      satisfiedBy: 'evt-earlier',
    });
    expect(counts.get('getTargetConfirmation')).toBeUndefined();
  });

  it('a failed batch read loses nothing: every decision is claimed and every target read on its own', async () => {
    // Prepare
    const worker = testWorker();
    const done = requestBody();
    await run(worker, sqsRecord(done));
    const counts = countCalls(worker);
    worker.deps.store.readMany = () => Promise.reject(new Error('store down'));
    const fresh = requestBody({ consumerArn: CONSUMER_ARN.replace(/.{2}$/, '99') });
    // A rested container: its gate starts the call at once, with no re-read for a wait.
    worker.clock.advance(1000);

    // Act
    const response = await run(worker, sqsRecord(done), sqsRecord(fresh));

    // Assess: the duplicate is still a duplicate (its claim says so), the new one is acted on.
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(2);
    expect(worker.audit.accepted).toHaveLength(2);
    expect(counts.get('claim')).toBe(2);
    expect(counts.get('getTargetConfirmation')).toBe(1);
    expect(worker.logs.some((l) => String(l.msg).startsWith('could not read the batch'))).toBe(
      true,
    );
  });

  it('a batch’s completions are written first: they do not wait for a slow quarantine mark of another message', async () => {
    // Prepare: a malformed message whose quarantine mark is slow (held until the completions are
    // written, or 200 ms). Behind it, a batch's completions met the deadline and the decisions'
    // resends were audited again (conservation seed 2, 3 runs in 6).
    const worker = testWorker();
    const order: string[] = [];
    const completionsWritten = milestone();
    const store = worker.deps.store;
    const completeMany = store.completeMany.bind(store);
    store.completeMany = async (completions, signal) => {
      order.push('completeMany');
      completionsWritten.reach();
      return completeMany(completions, signal);
    };
    const markQuarantined = store.markQuarantined.bind(store);
    store.markQuarantined = async (messageId, stage, signal) => {
      await completionsWritten.waitAtMost200Ms();
      order.push(`mark ${stage}`);
      return markQuarantined(messageId, stage, signal);
    };

    // Act
    const response = await run(
      worker,
      sqsRecord('{not json'),
      ...tenTargets()
        .slice(0, 3)
        .map((body) => sqsRecord(body)),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.audit.accepted).toHaveLength(4);
    expect(order).toEqual(['completeMany', 'mark settled']);
  });

  it('the audit does not wait for the target confirmations, and the handler returns only once they are written', async () => {
    // Prepare: confirmation writes held until the audit is published (or 200 ms)
    const worker = testWorker();
    const order: string[] = [];
    const audited = milestone();
    const audit = worker.deps.audit;
    const publish = audit.publish.bind(audit);
    audit.publish = async (entries, signal) => {
      order.push('audit');
      audited.reach();
      return publish(entries, signal);
    };
    const store = worker.deps.store;
    const held =
      <A extends unknown[], R>(name: string, method: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        await audited.waitAtMost200Ms();
        const result = await method(...args);
        order.push(name);
        return result;
      };
    store.confirmTarget = held('confirmTarget', store.confirmTarget.bind(store));
    store.confirmTargets = held('confirmTargets', store.confirmTargets.bind(store));

    // Act
    const response = await run(
      worker,
      ...tenTargets()
        .slice(0, 3)
        .map((body) => sqsRecord(body)),
    );

    // Assess: the audit first, then the confirmations, all three written before the return
    expect(response.batchItemFailures).toEqual([]);
    expect(order[0]).toBe('audit');
    expect(order.slice(1).length).toBeGreaterThan(0);
    expect(worker.store.targets.size).toBe(3);
  });

  it('the confirmations a failed audit left without a completion write are written alone', async () => {
    // Prepare: every PutEvents call fails
    const worker = testWorker();
    worker.audit.script(callFailure(), callFailure(), callFailure(), callFailure());
    const counts = countCalls(worker);
    const bodies = tenTargets().slice(0, 3);

    // Act
    const response = await run(worker, ...bodies.map((body) => sqsRecord(body)));

    // Assess: each message comes back, no completion written, every target confirmed
    expect(response.batchItemFailures).toHaveLength(3);
    expect(counts.get('completeAndConfirm')).toBeUndefined();
    expect(counts.get('completeMany')).toBeUndefined();
    expect(counts.get('confirmTargets')).toBe(1);
    expect(worker.store.targets.size).toBe(3);
  });

  it('a completion the batch write could not record is tried once more, then logged; the message is acknowledged', async () => {
    // Prepare
    const worker = testWorker();
    const counts = countCalls(worker);
    // The target's confirmation rides with the completion (it was still waiting for its group).
    worker.deps.store.completeAndConfirm = async (completions, confirmations) => ({
      eventIds: completions.map((c) => c.eventId),
      targetKeys: confirmations.map((c) => c.targetKey),
    });
    const body = requestBody();

    // Act
    const response = await run(worker, sqsRecord(body));

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.audit.accepted).toHaveLength(1);
    expect(counts.get('completeAndConfirm')).toBe(2);
    expect(
      worker.logs.filter((l) => l.msg === 'could not record the completed decision'),
    ).toHaveLength(1);
    expect(
      worker.logs.filter((l) => l.msg === 'could not record the target confirmation'),
    ).toHaveLength(1);
  });
});
