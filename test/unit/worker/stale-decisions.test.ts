import { describe, expect, it } from 'vitest';
import type { Association } from '../../../src/core/audit.js';
import { DeadLetterAttribute } from '../../../src/core/dead-letter.js';
import { FailureKind, RedshiftCallError } from '../../../src/core/errors.js';
import { Outcome } from '../../../src/core/outcome.js';
import type { RevocationRequest } from '../../../src/core/request.js';
import { targetKey, targetOf } from '../../../src/core/target.js';
import { MetricName } from '../../../src/worker/ports.js';
import { processBatch } from '../../../src/worker/process-batch.js';
import {
  activeAssociation,
  entryFailure,
  LONG_AGO,
  permanent,
  type TestWorker,
  testWorker,
  throttle,
} from '../../helpers/fakes.js';
import {
  lambdaContext,
  requestBody,
  sqsEvent,
  sqsRecord,
  WORKER_ACCOUNT_ID,
} from '../../helpers/sqs-records.js';

// The virtual clock reads 09:00; the default request was issued at 08:00, an hour before: stale
// under STALE_AFTER_SECONDS=300. Associations dated 08:30 changed after it, LONG_AGO ones before.
const AFTER = '2026-11-25T08:30:00.000Z';
/** Within CLOCK_SKEW_MARGIN_SECONDS (30 s) of the decision: not "after" it. */
const WITHIN_MARGIN = '2026-11-25T08:00:20.000Z';
const OTHER_ACCOUNT = '999988887777';

const staleWorker = (settings: Parameters<typeof testWorker>[0] = {}) =>
  testWorker({ ...settings, settings: { staleAfterSeconds: 300, ...settings.settings } });

const run = (worker: TestWorker, ...records: ReturnType<typeof sqsRecord>[]) =>
  processBatch(sqsEvent(...records), lambdaContext(worker.deps.clock), worker.deps);

const targetFor = (body: Record<string, unknown>) =>
  targetOf(body as unknown as RevocationRequest, WORKER_ACCOUNT_ID);

const confirmationOf = (worker: TestWorker, body: Record<string, unknown>) =>
  worker.store.getTargetConfirmation(targetKey(targetFor(body)), AbortSignal.timeout(1000));

