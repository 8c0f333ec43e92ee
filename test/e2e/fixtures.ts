/**
 * Datashares, consumers and revocation requests for the end-to-end suite: what a policy engine
 * would send and what the Redshift emulator is seeded with. Pure data, no I/O.
 */
import type { SeedFile } from '../../src/local/redshift-emulator/index.js';

export const PRODUCER_ACCOUNT = '444455556666';
export const CONSUMER_ACCOUNT = '111122223333';
const PRODUCER_NAMESPACE = '7b2c2b8a-1d1c-4c61-9b1a-2f0d4b3c5e6f';

/** A datashare ARN of our producer account, named `<name>`. */
export const dataShareArn = (name: string, region = 'us-east-1'): string =>
  `arn:aws:redshift:${region}:${PRODUCER_ACCOUNT}:datashare:${PRODUCER_NAMESPACE}/${name}`;

/** A provisioned consumer namespace of the consumer account; `id` is any short [a-z0-9-] tag. */
export const namespaceArn = (id: string, region = 'us-east-1'): string =>
  `arn:aws:redshift:${region}:${CONSUMER_ACCOUNT}:namespace:ns-${id}`;

/** One consumer namespace of one datashare: the unit of a revocation. */
export interface Target {
  dataShareArn: string;
  consumerArn: string;
}

/** The Redshift emulator's key for a target's calls (see `countCalls`). */
export const callFilter = (target: Target) => ({
  operation: 'DisassociateDataShareConsumer',
  dataShareArn: target.dataShareArn,
  consumer: target.consumerArn,
});

/**
 * A seed in which every given target is ACTIVE, and `inactive` targets are present with another
 * status (so Redshift answers "not associated" for them).
 */
export const seedOf = (active: readonly Target[], inactive: readonly Target[] = []): SeedFile => {
  const shares = new Map<string, { consumerArn: string; status: 'ACTIVE' | 'AVAILABLE' }[]>();
  const add = (target: Target, status: 'ACTIVE' | 'AVAILABLE') =>
    shares.set(target.dataShareArn, [
      ...(shares.get(target.dataShareArn) ?? []),
      { consumerArn: target.consumerArn, status },
    ]);
  for (const target of active) add(target, 'ACTIVE');
  for (const target of inactive) add(target, 'AVAILABLE');
  return {
    datashares: [...shares].map(([arn, associations]) => ({ dataShareArn: arn, associations })),
  };
};

/** A valid RevocationRequest (contract version 1) for a target. */
export const revocationRequest = (
  eventId: string,
  target: Target,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> => ({
  eventId,
  dataShareArn: target.dataShareArn,
  consumerArn: target.consumerArn,
  policyId: 'pii-exposure-7',
  // Issued before the run, by more than CLOCK_SKEW_MARGIN_SECONDS (rule 5 lets a confirmed
  // revocation satisfy it), yet fresh: within STALE_AFTER_SECONDS (300), so it takes no
  // DescribeDataShares first unless it comes back or is replayed (test/e2e/stale-decisions.test.ts).
  issuedAt: new Date(Date.now() - 2 * 60_000).toISOString(),
  reason: 'consumer lost its data-processing agreement',
  correlationId: `corr-${eventId}`,
  ...overrides,
});

/** Bodies the contract rejects, one per way of breaking it. */
export const MALFORMED_BODIES = {
  notJson: (n: number) => `{"eventId": "broken-${n}", this is not JSON`,
  wrongConsumer: (n: number, target: Target) =>
    JSON.stringify(
      revocationRequest(`malformed-${n}`, target, { consumerArn: 'arn:aws:s3:::bucket' }),
    ),
  twoTargets: (n: number, target: Target) =>
    JSON.stringify(revocationRequest(`malformed-${n}`, target, { consumerRegion: 'us-east-1' })),
  noEventId: (_n: number, target: Target) =>
    JSON.stringify(revocationRequest('', target, { eventId: undefined })),
} as const;

// mulberry32 (shared with the emulators), so a failing conservation run can be replayed from its seed.
export { seededRandom } from '../../src/local/random.js';
