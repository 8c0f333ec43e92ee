import { accountOfNamespaceArn } from './arn.js';
import type { Association } from './audit.js';
import type { DisassociationTarget } from './target.js';

/**
 * Stale decisions. A decision replayed from the DLQ days later must not undo access granted again
 * after it was issued: before acting on an old decision the worker reads the target's
 * associations, and a target associated again since is left alone (SUPERSEDED). Which decisions
 * are old: `src/core/decision-age.ts`. This module and the check (`src/worker/supersede.ts`) are
 * read at the first old decision, not at cold start.
 */

const ownedBy = (association: Association, accountId: string): boolean => {
  const id = association.consumerIdentifier ?? '';
  return id === accountId || accountOfNamespaceArn(id) === accountId;
};

/**
 * The ACTIVE associations the target's disassociate call could remove:
 * - a namespace: its own association;
 * - a region: the region-wide associations of the target's account in that region;
 * - the entire account: every association the account owns (account-wide, region-wide and its
 *   namespaces'). AWS does not document which of these `DisassociateEntireAccount` removes: the
 *   widest reading means "none left" is never concluded while something might still grant access.
 */
export const activeAssociationsOf = (
  target: DisassociationTarget,
  associations: readonly Association[],
): Association[] =>
  associations.filter(
    (association) => association.status === 'ACTIVE' && removableBy(target, association),
  );

const removableBy = (target: DisassociationTarget, association: Association): boolean => {
  switch (target.consumer.kind) {
    case 'namespace':
      return association.consumerIdentifier === target.consumer.arn;
    case 'region':
      return (
        association.consumerRegion === target.consumer.region &&
        ownedBy(association, target.accountId)
      );
    case 'account':
      return ownedBy(association, target.accountId);
  }
};

/**
 * When an association last changed: the later of `CreatedDate` and `StatusChangeDate` (AWS does
 * not document which one a re-association updates). NaN when it carries neither.
 */
export const associationChangedAt = (association: Association): number => {
  const dates = [association.createdDate, association.statusChangeDate]
    .map((date) => (date === undefined ? Number.NaN : Date.parse(date)))
    .filter((ms) => !Number.isNaN(ms));
  return dates.length === 0 ? Number.NaN : Math.max(...dates);
};

/** What the target's associations say about one decision. */
export type SupersessionVerdict =
  /** No ACTIVE association: nothing to revoke (ALREADY_REVOKED, no call). */
  | { kind: 'noneActive' }
  /** Every ACTIVE association changed after the decision (SUPERSEDED, no call). */
  | { kind: 'superseded'; associationChangedAt: string; status: string }
  /** At least one ACTIVE association predates the decision (or has no date): the call goes ahead. */
  | { kind: 'inForce' };

/**
 * Judges one decision against its target's ACTIVE associations (`activeAssociationsOf`). It is
 * SUPERSEDED only when every one of them changed after `issuedAt` + `clockSkewMarginSeconds`;
 * `associationChangedAt` is then the earliest of those changes (every other one is later still).
 * An association without a readable date counts as older than any decision: the call goes ahead.
 */
export const supersessionOf = (
  issuedAtMs: number,
  active: readonly Association[],
  clockSkewMarginSeconds: number,
): SupersessionVerdict => {
  if (active.length === 0) return { kind: 'noneActive' };
  const after = issuedAtMs + clockSkewMarginSeconds * 1000;
  let earliest: { at: number; status: string } | undefined;
  for (const association of active) {
    const at = associationChangedAt(association);
    if (Number.isNaN(at) || at <= after) return { kind: 'inForce' };
    if (!earliest || at < earliest.at) earliest = { at, status: association.status ?? 'ACTIVE' };
  }
  // `active` is not empty and every member set `earliest`.
  const { at, status } = earliest as { at: number; status: string };
  return { kind: 'superseded', associationChangedAt: new Date(at).toISOString(), status };
};
