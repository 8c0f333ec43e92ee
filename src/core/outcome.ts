/** The terminal result of one policy decision, as the audit trail records it. */
export const Outcome = {
  Revoked: 'REVOKED',
  AlreadyRevoked: 'ALREADY_REVOKED',
  DryRun: 'DRY_RUN',
  Rejected: 'REJECTED',
  Failed: 'FAILED',
  /**
   * Not acted on: an old decision whose target was associated again after it was issued. Revoking
   * now would undo the newer grant. Completed (a duplicate is suppressed), but it confirms nothing.
   */
  Superseded: 'SUPERSEDED',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** Outcomes that close a decision for good: a later copy of the same eventId is a duplicate. */
export const COMPLETED_OUTCOMES: ReadonlySet<Outcome> = new Set([
  Outcome.Revoked,
  Outcome.AlreadyRevoked,
  Outcome.DryRun,
  Outcome.Superseded,
]);

/** Outcomes that mean the consumer is confirmed without access to the datashare. */
export const CONFIRMING_OUTCOMES: ReadonlySet<Outcome> = new Set([
  Outcome.Revoked,
  Outcome.AlreadyRevoked,
]);

/** Outcomes whose message is copied to the dead-letter queue with its reason. */
export const QUARANTINED_OUTCOMES: ReadonlySet<Outcome> = new Set([
  Outcome.Rejected,
  Outcome.Failed,
]);
