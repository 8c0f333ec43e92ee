import { beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/deadline.js';
import { Outcome } from '../../src/core/outcome.js';
import type { IdempotencyStore, Resolution } from '../../src/worker/ports.js';

/** How a contract run builds the store under test: a fresh, empty store on the given clock. */
export type StoreFactory = (options: {
  ttlSeconds: number;
  clock: Clock;
}) => IdempotencyStore | Promise<IdempotencyStore>;

const TTL_SECONDS = 3600;
const LEASE_MS = 30_000;

export const RESOLUTION: Resolution = {
  outcome: Outcome.Revoked,
  processedAt: '2026-11-25T09:00:01.000Z',
  attempts: 2,
  associations: [
    {
      consumerIdentifier: 'arn:aws:redshift:eu-west-1:111122223333:namespace:c',
      status: 'DEAUTHORIZED',
    },
  ],
};

/**
 * The rules every `IdempotencyStore` keeps, whatever it is built on. Run it inside a `describe`
 * of the store's own test file: `describeIdempotencyStoreContract(factory)`.
 */
export const describeIdempotencyStoreContract = (create: StoreFactory): void => {
  let now: number;
  let store: IdempotencyStore;
  const clock: Clock = () => now;
  /** Moves the clock past the dedup window (plus the DynamoDB store's one-second granularity). */
  const passTheDedupWindow = () => {
    now += TTL_SECONDS * 1000 + 2000;
  };

  beforeEach(async () => {
    now = Date.parse('2026-11-25T09:00:00Z');
    store = await create({ ttlSeconds: TTL_SECONDS, clock });
  });

  describe('claim', () => {
    it('acquires a decision nobody has claimed', async () => {
      expect(await store.claim('evt-1', now + LEASE_MS)).toEqual({ status: 'acquired' });
    });

    it('reports a decision claimed by another invocation as in progress, until its lease ends', async () => {
      // Prepare
      const lease = now + LEASE_MS;
      await store.claim('evt-1', lease);
      // Act
      const second = await store.claim('evt-1', now + 2 * LEASE_MS);
      // Assess
      expect(second).toEqual({ status: 'in-progress', leaseUntil: lease });
    });

    it('keeps decisions of different eventIds apart', async () => {
      await store.claim('evt-1', now + LEASE_MS);
      expect(await store.claim('evt-2', now + LEASE_MS)).toEqual({ status: 'acquired' });
    });

    it('takes over a decision whose lease ran out (its owner crashed), once', async () => {
      // Prepare
      await store.claim('evt-1', now + LEASE_MS);
      now += LEASE_MS + 1;
      const newLease = now + LEASE_MS;
      // Act
      const takeover = await store.claim('evt-1', newLease);
      const third = await store.claim('evt-1', now + 2 * LEASE_MS);
      // Assess
      expect(takeover).toEqual({ status: 'acquired' });
      expect(third).toEqual({ status: 'in-progress', leaseUntil: newLease });
    });

    it('returns the stored resolution to whoever takes over a RESOLVED decision whose lease ran out', async () => {
      // Prepare: Redshift answered, then the audit failed and the owner gave up the invocation
      await store.claim('evt-1', now + LEASE_MS);
      await store.resolve('evt-1', RESOLUTION, now + LEASE_MS);
      now += LEASE_MS + 1;
      // Act
      const takeover = await store.claim('evt-1', now + LEASE_MS);
      // Assess
      expect(takeover).toEqual({ status: 'acquired', resolution: RESOLUTION });
    });

    it('reports a RESOLVED decision whose lease is still held as in progress', async () => {
      const lease = now + LEASE_MS;
      await store.claim('evt-1', lease);
      await store.resolve('evt-1', RESOLUTION, lease);
      expect(await store.claim('evt-1', now + 2 * LEASE_MS)).toEqual({
        status: 'in-progress',
        leaseUntil: lease,
      });
    });

    it('reports a COMPLETED decision as completed, with its resolution, long after any lease', async () => {
      // Prepare
      await store.claim('evt-1', now + LEASE_MS);
      await store.complete('evt-1', RESOLUTION);
      now += 10 * LEASE_MS;
      // Act
      const duplicate = await store.claim('evt-1', now + LEASE_MS);
      // Assess
      expect(duplicate).toEqual({ status: 'completed', resolution: RESOLUTION });
    });

    it('acts again on a COMPLETED decision once the dedup window has passed', async () => {
      await store.claim('evt-1', now + LEASE_MS);
      await store.complete('evt-1', RESOLUTION);
      passTheDedupWindow();
      expect(await store.claim('evt-1', now + LEASE_MS)).toEqual({ status: 'acquired' });
    });

    it('lets only one of several simultaneous claims acquire a decision', async () => {
      // Act
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) => store.claim('evt-1', now + n * LEASE_MS)),
      );
      // Assess
      expect(results.filter((result) => result.status === 'acquired')).toHaveLength(1);
      expect(results.filter((result) => result.status === 'in-progress')).toHaveLength(3);
    });

    it('lets only one of several simultaneous claims take over an expired lease', async () => {
      // Prepare
      await store.claim('evt-1', now + LEASE_MS);
      now += LEASE_MS + 1;
      // Act
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) => store.claim('evt-1', now + n * LEASE_MS)),
      );
      // Assess
      expect(results.filter((result) => result.status === 'acquired')).toHaveLength(1);
    });

    it('acquires a RESOLVED decision afresh, without its resolution, once the dedup window has passed', async () => {
      await store.claim('evt-1', now + LEASE_MS);
      await store.resolve('evt-1', RESOLUTION, now + LEASE_MS);
      passTheDedupWindow();
      expect(await store.claim('evt-1', now + LEASE_MS)).toEqual({ status: 'acquired' });
    });

    it('acquires a decision given up with release', async () => {
      await store.claim('evt-1', now + LEASE_MS);
      await store.release('evt-1');
      expect(await store.claim('evt-1', now + LEASE_MS)).toEqual({ status: 'acquired' });
    });

    it('releases an unknown decision without complaint', async () => {
      await expect(store.release('evt-never-seen')).resolves.toBeUndefined();
    });

    it('keeps eventIds with separators and non-ASCII characters apart', async () => {
      await store.claim('a#b', now + LEASE_MS);
      expect(await store.claim('a', now + LEASE_MS)).toEqual({ status: 'acquired' });
      expect(await store.claim('événement-😀', now + LEASE_MS)).toEqual({ status: 'acquired' });
      expect((await store.claim('a#b', now + LEASE_MS)).status).toBe('in-progress');
    });
  });

  describe('target confirmations', () => {
    const TARGET = 'arn:share|namespace|arn:consumer';

    it('knows no confirmation of a target never confirmed', async () => {
      expect(await store.getTargetConfirmation(TARGET)).toBeUndefined();
    });

    it('returns the confirmation recorded for a target', async () => {
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' });
      expect(await store.getTargetConfirmation(TARGET)).toEqual({
        confirmedAt: now,
        eventId: 'evt-1',
      });
    });

    it('replaces a confirmation with a later one', async () => {
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' });
      await store.confirmTarget(TARGET, { confirmedAt: now + 5, eventId: 'evt-2' });
      expect(await store.getTargetConfirmation(TARGET)).toEqual({
        confirmedAt: now + 5,
        eventId: 'evt-2',
      });
    });

    it('ignores, without failing, a confirmation older than the one recorded', async () => {
      // Prepare
      await store.confirmTarget(TARGET, { confirmedAt: now + 5, eventId: 'evt-2' });
      // Act
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' });
      // Assess
      expect(await store.getTargetConfirmation(TARGET)).toEqual({
        confirmedAt: now + 5,
        eventId: 'evt-2',
      });
    });

    it('ignores a confirmation at the same instant as the one recorded', async () => {
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' });
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-2' });
      expect((await store.getTargetConfirmation(TARGET))?.eventId).toBe('evt-1');
    });

    it('forgets a confirmation once the dedup window has passed, and records the next one', async () => {
      // Prepare
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' });
      passTheDedupWindow();
      // Act
      const forgotten = await store.getTargetConfirmation(TARGET);
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-9' });
      // Assess
      expect(forgotten).toBeUndefined();
      expect(await store.getTargetConfirmation(TARGET)).toEqual({
        confirmedAt: now,
        eventId: 'evt-9',
      });
    });
  });

  describe('quarantine marks', () => {
    it("remembers how far a message's quarantine got", async () => {
      expect(await store.quarantineStage('msg-1')).toBeUndefined();
      await store.markQuarantined('msg-1', 'copied');
      expect(await store.quarantineStage('msg-1')).toBe('copied');
      await store.markQuarantined('msg-1', 'settled');
      expect(await store.quarantineStage('msg-1')).toBe('settled');
      expect(await store.quarantineStage('msg-2')).toBeUndefined();
    });

    it('forgets a quarantine mark once the dedup window has passed', async () => {
      await store.markQuarantined('msg-1', 'settled');
      passTheDedupWindow();
      expect(await store.quarantineStage('msg-1')).toBeUndefined();
    });

    it('keeps quarantine marks apart from decisions of the same name', async () => {
      await store.markQuarantined('x', 'copied');
      expect(await store.claim('x', now + LEASE_MS)).toEqual({ status: 'acquired' });
    });
  });
};
