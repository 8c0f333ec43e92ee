/** The conservation run's sizes: the test's five small runs and the soak's large ones. */
import type { ConservationOptions } from './run.js';

/** One run of the test: small enough that five add about a minute to `npm test`. */
export const TEST_RUN: Omit<ConservationOptions, 'seed'> = {
  requests: 300,
  // Low, so that rule 17's last receive is reached now and then within seconds.
  maxReceiveCount: 3,
  visibilityTimeoutSeconds: 6,
  mapping: { batchSize: 10, maximumConcurrency: 4, functionTimeoutMs: 6000 },
  // One store episode per run, its kind drawn from the seed: the five seeds see each kind (an
  // outage answering 5xx, an outage that hangs, a slow store); the soak plays many.
  episodes: { firstAfterMs: 1000, gapMs: { min: 500, max: 1500 }, max: 1 },
  drainTimeoutMs: 45_000,
};