describe('stale decisions — SUPERSEDED', () => {
  it('a fresh decision takes no extra call: no DescribeDataShares before the disassociate call', async () => {
    // Prepare
    const worker = staleWorker();
    const body = requestBody({ issuedAt: '2026-11-25T08:58:00Z' });
    // Act
    await run(worker, sqsRecord(body));
    // Assess
    expect(worker.revoker.describeCalls).toHaveLength(0);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.details()[0]).toMatchObject({ outcome: Outcome.Revoked, attempts: 1 });
  });

  it('an old decision whose target has no ACTIVE association is ALREADY_REVOKED with no disassociate call, and the read confirms the target (rule 5)', async () => {
    // Prepare
    const worker = staleWorker();
    const body = requestBody();
    const deauthorized: Association = {
      ...activeAssociation(targetFor(body)),
      status: 'DEAUTHORIZED',
    };
    worker.revoker.scriptDescribe(targetFor(body), [deauthorized]);
    // Act
    const response = await run(worker, sqsRecord(body));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.describeCalls).toHaveLength(1);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()).toEqual([
      expect.objectContaining({
        outcome: Outcome.AlreadyRevoked,
        attempts: 1,
        redshiftRequestId: 'describe-request',
        associations: [deauthorized],
      }),
    ]);
    expect(await confirmationOf(worker, body)).toEqual({
      confirmedAt: worker.clock.now,
      eventId: body.eventId,
    });
  });

  it('an old decision whose target was associated again after it is SUPERSEDED: no call, audited with supersededBy, acknowledged, not dead-lettered, no confirmation; a duplicate is then suppressed', async () => {
    // Prepare
    const worker = staleWorker();
    const body = requestBody();
    worker.revoker.scriptDescribe(targetFor(body), [activeAssociation(targetFor(body), AFTER)]);
    // Act
    const response = await run(worker, sqsRecord(body));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.queue.deadLetters).toHaveLength(0);
    expect(worker.audit.details()).toEqual([
      expect.objectContaining({
        eventId: body.eventId,
        outcome: Outcome.Superseded,
        supersededBy: { associationChangedAt: AFTER, status: 'ACTIVE' },
        attempts: 1,
        actor: { accountId: WORKER_ACCOUNT_ID, roleArn: null },
        redshiftRequestId: 'describe-request',
      }),
    ]);
    expect(worker.metrics.count(MetricName.Superseded)).toBe(1);
    expect(worker.metrics.count(MetricName.Revoked)).toBe(0);
    // SUPERSEDED confirms nothing: the consumer still has access, a later decision must act.
    expect(await confirmationOf(worker, body)).toBeUndefined();

    // Act: the same eventId again (another copy of the decision)
    const again = await run(worker, sqsRecord(body));
    // Assess: completed, so a duplicate: no read, no call, no second audit event
    expect(again.batchItemFailures).toEqual([]);
    expect(worker.revoker.describeCalls).toHaveLength(1);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()).toHaveLength(1);
    expect(worker.metrics.count(MetricName.DuplicatesSuppressed)).toBe(1);
  });

  it('an association changed within CLOCK_SKEW_MARGIN_SECONDS of the decision, or before it, does not supersede it: the call goes ahead', async () => {
    for (const changedAt of [WITHIN_MARGIN, LONG_AGO]) {
      // Prepare
      const worker = staleWorker();
      const body = requestBody();
      worker.revoker.scriptDescribe(targetFor(body), [
        activeAssociation(targetFor(body), changedAt),
      ]);
      // Act
      await run(worker, sqsRecord(body));
      // Assess
      expect(worker.revoker.calls).toHaveLength(1);
      expect(worker.audit.details()[0]).toMatchObject({ outcome: Outcome.Revoked, attempts: 2 });
      expect(worker.audit.details()[0]).not.toHaveProperty('supersededBy');
    }
  });

  it('uses the later of CreatedDate and StatusChangeDate: an association created long ago but re-activated after the decision supersedes it', async () => {
    const worker = staleWorker();
    const body = requestBody();
    worker.revoker.scriptDescribe(targetFor(body), [
      { ...activeAssociation(targetFor(body), LONG_AGO), statusChangeDate: AFTER },
    ]);
    await run(worker, sqsRecord(body));
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.Superseded,
      supersededBy: { associationChangedAt: AFTER },
    });
  });

  it('region-wide: SUPERSEDED only when every ACTIVE association of the account in that region changed after the decision; mixed dates call', async () => {
    const body = requestBody({ consumerArn: undefined, consumerRegion: 'us-east-1' });
    const target = targetFor(body);
    const newer = activeAssociation(target, AFTER);
    const newest = activeAssociation(target, '2026-11-25T08:45:00.000Z');
    const older = activeAssociation(target, LONG_AGO);
    // Another account's association, and one of another region, are not this target's.
    const otherAccount = { ...older, consumerIdentifier: OTHER_ACCOUNT };
    const otherRegion = { ...older, consumerRegion: 'eu-west-1' };

    // Mixed: one association predates the decision → the call goes ahead
    const mixed = staleWorker({ settings: { allowBroadTargets: true } });
    mixed.revoker.scriptDescribe(target, [newer, older]);
    await run(mixed, sqsRecord(body));
    expect(mixed.revoker.calls).toHaveLength(1);
    expect(mixed.audit.details()[0]?.outcome).toBe(Outcome.Revoked);

    // All newer → SUPERSEDED, naming the earliest change
    const all = staleWorker({ settings: { allowBroadTargets: true } });
    all.revoker.scriptDescribe(target, [newest, otherAccount, newer, otherRegion]);
    await run(all, sqsRecord(body));
    expect(all.revoker.calls).toHaveLength(0);
    expect(all.audit.details()[0]).toMatchObject({
      outcome: Outcome.Superseded,
      supersededBy: { associationChangedAt: AFTER, status: 'ACTIVE' },
    });
  });

  it('account-wide: every association the account owns counts (its namespaces too); one older namespace association lets the call go ahead', async () => {
    const body = requestBody({ consumerArn: undefined, disassociateEntireAccount: true });
    const target = targetFor(body);
    const namespace = `arn:aws:redshift:us-east-1:${WORKER_ACCOUNT_ID}:namespace:n-old`;
    const accountWide = activeAssociation(target, AFTER);
    const oldNamespace: Association = {
      consumerIdentifier: namespace,
      status: 'ACTIVE',
      createdDate: LONG_AGO,
      statusChangeDate: LONG_AGO,
    };

    const calls = staleWorker({ settings: { allowBroadTargets: true } });
    calls.revoker.scriptDescribe(target, [accountWide, oldNamespace]);
    await run(calls, sqsRecord(body));
    expect(calls.revoker.calls).toHaveLength(1);

    const superseded = staleWorker({ settings: { allowBroadTargets: true } });
    superseded.revoker.scriptDescribe(target, [
      accountWide,
      { ...oldNamespace, createdDate: AFTER, statusChangeDate: AFTER },
    ]);
    await run(superseded, sqsRecord(body));
    expect(superseded.revoker.calls).toHaveLength(0);
    expect(superseded.audit.details()[0]?.outcome).toBe(Outcome.Superseded);
  });

  it('is checked for a replayed decision, a redelivered one (receive count > 1) and, with STALE_AFTER_SECONDS=0, a fresh one', async () => {
    const fresh = { issuedAt: '2026-11-25T08:59:50Z' };
    const replayed = staleWorker();
    await run(
      replayed,
      sqsRecord(requestBody(fresh), {
        attributes: {
          [DeadLetterAttribute.ReplayCount]: {
            dataType: 'Number',
            stringValue: '1',
            stringListValues: [],
            binaryListValues: [],
          },
        },
      }),
    );
    expect(replayed.revoker.describeCalls).toHaveLength(1);

    const redelivered = staleWorker();
    await run(redelivered, sqsRecord(requestBody(fresh), { receiveCount: 2 }));
    expect(redelivered.revoker.describeCalls).toHaveLength(1);

    // Even one stamped a little ahead of our clock (the policy engine's clock runs fast).
    const everyOne = staleWorker({ settings: { staleAfterSeconds: 0 } });
    await run(everyOne, sqsRecord(requestBody({ issuedAt: '2026-11-25T09:00:10Z' })));
    expect(everyOne.revoker.describeCalls).toHaveLength(1);
    // The default answer is an association from long ago: each still revoked by its call.
    for (const worker of [replayed, redelivered, everyOne])
      expect(worker.audit.details()[0]?.outcome).toBe(Outcome.Revoked);
  });

  it('decisions sharing a target share one read: the old one is SUPERSEDED, the one issued after the re-association is revoked by one call and confirms the target', async () => {
    const worker = staleWorker();
    const old = requestBody();
    const later = requestBody({ issuedAt: '2026-11-25T08:45:00Z' });
    worker.revoker.scriptDescribe(targetFor(old), [activeAssociation(targetFor(old), AFTER)]);
    await run(worker, sqsRecord(old), sqsRecord(later));
    expect(worker.revoker.describeCalls).toHaveLength(1);
    expect(worker.revoker.calls).toHaveLength(1);
    const outcomes = Object.fromEntries(
      worker.audit.details().map((detail) => [detail.eventId, detail.outcome]),
    );
    expect(outcomes).toEqual({
      [old.eventId as string]: Outcome.Superseded,
      [later.eventId as string]: Outcome.Revoked,
    });
    expect((await confirmationOf(worker, later))?.eventId).toBe(later.eventId);
  });

  it('a throttled read is retried through the gate like the call (Throttles counted), then decides', async () => {
    const worker = staleWorker();
    const body = requestBody();
    worker.revoker.scriptDescribe(targetFor(body), throttle(), [
      activeAssociation(targetFor(body), AFTER),
    ]);
    const response = await run(worker, sqsRecord(body));
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.describeCalls).toHaveLength(2);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.metrics.count(MetricName.Throttles)).toBe(1);
    expect(worker.metrics.count(MetricName.RedshiftAttempts)).toBe(2);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.Superseded,
      attempts: 2,
    });
  });

  it('a read whose answer was lost (connection reset) is simply read again: it changed nothing', async () => {
    const worker = staleWorker();
    const body = requestBody();
    const reset = new RedshiftCallError('socket hang up', {
      kind: FailureKind.Transient,
      code: 'ECONNRESET',
    });
    worker.revoker.scriptDescribe(targetFor(body), reset, []);
    await run(worker, sqsRecord(body));
    expect(worker.revoker.describeCalls).toHaveLength(2);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()[0]).toMatchObject({ outcome: Outcome.AlreadyRevoked });
  });

  it('a read that keeps failing leaves the decision to come back later (rule 11), with no call and no audit; at the last receive it is FAILED and dead-lettered', async () => {
    // Prepare
    const worker = staleWorker({ settings: { redshiftMaxAttempts: 2 } });
    const body = requestBody();
    worker.revoker.scriptDescribe(targetFor(body), throttle(), throttle());
    const record = sqsRecord(body);
    // Act
    const response = await run(worker, record);
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()).toHaveLength(0);
    expect(worker.queue.deadLetters).toHaveLength(0);
    expect(worker.metrics.count(MetricName.RetriesScheduled)).toBe(1);

    // Act: the last receive, still throttled
    worker.revoker.scriptDescribe(targetFor(body), throttle(), throttle());
    const last = sqsRecord(body, { receiveCount: 5 });
    const lastResponse = await run(worker, last);
    // Assess
    expect(lastResponse.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.Failed,
      error: { code: 'Throttling' },
      attempts: 2,
    });
    expect(worker.queue.deadLetters).toHaveLength(1);
  });

  it('a read refused for good (access denied) is FAILED and dead-lettered: no disassociate call without the check', async () => {
    const worker = staleWorker();
    const body = requestBody();
    worker.revoker.scriptDescribe(
      targetFor(body),
      permanent('AccessDenied', 'not authorized to perform: redshift:DescribeDataShares'),
    );
    await run(worker, sqsRecord(body));
    expect(worker.revoker.calls).toHaveLength(0);
    expect(worker.audit.details()[0]).toMatchObject({
      outcome: Outcome.Failed,
      error: { code: 'AccessDenied' },
    });
    expect(
      worker.queue.deadLetters[0]?.attributes[DeadLetterAttribute.ErrorCode]?.stringValue,
    ).toBe('AccessDenied');
  });

  it('a SUPERSEDED decision whose audit failed is audited on its return from the kept resolution, with no second read', async () => {
    const worker = staleWorker();
    const body = requestBody();
    worker.revoker.scriptDescribe(targetFor(body), [activeAssociation(targetFor(body), AFTER)]);
    worker.audit.alwaysFail.set(
      body.eventId as string,
      entryFailure('AccessDeniedException', false),
    );
    const record = sqsRecord(body);
    const first = await run(worker, record);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    worker.audit.alwaysFail.clear();
    worker.clock.advance(60_000);
    const back = await run(
      worker,
      sqsRecord(body, { messageId: record.messageId, receiveCount: 2 }),
    );
    expect(back.batchItemFailures).toEqual([]);
    expect(worker.revoker.describeCalls).toHaveLength(1);
    expect(worker.audit.details()).toEqual([
      expect.objectContaining({
        outcome: Outcome.Superseded,
        supersededBy: { associationChangedAt: AFTER, status: 'ACTIVE' },
      }),
    ]);
  });
});
