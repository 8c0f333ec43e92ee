import type { BreakerTrigger } from '../../src/core/breaker.js';

/** The decision named by reservation `n` (the one that opens the breaker, if it does). */
export const breakerTrigger = (n: number): BreakerTrigger => ({
  eventId: `evt-${n}`,
  target: `t-${n}`,
  dataShareArn: 'arn:aws:redshift:us-east-1:444455556666:datashare:p/s',
  policyId: 'pol',
  messageId: `m-${n}`,
});
