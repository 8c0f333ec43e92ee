import { describe, expect, it } from 'vitest';
import { Outcome } from '../../../src/core/outcome.js';
import type { RevocationRequest } from '../../../src/core/request.js';
import { targetOf } from '../../../src/core/target.js';
import type { AuditEntry } from '../../../src/worker/ports.js';
import { processBatch } from '../../../src/worker/process-batch.js';
import { type TestWorker, testWorker } from '../../helpers/fakes.js';
import { eventBridgeEnvelope, validRequest } from '../../helpers/requests.js';
import {
  CONSUMER_ARN,
  lambdaContext,
  requestBody,
  sqsEvent,
  sqsRecord,
  WORKER_ACCOUNT_ID,
} from '../../helpers/sqs-records.js';

/**
 * Every batch request bounded by bytes, not only by count: EventBridge refuses a whole PutEvents
 * call whose entries total 256 KB or more (the fake publisher does the same), and that refusal is
 * permanent — the audit of every entry in the call would never be published.
 */

const run = (worker: TestWorker, ...records: ReturnType<typeof sqsRecord>[]) =>
  processBatch(sqsEvent(...records), lambdaContext(worker.deps.clock), worker.deps);

/** n associations of about 190 bytes each, as Redshift returns them for a busy datashare. */
const manyAssociations = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    consumerIdentifier: `arn:aws:redshift:us-east-1:111122223333:namespace:consumer-${String(i).padStart(8, '0')}`,
    status: 'DEAUTHORIZED',
    createdDate: '2026-01-01T00:00:00.000Z',
    statusChangeDate: '2026-11-25T08:00:01.000Z',
  }));

const requestBytes = (worker: TestWorker, call: readonly AuditEntry[]) =>
  call.reduce((total, entry) => total + worker.audit.entrySize(entry), 0);

describe('processBatch — audit requests bounded by bytes', () => {
  it('10 eventIds on one target with 200 associations are all audited in one invocation', async () => {
    // Prepare
    const worker = testWorker();
    const bodies = Array.from({ length: 10 }, () => requestBody({ consumerArn: CONSUMER_ARN }));
    const target = targetOf(bodies[0] as unknown as RevocationRequest, WORKER_ACCOUNT_ID);
    worker.revoker.script(target, {
      outcome: Outcome.Revoked,
      associations: manyAssociations(200),
    });
    // Act
    const response = await run(worker, ...bodies.map((body) => sqsRecord(body)));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.revoker.calls).toHaveLength(1);
    expect(worker.audit.refused).toEqual([]);
    const details = worker.audit.details();
    expect(details.map((detail) => detail.eventId).sort()).toEqual(
      bodies.map((body) => body.eventId).sort(),
    );
    for (const detail of details) {
      expect(detail.outcome).toBe(Outcome.Revoked);
      expect(detail.associationsTruncated).toBe(true);
      expect(
        (detail.associations as unknown[]).length + (detail.associationsOmitted as number),
      ).toBe(200);
    }
    for (const call of worker.audit.calls)
      expect(requestBytes(worker, call)).toBeLessThan(256 * 1024);
  });

  it('an envelope with thousands of invalid resources entries is REJECTED and audited, and its neighbours too', async () => {
    // Prepare
    const worker = testWorker();
    const envelope = eventBridgeEnvelope(validRequest({ eventId: 'evt-bad-envelope' }), {
      resources: Array.from({ length: 8000 }, (_, n) => n),
    });
    const bad = sqsRecord(envelope);
    const neighbours = Array.from({ length: 9 }, () => sqsRecord(requestBody()));
    // Act
    const response = await run(worker, bad, ...neighbours);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(worker.audit.refused).toEqual([]);
    const details = worker.audit.details();
    expect(details).toHaveLength(10);
    const rejected = details.find((detail) => detail.outcome === Outcome.Rejected);
    expect(rejected).toMatchObject({ eventId: 'evt-bad-envelope', messageId: bad.messageId });
    const error = rejected?.error as { code: string; message: string };
    expect(error.code).toBe('SchemaViolation');
    expect(error.message).toMatch(/^resources\.0: expected a string; given 0; /);
    expect(error.message).toMatch(/… and \d+ more problems$/);
    expect(worker.queue.deadLetters.map((copy) => copy.id)).toEqual([bad.messageId]);
  });
});
