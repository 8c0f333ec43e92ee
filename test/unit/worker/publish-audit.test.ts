import { describe, expect, it } from 'vitest';
import { Deadline } from '../../../src/core/deadline.js';
import type { AuditEntry } from '../../../src/worker/ports.js';
import {
  PUT_EVENTS_MAX_REQUEST_BYTES,
  publishAuditEntries,
} from '../../../src/worker/publish-audit.js';
import { FakeAuditPublisher, VirtualClock } from '../../helpers/fakes.js';

const entry = (key: string, detailBytes: number): AuditEntry => ({
  key,
  detail: JSON.stringify({ eventId: key, pad: 'x'.repeat(detailBytes) }),
  resources: ['arn:aws:redshift:us-east-1:444455556666:datashare:ns/share'],
});

const publish = (publisher: FakeAuditPublisher, entries: AuditEntry[]) => {
  const clock = new VirtualClock();
  return publishAuditEntries(entries, {
    publisher,
    deadline: new Deadline(30_000, 1_000, clock.read),
    maxRounds: 3,
    roundBudgetMs: 2_000,
    sleep: clock.sleep,
  });
};

describe('publishAuditEntries — requests bounded by count and by bytes', () => {
  it('splits a group of ten whose entries together pass the byte limit into several PutEvents calls, in order', async () => {
    // Prepare: ten entries of about 60 KB: four fit in one request
    const publisher = new FakeAuditPublisher();
    const entries = Array.from({ length: 10 }, (_, n) => entry(`evt-${n}`, 60_000));
    // Act
    const results = await publish(publisher, entries);
    // Assess
    expect(publisher.refused).toEqual([]);
    expect(publisher.calls.map((call) => call.length)).toEqual([4, 4, 2]);
    expect(publisher.calls.flat().map((e) => e.key)).toEqual(entries.map((e) => e.key));
    for (const call of publisher.calls) {
      const bytes = call.reduce((total, e) => total + publisher.entrySize(e), 0);
      expect(bytes).toBeLessThanOrEqual(PUT_EVENTS_MAX_REQUEST_BYTES);
    }
    expect([...results.values()].every((result) => result.ok)).toBe(true);
  });

  it('still sends at most ten small entries per call', async () => {
    const publisher = new FakeAuditPublisher();
    const entries = Array.from({ length: 23 }, (_, n) => entry(`evt-${n}`, 10));
    await publish(publisher, entries);
    expect(publisher.calls.map((call) => call.length)).toEqual([10, 10, 3]);
  });

  it('sends an entry too large for any request alone, so its refusal takes no neighbour with it', async () => {
    // Prepare
    const publisher = new FakeAuditPublisher();
    const entries = [entry('evt-a', 10), entry('evt-huge', 300_000), entry('evt-b', 10)];
    // Act
    const results = await publish(publisher, entries);
    // Assess
    expect(publisher.calls.map((call) => call.map((e) => e.key))).toEqual([
      ['evt-a'],
      ['evt-huge'],
      ['evt-b'],
    ]);
    expect(results.get('evt-a')).toEqual({ ok: true });
    expect(results.get('evt-b')).toEqual({ ok: true });
    expect(results.get('evt-huge')).toMatchObject({
      ok: false,
      code: 'ValidationException',
      retryable: false,
    });
  });
});
