import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { SeedFile } from '../src/local/redshift-emulator/index.js';
import { type Random, randomIndex, seededRandom, shuffle, uuidFrom } from './random.js';

/** The producer side of every benchmark datashare (AWS's documentation account ids). */
const PRODUCER_ACCOUNT = '444455556666';
const PRODUCER_NAMESPACE = '7b2c2b8a-1d1c-4c61-9b1a-2f0d4b3c5e6f';
/** The local stack's consumer account: the one the worker runs in. */
const CONSUMER_ACCOUNT = '111122223333';
const REGION = 'us-east-1';

/** Every bench datashare's ARN starts so (the worker's `ALLOWED_DATASHARES` in the bench). */
export const BENCH_DATASHARES = `arn:aws:redshift:${REGION}:${PRODUCER_ACCOUNT}:datashare:`;

/**
 * Consumers per datashare. Redshift answers a disassociation with the datashare and its remaining
 * associations, so this sets the size of every answer the SDK parses: a few, as for a datashare
 * shared with a handful of teams.
 */
export const CONSUMERS_PER_DATASHARE = 4;

/** One datashare consumer a revocation can name: exactly one Redshift call's worth of work. */
export interface BenchTarget {
  dataShareArn: string;
  consumerArn: string;
}

/**
 * `count` distinct targets, `CONSUMERS_PER_DATASHARE` consumer namespaces per datashare. `label`
 * goes into the datashare names so that targets of different runs never collide. Consumers take
 * their accounts from `consumerAccounts` in turn (target i in account i mod n), so each account
 * owns an equal share (± 1).
 */
export const makeTargets = (
  count: number,
  label: string,
  random: Random,
  consumerAccounts: readonly string[] = [CONSUMER_ACCOUNT],
): BenchTarget[] => {
  const targets: BenchTarget[] = [];
  for (let share = 0; targets.length < count; share++) {
    const dataShareArn = `arn:aws:redshift:${REGION}:${PRODUCER_ACCOUNT}:datashare:${PRODUCER_NAMESPACE}/bench_${label}_${share}`;
    for (let consumer = 0; consumer < CONSUMERS_PER_DATASHARE && targets.length < count; consumer++)
      targets.push({
        dataShareArn,
        consumerArn: `arn:aws:redshift:${REGION}:${consumerAccounts[targets.length % consumerAccounts.length]}:namespace:${uuidFrom(random)}`,
      });
  }
  return targets;
};

/** The Redshift emulator seed in which every target is ACTIVE-associated. */
export const seedOf = (targets: readonly BenchTarget[]): SeedFile => {
  const byShare = new Map<string, string[]>();
  for (const { dataShareArn, consumerArn } of targets)
    byShare.set(dataShareArn, [...(byShare.get(dataShareArn) ?? []), consumerArn]);
  return {
    datashares: [...byShare].map(([dataShareArn, consumers]) => ({
      dataShareArn,
      associations: consumers.map((consumerArn) => ({ consumerArn })),
    })),
  };
};

/** A RevocationRequest body (contract version 1) for one target. */
export const requestBody = (
  eventId: string,
  target: BenchTarget,
  issuedAt: string,
  policyId = 'bench-policy',
): string =>
  JSON.stringify({
    eventId,
    dataShareArn: target.dataShareArn,
    consumerArn: target.consumerArn,
    policyId,
    issuedAt,
    reason: 'benchmark: consumer lost its data-processing agreement',
    correlationId: `bench-${eventId}`,
  });

/** An SQS record as the event source mapping delivers it, for scenarios that skip the queue. */
export const sqsRecord = (body: string, eventSourceARN: string): SQSRecord => {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `bench-${randomUUID()}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'AIDABENCHMARK',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion: REGION,
  };
};

export interface StormShape {
  /** Messages sent. */
  requests: number;
  /** Distinct targets they name. */
  targets: number;
  /** Distinct eventIds (decisions); the other messages are re-sent copies of these. */
  uniqueEventIds: number;
  seed: number;
  /** The consumers' accounts, targets spread equally over them (default: the worker's own). */
  consumerAccounts?: readonly string[];
}

export interface StormMessage {
  eventId: string;
  body: string;
}

export interface StormPlan {
  targets: BenchTarget[];
  /** In send order. */
  messages: StormMessage[];
  /** Every distinct eventId, each of which must be audited exactly once. */
  eventIds: string[];
  issuedAt: string;
}

/**
 * A storm as a policy engine's backlog produces it: every target gets at least one decision, the
 * remaining decisions fall on random targets (same target, different eventIds), and the remaining
 * messages are re-sent copies of random decisions (duplicate eventIds); all shuffled together.
 * Every decision was issued at `issuedAt`.
 *
 * @throws {RangeError} unless targets ≤ uniqueEventIds ≤ requests.
 */
export const makeStormPlan = (shape: StormShape, issuedAt: Date, label: string): StormPlan => {
  const { requests, targets: targetCount, uniqueEventIds, seed } = shape;
  if (!(targetCount >= 1 && targetCount <= uniqueEventIds && uniqueEventIds <= requests)) {
    throw new RangeError(
      `storm shape must have 1 ≤ targets ≤ uniqueEventIds ≤ requests; given targets ${targetCount}, uniqueEventIds ${uniqueEventIds}, requests ${requests}`,
    );
  }
  const random = seededRandom(seed);
  const targets = makeTargets(targetCount, label, random, shape.consumerAccounts);
  const issued = issuedAt.toISOString();
  const decisions: StormMessage[] = Array.from({ length: uniqueEventIds }, (_, n) => {
    const target = targets[n < targetCount ? n : randomIndex(random, targetCount)] as BenchTarget;
    const eventId = `storm-${seed}/decision/${String(n).padStart(5, '0')}`;
    return { eventId, body: requestBody(eventId, target, issued, 'bench-storm') };
  });
  const copies = Array.from(
    { length: requests - uniqueEventIds },
    () => decisions[randomIndex(random, decisions.length)] as StormMessage,
  );
  return {
    targets,
    messages: shuffle([...decisions, ...copies], random),
    eventIds: decisions.map((d) => d.eventId),
    issuedAt: issued,
  };
};
