import { beforeEach, describe, expect, it } from 'vitest';
import { type BreakerTrigger, bucketOf, totalOf } from '../../src/core/breaker.js';
import type { Clock } from '../../src/core/deadline.js';
import { Outcome } from '../../src/core/outcome.js';
import type { IdempotencyStore, Lease, Resolution } from '../../src/worker/ports.js';

/** How a contract run builds the store under test: a fresh, empty store on the given clock. */
export type StoreFactory = (options: {
  ttlSeconds: number;
  minRetentionSeconds?: number;
  clock: Clock;
}) => IdempotencyStore | Promise<IdempotencyStore>;

const TTL_SECONDS = 3600;
const LEASE_MS = 30_000;
const signal = new AbortController().signal;
let invocations = 0;
/** A lease of a new invocation (each call is another owner) until `until`. */
const lease = (until: number, owner?: string): Lease => {
  invocations += 1;
  return { owner: owner ?? `invocation-${invocations}`, until };
};

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
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
      });
    });

    it('reports a decision claimed by another invocation as in progress, until its lease ends', async () => {
      // Prepare
      const until = now + LEASE_MS;
      await store.claim('evt-1', lease(until), signal);
      // Act
      const second = await store.claim('evt-1', lease(now + 2 * LEASE_MS), signal);
      // Assess
      expect(second).toEqual({ status: 'in-progress', leaseUntil: until });
    });

    it('finds its own lease as acquired: a claim whose answer was lost, tried again by the same invocation', async () => {
      // Prepare: the first claim took effect; its caller never learned it
      const mine = lease(now + LEASE_MS);
      await store.claim('evt-1', mine, signal);
      // Act
      const again = await store.claim('evt-1', mine, signal);
      const stranger = await store.claim('evt-1', lease(now + LEASE_MS), signal);
      // Assess
      expect(again).toEqual({ status: 'acquired' });
      expect(stranger).toEqual({ status: 'in-progress', leaseUntil: mine.until });
    });

    it('keeps decisions of different eventIds apart', async () => {
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      expect(await store.claim('evt-2', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
      });
    });

    it('takes over a decision whose lease ran out (its owner crashed), once', async () => {
      // Prepare
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      now += LEASE_MS + 1;
      const newLease = now + LEASE_MS;
      // Act
      const takeover = await store.claim('evt-1', lease(newLease), signal);
      const third = await store.claim('evt-1', lease(now + 2 * LEASE_MS), signal);
      // Assess
      expect(takeover).toEqual({ status: 'acquired' });
      expect(third).toEqual({ status: 'in-progress', leaseUntil: newLease });
    });

    it('returns the stored resolution to whoever takes over a RESOLVED decision whose lease ran out', async () => {
      // Prepare: Redshift answered, then the audit failed and the owner gave up the invocation
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      await store.resolve('evt-1', RESOLUTION, signal);
      now += LEASE_MS + 1;
      // Act
      const takeover = await store.claim('evt-1', lease(now + LEASE_MS), signal);
      // Assess
      expect(takeover).toEqual({ status: 'acquired', resolution: RESOLUTION });
    });

    it('an invocation that has returned holds no lease: a RESOLVED decision is acquired at once, with its resolution', async () => {
      // Prepare: resolved by an invocation whose lease runs on for another 30 s
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      await store.resolve('evt-1', RESOLUTION, signal);
      // Act: the return comes back early (an operator's redrive, a short visibility timeout)
      const early = await store.claim('evt-1', lease(now + 2 * LEASE_MS), signal);
      // Assess
      expect(early).toEqual({ status: 'acquired', resolution: RESOLUTION });
    });

    it('never turns a COMPLETED decision back into RESOLVED', async () => {
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      await store.complete('evt-1', RESOLUTION, signal);
      await store.resolve('evt-1', { ...RESOLUTION, attempts: 9 }, signal);
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'completed',
        resolution: RESOLUTION,
      });
    });

    it('reports a COMPLETED decision as completed, with its resolution, long after any lease', async () => {
      // Prepare
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      await store.complete('evt-1', RESOLUTION, signal);
      now += 10 * LEASE_MS;
      // Act
      const duplicate = await store.claim('evt-1', lease(now + LEASE_MS), signal);
      // Assess
      expect(duplicate).toEqual({ status: 'completed', resolution: RESOLUTION });
    });

    it('acts again on a COMPLETED decision once the dedup window has passed', async () => {
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      await store.complete('evt-1', RESOLUTION, signal);
      passTheDedupWindow();
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
      });
    });

    it('lets only one of several simultaneous claims acquire a decision', async () => {
      // Act
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) => store.claim('evt-1', lease(now + n * LEASE_MS), signal)),
      );
      // Assess
      expect(results.filter((result) => result.status === 'acquired')).toHaveLength(1);
      expect(results.filter((result) => result.status === 'in-progress')).toHaveLength(3);
    });

    it('lets only one of several simultaneous claims take over an expired lease', async () => {
      // Prepare
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      now += LEASE_MS + 1;
      // Act
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) => store.claim('evt-1', lease(now + n * LEASE_MS), signal)),
      );
      // Assess
      expect(results.filter((result) => result.status === 'acquired')).toHaveLength(1);
    });

    it('acquires a RESOLVED decision afresh, without its resolution, once the dedup window has passed', async () => {
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      await store.resolve('evt-1', RESOLUTION, signal);
      passTheDedupWindow();
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
      });
    });

    it('acquires a decision given up with release', async () => {
      const mine = lease(now + LEASE_MS);
      await store.claim('evt-1', mine, signal);
      await store.release('evt-1', mine.owner, signal);
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
      });
    });

    it('a takeover never deletes a stored result: release keeps the resolution for the next claim', async () => {
      // Prepare: resolved earlier, then taken over by an invocation that gives it back
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      await store.resolve('evt-1', RESOLUTION, signal);
      const watcher = lease(now + LEASE_MS);
      expect(await store.claim('evt-1', watcher, signal)).toEqual({
        status: 'acquired',
        resolution: RESOLUTION,
      });
      // Act
      await store.release('evt-1', watcher.owner, signal);
      // Assess
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
        resolution: RESOLUTION,
      });
    });

    it("release by another owner leaves the holder's lease alone", async () => {
      const holder = lease(now + LEASE_MS);
      await store.claim('evt-1', holder, signal);
      await store.release('evt-1', 'someone-else', signal);
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'in-progress',
        leaseUntil: holder.until,
      });
    });

    it('release never reopens a COMPLETED decision', async () => {
      const mine = lease(now + LEASE_MS);
      await store.claim('evt-1', mine, signal);
      await store.complete('evt-1', RESOLUTION, signal);
      await store.release('evt-1', mine.owner, signal);
      expect((await store.claim('evt-1', lease(now + LEASE_MS), signal)).status).toBe('completed');
    });

    it('forget deletes a decision with its resolution: the next claim acts afresh', async () => {
      await store.claim('evt-1', lease(now + LEASE_MS), signal);
      await store.resolve('evt-1', RESOLUTION, signal);
      await store.forget('evt-1', signal);
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
      });
    });

    it('releases and forgets an unknown decision without complaint', async () => {
      await expect(store.release('evt-never-seen', 'me', signal)).resolves.toBeUndefined();
      await expect(store.forget('evt-never-seen', signal)).resolves.toBeUndefined();
    });

    it('keeps eventIds with separators and non-ASCII characters apart', async () => {
      await store.claim('a#b', lease(now + LEASE_MS), signal);
      expect(await store.claim('a', lease(now + LEASE_MS), signal)).toEqual({ status: 'acquired' });
      expect(await store.claim('événement-😀', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
      });
      expect((await store.claim('a#b', lease(now + LEASE_MS), signal)).status).toBe('in-progress');
    });
  });

  describe('claimNew: the decisions nobody holds, all or none at once', () => {
    it('takes every decision nobody holds, for this lease: each is then its own and in progress to others', async () => {
      // Act
      const mine = lease(now + LEASE_MS);
      const claimed = await store.claimNew(['evt-1', 'evt-2', 'evt-3'], mine, signal);
      // Assess
      expect([...claimed].sort()).toEqual(['evt-1', 'evt-2', 'evt-3']);
      for (const eventId of ['evt-1', 'evt-2', 'evt-3']) {
        expect(await store.claim(eventId, mine, signal)).toEqual({ status: 'acquired' });
        expect(await store.claim(eventId, lease(now + LEASE_MS), signal)).toEqual({
          status: 'in-progress',
          leaseUntil: mine.until,
        });
      }
    });

    it('takes none when one is held: the others stay free for their own claims', async () => {
      // Prepare
      const holder = lease(now + LEASE_MS);
      await store.claim('evt-2', holder, signal);
      // Act
      const claimed = await store.claimNew(
        ['evt-1', 'evt-2', 'evt-3'],
        lease(now + LEASE_MS),
        signal,
      );
      // Assess
      expect([...claimed]).toEqual([]);
      expect(await store.claim('evt-1', lease(now + LEASE_MS), signal)).toEqual({
        status: 'acquired',
      });
      expect(await store.claim('evt-2', lease(now + LEASE_MS), signal)).toEqual({
        status: 'in-progress',
        leaseUntil: holder.until,
      });
    });

    it('takes none when one is completed or kept resolved: a duplicate never gets a second claim', async () => {
      // Prepare
      await store.complete('evt-done', RESOLUTION, signal);
      await store.resolve('evt-kept', RESOLUTION, signal);
      // Act
      const withCompleted = await store.claimNew(
        ['evt-1', 'evt-done'],
        lease(now + LEASE_MS),
        signal,
      );
      const withKept = await store.claimNew(['evt-2', 'evt-kept'], lease(now + LEASE_MS), signal);
      // Assess
      expect([...withCompleted, ...withKept]).toEqual([]);
      expect(await store.claim('evt-done', lease(now + LEASE_MS), signal)).toEqual({
        status: 'completed',
        resolution: RESOLUTION,
      });
    });

    it('takes a decision past the dedup window, as claim does', async () => {
      // Prepare
      await store.complete('evt-old', RESOLUTION, signal);
      passTheDedupWindow();
      // Act
      const claimed = await store.claimNew(['evt-old', 'evt-new'], lease(now + LEASE_MS), signal);
      // Assess
      expect([...claimed].sort()).toEqual(['evt-new', 'evt-old']);
    });

    it('a joint claim whose answer was lost is found by claim as the lease’s own', async () => {
      // Prepare: the joint claim took effect; its caller never learned it
      const mine = lease(now + LEASE_MS);
      await store.claimNew(['evt-1', 'evt-2'], mine, signal);
      // Act
      const again = await store.claim('evt-2', mine, signal);
      // Assess
      expect(again).toEqual({ status: 'acquired' });
    });

    it('lets only one of several simultaneous joint claims over the same decisions take them', async () => {
      // Act
      const results = await Promise.all(
        [1, 2, 3, 4].map((n) =>
          store.claimNew(['evt-1', 'evt-2', `evt-own-${n}`], lease(now + n * LEASE_MS), signal),
        ),
      );
      // Assess
      expect(results.filter((claimed) => claimed.size === 3)).toHaveLength(1);
      expect(results.filter((claimed) => claimed.size === 0)).toHaveLength(3);
    });

    it('claims more decisions than one request takes (DynamoDB: 100 a transaction)', async () => {
      // Act
      const eventIds = Array.from({ length: 230 }, (_, i) => `evt-${i}`);
      const claimed = await store.claimNew(eventIds, lease(now + LEASE_MS), signal);
      // Assess
      expect(claimed.size).toBe(230);
      expect(await store.claim('evt-229', lease(now + LEASE_MS), signal)).toMatchObject({
        status: 'in-progress',
      });
    });
  });

  describe('target confirmations', () => {
    const TARGET = 'arn:share|namespace|arn:consumer';

    it('knows no confirmation of a target never confirmed', async () => {
      expect(await store.getTargetConfirmation(TARGET, signal)).toBeUndefined();
    });

    it('returns the confirmation recorded for a target', async () => {
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' }, signal);
      expect(await store.getTargetConfirmation(TARGET, signal)).toEqual({
        confirmedAt: now,
        eventId: 'evt-1',
      });
    });

    it('replaces a confirmation with a later one', async () => {
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' }, signal);
      await store.confirmTarget(TARGET, { confirmedAt: now + 5, eventId: 'evt-2' }, signal);
      expect(await store.getTargetConfirmation(TARGET, signal)).toEqual({
        confirmedAt: now + 5,
        eventId: 'evt-2',
      });
    });

    it('ignores, without failing, a confirmation older than the one recorded', async () => {
      // Prepare
      await store.confirmTarget(TARGET, { confirmedAt: now + 5, eventId: 'evt-2' }, signal);
      // Act
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' }, signal);
      // Assess
      expect(await store.getTargetConfirmation(TARGET, signal)).toEqual({
        confirmedAt: now + 5,
        eventId: 'evt-2',
      });
    });

    it('ignores a confirmation at the same instant as the one recorded', async () => {
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' }, signal);
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-2' }, signal);
      expect((await store.getTargetConfirmation(TARGET, signal))?.eventId).toBe('evt-1');
    });

    it('forgets a confirmation once the dedup window has passed, and records the next one', async () => {
      // Prepare
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-1' }, signal);
      passTheDedupWindow();
      // Act
      const forgotten = await store.getTargetConfirmation(TARGET, signal);
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-9' }, signal);
      // Assess
      expect(forgotten).toBeUndefined();
      expect(await store.getTargetConfirmation(TARGET, signal)).toEqual({
        confirmedAt: now,
        eventId: 'evt-9',
      });
    });
  });

  describe('batched reads and completions', () => {
    const TARGET = 'arn:share|namespace|arn:consumer';

    it('reads at once which decisions are completed and every target asked about', async () => {
      // Prepare
      await store.claim('evt-done', lease(now + LEASE_MS), signal);
      await store.complete('evt-done', RESOLUTION, signal);
      await store.claim('evt-held', lease(now + LEASE_MS), signal);
      await store.claim('evt-kept', lease(now + LEASE_MS), signal);
      await store.resolve('evt-kept', RESOLUTION, signal);
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-done' }, signal);

      // Act
      const snapshot = await store.readMany(
        {
          eventIds: ['evt-done', 'evt-held', 'evt-kept', 'evt-new'],
          targetKeys: [TARGET, 'arn:other|namespace|arn:never'],
        },
        signal,
      );

      // Assess: only a COMPLETED decision is known without a claim; any decision is held.
      expect([...snapshot.completed]).toEqual(['evt-done']);
      expect([...snapshot.held].sort()).toEqual(['evt-done', 'evt-held', 'evt-kept']);
      expect([...snapshot.confirmations]).toEqual([
        [TARGET, { confirmedAt: now, eventId: 'evt-done' }],
        ['arn:other|namespace|arn:never', undefined],
      ]);
    });

    it('reads a completed decision and a confirmation past the dedup window as absent', async () => {
      // Prepare
      await store.complete('evt-done', RESOLUTION, signal);
      await store.confirmTarget(TARGET, { confirmedAt: now, eventId: 'evt-done' }, signal);
      passTheDedupWindow();

      // Act
      const snapshot = await store.readMany(
        { eventIds: ['evt-done'], targetKeys: [TARGET] },
        signal,
      );

      // Assess
      expect(snapshot.completed.size).toBe(0);
      expect(snapshot.confirmations.get(TARGET)).toBeUndefined();
    });

    it('records many targets’ confirmations at once', async () => {
      // Act
      const unwritten = await store.confirmTargets(
        [
          { targetKey: TARGET, confirmation: { confirmedAt: now, eventId: 'evt-1' } },
          {
            targetKey: 'arn:b|namespace|arn:c',
            confirmation: { confirmedAt: now, eventId: 'evt-2' },
          },
        ],
        signal,
      );

      // Assess
      expect(unwritten).toEqual([]);
      expect(await store.getTargetConfirmation(TARGET, signal)).toEqual({
        confirmedAt: now,
        eventId: 'evt-1',
      });
      expect((await store.getTargetConfirmation('arn:b|namespace|arn:c', signal))?.eventId).toBe(
        'evt-2',
      );
    });

    it('completes many decisions at once: each is then a duplicate', async () => {
      // Prepare
      const eventIds = Array.from({ length: 30 }, (_, i) => `evt-${i}`);
      for (const eventId of eventIds) await store.claim(eventId, lease(now + LEASE_MS), signal);

      // Act
      const unwritten = await store.completeMany(
        eventIds.map((eventId) => ({ eventId, resolution: RESOLUTION })),
        signal,
      );

      // Assess
      expect(unwritten).toEqual([]);
      for (const eventId of eventIds)
        expect(await store.claim(eventId, lease(now + LEASE_MS), signal)).toEqual({
          status: 'completed',
          resolution: RESOLUTION,
        });
      const snapshot = await store.readMany({ eventIds, targetKeys: [] }, signal);
      expect(snapshot.completed.size).toBe(30);
    });

    it('completes decisions and confirms targets in one call, and says what of each it wrote', async () => {
      // Prepare: an eventId spelled as a target key, to show the two are not confused
      const eventIds = ['evt-a', 'arn:b|namespace|arn:c'];
      for (const eventId of eventIds) await store.claim(eventId, lease(now + LEASE_MS), signal);

      // Act
      const unwritten = await store.completeAndConfirm(
        eventIds.map((eventId) => ({ eventId, resolution: RESOLUTION })),
        [
          {
            targetKey: 'arn:b|namespace|arn:c',
            confirmation: { confirmedAt: now, eventId: 'evt-a' },
          },
          {
            targetKey: 'arn:d|namespace|arn:e',
            confirmation: { confirmedAt: now, eventId: 'evt-x' },
          },
        ],
        signal,
      );

      // Assess
      expect(unwritten).toEqual({ eventIds: [], targetKeys: [] });
      const snapshot = await store.readMany(
        { eventIds, targetKeys: ['arn:b|namespace|arn:c', 'arn:d|namespace|arn:e'] },
        signal,
      );
      expect([...snapshot.completed].sort()).toEqual([...eventIds].sort());
      expect(snapshot.confirmations.get('arn:b|namespace|arn:c')).toEqual({
        confirmedAt: now,
        eventId: 'evt-a',
      });
      expect(snapshot.confirmations.get('arn:d|namespace|arn:e')?.eventId).toBe('evt-x');
    });
  });

  describe('quarantine marks', () => {
    it("remembers how far a message's quarantine got", async () => {
      expect(await store.quarantineStage('msg-1', signal)).toBeUndefined();
      await store.markQuarantined('msg-1', 'copied', signal);
      expect(await store.quarantineStage('msg-1', signal)).toBe('copied');
      await store.markQuarantined('msg-1', 'settled', signal);
      expect(await store.quarantineStage('msg-1', signal)).toBe('settled');
      expect(await store.quarantineStage('msg-2', signal)).toBeUndefined();
    });

    it('forgets a quarantine mark once the dedup window has passed', async () => {
      await store.markQuarantined('msg-1', 'settled', signal);
      passTheDedupWindow();
      expect(await store.quarantineStage('msg-1', signal)).toBeUndefined();
    });

    it('keeps quarantine marks apart from decisions of the same name', async () => {
      await store.markQuarantined('x', 'copied', signal);
      expect(await store.claim('x', lease(now + LEASE_MS), signal)).toEqual({ status: 'acquired' });
    });
  });

  describe('retention', () => {
    // The dedup window is shorter than the time a message takes to come back (60 s against a
    // lease of 300 s plus a 180 s visibility timeout), as DEDUP_TTL_SECONDS=60 allows.
    const SHORT_TTL = 60;
    const LONG_LEASE_MS = 300_000;
    const VISIBILITY_SECONDS = 180;
    let short: IdempotencyStore;

    beforeEach(async () => {
      short = await create({
        ttlSeconds: SHORT_TTL,
        minRetentionSeconds: VISIBILITY_SECONDS + 60,
        clock,
      });
    });

    it('no store item expires before what depends on it: a lease outlives a short dedup window', async () => {
      // Prepare
      const holder = lease(now + LONG_LEASE_MS);
      await short.claim('evt-1', holder, signal);
      // Act: past the dedup window, the lease still running
      now += (SHORT_TTL + 5) * 1000;
      const resend = await short.claim('evt-1', lease(now + LONG_LEASE_MS), signal);
      // Assess
      expect(resend).toEqual({ status: 'in-progress', leaseUntil: holder.until });
    });

    it('no store item expires before what depends on it: a kept resolution and a quarantine mark last until the message is back', async () => {
      // Prepare
      await short.claim('evt-1', lease(now + LONG_LEASE_MS), signal);
      await short.resolve('evt-1', RESOLUTION, signal);
      await short.markQuarantined('msg-1', 'copied', signal);
      // Act: the return arrives after the visibility timeout, long after the dedup window
      now += VISIBILITY_SECONDS * 1000;
      const back = await short.claim('evt-1', lease(now + LONG_LEASE_MS), signal);
      // Assess
      expect(back).toEqual({ status: 'acquired', resolution: RESOLUTION });
      expect(await short.quarantineStage('msg-1', signal)).toBe('copied');
    });
  });

  describe('breaker (BREAKER_MAX_REVOCATIONS in BREAKER_WINDOW_SECONDS)', () => {
    const LIMIT = { maxRevocations: 3, windowSeconds: 60 };
    const trigger = (n: number): BreakerTrigger => ({
      eventId: `evt-${n}`,
      target: `target-${n}`,
      dataShareArn: 'arn:aws:redshift:us-east-1:444455556666:datashare:p/s',
      policyId: 'pol',
      messageId: `msg-${n}`,
    });
    const request = (n: number, at = now) => ({
      reservation: { at },
      trigger: trigger(n),
    });
    const reserve = async (n: number, at = now) => {
      const [result] = await store.reserveRevocations([request(n, at)], LIMIT, signal);
      if (!result) throw new Error('no result');
      return result;
    };

    it('decides several reservations in one call, in order: N reserved, the next opens, the rest find it open', async () => {
      // Act
      const results = await store.reserveRevocations(
        [1, 2, 3, 4, 5].map((n) => request(n)),
        LIMIT,
        signal,
      );
      // Assess
      expect(results.map((r) => (r.status === 'open' ? `open ${r.openedNow}` : r.status))).toEqual([
        'reserved',
        'reserved',
        'reserved',
        'open true',
        'open false',
      ]);
      expect((await store.readBreaker(signal)).open?.trippedBy.eventId).toBe('evt-4');
    });

    it('reserves up to N calls in the window and opens on the N+1th, naming it', async () => {
      // Act
      const results = [];
      for (let n = 1; n <= 4; n++) results.push(await reserve(n));
      // Assess
      expect(results.slice(0, 3)).toEqual(
        [1, 2, 3].map((revocationsInWindow) => ({
          status: 'reserved',
          revocationsInWindow,
          bucket: bucketOf(now, LIMIT),
        })),
      );
      expect(results[3]).toEqual({
        status: 'open',
        openedNow: true,
        opening: {
          openedAt: now,
          revocationsInWindow: 3,
          firstRevocationAt: now,
          maxRevocations: 3,
          windowSeconds: 60,
          trippedBy: trigger(4),
        },
      });
      expect((await store.readBreaker(signal)).open?.trippedBy.eventId).toBe('evt-4');
    });

    it('stays open for everyone, whatever time passes, until closed; closing starts a new window', async () => {
      // Prepare
      for (let n = 1; n <= 4; n++) await reserve(n);
      // Act
      now += 24 * 3600 * 1000;
      const later = await reserve(5);
      const closed = await store.closeBreaker(signal);
      const afterClose = await reserve(6);
      // Assess
      expect(later).toMatchObject({ status: 'open', openedNow: false });
      expect(closed?.trippedBy.eventId).toBe('evt-4');
      expect(afterClose).toMatchObject({ status: 'reserved', revocationsInWindow: 1 });
      expect((await store.readBreaker(signal)).open).toBeUndefined();
      expect(await store.closeBreaker(signal)).toBeUndefined();
    });

    it('counts a sliding window: a reservation older than the window no longer counts', async () => {
      // Prepare
      await reserve(1);
      now += 30_000;
      await reserve(2);
      await reserve(3);
      // Act: 61 s after the first, 31 s after the others
      now += 31_000;
      const fourth = await reserve(4);
      const fifth = await reserve(5);
      // Assess
      expect(fourth).toMatchObject({ status: 'reserved', revocationsInWindow: 3 });
      expect(fifth).toMatchObject({ status: 'open', openedNow: true });
    });

    it('a released reservation (the call did not revoke) no longer counts; releasing what is not there changes nothing', async () => {
      // Prepare
      const reserved = [];
      for (let n = 1; n <= 3; n++) reserved.push(await reserve(n));
      const second = reserved[1];
      if (second?.status !== 'reserved') throw new Error('not reserved');
      // Act
      await store.releaseRevocation(second.bucket, signal);
      await store.releaseRevocation(bucketOf(now - 3_600_000, LIMIT), signal);
      await store.releaseRevocation('not-a-bucket', signal);
      const fourth = await reserve(4);
      const fifth = await reserve(5);
      // Assess
      expect(fourth).toMatchObject({ status: 'reserved', revocationsInWindow: 3 });
      expect(fifth).toMatchObject({ status: 'open', openedNow: true });
    });

    it('releases never take a bucket below zero: more releases than reservations leave it empty', async () => {
      // Prepare
      const first = await reserve(1);
      if (first.status !== 'reserved') throw new Error('not reserved');
      // Act
      for (let i = 0; i < 3; i++) await store.releaseRevocation(first.bucket, signal);
      // Assess
      const state = await store.readBreaker(signal);
      expect(totalOf(state.counts)).toBe(0);
      expect(Object.values(state.counts).every((n) => n >= 0)).toBe(true);
    });

    it('counts the reservations of a new bucket and of the ones before it in the window', async () => {
      // Act: one now, one 10 s later (another bucket), one 50 s later
      await reserve(1);
      now += 10_000;
      const second = await reserve(2);
      now += 40_000;
      const third = await reserve(3);
      // Assess
      expect(second).toMatchObject({ status: 'reserved', revocationsInWindow: 2 });
      expect(third).toMatchObject({ status: 'reserved', revocationsInWindow: 3 });
      expect(totalOf((await store.readBreaker(signal)).counts)).toBe(3);
    });

    it('concurrent reservations never exceed N, and exactly one caller opens the breaker', async () => {
      // Act: 12 at once for 3 places
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, n) =>
          reserve(n).catch((error: unknown) => ({ status: 'error' as const, error })),
        ),
      );
      // Assess: contention may make a caller give up (an error: its call does not go ahead), never
      // let a fourth through
      const reserved = results.filter((r) => r.status === 'reserved');
      const opened = results.filter((r) => r.status === 'open' && r.openedNow);
      expect(reserved.length).toBeLessThanOrEqual(3);
      expect(opened.length).toBeLessThanOrEqual(1);
      const state = await store.readBreaker(signal);
      expect(totalOf(state.counts)).toBe(reserved.length);
      if (opened.length === 0) expect(state.open).toBeUndefined();
      else expect(state.open).toBeDefined();
      // whoever comes next finds it open, or opens it
      expect(await reserve(99)).toMatchObject({ status: 'open' });
    });
  });
};
