/**
 * Which decisions are old enough for the stale check (`src/core/supersession.ts`): every
 * decision's question, so it stays out of the check's own module, read only when one is.
 */

/** What makes a decision old enough to be checked. */
export interface DecisionAge {
  issuedAtMs: number;
  /** An operator replayed one of its messages from the DLQ (`revoker.replayCount` ≥ 1). */
  replayed: boolean;
  /** The highest receive count among its messages. */
  receiveCount: number;
}

/**
 * Whether a decision must be checked for a newer association before the call: issued more than
 * `staleAfterSeconds` ago, replayed, or received before (it has waited at least one visibility
 * timeout). `staleAfterSeconds` 0 checks every decision. Fresh decisions — the storm case — take
 * no extra call.
 */
export const isOldDecision = (
  age: DecisionAge,
  nowMs: number,
  staleAfterSeconds: number,
): boolean =>
  staleAfterSeconds === 0 ||
  age.replayed ||
  age.receiveCount > 1 ||
  age.issuedAtMs < nowMs - staleAfterSeconds * 1000;
